"""The student side of ``anet-tui serve``: ``python -m anet_tui.serve.student ARGS`` is
``anet-tui ARGS`` plus a thread that reports the session's state to the server.

The report goes to the socket inherited as ``ANET_TUI_REPORT_FD`` as one JSON line every
:data:`EVERY` seconds when something changed (and at least every :data:`HEARTBEAT` seconds):
front-end, lesson and cell, the open backward session (root, step k/n, flags), seconds since
the last run, memory. The state is watched by wrapping three constructors and ``Shell.run``
here, so the app and the REPL need no change to be served.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
import weakref
from typing import Any

from anet_tui.serve.reports import MAX_REPORT

EVERY = 1.0
HEARTBEAT = 15.0


class Watch:
    """The latest lesson and backward session made in this process, and the last run."""

    def __init__(self) -> None:
        self.lesson: Any = None
        self.session: Any = None
        self.shells: weakref.WeakSet = weakref.WeakSet()
        self.last_run = time.monotonic()

    def install(self) -> None:
        from anet.debug.session import BackwardSession
        from anet_tui.lessons import Lesson
        from anet_tui.shell import Shell

        watch = self
        lesson_init, session_init = Lesson.__init__, BackwardSession.__init__
        shell_init, shell_run = Shell.__init__, Shell.run

        def new_lesson(self, *args, **kwargs):
            lesson_init(self, *args, **kwargs)
            watch.lesson = weakref.ref(self)

        def new_session(self, *args, **kwargs):
            session_init(self, *args, **kwargs)
            watch.session = weakref.ref(self)

        def new_shell(self, *args, **kwargs):
            shell_init(self, *args, **kwargs)
            watch.shells.add(self)

        def run(self, *args, **kwargs):
            watch.last_run = time.monotonic()
            try:
                return shell_run(self, *args, **kwargs)
            finally:
                watch.last_run = time.monotonic()

        Lesson.__init__, BackwardSession.__init__ = new_lesson, new_session
        Shell.__init__, Shell.run = new_shell, run

    def state(self, front: str) -> dict[str, Any]:
        report: dict[str, Any] = {"front": front}
        lesson = self.lesson() if self.lesson is not None else None
        if lesson is not None:
            report["lesson"] = str(lesson.title)[:60]
            report["cell"] = list(lesson.position)
        session = self.session() if self.session is not None else None
        if session is not None:
            flags = list(session.flags)
            report["session"] = {
                "root": f"#{session.root.id} {session.root.op}"[:60],
                "step": list(session.position),
                "flags": len(flags),
                "kinds": sorted({str(f.kind) for f in flags})[:10],
            }
        running = any(shell.running for shell in list(self.shells))
        report["running"] = running
        report["idle"] = 0 if running else int(time.monotonic() - self.last_run)
        report["memory"] = _rss()
        return report


def _rss() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _report_loop(watch: Watch, sock: socket.socket, front: str) -> None:
    last, sent = "", 0.0
    while True:
        time.sleep(EVERY)
        try:
            state = watch.state(front)
        except Exception:  # a half-made session: try again next time
            continue
        state["idle"] = state["idle"] // 5 * 5  # so an idle student is not a change a second
        line = json.dumps(state, separators=(",", ":"))
        now = time.monotonic()
        if (line == last and now - sent < HEARTBEAT) or len(line) >= MAX_REPORT:
            continue
        try:
            sock.sendall(line.encode() + b"\n")
        except OSError:
            return  # the server is gone: the session is about to be hung up
        last, sent = line, now


def steady_cursor() -> None:
    """The input's cursor does not blink in a served session: each blink redraws the line and
    sends it over SSH, twice a second, whether anyone types or not; thirty idle students'
    blinking cursors kept an eighth of two cores busy."""
    from anet_tui.widgets.repl_input import ReplInput

    init = ReplInput.__init__

    def steady(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.cursor_blink = False

    ReplInput.__init__ = steady


def start_reporting(argv: list[str]) -> None:
    fd = os.environ.pop("ANET_TUI_REPORT_FD", "")
    if not fd.isdigit():
        return
    try:
        sock = socket.socket(fileno=int(fd))
    except OSError:
        return
    watch = Watch()
    watch.install()
    front = "plain" if "--plain" in argv else "app"
    threading.Thread(
        target=_report_loop, args=(watch, sock, front), name="serve-report", daemon=True
    ).start()


def main(argv: list[str]) -> int:
    with contextlib.suppress(Exception):  # reporting is for the teacher: never stop the student
        start_reporting(argv)
    with contextlib.suppress(Exception):
        steady_cursor()
    from anet_tui.cli import main as anet_tui

    return anet_tui(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
