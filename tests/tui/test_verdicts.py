"""Verdicts a student can trust (issue #13): wrong math stops the walk where it happens, in the
app and the plain REPL; a node says what was verified (``✓ checked`` for a user Function whose
backward agreed, ``✓ done`` for anet's own ops); notes never stop ``%continue``."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from plain_keys import drive as type_into_plain
from test_app import drive, enter, press, screen_text
from textual.pilot import Pilot

from anet_tui.commands import Commands
from anet_tui.shell import Shell

CTRL_D = "\x04"
WRONG_CUBE = textwrap.dedent(
    """\
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3
        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output  # wrong: d(x^3)/dx is 3x^2
    register("cube", Cube)
    x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    loss = (x.cube() * 2.0).sum()
    """
)
RIGHT_CUBE = WRONG_CUBE.replace(
    "2 * x * grad_output  # wrong: d(x^3)/dx is 3x^2", "3 * x**2 * grad_output"
)


def test_wrong_math_stops_continue_with_vjp_in_the_app(tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    async def script(pilot: Pilot) -> None:
        await enter(pilot, WRONG_CUBE)
        await enter(pilot, "%debug loss")
        await press(pilot, "f5")
        seen["screen"] = screen_text(pilot.app)
        seen["last"] = pilot.app.transcript.text.splitlines()[-1]

    drive(script, tmp_path)
    assert seen["last"].startswith("✗ vjp at #") and "Cube" in seen["last"], seen["last"]
    assert "finite differences" in seen["last"]
    assert "Cube" in seen["screen"] and "✗ vjp" in seen["screen"]  # its tree row says it too
    assert "✓ done" not in seen["screen"].split("Cube", 1)[1].splitlines()[0]


def test_a_right_user_function_reads_checked_and_anets_own_ops_read_done(tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    async def script(pilot: Pilot) -> None:
        await enter(pilot, RIGHT_CUBE)
        await enter(pilot, "%debug loss")
        await press(pilot, "f5")
        seen["screen"] = screen_text(pilot.app)

    drive(script, tmp_path)
    rows = {  # the graph pane's rows: "│├ ▾ #4 Mul ✓ done …"
        op: next(
            line for line in seen["screen"].splitlines() if re.search(rf"#\d+ {op} [✓✗]", line)
        )
        for op in ("Cube", "Mul", "Sum")
    }
    assert "✓ checked" in rows["Cube"], rows
    assert "✓ done" in rows["Mul"] and "✓ done" in rows["Sum"], rows


def test_wrong_math_stops_continue_with_vjp_in_the_plain_repl(tmp_path: Path) -> None:
    shell = Shell()
    assert shell.run(WRONG_CUBE).ok
    _, out, _ = type_into_plain(["%debug loss\r", "%continue\r", CTRL_D + CTRL_D], tmp_path, shell)
    stop = next(line for line in out.splitlines() if line.startswith("✗ "))
    assert stop.startswith("✗ vjp at #") and " Cube: parent 0 at " in stop, out
    assert "backward" in stop and "finite differences" in stop


def test_status_words_in_ascii_and_in_the_text_tree() -> None:
    c = Commands(Shell())
    c.execute(RIGHT_CUBE)
    c.execute("%debug loss")
    c.execute("%finish")
    tree = c.execute("%tree").text()
    cube = next(line for line in tree.splitlines() if " Cube " in line)
    total = next(line for line in tree.splitlines() if " Sum " in line)
    assert "✓ checked" in cube and "✓ done" in total
    from anet.debug.views import to_ascii

    assert "ok checked" in to_ascii(cube) and "ok done" in to_ascii(total)


def test_a_note_is_shown_and_never_stops_continue() -> None:
    c = Commands(Shell())
    c.execute(
        RIGHT_CUBE.replace("3 * x**2 * grad_output", "(3 * x**2 * grad_output).astype(np.float32)")
    )
    c.execute("%debug loss")
    result = c.execute("%continue")
    assert result.stop is not None and result.stop.reason == "done", result.text()
    assert "! dtype at #" in result.text() and "Cube" in result.text()
    help_text = c.execute("%help").text()
    assert "✓ checked" in help_text and "! KIND" in help_text
