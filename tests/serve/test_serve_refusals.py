"""anet-tui serve refuses what it does not serve, says so in one line, and logs it: a session
without a terminal (``ssh host < file``), agent forwarding, X11 forwarding."""

from __future__ import annotations

import contextlib

import asyncssh
import pytest
from servekit import Server, Terminal, run


@pytest.mark.parametrize("command", [None, "plain", "lesson 2", "follow"])
def test_without_a_terminal_one_line_says_to_use_ssh_t(server: Server, command) -> None:
    # What `ssh -p PORT student1@host < homework.py` does: no pty request, input from a file.
    async def go() -> asyncssh.SSHCompletedProcess:
        async with await server.connect("student1") as conn:
            process = await conn.create_process(command)
            with contextlib.suppress(BrokenPipeError):  # the refusal may come first
                process.stdin.write("print('ran')\n")
                process.stdin.write_eof()
            return await process.wait()

    done = run(go())
    assert done.exit_status == 2
    assert done.stdout == ""  # nothing ran
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ssh -t" in lines[0] and "no terminal" in lines[0]
    server.wait_log(r"refused: student1 from 127\.0\.0\.1 asked .* without a terminal")
    assert "started (pid" not in server.log


def test_agent_and_x11_forwarding_are_refused(server: Server, tmp_path) -> None:
    cookie = tmp_path / "Xauthority"
    cookie.write_bytes(b"")

    async def go() -> tuple[str, str]:
        agent = str(tmp_path / "agent.sock")  # the client's agent (never used: refused)
        async with await server.connect("student1", agent_forwarding=agent) as conn:
            with pytest.raises(asyncssh.ChannelOpenError, match="X11 forwarding"):
                await conn.create_process(
                    "plain",
                    term_type="xterm",
                    x11_forwarding=True,
                    x11_display="127.0.0.1:0",
                    x11_auth_path=str(cookie),
                )
            # Asked for the agent, the session still starts, without one.
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type("import os; print('agent', os.environ.get('SSH_AUTH_SOCK'))\r")
            return await term.wait_for(lambda s: "\nagent " in s), server.log

    screen, _ = run(go())
    assert "agent None" in screen
    server.wait_log(r"refused: student1 from 127\.0\.0\.1: X11 forwarding .*not permitted")
    server.wait_log(r"refused: student1 from 127\.0\.0\.1: Agent forwarding .*not permitted")
