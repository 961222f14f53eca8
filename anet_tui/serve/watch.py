"""Read-only screen sharing: the teacher ``watch``es a student; students ``follow`` the teacher.

A watcher receives the watched session's output bytes as they are written, and nothing it types
reaches that session (``q``, Ctrl+C, Ctrl+D or Ctrl+Q end the watching). On joining, the watcher
is put on the alternate screen when the watched app is on it, and the watched session's terminal
is made one row shorter for a moment and then restored: the size change makes the full-screen app
redraw everything at once (the person watched sees one flicker). The plain REPL redraws only its
prompt, so a watcher of a plain session sees what comes after joining.

Sizes: the watcher sees the watched terminal's bytes, drawn for the watched size. A watcher whose
terminal is smaller sees lines cut or wrapped; one that is larger sees the frame in its top-left
corner. The first line says both sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import asyncssh

if TYPE_CHECKING:
    from anet_tui.serve.server import StudentSession

MAX_BEHIND = 1 << 20  # bytes waiting for a slow watcher before it is let go
LEAVE_KEYS = (b"q", b"\x03", b"\x04", b"\x11")
RESTORE = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?25h\x1b[0m"
    b"\x1b[?1049l"
)  # mouse off, paste mode off, cursor shown, colours reset, main screen back
REDRAW_DELAY = 0.2  # seconds the watched terminal is one row shorter


class Watcher:
    def __init__(self, viewer: StudentSession, target: StudentSession) -> None:
        self.viewer, self.target = viewer, target
        self.done = False

    def start(self) -> None:
        (cols, rows), (vcols, vrows) = self.target.size, self.viewer.size
        note = ""
        if vcols < cols or vrows < rows:
            note = f"; yours is {vcols}×{vrows}: make it at least {cols}×{rows}"
        self._write(
            f"watching {self.target.name} ({cols}×{rows}{note}); nothing you type reaches "
            f"them; q or Ctrl+C leaves\r\n".encode()
        )
        if self.target.alt_screen:
            self._write(b"\x1b[?1049h\x1b[H\x1b[2J")
        self.target.watchers.add(self)
        redraw(self.target)

    def send(self, data: bytes) -> None:
        chan = self.viewer.chan
        if chan is None or self.done:
            return
        if chan.get_write_buffer_size() > MAX_BEHIND:
            self.stop("too far behind: the connection is too slow to watch")
            return
        chan.write(data)

    def keys(self, data: bytes) -> None:
        if any(key in data for key in LEAVE_KEYS):
            self.stop("stopped watching")

    def stop(self, why: str) -> None:
        if self.done:
            return
        self.done = True
        self.target.watchers.discard(self)
        self._write(RESTORE + f"\r\n{why}\r\n".encode())
        if self.viewer.chan is not None:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.viewer.chan.exit(0)

    def _write(self, data: bytes) -> None:
        if self.viewer.chan is not None:
            with contextlib.suppress(OSError, asyncssh.Error):  # the viewer may be gone already
                self.viewer.chan.write(data)


def redraw(session: StudentSession) -> None:
    """Make the watched app draw its whole screen: a brief size change, then the size again."""
    process = session.process
    if process is None:
        return
    cols, rows = session.size
    process.resize(cols, max(rows - 1, 1) if rows > 1 else rows + 1)
    asyncio.get_running_loop().call_later(REDRAW_DELAY, process.resize, cols, rows)
