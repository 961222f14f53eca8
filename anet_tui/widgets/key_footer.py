"""The footer: Textual's, cut to the width it has, so no key is ever half drawn.

Textual's footer lays its keys out in one row and lets the row run off the screen (an 80-column
terminal showed ``^c stop ^▏^p palettee``). This one leaves out what does not fit: first the
command palette's key, then keys from the end of the row, never the key that opens the help
(which lists every key). What stays is drawn whole, whatever keys the panes bind.

Textual's footer rebuilds itself after each change of bindings (each focus change, each mount
of a focusable widget), once per change: at start-up, on a busy machine (thirty students'
apps starting on two cores under ``anet-tui serve``), that was fourteen rebuilds of some
fifteen widgets each before the first screen. This one rebuilds once for all the changes made
before the next refresh: it reads the bindings when it rebuilds, so the last state is shown,
and only when the keys it would show differ from those it shows. Its keys are drawn from the
first frame on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

# Actions whose key stays whatever the width: the help lists every other key (F1, or ? in the
# graph and detail panes, where the letters are keys).
KEEP = ("help", "pane('help')")


def is_key(widget: Widget) -> bool:
    """Whether a widget of the footer is a key (Textual's ``FooterKey``: known by what it has,
    its class lives in a private module)."""
    return hasattr(widget, "key_display") and hasattr(widget, "action")


def key_width(key: Any, compact: bool = True) -> int:
    """The cells a key takes in the row, its margin included (Textual's footer styles:
    compact, ``F10 step`` and one blank; else a blank either side of the key too). The
    palette's key has its left border as well: ``▏^p palette`` and the blank is 12 cells."""
    width = cell_len(key.key_display)
    if key.description:
        width += 1 + cell_len(key.description)
    if not compact:
        width += 3
    if key.has_class("-command-palette"):
        width += 1  # its left border
    return width + 1  # a blank after it


def fitting(widgets: Iterable[Widget], width: int, compact: bool = True) -> list[Widget]:
    """The widgets of a footer row that fit in ``width`` cells (see the module docstring)."""
    keys = list(widgets)
    if not all(map(is_key, keys)):
        return keys  # grouped keys (not used here): Textual's own layout
    shown: list[Any] = list(keys)

    def total() -> int:
        return sum(key_width(k, compact) for k in shown)

    palette = [k for k in shown if k.has_class("-command-palette")]
    if palette and total() > width:
        shown = [k for k in shown if k not in palette]
    while total() > width:
        droppable = [k for k in shown if k.action not in KEEP]
        if not droppable:
            break
        shown.remove(droppable[-1])
    return list(shown)


class KeyFooter(Footer):
    """Textual's footer, each key whole: what does not fit is left out (see the module)."""

    def __init__(self, *, compact: bool = True, id: str | None = None) -> None:
        super().__init__(compact=compact, id=id)
        self._width = 0
        self._rebuild_queued = False
        self._shown: tuple = ()

    def keys_state(self, width: int) -> tuple:
        """Everything the row of keys is drawn from: the shown bindings (and the palette's,
        shown apart), and the width."""
        palette = self.app.COMMAND_PALETTE_BINDING
        bindings = tuple(
            (key, b.key, b.action, b.description, b.group, enabled, tooltip)
            for key, (_, b, enabled, tooltip) in self.screen.active_bindings.items()
            if b.show or key == palette
        )
        return bindings, width, self.compact, self.show_command_palette

    def compose(self) -> ComposeResult:
        width = self.size.width or self.app.size.width
        self._width = width
        # Keys from the first frame on (Textual's footer waits for a change of bindings).
        self._bindings_ready = True
        self._shown = self.keys_state(width)
        yield from fitting(super().compose(), width, self.compact)

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's (``Footer.bindings_changed``), but one rebuild for many changes."""
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._rebuild()

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self._rebuild()

    def _rebuild(self) -> None:
        if not self._rebuild_queued:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild_now)

    async def _rebuild_now(self) -> None:
        self._rebuild_queued = False
        if self.is_attached and self.keys_state(self._width) != self._shown:
            await self.recompose()


__all__ = ["KEEP", "KeyFooter", "fitting", "is_key", "key_width"]
