"""Work the app does not repeat: on a busy machine (anet-tui serve starting thirty students'
apps on two cores) Textual's start-up is spread over many refreshes, and each repeated rebuild
or layout was paid thirty times before anyone saw a first screen."""

from __future__ import annotations

import asyncio

import pytest
from textual import events

from anet_tui.app import AnetApp, MainScreen
from anet_tui.widgets.graph_tree import GraphTree
from anet_tui.widgets.key_footer import KeyFooter


def test_the_footer_rebuilds_once_for_many_changes_and_never_for_none(monkeypatch) -> None:
    composed: list[int] = []
    compose = KeyFooter.compose

    def counting(self):
        composed.append(1)
        return compose(self)

    monkeypatch.setattr(KeyFooter, "compose", counting)

    def keys(app: AnetApp) -> str:
        return " ".join(str(k.render()) for k in app.query_one(KeyFooter).children)

    async def go() -> tuple[str, int, int, str]:
        app = AnetApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            first = keys(app)
            before = len(composed)
            for _ in range(5):  # five focus changes, mounts … that change no key
                app.screen.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
            unchanged = len(composed) - before
            before = len(composed)
            app.query_one(GraphTree).focus()  # the graph's keys: ? for its help
            for _ in range(5):
                app.screen.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
            return first, unchanged, len(composed) - before, keys(app)

    first, unchanged, changed, graph_keys = asyncio.run(go())
    assert "F1 help" in first  # the keys are there from the first frame
    assert unchanged == 0  # the same keys: the row is not built again
    assert changed == 1  # one rebuild for all the changes before the next refresh
    assert "? help" in graph_keys and "F1 help" not in graph_keys


def test_the_first_screen_is_styled_once_for_its_size(monkeypatch) -> None:
    """The screen has its layout classes from the start (a class changed later restyles every
    widget), and no rule restyles the whole screen each time a widget is mounted (a universal
    selector with :last-child made every widget one that restyles all of its children)."""
    classes: list[frozenset[str]] = []
    order = {"first-of-type", "last-of-type", "first-child", "last-child", "empty"}

    default_screen = AnetApp.get_default_screen

    def recording(self):
        screen = default_screen(self)
        classes.append(frozenset(screen.classes))
        return screen

    monkeypatch.setattr(AnetApp, "get_default_screen", recording)

    async def go() -> list[str]:
        app = AnetApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            return [
                str(sorted(rule.selector_names))
                for rule in app.stylesheet.rules
                if "*" in rule.selector_names and rule.pseudo_classes & order
            ]

    universal_order_rules = asyncio.run(go())
    assert classes == [frozenset({"-flow-alone"})]  # 80×24: the flow chart alone on its row
    assert universal_order_rules == []


def test_a_resize_to_the_same_size_lays_nothing_out_again() -> None:
    async def go() -> tuple[int, int, tuple[int, int]]:
        app = AnetApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            layouts: list[object] = []
            app.screen.screen_layout_refresh_signal.subscribe(app.screen, layouts.append)
            size = app.size
            app.screen.post_message(events.Resize(size, size))
            await pilot.pause()
            same = len(layouts)
            await pilot.resize_terminal(100, 30)
            await pilot.pause()
            await pilot.pause()
            return same, len(layouts), tuple(app.screen.outer_size)

    same, after, size = asyncio.run(go())
    assert same == 0  # the same 80×24 again: nothing to lay out
    assert after >= 1 and size == (100, 30)  # a real change still is laid out


@pytest.mark.parametrize(
    ("size", "options", "no_color"),
    [
        ((80, 24), {}, False),
        ((120, 40), {}, False),
        ((60, 20), {}, False),
        ((80, 24), {}, True),
        ((80, 24), {"lesson": "2"}, False),
        ((80, 24), {"demo": "broken"}, False),
    ],
)
def test_skipping_the_first_resume_restyle_styles_every_widget_alike(
    monkeypatch, size, options, no_color
) -> None:
    """MainScreen's first ScreenResume does not restyle the screen; with Textual's restyle (as
    if it were a later resume) every widget ends with the same rules and the screen looks the
    same, in each layout, without colour, in a lesson and with a demo loaded."""
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")

    async def first_screen(restyle: bool) -> tuple[dict[str, object], str]:
        monkeypatch.setattr(MainScreen, "_resumed", restyle)  # True: as if resumed before
        app = AnetApp(**options)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.pause()
            rules = {}
            for i, node in enumerate(app.screen.walk_children(with_self=True)):
                key = f"{i} {type(node).__name__}"  # (a heading's id has a number in it)
                # (repr: a layout is a new object each time the rules are applied)
                rules[key] = sorted((k, repr(v)) for k, v in node.styles.base.get_rules().items())
            return rules, app.export_screenshot()

    skipped = asyncio.run(first_screen(restyle=False))
    restyled = asyncio.run(first_screen(restyle=True))
    assert skipped[0] == restyled[0]
    assert skipped[1] == restyled[1]
