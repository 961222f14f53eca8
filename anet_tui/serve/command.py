"""``anet-tui serve``: the command line, the start-up lines, and the server's life."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", re.IGNORECASE)
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _size(text: str) -> int:
    match = SIZE.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"a size like 2G or 512M (got {text!r})")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def _keys(text: str) -> Path:
    path = Path(text).expanduser()
    if not (path.is_dir() or path.is_file()):
        raise argparse.ArgumentTypeError(
            f"{text}: neither a folder of NAME.pub files nor an authorized_keys file"
        )
    return path


def _file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a file")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anet-tui serve",
        description="Serve anet-tui to a class over SSH: each student gets their own app, "
        "on their own key, in their own folder. Public keys only; no root needed.",
        epilog="students: ssh -p PORT NAME@HOST  (or: ssh -t -p PORT NAME@HOST plain | "
        "lesson N | plain lesson N)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 opens the class)",
    )
    parser.add_argument("--port", type=int, default=2222, help="default 2222; 0: any free port")
    parser.add_argument(
        "--keys",
        type=_keys,
        metavar="DIR|FILE",
        help="a folder of NAME.pub files (NAME logs in with that key), or an authorized_keys "
        "file whose comments are the names ('ssh-ed25519 AAAA... NAME')",
    )
    parser.add_argument(
        "--teacher",
        type=_file,
        metavar="KEY.pub",
        help="the teacher's public key (the user name is the file's name)",
    )
    parser.add_argument(
        "--enrol",
        action="store_true",
        help="print a class code: a new NAME logs in once with it as the password, and the "
        "key they offer is saved as NAME.pub; after that, keys only",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="host key and students' folders (default $XDG_STATE_HOME/anet-tui/serve)",
    )
    parser.add_argument(
        "--memory",
        type=_size,
        default=2 << 30,
        metavar="SIZE",
        help="address-space limit per session (default 2G)",
    )
    parser.add_argument(
        "--file-size",
        type=_size,
        default=256 << 20,
        metavar="SIZE",
        help="largest file a session may write (default 256M)",
    )
    parser.add_argument("--nice", type=int, default=10, help="sessions' niceness (default 10)")
    parser.add_argument(
        "--grace",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="from hang-up to kill when a connection drops (default 2)",
    )
    parser.add_argument(
        "--starting",
        type=int,
        default=None,
        metavar="N",
        help="sessions whose app may be starting at once; the others wait their turn, a few "
        "tenths of a second each (default: twice the number of CPUs)",
    )
    parser.add_argument(
        "--no-preload",
        action="store_true",
        help="start each session as a fresh Python (slower) instead of forking a preloaded one",
    )
    parser.add_argument(
        "--no-landlock",
        action="store_true",
        help="do not confine sessions with Landlock even where the kernel can",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="log events as lines instead of showing the teacher's table",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    try:
        import asyncssh  # noqa: F401
    except ImportError:
        print('anet-tui serve needs asyncssh: pip install "anet[serve]"', file=sys.stderr)
        return 2
    from anet_tui.serve.keys import KeyBook, host_key, state_dir
    from anet_tui.serve.server import Classroom, Config, Limits

    args = build_parser().parse_args(list(argv))
    state = (args.state or state_dir()).expanduser()
    if args.enrol and args.keys is None:
        args.keys = state / "keys"
        args.keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    if args.keys is None and args.teacher is None:
        print(
            "anet-tui serve: no keys: give --keys DIR (NAME.pub files) or --keys FILE "
            "(authorized_keys, names as comments), and/or --teacher KEY",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    keys = KeyBook(args.keys, args.teacher)
    config = Config(
        keys=keys,
        state=state,
        host=args.host,
        port=args.port,
        limits=Limits(memory=args.memory, file_size=args.file_size, nice=args.nice),
        confine=not args.no_landlock,
        grace=args.grace,
        code=class_code() if args.enrol else None,
        preload=not args.no_preload,
    )
    if args.starting is not None:
        config.starting = max(args.starting, 1)
    try:
        key = host_key(state)
        room = Classroom(config)
    except (OSError, ValueError) as e:
        print(f"anet-tui serve: {e}", file=sys.stderr)
        return 2
    problem = confinement_problem(room)
    if problem:
        print(f"anet-tui serve: {problem}", file=sys.stderr)
        return 2
    if args.headless or not (sys.stdout.isatty() and sys.stdin.isatty()):
        room.board.listeners.append(_log_changes())
        return asyncio.run(_serve(room, key))
    return _dashboard(room, key)


def _log_changes():
    """Headless: a log line whenever a session's row reads differently."""
    seen: dict[int, str] = {}
    log = logging.getLogger("anet_tui.serve")

    def changed(key: int, row) -> None:
        line = row.line()
        if seen.get(key) != line:
            seen[key] = line
            log.info("class: %s", line)
        if row.ended:  # its last line: nothing more to compare with
            seen.pop(key, None)

    return changed


def _dashboard(room, key) -> int:
    from anet_tui.serve.dashboard import Dashboard, QueueHandler
    from anet_tui.serve.server import start

    handler = QueueHandler()
    root = logging.getLogger()
    for old in list(root.handlers):  # the log goes to the panel, not over the screen …
        root.removeHandler(old)
    root.addHandler(handler)
    path = log_file(room.config.state)  # … and to a file, where it can be read back
    acceptor = None

    async def begin() -> None:
        nonlocal acceptor
        acceptor = await start(room, key)
        port = acceptor.sockets[0].getsockname()[1] if acceptor.sockets else room.config.port
        app.banner = banner(room, key, port) + f"\nlog: {path} · Enter on a row: watch that student"
        app.query_one("#banner").update(app.banner)

    async def end() -> None:
        if acceptor is not None:
            acceptor.close()
        await _hang_up_all(room)

    def watchable(row: int):
        return next((s for s in room.sessions if s.row == row and s.live()), None)

    app = Dashboard(room.board, "starting…", begin, end, handler, watchable)
    app.run()
    return 0


LOG_FILE = "serve.log"
LOG_FILE_BYTES = 5 << 20  # then it is renamed serve.log.1 (the one before is dropped)


def log_file(state: Path) -> Path:
    """Send the server's log to ``STATE/serve.log`` too (mode 0600; at most twice
    LOG_FILE_BYTES on disk, however many refusals come): the dashboard shows only the newest
    lines."""
    from logging.handlers import RotatingFileHandler

    class PrivateLog(RotatingFileHandler):
        def _open(self):  # each new file (after a rollover too) is the teacher's only
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            return open(fd, "a", encoding=self.encoding, errors=self.errors)

    path = state / LOG_FILE
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = PrivateLog(path, maxBytes=LOG_FILE_BYTES, backupCount=1, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
    logging.getLogger().addHandler(handler)
    return path


async def _hang_up_all(room) -> None:
    loop = asyncio.get_running_loop()
    for session in list(room.sessions):
        if session.process is not None:
            session.process.hang_up()
    deadline = loop.time() + room.config.grace + 2
    while room.sessions and loop.time() < deadline:
        await asyncio.sleep(0.1)
    if room.zygote is not None:
        room.zygote.close()


def class_code() -> str:
    """Twelve letters and digits that cannot be misread (no 0/O, 1/l/I), in groups of four."""
    import secrets

    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    text = "".join(secrets.choice(alphabet) for _ in range(12))
    return "-".join(text[i : i + 4] for i in range(0, 12, 4))


def confinement_problem(room) -> str | None:
    if not room.landlock:
        return None
    from anet_tui.serve.confine import overlaps

    found = overlaps(room.config.state, room.students / "x")
    if found:
        return (
            f"the state folder {room.config.state} is inside {found[0]}, which students "
            "must read to run Python: choose another with --state"
        )
    return None


def banner(room, key, port: int) -> str:
    config = room.config
    names = room.config.keys.load()
    teacher = config.keys.teacher
    students = len([n for n in names if n != teacher])
    where = "this-host" if config.host in ("0.0.0.0", "::") else config.host
    if room.landlock:
        confined = f"Landlock: on (ABI {room.landlock})"
    elif not config.confine:
        confined = "Landlock: off (--no-landlock): students can read each other's files"
    else:
        confined = (
            "Landlock: unavailable in this kernel: students can read each other's "
            "files (run the server in a VM or a container)"
        )
    lines = [
        f"anet-tui serve on {config.host}:{port} · host key {key.get_fingerprint()} · "
        f"{students} student{'s' if students != 1 else ''} known · {confined}",
        f"students: ssh -p {port} NAME@{where}"
        + (f"        teacher: ssh -p {port} {teacher}@{where}" if teacher else ""),
    ]
    if config.code is not None:
        lines.append(
            f"enrolment: class code {config.code} (a new NAME logs in once with it as the "
            f"password; their key is saved in {config.keys.folder})"
        )
    lines += [f"keys: {p}" for p in config.keys.problems]
    return "\n".join(lines)


async def _serve(room, key) -> int:
    from anet_tui.serve.server import start

    acceptor = await start(room, key)
    port = acceptor.sockets[0].getsockname()[1] if acceptor.sockets else room.config.port
    print(banner(room, key, port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logging.getLogger("anet_tui.serve").info("stopping: hanging up %d sessions", len(room.sessions))
    acceptor.close()
    await _hang_up_all(room)
    with contextlib.suppress(Exception):
        await acceptor.wait_closed()
    return 0
