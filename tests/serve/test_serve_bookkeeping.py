"""anet-tui serve runs for weeks: what it remembers of failed logins and of sessions that ended
stays bounded (the rate-limit tables expire and are capped; ended sessions leave the table)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from anet_tui.serve import reports
from anet_tui.serve.dashboard import Dashboard
from anet_tui.serve.keys import KeyBook
from anet_tui.serve.reports import Board
from anet_tui.serve.server import MAX_ADDRESSES, Config, Gate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _gate(tmp_path: Path, clock: Clock) -> Gate:
    return Gate(Config(keys=KeyBook(None), state=tmp_path), clock=clock)


def test_failed_logins_from_many_addresses_are_capped_and_expire(tmp_path: Path) -> None:
    clock = Clock()
    gate = _gate(tmp_path, clock)
    for n in range(MAX_ADDRESSES + 5000):  # a scan from a whole network, one try each
        gate.failed(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}")
        clock.now += 0.001
    assert len(gate.failures) <= MAX_ADDRESSES
    assert "10.0.0.0" not in gate.failures  # the oldest were forgotten first …
    assert f"10.0.{(MAX_ADDRESSES + 4999) >> 8 & 255}.{(MAX_ADDRESSES + 4999) & 255}" in (
        gate.failures
    )  # … not the newest
    clock.now += 61  # past the window: one more knock and the old ones are gone
    gate.failed("192.0.2.1")
    assert list(gate.failures) == ["192.0.2.1"]


def test_a_block_ends_and_is_forgotten_even_if_the_address_never_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    gate = _gate(tmp_path, clock)
    for _ in range(5):
        gate.failed("192.0.2.7")
    assert gate.blocked("192.0.2.7") and gate.blocked("192.0.2.7")
    assert "192.0.2.7" not in gate.failures
    clock.now += 61
    with caplog.at_level(logging.INFO, logger="anet_tui.serve"):
        assert not gate.blocked("198.51.100.1")  # somebody else: the old block is pruned
    assert gate.blocked_until == {} and gate.shut_out == {}
    assert "192.0.2.7: block over (2 connections refused)" in caplog.text


def test_ended_sessions_leave_the_table_after_a_while_and_beyond_a_number() -> None:
    clock = Clock()

    async def go() -> tuple[list[str], list[str], list[str]]:
        board = Board(clock=clock)
        live = [board.open("keeper", "app")[0]]
        for n in range(3 * reports.MAX_ENDED):  # students who came and went
            key, sock = board.open(f"s{n}", "plain")
            sock.close()
            board.close(key)
            clock.now += 1
        live.append(board.open("late", "app")[0])
        names = [row.name for row in board.rows.values()]
        clock.now += reports.ENDED_FOR + 1
        board.prune()
        after = [row.name for row in board.rows.values()]

        # The teacher's table follows the board.
        app = Dashboard(board)
        async with app.run_test(size=(120, 30)) as pilot:
            for _ in range(3):
                board.open("s-new", "app")
            clock.now += 1
            app.refresh_rows()
            await pilot.pause()
            table = app.query_one("DataTable")
            shown = [table.get_row_at(i)[0] for i in range(table.row_count)]
        for key in list(board.rows):
            board.close(key)
        return names, after, shown

    names, after, shown = asyncio.run(go())
    assert len(names) == reports.MAX_ENDED + 2
    assert names[0] == "keeper" and names[-1] == "late"  # live sessions are never dropped
    assert names[1] == f"s{2 * reports.MAX_ENDED}"  # the newest that ended are kept
    assert after == ["keeper", "late"]
    assert shown == ["keeper", "late", "s-new", "s-new", "s-new"]
