"""Text snapshots of the screens that matter, at a fixed size, kept under tests/tui/snapshots/.

A snapshot is the screen as plain text, so a reviewer reads it like the terminal. After an
intended change, regenerate with
``ANET_TUI_UPDATE_SNAPSHOTS=1 python -m pytest tests/tui/test_app_snapshots.py``
and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from test_app import drive, enter, press, screen_text
from textual.pilot import Pilot

SNAPSHOTS = Path(__file__).parent / "snapshots"
ROOT = Path(__file__).resolve().parents[2]


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("ANET_TUI_UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        if not os.environ.get("ANET_TUI_UPDATE_SNAPSHOTS"):
            pytest.fail(f"{path.name} did not exist: written, read it and run again")
        return
    expected = path.read_text(encoding="utf-8").rstrip("\n")
    if text != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), text.splitlines(), "snapshot", "screen", lineterm=""
            )
        )
        pytest.fail(f"screen differs from {path.name}:\n{diff}")


def test_start(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        pass

    ran = drive(script, tmp_path, demo="broken")
    assert "%debug loss" in ran.screen
    check_snapshot("start", ran.screen)


def test_mid_step(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await press(pilot, "f10")
        await press(pilot, "f10")
        await press(pilot, "f10")

    ran = drive(script, tmp_path, demo="mlp")
    assert "step 3/7" in ran.screen and "▶ current" in ran.screen
    check_snapshot("mid_step", ran.screen)


def test_shape_mismatch_flagged(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await enter(pilot, "%continue")

    ran = drive(script, tmp_path, demo="broken")
    screen = ran.screen
    assert "✗ 1 flag" in screen and "#3 SwapGrad ✗ shape" in screen
    assert "got (3,2) expected (2,3) ✗ shape" in screen
    check_snapshot("shape_mismatch", screen)


def test_detail_pane(tmp_path: Path) -> None:
    screens = []

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await enter(pilot, "%continue")
        await press(pilot, "f3")
        screens.append(screen_text(pilot.app))
        await press(pilot, "end")  # the rest of the detail: its backward

    ran = drive(script, tmp_path, demo="broken", size=(100, 40))
    top, screen = screens[0], ran.screen
    for part in (
        "applied at broken.py:31",
        "loss = x.swapgrad().mul(ones).sum()",
        "grad_output  (2, 3) float32",
        "parent 0 (#1): (3, 2) float32",
        "expected (2, 3) float32",
    ):
        assert part in top, part
    for part in ("── SwapGrad.backward ──", "return (grad_output * 2).T"):
        assert part in screen, part
    check_snapshot("detail_pane", screen)


def test_no_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    seen = {}

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await press(pilot, "f10")
        await enter(pilot, "%continue")
        seen["no_color"] = pilot.app.no_color
        seen["screen"] = screen_text(pilot.app)

    ran = drive(script, tmp_path, demo="broken")
    assert seen["no_color"]
    # Without colour every state still reads: words and symbols, not hues.
    assert "#5 Sum ✓ done" in ran.screen and "#3 SwapGrad ✗ shape" in ran.screen
    assert "✗ 1 flag" in ran.screen
    check_snapshot("no_color", ran.screen)


LESSON_3_STEPS = 8  # the lesson as it opens, then after each of its 7 F9s


@pytest.fixture(scope="module")
def lesson_3_screens(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``anet-tui --lesson 3`` at 80×24: the screen as it opens and after each F9."""
    screens: list[str] = []

    async def script(pilot: Pilot) -> None:
        screens.append(screen_text(pilot.app))
        for _ in range(LESSON_3_STEPS - 1):
            await press(pilot, "f9")
            screens.append(screen_text(pilot.app))

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)  # messages name the lesson's file relative to the working folder
        drive(script, tmp_path_factory.mktemp("lesson3"), lesson="3")
    return screens


@pytest.mark.parametrize("step", range(LESSON_3_STEPS))
def test_lesson_3_step_by_step(lesson_3_screens: list[str], step: int) -> None:
    check_snapshot(f"lesson3_step{step}", lesson_3_screens[step])
