"""Capturing what a run prints: per run, inert, capped, streamed to the front-end as it arrives.

While a :class:`~anet_tui.shell.Shell` runs code, ``sys.stdout``/``sys.stderr``/``sys.stdin`` are
routers (:class:`Routing`): the worker thread and the threads the user's code started write into
the run's :class:`Capture`; every other thread (the front-end's) to the stream that was there
before. Threads the user's code started may print after their run ended: that is late output,
still inert and capped, sent to the run's ``on_output``.
"""

from __future__ import annotations

import io
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from anet_tui.text import escape

Limits = tuple[int, int, int]  # characters, lines, characters a line


class Capture:
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
            text = escape(raw)[:room]
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

    def __init__(self, capture: Capture) -> None:
        self.capture = capture

    def write(self, b: bytes) -> int:
        self.capture.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def flush(self) -> None:
        pass


class CapturedStream:
    """What ``sys.stdout``/``sys.stderr`` are for the worker thread."""

    encoding = "utf-8"
    errors = "replace"
    closed = False

    def __init__(self, capture: Capture) -> None:
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


class NoInput:
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
    so do threads the user's code started (after the run: the late output), and every other
    thread (the front-end's) the stream that was there before."""

    def __init__(self, routing: Routing, name: str, fallback: Any) -> None:
        self._routing = routing
        self._name = name
        self.fallback = fallback

    def _target(self) -> Any:
        streams = self._routing.streams_for(threading.get_ident())
        if streams is not None:
            return streams[self._name]
        other = self._routing.user_thread_stream(self._name)
        return self.fallback if other is None else other

    def write(self, s: str) -> int:
        current = self._routing.worker  # _target(), inlined: this is print()'s path
        if current is not None and current[0] == threading.get_ident():
            return current[1][self._name].write(s)
        other = self._routing.user_thread_stream(self._name)
        target = self.fallback if other is None else other
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


def streams(capture: Capture) -> dict[str, Any]:
    """``sys.stdout``/``stderr`` writing into ``capture``, and a ``stdin`` at end of file."""
    return {
        "stdout": CapturedStream(capture),
        "stderr": CapturedStream(capture),
        "stdin": NoInput(),
    }


class Routing:
    """Which stream ``sys.stdout``/``stderr``/``stdin`` are for each thread, for one shell.

    :meth:`begin` (on the worker thread, as a run starts) puts the routers in ``sys``; :meth:`end`
    (as it ends) takes them out again, unless a thread the run started is still alive: then they
    stay, and what such a thread prints is late output."""

    def __init__(self) -> None:
        self.worker: tuple[int, dict[str, Any]] | None = None  # the running worker's streams
        self._routers: dict[str, _Router] = {}  # installed by this shell and still in sys
        # Threads the user's code started: what they print is output too, even after the run.
        self._user_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._threads_lock = threading.Lock()
        self._before: set[threading.Thread] | None = None  # threads alive when the run began
        self._late: dict[str, Any] | None = None  # user threads' streams between runs

    def begin(self, capture: Capture) -> None:
        """Route the calling (worker) thread's ``sys`` streams into ``capture``."""
        self._install_routers()
        self._before = set(threading.enumerate())
        self.worker = (threading.get_ident(), streams(capture))

    def end(self, capture: Capture, limits: Limits) -> None:
        """The run that wrote into ``capture`` ended; late output is capped to ``limits``."""
        self.worker = None
        self._after_run(capture, limits)

    def streams_for(self, ident: int) -> dict[str, Any] | None:
        """The worker's streams when thread ``ident`` is the running worker, else None."""
        current = self.worker
        return current[1] if current is not None and current[0] == ident else None

    def user_thread_stream(self, name: str) -> Any:
        """The stream ``sys.<name>`` is for the calling thread when the user's code started it
        (the run's capture while it runs, then the late output's); None for any other thread."""
        thread = threading.current_thread()
        with self._threads_lock:
            if thread not in self._user_threads:
                before = self._before
                if before is None or thread in before:
                    return None
                self._user_threads.add(thread)  # started by the code now running
        current = self.worker
        found = current[1] if current is not None else self._late
        return None if found is None else found[name]

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
                setattr(sys, name, router.fallback)
        self._routers.clear()

    def _after_run(self, capture: Capture, limits: Limits) -> None:
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
        fallback = self._routers["stdout"].fallback if "stdout" in self._routers else None
        late = Capture(capture.on_output or _writer(fallback), *limits)
        self._late = streams(late)


def _writer(stream: Any) -> Callable[[str], None] | None:
    """``stream.write`` then flush, for late output when a run had no ``on_output``."""
    if stream is None:
        return None

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


__all__ = ["Capture", "CapturedStream", "Limits", "NoInput", "Routing", "streams"]
