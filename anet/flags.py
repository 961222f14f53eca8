"""The kinds of flag: one row per kind of mismatch between a backward and what the walk needs.

The one place a kind is defined. anet.autograd makes problems of the cheap kinds (shape, count,
none, type, dtype, inplace) and plain ``backward()`` raises them; anet.debug adds nonfinite,
exception, vjp and inplace flags and re-exports this table (``anet.debug.FLAG_KINDS``). The table
lives in the core, not in anet.debug, because the core makes problems of these kinds and must not
import the debugger. Code asks a row (``KINDS[kind].severity``, ``.survives_restart``,
``.per_parent``) instead of comparing kind names; adding a kind is a row here plus its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "note"]
ERROR: Severity = "error"  # the grad is missing, unusable or wrong: plain backward() stops on
# the problems anet.autograd finds, the session marks a node whose grads it could not use
NOTE: Severity = "note"  # the grad is usable as delivered (converted to its parent's dtype)


@dataclass(frozen=True, slots=True)
class FlagKind:
    """One kind of flag (stable ``name``: used in messages, breakpoints and JSON)."""

    name: str
    severity: Severity
    # Raised by the numerical check (check()), not by the walk: restart() keeps it, a new check
    # of the node replaces it, and it says nothing about the grads the walk returned (a node's
    # per-parent ``returned`` rows leave it out).
    survives_restart: bool
    # Whether a flag of this kind may name the parent it concerns (its ``index``); False: always
    # about the node as a whole (index None), e.g. a wrong number of grads: which is whose is
    # unknown.
    per_parent: bool
    meaning: str  # one line: what it means (%break's kinds, FLAG_KINDS)

    @property
    def marker(self) -> str:
        """What stands before the kind's name, readable without colour: ``✗`` for an error
        (the grads are wrong or missing), ``!`` for a note (usable as delivered)."""
        return "✗" if self.severity == ERROR else "!"


SHAPE = FlagKind(
    "shape",
    ERROR,
    survives_restart=False,
    per_parent=True,
    meaning="a returned grad's shape differs from its parent's shape",
)
COUNT = FlagKind(
    "count",
    ERROR,
    survives_restart=False,
    per_parent=False,
    meaning="backward returned a different number of grads than the op has parents",
)
NONE = FlagKind(
    "none",
    ERROR,
    survives_restart=False,
    per_parent=True,
    meaning="backward returned None for a parent that requires grad",
)
TYPE = FlagKind(
    "type",
    ERROR,
    survives_restart=False,
    per_parent=True,
    meaning="backward returned something that is not a numpy array (a list, a Tensor, a str...)",
)
DTYPE = FlagKind(
    "dtype",
    NOTE,
    survives_restart=False,
    per_parent=True,
    meaning="a returned grad's dtype differs from its parent's (it was converted)",
)
NONFINITE = FlagKind(
    "nonfinite",
    ERROR,
    survives_restart=False,
    per_parent=True,
    meaning="a returned grad has NaN/Inf although the grad it received was finite",
)
EXCEPTION = FlagKind(
    "exception",
    ERROR,
    survives_restart=False,
    per_parent=False,
    meaning="backward raised an exception",
)
VJP = FlagKind(
    "vjp",
    ERROR,
    survives_restart=True,
    per_parent=True,
    meaning="backward disagrees with finite differences of forward (numerical check)",
)
INPLACE = FlagKind(
    "inplace",
    ERROR,
    survives_restart=False,
    per_parent=True,
    meaning=(
        "a saved tensor or a parent's data changed between forward and backward, "
        "or backward wrote into grad_output or a saved tensor"
    ),
)

# Every kind, by name, in the order help text lists them.
KINDS: dict[str, FlagKind] = {
    k.name: k for k in (SHAPE, COUNT, NONE, TYPE, DTYPE, NONFINITE, EXCEPTION, VJP, INPLACE)
}

# Each kind's one-line meaning, by name (the public name anet.debug has always exported).
FLAG_KINDS: dict[str, str] = {k.name: k.meaning for k in KINDS.values()}

# Kinds after which the grad is still usable (converted); the rest stop a plain backward.
WARNING_KINDS = frozenset(k.name for k in KINDS.values() if k.severity == NOTE)

__all__ = [
    "COUNT",
    "DTYPE",
    "ERROR",
    "EXCEPTION",
    "FLAG_KINDS",
    "INPLACE",
    "KINDS",
    "NONE",
    "NONFINITE",
    "NOTE",
    "SHAPE",
    "TYPE",
    "VJP",
    "WARNING_KINDS",
    "FlagKind",
]
