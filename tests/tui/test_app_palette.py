"""The Ctrl+P palette: Textual's own provider lists Textual's commands and the app's (one per key
that works now), and finds them by fuzzy search."""

from __future__ import annotations

from pathlib import Path

from test_app import drive, enter, press, screen_text
from textual.command import CommandPalette
from textual.pilot import Pilot

SESSION = {"Step", "Continue", "Finish", "Restart"}


def test_the_palette_offers_the_keys_that_work_and_finds_step(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Keys", "Quit", "Help"} <= set(titles) and not SESSION & set(titles)
        assert titles.count("Quit") == 1  # the app's own quit key is Textual's Quit
        await enter(pilot, "%debug loss")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert set(commands) >= SESSION
        assert commands["Step"].help == "run one node's backward · key F10"

        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"step")
        await pilot.pause(0.3)
        listed = screen_text(app)
        assert "Step" in listed and "run one node's backward · key F10" in listed
        await press(pilot, "enter")
        assert app.session.position[0] == 1  # it ran %step

    ran = drive(script, tmp_path, demo="broken")
    assert ">>> %step  (F10)" in ran.transcript
