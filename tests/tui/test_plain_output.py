"""What the plain REPL prints for a command: the command's Unicode lines, then, after a command
that moved the walk, the session's tree (drawn by the REPL: no answer holds it); in ASCII on a
terminal that cannot show ``✗``, the same text as drawing in ASCII in the first place (issue #12:
the command layer makes no display choices)."""

from __future__ import annotations

import io
import json
import textwrap

from snippets import SWAP_GRAD

from anet.debug import BackwardSession, render
from anet.debug.views import to_ascii
from anet_tui.command_base import TreeAt
from anet_tui.commands import CommandResult, Commands
from anet_tui.plain import TREE_LINES, PlainRepl
from anet_tui.shell import Shell

BROKEN = SWAP_GRAD + textwrap.dedent(
    """\

    register("swapgrad", SwapGrad)
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    ones = Tensor.ones(2, 3, requires_grad=False)
    loss = x.swapgrad().mul(ones).sum()
    """
)


class Printed:
    """A plain REPL on :data:`BROKEN` whose output is read command by command."""

    def __init__(self, ascii: bool = False, source: str = BROKEN) -> None:
        self.commands = Commands(Shell())
        assert self.commands.execute(source).ok
        self.out = io.StringIO()
        self.repl = PlainRepl(self.commands.shell, self.commands, out=self.out, ascii=ascii)

    def __call__(self, line: str) -> tuple[CommandResult, str]:
        """Run ``line``: its result and what the REPL printed for it."""
        self.out.seek(0)
        self.out.truncate()
        result = self.repl.execute(line)
        assert isinstance(result, CommandResult), line
        return result, self.out.getvalue()

    @property
    def session(self) -> BackwardSession:
        assert self.commands.session is not None
        return self.commands.session


def test_the_tree_follows_the_commands_that_move_the_walk_and_no_others() -> None:
    printed = Printed()
    swap = None
    for line, moves in [
        ("%debug loss", True),
        ("%flags", False),
        ("%step", True),
        ("%step 0", False),  # an error: nothing moved
        ("%show", False),
        ("%break SwapGrad", False),
        ("%continue", True),  # stops at the breakpoint
        ("%check", False),
        ("%continue", True),  # the flag
        ("%check all", False),
        ("%tree", None),  # the tree is the answer
        ("%finish", True),
        ("%step", False),  # done: nothing to run
        ("%restart", True),
        ("%flags", False),
    ]:
        result, text = printed(line)
        assert not any(t.kind == "tree" for t in result.lines) or line == "%tree", line
        assert result.changed is bool(moves), line
        answer = "".join(t.text + "\n" for t in result.lines)
        tree = render.tree(printed.session, max_lines=TREE_LINES) + "\n"
        if moves:
            assert text == answer + tree, line
        elif moves is None:
            assert result.tree == TreeAt(None, 1000)
            assert text == answer == render.tree(printed.session, max_lines=1000) + "\n"
        else:
            assert text == answer, line
        swap = swap or next((r.id for r in printed.session.nodes if r.op == "SwapGrad"), None)
    result, text = printed(f"%tree #{swap}")
    assert result.tree == TreeAt(swap, 1000) and text.startswith(f"#{swap} SwapGrad (2, 3)")


def test_a_check_that_fails_on_the_way_shows_the_tree_as_a_moved_walk_does() -> None:
    exits = BROKEN.replace("return (grad_output * 2).T", "exit(3)")
    printed = Printed(source=exits)
    printed("%debug loss")
    swap = next(r.id for r in printed.session.nodes if r.op == "SwapGrad")
    result, text = printed(f"%check #{swap}")
    assert not result.ok and "exit() called" in result.text() and result.changed
    assert text.endswith(render.tree(printed.session, max_lines=TREE_LINES) + "\n")


def test_ascii_is_made_at_output_and_reads_as_drawing_in_ascii() -> None:
    printed = Printed(ascii=True)
    result, text = printed("%debug loss")
    swap = next(r.id for r in printed.session.nodes if r.op == "SwapGrad")
    tree = render.tree(printed.session, ascii=True, max_lines=TREE_LINES) + "\n"
    assert text == result.text() + "\n" + tree
    result, text = printed("%step 2")
    assert "✓ done" in result.text()  # the answer is Unicode; what is printed is not
    assert text.startswith("ran #") and " ok done\n" in text and text.isascii()
    s = printed.session

    result, text = printed("%continue")
    assert result.stop is not None and result.lines[0].text.startswith("✗ shape at #")
    tree = render.tree(s, ascii=True, max_lines=TREE_LINES) + "\n"
    assert text == render.stop_line(s, result.stop, ascii=True) + "\n" + tree
    assert "x shape at #" in text and " ok done " in tree  # columns line up after "ok done"

    _, text = printed("%tree")
    assert text == render.tree(s, ascii=True, max_lines=1000) + "\n"
    for node in (swap, s.root.id):
        _, text = printed(f"%show #{node}")
        assert text == render.detail(s, node, ascii=True, pictures=True) + "\n"
        _, text = printed(f"%show #{node} --json")
        assert text == render.node_json(s, node, ascii=True) + "\n"
        assert json.loads(text) == json.loads(render.node_json(s, node))
    result, text = printed("%flow")
    assert text.isascii() and text == to_ascii(result.text()) + "\n"
    assert "# mean |grad|, - on to max |grad|, log scale" in text
    result, text = printed("%flags")
    flag = s.flags[0]
    assert text.startswith(flag.line(ascii=True)) and flag.line() in result.text()
    result, text = printed(f"%check #{s.root.id}")
    assert result.text().startswith("✓ ") and text.startswith("ok ") and text.isascii()
    assert text == result.text().replace("✓", "ok", 1) + "\n"


def test_json_stays_json_when_made_inert_and_ascii() -> None:
    """A flag message with characters a terminal obeys (C1 controls, bidi overrides, DEL) and
    some it cannot show: ``%show --json`` escapes them as JSON does, so the text still parses
    to the node's view; in ASCII it is ``json.dumps(..., ensure_ascii=True)``'s text."""
    raising = BROKEN.replace(
        "return (grad_output * 2).T",
        'raise ValueError("odd" + chr(0x85) + chr(0x202E) + chr(0x7F) + "é✗😀")',
    )
    for ascii in (False, True):
        printed = Printed(ascii=ascii, source=raising)
        printed("%debug loss")
        printed("%continue")
        swap = next(r.id for r in printed.session.nodes if r.op == "SwapGrad")
        result, text = printed(f"%show #{swap} --json")
        assert [line.kind for line in result.lines] == ["json"]
        assert "\x85" not in text and "\u202e" not in text and "\x7f" not in text
        data = json.loads(text)
        assert data == json.loads(render.node_json(printed.session, swap))
        assert "odd\x85\u202e\x7fé✗😀" in data["flags"][0]["message"]
        if ascii:
            assert text == render.node_json(printed.session, swap, ascii=True) + "\n"
