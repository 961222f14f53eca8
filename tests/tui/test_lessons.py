"""Lessons: parsing percent-format files, the cursor, clear errors, %save round trips, and the
three shipped lessons run cell by cell through the shared evaluator (Shell + Commands)."""

from __future__ import annotations

import ast
import inspect
import io
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_app import drive, enter, press
from textual.pilot import Pilot

import anet.autograd
from anet import Tensor
from anet.debug import pictures
from anet_tui import lessons
from anet_tui.commands import CommandResult, Commands
from anet_tui.lessons import Lesson, LessonError
from anet_tui.namespace import default_namespace, imports_for, only_provided_imports
from anet_tui.plain import PlainRepl
from anet_tui.shell import RunResult, Shell

SAMPLE = textwrap.dedent(
    """\
    # %% [markdown]
    # # Shapes
    #
    # Look at `x`.

    # %% Make x
    import numpy as np
    x = np.ones(3)

    # %%
    # %debug loss
    y = x * 2
    %step 2

    # a comment only

    # %% Wrap up [markdown]
    # Done.
    """
)


def known(commands: Commands) -> set[str]:
    return {n for c in commands.table.values() for n in (c.name, *c.aliases)}


def fresh() -> Commands:
    return Commands(Shell())


def run_next(commands: Commands) -> list[RunResult | CommandResult]:
    """``%next`` as a front-end submits it: the outcomes of the entries it ran, in order (it
    stops after the first that fails)."""
    shown: list[RunResult | CommandResult] = []
    first = commands.submit("%next", show=shown.append)
    assert first.ok, first.text()
    return shown[1 : len(shown) - bool(first.after)]


def open_lesson(commands: Commands, spec: str | Path) -> Lesson:
    """``%lesson SPEC``: the lesson it opened."""
    commands.run(f"%lesson {spec}")
    assert commands.lesson is not None
    return commands.lesson


# ---- parsing ------------------------------------------------------------------------------------


def test_parse_cells_kinds_titles_and_lines() -> None:
    cells = lessons.parse(SAMPLE)
    assert [c.kind for c in cells] == ["markdown", "code", "code", "markdown"]
    assert [c.number for c in cells] == [1, 2, 3, 4]
    assert cells[0].title == "Shapes"
    assert cells[0].source == "# Shapes\n\nLook at `x`."
    assert cells[1].title == "Make x"
    assert cells[1].source == "import numpy as np\nx = np.ones(3)"
    assert (cells[1].start, cells[1].body_line, cells[1].end) == (6, 7, 8)
    assert cells[3].title == "Wrap up" and cells[3].source == "Done."
    lines = SAMPLE.splitlines()
    for cell in cells:
        assert lines[cell.start - 1].startswith("# %%")


def test_entries_split_python_and_commands() -> None:
    cell = lessons.parse(SAMPLE)[2]
    entries = cell.entries({"debug", "step"})
    assert [(e.source, e.command) for e in entries] == [
        ("%debug loss", True),
        ("y = x * 2", False),
        ("%step 2", True),
    ]
    lines = SAMPLE.splitlines()
    assert lines[entries[1].line - 1] == "y = x * 2"
    assert lines[entries[2].line - 1] == "%step 2"
    assert lessons.parse(SAMPLE)[0].entries() == []  # narration runs nothing
    whole = Lesson.from_text(SAMPLE).entries({"debug", "step"})  # what piping the file runs
    assert [e.source for e in whole] == [
        "import numpy as np\nx = np.ones(3)",
        "%debug loss",
        "y = x * 2",
        "%step 2",
    ]


def test_a_commented_word_is_a_command_only_when_known() -> None:
    (cell,) = lessons.parse("# %%\n# %s is printf style\nx = 1\n# %step\n")
    assert [e.source for e in cell.entries({"step"})] == [
        "# %s is printf style\nx = 1",
        "%step",
    ]


def test_preamble_empty_cells_and_detection() -> None:
    text = "# notes before the cells\n\n# %%\n\n# %%\nx = 1\n"
    cells = lessons.parse(text)
    assert [(c.kind, c.source) for c in cells] == [
        ("markdown", "notes before the cells"),
        ("code", "x = 1"),
    ]
    assert lessons.is_lesson(text)
    assert not lessons.is_lesson("x = 1\n# %not a marker\n# %%% nor this\n")
    (only,) = lessons.parse("x = 1\nprint(x)\n")  # a plain script is one code cell
    assert only.kind == "code" and only.source == "x = 1\nprint(x)"
    jupytext = "# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n# ---\n\n# %%\nx = 1\n"
    assert [c.source for c in lessons.parse(jupytext)] == ["x = 1"]  # its header is no cell


def test_shipped_lessons_are_valid_python() -> None:
    for info in lessons.shipped():
        text = lessons.read_text(info.resource)
        ast.parse(text, info.name)  # a lesson stays a Python file editors understand
        assert lessons.is_lesson(text)


# ---- the cursor ---------------------------------------------------------------------------------


def test_cursor_next_prev_goto() -> None:
    lesson = Lesson.from_text(SAMPLE, "sample")
    assert lesson.current.number == 1 and not lesson.done
    assert [c.number for c in lesson.upcoming()] == [1, 2]
    assert [c.number for c in lesson.next()] == [1, 2]  # narration, then its code cell
    assert lesson.position == (2, 4)
    assert [c.number for c in lesson.next()] == [3]
    assert [c.number for c in lesson.prev()] == [3]  # back one step: cell 3 runs again
    assert [c.number for c in lesson.prev()] == [1, 2]
    assert [c.number for c in lesson.prev()] == [1, 2]  # the start stays the start
    assert [c.number for c in lesson.goto(3)] == [3]
    assert lesson.steps == (1, 2) and not lesson.done
    assert [c.number for c in lesson.next()] == [3]
    assert lesson.ran is not None and lesson.ran.number == 3
    # The closing narration comes with the last step: no next() of its own.
    assert lesson.done and lesson.steps == (2, 2) and lesson.current.number == 4
    assert [c.number for c in lesson.upcoming()] == [4]
    assert lesson.next() == [] and lesson.position == (3, 4)
    assert [c.number for c in lesson.prev()] == [3]  # back from the end: the last cell again
    lesson.goto(5)  # one past the last cell: the end
    assert lesson.done and lesson.current is None
    for bad in (0, 6):
        with pytest.raises(LessonError, match="cells 1 to 4"):
            lesson.goto(bad)
    assert lesson.title == "Shapes"


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"# %%\nx = 1\n\x00\x01\x02", "binary file"),
        (b"# %%\nx = 1\ny = '\xff'\n", r"not UTF-8 text \(byte 0xff on line 3\)"),
        (b"", "is empty"),
        ("dir", "directory"),
    ],
)
def test_unreadable_lessons_say_why(tmp_path: Path, content: Any, expected: str) -> None:
    path = tmp_path / "lesson.py"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(LessonError, match=expected):
        lessons.load(path)


def test_unknown_shipped_lesson_lists_the_real_ones() -> None:
    with pytest.raises(LessonError, match="02_the_backward_walk"):
        lessons.load("nonesuch")


def test_syntax_error_in_cell_3_leaves_cells_1_and_2_usable(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text(
        "# %%\nx = 2\n\n# %%\ny = x * 3\n\n# %%\nz = (y +\n\n# %%\nw = y + 1\n", encoding="utf-8"
    )
    lesson = lessons.load(path)  # loading compiles nothing
    assert lesson.syntax_errors() == [(3, "line 8: '(' was never closed")]
    commands = fresh()
    open_lesson(commands, path)
    results = [run_next(commands) for _ in range(4)]
    assert [r[-1].ok for r in results] == [True, True, False, True]
    assert "SyntaxError" in results[2][-1].error
    ns = commands.shell.namespace
    assert (ns["x"], ns["y"], ns["w"]) == (2, 6, 7) and "z" not in ns


def test_next_stops_at_the_first_failure(tmp_path: Path) -> None:
    path = tmp_path / "stops.py"
    path.write_text("# %%\na = 1\n%nosuchcommand\nb = 2\n", encoding="utf-8")
    commands = fresh()
    open_lesson(commands, path)
    outcomes = run_next(commands)
    assert [o.ok for o in outcomes] == [True, False]
    assert "unknown command" in outcomes[1].text()
    assert "b" not in commands.shell.namespace


def test_the_closing_narration_comes_with_the_last_cell_and_the_end() -> None:
    commands = fresh()
    lesson = open_lesson(commands, "3")
    heads, last = [], None
    while not lesson.done:
        last = commands.submit("%next")
        heads.append(last.lines[0].text)
    assert heads == [f"cell {n}/15" for n in (2, 4, 6, 8, 10, 12, 14)]  # no "narration 15/15"
    after = "\n".join(line.text for line in last.after)
    assert after.startswith("Both match. What you used:")  # the closing narration …
    assert after.endswith("end of the lesson · %goto 1 starts it again")  # … and the end
    assert commands.run("%next").text() == "end of the lesson · %goto 1 starts it again"


def test_narration_comes_as_whole_paragraphs_for_each_front_end_to_wrap() -> None:
    commands = fresh()
    lines = commands.run("%lesson 3").lines
    narration = [line.text for line in lines if line.kind == "narration"]
    assert narration[0] == "# Lesson 3: Debug your own Function"
    assert narration[2].startswith("Every op in anet is a Function") and narration[2].endswith(
        "checks they are gone."
    )  # five lines of the file, one paragraph
    items = [text for text in narration if text.startswith("- ")]
    assert len(items) == 2 and items[0].endswith("transposed, the wrong *shape*;")
    code = [line.text for line in lines if line.kind == "code"]
    assert code[0] == "── cell 2 · %next runs it ──" and code[1] == "    import numpy as np"
    paragraph = next(line.text for line in commands.run("%goto 5").lines if "float64" in line.text)
    assert "your forward in float64, a tiny step either side, against your backward" in paragraph


def test_lesson_cells_run_as_the_lesson_file_at_their_own_lines(tmp_path: Path) -> None:
    commands = fresh()
    lesson = open_lesson(commands, "3")
    name = os.path.basename(lesson.path)
    shown: list[Any] = []
    for _ in range(3):  # the Functions; loss.backward() refused; %debug loss, %continue, %show
        commands.submit("%next", show=shown.append)
    text = "\n".join(o.text() for o in shown)
    line = lessons.read_text(Path(lesson.path)).split("\n").index("loss = x.mydot(w).cube().sum()")
    assert f"{name}:{line + 1}" in text  # where the op was applied: the lesson's own line
    assert "<repl-" not in text
    assert {c.filename for c in commands.shell.cells if c.kind == "python"} == {lesson.path}
    backward = commands.shell.namespace["Cube"].backward
    assert "return 3 * x * grad_output" in inspect.getsource(backward)
    assert backward.__code__.co_filename == lesson.path
    # A traceback names the file and the line (linecache knows its lines).
    path = tmp_path / "oops.py"
    path.write_text("# %% [markdown]\n# Watch.\n\n# %%\nx = 1\n\n1 / 0\n", encoding="utf-8")
    commands = fresh()
    open_lesson(commands, path)
    (failed,) = run_next(commands)
    assert f'File "{path}", line 7, in <module>' in failed.error
    assert "1 / 0" in failed.error


# ---- shipped lessons ----------------------------------------------------------------------------


def test_four_lessons_ship_in_order() -> None:
    infos = lessons.shipped()
    assert [i.number for i in infos] == [1, 2, 3, 4]
    assert all(i.title.startswith(f"Lesson {i.number}:") for i in infos)
    assert lessons.find("2").name == lessons.find("backward").name == "02_the_backward_walk"
    assert (
        lessons.load("3").title == lessons.load("03_debug_your_function.py").title == infos[2].title
    )


def run_lesson(
    name: str, after: Callable[[Commands, lessons.LessonCell], None] | None = None
) -> Commands:
    """Run every cell of a shipped lesson as a front-end does; every entry must succeed."""
    commands = fresh()
    lesson = open_lesson(commands, name)
    assert lesson.syntax_errors(known(commands)) == []
    while not lesson.done:
        step = lesson.upcoming()  # the narration and the code cell %next runs
        code = [cell for cell in step if cell.kind == "code"]
        for outcome in run_next(commands):
            assert outcome.ok, f"{name} cell {code[0].number}:\n{outcome.text()}"
        if after is not None and code:
            after(commands, code[0])
    return commands


def numerical_grads(
    f: Callable[..., float], *arrays: np.ndarray, eps: float = 1e-6
) -> list[np.ndarray]:
    """Central differences of ``f`` in float64, one array per input."""
    xs = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for x in xs:
        g = np.zeros_like(x)
        for j in range(x.size):
            old = x.flat[j]
            x.flat[j] = old + eps
            hi = f(*xs)
            x.flat[j] = old - eps
            lo = f(*xs)
            x.flat[j] = old
            g.flat[j] = (hi - lo) / (2 * eps)
        grads.append(g)
    return grads


def test_lesson_1_builds_dot_and_sum_whose_grads_are_right() -> None:
    commands = run_lesson("1")
    ns = commands.shell.namespace
    x, w, out = ns["x"], ns["w"], ns["out"]
    assert out.op == "MySum" and out._ctx.parents[0].op == "MyDot"
    gx, gw = numerical_grads(lambda a, b: float((a @ b).sum()), x.data, w.data)
    np.testing.assert_allclose(x.grad, gx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad, gw, rtol=1e-5, atol=1e-6)
    assert commands.session is not None and commands.session.root is out  # the last cell


def test_lesson_2_shows_the_overwrite_then_the_accumulation() -> None:
    seen: dict[str, Any] = {}

    def after(commands: Commands, cell: lessons.LessonCell) -> None:
        ns = commands.shell.namespace
        if "article_backward(y)" in cell.source:
            seen["article"] = (ns["x"].data.copy(), ns["x"].grad.copy())
        if "# %show" in cell.source:
            seen["anet"] = (ns["x"].data.copy(), ns["x"].grad.copy())
            seen["done"] = commands.session.done

    commands = run_lesson("2", after)
    data, grad = seen["article"]
    np.testing.assert_allclose(grad, data)  # the article's walk: x, the overwritten half
    data, grad = seen["anet"]
    (expected,) = numerical_grads(lambda a: float((a * a).sum()), data)
    np.testing.assert_allclose(grad, expected, rtol=1e-5)  # stepped walk: 2x, accumulated
    assert seen["done"]
    x = commands.shell.namespace["x"]  # the last one: (x + x) * x through anet's walk
    (expected,) = numerical_grads(lambda a: float(((a + a) * a).sum()), x.data)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-5)


def test_lesson_2_prints_and_names_the_walk_that_backward_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walk = anet.autograd.backward
    ran: list[tuple[Any, ...]] = []
    monkeypatch.setattr(anet.autograd, "backward", lambda *a: ran.append(a) or walk(*a))
    (Tensor([1.0, 2.0]) * 3).sum().backward()
    assert ran  # Tensor.backward runs anet.autograd.backward
    monkeypatch.undo()

    # the lesson prints that function's source, whatever it is now
    commands, shown = fresh(), []
    lesson = open_lesson(commands, "2")
    while not lesson.done:
        shown += [o.text() for o in run_next(commands)]
    assert inspect.getsource(walk).rstrip() in "\n".join(shown)

    # and the paragraph after it names exactly the anet.autograd functions the walk calls
    cells = lesson.cells
    printed = next(
        i for i, c in enumerate(cells) if "inspect.getsource(anet.autograd.backward)" in c.source
    )
    narration = cells[printed + 1]
    assert narration.kind == "markdown"
    called = {
        node.func.id
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(walk))))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    narrated = set(re.findall(r"`(\w+)`", narration.source))

    def functions(names: set[str]) -> set[str]:
        return {n for n in names if inspect.isfunction(getattr(anet.autograd, n, None))}

    assert {"plan", "call_backward", "deliver"} <= functions(called)
    assert functions(narrated) == functions(called), narration.source


def test_lesson_3_flags_appear_and_disappear_after_the_fix() -> None:
    kinds: list[set[str]] = []

    def after(commands: Commands, cell: lessons.LessonCell) -> None:
        if commands.session is not None:
            kinds.append({f.kind for f in commands.session.flags})

    commands = run_lesson("3", after)
    assert {"shape", "vjp"} in kinds  # both bugs found
    session = commands.session
    assert session.done and session.flags == []  # and gone after the fix
    # the two Functions the lesson wrote were checked as they ran; anet's own Sum was not
    assert {rec.op: rec.status for rec in session.nodes} == {
        "Sum": "done",
        "Cube": "checked",
        "MyDot": "checked",
    }
    ns = commands.shell.namespace
    x, w = ns["x"], ns["w"]
    gx, gw = numerical_grads(lambda a, b: float(((a @ b) ** 3).sum()), x.data, w.data)
    np.testing.assert_allclose(x.grad, gx, rtol=1e-4)
    np.testing.assert_allclose(w.grad, gw, rtol=1e-4)


def layer_means(flow: pictures.Flow) -> list[float]:
    """Each layer's mean |grad| over all its parameters' entries, layers in the flow's order."""
    sums: dict[str, list[float]] = {}
    for b in flow.bars:
        total = sums.setdefault(b.group, [0.0, 0.0])
        total[0] += b.mean_abs * b.size
        total[1] += b.size
    return [s / n for s, n in sums.values()]


def test_lesson_4_shows_grads_vanish_explode_die_and_the_fix_keeps_them() -> None:
    flows: list[tuple[str, pictures.Flow]] = []

    def after(commands: Commands, cell: lessons.LessonCell) -> None:
        net = commands.shell.namespace.get("net")
        if "# %finish" in cell.source and net is not None:
            flows.append((cell.source, pictures.flow(commands.session, "param", net)))

    run_lesson("4", after)
    assert len(flows) == 5  # sigmoid, ReLU, too big, dead ReLUs, He's initialisation
    (_, sigmoid), (_, relu), (_, big), (_, dead), (fixed_source, fixed) = flows

    # The sigmoid network: from the output layer to the input, each layer's mean |grad| is
    # smaller than the one above, over far more than 3 orders of magnitude.
    means = layer_means(sigmoid)
    groups = list(dict.fromkeys(b.group for b in sigmoid.bars))
    assert groups == [f"layers.{i}" for i in range(19, -1, -1)]
    assert all(a > b for a, b in pairwise(means)), means
    assert means[0] / means[-1] > 1e3
    assert "vanishing gradients" in sigmoid.words[0]

    assert "vanishing gradients" in relu.words[0]  # less steep: the weights are too small
    assert (
        1e3
        < layer_means(relu)[0] / min(layer_means(relu))
        < layer_means(sigmoid)[0] / min(layer_means(sigmoid))
    )
    assert "exploding gradients" in big.words[0]
    assert all(b.max_abs == 0 for b in dead.bars)
    assert "all-zero grads" in dead.words[-1] and dead.words[-1].endswith("dead ReLUs?")
    assert "sqrt(2 / fan_in)" in fixed_source or "np.sqrt(2" in fixed_source
    means = layer_means(fixed)
    assert max(means) / min(means) < 10 and fixed.words == ()  # every layer alike: nothing to say


def test_lesson_4_runs_with_next_in_the_plain_repl() -> None:
    out = io.StringIO()
    repl = PlainRepl(out=out)
    assert repl.execute("%lesson 4").ok
    lesson = repl.commands.lesson
    while not lesson.done:
        assert repl.execute("%next").ok, out.getvalue()[-3000:]
    text = out.getvalue()
    assert text.count("grad flow per node · loss (#") == 2
    assert text.count("grad flow per parameter of net (Deep) · loss (#") == 4
    assert "— vanishing gradients" in text and "— exploding gradients" in text
    assert "— dead ReLUs?" in text and "% zeros" in text
    assert "── pictures ──" in text and "a vanishing gradient" in text
    for line in text.splitlines():
        if line.startswith("grad flow") or ("█" in line and "`" not in line):  # not narration
            assert len(line) <= 80, line


# ---- %save round trips --------------------------------------------------------------------------

SESSION = [
    "import numpy as np",
    "rng = np.random.default_rng(7)",
    "x = Tensor(rng.standard_normal((3, 4)).astype(np.float32))",
    "w = Tensor(rng.standard_normal((4, 2)).astype(np.float32))",
    "def loss_of(x, w):\n    h = x.dot(w).relu()\n    return (h * h).sum()",
    "loss = loss_of(x, w)",
    "%debug loss",
    "%step",
    "%finish",
    "scaled = x * 3",
]


def run_session(commands: Commands, sources: list[str]) -> None:
    for source in sources:
        assert commands.execute(source).ok, source


def tensors(commands: Commands) -> dict[str, tuple[np.ndarray, Any]]:
    from anet import Tensor

    return {
        k: (v.data, v.grad)
        for k, v in commands.shell.namespace.items()
        if isinstance(v, Tensor) and k != "_"
    }


def replay(path: Path) -> Commands:
    commands = fresh()
    lesson = open_lesson(commands, path)
    while not lesson.done:
        for outcome in run_next(commands):
            assert outcome.ok, outcome.text()
    return commands


def assert_same_tensors(a: Commands, b: Commands) -> None:
    ta, tb = tensors(a), tensors(b)
    assert ta.keys() == tb.keys() == {"x", "w", "loss", "scaled"}
    for name, (data, grad) in ta.items():
        np.testing.assert_array_equal(data, tb[name][0], err_msg=name)
        if grad is None:
            assert tb[name][1] is None, name
        else:
            np.testing.assert_array_equal(grad, tb[name][1], err_msg=name)
    assert ta["x"][1] is not None  # the replay ran the %debug/%finish too


def test_save_script_replays_to_the_same_tensors(tmp_path: Path) -> None:
    commands = fresh()
    run_session(commands, SESSION)
    path = lessons.save_script(tmp_path / "session.py", SESSION)
    text = path.read_text(encoding="utf-8")
    ast.parse(text)  # commands are saved as comments: still Python
    assert "# %debug loss\n# %step\n# %finish\n" in text
    assert_same_tensors(commands, replay(path))


def test_the_save_command_replays_to_the_same_tensors(tmp_path: Path) -> None:
    commands = fresh()
    run_session(commands, SESSION)
    assert not commands.execute("oops = undefined_name").ok  # failed cells are not saved
    target = tmp_path / "saved.py"
    assert commands.run(f"%save {target}").ok
    assert "undefined_name" not in target.read_text(encoding="utf-8")
    assert_same_tensors(commands, replay(target))


SCRIPTED = [
    "x = Tensor(np.arange(1.0, 4.0))",
    "class Twice(Function):\n    @staticmethod\n    def forward(ctx, a):\n        return a * 2\n"
    "    @staticmethod\n    def backward(ctx, g):\n        return (g * 2,)",
    "register('twice', Twice)",
    "loss = x.twice().sum()",
    "loss.backward()",
    "print('grad', x.grad.tolist(), anet.__name__, no_grad.__name__)",
    "%debug loss",  # a comment for python, a command for --lesson
]


def test_a_saved_session_runs_with_python(tmp_path: Path) -> None:
    # Issue 14: %save starts the file with the imports the REPL gave the session (np, Tensor,
    # Function, register, anet, no_grad …), so `python saved.py` runs what ran, commands aside.
    commands = fresh()
    run_session(commands, SCRIPTED)
    grad = commands.shell.namespace["x"].grad.tolist()
    target = tmp_path / "saved.py"
    assert commands.run(f"%save {target}").ok
    text = target.read_text(encoding="utf-8")
    imports = "import anet\nimport numpy as np\n"
    imports += "from anet.tensor import Tensor, Function, register, no_grad\n"
    assert f"\n# %% lines=3\n{imports}" in text and "\n# %debug loss\n" in text
    assert "`python FILE` runs its Python" in text and "anet-tui --lesson FILE" in text
    proc = subprocess.run(
        [sys.executable, str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(lessons.__file__).parents[1])},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"grad {grad} anet no_grad\n"
    # Replayed as a lesson and saved again: the imports come once, not twice.
    again = replay_all(target)
    assert again.run(f"%save {tmp_path / 'again.py'}").ok
    resaved = (tmp_path / "again.py").read_text(encoding="utf-8")
    assert resaved.count("import numpy as np") == 1
    assert resaved.split("\n", 3)[3] == text.split("\n", 3)[3]  # the same, but for the date


def test_the_save_imports_give_every_name_the_repl_provides() -> None:
    provided = {k: v for k, v in default_namespace().items() if not k.startswith("__")}
    text = imports_for([" ".join(provided)])
    script: dict[str, Any] = {}
    exec(text, script)
    assert {k: script[k] for k in provided} == provided
    assert all(v is script[k] for k, v in provided.items())
    assert only_provided_imports(text) and only_provided_imports("import numpy as np")
    for other in ["import os", "from anet import Tensor", "import numpy", "np = 1", "x = 1", ""]:
        assert not only_provided_imports(other), other
    assert imports_for(["'np' # Tensor", "%debug loss"]) == ""  # strings, comments: no names


def replay_all(path: Path) -> Commands:
    commands = fresh()
    lesson = open_lesson(commands, path)
    while not lesson.done:
        run_next(commands)
    return commands


def test_save_writes_no_imports_a_session_does_not_use(tmp_path: Path) -> None:
    commands = fresh()
    run_session(commands, ["import math", "y = math.sqrt(4)", "import numpy as np"])
    assert commands.run(f"%save {tmp_path / 's.py'}").ok
    text = (tmp_path / "s.py").read_text(encoding="utf-8")
    assert "numpy" not in text and "anet" not in text.split("\n", 3)[3]
    assert "# %% lines=1\nimport math\n" in text


def test_save_never_overwrites_without_force(tmp_path: Path) -> None:
    path = tmp_path / "keep.py"
    path.write_text("precious\n", encoding="utf-8")
    with pytest.raises(LessonError, match="exists"):
        lessons.save_script(path, ["x = 1"])
    assert path.read_text(encoding="utf-8") == "precious\n"
    lessons.save_script(path, ["x = 1"], force=True)
    assert [c.source for c in lessons.parse(path.read_text(encoding="utf-8"))][1:] == ["x = 1"]
    with pytest.raises(LessonError, match="directory"):
        lessons.save_script(tmp_path, ["x = 1"])
    with pytest.raises(LessonError, match="cannot save"):
        lessons.save_script(tmp_path / "missing" / "x.py", ["x = 1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.py"]  # no temporary left


# ---- both front-ends ---------------------------------------------------------------------------


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_each_lesson_runs_in_the_plain_repl(number: int) -> None:
    out = io.StringIO()
    repl = PlainRepl(out=out)
    for entry in lessons.load(str(number)).entries(known(repl.commands)):
        assert repl.execute(entry.source).ok, f"lesson {number}: {entry.source}\n{out.getvalue()}"
    if number == 3:
        text = out.getvalue()
        assert "✗ shape at" in text and "✗ vjp at" in text
        assert text.rstrip().endswith("w.grad matches anet: True")
        assert "no flags" in text


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_each_lesson_runs_in_the_app(number: int, tmp_path: Path) -> None:
    entries = lessons.load(str(number)).entries()

    async def script(pilot: Pilot) -> None:
        for entry in entries:
            await enter(pilot, entry.source)
            if pilot.app.repl_input.text.strip():  # a block ending indented waits for a blank line
                await press(pilot, "enter")
            assert not pilot.app.repl_input.text.strip(), entry.source

    ran = drive(script, tmp_path)
    cells = ran.app.shell.cells
    assert len(cells) == len(entries)
    assert [c.status for c in cells] == ["ok"] * len(entries), ran.transcript
    if number == 3:
        assert "✗ shape at" in ran.transcript and "✗ vjp at" in ran.transcript
        assert ran.app.commands.session.done and ran.app.commands.session.flags == []


# ---- the lesson commands, in the plain REPL and the installed command ---------------------------


def _plain_run(stdin: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "ANET_TUI_HISTORY": os.devnull}
    return subprocess.run(
        ["anet-tui", "--plain", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_lesson_list_and_open_from_the_command_line() -> None:
    listing = subprocess.run(["anet-tui", "--lesson"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()[:4]] == ["1", "2", "3", "4"]
    assert "4  Lesson 4: Vanishing and exploding gradients" in listing.stdout
    module = [sys.executable, "-m", "anet_tui", "--lesson"]  # python -m anet_tui: the same
    assert subprocess.run(module, capture_output=True, text=True, timeout=60).stdout == (
        listing.stdout
    )
    opened = _plain_run("%next\n%prev\n%goto 99\n", "--lesson", "2")
    out = opened.stdout
    assert "Lesson 2: The backward walk" in out and "%next runs it" in out
    assert "... def article_backward(t, allow_fill=True):" in out  # %next echoed the cell
    assert "has cells 1 to" in out  # %goto 99 names the range


def test_piped_lesson_runs_its_commands_and_lesson_3_flags_appear_then_go() -> None:
    info = next(i for i in lessons.shipped() if i.number == 3)
    text = lessons.read_text(info.resource)
    result = _plain_run(text)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert ">>> %debug" in out  # the `# %debug` lines ran as commands
    first_shape, first_vjp = out.find("✗ shape"), out.find("✗ vjp")
    assert first_shape != -1 and first_vjp != -1
    assert "0 flags" in out[max(first_shape, first_vjp) :]  # after the fix: a clean walk


def test_the_plain_repl_wraps_narration_at_its_width() -> None:
    env = {**os.environ, "NO_COLOR": "1", "ANET_TUI_HISTORY": os.devnull, "COLUMNS": "60"}
    run = subprocess.run(
        ["anet-tui", "--plain", "--lesson", "3"],
        input="%goto 7\n%prev\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    out = run.stdout
    start = out.index("Cube's backward is wrong")
    paragraphs = out[start : out.index("── cell 8", start)].strip().split("\n\n")
    assert len(paragraphs) == 1
    for paragraph in paragraphs:
        *full, _ = lines = paragraph.split("\n")
        assert all(len(line) < 60 for line in lines), lines
        assert all(len(line) > 45 for line in full), lines  # no line of one word in the middle


def test_next_without_a_lesson_and_save_skips_lesson_commands(tmp_path: Path) -> None:
    c = Commands(Shell())
    assert c.run("%next").kind == "error" and "%lesson" in c.run("%next").text()
    shown: list[object] = []
    c.submit("%lesson 1", show=shown.append)
    c.submit("%next", show=shown.append, echo=shown.append)
    assert c.shell.namespace["x"].shape == (1, 3)  # cell 2 ran as if typed
    saved = c.run(f"%save {tmp_path / 's.py'}")
    assert saved.ok
    assert "%lesson" not in (tmp_path / "s.py").read_text()
