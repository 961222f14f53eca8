"""A preloaded parent for student sessions: fork, not exec, so a session starts in a fraction of
the time and shares the imported modules' memory.

A fresh Python spends about 1.3 CPU-seconds importing numpy, Textual and anet_tui; thirty of them
at once on two cores is half a minute. The server starts one *zygote* at start-up: it imports all
that once, and then, for each session, forks a child that takes the pty as its controlling
terminal, sets the limits, confines itself with Landlock and runs ``anet-tui`` — the same steps as
:mod:`anet_tui.serve.launch`, without the exec.

The zygote and the server talk over a ``SOCK_SEQPACKET`` socket pair (one JSON message per packet,
at most :data:`MAX_MESSAGE` bytes; the pty slave and the report socket travel as SCM_RIGHTS):

- server → zygote ``{"spawn": id, "argv": [...], "env": {...}, "cwd": …, "spec": {...}}`` + fds;
  zygote → server ``{"spawned": id, "pid": pid}`` (or ``"error"``);
- server → zygote ``{"signal": pid, "sig": n}``: the zygote signals that child's process group,
  only while the child is not reaped (so a reused pid is never hit);
- zygote → server ``{"exited": pid, "status": code}`` once a child is gone; the zygote kills
  what is left of its group before reaping it.

The zygote runs no thread (a fork copies only the calling one) and no student code; it ends with
the server (its socket closes): every child's group is hung up, then killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import io
import json
import os
import selectors
import signal
import socket
import sys
import termios
import time

MAX_MESSAGE = 64_000
PRELOAD = (
    "numpy",
    "anet",
    "anet.debug",
    "anet_tui.cli",
    "anet_tui.app",
    "anet_tui.plain",
    "anet_tui.lessons",
    "anet_tui.serve.student",
    "anet_tui.serve.launch",
    "anet_tui.serve.landlock",
)


def send(sock: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


# ---- the child ---------------------------------------------------------------------------------
def _std_streams() -> None:
    """New sys.stdin/stdout/stderr on the pty (the zygote's were made for /dev/null)."""
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(  # noqa: SIM115
        1, "w", buffering=1, encoding="utf-8", closefd=False
    )
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        open(2, "wb", buffering=0, closefd=False),  # noqa: SIM115
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )


def _child(message: dict, fds: list[int], zygote_fds: list[int]) -> int:
    """In the forked child: become the session, then run anet-tui; returns the exit status."""
    for fd in zygote_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    slave, report = fds
    os.setsid()
    for target in (0, 1, 2):
        os.dup2(slave, target)
    os.close(slave)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    os.chdir(message["cwd"])
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in message["env"].items()})
    os.environ["ANET_TUI_REPORT_FD"] = str(report)
    os.set_inheritable(report, False)
    _std_streams()
    from anet_tui.serve import launch

    try:
        launch.apply(message["spec"], controlling_terminal=False)
    except (OSError, ValueError) as e:
        print(f"anet-tui serve: cannot start the session: {e}", file=sys.stderr)
        return launch.FAILED
    import numpy as np

    np.random.seed()  # a fork copies the global generator: every student would draw the same
    args = [str(a) for a in message["argv"]]
    sys.argv = ["anet-tui", *args]
    from anet_tui.serve import student

    try:
        return student.main(args)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1


# ---- the zygote ----------------------------------------------------------------------------------
class Zygote:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl+C is the server's

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ, "server")
        selector.register(self.wake_r, selectors.EVENT_READ, "child")
        try:
            while True:
                for key, _ in selector.select():
                    if key.data == "child":
                        with contextlib.suppress(BlockingIOError):
                            os.read(self.wake_r, 4096)
                        self.reap()
                    elif not self.request(selector):
                        return
        finally:
            self.end_all()

    def request(self, selector: selectors.BaseSelector) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 4)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False  # the server is gone
        try:
            message = json.loads(data)
            if "spawn" in message:
                self.spawn(message, fds, selector)
            elif "signal" in message:
                pid, sig = int(message["signal"]), int(message["sig"])
                if pid in self.children:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, sig)
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        return True

    def spawn(self, message: dict, fds: list[int], selector: selectors.BaseSelector) -> None:
        if len(fds) != 2:
            send(self.sock, {"spawned": message["spawn"], "error": "two descriptors expected"})
            return
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = _child(message, fds, [self.sock.fileno(), self.wake_r, self.wake_w,
                                             selector.fileno()])  # fmt: skip
            except BaseException as e:
                with contextlib.suppress(Exception):
                    print(f"anet-tui serve: the session failed: {e!r}", file=sys.stderr)
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code if 0 <= code < 256 else 1)
        self.children.add(pid)
        send(self.sock, {"spawned": message["spawn"], "pid": pid})

    def reap(self) -> None:
        for pid in list(self.children):
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                info = None
            if info is None:
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # its group goes with it, before the reap
            _, status = os.waitpid(pid, 0)
            self.children.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            with contextlib.suppress(OSError):
                send(self.sock, {"exited": pid, "status": 128 - code if code < 0 else code})

    def end_all(self) -> None:
        for sig in (signal.SIGHUP, signal.SIGKILL):
            for pid in list(self.children):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, sig)
            if sig == signal.SIGHUP and self.children:
                time.sleep(1.0)
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[0]))
    for name in PRELOAD:
        importlib.import_module(name)
    from anet_tui.serve import warm

    ready: dict = {"ready": os.getpid()}
    try:
        warm.share_css_parses()
        warm.warm_up()
    except Exception as e:  # sessions still start, only slower: the server logs why
        ready["warm"] = f"{type(e).__name__}: {e}"[:500]
    warm.freeze()
    send(sock, ready)
    Zygote(sock).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
