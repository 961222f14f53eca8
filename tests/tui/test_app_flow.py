"""Pictures of gradients in the full-screen app (issue #15), at 80×24: the detail pane draws
the selected node's histograms right under its line of code, and the flow chart (F8,
``%flow``) takes the graph pane's place (below 100 columns the whole top row), one row per node
or per parameter as ``%flow`` asked, following the walk, the selected row marked in words;
lesson 4's twenty sigmoid layers show the grad falling from the loss down to the first layer,
and the whole lesson runs with F9."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from test_app import drive, enter, press, screen_text
from textual.pilot import Pilot

from anet_tui.app import AnetApp

LESSON = "4"


BARS = re.compile("[█·#-]+")


def rows(app: AnetApp, notes: bool = False) -> list[str]:
    """The flow view's rows as drawn, the marker column first: its bars (``notes``: the lines
    after them instead)."""
    options = [
        app.flow_view.rows.get_option_at_index(i) for i in range(app.flow_view.rows.option_count)
    ]
    return [str(o.prompt) for o in options if o.disabled == notes]


def detail_text(app: AnetApp, width: int = 200) -> str:
    """The detail pane's text, its lines wrapped at ``width``."""
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(app.detail.body.content)
    return console.export_text()


def marked(app: AnetApp) -> list[str]:
    """The flow view's rows that carry the marker of the selected row."""
    return [row for row in rows(app) if not row.startswith("  ")]


def longest_bar(lines: list[str]) -> int:
    """The most cells a bar takes in ``lines``."""
    return max((len(m) for line in lines for m in BARS.findall(line) if len(m) > 2), default=0)


async def sigmoid_walk(pilot: Pilot) -> None:
    """Lesson 4's first cells: the network, then ``%debug loss``, ``%step 7``, ``%flow``."""
    await press(pilot, "f9")
    await press(pilot, "f9")


def test_the_detail_pane_draws_the_histograms_right_under_the_line_of_code(
    tmp_path: Path,
) -> None:
    seen: dict[str, str] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)
        await press(pilot, "f8")  # back to the tree (the %flow cell showed the chart)
        assert app.graph_view.display and app.detail.display and not app.flow_view.display
        assert app.detail.scroll_y == 0
        seen["detail"] = detail_text(app)
        seen["screen"] = screen_text(app)

    drive(script, tmp_path, lesson=LESSON)
    text = seen["detail"]
    assert "out  (64, 32) float32" in text and "2,048 values" in text and "grad received" in text
    assert "mean " in text and "std " in text and re.search("[▁▂▃▄▅▆▇█]", text)
    # The output's picture in the place of its line, the others before the parents and saved
    # tensors; the output's values under its picture.
    order = [text.index(part) for part in ("applied at", "out  (64", "grad received", "parents")]
    assert order == sorted(order)
    # At 80×24, without scrolling, the histogram's bars show in the detail pane.
    detail = [line[44:] for line in seen["screen"].splitlines()[2:12]]
    assert any("out  (64, 32) float32" in line for line in detail)
    assert any(re.search("[▁▂▃▄▅▆▇█]{2}", line) for line in detail), "\n".join(detail)


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
        seen["marked"] = marked(app)
        await press(pilot, "escape")
        seen["back"] = app.graph_view.display and not app.flow_view.display
        seen["focus"] = app.focused is app.graph_view

    drive(script, tmp_path, lesson=LESSON)
    early, final = seen["early"], seen["rows"]
    assert isinstance(early, list) and isinstance(final, list)
    assert 0 < len(early) < len(final)
    assert final[0].startswith("  #") and "Mean" in final[0]
    means = [float(re.findall(r"\d\.\de[+-]\d\d", row)[-2]) for row in final]
    assert means[0] > 1e6 * means[-1]  # from the loss down to the first layer
    assert "grad flow per node" in str(seen["screen"])
    assert "falls 17 orders of" in str(seen["notes"]) and "vanishing" in str(seen["notes"])
    selected = seen["selected"]
    assert selected is not None and str(seen["title"]).startswith(f"#{selected} ")
    assert seen["marked"] == [f"▶ {final[5][2:]}"] and final[5].startswith(f"  #{selected} ")
    assert seen["back"] and seen["focus"]


def test_flow_view_has_the_top_row_to_itself_below_100_columns(tmp_path: Path) -> None:
    """At 80 columns the chart takes graph and detail's place (its bars 30 cells and more);
    F3 shows the detail there instead, F2 the chart again, F8 graph and detail. At 120 the
    chart stands in the graph's place beside the detail."""
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)
        seen["flow"] = (app.flow_view.region.width, app.detail.display, longest_bar(rows(app)))
        await press(pilot, "down", "down")
        picked = app.graph_view.selected_id
        await press(pilot, "f3")
        seen["f3"] = (
            app.flow_view.display,
            app.detail.region.width,
            app.focused is app.detail,
            str(app.detail.border_title).startswith(f"#{picked} "),
        )
        await press(pilot, "f2")
        seen["f2"] = (app.flow_view.display, app.detail.display, app.focused)
        await press(pilot, "f8")
        seen["f8"] = (app.graph_view.display, app.detail.display, app.flow_view.display)
        await pilot.resize_terminal(120, 30)
        await press(pilot, "f8")
        seen["wide"] = (
            app.flow_view.display,
            app.detail.display,
            app.flow_view.region.width + app.detail.region.width,
        )

    drive(script, tmp_path, lesson=LESSON)
    width, detail_shown, bar = seen["flow"]  # type: ignore[misc]
    assert width == 80 and not detail_shown and bar >= 30
    assert seen["f3"] == (False, 80, True, True)
    shown, detail_shown, focused = seen["f2"]  # type: ignore[misc]
    assert shown and not detail_shown and focused.id == "flow-rows"
    assert seen["f8"] == (True, True, False)
    assert seen["wide"] == (True, True, 120)


def test_f2_and_esc_go_to_the_flow_chart_standing_in_the_graphs_place(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)
        await press(pilot, "f4")
        await press(pilot, "f2")  # not the tree hidden behind the chart
        seen["f2"] = (app.focused is app.flow_view.rows, app.flow_view.display)
        await press(pilot, "f4")
        await press(pilot, "escape")  # out of the input: likewise
        seen["esc"] = (app.focused is app.flow_view.rows, app.flow_view.display)
        await press(pilot, "escape")  # in the chart: back to the tree
        seen["tree"] = (app.focused is app.graph_view, app.flow_view.display)

    drive(script, tmp_path, lesson=LESSON)
    assert seen == {"f2": (True, True), "esc": (True, True), "tree": (True, False)}


def test_flow_params_typed_in_the_app_draws_a_bar_per_parameter_by_layer(
    tmp_path: Path,
) -> None:
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)
        await enter(pilot, "%finish")
        await enter(pilot, "%flow --params")
        seen["params"] = (str(app.flow_view.border_title), rows(app)[:2])
        await press(pilot, "f8", "f8")  # closed and opened again: as %flow asked
        seen["again"] = rows(app)[:1]
        await enter(pilot, "%flow")
        seen["nodes"] = (str(app.flow_view.border_title), rows(app)[:1])
        await enter(pilot, "%flow --params")
        await enter(pilot, "loss = nn.mse_loss(net(x), target)")
        await enter(pilot, "%debug loss")
        await enter(pilot, "%finish")
        await press(pilot, "f8", "f8")  # another graph: per node until %flow asks again
        seen["new graph"] = rows(app)[:1]
        seen["transcript"] = app.transcript.text

    drive(script, tmp_path, lesson=LESSON)
    title, first = seen["params"]  # type: ignore[misc]
    assert title == "grad flow per parameter of net (Deep)"
    assert first[0].startswith("▶ layers.19 weight ") or first[0].startswith("  layers.19 weight ")
    assert first[1].split()[0] == "bias"
    assert seen["again"] == first[:1]
    title, first = seen["nodes"]  # type: ignore[misc]
    assert title == "grad flow per node" and first[0].lstrip("▶ ").startswith("#105 Mean")
    assert seen["new graph"][0].lstrip("▶ ").startswith("#")  # type: ignore[index]
    assert "grad flow per parameter of net (Deep) · loss (#105 Mean)" in str(seen["transcript"])


def test_the_flow_chart_in_the_transcript_fits_its_width(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await sigmoid_walk(pilot)
        seen["width"] = app.transcript.scrollable_content_region.width
        seen["text"] = app.transcript.text

    drive(script, tmp_path, lesson=LESSON)
    chart = [line for line in str(seen["text"]).splitlines() if "█" in line]
    assert len(chart) >= 8
    assert max(map(len, chart)) <= int(seen["width"])  # type: ignore[call-overload]


def test_the_selected_flow_row_is_marked_in_words_without_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp) and app.no_color
        await sigmoid_walk(pilot)
        seen["none"] = marked(app)
        await press(pilot, "down", "down", "down")
        seen["third"] = (marked(app), app.graph_view.selected_id)
        await press(pilot, "up")
        seen["second"] = marked(app)
        await press(pilot, "f10")  # the chart is drawn again: the mark stays on its node
        seen["redrawn"] = marked(app)
        seen["screen"] = screen_text(app)

    drive(script, tmp_path, lesson=LESSON)
    assert seen["none"] == []
    (row,), selected = seen["third"]  # type: ignore[misc]
    assert row.startswith(f"▶ #{selected} ")
    (second,) = seen["second"]  # type: ignore[misc]
    assert second.startswith("▶ ") and second != row
    assert seen["redrawn"] == [second]
    assert second in str(seen["screen"])


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
        await press(pilot, "down", "down", "down", "down")
        seen["flow"] = screen_text(app)
        seen["notes"] = "\n".join(rows(app, notes=True))
        await press(pilot, "f8")
        seen["detail"] = detail_text(app)

    drive(script, tmp_path, lesson=LESSON)
    flow = seen["flow"]
    assert "grad flow per node" in flow
    assert "# mean |grad|, - on to max |grad|" in seen["notes"]
    assert "> #102 Sigmoid" in flow and "####" in flow
    assert flow.isascii()
    detail = seen["detail"]
    assert "out  (64, 32) float32" in detail and "mean " in detail and "std " in detail
    assert re.search("[_=#-]{4}", detail.split("out  (64, 32)")[1])
    assert detail.isascii()


def test_lesson_4_runs_end_to_end_with_f9(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        lesson = app.commands.lesson
        assert lesson is not None
        titles = []
        for _ in range(20):
            if lesson.done:
                break
            await press(pilot, "f9")
            if app.flow_view.display:
                titles.append(str(app.flow_view.border_title))
        seen["done"] = lesson.done
        seen["titles"] = titles
        seen["transcript"] = app.transcript.text
        seen["status"] = screen_text(app).splitlines()[0]

    drive(script, tmp_path, lesson=LESSON)
    text = str(seen["transcript"])
    assert seen["done"], text[-3000:]
    assert "Traceback" not in text and "Error" not in text
    assert "— vanishing gradients" in text and "— exploding gradients" in text
    assert "— dead ReLUs?" in text and "% zeros" in text
    assert "lesson 4 · step 8/8" in str(seen["status"])
    titles = seen["titles"]
    assert isinstance(titles, list)
    assert titles.count("grad flow per node") == 2  # the sigmoid's first look, the dead ReLUs
    assert titles.count("grad flow per parameter of net (Deep)") == 4


def test_show_in_a_lesson_cell_puts_the_nodes_pictures_in_view(tmp_path: Path) -> None:
    """Lesson 4's ``%show`` cell, after the walk has finished: the node's detail with its
    histograms comes into view (in the place of the lesson and of the chart, at 80 columns),
    the next narration goes to the transcript; F2 brings the lesson back, as after F3."""
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, AnetApp)
        await press(pilot, "f9", "f9", "f9", "f9")  # ... %finish %flow --params, then %show
        session = app.session
        assert session is not None and session.last is not None
        seen["shown"] = (
            app.lesson_pane.display,
            app.flow_view.display,
            app.detail.display,
            str(app.detail.border_title),
            session.last.label,
        )
        seen["screen"] = screen_text(app)
        seen["transcript"] = app.transcript.text
        await press(pilot, "f2")
        seen["f2"] = (app.lesson_pane.display, app.focused is app.lesson_pane)

    drive(script, tmp_path, lesson=LESSON)
    lesson, flow, detail, title, last = seen["shown"]  # type: ignore[misc]
    assert (lesson, flow, detail) == (False, False, True) and title == last
    top = str(seen["screen"]).splitlines()[1:13]
    assert any("out  (64, 32) float32 · 2,048 values" in line for line in top)
    assert sum(bool(re.search("[▁▂▃▄▅▆▇█]{4}", line)) for line in top) >= 2
    assert "A ReLU has slope 1" in str(seen["transcript"])  # the next narration
    assert seen["f2"] == (True, True)
