"""anet-tui serve's table (dashboard mode): Enter on a row shows that student's screen read-only,
and the log the table can only show the end of is also written to a file."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
import pyte
import pytest
from servekit import ROOT, WAIT, Server, Terminal, run

from anet_tui.serve.dashboard import Dashboard
from anet_tui.serve.mirror import WatchScreen
from anet_tui.serve.reports import Board


class FakeProcess:
    def __init__(self) -> None:
        self.typed: list[bytes] = []
        self.sizes: list[tuple[int, int]] = []

    def write(self, data: bytes) -> None:
        self.typed.append(data)

    def resize(self, cols: int, rows: int) -> None:
        self.sizes.append((cols, rows))


class FakeSession:
    """What the table needs of a student's session: name, size, watchers, its process."""

    def __init__(self, name: str, size: tuple[int, int]) -> None:
        self.name, self.size = name, size
        self.watchers: set = set()
        self.process = FakeProcess()

    def draw(self, data: bytes) -> None:  # as StudentSession._output hands out what is drawn
        for watcher in list(self.watchers):
            watcher.send(data)


def test_enter_on_a_row_shows_that_students_screen_read_only() -> None:
    board = Board()
    student = FakeSession("student2", (60, 12))

    async def go() -> dict[str, str]:
        _, one = board.open("student1", "app")
        key, two = board.open("student2", "plain")
        app = Dashboard(board, "anet-tui serve", watchable={key: student}.get)
        seen: dict[str, str] = {}
        async with app.run_test(size=(100, 30)) as pilot:
            app.refresh_rows()
            await pilot.pause()
            await pilot.press("down", "enter")  # the second row: student2
            await pilot.pause()
            assert isinstance(app.screen, WatchScreen)
            await asyncio.sleep(0.3)
            # Made to redraw everything: one row shorter for a moment, then as it was.
            assert student.process.sizes == [(60, 11), (60, 12)]
            student.draw(b"\x1b[2J\x1b[H\x1b[1;31mred alert\x1b[0m\r\n>>> x = 4")
            await pilot.pause(0.3)
            seen["joined"] = _text(app)
            await pilot.press("i", "m", "p", "o", "r", "t", "enter", "ctrl+c", "f10")
            student.draw(b"2\r\n>>> ")
            await pilot.pause(0.3)
            seen["live"] = _text(app)
            style = app.screen.query_one("#watch-view").render().spans[0].style
            seen["style"] = str(style)
            await pilot.press("escape")
            await pilot.pause()
            seen["back"] = type(app.screen).__name__
            seen["watchers"] = str(len(student.watchers))
            # Enter on a row whose session is gone: a note, no screen.
            await pilot.press("up", "enter")
            await pilot.pause()
            seen["gone"] = type(app.screen).__name__
            one.close()
            two.close()
        return seen

    seen = asyncio.run(go())
    assert "watching student2 60×12 · read-only · Esc returns" in seen["joined"]
    assert "red alert" in seen["joined"] and ">>> x = 4" in seen["joined"]
    assert ">>> x = 42" in seen["live"]  # live updates
    assert "bold" in seen["style"] and "red" in seen["style"]  # in the student's colours
    assert student.process.typed == []  # nothing the teacher typed reached the student
    assert "import" not in seen["live"]
    assert seen["back"] == "Screen" and seen["watchers"] == "0"  # Esc: back, and let go
    assert seen["gone"] == "Screen"


def _text(app) -> str:
    screen = app.screen
    title = str(screen.query_one("#watch-title").render())
    return title + "\n" + str(screen.query_one("#watch-view").render())


class DashboardServer(Server):
    """``anet-tui serve`` as a teacher starts it: in a terminal (120×30), the table showing."""

    def __init__(self, tmp_path: Path) -> None:  # Server's set-up, on a pty instead of pipes
        self.dir = tmp_path
        self.keys_dir = tmp_path / "keys"
        self.keys_dir.mkdir()
        self.state = tmp_path / "state"
        self.keys = {}
        self.keys_file = None
        for name in ("student1", "student2"):
            self.add_key(name)
        self.screen = pyte.Screen(120, 30)
        self.stream = pyte.ByteStream(self.screen)
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        import termios

        termios.tcsetwinsize(slave, (30, 120))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "anet_tui.cli", "serve", "--port", "0", "--keys",
             str(self.keys_dir), "--state", str(self.state), "--grace", "1"],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"},
        )  # fmt: skip
        os.close(slave)
        match = re.search(r" on 127\.0\.0\.1:(\d+) ", self.wait_screen(r" on 127\.0\.0\.1:\d+ "))
        self.port = int(match.group(1))
        self.log_path = self.state / "serve.log"

    def pump(self) -> str:
        try:
            while data := os.read(self.master, 1 << 16):
                self.stream.feed(data)
        except (BlockingIOError, OSError):
            pass
        return "\n".join(self.screen.display)

    def wait_screen(self, pattern: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, text := self.pump()):
                return text
            time.sleep(0.1)
        raise AssertionError(f"the table never showed {pattern!r}:\n{self.pump()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.write(self.master, b"\x11")  # Ctrl+Q: the teacher ends the class
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def test_the_table_writes_its_log_to_a_file_and_enter_watches_a_real_student(
    tmp_path: Path,
) -> None:
    srv = DashboardServer(tmp_path)
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    try:
        screen = srv.wait_screen(r"log: \S*serve\.log")
        assert str(srv.state / "serve.log") in screen.replace("\n", "")

        async def go() -> tuple[str, str]:
            with pytest.raises(asyncssh.PermissionDenied):
                await srv.connect("student1", stranger)
            async with await srv.connect("student2") as conn:
                term = await Terminal.open(conn, "plain")
                await term.wait_for(lambda s: ">>>" in s)
                await asyncio.to_thread(srv.wait_screen, r"student2 .*plain")
                os.write(srv.master, b"\r")  # Enter on the row
                await asyncio.to_thread(srv.wait_screen, r"watching student2 80×24 · read-only")
                term.type("6 * 7\r")
                await term.wait_for(lambda s: "\n42" in s)
                watched = await asyncio.to_thread(srv.wait_screen, r"\n42 *\n>>>")
                os.write(srv.master, b"\x1b")  # Esc: back to the table
                back = await asyncio.to_thread(srv.wait_screen, r"last activity")
                return watched, back

        watched, back = run(go())
        assert ">>> 6 * 7" in watched and "watching student2" not in back
        srv.wait_log(r"refused: login as 'student1' from 127\.0\.0\.1: unknown key SHA256:")
        srv.wait_log(r"student2 from 127\.0\.0\.1: anet-tui --plain started \(pid \d+")
        srv.wait_log(r"the teacher watches student2 from the table \(read-only\)")
        assert (srv.state / "serve.log").stat().st_mode & 0o777 == 0o600
    finally:
        srv.stop()
    assert srv.proc.returncode == 0
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d refused: login as 'student1'", srv.log)
