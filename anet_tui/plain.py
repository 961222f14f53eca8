"""``anet-tui --plain``: a line-by-line REPL on prompt_toolkit, for any terminal, pipe or screen
reader. Same namespace, evaluation and ``%`` commands as the full-screen app; only the drawing
differs: after a command that moves the walk it prints the session's text tree (the app draws its
own), and on a terminal that cannot show ``✗`` it writes ASCII."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import History
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from pygments.lexers.python import PythonLexer

from anet.debug import render
from anet_tui import indent
from anet_tui.command_base import TreeAt
from anet_tui.commands import CommandResult, Commands
from anet_tui.history import HistoryFile
from anet_tui.lessons import Lesson, is_lesson
from anet_tui.shell import RunResult, Shell
from anet_tui.source import is_complete, split_input
from anet_tui.text import (
    MAX_OUTPUT_CHARS,
    MAX_OUTPUT_LINES,
    ascii_only,
    cap,
    inert,
    json_ascii,
    to_ascii,
)

PROMPT = ">>> "
CONTINUATION = "... "
TREE_LINES = 60  # the tree printed after a command that moves the walk is cut here

_COLOURS = {"error": "\x1b[31m", "flag": "\x1b[1;31m", "value": "", "info": "", "output": ""}


def colour_allowed(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ShellCompleter(Completer):
    """Tab completion from the live namespace: names, ``a.b`` attributes, ``%`` commands."""

    def __init__(self, shell: Shell, commands: Commands) -> None:
        self.shell = shell
        self.commands = commands

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        line = document.current_line_before_cursor
        if line.startswith("%") and " " not in line:
            for name in self.commands.complete(line):
                yield Completion(name, start_position=-len(line))
            return
        prefix, candidates = self.shell.complete(text)
        for candidate in candidates:
            yield Completion(candidate, start_position=-len(prefix))


class PromptHistory(History):
    """prompt_toolkit's view of a :class:`HistoryFile` (here, so the app never imports
    prompt_toolkit at start-up)."""

    def __init__(self, history: HistoryFile) -> None:
        self.file = history
        super().__init__()

    def load_history_strings(self) -> Iterable[str]:
        return reversed(self.file.entries)  # prompt_toolkit wants the newest first

    def append_string(self, string: str) -> None:
        """Remember ``string``, unless it repeats the entry before it (as the file does)."""
        if self._loaded_strings and self._loaded_strings[0] == string:
            return
        super().append_string(string)

    def store_string(self, string: str) -> None:
        self.file.append(string)


def _key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        """Run complete input; continue (with indentation) input that needs more lines."""
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if buffer.document.is_cursor_at_the_end and is_complete(buffer.text):
            buffer.validate_and_handle()
            return
        _newline(buffer)

    @kb.add("tab", filter=Condition(_at_indent))
    def _indent(event: KeyPressEvent) -> None:
        """Tab at the start of a line indents (elsewhere it completes)."""
        line = event.current_buffer.document.current_line_before_cursor
        event.current_buffer.insert_text(" " * indent.tab_width(line))

    @kb.add("backspace", filter=Condition(_in_indent))
    def _dedent(event: KeyPressEvent) -> None:
        """Backspace in a line's leading spaces: back one indent level."""
        buffer = event.current_buffer
        line = buffer.document.current_line_before_cursor
        buffer.delete_before_cursor(indent.backspace_width(line))

    @kb.add("escape", "enter")
    def _force_newline(event: KeyPressEvent) -> None:
        """Alt+Enter (or Esc, Enter): a new line even where Enter would run the input."""
        _newline(event.current_buffer)

    return kb


def _at_indent() -> bool:
    line = get_app().current_buffer.document.current_line_before_cursor
    return not line.strip()


def _in_indent() -> bool:
    """Whether Backspace would take back more than one character (no text selected)."""
    buffer = get_app().current_buffer
    line = buffer.document.current_line_before_cursor
    return buffer.selection_state is None and indent.backspace_width(line) > 1


def _newline(buffer: Any) -> None:
    line = buffer.document.current_line_before_cursor
    buffer.insert_text("\n" + indent.next_indent(line))


class PlainRepl:
    """The plain REPL. ``input``/``output`` are prompt_toolkit's (a pipe input and DummyOutput in
    tests); ``out`` is where results are printed (the terminal by default), in ASCII only when
    ``ascii``. Our messages are wrapped at word boundaries to ``width`` (by default the
    terminal's width when ``out`` is a terminal; into a pipe or file, lines stay whole), each
    continuation indented under its line; code, output, values and tree rows never are."""

    def __init__(
        self,
        shell: Shell | None = None,
        commands: Commands | None = None,
        history: HistoryFile | None = None,
        *,
        input: Input | None = None,
        output: Output | None = None,
        out: TextIO | None = None,
        ascii: bool = False,
        width: int | None = None,
    ) -> None:
        self.shell = Shell() if shell is None else shell
        self.commands = Commands(self.shell) if commands is None else commands
        self.out = sys.stdout if out is None else out
        self.ascii = ascii
        self.colour = colour_allowed(self.out)
        self.width = width
        self._history = history
        self._pt_input, self._pt_output = input, output

    # ---- printing ----------------------------------------------------------------------------
    def write(self, text: str, kind: str = "output") -> None:
        """Print ``text`` (already inert) to ``out``, coloured by kind where colour is allowed."""
        if not text:
            return
        if self.ascii:
            text = json_ascii(text) if kind == "json" else to_ascii(text)
        colour = _COLOURS.get(kind, "") if self.colour else ""
        if colour:
            text = "".join(
                f"{colour}{line}\x1b[0m{nl}" if line else nl for line, nl in _split_keep(text)
            )
        try:
            self.out.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.encode(encoding, "replace").decode(encoding))
        self.out.flush()

    def show(self, outcome: RunResult | CommandResult) -> None:
        """Print a run's value and error, or a command's lines (printed output was streamed), then
        the session's tree after a command that moved the walk. Trees are drawn here (not taken
        from the lines), so their columns line up in ASCII too."""
        if isinstance(outcome, CommandResult):
            tree = outcome.tree or (TreeAt(None, TREE_LINES) if outcome.changed else None)
            for line in outcome.lines:
                if line.kind == "narration":  # a whole paragraph: wrapped here, at our width
                    text = to_ascii(line.text) if self.ascii else line.text
                    self.write(_wrap(text) + "\n", "info")
                elif line.kind in ("json", "code"):
                    self.write(line.text + "\n", line.kind)
                elif not (tree and line.kind == "tree"):
                    self.write(self.wrapped(line.text) + "\n", line.kind)
            if tree is not None and outcome.session is not None:
                text = render.tree(
                    outcome.session, node=tree.start, ascii=self.ascii, max_lines=tree.max_lines
                )
                for row in text.splitlines():
                    self.write(inert(row) + "\n", "tree")
            return
        if outcome.value is not None:
            self.write(outcome.value + "\n", "value")
        if outcome.error:
            self.write(outcome.error.rstrip("\n") + "\n", "error")

    def wrapped(self, text: str) -> str:
        """A one-line message wrapped at word boundaries to the terminal's width (see the
        class), its continuation lines indented two more than it; in ASCII first where that is
        written (the ASCII forms are longer: ``✓`` is ``ok``). Text of several lines (a
        script's traceback) is left as it is."""
        width = self.width if self.width is not None else terminal_width(self.out)
        if self.ascii:
            text = to_ascii(text)
        if width is None or len(text) <= width or "\n" in text:
            return text
        indent = text[: len(text) - len(text.lstrip(" "))]
        wrapper = textwrap.TextWrapper(
            width=max(width, len(indent) + 20),
            subsequent_indent=indent + "  ",
            break_long_words=False,  # a long path or number stays whole: the terminal cuts it
            break_on_hyphens=False,
            drop_whitespace=True,
        )
        return wrapper.fill(text)

    # ---- running -----------------------------------------------------------------------------
    def echo(self, cell: str) -> None:
        """Print a cell as if typed at the prompt (piped input, a lesson's cells)."""
        first, *rest = cap(inert(cell), MAX_OUTPUT_CHARS, MAX_OUTPUT_LINES).split("\n")
        self.write(PROMPT + first + "\n" + "".join(f"{CONTINUATION}{r}\n" for r in rest))

    def execute(self, text: str) -> RunResult | CommandResult:
        """Run one cell (Python or a ``%`` line) and print its results as they come."""
        try:
            return self.commands.submit(text, on_output=self.write, echo=self.echo, show=self.show)
        except KeyboardInterrupt:  # Ctrl+C in the instant between the code's end and ours
            outcome = RunResult("interrupted", error="KeyboardInterrupt\n")
            self.show(outcome)
            return outcome

    def run_text(self, text: str) -> int:
        """Run a whole input text cell by cell, echoing each (``anet-tui --plain < file``).
        Returns 0 when every cell ran, 1 when any failed, or the code given to ``exit()``.
        A lesson file runs cell by cell, its ``# %step``-style lines as commands."""
        status = 0
        if is_lesson(text):  # a `# %%` file: its cells, with `# %step` lines as commands
            cells = [e.source for e in Lesson.from_text(text).entries(self.commands.known)]
        else:
            cells = split_input(text)
        for cell in cells:
            self.echo(cell)
            outcome = self.execute(cell)
            if isinstance(outcome, RunResult) and outcome.status == "exit":
                return outcome.exit_code or 0
            if not outcome.ok:
                status = 1
        return status

    def interact(self) -> int:
        """The interactive loop; returns the exit code."""
        history = (
            HistoryFile(warn=lambda m: self.write(f"anet-tui: {m}\n", "error"))
            if self._history is None
            else self._history
        )
        session: PromptSession[str] = PromptSession(
            message=PROMPT,
            prompt_continuation=lambda width, line_number, wrap_count: CONTINUATION,
            lexer=PygmentsLexer(PythonLexer),
            multiline=True,
            key_bindings=_key_bindings(),
            history=PromptHistory(history),
            completer=ShellCompleter(self.shell, self.commands),
            complete_while_typing=False,
            input=self._pt_input,
            output=self._pt_output,
        )
        self.prompt_session = session
        self.write("anet-tui plain REPL · %help for commands · Ctrl+D to leave\n", "info")
        asked = False
        while True:
            try:
                text = session.prompt()
            except KeyboardInterrupt:  # Ctrl+C at the prompt cancels the input
                continue
            except EOFError:
                open_session = self.commands.session
                if open_session is not None and not open_session.done and not asked:
                    asked = True
                    self.write(
                        "a backward session is still open; press Ctrl+D again to leave\n", "info"
                    )
                    continue
                return 0
            asked = False
            if not text.strip():
                continue
            outcome = self.execute(text)
            if isinstance(outcome, RunResult) and outcome.status == "exit":
                return outcome.exit_code or 0


def _wrap(paragraph: str) -> str:
    """A narration paragraph wrapped at the terminal's width (a list item's lines under its
    text)."""
    width = max(20, shutil.get_terminal_size().columns - 1)
    item = len(paragraph) - len(paragraph.lstrip(" -*+0123456789.)"))
    return textwrap.fill(paragraph, width, subsequent_indent=" " * item, break_on_hyphens=False)


def terminal_width(stream: TextIO) -> int | None:
    """The width of the terminal ``stream`` writes to; None when it is no terminal."""
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


def _split_keep(text: str) -> Iterable[tuple[str, str]]:
    for line in text.split("\n")[:-1]:
        yield line, "\n"
    last = text.split("\n")[-1]
    if last:
        yield last, ""


def run(
    script: str | None = None,
    demo: str | None = None,
    lesson: str | None = None,
    script_args: Sequence[str] = (),
) -> int:
    """``anet-tui --plain [SCRIPT ARGS…]``: interactive on a terminal, else read stdin and run
    it. A SCRIPT that fails or exits non-zero is reported; the REPL goes on."""
    out = sys.stdout
    shell = Shell()
    commands = Commands(shell)
    repl = PlainRepl(shell, commands, out=out, ascii=ascii_only(out))
    outcomes = commands.startup(
        script=script, demo=demo, on_output=repl.write, lesson=lesson, script_args=script_args
    )
    for outcome in outcomes:
        repl.show(outcome)
    if not sys.stdin.isatty():
        data = sys.stdin.buffer.read().decode("utf-8", "replace")
        return repl.run_text(data)
    return repl.interact()
