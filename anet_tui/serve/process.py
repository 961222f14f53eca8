"""One session's process group on a fresh pseudo-terminal, driven from the asyncio loop.

The launcher runs as the leader of a new session (its pid is the process group's id) with the pty
as its controlling terminal. Output is read from the master without blocking and handed to
``on_output``; input is written without blocking (at most :data:`MAX_PENDING_INPUT` bytes wait);
a size change is ``TIOCSWINSZ`` on the master, after which the kernel sends ``SIGWINCH`` to the
terminal's foreground group. :meth:`hang_up` ends the group: ``SIGHUP``, then ``SIGKILL`` after
``grace`` seconds. The group is signalled before the leader is reaped, so its id cannot have been
reused by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import signal
import subprocess
import sys
import termios
from collections.abc import Callable

MAX_PENDING_INPUT = 1 << 16  # keystrokes and pastes waiting for a student app that is busy
READ_SIZE = 1 << 16


class PtyProcess:
    def __init__(
        self,
        spec: dict,
        *,
        env: dict[str, str],
        cwd: str,
        size: tuple[int, int],
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        grace: float = 2.0,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.on_output, self.on_exit, self.grace = on_output, on_exit, grace
        self.master, slave = pty.openpty()
        try:
            cols, rows = size
            termios.tcsetwinsize(slave, (max(rows, 1), max(cols, 1)))
            os.set_blocking(self.master, False)
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "anet_tui.serve.launch", json.dumps(spec)],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=env,
                start_new_session=True,
                close_fds=True,
                pass_fds=pass_fds,
            )
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)
        self.pid = self.pgid = self.popen.pid
        self.returncode: int | None = None
        self._pending = b""
        self._reading = True
        self._closed = False
        self._kill_timer: asyncio.TimerHandle | None = None
        self.pidfd = os.pidfd_open(self.pid)
        self.loop.add_reader(self.pidfd, self._leader_exited)
        self.loop.add_reader(self.master, self._readable)

    # ---- output --------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave descriptor is closed
            data = b""
        if not data:
            self._stop_reading()
            return
        self.on_output(data)

    def _stop_reading(self) -> None:
        if self._reading and not self._closed:
            self.loop.remove_reader(self.master)
        self._reading = False

    def pause_output(self) -> None:
        self._stop_reading()

    def resume_output(self) -> None:
        if not self._reading and not self._closed:
            self._reading = True
            self.loop.add_reader(self.master, self._readable)

    # ---- input and size ------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self._closed:
            return
        room = MAX_PENDING_INPUT - len(self._pending)
        self._pending += data[: max(room, 0)]
        self._flush()

    def _flush(self) -> None:
        if self._closed:
            return
        try:
            written = os.write(self.master, self._pending) if self._pending else 0
        except BlockingIOError:
            written = 0
        except OSError:
            self._pending = b""
            written = 0
        had = bool(self._pending)
        self._pending = self._pending[written:]
        if self._pending:
            self.loop.add_writer(self.master, self._flush)
        elif had:
            self.loop.remove_writer(self.master)

    def resize(self, cols: int, rows: int) -> None:
        if not self._closed and cols > 0 and rows > 0:
            with contextlib.suppress(OSError):
                termios.tcsetwinsize(self.master, (min(rows, 1000), min(cols, 1000)))

    # ---- the end ---------------------------------------------------------------------------
    def _signal_group(self, sig: int) -> None:
        if self.returncode is None:  # the leader is not reaped: the group id is still ours
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, sig)

    def hang_up(self) -> None:
        """The connection is gone: SIGHUP to the group now, SIGKILL after the grace period."""
        if self.returncode is not None or self._kill_timer is not None:
            return
        self._signal_group(signal.SIGHUP)
        self._signal_group(signal.SIGCONT)  # a stopped process must see the hang-up
        self._kill_timer = self.loop.call_later(self.grace, self._signal_group, signal.SIGKILL)

    def _leader_exited(self) -> None:
        # Whatever the leader left running in its group goes with it, before the reap.
        self._signal_group(signal.SIGKILL)
        self.returncode = self.popen.wait()
        self.loop.remove_reader(self.pidfd)
        os.close(self.pidfd)
        if self._kill_timer is not None:
            self._kill_timer.cancel()
        # What is still in the pty's buffer is the leader's last output.
        with contextlib.suppress(OSError):
            while data := os.read(self.master, READ_SIZE):
                self.on_output(data)
        self._close_master()
        code = self.returncode
        self.on_exit(128 - code if code < 0 else code)

    def _close_master(self) -> None:
        if self._closed:
            return
        self._stop_reading()
        if self._pending:
            self.loop.remove_writer(self.master)
        self._closed = True
        os.close(self.master)
