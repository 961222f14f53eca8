"""The ``%`` commands of files, lessons and saved sessions: %run runs a script as Python would,
%lesson opens a lesson, %next runs its next cell (handing its entries back to
:meth:`Commands.submit` to run as if typed), %prev and %goto move it; %save writes what ran as a
lesson that replays it.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from anet.words import counted
from anet_tui import files, lessons
from anet_tui.command_base import Command, CommandContext, CommandError, CommandResult, Line


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
    return CommandResult("save", [Line(f"saved {counted(cells, 'cell')} to {path}")])


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
        f"lesson {lesson.title} ({counted(n, 'cell')}) · "
        + "%next runs the next cell, %prev / %goto N move"
    )
    # Said up front: the cells before a broken one still run.
    broken = [
        Line(f"cell {number} cannot run: {error}", "error")
        for number, error in lesson.syntax_errors(ctx.commands.known)
    ]
    return CommandResult("lesson", [head, *broken, *_preview(lesson)])


def _preview(lesson: lessons.Lesson) -> list[Line]:
    """The narration of the next step and the code %next will run."""
    step = lesson.upcoming()
    if not step:
        return [Line("end of the lesson · %goto 1 starts it again")]
    lines: list[Line] = []
    for cell in step:
        if cell.kind == "markdown":
            lines += [Line(text) for text in cell.source.rstrip("\n").splitlines()]
        else:
            lines.append(Line(f"── cell {cell.number} · %next runs it ──"))
            lines += [Line(f"    {text}") for text in cell.source.strip("\n").splitlines()]
    return lines


def _need_lesson(ctx: CommandContext) -> lessons.Lesson:
    if ctx.commands.lesson is None:
        raise CommandError("no lesson is open: %lesson lists them, %lesson N opens one")
    return ctx.commands.lesson


def _next(ctx: CommandContext, arg: str) -> CommandResult:
    lesson = _need_lesson(ctx)
    if lesson.done:
        return CommandResult("next", [Line("end of the lesson · %goto 1 starts it again")])
    step = lesson.next()
    code = [cell for cell in step if cell.kind == "code"]
    then = [e.source for cell in code for e in cell.entries(ctx.commands.known)]
    done, n = lesson.position
    head = Line(f"cell {code[0].number}/{n}" if code else f"narration {done}/{n}")
    return CommandResult("next", [head], then=then, after=_preview(lesson))


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
