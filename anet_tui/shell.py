"""The REPL's namespace and evaluation, shared by both front-ends and free of any UI.

A :class:`Shell` owns one persistent namespace and runs code in it on a worker thread, so a
front-end stays live while the code runs and can stop it with :meth:`Shell.interrupt`. Every run
returns a :class:`RunResult`; no exception from user code ever escapes. Output is captured per run,
made inert (control characters and escape sequences are shown, not obeyed) and capped.

    shell = Shell()
    r = shell.run("x = Tensor([1.0, 2.0]); x.sum()")
    r.status, r.value                    # ("ok", "<Tensor #3 Sum () float32 3.0 grad=None>")
    shell.namespace["_"]                 # the Tensor itself
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import ctypes
import linecache
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import anet
from anet.words import exception_text
from anet_tui.capture import Capture, Routing
from anet_tui.namespace import complete, default_namespace
from anet_tui.results import Cell, RunResult
from anet_tui.source import ScriptProblem, as_script, read_script
from anet_tui.text import (
    MAX_LINE_CHARS,
    MAX_OUTPUT_CHARS,
    MAX_OUTPUT_LINES,
    cap,
    display,
    inert,
    internal_error,
    utf8,
)

# Deep recursion in user code must end in RecursionError, not overflow a small thread stack.
_WORKER_STACK = 256 * 1024 * 1024


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
        self._context = contextvars.copy_context()  # numpy errstate etc. persist across runs
        self._routing = Routing()  # sys streams: the run's capture, user threads' late output

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
        return traceback.StackSummary.from_list([f for f in frames if f.filename not in _OWN_FILES])

    # ---- running -----------------------------------------------------------------------------
    def run(
        self,
        source: str,
        *,
        filename: str | None = None,
        line: int = 1,
        on_output: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Run Python ``source`` in the namespace. If its last statement is an expression, its
        compact repr is the result's ``value`` and the value itself becomes ``_``.

        ``filename`` defaults to ``<repl-N>``; the source is kept in linecache under it so
        tracebacks and ``inspect.getsource`` show the user's lines. A ``filename`` of a file
        (a lesson's) is the caller's to put in linecache; ``line`` is where ``source`` starts
        in it. ``on_output`` receives printed text as it arrives, on the worker thread.
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
        code = "\n" * (line - 1) + source  # compiled where it stands in its file
        result = self._submit(
            lambda: self._echo(self._execute(code, filename)), on_output, filename
        )
        self.cells.append(Cell(source, filename, result.status))
        return result

    def run_file(
        self,
        path: str | Path,
        *,
        argv: Sequence[str] = (),
        on_output: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Run a script into the namespace as ``python FILE ARGS`` would (``sys.argv``,
        ``__name__``, ``__file__``, ``sys.path``: :func:`anet_tui.source.as_script`). No value is
        echoed, no cell recorded (the caller knows what replays it: ``%run FILE ARGS``).
        ``sys.exit(0)`` or ``sys.exit()`` is status "ok"; another code is status "error", its
        ``error`` one line (``the script exited with code 2``) after what the script printed.
        A missing, unreadable or binary file is an error result, not an exception."""
        filename = os.fspath(path)
        try:
            source = utf8(read_script(Path(filename)))
        except ScriptProblem as e:
            error = f"cannot run {filename}: {e}\n"
            return RunResult("error", error=error, filename=filename)

        def job() -> None:
            exec(compile(source, filename, "exec", dont_inherit=True), self.namespace)

        scope = as_script(self.namespace, filename, list(argv))
        result = self._submit(job, on_output, filename, scope)
        if result.status == "exit":
            if result.exit_code == 0:
                result.status = "ok"
            else:
                result.status = "error"
                result.error = f"the script exited with code {result.exit_code}\n"
        return result

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
        """Completions for the name or ``a.b.c`` attribute path that ``text`` ends with, in the
        namespace: see :func:`anet_tui.namespace.complete`."""
        return complete(self.namespace, text)

    # ---- internals ---------------------------------------------------------------------------
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
        self,
        job: Callable[[], Any],
        on_output: Callable[[str], None] | None,
        filename: str,
        scope: contextlib.AbstractContextManager[Any] | None = None,
    ) -> RunResult:
        """Run ``job`` on a new worker and wait; ``scope`` is entered and left on the worker,
        where no KeyboardInterrupt can arrive, so what it restores is restored in any case."""
        with self._lock:
            if self._thread is not None:
                return RunResult(
                    "error",
                    error="busy: code is still running (Ctrl+C stops it)\n",
                    filename=filename,
                )
            capture = Capture(on_output, *self.limits)
            box: dict[str, RunResult] = {}
            done = threading.Event()
            thread = threading.Thread(
                target=self._worker,
                args=(job, capture, filename, box, done, scope or contextlib.nullcontext()),
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
        capture: Capture,
        filename: str,
        box: dict[str, RunResult],
        done: threading.Event,
        scope: contextlib.AbstractContextManager[Any],
    ) -> None:
        try:
            with scope:
                box["result"] = self._context.run(self._guarded, job, capture, filename)
        except KeyboardInterrupt:  # arrived after the user code had finished
            box["result"] = RunResult("interrupted", error="KeyboardInterrupt\n")
        except BaseException as e:  # never let the worker die without a result
            box["result"] = RunResult("error", error=internal_error("running it", e) + "\n")
        box["result"].output = capture.finish()
        box["result"].filename = filename
        done.set()

    def _guarded(self, job: Callable[[], Any], capture: Capture, filename: str) -> RunResult:
        """Run ``job`` with output captured, interrupts allowed, every exception turned into a
        result. Runs on the worker thread."""
        self._routing.begin(capture)
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
            self._routing.end(capture, self.limits)
        return result

    def _echo(self, value: Any) -> Any:
        """What a REPL shows for a cell's value, computed on the worker (a repr may hang too)."""
        if value is _NO_VALUE or value is None:
            return None
        self.namespace["_"] = value
        try:
            text = display(value)
        except Exception as e:  # a broken __repr__ is the user's to fix, not ours to crash on
            text = f"<{type(value).__name__} object: repr failed: {inert(exception_text(e))}>"
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

    def _traceback(self, exc: BaseException) -> str:
        """The traceback of the user's code, trimmed to the user's frames (see
        :func:`_user_frames`)."""
        try:
            te = traceback.TracebackException.from_exception(exc)
            _user_frames(te)
            text = "".join(te.format())
        except Exception as e:  # an exception whose str() raises
            text = f"{type(exc).__name__}: <str() failed: {exception_text(e)}>\n"
        if isinstance(exc, KeyboardInterrupt) and not exc.__traceback__:
            text = "KeyboardInterrupt\n"
        return cap(inert(text), max_chars=20_000, max_lines=200)


def _user_frames(te: traceback.TracebackException) -> None:
    """Trim a traceback to the user's frames: anet's and anet-tui's own frames go (the shell's,
    and anet's between the user's call and the error it raised about it). An exception chained
    to another that was raised in anet's code alone, and that the other's message repeats (an
    ``OpError`` saying what numpy said), goes too."""
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack = _trimmed(te.stack)
        cause = te.__cause__
        if cause is not None and _repeated(cause, te):
            te.__cause__ = None
        context = te.__context__
        if context is not None and _repeated(context, te):
            te.__context__ = None
        if te.__cause__ is not None:
            _user_frames(te.__cause__)
        te = te.__context__


def _trimmed(stack: traceback.StackSummary) -> traceback.StackSummary:
    return traceback.StackSummary.from_list([f for f in stack if not _ours(f.filename)])


def _repeated(inner: traceback.TracebackException, outer: traceback.TracebackException) -> bool:
    """Whether ``inner`` happened in our code alone and ``outer``'s message says it again."""
    if _trimmed(inner.stack):
        return False
    said = "".join(inner.format_exception_only()).strip().partition(": ")[2]
    return bool(said) and said in "".join(outer.format_exception_only())


def _ours(filename: str) -> bool:
    """Whether a frame is anet's or anet-tui's own code (the demos are scripts: the user's)."""
    return filename in _OWN_FILES or (
        filename.startswith(_OWN_DIRS) and not filename.startswith(_SCRIPT_DIRS)
    )


# The shell's own modules: their frames are no part of the user's traceback; nor are anet's and
# anet-tui's (the demos and lessons excepted: they are the user's scripts).
_OWN = (__name__, "anet_tui.capture", "anet_tui.namespace", "anet_tui.source", "anet_tui.text")
_OWN_FILES = frozenset(sys.modules[name].__file__ for name in _OWN)
_TUI_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_OWN_DIRS = (os.path.dirname(os.path.abspath(anet.__file__)) + os.sep, _TUI_DIR)
_SCRIPT_DIRS = (_TUI_DIR + "demos" + os.sep, _TUI_DIR + "lessons" + os.sep)
_NO_VALUE = object()


class _Echo(NamedTuple):
    value: Any
    text: str


def _exit_code(e: SystemExit, capture: Capture) -> int:
    """The process exit code ``sys.exit(arg)`` means; a message argument is printed, as Python
    does."""
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return int(e.code)  # sys.exit(True) is 1
    capture.write(f"{e.code}\n")
    return 1


__all__ = ["Cell", "RunResult", "Shell"]
