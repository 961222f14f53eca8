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
import zlib
from types import CodeType, TracebackType

import numpy as np

import anet
from anet.arrays import fingerprint
from anet.tensor import Context, Tensor, apply_hook, set_apply_hook

_ANET_DIR = os.path.dirname(os.path.abspath(anet.__file__)) + os.sep
_FUNCTOOLS = functools.__file__
_crc32 = zlib.crc32
_internal: dict[CodeType, bool] = {}  # code object -> is it anet's own (or functools') code
used = False  # set once recording is first turned on: until then no ctx has fingerprints


def _is_internal(code: CodeType) -> bool:
    try:
        return _internal[code]
    except KeyError:
        name = code.co_filename
        inside = name == _FUNCTOOLS or (
            not name.startswith("<") and os.path.abspath(name).startswith(_ANET_DIR)
        )
        _internal[code] = inside
        return inside


def user_frame(depth: int = 1) -> tuple[str, int, str] | None:
    """``(filename, lineno, source_line)`` of the nearest caller frame outside anet."""
    f = sys._getframe(depth + 1)
    known = _internal.get  # (runs for every recorded op: the cache is asked without a call)
    while f is not None:
        code = f.f_code
        inside = known(code)
        if inside is None:
            inside = _is_internal(code)
        if not inside:
            break
        f = f.f_back
    if f is None:
        return None
    name, line = f.f_code.co_filename, f.f_lineno
    return name, line, source_line(name, line)


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


def fingerprints(ctx: Context) -> tuple[tuple[int | None, ...], tuple[int, ...]]:
    """(one per saved tensor: crc or None for non-arrays, one per parent: crc of its data).

    Runs for every op while recording: plain loops (a comprehension is a function call on
    Python 3.11), and an array both saved and a parent (the usual case) is read once."""
    datas = []
    parents = []
    for p in ctx.parents:
        a = p.data
        datas.append(a)
        try:
            parents.append(_crc32(a))
        except ValueError:  # not C-contiguous
            parents.append(fingerprint(a))
    saved = []
    for a in ctx.saved_tensors:
        crc = None
        for data, known in zip(datas, parents):
            if data is a:
                crc = known
                break
        if crc is None and isinstance(a, np.ndarray):
            crc = fingerprint(a)
        saved.append(crc)
    return tuple(saved), tuple(parents)


def _hook(ctx: Context, out: Tensor) -> None:
    ctx.where = user_frame(2)  # 0 this hook, 1 Function.apply, 2 whoever called apply
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
