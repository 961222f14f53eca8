"""What the teacher sees: each session's state, reported by the student process as JSON lines.

Every session gets its own socket pair; the student's end is inherited by its process (the fd is
in ``ANET_TUI_REPORT_FD``), so a report always belongs to the session it arrives on: a student
cannot speak for another. What arrives is untrusted (the process runs the student's code): one
line is at most :data:`MAX_REPORT` bytes of JSON, an object with known keys of known types; text
is cut short and stripped of control characters; anything else is dropped and logged (at most
once per :data:`LOG_EVERY` seconds per session), and at most :data:`MAX_RATE` lines a second are
read from one session. Never pickle: nothing from a student is run or unpickled here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("anet_tui.serve")

MAX_REPORT = 4096  # bytes in one line
MAX_RATE = 10  # lines a second from one session; more are dropped
LOG_EVERY = 30.0  # seconds between two "dropped" log lines of one session
MAX_TEXT = 60  # characters of any text field
MAX_ENDED = 50  # sessions that ended, kept in the table (the newest) …
ENDED_FOR = 3600.0  # … for at most this many seconds


def clean(text: Any) -> str:
    """Printable text of at most MAX_TEXT characters (control characters become spaces)."""
    if not isinstance(text, str):
        raise ValueError("text expected")
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text[: MAX_TEXT * 2])
    return text[:MAX_TEXT]


def _count(value: Any, top: int = 10**12) -> int:
    if type(value) is not int or not 0 <= value <= top:
        raise ValueError("a count expected")
    return value


def _pair(value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("[k, n] expected")
    return _count(value[0]), _count(value[1])


def parse_report(line: bytes) -> dict[str, Any]:
    """The checked report in ``line``; ValueError says why it was refused."""
    if len(line) > MAX_REPORT:
        raise ValueError(f"over {MAX_REPORT} bytes")
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"not JSON ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    known = {"front", "lesson", "cell", "session", "idle", "memory", "running"}
    if unknown := set(data) - known:
        raise ValueError(f"unknown keys {sorted(unknown)[:3]}")
    report: dict[str, Any] = {}
    if "front" in data:
        if data["front"] not in ("app", "plain"):
            raise ValueError("front must be app or plain")
        report["front"] = data["front"]
    if data.get("lesson") is not None:
        report["lesson"] = clean(data["lesson"])
    if data.get("cell") is not None:
        report["cell"] = _pair(data["cell"])
    if data.get("session") is not None:
        s = data["session"]
        if not isinstance(s, dict) or set(s) - {"root", "step", "flags", "kinds"}:
            raise ValueError("session must be {root, step, flags, kinds}")
        kinds = s.get("kinds", [])
        if not isinstance(kinds, list) or len(kinds) > 10:
            raise ValueError("kinds must be a short list")
        report["session"] = {
            "root": clean(s.get("root", "")),
            "step": _pair(s.get("step", [0, 0])),
            "flags": _count(s.get("flags", 0)),
            "kinds": [clean(k)[:20] for k in kinds],
        }
    if "idle" in data:
        report["idle"] = _count(data["idle"])
    if "memory" in data:
        report["memory"] = _count(data["memory"])
    if "running" in data:
        if not isinstance(data["running"], bool):
            raise ValueError("running must be true or false")
        report["running"] = data["running"]
    return report


@dataclass
class Row:
    """One session as the teacher's table shows it."""

    name: str
    command: str
    since: float = field(default_factory=time.time)
    report: dict[str, Any] = field(default_factory=dict)
    received: float = 0.0  # time.monotonic() of the last report
    ended: bool = False
    ended_at: float = 0.0  # the board's clock when the session ended
    dropped: int = 0
    last_logged: float = 0.0

    def cells(self) -> tuple[str, ...]:
        """student, since, front-end, lesson step, session, last activity, memory."""
        r = self.report
        lesson = r.get("lesson", "")
        if "cell" in r:
            lesson = f"{lesson} {r['cell'][0]}/{r['cell'][1]}".strip()
        session = "-"
        if s := r.get("session"):
            flags = f" ✗{s['flags']} {','.join(s['kinds'])}" if s["flags"] else ""
            session = f"{s['root']} step {s['step'][0]}/{s['step'][1]}{flags}"
        if self.ended:
            activity = "left"
        elif r.get("running"):
            activity = "running"
        elif "idle" in r:
            idle = r["idle"] + max(int(time.monotonic() - self.received), 0)
            if idle < 5:
                activity = "now"
            elif idle < 60:
                activity = f"{idle}s ago"
            else:
                activity = f"{idle // 60}m{idle % 60:02d}s ago"
        else:
            activity = "-"
        memory = f"{r['memory'] >> 20} MB" if "memory" in r else "-"
        return (
            self.name,
            time.strftime("%H:%M", time.localtime(self.since)),
            r.get("front", self.command or "app"),
            lesson or "-",
            session,
            activity,
            memory,
        )

    def line(self) -> str:
        return " · ".join(self.cells())


COLUMNS = ("student", "since", "front-end", "lesson", "session", "last activity", "memory")


class Board:
    """Every session's row, fed by its report socket; ``listeners`` hear of each change.

    A session that ended stays listed (as "left") for :data:`ENDED_FOR` seconds, and only the
    :data:`MAX_ENDED` newest of them: a server that runs for weeks keeps a short table.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rows: dict[int, Row] = {}
        self.listeners: list[Callable[[int, Row], None]] = []
        self._next = 0
        self._tasks: dict[int, asyncio.Task] = {}

    def open(self, name: str, command: str) -> tuple[int, socket.socket]:
        """A new row and its socket pair: read ours, give the other to the student process."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours.setblocking(False)
        self._next += 1
        key = self._next
        self.rows[key] = Row(name, command)
        self._tasks[key] = asyncio.ensure_future(self._read(key, ours))
        self._changed(key)
        return key, theirs

    def close(self, key: int) -> None:
        if (row := self.rows.get(key)) is not None and not row.ended:
            row.ended = True
            row.ended_at = self.clock()
            self._changed(key)
        if (task := self._tasks.pop(key, None)) is not None:
            task.cancel()
        self.prune()

    def prune(self) -> None:
        """Forget sessions that ended more than ENDED_FOR seconds ago, and all but the
        MAX_ENDED newest that ended."""
        now = self.clock()
        ended = [key for key, row in self.rows.items() if row.ended]  # oldest first
        for n, key in enumerate(ended):
            if len(ended) - n > MAX_ENDED or now - self.rows[key].ended_at > ENDED_FOR:
                del self.rows[key]

    def _changed(self, key: int) -> None:
        for listener in self.listeners:
            listener(key, self.rows[key])

    def _drop(self, row: Row, why: str) -> None:
        row.dropped += 1
        now = time.monotonic()
        if now - row.last_logged >= LOG_EVERY:
            row.last_logged = now
            log.warning(
                "dropped a report from %s: %s (%d dropped so far)", row.name, why, row.dropped
            )

    async def _read(self, key: int, sock: socket.socket) -> None:
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_REPORT)
        row = self.rows[key]
        window, count = time.monotonic(), 0
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.LimitOverrunError as e:
                    self._drop(row, f"over {MAX_REPORT} bytes")
                    await _skip_line(reader, e.consumed)
                    continue
                except asyncio.IncompleteReadError:
                    return  # the process closed its end
                now = time.monotonic()
                if now - window >= 1.0:
                    window, count = now, 0
                count += 1
                if count > MAX_RATE:
                    self._drop(row, f"more than {MAX_RATE} reports a second")
                    continue
                try:
                    report = parse_report(line.strip())
                except ValueError as e:
                    self._drop(row, str(e))
                    continue
                row.report = report  # each report is the whole state
                row.received = now
                self._changed(key)
        finally:
            writer.close()


async def _skip_line(reader: asyncio.StreamReader, consumed: int) -> None:
    """Throw away the rest of an oversized line (up to and with its newline)."""
    with contextlib.suppress(asyncio.IncompleteReadError):
        await reader.readexactly(consumed)
        while True:
            try:
                await reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as e:
                await reader.readexactly(e.consumed)
