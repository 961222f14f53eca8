"""The REPL's namespace and evaluation, shared by both front-ends and free of any UI.

A :class:`Shell` owns one persistent namespace and runs code in it on a worker thread, so a
front-end stays live while the code runs and can stop it with :meth:`Shell.interrupt`. Every run
returns a :class:`RunResult`; no exception from user code ever escapes. Output is captured per run,
made inert (control characters and escape sequences are shown, not obeyed) and capped.

    shell = Shell()
    shell.is_complete("def f():")        # False: keep reading lines
    r = shell.run("x = Tensor([1.0, 2.0]); x.sum()")
    r.status, r.value                    # ("ok", "<Tensor #3 Sum () float32 3.0 grad=None>")
    shell.namespace["_"]                 # the Tensor itself
"""

from __future__ import annotations

import ast
import builtins
import codeop
import contextvars
import ctypes
import inspect
import io
import keyword
import linecache
import os
import re
import sys
import threading
import time
import traceback
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

import anet
import anet.ops
from anet.tensor import Context, Function, Tensor, no_grad, register
from anet_tui import files

Status = Literal["ok", "error", "interrupted", "exit"]

MAX_OUTPUT_CHARS = 50_000
MAX_OUTPUT_LINES = 1_000
MAX_LINE_CHARS = 2_000
MAX_VALUE_CHARS = 10_000
# Deep recursion in user code must end in RecursionError, not overflow a small thread stack.
_WORKER_STACK = 256 * 1024 * 1024


@dataclass
class RunResult:
    """What one run produced. ``output`` is everything printed (inert, capped), ``value`` the
    compact repr of an expression's value, ``error`` the trimmed traceback of an error or of an
    interrupt, ``exit_code`` the code passed to ``exit()``/``sys.exit()`` when status is "exit".
    ``obj`` is the Python object itself: an expression's value, or what :meth:`Shell.call`'s
    function returned."""

    status: Status
    output: str = ""
    value: str | None = None
    error: str | None = None
    exit_code: int | None = None
    obj: Any = None
    filename: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def text(self) -> str:
        """Output, value and error as one block, in the order a terminal REPL shows them."""
        parts = [self.output.rstrip("\n")] if self.output else []
        if self.value is not None:
            parts.append(self.value)
        if self.error:
            parts.append(self.error.rstrip("\n"))
        return "\n".join(p for p in parts if p)


@dataclass
class Cell:
    """One thing the user ran: Python source (``kind="python"``) or a ``%`` line (``"command"``)."""

    source: str
    filename: str
    status: Status
    kind: Literal["python", "command"] = "python"


# ---- making text safe to show ----------------------------------------------------------------

# C0 controls except tab and newline, DEL, C1 controls, and bidi overrides that reorder a line.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """``text`` with nothing a terminal would obey: escapes and control characters become visible
    (``\\x1b``), carriage returns become newlines, lone surrogates become ``?``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _escape(text)


def _escape(text: str) -> str:
    text = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


# What our own words and drawings use beyond ASCII, and what stands in for each.
_ASCII = str.maketrans(
    {
        "…": "...",
        "·": "-",
        "—": "-",
        "─": "-",
        "✗": "x",
        "✓": "ok",
        "▶": ">",
        "↑": "^",
        "├": "|",
        "└": "`",
        "│": "|",
        "–": "-",
    }
)


def to_ascii(text: str) -> str:
    """``text`` with the symbols anet-tui draws (``✗ … └─``) in ASCII; other text as is."""
    return text.translate(_ASCII)


def ascii_only(stream: Any) -> bool:
    """Whether to write ASCII only to ``stream``: it cannot encode ``✗``, or the locale is
    ``C``/``POSIX`` (Python then writes UTF-8 anyway, which such a terminal may not show)."""
    encoding = getattr(stream, "encoding", None)  # None: a text buffer, it holds anything
    try:
        "✗▶✓└─│…".encode(encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return True
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(name, "")
        # Python's locale coercion (PEP 538) sets LC_CTYPE=C.UTF-8 itself: look past it.
        if value and not (name == "LC_CTYPE" and value.lower() in ("c.utf-8", "c.utf8")):
            return value in ("C", "POSIX")
    return False


def utf8(text: str) -> str:
    """``text`` as valid Unicode: bytes a terminal sent that were not UTF-8 (decoded by
    prompt_toolkit as lone surrogates) become U+FFFD, as they do in piped input."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # surrogates that are no escaped bytes
            raw = text.encode("utf-8", "replace")
        text = raw.decode("utf-8", "replace")
    return text


def cap(
    text: str,
    max_chars: int = MAX_VALUE_CHARS,
    max_lines: int = 200,
    max_line: int = MAX_LINE_CHARS,
) -> str:
    """``text`` cut to ``max_chars`` characters and ``max_lines`` lines, each line to
    ``max_line`` characters, with a note saying so."""
    if len(text) > max_line:
        text = "\n".join(
            line
            if len(line) <= max_line
            else f"{line[:max_line]} … ({len(line) - max_line:,} more characters on this line)"
            for line in text.split("\n")
        )
    lines = text.count("\n") + 1
    if len(text) <= max_chars and lines <= max_lines:
        return text
    head = text[:max_chars]
    if head.count("\n") >= max_lines:
        head = "\n".join(head.split("\n")[:max_lines])
    return f"{head}\n… cut: {len(text) - len(head):,} more characters not shown"


def display(value: Any) -> str:
    """The compact text a REPL shows for a value: Tensors by their repr (``#id Op shape dtype
    grad``), large numpy arrays summarised with their shape, everything inert and capped."""
    if isinstance(value, np.ndarray) and value.size > 100:
        with np.printoptions(threshold=100, edgeitems=3, linewidth=100):
            text = repr(value)
        if "shape=" not in text:
            text += f"  # shape {value.shape}, {value.dtype}"
    else:
        with np.printoptions(threshold=100, edgeitems=3, linewidth=100):
            text = repr(value)
    return cap(inert(text))


# ---- output capture --------------------------------------------------------------------------


class _Capture:
    """Collects one run's output: inert, capped in characters, lines and line length, and streamed
    to ``on_output`` as it arrives."""

    def __init__(
        self,
        on_output: Callable[[str], None] | None,
        max_chars: int,
        max_lines: int,
        max_line: int,
    ) -> None:
        self.on_output = on_output
        self.max_chars, self.max_lines, self.max_line = max_chars, max_lines, max_line
        self.parts: list[str] = []
        self.chars = 0  # characters kept
        self.lines = 0  # newlines kept
        self.column = 0  # length of the current line so far
        self.line_dropped = 0  # characters cut from the current (too long) line
        self.dropped = 0  # characters dropped once the budget was spent
        self.full = False
        self.lock = threading.Lock()

    def write(self, s: str) -> int:
        if type(s) is not str and not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        with self.lock:
            # Once the budget is spent (a million prints), each write only counts what it drops.
            if self.full:
                self.dropped += len(s)
                return len(s)
            if self.column >= self.max_line and "\n" not in s and "\r" not in s:
                self.line_dropped += len(s)  # more of a line already cut
                return len(s)
            kept = self._keep(s)
        if kept:
            self.parts.append(kept)
            self._emit(kept)
        return len(s)

    def _keep(self, s: str) -> str:
        """The part of ``s`` within the budget, made inert, over-long lines cut and noted."""
        if "\r" in s:
            s = s.replace("\r\n", "\n").replace("\r", "\n")
        # At most one piece more than the lines still allowed: the rest is dropped unsplit.
        pieces = s.split("\n", max(self.max_lines - self.lines, 0) + 1)
        out: list[str] = []
        kept = 0
        for i, piece in enumerate(pieces):
            if i > 0:  # a newline ended the current line
                if self.line_dropped:
                    note = f" … ({self.line_dropped:,} more characters on this line)"
                    out.append(note)
                    kept += len(note)
                    self.line_dropped = 0
                out.append("\n")
                kept += 1
                self.lines += 1
                self.column = 0
            room = min(self.max_line - self.column, self.max_chars - self.chars - kept)
            if self.lines >= self.max_lines or room < 0:
                self.full = True
                self.dropped += len(piece) + sum(len(p) + 1 for p in pieces[i + 1 :])
                break
            raw = piece[:room]
            cut = len(piece) - len(raw)
            text = _escape(raw)[:room]
            if cut and self.column + len(text) >= self.max_line:
                self.line_dropped += cut
            elif cut:  # the character budget, not the line length, ran out
                self.full = True
                self.dropped += cut + sum(len(p) + 1 for p in pieces[i + 1 :])
                out.append(text)
                kept += len(text)
                break
            out.append(text)
            kept += len(text)
            self.column += len(text)
        self.chars += kept
        return "".join(out)

    def _emit(self, text: str) -> None:
        if self.on_output is not None:
            try:
                self.on_output(text)
            except Exception:  # a broken front-end callback must not break the run
                self.on_output = None

    def finish(self) -> str:
        """All kept output, with a note when anything was cut."""
        notes = []
        if self.line_dropped:
            notes.append(f" … ({self.line_dropped:,} more characters on this line)")
        if self.dropped:
            end = "" if not self.parts or self.parts[-1].endswith("\n") or notes else "\n"
            notes.append(
                f"{end}\n… output cut: {self.dropped:,} more characters not shown "
                f"(limit {self.max_chars:,} characters, {self.max_lines:,} lines)\n"
            )
        elif notes:
            notes.append("\n")
        for note in notes:
            self.parts.append(note)
            self._emit(note)
        return "".join(self.parts)


class _BytesSink:
    """``sys.stdout.buffer`` for captured code: bytes are decoded, invalid UTF-8 replaced."""

    def __init__(self, capture: _Capture) -> None:
        self.capture = capture

    def write(self, b: bytes) -> int:
        self.capture.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def flush(self) -> None:
        pass


class _CapturedStream:
    """What ``sys.stdout``/``sys.stderr`` are for the worker thread."""

    encoding = "utf-8"
    errors = "replace"
    closed = False

    def __init__(self, capture: _Capture) -> None:
        self.capture = capture
        self.buffer = _BytesSink(capture)
        self.write = capture.write  # print() calls it twice a line: no wrapper in between

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.capture.write(line)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("captured output has no file descriptor")

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class _NoInput:
    """What ``sys.stdin`` is for the worker thread: always at end of file, never blocks."""

    encoding = "utf-8"
    errors = "replace"
    closed = False

    def read(self, size: int = -1) -> str:
        return ""

    def readline(self, size: int = -1) -> str:
        return ""

    def readlines(self, hint: int = -1) -> list[str]:
        return []

    def __iter__(self) -> Any:
        return iter(())

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("code run in anet-tui has no standard input")

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


class _Router:
    """Stands in for a ``sys`` stream during a run: the worker thread gets its captured stream,
    so do threads the user's code started (after the run: the shell's late output), and every
    other thread (the front-end's) the stream that was there before."""

    def __init__(self, shell: Shell, name: str, fallback: Any) -> None:
        self._shell = shell
        self._name = name
        self._fallback = fallback

    def _target(self) -> Any:
        streams = self._shell._streams_for(threading.get_ident())
        if streams is not None:
            return streams[self._name]
        other = self._shell._user_thread_stream(self._name)
        return self._fallback if other is None else other

    def write(self, s: str) -> int:
        current = self._shell._worker_streams  # _target(), inlined: this is print()'s path
        if current is not None and current[0] == threading.get_ident():
            return current[1][self._name].write(s)
        other = self._shell._user_thread_stream(self._name)
        target = self._fallback if other is None else other
        return 0 if target is None else target.write(s)

    def flush(self) -> None:
        target = self._target()
        if target is not None:
            target.flush()

    def isatty(self) -> bool:
        target = self._target()
        return target is not None and target.isatty()

    def fileno(self) -> int:
        return self._target().fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


# ---- what user code sees in place of input() and exit() --------------------------------------


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


# ---- the shell -------------------------------------------------------------------------------


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


class Shell:
    """A persistent namespace and a worker thread to run code in it.

    ``run``, ``run_file`` and ``call`` block the calling thread until the code has finished and
    return a :class:`RunResult`. From the main thread, Ctrl+C (SIGINT) while waiting interrupts the
    code; any other thread (a UI's) calls :meth:`interrupt`. One run at a time: a second run while
    one is going returns an error result saying so.
    """

    def __init__(
        self,
        namespace: dict[str, Any] | None = None,
        *,
        max_output_chars: int = MAX_OUTPUT_CHARS,
        max_output_lines: int = MAX_OUTPUT_LINES,
        max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self.namespace: dict[str, Any] = default_namespace() if namespace is None else namespace
        self.limits = (max_output_chars, max_output_lines, max_line_chars)
        self.cells: list[Cell] = []  # every cell run, in order (for %save)
        self._count = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._interruptible = False
        self._interrupt_requested = False
        self._worker_streams: tuple[int, dict[str, Any]] | None = None
        self._context = contextvars.copy_context()  # numpy errstate etc. persist across runs
        self._routers: dict[str, _Router] = {}  # installed by this shell and still in sys
        # Threads the user's code started: what they print is output too, even after the run.
        self._user_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._threads_lock = threading.Lock()
        self._before: set[threading.Thread] | None = None  # threads alive when the run began
        self._late: dict[str, Any] | None = None  # user threads' streams between runs

    # ---- state -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while code is running on the worker thread."""
        return self._thread is not None

    def stack(self) -> traceback.StackSummary:
        """Where the running code is now: its frames, outermost first, without the shell's own
        (empty when nothing runs). Cheap: no tracing, one look at the worker's frame."""
        thread = self._thread
        frame = None if thread is None else sys._current_frames().get(thread.ident or -1)
        if frame is None:
            return traceback.StackSummary()
        frames = traceback.extract_stack(frame)
        return traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])

    def next_filename(self) -> str:
        """The filename the next cell will run under (``<repl-N>``)."""
        return f"<repl-{self._count + 1}>"

    # ---- running -----------------------------------------------------------------------------
    def run(
        self,
        source: str,
        *,
        filename: str | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Run Python ``source`` in the namespace. If its last statement is an expression, its
        compact repr is the result's ``value`` and the value itself becomes ``_``.

        ``filename`` defaults to ``<repl-N>``; the source is kept in linecache under it so
        tracebacks and ``inspect.getsource`` show the user's lines. ``on_output`` receives printed
        text as it arrives, on the worker thread.
        """
        source = utf8(source)
        if filename is None:
            self._count += 1
            filename = f"<repl-{self._count}>"
        if filename.startswith("<"):
            lines = source.splitlines(keepends=True)
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            linecache.cache[filename] = (len(source), None, lines, filename)
        result = self._submit(
            lambda: self._echo(self._execute(source, filename)), on_output, filename
        )
        self.cells.append(Cell(source, filename, result.status))
        return result

    def run_file(
        self, path: str | Path, *, on_output: Callable[[str], None] | None = None
    ) -> RunResult:
        """Run a script into the namespace (``__file__`` set to it), as ``anet-tui SCRIPT.py``
        does. A missing, unreadable or binary file is an error result, not an exception."""
        path = Path(path)
        try:
            data = files.read_bytes(path)  # a regular file of at most 1 MB: a FIFO never blocks
        except files.FileProblem as e:
            return _cannot_run(path, str(e))
        if b"\0" in data:
            return _cannot_run(path, "it is a binary file, not Python source")
        try:
            source = data.decode("utf-8-sig")  # an editor's BOM is not code
        except UnicodeDecodeError:
            return _cannot_run(path, "it is not UTF-8 text")
        self.namespace["__file__"] = str(path)
        return self.run(source, filename=str(path), on_output=on_output)

    def evaluate(
        self, expression: str, *, on_output: Callable[[str], None] | None = None
    ) -> RunResult:
        """Evaluate one expression (a ``%debug EXPR``'s) in the namespace: its value is ``obj``.
        Unlike :meth:`run` it neither counts as a cell nor sets ``_``."""
        filename = "<expression>"
        expression = utf8(expression)
        linecache.cache[filename] = (len(expression), None, [expression + "\n"], filename)

        def job() -> Any:
            code = compile(expression, filename, "eval", dont_inherit=True)
            return eval(code, self.namespace)

        return self._submit(job, on_output, filename)

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_output: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> RunResult:
        """Run ``fn(*args, **kwargs)`` on the worker thread, with the same capture, interrupt and
        error handling as user code (for work that runs user code indirectly, such as a backward
        walk through user Functions). The return value is the result's ``obj``."""
        return self._submit(lambda: fn(*args, **kwargs), on_output, "")

    def interrupt(self) -> bool:
        """Raise KeyboardInterrupt in the running code. Returns False when nothing is running.

        Pure-Python code stops at once; a long call into C (numpy, time.sleep) stops when it
        returns.
        """
        with self._lock:
            thread = self._thread
            if thread is None:
                return False
            if not self._interruptible or thread.ident is None:
                self._interrupt_requested = True  # the code has not started yet: stop it there
                return True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
            )
            return True

    def complete(self, text: str) -> tuple[str, list[str]]:
        """Completions for the name or ``a.b.c`` attribute path that ``text`` ends with.

        Returns ``(prefix, candidates)``: a front-end replaces the last ``len(prefix)`` characters
        with a candidate. Attributes are looked up with getattr on the live objects (no calls).
        """
        m = re.search(r"[A-Za-z_]\w*(?:\.\w*)*$", text)
        if m is None:
            return "", []
        base, _, prefix = m.group(0).rpartition(".")
        if base:
            obj = self._lookup(base)
            if obj is _MISSING:
                return prefix, []
            try:
                names = set(dir(obj))
            except Exception:
                return prefix, []
        else:
            builtin_names = self.namespace.get("__builtins__", builtins.__dict__)
            if not isinstance(builtin_names, dict):
                builtin_names = vars(builtin_names)
            names = set(self.namespace) | set(builtin_names) | set(keyword.kwlist)
        hide_private = not prefix.startswith("_")
        found = sorted(
            n
            for n in names
            if n.startswith(prefix) and not (hide_private and n.startswith("_")) and n != prefix
        )
        return prefix, found

    # ---- internals ---------------------------------------------------------------------------
    def _lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        builtin_names = self.namespace.get("__builtins__", {})
        if head in self.namespace:
            obj = self.namespace[head]
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

    def _streams_for(self, ident: int) -> dict[str, Any] | None:
        current = self._worker_streams
        return current[1] if current is not None and current[0] == ident else None

    def _execute(self, source: str, filename: str) -> Any:
        """Compile and run ``source``; the value of a trailing expression is returned."""
        tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        if tree.body:
            exec(compile(tree, filename, "exec", dont_inherit=True), self.namespace)
        if last is None:
            return _NO_VALUE
        return eval(compile(last, filename, "eval", dont_inherit=True), self.namespace)

    def _submit(
        self, job: Callable[[], Any], on_output: Callable[[str], None] | None, filename: str
    ) -> RunResult:
        with self._lock:
            if self._thread is not None:
                return RunResult(
                    "error",
                    error="busy: code is still running (Ctrl+C stops it)\n",
                    filename=filename,
                )
            capture = _Capture(on_output, *self.limits)
            box: dict[str, RunResult] = {}
            done = threading.Event()
            thread = threading.Thread(
                target=self._worker,
                args=(job, capture, filename, box, done),
                name="anet-tui-run",
                daemon=True,
            )
            self._thread = thread
            self._interruptible = self._interrupt_requested = False
            previous = threading.stack_size(_WORKER_STACK)
            try:
                thread.start()
            finally:
                threading.stack_size(previous)
        pending_interrupt = False
        while True:
            try:
                if pending_interrupt:
                    pending_interrupt = False
                    self.interrupt()
                if done.wait(0.05):
                    break
            except KeyboardInterrupt:  # Ctrl+C in the waiting (main) thread
                pending_interrupt = True
        thread.join()
        with self._lock:
            self._thread = None
        return box["result"]

    def _worker(
        self,
        job: Callable[[], Any],
        capture: _Capture,
        filename: str,
        box: dict[str, RunResult],
        done: threading.Event,
    ) -> None:
        start = time.perf_counter()
        try:
            box["result"] = self._context.run(self._guarded, job, capture, filename)
        except KeyboardInterrupt:  # arrived after the user code had finished
            box["result"] = RunResult("interrupted", error="KeyboardInterrupt\n")
        except BaseException as e:  # never let the worker die without a result
            box["result"] = RunResult("error", error=f"internal error: {e!r}\n")
        box["result"].output = capture.finish()
        box["result"].filename = filename
        box["result"].elapsed = time.perf_counter() - start
        done.set()

    def _guarded(self, job: Callable[[], Any], capture: _Capture, filename: str) -> RunResult:
        """Run ``job`` with output captured, interrupts allowed, every exception turned into a
        result. Runs on the worker thread."""
        streams = {"stdout": _CapturedStream(capture), "stderr": _CapturedStream(capture)}
        streams["stdin"] = _NoInput()
        self._install_routers()
        self._before = set(threading.enumerate())
        self._worker_streams = (threading.get_ident(), streams)
        try:
            try:
                with self._lock:
                    self._interruptible = True
                    if self._interrupt_requested:
                        raise KeyboardInterrupt
                value = job()
            finally:
                self._stop_interrupts()
            if isinstance(value, _Echo):
                result = RunResult("ok", value=value.text, obj=value.value)
            else:
                result = RunResult("ok", obj=value)
        except KeyboardInterrupt as e:
            self._stop_interrupts()
            result = RunResult("interrupted", error=self._traceback(e))
        except SystemExit as e:
            self._stop_interrupts()
            result = RunResult("exit", exit_code=_exit_code(e, capture))
        except BaseException as e:
            self._stop_interrupts()
            result = RunResult("error", error=self._traceback(e))
        finally:
            self._worker_streams = None
            self._after_run(capture)
        return result

    def _echo(self, value: Any) -> Any:
        """What a REPL shows for a cell's value, computed on the worker (a repr may hang too)."""
        if value is _NO_VALUE or value is None:
            return None
        self.namespace["_"] = value
        try:
            text = display(value)
        except Exception as e:  # a broken __repr__ is the user's to fix, not ours to crash on
            text = f"<{type(value).__name__} object: repr failed: {inert(repr(e))}>"
        return _Echo(value, text)

    def _stop_interrupts(self) -> None:
        """Make sure no KeyboardInterrupt can arrive any more, even one already on its way."""
        while True:
            try:
                with self._lock:
                    self._interruptible = False
                    ident = threading.get_ident()
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)
                return
            except KeyboardInterrupt:
                continue

    def _install_routers(self) -> None:
        for name in ("stdout", "stderr", "stdin"):
            current = getattr(sys, name)
            if current is not self._routers.get(name):  # (another shell's router: wrapped)
                router = _Router(self, name, current)
                setattr(sys, name, router)
                self._routers[name] = router

    def _uninstall_routers(self) -> None:
        for name, router in self._routers.items():
            if getattr(sys, name) is router:  # user code may have replaced it on purpose
                setattr(sys, name, router._fallback)
        self._routers.clear()

    def _user_thread_stream(self, name: str) -> Any:
        """The stream ``sys.<name>`` is for the calling thread when the user's code started it
        (the run's capture while it runs, then the late output's); None for any other thread."""
        thread = threading.current_thread()
        with self._threads_lock:
            if thread not in self._user_threads:
                before = self._before
                if before is None or thread in before:
                    return None
                self._user_threads.add(thread)  # started by the code now running
        current = self._worker_streams
        streams = current[1] if current is not None else self._late
        return None if streams is None else streams[name]

    def _after_run(self, capture: _Capture) -> None:
        """Note the threads the run started; while any is alive the routers stay, and what
        they print goes, inert and capped, to the run's ``on_output`` (else to the stream that
        was there before, made inert): never raw, never dropped unseen."""
        with self._threads_lock:
            before, self._before = self._before or set(), None
            started = set(threading.enumerate()) - before - {threading.current_thread()}
            self._user_threads.update(started)
            alive = any(t.is_alive() for t in self._user_threads)
        if not alive:
            self._late = None
            self._uninstall_routers()
            return
        fallback = self._routers["stdout"]._fallback if "stdout" in self._routers else None
        late = _Capture(capture.on_output or _writer(fallback), *self.limits)
        self._late = {
            "stdout": _CapturedStream(late),
            "stderr": _CapturedStream(late),
            "stdin": _NoInput(),
        }

    def _traceback(self, exc: BaseException) -> str:
        """The traceback without the shell's own frames: it starts at the user's code."""
        try:
            te = traceback.TracebackException.from_exception(exc)
            _drop_shell_frames(te)
            text = "".join(te.format())
        except Exception as e:  # an exception whose str() raises
            text = f"{type(exc).__name__}: <str() failed: {e!r}>\n"
        if isinstance(exc, KeyboardInterrupt) and not exc.__traceback__:
            text = "KeyboardInterrupt\n"
        return cap(inert(text), max_chars=20_000, max_lines=200)


def _writer(stream: Any) -> Callable[[str], None] | None:
    """``stream.write`` then flush, for late output when a run had no ``on_output``."""
    if stream is None:
        return None

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


def _cannot_run(path: Path, reason: str) -> RunResult:
    return RunResult("error", error=f"cannot run {path}: {reason}\n", filename=str(path))


def _drop_shell_frames(te: traceback.TracebackException) -> None:
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        frames = [f for f in te.stack if f.filename != __file__]
        te.stack = traceback.StackSummary.from_list(frames)
        if te.__cause__ is not None:
            _drop_shell_frames(te.__cause__)
        te = te.__context__


_MISSING = object()
_NO_VALUE = object()


class _Echo(NamedTuple):
    value: Any
    text: str


def _exit_code(e: SystemExit, capture: _Capture) -> int:
    """The process exit code ``sys.exit(arg)`` means; a message argument is printed, as Python
    does."""
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    capture.write(f"{e.code}\n")
    return 1


__all__ = [
    "Cell",
    "InputNotAvailable",
    "RunResult",
    "Shell",
    "ascii_only",
    "cap",
    "default_namespace",
    "display",
    "inert",
    "is_complete",
    "split_input",
    "to_ascii",
    "utf8",
]
