"""anet-tui serve, step 6: the teacher watches a student read-only (full frame on joining, then
live typing; the watcher's keys never arrive) and students follow the teacher."""

from __future__ import annotations

from pathlib import Path

from servekit import Server, Terminal, run


def _with_teacher(tmp_path: Path) -> Server:
    folder = tmp_path / "teacher-key"
    folder.mkdir()
    probe = Server.__new__(Server)
    probe.keys = {}
    key = Server.add_key(probe, "teacher", folder)
    srv = Server(tmp_path, "--teacher", str(folder / "teacher.pub"))
    srv.keys["teacher"] = key
    return srv


def test_the_teacher_watches_a_student_read_only(tmp_path: Path) -> None:
    srv = _with_teacher(tmp_path)

    async def go() -> tuple[str, str, str]:
        async with await srv.connect("student1") as one, await srv.connect("teacher") as t:
            student = await Terminal.open(one)  # the full-screen app
            await student.wait_for(lambda s: ">>>" in s and "F1 help" in s)
            student.type("answer = 41\r")
            await student.wait_for(lambda s: ">>> answer = 41" in s)
            watcher = await Terminal.open(t, "watch student1")
            joined = await watcher.wait_for(lambda s: ">>> answer = 41" in s and "F1 help" in s)
            student.type("answer + 1\r")
            live = await watcher.wait_for(lambda s: "42" in s)
            watcher.type("import os; os._exit(3)\r")  # must not reach the student
            student.type("'still here'\r")
            mine = await student.wait_for(lambda s: "│'still here'" in s)
            watcher.type("q")
            await watcher.wait_for(lambda s: "stopped watching" in s)
            return joined, live, mine

    try:
        joined, live, mine = run(go())
    finally:
        srv.stop()
    assert "anet-tui" in joined and "F1 help" in joined  # the whole frame at once
    assert "os._exit" not in mine and "os._exit" not in live
    srv.wait_log(r"teacher from 127\.0\.0\.1 watches student1 \(read-only\)")


def test_students_follow_the_teacher_and_cannot_watch(tmp_path: Path) -> None:
    srv = _with_teacher(tmp_path)

    async def go() -> tuple[str, int, str]:
        async with await srv.connect("teacher") as t, await srv.connect("student2") as two:
            refused = await two.run("watch student1", term_type="xterm")
            nobody = await two.run("follow", term_type="xterm")
            teacher = await Terminal.open(t, "plain")
            await teacher.wait_for(lambda s: ">>>" in s)
            follower = await Terminal.open(two, "follow")
            await follower.wait_for(lambda s: "watching teacher" in s)
            teacher.type("print('hello class')\r")
            seen = await follower.wait_for(lambda s: "hello class" in s.split("watching")[-1])
            return refused.stderr, nobody.exit_status, seen

    try:
        refused, status, seen = run(go())
    finally:
        srv.stop()
    assert "not a command here" in refused
    assert status == 2  # the teacher had no session yet
    assert "hello class" in seen
