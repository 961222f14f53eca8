"""The lesson pane: what the last cell printed, then the narration of the step F9 runs next and
its code. It stands in the graph's place while a lesson is open and no walk is going on."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from anet_tui.lessons import Lesson, LessonCell


class LessonPane(VerticalScroll):
    """Three parts, top to bottom: ``#lesson-printed`` (the latest cell's output, scrolled to
    its end in a box of capped height), ``#lesson-narration`` (Markdown, wrapped to the pane)
    and ``#lesson-code`` (the code F9 runs, highlighted)."""

    # For the help screen (the keys are VerticalScroll's own).
    KEYS: ClassVar[dict[str, str]] = {
        "↑ ↓ PgUp PgDn": "scroll the lesson (F2, or Esc in the input, gets here)",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._markdown: str | None = None  # the narration shown (re-rendered only on a change)

    def compose(self) -> ComposeResult:
        self.printed_head = Static(id="lesson-printed-head")
        # Scrolled by the wheel or the code here, never a Tab stop.
        self.printed = VerticalScroll(id="lesson-printed", can_focus=False)
        self.printed_text = Static()
        self.narration = Markdown(id="lesson-narration", open_links=False)
        self.code = Static(id="lesson-code")
        yield self.printed_head
        with self.printed:
            yield self.printed_text
        yield self.narration
        yield self.code

    def on_mount(self) -> None:
        self.printed_head.display = self.printed.display = False  # until a cell has run

    def show(self, lesson: Lesson, key: str) -> None:
        """The step ``key`` (F9) runs next: its narration and code (at the end, the closing
        narration)."""
        self.border_title = lesson.title
        step = lesson.upcoming()
        markdown = "\n\n".join(cell.source for cell in step if cell.kind == "markdown")
        if markdown != self._markdown:
            self._markdown = markdown
            self.narration.update(markdown)
            self.scroll_home(animate=False)
        self.narration.display = bool(markdown)
        code = next((cell for cell in step if cell.kind == "code"), None)
        if code is None:
            self.border_subtitle = "end of the lesson"
            self.code.update(Text("── end of the lesson · %goto 1 starts it again ──", "bold"))
            return
        self.border_subtitle = f"{key} runs cell {code.number}"
        self.code.update(
            Group(
                Text(f"── cell {code.number} · {key} runs it ──", "bold"),
                Syntax(
                    code.source.strip("\n"),
                    "python",
                    theme="ansi_dark",
                    background_color="default",
                    word_wrap=True,
                ),
            )
        )

    def ran(self, cell: LessonCell | None, lines: list[Text]) -> None:
        """What ``cell`` printed (its output, values, errors; the answers of its ``%``
        commands), shown until the next cell runs."""
        name = f"cell {cell.number}" if cell is not None else "the cell"
        head = f"── {name} printed ──" if lines else f"── {name} ran: it printed nothing ──"
        self.printed_head.update(Text(head, "bold"))
        self.printed_head.display = True
        self.printed.display = bool(lines)
        self.printed_text.update(Text("\n").join(lines))
        self.printed.call_after_refresh(self.printed.scroll_end, animate=False)
        self.scroll_home(animate=False)
