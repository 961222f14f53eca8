"""The Textual app driven through Pilot at 80×24: every % command, every key, the REPL pane.

The helpers here (``drive``, ``settle``, ``enter``, ``screen_text``) are shared with
test_app_snapshots.py and test_app_reliability.py.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
import textwrap
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Markdown

import anet.tensor
from anet_tui.app import AnetApp
from anet_tui.history import HistoryFile
from anet_tui.widgets.detail_pane import DetailPane
from anet_tui.widgets.graph_tree import MAX_DEPTH, GraphTree
from anet_tui.widgets.help_screen import HelpScreen
from anet_tui.widgets.repl_input import ReplInput

SIZE = (80, 24)
Script = Callable[[Pilot], Awaitable[None]]


# ---- helpers -------------------------------------------------------------------------------------


@dataclass
class Ran:
    """The app after a script, with its transcript and screen as they were at the end."""

    app: AnetApp
    transcript: str
    screen: str


def drive(
    script: Script,
    tmp_path: Path,
    *,
    size: tuple[int, int] = SIZE,
    demo: str | None = None,
    file: str | None = None,
    lesson: str | None = None,
) -> Ran:
    """Start the app (history in ``tmp_path``), let it settle, run ``script``."""
    anet.tensor._ids = itertools.count(1)  # node ids as in a fresh process: stable snapshots
    anet.tensor._constants.clear()  # (cached constants keep the ids they were made with)

    async def main() -> Ran:
        history = HistoryFile(tmp_path / "history")
        app = AnetApp(script=file, demo=demo, lesson=lesson, history=history)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await script(pilot)
            if app.is_running:
                return Ran(app, app.transcript.text, screen_text(app))
        return Ran(app, "", "")

    return asyncio.run(main())


async def settle(pilot: Pilot) -> None:
    """Wait until running code has finished and its results are drawn."""
    app = pilot.app
    await pilot.pause()
    for _ in range(400):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.busy:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.01)
    await pilot.pause()
    for markdown in app.screen.query(Markdown):  # a lesson's narration renders on a task
        async with markdown.lock:
            pass
    await pilot.pause()


async def enter(pilot: Pilot, text: str) -> None:
    """Put ``text`` in the input, press Enter and wait for the result."""
    app = pilot.app
    app.repl_input.focus()
    app.repl_input.load_text(text)  # type: ignore[attr-defined]
    app.repl_input.move_cursor(app.repl_input.document.end)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await settle(pilot)


async def press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def screen_text(app: AnetApp) -> str:
    """The screen as plain text, line by line (what a reader of the terminal sees)."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, force_terminal=True
    )
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


# ---- starting ------------------------------------------------------------------------------------


def test_input_has_focus_at_start_and_typing_goes_into_it(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        assert isinstance(pilot.app.focused, ReplInput)
        await pilot.press(*"1 + 1")
        assert pilot.app.repl_input.text == "1 + 1"
        await press(pilot, "enter")

    ran = drive(script, tmp_path)
    assert ">>> 1 + 1" in ran.transcript
    assert "\n2" in ran.transcript


def test_demo_runs_into_the_namespace_and_says_what_to_try(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        pass

    ran = drive(script, tmp_path, demo="broken")
    assert "%debug loss" in ran.transcript
    assert "loss" in ran.app.shell.namespace


def test_script_that_raises_shows_its_traceback_and_the_app_opens(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("a = 1\nraise ValueError('no good')\n")

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "a + 1")

    ran = drive(script, tmp_path, file=str(path))
    text = ran.transcript
    assert "ValueError: no good" in text
    assert "bad.py" in text
    assert text.rstrip().endswith("2")  # the namespace has what ran before the error


# ---- the REPL pane -------------------------------------------------------------------------------


def test_tensor_result_is_compact_and_underscore_is_the_last_result(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "x = Tensor([1.0, 2.0, 3.0])")
        await enter(pilot, "(x * x).sum()")
        await enter(pilot, "_.item()")

    ran = drive(script, tmp_path)
    text = ran.transcript
    assert "Sum () float32" in text
    assert text.rstrip().endswith("14.0")


def test_enter_continues_a_def_and_runs_it_after_a_blank_line(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        inp = pilot.app.repl_input
        await pilot.press(*"def f(a):", "enter")
        assert inp.text == "def f(a):\n    "  # continued and indented, nothing ran
        await pilot.press(*"return a * 2", "enter")
        assert "return a * 2" in inp.text
        await press(pilot, "enter")  # the blank line ends the block
        assert inp.text == ""
        await enter(pilot, "f(21)")

    ran = drive(script, tmp_path)
    text = ran.transcript
    assert ">>> def f(a):\n...     return a * 2" in text
    assert text.rstrip().endswith("42")


def test_enter_continues_open_brackets(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await pilot.press(*"[1,", "enter")
        assert pilot.app.repl_input.text.startswith("[1,\n")
        await pilot.press(*"2]")
        await press(pilot, "enter")

    ran = drive(script, tmp_path)
    assert ran.transcript.rstrip().endswith("[1, 2]")


def test_ctrl_j_forces_a_newline_in_complete_input(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await pilot.press(*"a = 1", "ctrl+j", *"b = a + 1")
        assert pilot.app.repl_input.text == "a = 1\nb = a + 1"
        assert pilot.app.query_one("#prompt").render().plain == ">>>\n..."
        await press(pilot, "enter")
        await enter(pilot, "b")

    ran = drive(script, tmp_path)
    assert ran.transcript.rstrip().endswith("2")


def test_history_up_down_persisted_and_shared_with_the_plain_repl(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "a = 40")
        await enter(pilot, "def g():\n    return a + 2\n")
        inp = pilot.app.repl_input
        await pilot.press(*"draft")
        await pilot.press("up")
        assert inp.text == "def g():\n    return a + 2"  # one entry, both lines
        await pilot.press("up")
        await pilot.press("up")
        assert inp.text == "a = 40"
        await pilot.press("down")
        assert inp.text.startswith("def g():")  # the cursor is on its last line
        await pilot.press("down")
        assert inp.text == "draft"

    drive(script, tmp_path)
    # The file the plain REPL reads has both entries, the multi-line one as one entry.
    entries = HistoryFile(tmp_path / "history").entries
    assert entries == ["a = 40", "def g():\n    return a + 2"]
    lines = (tmp_path / "history").read_text().splitlines()
    assert [json.loads(line) for line in lines] == entries

    async def again(pilot: Pilot) -> None:  # a new app (or plain REPL) starts with them
        await pilot.press("up")
        assert pilot.app.repl_input.text.startswith("def g():")

    drive(again, tmp_path)


def test_tab_completes_names_attributes_and_commands(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        inp = pilot.app.repl_input
        await enter(pilot, "weights_one = Tensor([1.0])")
        await pilot.press(*"weights_o", "tab")
        assert inp.text == "weights_one"
        await pilot.press(*".zero_g", "tab")
        assert inp.text == "weights_one.zero_grad"
        inp.load_text("")
        await pilot.press(*"%ste", "tab")
        assert inp.text == "%step"
        inp.load_text("")
        await pilot.press("tab")  # nothing before the cursor: indent
        assert inp.text == "    "
        inp.load_text("")
        await press(pilot, *"Tensor.", "tab")  # many candidates: listed in the transcript

    ran = drive(script, tmp_path)
    assert "backward" in ran.transcript.splitlines()[-1]


def test_input_and_echoed_code_are_highlighted_by_pygments(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await pilot.press(*"def h(): return 1")
        line = pilot.app.repl_input.get_line(0)
        styled = {line.plain[s.start : s.end] for s in line.spans if s.style}
        assert "def" in styled and "1" in styled
        await press(pilot, "enter", "enter")
        log = pilot.app.transcript
        echoed.extend(s for strip in log.lines for s in strip if s.text == "def")

    echoed: list = []
    drive(script, tmp_path)
    assert echoed and echoed[0].style is not None and echoed[0].style.color is not None


def test_errors_show_a_traceback_trimmed_to_the_users_frames(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "def boom():\n    return 1 / 0\n")
        await enter(pilot, "boom()")
        await enter(pilot, "1 +")
        await enter(pilot, "'still here'")

    ran = drive(script, tmp_path)
    text = ran.transcript
    assert "ZeroDivisionError: division by zero" in text
    assert 'File "<repl-1>", line 2, in boom' in text
    assert "shell.py" not in text  # the evaluator's own frames are trimmed
    assert "SyntaxError" in text
    assert text.rstrip().endswith("'still here'")


def test_large_output_is_cut_with_a_note(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "for i in range(100000): print('line', i)\n")
        await enter(pilot, "'after'")

    ran = drive(script, tmp_path)
    text = ran.transcript
    assert "output cut" in text
    assert len(ran.transcript.splitlines()) <= 2_000
    assert text.rstrip().endswith("'after'")


def test_ctrl_c_interrupts_while_true_and_the_app_stays_usable(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "n = 7")
        await pilot.press(*"while True: pass", "enter", "enter")
        deadline = time.monotonic() + 60
        while not app.shell.running and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert app.busy and app.shell.running
        # The screen is live while the code runs: keys are handled, the status says so.
        await pilot.press("6")
        assert app.repl_input.text == "6"
        assert "running" in screen_text(app).splitlines()[0]
        await press(pilot, "ctrl+c")
        assert not app.busy
        assert app.repl_input.text == "6"  # what was typed meanwhile is kept
        await enter(pilot, "6 * n")

    ran = drive(script, tmp_path)
    text = ran.transcript
    assert "KeyboardInterrupt" in text
    assert text.rstrip().endswith("42")  # namespace intact: n survived


def test_ctrl_c_with_nothing_running_clears_the_input(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await pilot.press(*"half typed")
        await pilot.press("ctrl+c")
        assert pilot.app.repl_input.text == ""
        assert pilot.app.is_running

    drive(script, tmp_path)


def test_a_training_loop_runs_off_the_ui_thread(tmp_path: Path) -> None:
    loop = textwrap.dedent(
        """\
        import time
        w, stop, steps = Tensor(np.ones(3)), False, 0
        while not stop:
            w.grad = None
            loss = (w * w).sum()
            loss.backward()
            w.data -= 0.01 * w.grad
            steps += 1
            time.sleep(0.005)
        print('trained', steps, 'steps')
        """
    )

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        app.repl_input.load_text(loop)
        app.repl_input.move_cursor(app.repl_input.document.end)
        await pilot.press("enter")
        assert app.busy and app.shell.running
        await pilot.press("f1")  # the UI answers keys while the loop runs
        assert isinstance(app.screen, HelpScreen) and app.shell.running
        await pilot.press("escape")
        assert app.shell.namespace["steps"] > 0 and app.shell.running
        app.shell.namespace["stop"] = True
        await settle(pilot)

    ran = drive(script, tmp_path)
    assert "trained" in ran.transcript


def test_exit_in_user_code_leaves_with_its_code(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "exit(3)")

    ran = drive(script, tmp_path)
    assert ran.app.return_code == 3


def test_plain_backward_shows_the_grads_in_the_tree(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "x = Tensor([1.0, 2.0, 3.0])")
        await enter(pilot, "y = (x * x).sum()")
        await enter(pilot, "y.backward()")

    ran = drive(script, tmp_path)
    assert np.allclose(ran.app.shell.namespace["x"].grad, [2, 4, 6])
    screen = ran.screen
    assert "y = #" in screen.splitlines()[0]
    assert "#3 Sum out() grad()" in screen
    assert "#1 leaf out(3,) grad(3,)" in screen


# ---- % commands ----------------------------------------------------------------------------------


def test_debug_opens_a_session_and_the_tree_shows_the_root(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")

    ran = drive(script, tmp_path, demo="broken")
    assert ran.app.session is not None
    screen = ran.screen
    assert "loss = #5 Sum · step 0/3" in screen
    assert "#5 Sum ▶ current" in screen
    assert "session on #5 Sum (loss): 3 nodes" in ran.transcript


def test_step_continue_finish_restart_commands(tmp_path: Path) -> None:
    positions = []

    async def script(pilot: Pilot) -> None:
        session = lambda: pilot.app.session  # noqa: E731
        await enter(pilot, "%debug loss")
        await enter(pilot, "%step")
        positions.append(session().position)
        await enter(pilot, "%step 2")
        positions.append(session().position)
        await enter(pilot, "%restart")
        positions.append(session().position)
        await enter(pilot, "%continue")
        positions.append(session().position)
        await enter(pilot, "%restart")
        await enter(pilot, "%finish")
        positions.append(session().position)

    ran = drive(script, tmp_path, demo="mlp")
    n = ran.app.session.position[1]
    assert positions == [(1, n), (3, n), (0, n), (n, n), (n, n)]
    text = ran.transcript
    assert "ran #" in text and "restarted: grads restored" in text
    assert f"done: {n} nodes, 0 flags" in text
    assert f"step {n}/{n}" in ran.screen.splitlines()[0]
    assert ran.app.shell.namespace["w1"].grad.shape == (3, 8)


def test_break_flags_check_show_tree_help_and_unknown_commands(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await enter(pilot, "%break Mul")
        await enter(pilot, "%break")
        await enter(pilot, "%continue")
        assert pilot.app.session.current.op == "Mul"
        assert pilot.app.graph_view.selected_id == pilot.app.session.current.id
        await enter(pilot, "%break clear")
        await enter(pilot, "%continue")
        await enter(pilot, "%flags")
        await enter(pilot, "%check #3")
        await enter(pilot, "%check all")
        await enter(pilot, "%show #3")
        assert pilot.app.graph_view.selected_id == 3
        await enter(pilot, "%tree")
        await enter(pilot, "%help")
        await enter(pilot, "%stpe")

    ran = drive(script, tmp_path, demo="broken")
    text = ran.transcript
    assert "breakpoint op Mul: %continue stops before it" in text
    assert "breakpoint op Mul\n" in text
    assert "breakpoint op Mul: stopped before #4 Mul" in text
    assert "cleared 1 breakpoint" in text
    assert "✗ shape at #3 SwapGrad: parent 0: returned (3, 2), expected (2, 3)" in text
    assert "1 flag (step 3/3)" in text
    assert "? #3 SwapGrad: not compared" in text  # a wrong shape cannot be checked
    assert "checked 3 nodes" in text
    assert "#3 SwapGrad  out (2, 3) float32" in text
    assert "└─ #2 leaf (2, 3)" in text
    assert "%debug EXPR" in text and "%check #ID|all" in text
    assert "unknown command %stpe (did you mean %step?)" in text
    # The detail pane follows %show: the flagged node with its flags and its backward.
    detail = ran.screen
    assert "#3 SwapGrad" in detail and "✗ shape" in detail


def test_save_writes_a_script_that_replays(tmp_path: Path) -> None:
    out = tmp_path / "session.py"

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "z = Tensor([3.0]) * 2")
        await enter(pilot, f"%save {out}")

    ran = drive(script, tmp_path)
    assert f"saved 1 cell to {out}" in ran.transcript
    assert "z = Tensor([3.0]) * 2" in out.read_text()


def test_commands_without_a_session_say_how_to_open_one(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%step")
        await enter(pilot, "%debug nothing_here")

    ran = drive(script, tmp_path)
    text = ran.transcript
    assert "no session is open: %debug EXPR opens one" in text
    assert "%debug nothing_here: NameError" in text


# ---- keys ----------------------------------------------------------------------------------------


def test_f_keys_step_continue_finish_restart_from_any_pane(tmp_path: Path) -> None:
    seen = []

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        n = app.session.position[1]
        await press(pilot, "f10")  # focus in the input
        seen.append(app.session.position)
        await press(pilot, "f2", "f10")  # focus in the graph
        seen.append(app.session.position)
        await press(pilot, "f3", "f5")  # focus in the detail pane
        seen.append(app.session.position)
        await press(pilot, "f7")
        seen.append(app.session.position)
        await press(pilot, "f4", "f6")
        seen.append(app.session.position)
        assert seen == [(1, n), (2, n), (n, n), (0, n), (n, n)]

    ran = drive(script, tmp_path, demo="mlp")
    text = ran.transcript
    for line in (">>> %step  (F10)", ">>> %continue  (F5)", ">>> %finish  (F6)"):
        assert line in text
    assert ">>> %restart  (F7)" in text


def test_pdb_letters_step_and_continue_outside_the_input_only(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "s")  # the input has focus: it is typed
        assert app.repl_input.text == "s" and app.session.position[0] == 0
        app.repl_input.load_text("")
        await press(pilot, "escape")  # leave the input: the graph has focus …
        assert isinstance(app.focused, GraphTree)
        await press(pilot, "s")  # … but what is typed right after Esc still goes to the input
        assert app.repl_input.text == "s" and app.session.position[0] == 0
        app.repl_input.load_text("")
        await press(pilot, "escape", "down")  # working in the graph: its letters are keys
        await press(pilot, "s")
        assert app.session.position[0] == 1
        await press(pilot, "n")
        assert app.session.position[0] == 2
        await press(pilot, "c")
        assert app.session.done

    drive(script, tmp_path, demo="mlp")


def test_b_toggles_a_breakpoint_on_the_selected_nodes_op(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f2", "f10")  # the cursor follows the current node: #4 Mul
        assert app.graph_view.selected_id == 4
        await press(pilot, "b")
        assert [str(b) for b in app.session.list_breaks()] == ["op Mul"]
        await press(pilot, "b")
        assert app.session.list_breaks() == []

    ran = drive(script, tmp_path, demo="broken")
    text = ran.transcript
    assert ">>> %break Mul  (b)" in text
    assert ">>> %break clear Mul  (b)" in text


def test_g_runs_the_numerical_check_of_the_selected_node(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await press(pilot, "f2", "down")  # #4 Mul
        await press(pilot, "g")

    ran = drive(script, tmp_path, demo="broken")
    assert ">>> %check #4  (g)" in ran.transcript
    assert "✓ " in ran.transcript.splitlines()[-1]


def test_brackets_jump_between_flags(tmp_path: Path) -> None:
    broken = textwrap.dedent(
        """\
        class Bad(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1
            @staticmethod
            def backward(ctx, g):
                return g.T
        register("bad", Bad)
        a = Tensor(np.ones((2, 3)))
        b = Tensor(np.ones((2, 3)))
        loss = (a.bad() + b.bad()).sum()
        """
    )

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, broken)
        await enter(pilot, "%debug loss")
        await enter(pilot, "%finish")
        flagged = [f.node for f in app.session.flags]
        assert len(flagged) == 2
        await press(pilot, "f2", "right_square_bracket")
        first = app.graph_view.selected_id
        await press(pilot, "right_square_bracket")
        second = app.graph_view.selected_id
        await press(pilot, "left_square_bracket")
        assert {first, second} == set(flagged) and first != second
        assert app.graph_view.selected_id == first

    drive(script, tmp_path)


def test_focus_moves_between_panes(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await press(pilot, "f2")
        assert isinstance(app.focused, GraphTree)
        await press(pilot, "f3")
        assert isinstance(app.focused, DetailPane)
        await press(pilot, "f4")
        assert isinstance(app.focused, ReplInput)
        await press(pilot, "shift+tab")  # out of the input (Tab there completes)
        assert not isinstance(app.focused, ReplInput)
        await press(pilot, "f2", "tab")
        assert isinstance(app.focused, DetailPane)

    drive(script, tmp_path)


def test_f1_help_lists_the_live_bindings_and_the_commands(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        app.set_keymap({"finish": "f8"})  # remapped by id: help follows
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for row in ("F10", "step", "F5", "continue", "F8", "finish", "^q", "quit"):
            assert row in text
        assert "F6" not in text.split("REPL input")[0]
        assert "%debug EXPR" in "\n".join(u for u, _ in app.screen.commands)
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)
        await press(pilot, "f8")
        assert app.session.done

    drive(script, tmp_path, demo="broken")


def test_ctrl_p_palette_runs_the_same_actions(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "ctrl+p")
        await pilot.press(*"finish")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        assert app.session.done

    ran = drive(script, tmp_path, demo="mlp")
    assert ">>> %finish  (F6)" in ran.transcript


def test_footer_shows_only_the_keys_that_work_now(tmp_path: Path) -> None:
    footers = []

    async def script(pilot: Pilot) -> None:
        footers.append(screen_text(pilot.app).splitlines()[-1])
        await enter(pilot, "%debug loss")
        footers.append(screen_text(pilot.app).splitlines()[-1])
        await press(pilot, "f2")
        footers.append(screen_text(pilot.app).splitlines()[-1])

    drive(script, tmp_path, demo="broken")
    no_session, in_input, in_graph = footers
    assert "F10" not in no_session and "quit" in no_session
    assert "F10 step" in in_input and "F5 continue" in in_input and "b break" not in in_input
    assert "b break" in in_graph and "g check" in in_graph


def test_ctrl_q_quits(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await pilot.press("ctrl+q")
        await pilot.pause()

    ran = drive(script, tmp_path)
    assert not ran.app.is_running and ran.app.return_code == 0


def test_ctrl_d_on_an_empty_input_quits(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await pilot.press(*"ab", "left", "ctrl+d")
        assert pilot.app.repl_input.text == "a"  # not empty: deletes
        pilot.app.repl_input.load_text("")
        await pilot.press("ctrl+d")
        await pilot.pause()

    ran = drive(script, tmp_path)
    assert not ran.app.is_running


# ---- the tree ------------------------------------------------------------------------------------


def test_shared_nodes_appear_once_with_back_references_you_can_jump_through(
    tmp_path: Path,
) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "a = Tensor([1.0, 2.0]); b = a.exp(); loss = (b * 2 + b * 3).sum()")
        await enter(pilot, "%debug loss")
        await press(pilot, "f6")
        tree = app.graph_view
        # Open everything under the root, then find the reference to b's node.
        for _ in range(3):
            for row in list(tree._rows.values()):
                row.expand()
            await pilot.pause()
        refs = [n for n in tree._tree_lines_cached or [] if n.node.data.kind == "ref"]
        assert [r.node.data.id for r in refs] == [app.shell.namespace["b"].id]
        assert str(refs[0].node.label) == f"↑ #{app.shell.namespace['b'].id} Exp"
        tree.focus()
        tree.move_cursor(refs[0].node)
        await press(pilot, "enter")
        assert tree.selected_id == app.shell.namespace["b"].id
        assert tree.cursor_node.data.kind == "node"  # the full row, not the reference

    drive(script, tmp_path)


def test_tree_rows_show_saved_tensors_and_returned_grads(tmp_path: Path) -> None:
    grads = []

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await enter(pilot, "%continue")
        # The flagged node's own returned grad: got the wrong shape, expected the right one.
        await press(pilot, "f2", "right")
        rows = pilot.app.graph_view._rows[3].children
        grads.extend(str(n.label) for n in rows if n.data.kind == "grad")

    ran = drive(script, tmp_path, demo="broken")
    screen = ran.screen
    assert "saved (2,3) float32, (2,3) float32" in screen
    assert "→#3 got (2,3) ✓" in screen
    assert grads == ["→#1 got (3,2) expected (2,3) ✗ shape"]


def test_a_deep_chain_keeps_the_current_node_in_view(tmp_path: Path) -> None:
    chain = "y = x = Tensor(np.ones(2))\nfor i in range(300):\n    y = y * 1.5\nloss = y.sum()\n"
    seen = []

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, chain)
        await enter(pilot, "%debug loss")
        for count in (40, 1, 200):
            await enter(pilot, f"%step {count}")
            current = app.session.current
            seen.append((current.id, app.graph_view.selected_id, screen_text(app)))
        tree = app.graph_view
        assert max(len(line.path) for line in tree._tree_lines) <= MAX_DEPTH + 3
        before = tree.view_root
        tree.focus()
        tree.move_cursor(tree.root.children[0])  # the "↑ N levels above" row
        await press(pilot, "enter")
        assert tree._depth(tree.view_root) < tree._depth(before)  # went up towards the root

    drive(script, tmp_path)
    for current, selected, screen in seen:
        assert selected == current  # the cursor is on the current node …
        assert f"#{current} Mul ▶ current" in screen  # … and it is on screen
        assert "levels above" in screen  # the view was re-rooted above it


def test_tiny_terminal_says_so_and_grows_back(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await pilot.resize_terminal(40, 12)
        await settle(pilot)
        text = screen_text(app)
        assert "too small" in text and "40×12" in text
        await pilot.resize_terminal(70, 20)  # narrow: graph or detail, not both
        await settle(pilot)
        assert app.graph_view.display and not app.query_one(DetailPane).display
        await press(pilot, "f3")
        assert app.query_one(DetailPane).display and not app.graph_view.display
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        text = screen_text(app)
        assert "too small" not in text and "graph" in text and "repl" in text

    drive(script, tmp_path, size=(80, 24))


def test_f9_runs_the_next_cell_of_a_lesson(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        assert pilot.app.commands.lesson is not None
        await press(pilot, "f9")
        await press(pilot, "f9")

    ran = drive(script, tmp_path, lesson="1")
    text = ran.transcript
    assert ">>> %next  (F9)" in text
    assert len(re.findall(r"^cell \d+/\d+$", text, re.MULTILINE)) == 2  # two cells ran
    assert "parents are x and w: True True" in text
    assert "F9 next cell" in ran.screen.splitlines()[-1]


@pytest.mark.parametrize("name", ["mlp", "broken", "nan", "shared"])
def test_every_demo_can_be_debugged_to_the_end(tmp_path: Path, name: str) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await press(pilot, "f6")

    ran = drive(script, tmp_path, demo=name)
    assert ran.app.session is not None and ran.app.session.done
    assert "done:" in ran.transcript
