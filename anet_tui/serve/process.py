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
import logging
import os
import pty
import signal
import socket
import subprocess
import sys
import termios
from collections.abc import Callable

from anet_tui.serve.zygote import MAX_MESSAGE, send

log = logging.getLogger("anet_tui.serve")

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
        report_fd: int,
        zygote: ZygoteClient | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.on_output, self.on_exit, self.grace = on_output, on_exit, grace
        self.zygote = zygote if zygote is not None and zygote.alive else None
        self.popen: subprocess.Popen | None = None
        self.master, slave = pty.openpty()
        try:
            cols, rows = size
            termios.tcsetwinsize(slave, (max(rows, 1), max(cols, 1)))
            os.set_blocking(self.master, False)
            if self.zygote is not None:
                self.pid = self.zygote.spawn(spec, env, cwd, [slave, report_fd])
            else:
                env = {**env, "ANET_TUI_REPORT_FD": str(report_fd)}
                self.popen = subprocess.Popen(
                    [sys.executable, "-m", "anet_tui.serve.launch", json.dumps(spec)],
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    cwd=cwd,
                    env=env,
                    start_new_session=True,
                    close_fds=True,
                    pass_fds=(report_fd,),
                )
                self.pid = self.popen.pid
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)
        self.pgid = self.pid
        self.returncode: int | None = None
        self._pending = b""
        self._reading = True
        self._closed = False
        self._kill_timer: asyncio.TimerHandle | None = None
        self.pidfd: int | None = None
        if self.zygote is not None:
            self.zygote.on_exit(self.pid, self._finish)
        else:
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
        if self.returncode is not None:
            return
        if self.zygote is not None:  # the zygote is the parent: it knows whether the pid is ours
            self.zygote.signal(self.pid, sig)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)  # the leader is not reaped: the group id is still ours

    def hang_up(self) -> None:
        """The connection is gone: SIGHUP to the group now, SIGKILL after the grace period."""
        if self.returncode is not None or self._kill_timer is not None:
            return
        self._signal_group(signal.SIGHUP)
        self._signal_group(signal.SIGCONT)  # a stopped process must see the hang-up
        self._kill_timer = self.loop.call_later(self.grace, self._signal_group, signal.SIGKILL)

    def _leader_exited(self) -> None:
        # Whatever the leader left running in its group goes with it, before the reap.
        assert self.popen is not None and self.pidfd is not None
        self._signal_group(signal.SIGKILL)
        code = self.popen.wait()
        self.loop.remove_reader(self.pidfd)
        os.close(self.pidfd)
        self._finish(128 - code if code < 0 else code)

    def _finish(self, code: int) -> None:
        self.returncode = code
        if self._kill_timer is not None:
            self._kill_timer.cancel()
        # What is still in the pty's buffer is the leader's last output.
        with contextlib.suppress(OSError):
            while data := os.read(self.master, READ_SIZE):
                self.on_output(data)
        self._close_master()
        self.on_exit(code)

    def _close_master(self) -> None:
        if self._closed:
            return
        self._stop_reading()
        if self._pending:
            self.loop.remove_writer(self.master)
        self._closed = True
        os.close(self.master)


class ZygoteClient:
    """The server's end of :mod:`anet_tui.serve.zygote`: start it, ask it for sessions."""

    def __init__(self, env: dict[str, str], timeout: float = 120.0) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "anet_tui.serve.zygote", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # the teacher's Ctrl+C is for the server
            )
        finally:
            theirs.close()
        self.sock = ours
        self.alive = False
        self._next = 0
        self._waiting: dict[int, Callable[[int], None]] = {}
        self._exited: dict[int, int] = {}
        ours.settimeout(timeout)
        try:
            ready = json.loads(ours.recv(MAX_MESSAGE) or b"{}")
        except (OSError, ValueError):
            ready = {}
        if "ready" not in ready:
            self.close()
            raise OSError("the preloaded session starter did not start")
        if "warm" in ready:
            log.warning(
                "the preloaded session starter could not warm up (%s): first screens are slower",
                str(ready["warm"])[:500],
            )
        ours.setblocking(False)
        self.alive = True
        self.pid = self.popen.pid
        self.loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        loop.add_reader(self.sock, self._readable)

    def spawn(self, spec: dict, env: dict[str, str], cwd: str, fds: list[int]) -> int:
        """A new session's pid (waits the few milliseconds a fork takes)."""
        self._next += 1
        message = {"spawn": self._next, "argv": spec["args"], "env": env, "cwd": cwd,
                   "spec": spec}  # fmt: skip
        self.sock.setblocking(True)
        self.sock.settimeout(30)
        try:
            send(self.sock, message, fds)
            while True:
                reply = json.loads(self.sock.recv(MAX_MESSAGE) or b"{}")
                if not reply:
                    self._dead()
                    raise OSError("the preloaded session starter stopped")
                if reply.get("spawned") == self._next:
                    if "pid" not in reply:
                        raise OSError(str(reply.get("error", "no pid")))
                    return int(reply["pid"])
                self._dispatch(reply)
        finally:
            self.sock.setblocking(False)

    def signal(self, pid: int, sig: int) -> None:
        if self.alive:
            with contextlib.suppress(OSError):
                send(self.sock, {"signal": pid, "sig": int(sig)})

    def on_exit(self, pid: int, callback: Callable[[int], None]) -> None:
        if pid in self._exited:
            assert self.loop is not None
            self.loop.call_soon(callback, self._exited.pop(pid))
        else:
            self._waiting[pid] = callback

    def _readable(self) -> None:
        while True:
            try:
                data = self.sock.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._dead()
                return
            with contextlib.suppress(ValueError):
                self._dispatch(json.loads(data))

    def _dispatch(self, message: dict) -> None:
        if "exited" in message:
            pid, status = int(message["exited"]), int(message["status"])
            callback = self._waiting.pop(pid, None)
            if callback is None:
                self._exited[pid] = status
            else:
                callback(status)

    def _dead(self) -> None:
        if not self.alive:
            return
        self.alive = False
        if self.loop is not None:
            self.loop.remove_reader(self.sock)
        log.error("the preloaded session starter stopped; new sessions start the slow way")
        for callback in list(self._waiting.values()):
            callback(1)  # their parent is gone: the server can no longer tell when they end
        self._waiting.clear()

    def close(self) -> None:
        if self.loop is not None and self.alive:
            self.loop.remove_reader(self.sock)
        self.alive = False
        self.sock.close()  # the zygote hangs up its children and leaves
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
