"""Cutting REPL input into what runs: is a typed entry complete, and the cells of a whole file.
And a script file: its source (:func:`read_script`), and what Python sets while it runs
(:func:`as_script`: ``sys.argv``, ``__name__``, ``sys.path``).

Both follow the interactive interpreter; ``%`` lines are commands, complete on their own.

    is_complete("def f():")               # False: Enter continues the block
    split_input("x = 1\n%debug x\n")     # ["x = 1", "%debug x"]
"""

from __future__ import annotations

import codeop
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from anet_tui import files


def is_complete(source: str) -> bool:
    """Whether ``source`` is ready to run (Enter runs it) or needs more lines (Enter continues).

    ``%`` command lines are always complete. Python follows the interactive interpreter: a
    ``def``/``class``/``if`` block, open brackets, an open triple-quoted string or a trailing
    backslash continue; a blank (or whitespace-only) last line ends a block. Input that can never
    compile counts as complete, so running it shows the SyntaxError.
    """
    if not source.strip() or source.lstrip().startswith("%"):
        return True
    head, _, last = source.rpartition("\n")
    if head and not last.strip():
        source = head + "\n"
    try:
        return _compile_command(source, "single") is not None
    except (SyntaxError, ValueError, OverflowError):
        return True


_CONTINUES_BLOCK = re.compile(r"(else|elif|except|finally)\b")


def split_input(text: str) -> list[str]:
    """Split a whole file of REPL input (what ``anet-tui --plain < file`` reads) into cells:
    one per top-level Python statement, one per ``%`` line. Blank lines inside a block are fine
    here (a file is not typed line by line); lines holding only comments are dropped."""
    cells: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        while buf and not buf[-1].strip():
            buf.pop()
        if any(line.strip() and not line.lstrip().startswith("#") for line in buf):
            cells.append("\n".join(buf))
        buf.clear()

    for line in text.splitlines():
        starts_statement = line[:1] not in ("", " ", "\t", "#") and not _CONTINUES_BLOCK.match(line)
        if starts_statement and buf and _ready(buf):
            flush()
        if line.startswith("%") and not any(b.strip() for b in buf):
            buf.clear()
            cells.append(line.rstrip())
        else:
            buf.append(line)
    flush()
    return cells


def _ready(lines: list[str]) -> bool:
    """Whether these lines make a whole statement (or are hopeless): a new one may begin."""
    try:
        return _compile_command("\n".join(lines) + "\n", "exec") is not None
    except (SyntaxError, ValueError, OverflowError):
        return True


def _compile_command(source: str, symbol: str) -> Any:
    """``codeop.compile_command`` without its SyntaxWarnings: asking whether input is complete
    must not print on the terminal (running the input shows them, in its output)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
        return codeop.compile_command(source, "<input>", symbol)


class ScriptProblem(Exception):
    """A script cannot run: the message says why (missing, too big, binary, not UTF-8 …)."""


def read_script(path: Path) -> str:
    """The Python source in the file ``path`` (``anet-tui SCRIPT.py``), read through
    :mod:`anet_tui.files`; a :class:`ScriptProblem` when there is none to run."""
    try:
        data = files.read_bytes(path)  # a regular file of at most 1 MB: a FIFO never blocks
    except files.FileProblem as e:
        raise ScriptProblem(str(e)) from None
    if b"\0" in data:
        raise ScriptProblem("it is a binary file, not Python source")
    try:
        return data.decode("utf-8-sig")  # an editor's BOM is not code
    except UnicodeDecodeError:
        raise ScriptProblem("it is not UTF-8 text") from None


@contextlib.contextmanager
def as_script(namespace: dict[str, Any], filename: str, argv: list[str]) -> Iterator[None]:
    """While a script runs, what ``python FILE ARGS`` gives it: ``sys.argv`` is
    ``[FILE, *ARGS]``, ``__name__`` is ``"__main__"``, ``__file__`` is FILE, and the script's
    folder (links resolved, as Python does) is first on ``sys.path``, so it imports its
    neighbours. Afterwards ``sys.argv`` and ``__name__`` are as they were. ``__file__`` and the
    folder on ``sys.path`` stay, as the rest of what the script left in the namespace does (a
    REPL user goes on importing its neighbours); a second run moves the folder to the front
    again rather than adding it twice."""
    saved_argv = sys.argv
    saved_name = namespace.get("__name__", _MISSING)
    folder = os.path.dirname(os.path.realpath(filename))
    sys.path[:] = [folder, *(p for p in sys.path if not _same_folder(p, folder))]
    sys.argv = [filename, *argv]
    namespace["__name__"] = "__main__"
    namespace["__file__"] = filename
    try:
        yield
    finally:
        sys.argv = saved_argv
        if saved_name is _MISSING:
            namespace.pop("__name__", None)
        else:
            namespace["__name__"] = saved_name


def _same_folder(entry: object, folder: str) -> bool:
    """Whether the ``sys.path`` entry names ``folder`` (``""``, the current folder, never
    does: Python keeps it for what it means)."""
    return isinstance(entry, str) and entry != "" and os.path.realpath(entry) == folder


_MISSING = object()

__all__ = ["ScriptProblem", "as_script", "is_complete", "read_script", "split_input"]
