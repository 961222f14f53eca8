"""anet-tui serve starts a class's apps a few at a time (--starting N, default twice the CPUs):
thirty at once on two cores each cost twice the CPU they cost alone. A student who types before
their app has started loses nothing."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

from servekit import Server, Terminal, run

NAMES = ("s1", "s2", "s3", "s4")


def test_sessions_start_one_at_a_time_and_keys_typed_meanwhile_arrive(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--starting", "1", students=NAMES)

    async def student(name: str) -> tuple[int, str]:
        async with await srv.connect(name) as conn:
            term = await Terminal.open(conn, "plain")
            term.type("6 * 7\r")  # at once: the app may not have started yet
            screen = await term.wait_for(lambda s: "\n42" in s)
            term.type(
                "print('started', open('/proc/self/stat').read().rsplit(')')[1].split()[19])\r"
            )
            screen = await term.wait_for(lambda s: "\nstarted " in s)
            return int(screen.split("\nstarted ")[1].split()[0]), screen

    async def go() -> list[tuple[int, str]]:
        return list(await asyncio.gather(*(student(name) for name in NAMES)))

    try:
        results = run(go())
    finally:
        srv.stop()
    starts = sorted(start for start, _ in results)  # clock ticks since boot
    tick = 1 / os.sysconf("SC_CLK_TCK")
    gaps = [(b - a) * tick for a, b in itertools.pairwise(starts)]
    # Each started once the one before had drawn its prompt and gone quiet (0.1 s): all at
    # once, they would start within a few milliseconds of each other.
    assert min(gaps) >= 0.09, gaps
    assert all(">>> 6 * 7\n42" in screen for _, screen in results)
