"""Keys and input (issue #14): keys and entries pressed while something runs queue in order,
typing in the graph lands in the input, every F-key has another key and a % command, focus
survives resizing, the palette's Keys entry is our F1 help."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from test_app import drive, enter, press, screen_text, settle
from textual import events
from textual.binding import Binding
from textual.command import CommandPalette
from textual.pilot import Pilot

from anet_tui.app import AnetApp
from anet_tui.widgets.detail_pane import DetailPane
from anet_tui.widgets.graph_tree import GraphTree
from anet_tui.widgets.help_screen import HelpScreen
from anet_tui.widgets.repl_input import ReplInput

# A 75-layer MLP: 151 nodes, more than a burst of keys can step through.
DEEP_MLP = textwrap.dedent(
    """\
    import numpy as np

    from anet import Tensor

    rng = np.random.default_rng(0)
    h = Tensor(rng.standard_normal((4, 8)).astype(np.float32), requires_grad=False)
    for _ in range(75):
        w = Tensor(rng.standard_normal((8, 8)).astype(np.float32) * 0.5)
        h = h.dot(w).relu()
    loss = h.sum()
    """
)


def deep_mlp(tmp_path: Path) -> str:
    path = tmp_path / "deep_mlp.py"
    path.write_text(DEEP_MLP)
    return str(path)


def burst(app: AnetApp, *keys: str) -> None:
    """Keys as a terminal delivers a burst: all in the app's queue before the first is handled."""
    for key in keys:
        character = key if len(key) == 1 else None
        app.post_message(events.Key(key, character))


# ---- the run queue -------------------------------------------------------------------------------


def test_three_f10s_in_a_burst_step_three_nodes(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        burst(app, "f10", "f10", "f10")
        await settle(pilot)
        assert app.session.position == (3, 3)

    ran = drive(script, tmp_path, demo="broken")
    assert ran.transcript.count(">>> %step  (F10)") == 3


def test_forty_f10s_in_a_burst_step_exactly_forty_nodes(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        assert app.session.position == (0, 151)
        burst(app, *["f10"] * 40)
        await settle(pilot)
        assert app.session.position == (40, 151)
        assert "step 40/151" in screen_text(app).splitlines()[0]

    ran = drive(script, tmp_path, file=deep_mlp(tmp_path))
    assert ran.transcript.count(">>> %step  (F10)") == 40


def test_entries_typed_together_each_run_in_order(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        burst(app, *"%debug loss", "enter", *"%continue", "enter", *"len(loss.shape)", "enter")
        await settle(pilot)
        assert app.repl_input.text == ""
        assert app.session is not None and app.session.flags  # %continue ran to the flag

    ran = drive(script, tmp_path, demo="broken")
    text = ran.transcript
    first, second, third = (
        text.index(">>> %debug loss"),
        text.index(">>> %continue"),
        text.index(">>> len(loss.shape)"),
    )
    assert first < second < third
    assert text.rstrip().endswith("0")


def test_keys_after_an_entry_typed_in_the_same_burst_wait_for_it(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        burst(app, *"%debug loss", "enter", "f10", "f10")
        await settle(pilot)
        assert app.session is not None and app.session.position == (2, 3)

    ran = drive(script, tmp_path, demo="broken")
    text = ran.transcript
    assert text.index(">>> %debug loss") < text.index(">>> %step  (F10)")


def test_ctrl_c_stops_the_running_entry_and_drops_the_queue(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        app.repl_input.load_text("import time; time.sleep(30)")
        app.repl_input.move_cursor(app.repl_input.document.end)
        burst(app, "enter", "f10", "f10", "f5")
        await pilot.pause(0.2)
        while not app.shell.running:
            await pilot.pause(0.05)
        await press(pilot, "ctrl+c")
        assert not app.busy
        assert app.session.position[0] == 0  # the queued steps did not run

    ran = drive(script, tmp_path, demo="broken")
    assert "KeyboardInterrupt" in ran.transcript
    assert "3 queued entries dropped" in ran.transcript
    assert ">>> %step" not in ran.transcript


def test_f10_with_no_session_says_what_it_needs_and_runs_nothing(tmp_path: Path) -> None:
    said: list[str] = []

    async def script(pilot: Pilot) -> None:
        pilot.app.notify = lambda message, **_: said.append(message)  # type: ignore[method-assign]
        await press(pilot, "f10")
        assert said == ["F10 (%step) needs a session: %debug EXPR"]

    ran = drive(script, tmp_path)
    assert ">>> %step" not in ran.transcript


# ---- typing in the graph -------------------------------------------------------------------------


def test_typing_after_esc_lands_in_the_input_intact(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "escape")
        assert isinstance(app.focused, GraphTree)
        await pilot.press(*"print(loss.sum())")
        assert app.repl_input.text == "print(loss.sum())"
        assert isinstance(app.focused, ReplInput)
        assert app.session.position[0] == 0  # neither n nor s stepped
        app.repl_input.load_text("")
        await press(pilot, "escape")
        await pilot.press(*"s = loss.sum()")  # a letter key first: still typing
        assert app.repl_input.text == "s = loss.sum()"
        assert app.session.position[0] == 0

    drive(script, tmp_path, demo="mlp")


def test_typing_in_the_graph_or_detail_goes_to_the_input(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f2", "down")  # working in the graph: its letter keys act
        await pilot.press(*"x = 1")  # x is not one: it and the rest go to the input
        assert app.repl_input.text == "x = 1" and isinstance(app.focused, ReplInput)
        app.repl_input.load_text("")
        await press(pilot, "f3")
        await pilot.press(*"y = 2")
        assert app.repl_input.text == "y = 2" and isinstance(app.focused, ReplInput)
        await press(pilot, "enter")
        assert app.shell.namespace["y"] == 2

    drive(script, tmp_path, demo="mlp")


def test_letter_keys_in_the_graph_name_the_key_pressed(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f2")
        footer = screen_text(app).splitlines()[-1]
        assert "n s step" in footer and "c continue" in footer
        await press(pilot, "n")
        await press(pilot, "s")
        assert app.session.position[0] == 2
        await press(pilot, "ctrl+n")
        assert app.session.position[0] == 3
        await press(pilot, "f4")
        footer = screen_text(app).splitlines()[-1]
        assert "n s step" not in footer and "F10 step" in footer

    ran = drive(script, tmp_path, demo="mlp")
    text = ran.transcript
    assert ">>> %step  (n)" in text and ">>> %step  (s)" in text and ">>> %step  (^n)" in text
    assert "(F10)" not in text


def test_esc_in_the_graph_keeps_its_letters(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f2", "escape")  # Esc where there is no input to leave
        await press(pilot, "n")
        assert app.session.position[0] == 1 and app.repl_input.text == ""

    drive(script, tmp_path, demo="mlp")


def test_a_paste_in_the_graph_goes_to_the_input(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f2", "down")
        app.post_message(events.Paste("n = 3"))
        await settle(pilot)
        assert app.repl_input.text == "n = 3" and isinstance(app.focused, ReplInput)
        assert app.session.position[0] == 0

    drive(script, tmp_path, demo="mlp")


# ---- every F-key has another key and a % command -------------------------------------------------


def f_key(key: str) -> bool:
    return re.fullmatch(r"f\d+", key) is not None


def test_every_f_key_has_another_key_and_a_command_in_help(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        help_text = screen_text(app) + "\n".join(
            f"{key}  {what}" for _, key, what in app.screen.keys
        )
        rows = app.screen.keys
        commands = {usage.split()[0] for usage, _ in app.screen.commands}
        checked = 0
        for binding in AnetApp.BINDINGS:
            assert isinstance(binding, Binding)
            keys = binding.key.split(",")
            if not any(f_key(k) for k in keys):
                continue
            checked += 1
            row = next(r for r in rows if app.get_key_display(binding) in r[1].split())
            others = [k for k in row[1].split() if not f_key(k.lower())]
            assert others, f"{binding.key} ({binding.action}) has no other key in help: {row}"
            command = AnetApp.COMMAND_OF.get(binding.id or "")
            if command is not None:
                assert command in commands and command in row[2], (binding.key, row)
        assert checked >= 8
        assert "%step" in help_text

    drive(script, tmp_path, demo="broken")


# ---- focus ---------------------------------------------------------------------------------------


def test_focus_survives_shrinking_below_the_minimum_and_growing_back(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app.focused, ReplInput)
        await pilot.resize_terminal(40, 12)
        await settle(pilot)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert isinstance(app.focused, ReplInput)
        await pilot.press(*"6 * 7")
        assert app.repl_input.text == "6 * 7"
        await press(pilot, "f3")
        await pilot.resize_terminal(30, 10)
        await settle(pilot)
        await pilot.resize_terminal(70, 20)  # narrow: the detail pane, where focus was
        await settle(pilot)
        assert isinstance(app.focused, DetailPane)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert isinstance(app.focused, DetailPane)

    drive(script, tmp_path, demo="mlp")


# ---- the palette ---------------------------------------------------------------------------------


def test_the_palettes_keys_entry_opens_our_help_and_esc_closes_it(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"keys")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        assert isinstance(app.screen, HelpScreen)
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen) and not app.screen.query("HelpPanel")
        text = screen_text(app)
        assert "graph" in text and "repl" in text and "F10" not in text.splitlines()[0]
        await press(pilot, "ctrl+p")
        await pilot.press(*"keys")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await press(pilot, "f1")
        assert not isinstance(app.screen, HelpScreen)
        assert isinstance(app.focused, ReplInput)

    drive(script, tmp_path)
