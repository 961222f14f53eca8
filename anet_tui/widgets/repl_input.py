"""The REPL's input box: multi-line Python with highlighting, history and Tab completion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import TextArea

from anet_tui import indent
from anet_tui.source import is_complete

Completer = Callable[[str], tuple[str, list[str]]]


class ReplInput(TextArea):
    """Enter runs a complete statement and continues an incomplete one (``def``, open brackets);
    Ctrl+J always inserts a newline. Up/Down on the first/last line walk the history."""

    # Handled in the input's own key handler, in order with the typed characters (a priority
    # binding would run before characters still queued for the widget: "%d\r" sent at once
    # would submit "%").
    KEYS: ClassVar[dict[str, tuple[str, str]]] = {
        "enter": ("submit", "run the input, or continue it when incomplete"),
        "ctrl+j": ("newline", "new line, even when the input is complete"),
        "shift+enter": ("newline", "new line (terminals that report Shift+Enter)"),
        "up": ("history_previous", "previous history entry (from the first line)"),
        "down": ("history_next", "next history entry (from the last line)"),
        "tab": ("complete", "complete a name, attribute or %command; indent"),
        "backspace": ("delete_left", "delete left; in leading spaces, one indent level"),
        "ctrl+d": ("end_of_input", "leave anet-tui (on an empty input)"),
        "pageup": ("transcript_page_up", "scroll the transcript up a page (what scrolled away)"),
        "pagedown": ("transcript_page_down", "scroll the transcript down a page"),
    }

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on complete input."""

        source: str

    @dataclass
    class PageTranscript(Message):
        """PageUp (-1) or PageDown (+1) in the input: the app scrolls the transcript."""

        direction: int

    @dataclass
    class Completions(Message):
        """Tab found several candidates: the app shows them."""

        candidates: list[str]

    def __init__(
        self,
        history: list[str],
        completer: Completer,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(
            "",
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            highlight_cursor_line=False,
            compact=True,
        )
        self.entries = history  # shared list: the app appends what was run
        self.completer = completer
        self._history_index: int | None = None  # None: editing the draft
        self._draft = ""
        self._highlighted: tuple[str, list[Text]] = ("", [])

    async def _on_key(self, event: events.Key) -> None:
        entry = self.KEYS.get(event.key)
        if entry is None:
            return  # TextArea's own handler types it
        event.stop()
        event.prevent_default()
        getattr(self, f"action_{entry[0]}")()

    # ---- highlighting ------------------------------------------------------------------------
    def get_line(self, line_index: int) -> Text:
        """The line with pygments highlighting of the whole input (cached per text)."""
        source = self.text
        if self._highlighted[0] != source or not self._highlighted[1]:
            self._highlighted = (source, highlight(source).split("\n", allow_blank=True))
        lines = self._highlighted[1]
        if line_index >= len(lines):
            return super().get_line(line_index)
        line = lines[line_index].copy()
        line.end = ""
        line.no_wrap = True
        return line

    # ---- actions -----------------------------------------------------------------------------
    def action_submit(self) -> None:
        source = self.text
        on_last_line = self.cursor_location[0] == self.document.line_count - 1
        if source.strip() and (not on_last_line or not is_complete(source)):
            self._insert_newline()
            return
        if "\n" in source and not source.split("\n")[-1].strip():
            source = source.rstrip()  # the blank line that ended a block is not part of it
        self._history_index = None
        self._draft = ""
        self.load_text("")
        # Straight to the app, not bubbling up through the panes: a key pressed after Enter in
        # the same burst (F10) bubbles up behind it and runs after this entry, in order.
        self.app.post_message(self.Submitted(source))

    def action_newline(self) -> None:
        self._insert_newline()

    def _insert_newline(self) -> None:
        row, column = self.cursor_location
        self.insert("\n" + indent.next_indent(self.document.get_line(row)[:column]))

    def action_delete_left(self) -> None:
        """Backspace: in the leading spaces of a line, back one indent level
        (:func:`anet_tui.indent.backspace_width`); elsewhere TextArea's own."""
        row, column = self.cursor_location
        width = indent.backspace_width(self.document.get_line(row)[:column])
        if width > 1 and self.selection.is_empty:
            self.delete((row, column - width), (row, column), maintain_selection_offset=False)
        else:
            super().action_delete_left()

    def action_history_previous(self) -> None:
        if self.cursor_location[0] > 0 or not self.entries:
            self.action_cursor_up()
            return
        if self._history_index is None:
            self._draft = self.text
            self._history_index = len(self.entries)
        if self._history_index == 0:
            return
        self._history_index -= 1
        self._show(self.entries[self._history_index])

    def action_history_next(self) -> None:
        if self.cursor_location[0] < self.document.line_count - 1 or self._history_index is None:
            self.action_cursor_down()
            return
        self._history_index += 1
        if self._history_index >= len(self.entries):
            self._history_index = None
            self._show(self._draft)
        else:
            self._show(self.entries[self._history_index])

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def action_complete(self) -> None:
        row, column = self.cursor_location
        before = self.document.get_line(row)[:column]
        if not before.strip() or before[-1] in " \t([{,:=":
            self.insert(" " * indent.tab_width(before))
            return
        prefix, candidates = self.completer(before)
        if not candidates:
            return
        common = common_prefix(candidates)
        if len(common) > len(prefix):
            self.insert(common[len(prefix) :])
        elif len(candidates) > 1:
            self.post_message(self.Completions(candidates))

    def action_transcript_page_up(self) -> None:
        self.post_message(self.PageTranscript(-1))

    def action_transcript_page_down(self) -> None:
        self.post_message(self.PageTranscript(+1))

    def action_end_of_input(self) -> None:
        if self.text:
            self.action_delete_right()
        else:
            self.app.exit()


def common_prefix(words: list[str]) -> str:
    """The longest start all ``words`` share."""
    first, last = min(words), max(words)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


def highlight(source: str) -> Text:
    """``source`` highlighted as Python by pygments, in the terminal's own ANSI colours."""
    syntax = Syntax(source, "python", theme="ansi_dark", background_color="default")
    text = syntax.highlight(source)
    if text.plain.endswith("\n") and not source.endswith("\n"):
        text.right_crop(1)
    return text
