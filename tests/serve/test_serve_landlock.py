"""anet-tui serve, step 3: with Landlock, a student process writes only its own folder and reads
only what Python and anet need: not another student's history, not the host key."""

from __future__ import annotations

import pytest
from servekit import Server, Terminal, run

from anet_tui.serve import landlock

pytestmark = pytest.mark.skipif(
    landlock.abi() < 1, reason="this kernel has no Landlock (or it is disabled)"
)


async def ask(term: Terminal, line: str, until: str) -> str:
    term.type(line + "\r")
    return await term.wait_for(lambda s: until in s)


def test_a_student_cannot_read_another_students_files_or_the_host_key(server: Server) -> None:
    assert "Landlock: on" in server.banner
    other = server.state / "students" / "student2"
    host_key = server.state / "host_key"

    async def go() -> str:
        async with await server.connect("student2") as two:
            b = await Terminal.open(two, "plain")
            await b.wait_for(lambda s: ">>>" in s)
            await ask(b, "secret = 'student2 was here'", ">>> secret")
        async with await server.connect("student1") as one:
            a = await Terminal.open(one, "plain")
            await a.wait_for(lambda s: ">>>" in s)
            await ask(a, "import os, socket, tempfile", ">>> import os")
            checks = [
                f"open({str(other / 'history')!r}).read()",
                f"open({str(host_key)!r}).read()",
                f"os.listdir({str(server.state / 'students')!r})",
                f"open({str(server.keys_dir / 'student2.pub')!r}).read()",
                "open('/tmp/escape', 'w')",
                f"open('/proc/{server.proc.pid}/environ').read()",
                f"os.kill({server.proc.pid}, 0)",
                f"socket.create_connection(('127.0.0.1', {server.port}), timeout=5)",
            ]
            for n, line in enumerate(checks, 1):
                code = f"try:\n    {line}\nexcept OSError as e:\n    print('denied {n}', e)"
                await ask(a, f"exec({code!r})", f"denied {n}")
            await ask(a, "open('mine.txt', 'w').write('ok'), os.getcwd()", "(2, ")
            return await ask(a, "tempfile.mkstemp()[1].startswith(os.getcwd())", "True")

    screen = run(go())
    assert "student2 was here" in (other / "history").read_text()  # the secret exists …
    assert "student2 was here" not in screen  # … and student1 never saw it
    assert (server.state / "students" / "student1" / "mine.txt").read_text() == "ok"
    assert not (server.dir / "escape").exists()


def test_without_landlock_the_banner_says_what_that_means(tmp_path) -> None:
    srv = Server(tmp_path, "--no-landlock")
    srv.stop()
    assert "Landlock: off" in srv.banner
    assert "students can read each other's files" in srv.banner
