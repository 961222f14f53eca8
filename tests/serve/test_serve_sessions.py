"""anet-tui serve, step 1: keys let the right student in, each gets their own process on a pty
(app, plain, lesson N), sizes follow the client, and nothing is left when the connection drops."""

from __future__ import annotations

import asyncio
import re
import time

import asyncssh
import pytest
from servekit import WAIT, Server, Terminal, gone, run


def test_banner_and_host_key(server: Server) -> None:
    assert "2 students known" in server.banner
    assert re.search(r"host key SHA256:\S+", server.banner)
    key = server.state / "host_key"
    assert key.stat().st_mode & 0o777 == 0o600
    # The fingerprint printed is the one clients see.
    printed = re.search(r"host key (SHA256:\S+)", server.banner).group(1)
    assert asyncssh.read_private_key(key).get_fingerprint() == printed


def test_a_known_key_gets_the_apps_first_screen(server: Server) -> None:
    async def go() -> str:
        async with await server.connect("student1") as conn:
            term = await Terminal.open(conn)
            return await term.wait_for(lambda s: "F1 help" in s and ">>>" in s)

    screen = run(go())
    assert "anet-tui" in screen
    assert (server.state / "students" / "student1").is_dir()
    server.wait_log(r"student1 from 127\.0\.0\.1: anet-tui started \(pid \d+, xterm-256color")


def test_plain_and_lesson_2(server: Server) -> None:
    async def go() -> tuple[str, str]:
        async with await server.connect("student1") as conn:
            plain = await Terminal.open(conn, "plain")
            await plain.wait_for(lambda s: ">>>" in s)
            plain.type("6 * 7\r")
            first = await plain.wait_for(lambda s: "\n42" in s)
            lesson = await Terminal.open(conn, "lesson 2")
            second = await lesson.wait_for(lambda s: "F9 next cell" in s and ">>>" in s)
            return first, second + lesson.raw.decode(errors="replace")

    plain, lesson = run(go())
    assert "anet-tui plain REPL" in plain
    assert "F9 next cell" in lesson  # a lesson is open
    assert "Lesson 2" in lesson  # this one (its title went by in the transcript)


def test_two_students_have_separate_namespaces(server: Server) -> None:
    async def go() -> str:
        async with await server.connect("student1") as one, await server.connect("student2") as two:
            a = await Terminal.open(one, "plain")
            b = await Terminal.open(two, "plain")
            await a.wait_for(lambda s: ">>>" in s)
            await b.wait_for(lambda s: ">>>" in s)
            a.type("x = 1\r")
            await a.wait_for(lambda s: ">>> x = 1\n>>>" in s)
            b.type("x\r")
            return await b.wait_for(lambda s: "NameError" in s)

    assert "name 'x' is not defined" in run(go())
    assert (server.state / "students" / "student1" / "history").read_text().count("x = 1") == 1
    assert "x = 1" not in (server.state / "students" / "student2" / "history").read_text()


def test_a_dropped_connection_leaves_no_process(server: Server) -> None:
    async def go() -> None:
        conn = await server.connect("student1")
        term = await Terminal.open(conn)
        await term.wait_for(lambda s: ">>>" in s)
        conn.abort()  # the network goes away: no goodbye from the client

    run(go())
    pgid = int(server.wait_log(r"student1 from .*\(pid (\d+),").group(1))
    deadline = time.monotonic() + WAIT
    while not gone(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pgid), f"process group {pgid} still has processes"
    server.wait_log(r"student1: connection closed; hanging up")


def test_a_window_change_resizes_the_students_terminal(server: Server) -> None:
    async def go() -> tuple[str, str]:
        async with await server.connect("student1") as conn:
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type("import os; os.get_terminal_size()\r")
            before = await term.wait_for(lambda s: "columns=" in s)
            term.process.change_terminal_size(100, 30)
            term.screen.resize(30, 100)
            term.type("os.get_terminal_size()\r")
            after = await term.wait_for(lambda s: "columns=100" in s)
            return before, after

    before, after = run(go())
    assert "columns=80, lines=24" in before
    assert "columns=100, lines=30" in after


@pytest.mark.parametrize("user", ["student2", "nobody", "../student1"])
def test_a_key_opens_only_its_own_name(server: Server, user: str) -> None:
    async def go() -> None:
        await server.connect(user, server.keys["student1"])

    with pytest.raises(asyncssh.PermissionDenied):
        run(go())
    server.wait_log(rf"refused: login as '{re.escape(user)}' from 127\.0\.0\.1: student1's key")


def test_an_unknown_key_and_a_password_are_refused(server: Server) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")

    async def go(**kwargs) -> None:
        await server.connect("student1", **kwargs)

    with pytest.raises(asyncssh.PermissionDenied):
        run(go(key=stranger))
    server.wait_log(r"refused: login as 'student1' from 127\.0\.0\.1: unknown key SHA256:")
    with pytest.raises(asyncssh.PermissionDenied):
        run(go(password="hunter2"))
    server.wait_log(r"refused: login as 'student1' from 127\.0\.0\.1: no key offered")


def test_exec_forwarding_and_sftp_are_refused(server: Server) -> None:
    async def go() -> tuple:
        async with await server.connect("student1", agent_forwarding=True) as conn:
            done = await conn.run("cat /etc/passwd", term_type="xterm")
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", server.port)
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 1)
            with pytest.raises(asyncssh.Error):
                await conn.start_sftp_client()
            return done.exit_status, done.stdout, done.stderr

    status, out, err = run(go())
    assert status == 2 and out == ""
    assert "not a command here" in err
    server.wait_log(r"refused: student1 from 127\.0\.0\.1 ran 'cat /etc/passwd'")
    server.wait_log(r"refused: student1 from 127\.0\.0\.1 asked to forward to 127\.0\.0\.1:")
    server.wait_log(r"refused: student1 from 127\.0\.0\.1 asked to listen on 127\.0\.0\.1:0")
    server.wait_log(r"refused: student1 from 127\.0\.0\.1 asked for subsystem 'sftp'")
    assert "pid" not in server.log  # no process was started for any of them


def test_failed_logins_are_rate_limited(tmp_path) -> None:
    srv = Server(tmp_path)
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    try:
        for _ in range(5):
            with pytest.raises(asyncssh.PermissionDenied):
                run(srv.connect("student1", stranger))
        srv.wait_log(r"127\.0\.0\.1: 5 failed logins within 60 s: blocked for 60 s")
        # Now even the right key waits out the block.
        with pytest.raises((asyncssh.Error, OSError)):
            run(srv.connect("student1"))
        srv.wait_log(r"refused: 127\.0\.0\.1 is blocked after failed logins")
    finally:
        srv.stop()


def test_commands_parse() -> None:
    from anet_tui.serve.server import parse_command

    assert parse_command("") == []
    assert parse_command("app") == []
    assert parse_command("plain") == ["--plain"]
    assert parse_command("lesson 2") == ["--lesson", "2"]
    assert parse_command("plain  lesson 3") == ["--plain", "--lesson", "3"]
    for bad in (
        "lesson",
        "lesson 0",
        "lesson ../x",
        "plain app",
        "bash",
        "lesson 2; ls",
        "--plain",
        "lesson 2 x",
        "plain plain",
    ):
        assert parse_command(bad) is None, bad


def test_forked_sessions_draw_different_random_numbers(server: Server) -> None:
    # Sessions are forked from one preloaded process: numpy's generator is reseeded in each.
    async def draw(user: str) -> str:
        async with await server.connect(user) as conn:
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type("print('draw', np.random.randint(10**9))\r")
            screen = await term.wait_for(lambda s: "\ndraw " in s)
            return re.search(r"\ndraw (\d+)", screen).group(1)

    async def go() -> list[str]:
        return list(await asyncio.gather(draw("student1"), draw("student2")))

    one, two = run(go())
    assert one != two


def test_without_preload_each_session_is_a_fresh_python(tmp_path) -> None:
    srv = Server(tmp_path, "--no-preload")

    async def go() -> str:
        async with await srv.connect("student1") as conn:
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type("import sys; sys.argv\r")
            return await term.wait_for(lambda s: "anet_tui" in s or "anet-tui'" in s)

    try:
        screen = run(go())
        pgid = int(srv.wait_log(r"student1 from .*\(pid (\d+),").group(1))
        deadline = time.monotonic() + WAIT
        while not gone(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone(pgid)
    finally:
        srv.stop()
    assert "anet_tui/serve/student.py" in screen.replace("\n", "")  # run by path: exec'd
