"""The % command language against real sessions on user-written (and broken) Functions."""

from __future__ import annotations

import os
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from snippets import SWAP_GRAD

from anet_tui.commands import Command, CommandResult, Commands, Line
from anet_tui.shell import RunResult, Shell

BROKEN = SWAP_GRAD + textwrap.dedent(
    """\

    register("swapgrad", SwapGrad)
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    ones = Tensor.ones(2, 3, requires_grad=False)
    loss = x.swapgrad().mul(ones).sum()
    """
)


def commands_with(source: str, **options: bool) -> Commands:
    c = Commands(Shell(), **options)
    result = c.execute(source)
    assert isinstance(result, RunResult) and result.ok, result.error
    return c


def run(c: Commands, line: str) -> CommandResult:
    result = c.execute(line)
    assert isinstance(result, CommandResult)
    return result


def swap_id(c: Commands) -> int:
    return next(r.id for r in c.session.nodes if r.op == "SwapGrad")


def test_debug_then_continue_flags_the_broken_function() -> None:
    c = commands_with(BROKEN)
    opened = run(c, "%debug loss")
    assert opened.ok and c.session is opened.session and c.root_name == "loss"
    assert "3 nodes, nothing run yet" in opened.text()
    assert c.session.position == (0, 3)
    stop = run(c, "%continue")
    assert stop.kind == "flag" and stop.changed and stop.stop.reason == "flag"
    first = stop.lines[0]
    sid = swap_id(c)
    assert first.kind == "flag"
    assert first.text.startswith(f"✗ shape at #{sid} SwapGrad: parent 0: returned (3, 2), ")
    assert "expected (2, 3)" in first.text and "(stopped, step 3/3)" in first.text
    assert stop.node.id == sid
    # The same words as the session's own flag, in %flags too.
    assert c.session.flags[0].line() in first.text
    flags = run(c, "%flags")
    assert flags.lines[0].kind == "flag" and c.session.flags[0].line() in flags.lines[0].text
    assert "<repl-1>:" in flags.lines[0].text  # where the op was applied (recording was on)


def test_step_moves_exactly_one_node_and_reports_position() -> None:
    c = commands_with(BROKEN)
    run(c, "%debug loss")
    r = run(c, "%step")
    assert c.session.position == (1, 3)
    assert r.lines[0].text.startswith("ran #") and "Sum" in r.lines[0].text
    assert r.lines[0].text.endswith("✓ done")
    assert r.lines[-1].text.startswith("step 1/3, next #")
    r = run(c, "%step 5")  # more than remain: stops at the end
    assert c.session.done and r.lines[-1].text == "done: step 3/3, 1 flag"
    assert any(line.kind == "flag" for line in r.lines)
    again = run(c, "%step")
    assert "the walk is done" in again.text() and "%restart" in again.text()


def test_restart_restores_grads_and_finish_ignores_breakpoints() -> None:
    c = commands_with(BROKEN)
    run(c, "%debug loss")
    run(c, "%finish")
    assert c.shell.namespace["ones"].grad is None  # a constant gets nothing
    assert c.shell.namespace["loss"].grad is not None
    r = run(c, "%restart")
    assert "back to step 0/3" in r.text() and c.session.position == (0, 3)
    assert c.shell.namespace["x"].grad is None
    assert run(c, "%break Mul").ok
    r = run(c, "%finish")
    assert c.session.done and r.lines[0].text == "done: 3 nodes, 1 flag"


def test_breakpoints_by_op_node_and_kind() -> None:
    c = commands_with(BROKEN)
    run(c, "%debug loss")
    assert run(c, "%break").text().startswith("no breakpoints")
    assert run(c, "%break swapgrad").text() == "breakpoint op SwapGrad: %continue stops before it"
    r = run(c, "%continue")
    assert r.stop.reason == "break" and r.node.op == "SwapGrad"
    assert "stopped before" in r.text() and c.session.current.op == "SwapGrad"
    assert run(c, "%break clear").text() == "cleared 1 breakpoint"
    run(c, "%restart")
    mul = next(r.id for r in c.session.nodes if r.op == "Mul")
    assert run(c, f"%break #{mul}").ok
    assert run(c, "%break shape").ok
    listed = run(c, "%break").text().splitlines()
    assert listed == [f"breakpoint #{mul}", "breakpoint flag shape"]
    assert run(c, "%continue").node.id == mul
    assert run(c, f"%break clear #{mul}").text() == "cleared 1 breakpoint"
    assert run(c, "%continue").stop.reason == "flag"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("%break Conv2d", "no Conv2d node"),
        ("%break #X", "is a leaf"),
        ("%break flag nosuchkind", "unknown flag kind"),
        ("%break a b c", "usage: %break"),
        ("%step two", "usage: %step"),
        ("%step 0", "at least 1"),
        ("%show #999", "no #999"),
        ("%check #X", "is a leaf"),
        ("%continue now", "takes nothing"),
    ],
)
def test_wrong_use_is_an_error_line(line: str, words: str) -> None:
    c = commands_with(BROKEN)
    run(c, "%debug loss")
    r = run(c, line.replace("#X", f"#{c.shell.namespace['x'].id}"))
    assert not r.ok and r.kind == "error" and words in r.text()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("%debug", "usage: %debug EXPR"),
        ("%debug undefined_name", "NameError: name 'undefined_name' is not defined"),
        ("%debug 3", "needs a Tensor; 3 is an int"),
        ("%debug x", "a leaf"),
        ("%debug x.swapgrad()", "only from a one-element output"),
        ("%debug x.sum().detach()", "a constant: it needs no grad"),
        ("%step", "no session is open"),
        ("%nonsense", "unknown command %nonsense"),
        ("%stpe", "did you mean %step?"),
    ],
)
def test_debug_and_session_errors(line: str, words: str) -> None:
    c = commands_with(BROKEN)
    r = run(c, line)
    assert r.kind == "error" and words in r.text(), r.text()
    assert "commands.py" not in r.text() and "shell.py" not in r.text()


def test_check_finds_a_wrong_valued_backward() -> None:
    c = commands_with(
        textwrap.dedent(
            """\
            class Cube(Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.save_for_backward(x)
                    return x ** 3

                @staticmethod
                def backward(ctx, grad_output):
                    x, = ctx.saved_tensors
                    return grad_output * 2 * x ** 2   # should be 3 * x ** 2

            register("cube", Cube)
            x = Tensor(np.array([1.0, 2.0, 3.0]))
            loss = x.cube().sum()
            """
        )
    )
    run(c, "%debug loss")
    cube = next(r.id for r in c.session.nodes if r.op == "Cube")
    r = run(c, f"%check #{cube}")
    assert r.kind == "flag" and r.lines[0].text.startswith(f"✗ vjp at #{cube} Cube: parent 0")
    r = run(c, "%check all")
    assert r.lines[-1].text == "checked 2 nodes: 1 disagrees"
    assert any(line.text.startswith("✓ #") and "Sum" in line.text for line in r.lines)


def test_show_and_tree_describe_the_node() -> None:
    c = commands_with(BROKEN)
    run(c, "%debug loss")
    run(c, "%continue")
    sid = swap_id(c)
    shown = run(c, f"%show #{sid}")
    text = shown.text()
    assert shown.node.id == sid
    assert "grad_output  (2, 3) float32" in text
    assert "(3, 2) float32  expected (2, 3) float32  ✗ shape" in text
    assert "return (grad_output * 2).T" in text  # the backward's source, from the REPL cell
    tree = run(c, "%tree")
    assert all(line.kind == "tree" for line in tree.lines)
    assert tree.lines[0].text.startswith(f"#{c.session.root.id} Sum ()")
    assert any("SwapGrad (2, 3)" in t.text and "✗ shape" in t.text for t in tree.lines)


def test_answers_are_unicode_and_hold_no_tree_a_front_end_did_not_ask_for() -> None:
    # The command layer makes no display choice: no ASCII, no tree after a walk moved (the plain
    # REPL draws one, tests/tui/test_plain_output.py); the answer says the walk moved.
    c = commands_with(BROKEN)
    for line in ("%debug loss", "%step", "%continue", "%flags"):
        result = run(c, line)
        assert result.ok and not any(t.kind == "tree" for t in result.lines), line
        assert result.changed is (line != "%flags"), line
    text = "\n".join(run(c, line).text() for line in ("%flags", "%check all", "%tree"))
    assert "✗ shape at #" in text and "✓ #" in text and "└─ " in text and "✓ done" in text


def test_help_is_generated_from_the_table() -> None:
    c = Commands(Shell())
    text = run(c, "%help").text()
    for usage, summary in c.help_table():
        assert f"{usage}" in text and summary in text
    for name in ("debug", "step", "continue", "finish", "restart", "break", "check", "flags"):
        assert f"%{name}" in text
    c.table["next"] = Command(
        "next", "%next", "run the lesson's next cell", lambda ctx, a: CommandResult("next")
    )
    assert "%next" in run(c, "%help").text()
    assert run(c, "%help step").text().startswith("%step [N]")
    assert run(c, "%s").name == "step"  # pdb's letters work too
    assert c.complete("%fi") == ["%finish"]


def test_interrupting_a_hanging_backward_keeps_the_session_usable() -> None:
    c = commands_with(
        textwrap.dedent(
            """\
            class Hang(Function):
                @staticmethod
                def forward(ctx, x):
                    return x + 0

                @staticmethod
                def backward(ctx, grad_output):
                    while True:
                        pass

            register("hang", Hang)
            x = Tensor([1.0, 2.0])
            loss = x.hang().sum()
            """
        )
    )
    run(c, "%debug loss")

    def interrupt_soon() -> None:
        while not c.shell.running:
            time.sleep(0.01)
        time.sleep(0.3)
        c.shell.interrupt()

    t = threading.Thread(target=interrupt_soon)
    t.start()
    r = run(c, "%continue")
    t.join()
    assert r.kind == "error" and "interrupted in #" in r.text() and "Hang's backward" in r.text()
    assert c.session.current.op == "Hang" and c.session.position == (1, 2)
    restarted = run(c, "%restart")
    assert restarted.ok and c.session.position == (0, 2)
    assert c.execute("1 + 1").value == "2"


def test_demos_flag_what_they_promise() -> None:
    expected = {"broken": {"shape"}, "nan": {"nonfinite"}, "mlp": set(), "shared": set()}
    for name, kinds in expected.items():
        c = Commands(Shell())
        outcomes = c.startup(demo=name)
        assert [type(o).__name__ for o in outcomes] == [
            "CommandResult",
            "RunResult",
            "CommandResult",
        ]
        assert outcomes[1].ok and "%debug loss" in outcomes[2].text()
        run(c, "%debug loss")
        run(c, "%finish")
        assert {f.kind for f in c.session.flags} == kinds, name
    x = c.shell.namespace["x"]  # shared: x * x accumulates both paths
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_startup_runs_a_script_and_reports_a_missing_demo(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("print('from the script')\nraise ValueError('script bug')\n")
    c = Commands(Shell())
    outcomes = c.startup(script=script, demo="nope")
    assert outcomes[0].status == "error" and "from the script" in outcomes[0].output
    assert "script bug" in outcomes[0].error and f'File "{script}", line 2' in outcomes[0].error
    assert outcomes[1].kind == "error" and "no demo called 'nope'" in outcomes[1].text()


def test_graph_follows_the_last_tensor_then_the_session() -> None:
    c = commands_with(BROKEN)
    assert c.graph is None
    c.execute("loss.backward() if False else None")
    c.execute("loss")
    assert c.graph is not None and c.graph.root is c.shell.namespace["loss"]
    assert c.graph_name == "loss"
    run(c, "%debug loss")
    assert c.graph is c.session and c.graph_name == "loss"


def test_save_round_trip_replays_the_same_tensors(tmp_path: Path) -> None:
    c = Commands(Shell())
    c.execute("rng = np.random.default_rng(7)")
    c.execute("w = Tensor(rng.standard_normal((3, 2)))")
    c.execute("1 / 0")  # failed cells are left out
    c.execute("def f(t):\n    return (t * t).sum()\n")
    c.execute("loss = f(w)")
    run(c, "%debug loss")
    target = tmp_path / "session.py"
    saved = run(c, f"%save {target}")
    assert saved.ok and saved.text() == f"saved 4 cells to {target}"
    text = target.read_text()
    # the imports of what the REPL provided, four Python cells of exactly their lines
    # (`# %% lines=N`) and one cell of commands, kept as `# %debug` lines (lesson format)
    assert "1 / 0" not in text and "# %debug loss" in text
    assert "# %% lines=2\nimport numpy as np\nfrom anet.tensor import Tensor\n" in text
    assert text.count("\n# %% lines=") == 5 and text.count("\n# %%\n") == 1
    replay = Shell()
    assert replay.run_file(target).ok
    np.testing.assert_array_equal(replay.namespace["w"].data, c.shell.namespace["w"].data)
    assert replay.namespace["loss"].item() == c.shell.namespace["loss"].item()
    refused = run(c, f"%save {target}")
    assert refused.kind == "error" and "-f" in refused.text()
    assert run(c, f"%save {target} -f").ok
    assert run(c, f"%save {tmp_path / 'no' / 'dir.py'}").kind == "error"


DEEP = textwrap.dedent(
    """\
    from anet import nn


    class Deep(nn.Module):
        def __init__(self, depth=6, width=8):
            self.layers = [nn.Linear(width, width) for _ in range(depth)]

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).sigmoid()
            return x


    np.random.seed(0)
    net = Deep()
    x = Tensor.randn(16, 8, requires_grad=False)
    loss = nn.mse_loss(net(x), Tensor.randn(16, 8, requires_grad=False))
    """
)


def test_flow_draws_the_grads_of_the_walk_so_far_by_node_and_by_layer() -> None:
    c = commands_with(DEEP)
    assert "no session is open" in run(c, "%flow").text()
    run(c, "%debug loss")
    empty = run(c, "%flow")
    assert empty.ok and "no grads yet" in empty.text() and not empty.changed
    run(c, "%step 4")
    partial = run(c, "%flow")
    lines = partial.text().splitlines()
    assert lines[0] == f"grad flow per node · loss ({c.session.nodes[0].label}) · step 4/21"
    rows = [t for t in lines if t.startswith("#")]
    assert [r.split()[0] for r in rows] == [f"#{n.id}" for n in c.session.nodes[:5]]
    assert "16 more nodes get their grads as the walk goes on" in lines
    run(c, "%finish")
    by_node = run(c, "%flow").text()
    assert "step 21/21" in by_node and "— vanishing gradients" in by_node
    by_param = run(c, "%flow --params")
    text = by_param.text()
    assert by_param.ok and text.startswith("grad flow per parameter of net (Deep) · loss (#")
    assert "layers.5 weight " in text and "layers.0 weight " in text
    assert text.index("layers.5 weight") < text.index("layers.0 weight")  # the walk's order
    for line in by_param.lines + run(c, "%flow").lines:
        assert len(line.text) <= 80, line.text
    one = run(c, "%flow --params net.layers[0]").text()
    assert "of net.layers[0] (Linear)" in one and "layers." not in one.split("\n", 1)[1]
    assert "NameError" in run(c, "%flow --params nothing_here").text()
    assert "usage: %flow" in run(c, "%flow --nodes").text()
    c.execute("net2 = 7")
    bare = run(c, "%flow --params")  # found again: the Module in the namespace
    assert "of net (Deep)" in bare.text()


def test_flow_without_a_model_and_after_a_plain_backward() -> None:
    c = commands_with(DEEP + "layers = net.layers\ndel net, Deep\n")
    assert c.execute("loss.backward()").ok  # no session: the graph the backward walked
    text = run(c, "%flow").text()
    assert text.startswith("grad flow per node · loss (#") and "step" not in text.splitlines()[0]
    params = run(c, "%flow --params").text()
    assert " leaf " in params and params.endswith(
        "no nn.Module holds these parameters: %flow --params MODEL names one"
    )


def test_show_draws_histograms_of_the_values_and_grads() -> None:
    c = commands_with(DEEP)
    run(c, "%debug loss")
    run(c, "%step 3")
    shown = run(c, "%show")
    text = shown.text()
    assert shown.ok and shown.node is c.session.current
    assert "  ── pictures ──" in text and "  grad received  (16, 8) float32 · 128 values" in text
    assert "grad to parent" not in text  # it has not run
    assert any(ch in text for ch in "▁▂▃▄▅▆▇█")
    run(c, "%finish")
    first_dot = c.session.nodes[-1]
    text = run(c, f"%show #{first_dot.id}").text()
    assert f"  grad to parent 1 (#{c.shell.namespace['net'].layers[0].weight.id} leaf)" in text
    assert "a vanishing gradient" not in text or "every |grad| < 1e-07" in text
    leaf = c.shell.namespace["net"].layers[0].weight.id
    text = run(c, f"%show #{leaf}").text()
    assert "  values  (8, 8) float32 · 64 values" in text and "  grad  (8, 8) float32" in text
    for line in run(c, f"%show #{first_dot.id}").lines:
        if "── backward" in line.text:
            break
        assert len(line.text) <= 80, line.text


_NAMES = ["debug", "step", "continue", "c", "finish", "restart", "break", "check", "flags"]
_NAMES += ["show", "tree", "flow", "help", "save", "b", "s", "", "zzz", "DEBUG", "%"]
_names = st.sampled_from(_NAMES)
_args = st.text(alphabet="#0123456789 abcdefxlosu-.()'clear", max_size=12)


@given(st.lists(st.tuples(_names, _args), min_size=1, max_size=8))
def test_fuzzed_command_lines_always_answer(lines: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cwd = os.getcwd()
        os.chdir(folder)  # %save with random names writes here
        try:
            c = commands_with(BROKEN)
            for name, arg in lines:
                result = c.execute(f"%{name} {arg}")
                assert isinstance(result, CommandResult)
                assert all(isinstance(line, Line) and line.text for line in result.lines)
            assert c.execute("%help").ok and c.execute("1 + 1").value == "2"
        finally:
            os.chdir(cwd)


def test_messages_count_in_english(tmp_path: Path) -> None:
    """One of something is never ``1 cells`` (nor ``cells 1 to 1``)."""
    lesson = tmp_path / "one.py"
    lesson.write_text("# %% [markdown] One\n# just one cell\n")
    c = Commands(Shell())
    opened = run(c, f"%lesson {lesson}")
    assert "(1 cell)" in opened.text() and "1 cells" not in opened.text()
    assert run(c, "%goto 5").text() == "one has only cell 1, not 5"
    c = commands_with("x = Tensor.ones(2, requires_grad=True)\nloss = (x * 2).sum()")
    run(c, "%debug loss")
    assert run(c, "%break clear").text() == "cleared 0 breakpoints"
    run(c, "%break Mul")
    assert run(c, "%break clear").text() == "cleared 1 breakpoint"
    run(c, "%finish")
    assert run(c, "%flags").text() == "no flags (step 2/2)"
