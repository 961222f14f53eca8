"""Warnings raised while a session runs a node: kept on the node's record, not printed.

A walk's warnings belong to the node that raised them (its detail shows them once), not to the
output around the walk, where numpy's ``RuntimeWarning: divide by zero …`` lines would bury the
flag they explain. A :class:`Catcher` collects them on the thread that walks, and only there:

- numpy's floating-point warnings (divide by zero, invalid value, overflow, underflow) through
  ``np.errstate``'s callback. numpy keeps that setting per thread (in a context variable), so
  other threads warn as before; only the categories set to ``warn`` are caught (``ignore``,
  ``raise`` and a ``call`` of the user's own stay as the user set them), each time they happen.
- any other warning (``warnings.warn`` in a user's backward) through ``warnings.showwarning``,
  which Python shares between threads: a stand-in (put there by the first catcher) takes the
  warnings of a thread with an active catcher and hands every other one on as before. Python's
  filters apply first, as always (``ignore`` and ``error`` keep their meaning).

``warnings.catch_warnings`` is not used: it changes the warnings of every thread at once.
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from threading import get_ident
from typing import Any, NamedTuple

import numpy as np

from anet.autograd import short_path

try:  # numpy >= 2: where np.errstate keeps its state (read for speed; np.errstate without it)
    from numpy._core._ufunc_config import _extobj_contextvar
except ImportError:  # pragma: no cover
    _extobj_contextvar = None

WARNED_LIMIT = 20  # different warnings kept per node (each with its count)

# numpy's floating-point error flags, as its errstate callback receives them.
_NUMPY_KINDS = {1: "divide", 2: "over", 4: "under", 8: "invalid"}
_NUMPY_DIR = os.path.dirname(np.__file__) + os.sep
_UNSEEN = object()


class Warned(NamedTuple):
    """One warning raised while the session ran a node: its ``category`` (``RuntimeWarning``),
    ``message``, the place in the code that raised it (``file``, ``line``, that line's
    ``source``) and how many times it was raised there."""

    category: str
    message: str
    file: str
    line: int
    source: str = ""
    count: int = 1

    def text(self) -> str:
        """``ops.py:267: RuntimeWarning: divide by zero encountered (2 times)``."""
        times = f" ({self.count} times)" if self.count > 1 else ""
        where = f"{short_path(self.file)}:{self.line}: " if self.file else ""
        return f"{where}{self.category}: {self.message}{times}"


def merged(kept: tuple[Warned, ...], new: Iterable[Warned]) -> tuple[Warned, ...]:
    """``kept`` with ``new`` added: the same warning from the same place counted, not repeated;
    at most ``WARNED_LIMIT`` different ones."""
    out = {(w.category, w.message, w.file, w.line): w for w in kept}
    for w in new:
        key = (w.category, w.message, w.file, w.line)
        old = out.get(key)
        if old is not None:
            out[key] = old._replace(count=old.count + w.count)
        elif len(out) < WARNED_LIMIT:
            out[key] = w
    return tuple(out.values())


def _source(file: str, line: int) -> str:
    return linecache.getline(file, line).strip() if file else ""


class Catcher:
    """``with catcher:`` collects the warnings this thread raises meanwhile into ``caught``
    (re-entrant: only the outermost ``with`` sets up and tears down). The caller takes them
    (``take``) after each node. Entering costs a few microseconds; a node that warns nothing
    costs nothing."""

    def __init__(self) -> None:
        self.caught: list[Warned] = []
        self._depth = 0
        self._outer: Catcher | None = None  # the thread's catcher this one stands in for
        self._calls: dict[str, str] = {}  # numpy's categories caught: {"divide": "call", …}
        self._previous: Any = None  # the user's own errstate callback, if any
        self._seen: object = _UNSEEN  # numpy's state as last seen on entering …
        self._ours: object = None  # … and the state made from it, catching (None: no need)
        self._undo: Any = None  # how to leave it

    def take(self) -> list[Warned]:
        """What was caught since the last ``take``, and forget it."""
        caught, self.caught = self.caught, []
        return caught

    def __enter__(self) -> Catcher:
        # The walk enters once per step(): kept to a context-variable swap and two dict stores.
        depth = self._depth = self._depth + 1
        if depth > 1:
            return self
        var = _extobj_contextvar
        if var is not None:
            now = var.get()
            if now is not self._seen:
                self._seen = now
                self._ours = self._catching_state()
            if self._ours is not None:
                self._undo = var.set(self._ours)
        elif self._settings():
            self._undo = np.errstate(call=self._numpy_warned, **self._calls)
            self._undo.__enter__()
        ident = get_ident()
        self._outer = _CATCHERS.get(ident)
        _CATCHERS[ident] = self
        if warnings.showwarning is not _HOOK:
            _HOOK.install()
        return self

    def __exit__(self, *exc: object) -> None:
        depth = self._depth = self._depth - 1
        if depth:
            return
        outer, self._outer = self._outer, None
        if outer is not None:
            _CATCHERS[get_ident()] = outer
        else:
            _CATCHERS.pop(get_ident(), None)
        undo, self._undo = self._undo, None
        if undo is not None:
            if _extobj_contextvar is not None:
                _extobj_contextvar.reset(undo)
            else:
                undo.__exit__(None, None, None)
        if self.caught:
            self.caught = []

    def _catching_state(self) -> object:
        """numpy's state (numpy >= 2: the value of errstate's context variable) with the
        categories set to ``warn`` calling :meth:`_numpy_warned` instead; None when none is.
        Made once for each state the walk finds: a walk entered step by step pays a
        context-variable swap, not a new ``np.errstate``."""
        if not self._settings():
            return None
        assert _extobj_contextvar is not None
        with np.errstate(call=self._numpy_warned, **self._calls):
            return _extobj_contextvar.get()

    def _settings(self) -> bool:
        """Read numpy's settings: whether any category is set to ``warn``."""
        settings = np.geterr()
        self._calls = {k: "call" for k, v in settings.items() if v == "warn"}
        self._previous = np.geterrcall() if "call" in settings.values() else None
        return bool(self._calls)

    def _numpy_warned(self, kind: str, flag: int) -> None:
        """numpy's errstate callback: one floating-point warning, kept with where it happened."""
        if not any(flag & bit and name in self._calls for bit, name in _NUMPY_KINDS.items()):
            if callable(self._previous):
                self._previous(kind, flag)  # a category the user set to "call" themselves
            return
        frame = sys._getframe(1)
        while frame.f_back is not None and frame.f_code.co_filename.startswith(_NUMPY_DIR):
            frame = frame.f_back  # the user's (or anet's) line, not numpy's own
        file, line = frame.f_code.co_filename, frame.f_lineno
        message = f"{kind} encountered"
        if self._depth:
            self.caught.append(Warned("RuntimeWarning", message, file, line, _source(file, line)))
        else:  # this errstate outlived the walk (an interrupt in between): warn as numpy does
            warnings.warn_explicit(message, RuntimeWarning, file, line)


class _ShowWarning:
    """The stand-in for ``warnings.showwarning``, put in place by the first catcher (and again
    whenever something else replaced it since): the warnings of a thread with an active catcher
    go to it, every other warning to the function it stands in for, as before. It stays once
    put in place: taking it out again as threads come and go could drop another thread's."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.previous: Callable[..., Any] = warnings.showwarning

    def install(self) -> None:
        with self.lock:
            if warnings.showwarning is not self:
                self.previous = warnings.showwarning
                warnings.showwarning = self

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        catcher = _CATCHERS.get(get_ident())
        if catcher is None or not catcher._depth:
            self.previous(message, category, filename, lineno, file, line)
            return
        source = line.strip() if line else _source(filename, lineno)
        catcher.caught.append(Warned(category.__name__, str(message), filename, lineno, source))


_CATCHERS: dict[int, Catcher] = {}  # thread id -> its innermost active catcher
_HOOK = _ShowWarning()


__all__ = ["WARNED_LIMIT", "Catcher", "Warned", "merged"]
