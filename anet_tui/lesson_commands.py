"""The ``%`` commands of files, lessons and saved sessions: %run runs a script as Python would,
%lesson opens a lesson, %next runs its next cell (handing its entries back to
:meth:`Commands.submit` to run as if typed), %prev and %goto move it; %save writes what ran as a
lesson that replays it.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from anet_tui import files, lessons
from anet_tui.command_base import (
    Command,
    CommandContext,
    CommandError,
    CommandResult,
    Line,
    Typed,
)


def _save(ctx: CommandContext, arg: str) -> CommandResult:
    try:
        words = shlex.split(arg)
    except ValueError as e:
        raise CommandError(f"%save: {e}") from None
    force = "-f" in words
    names = [w for w in words if w != "-f"]
    if len(names) != 1:
        raise CommandError("usage: %save FILE [-f]  (-f overwrites an existing file)")
    sources = [
        cell.source
        for cell in ctx.shell.cells
        if cell.status == "ok" and ctx.commands.replays(cell)
    ]
    try:
        path = lessons.save_script(Path(names[0]).expanduser(), sources, force=force)
    except lessons.LessonError as e:
        raise CommandError(f"%save: {e}") from None
    cells = sum(1 for source in sources if not source.lstrip().startswith("%"))
    return CommandResult("save", [Line(f"saved {cells} cell{'s' * (cells != 1)} to {path}")])


def _run(ctx: CommandContext, arg: str) -> CommandResult:
    """``%run FILE [ARGS…]``: FILE runs into the namespace as ``python FILE ARGS`` runs it."""
    try:
        words = shlex.split(arg)
    except ValueError as e:
        raise CommandError(f"%run: {e}") from None
    if not words:
        raise CommandError("usage: %run FILE [ARGS…]  (runs FILE as python FILE ARGS would)")
    name, args = os.path.expanduser(words[0]), words[1:]
    try:
        text = files.read_text_file(name)
    except files.FileProblem as e:
        raise CommandError(f"%run: cannot run {name}: {e}") from None
    if lessons.is_lesson(text):
        raise CommandError(
            f"%run: {name} is a lesson (# %% cells), not a script: "
            f"%lesson {shlex.quote(name)} opens it, %next runs its cells"
        )
    ran = ctx.commands.run_script(name, args, on_output=ctx.on_output)
    lines = [] if ran.ok else [Line((ran.error or ran.status).rstrip("\n"), "error")]
    return CommandResult("run", lines, ran.output)


def _lesson(ctx: CommandContext, arg: str) -> CommandResult:
    if not arg:
        lines = [Line(f"{i.number}  {i.title}") for i in lessons.shipped()]
        lines.append(Line("%lesson N opens one (or a path to a # %% file); %next runs its cells"))
        return CommandResult("lesson", lines)
    try:
        lesson = ctx.commands.lesson = lessons.load(arg)
    except lessons.LessonError as e:
        raise CommandError(str(e)) from None
    _, n = lesson.position
    head = Line(
        f"lesson {lesson.title} ({n} cells) · %next runs the next cell, %prev / %goto N move"
    )
    # Said up front: the cells before a broken one still run.
    broken = [
        Line(f"cell {number} cannot run: {error}", "error")
        for number, error in lesson.syntax_errors(ctx.commands.known)
    ]
    return CommandResult("lesson", [head, *broken, *_preview(lesson)])


def _preview(lesson: lessons.Lesson) -> list[Line]:
    """The narration of the next step and the code %next will run (at the end, the closing
    narration and the end)."""
    lines: list[Line] = []
    for cell in lesson.upcoming():
        if cell.kind == "markdown":
            lines += narration_lines(cell.source)
        else:
            lines.append(Line(f"── cell {cell.number} · %next runs it ──", "code"))
            code = cell.source.strip("\n").split("\n")
            lines += [Line(f"    {text}".rstrip(), "code") for text in code]
    if lesson.done:
        lines.append(Line("end of the lesson · %goto 1 starts it again"))
    return lines


_HEADING = re.compile(r"^\s*#{1,6}(?:\s|$)")
_BLOCK_START = re.compile(r"^\s*(?:#{1,6}(?:\s|$)|[-*+]\s|\d{1,9}[.)]\s|>)")
_FENCE = re.compile(r"^\s*(?:```|~~~)")


def narration_lines(markdown: str) -> list[Line]:
    """Narration as ``narration`` lines of whole paragraphs, headings and list items (the file
    wraps them at its own width; a front-end wraps them at its own). Fenced code stays as it
    is, as ``code`` lines."""
    lines: list[Line] = []
    paragraph: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph:
            lines.append(Line(" ".join(paragraph), "narration"))
            paragraph.clear()

    for text in markdown.split("\n"):
        if _FENCE.match(text) or fenced:
            flush()
            lines.append(Line(text, "code"))
            fenced = fenced != bool(_FENCE.match(text))
        elif not text.strip():
            flush()
            if lines and lines[-1].text:
                lines.append(Line("", "narration"))
        elif _BLOCK_START.match(text) or not paragraph:
            flush()
            paragraph.append(text.rstrip())
            if _HEADING.match(text):
                flush()
        else:
            paragraph.append(text.strip())
    flush()
    while lines and not lines[-1].text:
        lines.pop()
    return lines


def _need_lesson(ctx: CommandContext) -> lessons.Lesson:
    if ctx.commands.lesson is None:
        raise CommandError("no lesson is open: %lesson lists them, %lesson N opens one")
    return ctx.commands.lesson


def _next(ctx: CommandContext, arg: str) -> CommandResult:
    lesson = _need_lesson(ctx)
    if lesson.done:
        return CommandResult("next", [Line("end of the lesson · %goto 1 starts it again")])
    *_, cell = lesson.next()
    filename = lesson.path or None
    then = [Typed(e.source, filename, e.line) for e in cell.entries(ctx.commands.known)]
    _, n = lesson.position
    return CommandResult(
        "next", [Line(f"cell {cell.number}/{n}")], then=then, after=_preview(lesson)
    )


def _prev(ctx: CommandContext, arg: str) -> CommandResult:
    lesson = _need_lesson(ctx)
    lesson.prev()
    return CommandResult("prev", _preview(lesson))


def _goto(ctx: CommandContext, arg: str) -> CommandResult:
    lesson = _need_lesson(ctx)
    if not arg.isdigit():
        raise CommandError("usage: %goto N  (a cell number of the lesson, from 1)")
    try:
        lesson.goto(int(arg))
    except lessons.LessonError as e:
        raise CommandError(str(e)) from None
    return CommandResult("goto", _preview(lesson))


LESSON_COMMANDS = (
    Command(
        "run",
        "%run FILE [ARGS…]",
        "run a script as python FILE ARGS would, into the namespace",
        _run,
    ),
    Command(
        "save",
        "%save FILE [-f]",
        "write what ran as a replayable # %% script",
        _save,
        replay=False,
    ),
    Command("lesson", "%lesson [N|FILE]", "list the lessons, or open one", _lesson, replay=False),
    Command(
        "next",
        "%next",
        "run the lesson's next cell (after its narration)",
        _next,
        replay=False,
    ),
    Command(
        "prev",
        "%prev",
        "back one step of the lesson (run it again with %next)",
        _prev,
        replay=False,
    ),
    Command("goto", "%goto N", "move the lesson to cell N", _goto, replay=False),
)


__all__ = ["LESSON_COMMANDS"]
