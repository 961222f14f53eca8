"""Watching from the dashboard: Enter on a student's row shows their screen, read-only, inside
the teacher's table app.

A :class:`Mirror` joins the watched session as one more watcher (see
:mod:`anet_tui.serve.watch`): the bytes drawn for the student go through a terminal emulator
(pyte) of the student's size, and :class:`WatchScreen` shows what it holds, colours and all,
ten times a second at most. On joining, the watched app is made to redraw everything (the same
brief size change as ``watch NAME`` over SSH). Nothing typed there goes anywhere: Esc, Ctrl+]
or ``q`` returns to the table, every other key is swallowed. When the teacher's area is smaller
than the student's screen, the frame is cut at the right and bottom (the arrow keys scroll it);
the top line says how much is shown (a window of the student's size shows all but the last row,
the top one being the title). If the session ends, the last frame stays with a note.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.events import Key
from textual.screen import Screen
from textual.widgets import Static

from anet_tui.serve.watch import redraw

FRAME_EVERY = 0.1  # seconds between two redraws of the mirror, at most
LEAVE = ("escape", "ctrl+right_square_bracket", "q")
ANSI = {"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"}


def _colour(name: str) -> str | None:
    """pyte's colour (``default``, a name, ``brightNAME``, or six hex digits) for Rich."""
    bright = name.startswith("bright")
    base = name.removeprefix("bright")
    base = "yellow" if base == "brown" else base  # pyte's name for colour 3
    if base in ANSI:
        return f"bright_{base}" if bright else base
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return "#" + name
    return None  # "default"


class Mirror:
    """A watcher that keeps the watched session's screen in a pyte terminal."""

    def __init__(self, target: Any) -> None:
        import pyte

        self.target = target
        cols, rows = target.size
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.changed = True
        self.ended: str | None = None

    def start(self) -> None:
        self.target.watchers.add(self)
        redraw(self.target)

    def send(self, data: bytes) -> None:
        cols, rows = self.target.size
        if (cols, rows) != (self.screen.columns, self.screen.lines):
            self.screen.resize(rows, cols)
        self.stream.feed(data)
        self.changed = True

    def stop(self, why: str) -> None:
        self.target.watchers.discard(self)
        if self.ended is None:
            self.ended = why
            self.changed = True

    def text(self) -> Text:
        """The screen as Rich text: one line per row, runs of one style kept together."""
        screen = self.screen
        cursor = None if screen.cursor.hidden else (screen.cursor.x, screen.cursor.y)
        out = Text(no_wrap=True, overflow="crop", end="")
        styles: dict[tuple, Style] = {}
        for y in range(screen.lines):
            row = screen.buffer[y]
            run, run_key = "", None
            for x in range(screen.columns):
                char = row[x]
                key = (*char[1:], (x, y) == cursor)
                if key != run_key and run:
                    out.append(run, styles[run_key])
                    run = ""
                if key not in styles:
                    styles[key] = Style(
                        color=_colour(char.fg),
                        bgcolor=_colour(char.bg),
                        bold=char.bold,
                        italic=char.italics,
                        underline=char.underscore,
                        strike=char.strikethrough,
                        reverse=char.reverse != key[-1],  # the cursor: reversed once more
                    )
                run_key = key
                run += char.data or " "
            if run:
                out.append(run, styles[run_key])
            if y < screen.lines - 1:
                out.append("\n")
        return out


class WatchScreen(Screen[None]):
    """The watched student's screen over the dashboard; Esc, Ctrl+] or q returns."""

    CSS = """
    WatchScreen { background: $background; }
    #watch-title { height: 1; background: $boost; padding: 0 1; }
    #watch-frame { height: 1fr; scrollbar-size: 0 0; }
    #watch-view { width: auto; height: auto; }
    """
    BINDINGS: ClassVar = [
        Binding("escape,ctrl+right_square_bracket,q", "leave", "back to the class", priority=True)
    ]

    def __init__(self, mirror: Mirror) -> None:
        super().__init__()
        self.mirror = mirror

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="watch-title", markup=False)
        with ScrollableContainer(id="watch-frame"):
            yield Static(self.mirror.text(), id="watch-view")

    def on_mount(self) -> None:
        self.set_interval(FRAME_EVERY, self.show)

    def _title(self) -> str:
        target = self.mirror.target
        cols, rows = target.size
        mine = self.app.size
        shown_cols, shown_rows = min(cols, mine.width), min(rows, mine.height - 1)
        cut = ""
        if (shown_cols, shown_rows) != (cols, rows):
            cut = f", {shown_cols}×{shown_rows} shown: arrows scroll"
        state = f" · {self.mirror.ended}" if self.mirror.ended else ""
        return f"watching {target.name} {cols}×{rows}{cut} · read-only · Esc returns{state}"

    def show(self) -> None:
        if not self.mirror.changed:
            return
        self.mirror.changed = False
        self.query_one("#watch-title", Static).update(self._title())
        self.query_one("#watch-view", Static).update(self.mirror.text())

    def on_key(self, event: Key) -> None:
        if event.key not in LEAVE and event.key not in ("up", "down", "left", "right"):
            event.stop()  # swallowed: a watcher only looks
            event.prevent_default()

    def action_leave(self) -> None:
        self.mirror.stop("stopped watching")
        self.app.pop_screen()
