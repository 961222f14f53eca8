"""Work the app does not repeat: on a busy machine (anet-tui serve starting thirty students'
apps on two cores) Textual's start-up is spread over many refreshes, and each repeated rebuild
or layout was paid thirty times before anyone saw a first screen."""

from __future__ import annotations

import asyncio

from textual import events

from anet_tui.app import AnetApp
from anet_tui.widgets.key_footer import KeyFooter


def test_many_binding_changes_before_a_refresh_rebuild_the_footer_once(monkeypatch) -> None:
    composed: list[int] = []
    compose = KeyFooter.compose

    def counting(self):
        composed.append(1)
        return compose(self)

    monkeypatch.setattr(KeyFooter, "compose", counting)

    async def go() -> tuple[int, str]:
        app = AnetApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            before = len(composed)
            for _ in range(5):  # five focus changes, mounts … before the next refresh
                app.screen.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
            keys = " ".join(str(k.render()) for k in app.query_one(KeyFooter).children)
            return len(composed) - before, keys

    rebuilds, keys = asyncio.run(go())
    assert rebuilds == 1
    assert "help" in keys  # and the footer still shows its keys


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
