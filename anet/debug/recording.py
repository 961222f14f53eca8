"""record(): forward-time bookkeeping for the debugger — where each op was applied, fingerprints.

While recording, every op that joins the graph has two of its Context's slots filled in:
- ``where``: ``(filename, lineno, source_line)`` of the first frame outside anet (the user's line),
  read by ``anet.autograd.where`` and shown in every flag message;
- ``fingerprints``: ``(saved, parents)``, a crc32 per saved array and per parent's data, compared
  again before the node's backward runs to raise the ``inplace`` flag. A recorded user Function's
  backward is also fingerprinted around its call (``anet.autograd.call_backward``): a write the
  read-only lock cannot see (through a view kept on ctx) raises InPlaceError.
Recording costs about as much as the op itself on small tensors, so it is a switch, not always on.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
from types import CodeType, TracebackType

import numpy as np

import anet
from anet.arrays import SMALL, fingerprint
from anet.tensor import Context, Tensor, apply_hook, set_apply_hook

_ANET_DIR = os.path.dirname(os.path.abspath(anet.__file__)) + os.sep
_FUNCTOOLS = functools.__file__
_getframe = sys._getframe
_internal: dict[str, bool] = {}  # file name -> is it anet's own (or functools') code
# (id of a code object, instruction offset) -> (that code object, its where): a line applying
# ops in a loop is looked up once (f_lineno and the source line are slow to get)
_wheres: dict[tuple[int, int], tuple[CodeType, tuple[str, int, str]]] = {}
used = False  # set once recording is first turned on: until then no ctx has fingerprints


def _is_internal(name: str) -> bool:
    try:
        return _internal[name]
    except KeyError:
        inside = name == _FUNCTOOLS or (
            not name.startswith("<") and os.path.abspath(name).startswith(_ANET_DIR)
        )
        _internal[name] = inside
        return inside


def user_frame(depth: int = 1) -> tuple[str, int, str] | None:
    """``(filename, lineno, source_line)`` of the nearest caller frame outside anet."""
    f = sys._getframe(depth + 1)
    known = _internal.get  # (runs for every recorded op: the cache is asked without a call)
    while f is not None:
        code = f.f_code
        name = code.co_filename
        inside = known(name)
        if inside is None:
            inside = _is_internal(name)
        if not inside:
            break
        f = f.f_back
    if f is None:
        return None
    key = (id(code), f.f_lasti)
    entry = _wheres.get(key)
    if entry is not None and entry[0] is code:  # (the same code: an id may be reused)
        return entry[1]
    line = f.f_lineno
    found = (name, line, source_line(name, line))
    if len(_wheres) > 1 << 16:
        _wheres.clear()
    _wheres[key] = (code, found)
    return found


_missing: set[str] = set()  # files linecache could not load: not asked again (it is slow)


def source_line(name: str, line: int) -> str:
    """Line ``line`` of file ``name``, stripped ("" when unknown). Code run from a string is
    found when its source was put in ``linecache.cache`` under the name it was compiled with."""
    entry = linecache.cache.get(name)
    if entry is None or len(entry) != 4:
        if name in _missing:
            return ""
        text = linecache.getline(name, line)
        if name not in linecache.cache:
            _missing.add(name)
        return text.strip()
    lines = entry[2]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def fingerprints(ctx: Context) -> tuple[tuple[int | bytes | None, ...], tuple[int | bytes, ...]]:
    """(one per saved tensor: its fingerprint, None for non-arrays; one per parent: its data's).

    Runs for every op while recording, so it is written for speed: plain loops (a
    comprehension is a function call on Python 3.11), and an array both saved and a parent's
    data (the usual case: ``ctx.save_for_backward(x, y)``) is read once."""
    parents = ctx.parents
    first = parents[0].data
    if len(parents) == 2:  # (a binary op: the common case, without a loop)
        second = parents[1].data
        prints = (
            first.tobytes() if first.nbytes <= SMALL else fingerprint(first),
            second.tobytes() if second.nbytes <= SMALL else fingerprint(second),
        )
    else:
        second = first
        listed = []
        for p in parents:
            a = p.data
            listed.append(a.tobytes() if a.nbytes <= SMALL else fingerprint(a))
        prints = tuple(listed)
    saved = ctx.saved_tensors
    if not saved:
        return (), prints
    if len(saved) == len(prints) == 2 and saved[0] is first and saved[1] is second:
        return prints, prints  # save_for_backward(x, y) of a binary op's own inputs
    found = []
    for a in saved:
        if a is first:
            found.append(prints[0])
        elif a is second:
            found.append(prints[1])
        else:
            for p, known in zip(parents, prints):
                if p.data is a:
                    found.append(known)
                    break
            else:
                found.append(fingerprint(a) if isinstance(a, np.ndarray) else None)
    return tuple(found), prints


def _hook(ctx: Context, out: Tensor, depth: int) -> None:
    # ctx.where = user_frame(depth), its common case written out (this runs for every op):
    # from the frame that applied the op (_getframe(depth)) on to the first user frame.
    f = _getframe(depth)
    code = f.f_code
    inside = _internal.get(code.co_filename)
    while inside:
        f = f.f_back
        if f is None:
            inside = None
            break
        code = f.f_code
        inside = _internal.get(code.co_filename)
    # inside is False at a user frame seen before, None at a file not seen yet (or no frame)
    entry = None if inside is None else _wheres.get((id(code), f.f_lasti))
    ctx.where = entry[1] if entry is not None and entry[0] is code else user_frame(depth)
    ctx.fingerprints = fingerprints(ctx)


def is_recording() -> bool:
    """Whether ops applied now are recorded (where, fingerprints)."""
    return apply_hook() is _hook


class record:
    """Record where each op is applied and fingerprint its inputs, for the debugger.

    ``anet.debug.record()`` turns recording on; ``record(False)`` turns it off. As a context
    manager, ``with anet.debug.record(): ...`` records inside the block and restores the
    previous state after it. Ops applied while recording get ``where`` (file, line, source) and
    the ``inplace`` check; the rest of the graph still works, just without them.
    """

    def __init__(self, enabled: bool = True) -> None:
        global used
        used = used or enabled
        self._previous = apply_hook()
        set_apply_hook(_hook if enabled else None)

    def __enter__(self) -> record:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        set_apply_hook(self._previous)

    def __repr__(self) -> str:
        return f"<anet.debug.record: {'on' if is_recording() else 'off'}>"
