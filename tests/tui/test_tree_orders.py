"""One placement, three drawings: render.tree's text, the Textual tree's rows (everything opened)
and the plain REPL's %tree place every node in the same order, at the same depth, with the same
back-references (issue #12)."""

from __future__ import annotations

import asyncio
import io
import re
import textwrap

import pytest
from textual.app import App, ComposeResult
from textual.widgets.tree import TreeNode

from anet.debug import Graph, NodeRecord, render
from anet_tui.commands import CommandResult, Commands
from anet_tui.plain import PlainRepl
from anet_tui.shell import RunResult, Shell
from anet_tui.widgets.graph_tree import GraphTree, Row

GRAPHS = {
    "diamond": """\
        x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
        a = x * 2.0
        loss = (a.exp() + a.tanh() + x * x).sum()
        """,
    "shared-weight rnn": """\
        w = Tensor(np.full((3, 3), 0.1, dtype=np.float32), requires_grad=True)
        h = Tensor(np.ones((2, 3), dtype=np.float32))
        for _ in range(6):
            h = (h @ w + h).tanh()
        loss = h.sum()
        """,
    "2,000-node chain": """\
        y = Tensor(np.ones(2), requires_grad=True)
        for _ in range(1999):
            y = y.tanh()
        loss = y.sum()
        """,
}

Order = list[tuple[int, int, bool]]  # (depth, id, back-reference) per row, top to bottom

_ROW = re.compile(r"^(?P<lead>[ │├└─]*)(?P<ref>↑ )?#(?P<id>\d+) ")


def text_order(text: str) -> Order:
    order = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m is None:  # "… (cut at N lines)"
            continue
        order.append((len(m["lead"]) // 3, int(m["id"]), m["ref"] is not None))
    return order


class TreeOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield GraphTree(id="graph")


def widget_order(graph: Graph) -> Order:
    """The rows the graph pane builds when every node is opened and every page of parents
    shown, in the order it draws them."""

    async def main() -> Order:
        app = TreeOnly()
        async with app.run_test():
            tree = app.query_one(GraphTree)
            tree.show_graph(graph)
            order: Order = []

            def visit(node: TreeNode[Row], depth: int) -> None:
                data = node.data
                assert data is not None
                if data.kind == "node":
                    tree._populate(node)
                    rec = graph.node(data.id)
                    assert isinstance(rec, NodeRecord)
                    tree._page(node, rec, len(rec.parents))
                if data.kind in ("node", "leaf", "ref"):
                    order.append((depth, data.id, data.kind == "ref"))
                stack.extend((c, depth + 1) for c in reversed(node.children))

            stack = [(c, 0) for c in reversed(tree.root.children)]
            while stack:  # iteratively: the chain is 2,000 rows deep
                visit(*stack.pop())
            return order

    return asyncio.run(main())


def repl_tree(source: str) -> tuple[Commands, str]:
    """The commands after ``%debug loss``, and what the plain REPL printed for ``%tree``."""
    c = Commands(Shell())
    ran = c.execute(textwrap.dedent(source))
    assert isinstance(ran, RunResult) and ran.ok, ran.error
    assert c.execute("%debug loss").ok
    out = io.StringIO()
    result = PlainRepl(c.shell, c, out=out).execute("%tree")
    assert isinstance(result, CommandResult) and result.ok, result.text()
    assert out.getvalue() == result.text() + "\n"  # the lines the app shows, drawn again
    return c, out.getvalue()


@pytest.mark.parametrize("name", list(GRAPHS))
def test_text_tree_textual_tree_and_repl_tree_place_nodes_alike(name: str) -> None:
    c, printed = repl_tree(GRAPHS[name])
    session = c.session
    assert session is not None
    text = text_order(render.tree(session, max_depth=None))
    rows = widget_order(session)
    assert text == rows
    assert len({i for _, i, ref in rows if not ref}) == len(session.nodes) + len(session.leaves)
    shown = text_order(printed)  # %tree stops at depth 64 and 1,000 lines: the same start
    assert shown == text[: len(shown)] and len(shown) >= min(len(text), 60)
    if name != "2,000-node chain":
        assert shown == text and any(ref for _, _, ref in text)  # shared nodes: back-references
