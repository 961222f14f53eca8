"""The REPL's transcript: echoed input, printed output, results and errors, capped in lines."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from anet_tui.ascii import ascii_text, in_ascii
from anet_tui.widgets.repl_input import highlight

MAX_LINES = 2_000  # older lines scroll away: a runaway loop never floods memory or the screen


class Transcript(RichLog):
    """What a teacher reads aloud: ``>>>`` and the code, then what came back."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES, wrap=True, min_width=20)
        self._partial = ""  # printed text not yet ended by a newline
        self.entries: deque[Text] = deque(maxlen=MAX_LINES)  # kept to re-wrap on resize
        self._width = 0
        self._captured: list[Text] | None = None  # see capture()

    def add(self, text: Text, *, captured: bool = True) -> None:
        """Write one entry (kept by a capture too, unless ``captured`` is False), in ASCII
        where the terminal needs it (anet_tui.ascii)."""
        if in_ascii(self):
            text = ascii_text(text)
        self.entries.append(text)
        self.write(text)
        if captured and self._captured is not None and len(self._captured) < MAX_LINES:
            self._captured.append(text)

    def capture(self) -> None:
        """Keep what is written from now on (a lesson cell's output, for the lesson pane), less
        the echo of Python code, until :meth:`captured`."""
        self._captured = []

    @property
    def end(self) -> int:
        """Where what is written next starts, in rendered lines (for :meth:`keep_in_view`)."""
        return len(self.lines)

    def keep_in_view(self, start: int) -> None:
        """Once drawn, scroll so that the rendered line ``start`` stays in view: to it, when
        what was written from there on is taller than the view (a lesson's narration is read
        from its start; the end of its code can wait)."""

        def scroll() -> None:
            if start < len(self.lines) < MAX_LINES and self.max_scroll_y > start:
                self.scroll_to(y=start, animate=False)

        self.call_after_refresh(scroll)

    @property
    def capturing(self) -> bool:
        """Whether a :meth:`capture` is on."""
        return self._captured is not None

    def captured(self) -> list[Text] | None:
        """What was written since :meth:`capture` (None without one); the capture ends."""
        self.flush()
        lines, self._captured = self._captured, None
        return lines

    def on_resize(self, event: Resize) -> None:
        """Wrap everything again for the new width (a narrowed pane would otherwise cut it)."""
        width = event.size.width
        if self._width and width != self._width and self.entries:
            self.clear()
            for text in self.entries:
                self.write(text)
        self._width = width

    def echo(self, source: str, key: str | None = None) -> None:
        """The input as it was run: ``>>>`` then ``...`` before each continuation line; ``key``
        names the key that ran it (``%step  (F10)``)."""
        self.flush()
        lines = highlight(source).split("\n", allow_blank=True)
        command = source.lstrip().startswith("%")  # a capture keeps which command answered
        for i, line in enumerate(lines):
            text = Text.assemble((">>> " if i == 0 else "... ", "bold"), line)
            if key is not None and i == len(lines) - 1:
                text.append(f"  ({key})", "dim")
            self.add(text, captured=command)

    def output(self, text: str) -> None:
        """Printed text as it arrives: whole lines are written, a partial line waits."""
        text = self._partial + text
        *lines, self._partial = text.split("\n")
        for line in lines:
            self.add(Text(line))

    def flush(self) -> None:
        """Write a pending partial line."""
        if self._partial:
            partial, self._partial = self._partial, ""
            self.add(Text(partial))

    def value(self, text: str) -> None:
        self.flush()
        self.add(Text(text, style="bold"))

    def error(self, text: str) -> None:
        self.flush()
        self.add(Text(text.rstrip("\n"), style="red"))

    def note(self, text: str, style: str = "dim") -> None:
        self.flush()
        self.add(Text(text.rstrip("\n"), style=style))

    @property
    def text(self) -> str:
        """Everything shown, as plain text without wrapping (for tests and copying)."""
        return "\n".join(text.plain for text in self.entries)
