"""Lessons in the full-screen app, at 80×24 and 120×40: the lesson pane in the graph's place
(what the last cell printed, the next narration and its code), the graph when the lesson opens
a walk, the REPL that grows with the terminal, PageUp/PageDown in the input, the lesson's
progress in the status line."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_app import drive, enter, press, screen_text
from textual.pilot import Pilot

from anet_tui.widgets.help_screen import HelpScreen
from anet_tui.widgets.lesson_pane import LessonPane
from anet_tui.widgets.repl_input import ReplInput

SIZES = [(80, 24), (120, 40)]

# After the k-th F9 of lesson 3, what the lesson pane must show at once: the heading of what
# the cell printed, a piece of it, a piece of the next narration, and the code F9 runs next.
# None: the lesson opened a walk, the graph shows instead.
LESSON_3 = [
    (
        None,
        None,
        "Every op in anet is a Function with a forward and a backward",
        None,  # (the 40 lines of cell 2 start below the long first narration)
    ),
    (
        "── cell 2 ran: it printed nothing ──",
        None,
        "Build a loss and call backward",
        "── cell 4 · F9 runs it ──",
    ),
    ("── cell 4 printed ──", "expected (3, 2)", "Find them with the debugger", "# %continue"),
    None,  # %debug loss, %continue, %show: the walk stopped at Cube's vjp flag
    None,  # %continue, %flags: then at MyDot's shape flag
    None,  # the fix (the stopped session stays on screen)
    (
        "── cell 12 printed ──",
        "no flags",
        "Last, compare with anet's own dot",
        "── cell 14 · F9 runs it ──",
    ),
    (
        "── cell 14 printed ──",
        "w.grad matches anet: True",
        "Both match. What you used:",
        "end of the lesson",
    ),
]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_after_each_f9_the_narration_the_code_and_the_output_are_on_screen(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    seen: list[tuple[str, bool]] = []

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        seen.append((screen_text(app), app.screen.has_class("-lesson")))
        for _ in range(len(LESSON_3) - 1):
            await press(pilot, "f9")
            seen.append((screen_text(app), app.screen.has_class("-lesson")))

    drive(script, tmp_path, size=size, lesson="3")
    for k, ((screen, pane), expected) in enumerate(zip(seen, LESSON_3, strict=True)):
        status = screen.splitlines()[0]
        assert status.startswith(f"lesson 3 · step {k}/7"), status
        if expected is None:  # the walk's graph and detail, the lesson out of the way
            assert not pane and "╭─ graph" in screen, f"after F9 {k}:\n{screen}"
            assert "03_debug_your_function.py:60" in screen and "<repl-" not in screen
            continue
        assert pane and "╭─ graph" not in screen, f"after F9 {k}:\n{screen}"
        for part in expected:
            assert part is None or part in screen, f"after F9 {k}: {part!r} not in\n{screen}"
    screen, _ = seen[3]  # stopped at Cube's wrong values
    assert "│ loss = #5 Sum · step 2/3 · ✗ 1 flag" in screen.splitlines()[0]
    assert "#4 Cube ✗ vjp" in screen
    screen, _ = seen[4]  # then at MyDot's wrong shape
    assert "│ loss = #5 Sum · step 3/3 · ✗ 2 flags" in screen.splitlines()[0]
    assert "#3 MyDot ✗ shape" in screen and "#4 Cube ✗ vjp" in screen


def test_the_lesson_gives_way_to_the_graph_and_comes_back(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app

        def lesson_shown() -> bool:
            return app.screen.has_class("-lesson") and app.lesson_pane.display

        assert lesson_shown() and not app.graph_view.display
        await press(pilot, "f3")  # graph and detail chosen over the lesson
        assert not lesson_shown() and app.graph_view.display and app.detail.display
        await press(pilot, "f2")  # the lesson again, focused to scroll it
        assert lesson_shown() and isinstance(app.focused, LessonPane)
        await press(pilot, "f4")
        await enter(pilot, "t = Tensor([1.0, 2.0]); u = (t * t).sum()")
        await enter(pilot, "%debug u")  # a walk typed by hand
        assert not lesson_shown() and "▶ current" in screen_text(app)
        await enter(pilot, "%finish")  # finished, its graph stays in view
        assert app.session.done and not lesson_shown() and "✓ done" in screen_text(app)
        await press(pilot, "f9")  # the next cell: the lesson comes back
        assert lesson_shown() and "cell 2 ran: it printed nothing" in screen_text(app)
        await press(pilot, "escape")  # out of the input: into the lesson
        assert isinstance(app.focused, LessonPane)

    drive(script, tmp_path, lesson="3")


@pytest.mark.parametrize("lesson", [None, "3"])
def test_the_repl_grows_with_the_terminal(tmp_path: Path, lesson: str | None) -> None:
    rows: dict[tuple[int, int], int] = {}
    for size in SIZES:

        async def script(pilot: Pilot, size: tuple[int, int] = size) -> None:
            rows[size] = pilot.app.transcript.region.height

        drive(script, tmp_path, size=size, lesson=lesson)
    small, big = rows[SIZES[0]], rows[SIZES[1]]
    assert big >= small + 5, rows
    if lesson is None:
        assert small == 7  # 80×24 without a lesson: as before


def test_page_up_and_down_in_the_input_scroll_the_transcript(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        transcript = app.transcript
        await enter(pilot, 'print("\\n".join(f"line {i}" for i in range(100)))')
        await pilot.press(*"x = 1")
        bottom = transcript.scroll_y
        assert bottom == transcript.max_scroll_y > 0
        await press(pilot, "pageup")
        assert transcript.scroll_y == bottom - transcript.scrollable_content_region.height
        await press(pilot, "pageup")
        assert transcript.scroll_y < bottom - transcript.scrollable_content_region.height
        assert isinstance(app.focused, ReplInput) and app.repl_input.text == "x = 1"
        await press(pilot, "pagedown", "pagedown")
        assert transcript.scroll_y == bottom
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        keys = {(where, key): what for where, key, what in app.screen.keys}
        assert "scroll the transcript up a page" in keys["in the REPL input", "pageup"]
        assert "scroll the lesson" in keys["in the lesson", "↑ ↓ PgUp PgDn"]

    drive(script, tmp_path)
