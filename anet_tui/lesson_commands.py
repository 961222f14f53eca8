"""The ``%`` commands of files, lessons and saved sessions: %run runs a script as Python would,
%edit opens one in the user's editor and runs it on return,
%lesson opens a lesson, %next runs its next cell (handing its entries back to
:meth:`Commands.submit` to run as if typed), %prev and %goto move it; %save writes what ran as a
lesson that replays it, headed by the imports of what the REPL provides (``python FILE`` runs
it).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import tempfile
from pathlib import Path

from anet.words import counted
from anet_tui import editor, files, lessons
from anet_tui.command_base import (
    Command,
    CommandContext,
    CommandError,
    CommandResult,
    Line,
    Typed,
)
from anet_tui.namespace import imports_for, only_provided_imports
from anet_tui.results import Cell


def _save(ctx: CommandContext, arg: str) -> CommandResult:
    try:
        words = shlex.split(arg)
    except ValueError as e:
        raise CommandError(f"%save: {e}") from None
    force = "-f" in words
    names = [w for w in words if w != "-f"]
    if len(names) != 1:
        raise CommandError("usage: %save FILE [-f]  (-f overwrites an existing file)")
    # Imports of what the REPL provides come first, once (so `python FILE` runs it): a cell
    # that only imports those again (a replayed session's own first cell) is not kept.
    sources = [
        cell.source
        for cell in ctx.shell.cells
        if cell.status == "ok"
        and ctx.commands.replays(cell)
        and not (cell.kind == "python" and only_provided_imports(cell.source))
    ]
    python = [source for source in sources if not ctx.commands.is_command(source)]
    cells = len(python)
    imports = imports_for(python)
    try:
        path = lessons.save_script(Path(names[0]).expanduser(), [imports, *sources], force=force)
    except lessons.LessonError as e:
        raise CommandError(f"%save: {e}") from None
    return CommandResult("save", [Line(f"saved {counted(cells, 'cell')} to {path}")])


def _run(ctx: CommandContext, arg: str) -> CommandResult:
    """``%run FILE [ARGS…]``: FILE runs into the namespace as ``python FILE ARGS`` runs it."""
    try:
        words = shlex.split(arg)
    except ValueError as e:
        raise CommandError(f"%run: {e}") from None
    if not words:
        raise CommandError("usage: %run FILE [ARGS…]  (runs FILE as python FILE ARGS would)")
    return _run_file(ctx, "run", os.path.expanduser(words[0]), words[1:])


def _run_file(ctx: CommandContext, command: str, name: str, args: list[str]) -> CommandResult:
    try:
        text = files.read_text_file(name)
    except files.FileProblem as e:
        raise CommandError(f"%{command}: cannot run {name}: {e}") from None
    ran = ctx.commands.run_script(name, args, on_output=ctx.on_output)
    lines = [] if ran.ok else [Line((ran.error or ran.status).rstrip("\n"), "error")]
    note = cells_note(name, text)
    return CommandResult(command, lines + ([Line(note)] if note else []), ran.output)


_EDIT_USAGE = (
    "usage: %edit [FILE [ARGS…]] | %edit -p  (a new file; FILE; -p: the last file edited or run)"
)


def _edit(ctx: CommandContext, arg: str) -> CommandResult:
    """``%edit [FILE [ARGS…]]``, ``%edit -p``: FILE (a new temporary file without one; the last
    file edited or run with ``-p``) opens in ``$VISUAL``/``$EDITOR``; when the editor exits with
    status 0, FILE runs as ``%run FILE ARGS`` would (and ``%save`` keeps that ``%run``)."""
    try:
        words = shlex.split(arg)
        command = editor.editor_command()
    except ValueError as e:
        raise CommandError(f"%edit: {e}") from None
    except editor.EditorUnavailable as e:
        raise CommandError(f"%edit: {e}") from None
    new = False
    if words[:1] == ["-p"]:
        if len(words) > 1:
            raise CommandError(_EDIT_USAGE)
        if ctx.commands.last_script is None:
            raise CommandError("%edit -p: no file was edited or run yet; %edit FILE opens one")
        name, args = ctx.commands.last_script
    elif words:
        if words[0].startswith("-"):
            raise CommandError(_EDIT_USAGE)
        name, args = os.path.expanduser(words[0]), words[1:]
    else:
        name, args, new = _new_file(), [], True
    if os.path.lexists(name) and (problem := files.unreadable(name)) is not None:
        raise CommandError(f"%edit: cannot edit {name}: {problem}")
    try:
        status = ctx.commands.run_editor([*command, name])
    except editor.EditorUnavailable as e:
        _drop_new(name, new)
        raise CommandError(f"%edit: {e}") from None
    if status != 0:
        _drop_new(name, new)
        how = f"was stopped by signal {-status}" if status < 0 else f"exited with status {status}"
        raise CommandError(f"%edit: the editor {how}: nothing ran")
    if new and _empty(name):
        _drop_new(name, new)
        raise CommandError("%edit: nothing was written to the new file: nothing ran")
    if not os.path.lexists(name):
        raise CommandError(f"%edit: {name} was not saved: nothing ran")
    result = _run_file(ctx, "edit", name, args)
    replay = "%run " + shlex.join([name, *args])
    ctx.shell.cells.append(Cell(replay, "%", "ok" if result.ok else "error", kind="command"))
    again = "%edit -p edits it again" + (" (a new file: it stays there)" if new else "")
    result.lines.append(Line(f"ran {name} · {again}"))
    return result


def _drop_new(name: str, new: bool) -> None:
    """Remove the temporary file %edit made, when nothing will run from it (no litter)."""
    if new:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _empty(name: str) -> bool:
    try:
        return os.path.getsize(name) == 0
    except OSError:
        return True


def _new_file() -> str:
    """A new empty ``.py`` file in the temp folder, for ``%edit`` without a FILE."""
    fd, name = tempfile.mkstemp(prefix="anet_edit_", suffix=".py")
    os.close(fd)
    return name


def cells_note(name: str, text: str) -> str | None:
    """For a script cut into ``# %%`` cells (a lesson, a saved session), what says it ran as a
    script and how to step through it instead; None for any other file."""
    if not lessons.is_lesson(text):
        return None
    return (
        f"{name} has # %% cells: it ran as a script; %lesson {shlex.quote(name)} "
        "(anet-tui --lesson FILE) steps through them, %next runs each"
    )


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
        "edit",
        "%edit [FILE [ARGS…]]",
        "edit FILE (new: a temp file; -p: the last one) in $EDITOR, then %run it",
        _edit,
        replay=False,  # %save keeps the %run of the file instead
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
