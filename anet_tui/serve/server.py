"""The SSH server: who gets in, what a session may ask for, and the process each one runs."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

import anet_tui
from anet_tui.serve import landlock
from anet_tui.serve.keys import KeyBook, is_name
from anet_tui.serve.process import PtyProcess, ZygoteClient
from anet_tui.serve.reports import Board
from anet_tui.serve.watch import Watcher

log = logging.getLogger("anet_tui.serve")

LESSON = re.compile(r"lesson ([1-9][0-9]?)")
ALLOWED = "the app (no command), plain, lesson N, plain lesson N, follow"
TEACHER_ALLOWED = ALLOWED.replace(", follow", ", watch NAME")
ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MAX_COMMAND = 200  # characters of a refused command that reach the log
MAX_EARLY_INPUT = 1 << 16  # bytes typed before the session's process started, kept for it
FIRST_SCREEN = 2000  # bytes: the app's first screen is more (its set-up sequences far less) …
SETTLED = 0.04  # … and then its output pauses this long: the start slot is free again
START_HOLD = 2.0  # seconds a start slot is held at most
MAX_ADDRESSES = 10_000  # addresses the failed-login tables remember at most (each)
NO_TERMINAL = (
    "anet-tui serve: no terminal was asked for (is ssh's input a file or a pipe?); the class "
    "runs on a terminal only: connect from one, or force it with ssh -t (ssh -tt when the "
    "input is a file, which is then typed in as keys)"
)


@dataclass
class Limits:
    """Per-process resource limits; ``None`` leaves a limit as it is."""

    memory: int | None = 2 << 30  # RLIMIT_AS, bytes
    file_size: int | None = 256 << 20  # RLIMIT_FSIZE, bytes
    open_files: int | None = 256
    nice: int = 10

    def spec(self) -> dict:
        return {
            "limits": {
                "as": self.memory,
                "fsize": self.file_size,
                "core": 0,
                "nofile": self.open_files,
            },
            "nice": self.nice,
        }


@dataclass
class Config:
    keys: KeyBook
    state: Path
    host: str = "127.0.0.1"
    port: int = 2222
    limits: Limits = field(default_factory=Limits)
    confine: bool = True  # Landlock when the kernel has it
    grace: float = 2.0  # seconds between SIGHUP and SIGKILL
    max_failures: int = 5  # failed logins from one address within `window` …
    window: float = 60.0
    block: float = 60.0  # … close its connections for this long
    code: str | None = None  # --enrol: the class code a new name may log in with, once
    preload: bool = True  # start sessions by forking a preloaded process (zygote.py)
    starting: int = 2 * (os.cpu_count() or 1)  # sessions whose app may be starting at once


def parse_command(command: str) -> list[str] | None:
    """The ``anet-tui`` arguments for an allowed command, or None."""
    words = command.split()
    plain = words[:1] == ["plain"]
    rest = " ".join(words[1:] if plain else words)
    if rest == "" or (rest == "app" and not plain):
        return ["--plain"] if plain else []
    if match := LESSON.fullmatch(rest):
        return [*(["--plain"] if plain else []), "--lesson", match.group(1)]
    return None


class Gate:
    """Failed logins per address; an address with too many is shut out for a while.

    The tables stay small whoever knocks: failures older than the window and blocks that are
    over are dropped (checked at most once a second), and at most :data:`MAX_ADDRESSES`
    addresses are remembered in each (the oldest are forgotten first).
    """

    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.failures: dict[str, deque[float]] = {}
        self.blocked_until: dict[str, float] = {}
        self.shut_out: dict[str, int] = {}  # connections closed while blocked, logged once
        self._pruned = float("-inf")

    def prune(self) -> None:
        now = self.clock()
        if now - self._pruned < 1.0:
            return
        self._pruned = now
        for address, times in list(self.failures.items()):
            while times and times[0] < now - self.config.window:
                times.popleft()
            if not times:
                del self.failures[address]
        for address, until in list(self.blocked_until.items()):
            if until <= now:
                self._unblock(address)
        while len(self.failures) > MAX_ADDRESSES:
            del self.failures[next(iter(self.failures))]  # the longest-known address
        while len(self.blocked_until) > MAX_ADDRESSES:
            self._unblock(min(self.blocked_until, key=self.blocked_until.__getitem__))

    def _unblock(self, address: str) -> None:
        log.info("%s: block over (%d connections refused)", address, self.shut_out.pop(address, 0))
        del self.blocked_until[address]

    def blocked(self, address: str) -> bool:
        self.prune()
        now = self.clock()
        until = self.blocked_until.get(address, 0.0)
        if now < until:
            count = self.shut_out[address] = self.shut_out.get(address, 0) + 1
            if count == 1:
                log.warning(
                    "refused: %s is blocked after failed logins (for %.0f s more; "
                    "further connections are not logged until then)",
                    address,
                    until - now,
                )
            return True
        if address in self.blocked_until:
            self._unblock(address)
        return False

    def failed(self, address: str) -> None:
        now = self.clock()
        times = self.failures.pop(address, None) or deque()
        self.failures[address] = times  # (re)inserted last: the most recently heard of
        times.append(now)
        while times and times[0] < now - self.config.window:
            times.popleft()
        if len(times) >= self.config.max_failures:
            self.blocked_until[address] = now + self.config.block
            del self.failures[address]
            log.warning(
                "%s: %d failed logins within %.0f s: blocked for %.0f s",
                address,
                self.config.max_failures,
                self.config.window,
                self.config.block,
            )
        if len(self.failures) > MAX_ADDRESSES:
            del self.failures[next(iter(self.failures))]  # the longest-known address
        self.prune()


class Classroom:
    """What every connection shares: the configuration, the gate, the running sessions."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.gate = Gate(config)
        self.sessions: set[StudentSession] = set()
        self.connections: dict[str, str] = {}  # asyncssh's "conn=N" -> "NAME from ADDRESS"
        self.board = Board()
        self.zygote: ZygoteClient | None = None
        self.landlock = landlock.abi() if config.confine else 0
        # Apps that start at once. Thirty at once on two cores each took twice the CPU time
        # they take alone (caches, and Textual's start-up spread over many more refreshes):
        # the last first screen came after 5-6 s; four at a time, after 4 s (median 2.2 s).
        self.start_slots = asyncio.Semaphore(config.starting)
        self.students = config.state / "students"
        self.students.mkdir(parents=True, exist_ok=True, mode=0o700)

    def home(self, name: str) -> Path:
        home = self.students / name
        (home / "tmp").mkdir(parents=True, exist_ok=True, mode=0o700)
        return home

    def env(self, name: str, home: Path, term: str) -> dict[str, str]:
        package_root = str(Path(anet_tui.__file__).resolve().parent.parent)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "USER": name,
            "LOGNAME": name,
            "TERM": term,
            "LANG": "C.UTF-8",
            "TMPDIR": str(home / "tmp"),
            "ANET_TUI_HISTORY": str(home / "history"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "tmp"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "PYTHONPATH": package_root,
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",  # 2 cores for 30 students: no BLAS thread pools
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2",  # keep reserved address space well under RLIMIT_AS
        }

    def landlock_rules(self, home: Path) -> dict[str, int] | None:
        if not self.landlock:
            return None
        from anet_tui.serve.confine import rules

        return rules(home)


class StudentSession(asyncssh.SSHServerSession):
    """One channel: a pty request, then the app, ``plain`` or a lesson; nothing else."""

    def __init__(self, room: Classroom, name: str, address: str) -> None:
        self.room, self.name, self.address = room, name, address
        self.chan: asyncssh.SSHServerChannel | None = None
        self.term: str | None = None
        self.size = (80, 24)
        self.command = ""
        self.process: PtyProcess | None = None
        self.row: int | None = None
        self.watchers: set[Watcher] = set()  # who watches this session
        self.watching: Watcher | None = None  # or: this session watches another
        self.alt_screen = False
        self.teacher = name == room.config.keys.teacher
        self.args: list[str] = []
        self.closed = False
        self._starting: asyncio.Future | None = None
        self._early = b""  # typed before the process started (waiting for a start slot)
        self._drawn = 0  # bytes the process has written
        self._last_output = 0.0

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple, _modes: dict) -> bool:
        self.term = term_type if re.fullmatch(r"[A-Za-z0-9.+_-]{1,64}", term_type) else "xterm"
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        log.warning(
            "refused: %s from %s asked for subsystem %r",
            self.name,
            self.address,
            subsystem[:MAX_COMMAND],
        )
        return False

    def live(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def session_started(self) -> None:
        assert self.chan is not None
        words = self.command.split()
        if (words[:1] == ["watch"] and len(words) == 2 and self.teacher) or words == ["follow"]:
            self._watch(words[1] if words[0] == "watch" else self.room.config.keys.teacher)
            return
        args = parse_command(self.command)
        if args is None:
            log.warning(
                "refused: %s from %s ran %r", self.name, self.address, self.command[:MAX_COMMAND]
            )
            allowed = TEACHER_ALLOWED if self.teacher else ALLOWED
            self._refuse(
                f"anet-tui serve: {self.command[:60]!r} is not a command here. Allowed: {allowed}."
            )
            return
        if self.term is None:
            log.warning(
                "refused: %s from %s asked for %r without a terminal",
                self.name,
                self.address,
                self.command.strip() or "app",
            )
            self._refuse(NO_TERMINAL)
            return
        self._starting = asyncio.ensure_future(self._start(args))

    async def _start(self, args: list[str]) -> None:
        """Start the session's process when a start slot is free, and keep the slot until its
        first screen is drawn (see :class:`Classroom`)."""
        async with self.room.start_slots:
            if self.closed or not self._spawn(args):
                return
            await self._first_screen()

    async def _first_screen(self) -> None:
        """Until the app has drawn its first screen (FIRST_SCREEN bytes, then a pause in its
        output of SETTLED seconds), it ends, or START_HOLD seconds have gone by."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        enough = FIRST_SCREEN // 8 if "--plain" in self.args else FIRST_SCREEN
        while self.live() and loop.time() - started < START_HOLD:
            if self._drawn >= enough and loop.time() - self._last_output >= SETTLED:
                return
            await asyncio.sleep(SETTLED / 2)

    def _spawn(self, args: list[str]) -> bool:
        assert self.chan is not None and self.term is not None
        self.args = args
        home = self.room.home(self.name)
        spec = {
            "argv": [sys.executable, "-m", "anet_tui.serve.student", *args],
            "args": args,
            **self.room.config.limits.spec(),
            "landlock": self.room.landlock_rules(home),
        }
        self.row, theirs = self.room.board.open(self.name, self.command.strip() or "app")
        env = self.room.env(self.name, home, self.term)
        try:
            self.process = PtyProcess(
                spec,
                env=env,
                cwd=str(home),
                size=self.size,
                on_output=self._output,
                on_exit=self._exited,
                grace=self.room.config.grace,
                report_fd=theirs.fileno(),
                zygote=self.room.zygote,
            )
        except OSError as e:
            log.error("%s: cannot start a session: %s", self.name, e)
            self._refuse("anet-tui serve: the session could not start (the server logged why)")
            self._end_row()
            return False
        finally:
            theirs.close()
        self.room.sessions.add(self)
        log.info(
            "%s from %s: %s started (pid %d, %s, %dx%d)",
            self.name,
            self.address,
            " ".join(["anet-tui", *args]),
            self.process.pid,
            self.term,
            *self.size,
        )
        if self._early:
            self.process.write(self._early)
            self._early = b""
        return True

    def _watch(self, name: str | None) -> None:
        if self.term is None:
            log.warning(
                "refused: %s from %s asked to watch %s without a terminal",
                self.name,
                self.address,
                name,
            )
            self._refuse(NO_TERMINAL)
            return
        targets = [s for s in self.room.sessions if s.name == name and s.live()]
        if not targets:
            who = "the teacher" if name == self.room.config.keys.teacher else name
            self._refuse(f"anet-tui serve: {who} has no session open now; try again later")
            return
        target = max(targets, key=lambda s: s.row or 0)  # the newest
        self.watching = Watcher(self, target)
        log.info("%s from %s watches %s (read-only)", self.name, self.address, target.name)
        self.watching.start()

    def _output(self, data: bytes) -> None:
        assert self.chan is not None
        self._drawn += len(data)
        self._last_output = asyncio.get_running_loop().time()
        self.chan.write(data)
        if ALT_SCREEN_ON in data or ALT_SCREEN_OFF in data:
            self.alt_screen = data.rfind(ALT_SCREEN_ON) > data.rfind(ALT_SCREEN_OFF)
        for watcher in list(self.watchers):
            watcher.send(data)

    def _refuse(self, message: str) -> None:
        assert self.chan is not None
        self.chan.write_stderr((message + "\r\n").encode())
        self.chan.exit(2)

    def _end_row(self) -> None:
        if self.row is not None:
            self.room.board.close(self.row)

    def _exited(self, code: int) -> None:
        self.room.sessions.discard(self)
        self._end_row()
        for watcher in list(self.watchers):
            watcher.stop(f"{self.name}'s session ended")
        log.info("%s: session ended (exit status %d)", self.name, code)
        if self.chan is not None:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.exit(code)

    def data_received(self, data: bytes, _datatype: int | None) -> None:
        if self.watching is not None:
            self.watching.keys(data)  # never forwarded: a watcher only looks
        elif self.process is not None:
            self.process.write(data)
        elif len(self._early) < MAX_EARLY_INPUT:
            self._early += data[: MAX_EARLY_INPUT - len(self._early)]

    def terminal_size_changed(
        self, width: int, height: int, _pixwidth: int, _pixheight: int
    ) -> None:
        self.size = (width, height)
        if self.process is not None:
            self.process.resize(width, height)

    def pause_writing(self) -> None:
        if self.process is not None:
            self.process.pause_output()

    def resume_writing(self) -> None:
        if self.process is not None:
            self.process.resume_output()

    def eof_received(self) -> bool:
        return True  # a pty session ends when its process ends, not at the client's EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._starting is not None and self.process is None:
            self._starting.cancel()  # still waiting for a start slot: give up the place
        if self.watching is not None:
            self.watching.stop("connection closed")
        for watcher in list(self.watchers):
            watcher.stop(f"{self.name} left")
        if self.process is not None and self.process.returncode is None:
            log.info(
                "%s: connection closed; hanging up the session (pid %d)",
                self.name,
                self.process.pid,
            )
            self.process.hang_up()
        self.room.sessions.discard(self)
        self._end_row()


class Door(asyncssh.SSHServer):
    """One connection's authentication: a key of the user's own name, nothing else."""

    def __init__(self, room: Classroom) -> None:
        self.room = room
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.user = ""
        self.why = "no key offered"
        self.authenticated = False
        self.tag = ""
        self.offered: list[asyncssh.SSHKey] = []  # unknown keys: enrolment records the first

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        # asyncssh's tag for this connection in its own log lines: "[conn=N] " -> "conn=N"
        self.tag = conn.logger.process("", {})[0].strip().strip("[]").split(",")[0]
        if self.room.gate.blocked(self.address):
            conn.close()

    def begin_auth(self, username: str) -> bool:
        self.user = username
        if self.room.config.code is not None and self.conn is not None:
            self.conn.send_auth_banner(
                "anet-tui class: new here? Log in with the class code as the password (make a "
                "key first: ssh-keygen -t ed25519); after that, your key alone.\r\n"
            )
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return self.room.config.code is not None  # enrolment only

    def validate_password(self, username: str, password: str) -> bool:
        """Enrolment: the class code, for a name with no key yet, records the key offered."""
        code = self.room.config.code
        keys = self.room.config.keys
        if code is None:
            self.why = "password"
            return False
        if not is_name(username) or username == keys.teacher or username in keys.load():
            self.why = "password (the class code) for a name that has a key: keys only"
            return False
        if not hmac.compare_digest(password.encode(), code.encode()):
            self.why = "wrong class code"
            return False
        if not self.offered:
            self.why = "class code without a public key to record (ssh-keygen first)"
            return False
        key = self.offered[0]
        try:
            path = keys.add(username, key)
        except OSError as e:
            self.why = f"enrolment failed: {e}"
            return False
        log.info(
            "enrolled %s from %s: key %s saved as %s",
            username,
            self.address,
            key.get_fingerprint(),
            path,
        )
        return True

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        owner = self.room.config.keys.owner(key)
        if owner is None:
            self.why = f"unknown key {key.get_fingerprint()}"
            if len(self.offered) < 8:
                self.offered.append(key)
            return False
        if owner != username or not is_name(username):
            self.why = f"{owner}'s key {key.get_fingerprint()} offered as user {username!r}"
            return False
        return True

    def auth_completed(self) -> None:
        self.authenticated = True
        self.room.connections[self.tag] = f"{self.user} from {self.address}"
        log.info("%s logged in from %s", self.user, self.address)

    def connection_lost(self, exc: Exception | None) -> None:
        self.room.connections.pop(self.tag, None)
        if not self.authenticated and self.user:
            log.warning("refused: login as %r from %s: %s", self.user[:40], self.address, self.why)
            self.room.gate.failed(self.address)

    def session_requested(self) -> StudentSession:
        return StudentSession(self.room, self.user, self.address)

    def connection_requested(
        self, dest_host: str, dest_port: int, _orig_host: str, _orig_port: int
    ) -> bool:
        log.warning(
            "refused: %s from %s asked to forward to %s:%s",
            self.user,
            self.address,
            dest_host[:100],
            dest_port,
        )
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.warning(
            "refused: %s from %s asked to listen on %s:%s",
            self.user,
            self.address,
            listen_host[:100],
            listen_port,
        )
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        log.warning(
            "refused: %s from %s asked to forward to %r", self.user, self.address, dest_path[:100]
        )
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        log.warning(
            "refused: %s from %s asked to listen on %r", self.user, self.address, listen_path[:100]
        )
        return False


class _Denied(logging.Handler):
    """asyncssh logs agent and X11 forwarding refusals itself: pass those on, as refusals, with
    who asked (asyncssh tags its lines ``[conn=N]``; :class:`Door` knows whose N is)."""

    def __init__(self, room: Classroom) -> None:
        super().__init__()
        self.room = room

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().strip()
        if "not permitted" not in message:  # ("denied by application": logged by Door already)
            return
        tag, _, rest = message.partition("] ")
        who = self.room.connections.get(tag.lstrip("[").split(",")[0]) if rest else None
        if who is not None:
            log.warning("refused: %s: %s", who, rest[:MAX_COMMAND])
        else:
            log.warning("refused: %s", message[:MAX_COMMAND])


def start_zygote(room: Classroom) -> None:
    """The preloaded session starter, when asked for; on failure sessions start the slow way."""
    if not room.config.preload:
        return
    env = room.env("anet-tui", room.students, "xterm")
    try:
        room.zygote = ZygoteClient(env)
    except OSError as e:
        log.error("%s: sessions start the slow way (a fresh Python each)", e)
        return
    room.zygote.attach(asyncio.get_running_loop())


async def start(room: Classroom, host_key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
    start_zygote(room)
    ssh_log = logging.getLogger("asyncssh")
    ssh_log.setLevel(logging.INFO)
    ssh_log.propagate = False
    ssh_log.addHandler(_Denied(room))
    return await asyncssh.create_server(
        lambda: Door(room),
        room.config.host,
        room.config.port,
        server_host_keys=[host_key],
        encoding=None,
        line_editor=False,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_scp=False,
        sftp_factory=None,
        login_timeout=30,
        keepalive_interval=30,
        reuse_address=True,
    )
