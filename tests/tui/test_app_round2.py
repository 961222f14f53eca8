"""Issue #11, round 2, in the app through Pilot at 80×24: a node with 20,000 parents."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_app import drive, enter, press, screen_text
from test_app_reliability import plain
from textual.pilot import Pilot

import anet.debug.records
from anet import Function, Tensor
from anet.debug import render
from anet.debug.session import BackwardSession
from anet.debug.summary import Summary

# Before the fix, every grad row rebuilt the node's whole list of grads: O(P²), minutes at 20,000
# parents, with the UI thread busy (Ctrl+C could not be handled). A hang guard, not a speed test:
pytestmark = pytest.mark.timeout(300)

P = 20_000
WIDE = textwrap.dedent(
    f"""\
    class Many(Function):
        bad = False
        @staticmethod
        def forward(ctx, *xs):
            return np.sum(xs, axis=0)
        @staticmethod
        def backward(ctx, g):
            return tuple(g[:1] if Many.bad else g for _ in ctx.parents)
    register("many", Many)
    xs = [Tensor(np.ones(2)) for _ in range({P})]
    wide = xs[0].many(*xs[1:])
    loss = wide.sum()
    """
)


class CountingSummary(Summary):
    """Summaries the records make, counted: the views must make O(parents) of them, not O(P²)."""

    made = 0

    def __init__(self, value: object) -> None:
        CountingSummary.made += 1
        if CountingSummary.made > 10 * P:
            raise AssertionError("quadratic: more than 10 summaries per parent")
        super().__init__(value)


def test_a_node_with_20000_parents_finishes_pages_and_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anet.debug.records, "Summary", CountingSummary)
    CountingSummary.made = 0
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        tree = app.graph_view
        await enter(pilot, WIDE)
        await enter(pilot, "%debug loss")
        await press(pilot, "f6")
        seen["finished"] = screen_text(app)
        seen["rows"] = tree.last_line
        seen["labels"] = [str(tree.get_node_at_line(i).label) for i in range(tree.last_line + 1)]
        ns = app.shell.namespace
        # Enter on "… more parents": the next 100, the cursor on the first of them.
        more = next(
            tree.get_node_at_line(i)
            for i in range(tree.last_line + 1)
            if "more parents" in str(tree.get_node_at_line(i).label)
        )
        tree.focus()
        tree.move_cursor(more)
        await press(pilot, "enter")
        labels = [str(tree.get_node_at_line(i).label) for i in range(tree.last_line + 1)]
        seen["paged"] = (tree.selected_id == ns["xs"][100].id, labels, tree.last_line)
        app.show_detail(ns["wide"].id)
        seen["detail"] = plain(app.detail.body.content)
        # A parent far down the list: the tree pages down to it.
        assert tree.reveal(ns["xs"][5000].id)
        seen["revealed"] = tree.selected_id == ns["xs"][5000].id
        seen["rows after reveal"] = tree.last_line
        # Every parent's grad the wrong shape: 20,000 flags, then back and again.
        await enter(pilot, "Many.bad = True")
        await press(pilot, "f7")
        await press(pilot, "f6")
        seen["flagged"] = screen_text(app)
        app.show_detail(ns["wide"].id)
        seen["flagged detail"] = plain(app.detail.body.content)
        await enter(pilot, "%show wide")
        seen["show"] = app.transcript.text
        await enter(pilot, "7*8")

    ran = drive(script, tmp_path)
    assert "done: 2 nodes, 0 flags" in str(seen["finished"])
    # The tree shows a page of the parents, and a row that shows the next page.
    assert "… 19,900 more parents (Enter: 100 more)" in seen["labels"]  # type: ignore[operator]
    assert int(seen["rows"]) < 300  # type: ignore[call-overload]
    paged, label, rows = seen["paged"]  # type: ignore[misc]
    assert paged and "… 19,800 more parents (Enter: 100 more)" in label
    assert rows == int(seen["rows"]) + 200  # type: ignore[call-overload]  (100 parents, 100 grads)
    detail = str(seen["detail"])
    assert "19,900 more parents" in detail and "19,900 more grads" in detail
    assert len(detail.splitlines()) < 300
    assert seen["revealed"] and int(seen["rows after reveal"]) < 2 * 5000 + 300  # type: ignore[call-overload]
    assert f"✗ {P} flags" in str(seen["flagged"])  # the status line
    assert "more lines not shown" in str(seen["show"])  # one line per flag, cut
    flagged = str(seen["flagged detail"])
    assert "more flags" in flagged and len(flagged.splitlines()) < 400
    assert len(str(seen["show"]).splitlines()) < 2000
    assert ran.transcript.rstrip().endswith("56")
    assert CountingSummary.made <= 10 * P


def test_the_text_views_of_a_20000_parent_node_are_capped() -> None:
    class Wide(Function):
        @staticmethod
        def forward(ctx, *xs):
            return np.sum(xs, axis=0)

        @staticmethod
        def backward(ctx, g):
            return tuple(g for _ in ctx.parents)

    xs = [Tensor(np.ones(2)) for _ in range(P)]
    wide = Wide.apply(xs[0], Wide, *xs[1:])
    session = BackwardSession(wide.sum())
    session.finish()
    text = render.detail(session, wide.id)
    assert "19,900 more parents" in text and "19,900 more grads" in text
    assert len(text.splitlines()) < 300
    assert len(render.tree(session, max_lines=1000).splitlines()) <= 1001
