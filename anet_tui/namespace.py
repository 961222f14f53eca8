"""The namespace code runs in: anet and numpy imported, ``input()`` and ``exit()`` made safe, and
completion of names and attribute paths in it.

    ns = default_namespace()
    complete(ns, "Tensor.bac")            # ("bac", ["backward"])
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
from typing import Any

import numpy as np

import anet
import anet.ops
from anet.tensor import Context, Function, Tensor, no_grad, register


class InputNotAvailable(EOFError):
    """Raised by ``input()`` in code run by the shell: there is no terminal to read from."""


def _no_input(prompt: Any = "") -> str:
    raise InputNotAvailable(
        "input() cannot read here: code run in anet-tui has no terminal to read from "
        "(put the value in a variable instead)"
    )


class _Quitter:
    """``exit()`` and ``quit()``: ask the front-end to leave (never close stdin, kill nothing)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl+D to leave anet-tui"

    def __call__(self, code: Any = None) -> None:
        raise SystemExit(code)


def default_namespace() -> dict[str, Any]:
    """A fresh namespace with anet, numpy and every built-in op already imported."""
    safe_builtins = dict(builtins.__dict__)
    safe_builtins.update(input=_no_input, exit=_Quitter("exit"), quit=_Quitter("quit"))
    ns: dict[str, Any] = {
        "__name__": "__main__",
        "__doc__": None,
        "__builtins__": safe_builtins,
        "anet": anet,
        "np": np,
        "Tensor": Tensor,
        "Function": Function,
        "Context": Context,
        "register": register,
        "no_grad": no_grad,
    }
    for name, obj in vars(anet.ops).items():
        if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function:
            ns[name] = obj
    return ns


def complete(namespace: dict[str, Any], text: str) -> tuple[str, list[str]]:
    """Completions for the name or ``a.b.c`` attribute path that ``text`` ends with.

    Returns ``(prefix, candidates)``: a front-end replaces the last ``len(prefix)`` characters
    with a candidate. Attributes are looked up with getattr on the live objects (no calls).
    """
    m = re.search(r"[A-Za-z_]\w*(?:\.\w*)*$", text)
    if m is None:
        return "", []
    base, _, prefix = m.group(0).rpartition(".")
    if base:
        obj = _lookup(namespace, base)
        if obj is _MISSING:
            return prefix, []
        try:
            names = set(dir(obj))
        except Exception:
            return prefix, []
    else:
        builtin_names = namespace.get("__builtins__", builtins.__dict__)
        if not isinstance(builtin_names, dict):
            builtin_names = vars(builtin_names)
        names = set(namespace) | set(builtin_names) | set(keyword.kwlist)
    hide_private = not prefix.startswith("_")
    found = sorted(
        n
        for n in names
        if n.startswith(prefix) and not (hide_private and n.startswith("_")) and n != prefix
    )
    return prefix, found


def _lookup(namespace: dict[str, Any], path: str) -> Any:
    head, *rest = path.split(".")
    builtin_names = namespace.get("__builtins__", {})
    if head in namespace:
        obj = namespace[head]
    elif isinstance(builtin_names, dict) and head in builtin_names:
        obj = builtin_names[head]
    else:
        return _MISSING
    for name in rest:
        try:
            obj = getattr(obj, name)
        except Exception:
            return _MISSING
    return obj


_MISSING = object()


__all__ = ["InputNotAvailable", "complete", "default_namespace"]
