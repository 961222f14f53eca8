"""Every view (NodeView, Placed rows, Mark) is plain values: it round-trips through JSON into an
equal view, for every node of every demo and lesson session, at every step of the walk."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest
from test_lessons import run_lesson

from anet.debug import render
from anet.debug.records import Graph
from anet.debug.views import Mark, NodeView, Placed, node_view, placement
from anet_tui import demos, lessons
from anet_tui.commands import Commands
from anet_tui.shell import Shell

PLAIN = (str, int, float, bool, type(None))


def plain(value: Any) -> None:
    """Only Python's own scalars, tuples, lists and dicts: no arrays, no numpy scalars."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str
            plain(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            plain(v)
    else:
        assert type(value) in PLAIN or isinstance(value, str), type(value)  # StrEnum: a str


def again(data: Any) -> Any:
    return json.loads(json.dumps(data))


def check_graph(graph: Graph) -> int:
    """Round-trip every view of ``graph``; the number of nodes and leaves looked at."""
    for row in placement(graph):
        assert Placed(**again(asdict(row))) == row
    records = [*graph.nodes, *graph.leaves]
    for rec in records:
        mark = Mark.of(rec)
        assert Mark.from_dict(again(asdict(mark))) == mark
        view = node_view(graph, rec.id)
        data = view.to_dict()
        plain(data)
        assert NodeView.from_dict(again(data)) == view, rec.label
        assert NodeView.from_dict(json.loads(render.node_json(graph, rec.id))) == view
    return len(records)


@pytest.mark.parametrize("name", demos.names())
def test_views_of_every_demo_node_round_trip_at_every_step(name: str) -> None:
    c = Commands(Shell())
    assert all(o.ok for o in c.startup(demo=name))
    assert c.execute("%debug loss").ok
    session = c.session
    seen = check_graph(session)
    while not session.done:
        c.execute("%step")
        seen += check_graph(session)
    assert seen > len(session)
    shown = c.execute(f"%show #{session.root.id} --json")
    assert NodeView.from_dict(json.loads(shown.text())) == node_view(session, session.root.id)


@pytest.mark.parametrize("name", [str(info.number) for info in lessons.shipped()])
def test_views_of_every_lesson_session_round_trip(name: str) -> None:
    seen: list[int] = []

    def after(commands: Commands, cell: lessons.LessonCell) -> None:
        if commands.session is not None:
            seen.append(check_graph(commands.session))

    run_lesson(name, after)
    assert seen, f"lesson {name} opened no session"
