"""Text snapshots of the screens that matter, at a fixed size, kept under tests/tui/snapshots/.

A snapshot is the screen as plain text, so a reviewer reads it like the terminal. After an
intended change, regenerate with
``ANET_TUI_UPDATE_SNAPSHOTS=1 python -m pytest tests/tui/test_app_snapshots.py``
and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from pathlib import Path

import pytest
from test_app import drive, enter, press, screen_text
from textual.pilot import Pilot

from anet_tui.app import AnetApp

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


# ---- pictures of gradients (issue #15): lesson 4's twenty sigmoid layers at 80×24 ----------------

BAR_ROW = re.compile(
    r"^(?:▶ |> |  )(?P<layer>\S*)\s+(?P<param>weight|bias)\s.*?"
    r"(?P<mean>\d\.\de[+-]\d\d)\s+(?P<max>\d\.\de[+-]\d\d)"
)


def flow_rows(app: AnetApp) -> list[str]:
    """Every bar row of the flow view as drawn (scrolled out of sight or not)."""
    rows = app.flow_view.rows
    options = [rows.get_option_at_index(i) for i in range(rows.option_count)]
    return [str(o.prompt) for o in options if not o.disabled]


def means_by_param(rows: list[str]) -> tuple[list[str], dict[str, list[float]]]:
    """The layers in the rows' order, and each parameter's mean |grad| as drawn, layer by layer
    (a row under its layer's first leaves the layer blank)."""
    layers: list[str] = []
    means: dict[str, list[float]] = {"weight": [], "bias": []}
    for row in rows:
        m = BAR_ROW.match(row)
        assert m is not None, row
        if m["layer"]:
            layers.append(m["layer"])
        means[m["param"]].append(float(m["mean"]))
    return layers, means


@pytest.fixture(scope="module", params=["colour", "no_color"])
def lesson_4_pictures(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """``anet-tui --lesson 4`` at 80×24 (with NO_COLOR=1 too): the flow view per parameter after
    the sigmoid network's walk (F9 three times: the network, ``%debug loss`` ``%step 7``
    ``%flow``, then ``%finish`` ``%flow --params``), its first row selected; and the detail of
    the first Sigmoid (``%flow``'s view per node, F3)."""
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        seen["no_color"] = app.no_color
        await press(pilot, "f9", "f9")
        await press(pilot, "down", "down", "down", "down")  # (#102 Sigmoid)
        await press(pilot, "f3")  # its detail, in the chart's place at 80 columns
        seen["detail"] = screen_text(app)
        await press(pilot, "f9")
        await press(pilot, "down")
        seen["flow"] = screen_text(app)
        seen["rows"] = flow_rows(app)

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        if request.param == "no_color":
            patch.setenv("NO_COLOR", "1")
        drive(script, tmp_path_factory.mktemp("lesson4"), lesson="4")
    seen["name"] = request.param
    return seen


def test_flow_view_of_lesson_4_sigmoid_falls_by_layer(lesson_4_pictures: dict[str, object]) -> None:
    seen = lesson_4_pictures
    assert seen["no_color"] == (seen["name"] == "no_color")
    screen, rows = seen["flow"], seen["rows"]
    assert isinstance(screen, str) and isinstance(rows, list)
    assert "grad flow per parameter of net (Deep)" in screen
    assert "▶ layers.19 weight" in screen  # the row selected, marked in words: no colour needed
    layers, means = means_by_param(rows)
    assert layers == [f"layers.{i}" for i in range(19, -1, -1)]  # the output layer first
    for param in ("weight", "bias"):  # falling at every layer, by more than 3 powers of ten
        got = means[param]
        assert len(got) == 20 and all(a > b for a, b in itertools.pairwise(got)), got
        assert got[0] / got[-1] >= 1e3
    check_snapshot(f"flow_view_{seen['name']}", screen)


def test_detail_pane_of_lesson_4_shows_histograms(lesson_4_pictures: dict[str, object]) -> None:
    seen = lesson_4_pictures
    screen = seen["detail"]
    assert isinstance(screen, str)
    top = screen.splitlines()[1:13]  # the top row: the detail, in the flow chart's place
    assert top[0].startswith("╭─ #102 Sigmoid ")
    assert any("out  (64, 32) float32" in line for line in top)
    assert sum(bool(re.search("[▁▂▃▄▅▆▇█]{4}", line)) for line in top) >= 2  # its bars
    assert any("mean " in line and "std " in line for line in top)
    check_snapshot(f"detail_histogram_{seen['name']}", screen)
