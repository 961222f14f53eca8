"""Pictures of gradients in the full-screen app (issue #15), at 80×24: the detail pane draws
the selected node's histograms, and the flow chart (F8, ``%flow``) takes the graph pane's
place, one row per node, following the walk; lesson 4's twenty sigmoid layers show the grad
falling from the loss down to the first layer."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from test_app import drive, press, screen_text
from textual.pilot import Pilot

from anet_tui.app import AnetApp

LESSON = "4"


def rows(app: AnetApp, notes: bool = False) -> list[str]:
    """The flow view's rows as drawn: its bars (``notes``: the lines after them instead)."""
    options = [
        app.flow_view.rows.get_option_at_index(i) for i in range(app.flow_view.rows.option_count)
    ]
    return [str(o.prompt) for o in options if o.disabled == notes]


def detail_text(app: AnetApp, width: int = 200) -> str:
    """The detail pane's text, its lines wrapped at ``width``."""
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(app.detail.body.content)
    return console.export_text()


async def sigmoid_walk(pilot: Pilot) -> None:
    """Lesson 4's first cells: the network, then ``%debug loss``, ``%step 7``, ``%flow``."""
    await press(pilot, "f9")
    await press(pilot, "f9")


def test_the_detail_pane_draws_the_histograms_of_the_selected_node(tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)
        await press(pilot, "f8")  # back to the tree (the %flow cell showed the chart)
        assert app.graph_view.display and not app.flow_view.display
        seen["detail"] = detail_text(app)
        wrapped = detail_text(app, app.detail.scrollable_content_region.width)
        at = [line.rstrip() for line in wrapped.splitlines()].index("── pictures ──")
        app.detail.scroll_to(y=at, animate=False)
        await press(pilot)
        seen["screen"] = screen_text(app)

    drive(script, tmp_path, lesson=LESSON)
    text = seen["detail"]
    assert "out  (64, 32) float32" in text and "grad received" in text
    assert "mean " in text and "std " in text and re.search("[▁▂▃▄▅▆▇█]", text)
    screen = seen["screen"]
    assert "── pictures ──" in screen and "values" in screen
    assert re.search("[▁▂▃▄▅▆▇█]{3}", screen)


def test_flow_view_follows_the_walk_and_shows_the_grad_falling(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)  # %flow shows the chart in the graph's place
        assert app.flow_view.display and not app.graph_view.display
        seen["early"] = rows(app)
        await press(pilot, "f6")  # the rest of the walk: the chart is redrawn
        seen["rows"] = rows(app)
        seen["notes"] = "\n".join(rows(app, notes=True))
        seen["screen"] = screen_text(app)
        app.flow_view.rows.highlighted = 5  # a bar moved to: its node in the tree and detail
        await press(pilot)
        seen["selected"] = app.graph_view.selected_id
        seen["title"] = str(app.detail.border_title)
        await press(pilot, "escape")
        seen["back"] = app.graph_view.display and not app.flow_view.display

    drive(script, tmp_path, lesson=LESSON)
    early, final = seen["early"], seen["rows"]
    assert isinstance(early, list) and isinstance(final, list)
    assert 0 < len(early) < len(final)
    assert final[0].startswith("#") and "Mean" in final[0]
    means = [float(re.findall(r"\d\.\de[+-]\d\d", row)[-2]) for row in final]
    assert means[0] > 1e6 * means[-1]  # from the loss down to the first layer
    assert "grad flow per node" in str(seen["screen"])
    assert "falls 17 orders of" in str(seen["notes"]) and "vanishing" in str(seen["notes"])
    selected = seen["selected"]
    assert selected is not None and str(seen["title"]).startswith(f"#{selected} ")
    assert final[5].startswith(f"#{selected} ")
    assert seen["back"]


def test_flow_view_reads_without_colour_and_in_ascii(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "linux")
    seen: dict[str, str] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp) and app.ascii
        await sigmoid_walk(pilot)
        seen["flow"] = screen_text(app)
        seen["notes"] = "\n".join(rows(app, notes=True))
        await press(pilot, "f8")
        seen["detail"] = detail_text(app)

    drive(script, tmp_path, lesson=LESSON)
    flow = seen["flow"]
    assert "grad flow per node" in flow
    assert "# mean |grad|, - on to max |grad|" in seen["notes"]
    assert "#105 Mean" in flow and "####" in flow
    assert flow.isascii()
    detail = seen["detail"]
    assert "-- pictures --" in detail and "mean " in detail and "std " in detail
    assert "#" in detail.split("-- pictures --")[1]
    assert detail.isascii()
