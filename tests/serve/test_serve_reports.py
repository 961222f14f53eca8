"""anet-tui serve, step 5: student processes report their state as JSON lines over their own
socket; the teacher's table (Textual) shows them; a bad report is dropped and logged."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from servekit import Server, Terminal, run

from anet_tui.serve.dashboard import Dashboard, QueueHandler
from anet_tui.serve.reports import MAX_REPORT, Board, parse_report


def test_parse_report_checks_everything() -> None:
    good = {
        "front": "app",
        "lesson": "Lesson 2: The\x1b[31m backward walk",
        "cell": [3, 12],
        "session": {"root": "#7 Sum", "step": [2, 5], "flags": 1, "kinds": ["shape"]},
        "idle": 12,
        "memory": 50 << 20,
        "running": False,
    }
    report = parse_report(json.dumps(good).encode())
    assert report["lesson"] == "Lesson 2: The [31m backward walk"  # no escape reaches the table
    assert report["session"]["step"] == (2, 5)
    for bad in (
        b"not json",
        b"[1, 2]",
        b'{"pickle": "cos\\nsystem"}',
        b'{"front": "bash"}',
        b'{"cell": [1]}',
        b'{"memory": -1}',
        b'{"memory": true}',
        b'{"session": {"root": "x", "step": [1, 2], "flags": 0, "code": "rm"}}',
        b'{"running": "yes"}',
        b"[" * 100_000,
        json.dumps({"lesson": "x" * MAX_REPORT}).encode(),
    ):
        with pytest.raises(ValueError):
            parse_report(bad)


def test_the_dashboard_lists_two_students_and_drops_a_bad_report() -> None:
    board = Board()
    handler = QueueHandler()
    serve_log = logging.getLogger("anet_tui.serve")
    serve_log.addHandler(handler)
    serve_log.setLevel(logging.INFO)

    async def go() -> tuple[list, list[str]]:
        app = Dashboard(board, "anet-tui serve on 127.0.0.1:0", handler=handler)
        async with app.run_test(size=(120, 30)) as pilot:
            _, one = board.open("student1", "lesson 2")
            _, two = board.open("student2", "plain")
            session = {"root": "#9 Sum", "step": [2, 4], "flags": 1, "kinds": ["shape"]}
            one.sendall(
                json.dumps(
                    {
                        "front": "app",
                        "lesson": "Lesson 2",
                        "cell": [3, 9],
                        "session": session,
                        "idle": 0,
                        "memory": 60 << 20,
                    }
                ).encode()
                + b"\n"
            )
            two.sendall(b'{"front": "plain", "idle": 125, "memory": 52428800}\n')
            two.sendall(b"{not json\n")  # malformed
            two.sendall(b'{"lesson": "' + b"x" * (2 * MAX_REPORT) + b'"}\n')  # oversized
            two.sendall(b'{"front": "plain", "idle": 130, "memory": 52428800}\n')  # still heard
            for _ in range(50):
                await asyncio.sleep(0.1)
                app.refresh_rows()
                await pilot.pause()
                rows = [app.query_one("DataTable").get_row_at(i) for i in range(2)]
                if rows[1][5].startswith("2m10s") and "step 2/4" in rows[0][4]:
                    break
            one.close()
            two.close()
            log_lines = [str(line.text) for line in app.query_one("RichLog").lines]
            return rows, log_lines

    try:
        rows, log_lines = asyncio.run(go())
    finally:
        serve_log.removeHandler(handler)
    assert rows[0][:4] == ["student1", rows[0][1], "app", "Lesson 2 3/9"]
    assert rows[0][4] == "#9 Sum step 2/4 ✗1 shape"
    assert rows[0][6] == "60 MB"
    assert rows[1][0] == "student2" and rows[1][2] == "plain"
    assert rows[1][5].startswith("2m10s")  # the good report after the bad ones was read
    assert any("dropped a report from student2: not JSON" in line for line in log_lines)


def test_a_real_session_reports_its_backward_session(server: Server) -> None:
    async def go() -> None:
        async with await server.connect("student1") as conn:
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type("x = Tensor([1.0, 2.0]); loss = (x * x).sum()\r")
            await term.wait_for(lambda s: ">>> x = Tensor" in s and s.rstrip().endswith(">>>"))
            term.type("%debug loss\r")
            await term.wait_for(lambda s: "session on #" in s)
            server.wait_log(r"class: student1 · \d\d:\d\d · plain · - · #\d+ \w+ step 0/\d")

    run(go())
