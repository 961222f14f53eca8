"""anet-tui serve, step 2: each session runs under resource limits, so a runaway allocation is a
MemoryError in that student's REPL and nobody else notices."""

from __future__ import annotations

from pathlib import Path

from servekit import Server, Terminal, run


def test_a_runaway_allocation_is_a_memory_error_there_only(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--memory", "1G")

    async def go() -> tuple[str, str, str]:
        async with (
            await srv.connect("student1") as one,
            await srv.connect("student2") as two,
        ):
            a = await Terminal.open(one, "plain")
            b = await Terminal.open(two, "plain")
            await a.wait_for(lambda s: ">>>" in s)
            await b.wait_for(lambda s: ">>>" in s)
            # 1.6 GB: allowed on this machine without the limit, over the 1G one.
            a.type("import numpy as np; big = np.ones(2 * 10**8)\r")
            b.type("sum(range(10))\r")
            answered = await b.wait_for(lambda s: "\n45" in s)
            hit = await a.wait_for(lambda s: "MemoryError" in s)
            a.type("huge = np.ones(10**11)\r")
            await a.wait_for(lambda s: s.count("MemoryError") >= 2)
            a.type("6 * 7\r")
            after = await a.wait_for(lambda s: "\n42" in s)
            return answered, hit, after

    try:
        answered, hit, after = run(go())
    finally:
        srv.stop()
    assert "45" in answered
    assert "Unable to allocate" in hit  # numpy's MemoryError message
    assert "42" in after  # the REPL goes on


def test_the_limits_are_set_in_the_session(server: Server) -> None:
    async def go() -> str:
        async with await server.connect("student1") as conn:
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type(
                "import resource as r, os; [r.getrlimit(getattr(r, 'RLIMIT_' + n))[0] >> 20 "
                "for n in ('AS', 'FSIZE', 'CORE')], os.nice(0)\r"
            )
            return await term.wait_for(lambda s: "([" in s)

    assert "([2048, 256, 0], 10)" in run(go())
