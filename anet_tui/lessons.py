"""Lessons: Python files in the jupytext "percent" format, read into cells with a cursor.

A lesson is a plain ``.py`` file cut into cells by ``# %%`` lines. ``# %% [markdown]`` cells are
narration (``# ``-prefixed comment lines); the other cells are code. A ``%`` command in a code
cell stands on a line of its own, either bare (``%step``) or commented the way jupytext writes
magics (``# %step``), which keeps the file valid Python. ``%save`` writes each Python entry
as a ``# %% lines=N`` cell: exactly those N lines, so nothing in them (``%s`` or ``# %%`` in a
string) is read as a command or a cell break. No UI here: ``%lesson`` and ``%next``
(:mod:`anet_tui.lesson_commands`) show the narration and hand each entry to
``Commands.submit``, which runs it as if typed.

    lesson = load("02")                   # a shipped lesson, or a path
    for cell in lesson.next():            # the narration, then the next code cell
        if cell.kind == "markdown":
            print(cell.source)
        else:
            entries = cell.entries(commands.known)  # Python blocks and % lines, in order
"""

from __future__ import annotations

import contextlib
import linecache
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, NamedTuple

from anet_tui import files

CellKind = Literal["code", "markdown"]
Whole = Literal["python", "command"]

_MARKER = re.compile(r"^# %%(?:[ \t](?P<rest>.*))?$")
_CELL_TYPE = re.compile(r"\[(?P<type>[A-Za-z]+)\]")
_BARE_COMMAND = re.compile(r"^%(?P<name>[A-Za-z_]\w*)(?:[ \t].*)?$")
_COMMENTED_COMMAND = re.compile(r"^# (?P<command>%(?P<name>[A-Za-z_]\w*)(?:[ \t].*)?)$")
_NARRATION_TYPES = {"markdown", "md", "raw"}
_LINES = re.compile(r"(?:^|[ \t])lines=(?P<count>\d{1,9})(?=[ \t]|$)")


class LessonError(Exception):
    """A lesson cannot be opened, found or saved; the message says why in the user's words."""


class Entry(NamedTuple):
    """One thing to run from a code cell: a block of Python or one ``%`` command line."""

    source: str
    line: int  # line number in the lesson file where it starts (1-based)
    command: bool


@dataclass(frozen=True)
class LessonCell:
    """One cell: ``number`` counts from 1 in file order; ``start``/``end`` are the file lines of
    its ``# %%`` marker (or first line) and its last non-blank line; ``source`` is the code, or
    for narration the text with the comment markers removed."""

    number: int
    kind: CellKind
    source: str
    title: str
    start: int
    end: int
    body_line: int  # file line of the first line of ``source``
    whole: Whole | None = None  # a ``lines=N`` cell: one entry, exactly as written

    def entries(self, commands: Collection[str] | None = None) -> list[Entry]:
        """The code cell cut into Python blocks and ``%`` command lines, in order.

        ``commands`` are the known command names (``Commands.table`` names and aliases): a
        ``# %word`` comment counts as a command only when ``word`` is one of them, so an ordinary
        comment such as ``# %s is printf style`` stays a comment. None accepts any name. Blocks
        holding only comments and blank lines are dropped. Narration cells have no entries.
        """
        if self.kind != "code":
            return []
        if self.whole is not None:
            return [Entry(self.source, self.body_line, self.whole == "command")]
        entries: list[Entry] = []
        block: list[str] = []
        block_line = self.body_line

        def flush() -> None:
            while block and not block[-1].strip():
                block.pop()
            if any(_is_code(line) for line in block):
                entries.append(Entry("\n".join(block), block_line, False))
            block.clear()

        for i, line in enumerate(self.source.split("\n")):
            command = _command(line, commands)
            if command is not None:
                flush()
                entries.append(Entry(command, self.body_line + i, True))
                continue
            if not block and not line.strip():
                continue
            if not block:
                block_line = self.body_line + i
            block.append(line)
        flush()
        return entries

    def syntax_error(self, commands: Collection[str] | None = None) -> str | None:
        """``line N: message`` for the first Python block that cannot compile, else None."""
        for entry in self.entries(commands):
            if entry.command:
                continue
            try:
                with warnings.catch_warnings():  # running the cell shows them; opening it not
                    warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
                    compile(entry.source, "<lesson>", "exec", dont_inherit=True)
            except SyntaxError as e:
                line = entry.line + (e.lineno or 1) - 1
                return f"line {line}: {e.msg}"
            except ValueError as e:  # e.g. a NUL character
                return f"line {entry.line}: {e}"
        return None


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _command(line: str, commands: Collection[str] | None) -> str | None:
    """The ``%`` command a code line holds (``%step 2``), or None for Python."""
    line = line.rstrip()
    m = _BARE_COMMAND.match(line)
    if m is not None:
        return line
    m = _COMMENTED_COMMAND.match(line)
    if m is not None and (commands is None or m.group("name").lower() in commands):
        return m.group("command")
    return None


# ---- parsing ---------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    """The lines of ``text`` as Python reads source: ``\r\n``, ``\r`` and ``\n`` end lines (a
    form feed or U+2028 inside a string does not, unlike ``str.splitlines``)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def is_lesson(text: str) -> bool:
    """Whether ``text`` is cut into cells by ``# %%`` lines (what makes a file a lesson)."""
    return any(_MARKER.match(line) for line in _split(text))


def parse(text: str) -> list[LessonCell]:
    """The cells of a percent-format text. Lines before the first ``# %%`` form a first cell
    (narration when they are only comments, code otherwise), less a jupytext ``# ---`` header;
    empty cells are dropped. Nothing is compiled here: a syntax error belongs to its cell (see
    ``LessonCell.syntax_error``).

    A marker with ``lines=N`` (what ``%save`` writes: ``# %% lines=3``) starts a cell of exactly
    the next N lines, taken as they are: one Python entry, or with ``[command]`` one ``%``
    command written as comment lines. Nothing in those lines can start a cell or be read as a
    command. Lines after them, before the next marker, form a cell of their own."""
    lines = _split(text)
    # (kind or None for "decide from the body", title, exact or None, marker line, first body
    # index, end index)
    raw: list[tuple[CellKind | None, str, Whole | None, int, int, int]] = []
    open_cell: tuple[CellKind | None, str, int, int] | None = None
    if lines and not _MARKER.match(lines[0]):
        open_cell = (None, "", 1, _header_end(lines))
    i = 0
    while i < len(lines):
        m = _MARKER.match(lines[i])
        if m is None:
            i += 1
            continue
        if open_cell is not None:
            raw.append((open_cell[0], open_cell[1], None, open_cell[2], open_cell[3], i))
        kind, title, whole, count = _header(m.group("rest") or "")
        if count is None:
            open_cell = (kind, title, i + 1, i + 1)
            i += 1
            continue
        stop = min(i + 1 + count, len(lines))
        raw.append((kind, title, whole, i + 1, i + 1, stop))
        open_cell = (None, "", stop + 1, stop)  # anything after the N lines: a cell of its own
        i = stop
    if open_cell is not None:
        raw.append((open_cell[0], open_cell[1], None, open_cell[2], open_cell[3], len(lines)))
    cells: list[LessonCell] = []
    for kind, title, whole, start, first, stop in raw:
        body = lines[first:stop]
        if whole is not None:
            if not body:
                continue
            if whole == "command":
                source = "\n".join(_uncomment(line) for line in body)
            else:
                source = "\n".join(body)
            end = first + len(body)
            cells.append(
                LessonCell(len(cells) + 1, "code", source, title, start, end, first + 1, whole)
            )
            continue
        lead = 0
        while lead < len(body) and not body[lead].strip():
            lead += 1
        body = body[lead:]
        while body and not body[-1].strip():
            body.pop()
        if not body:
            continue
        if kind is None:
            kind = "code" if any(_is_code(line) for line in body) else "markdown"
        body_line = first + lead + 1
        end = body_line + len(body) - 1
        if kind == "markdown":
            source = "\n".join(_uncomment(line) for line in body)
            title = title or _heading(source)
        else:
            source = "\n".join(body)
        cells.append(LessonCell(len(cells) + 1, kind, source, title, start, end, body_line))
    return cells


def _header_end(lines: list[str]) -> int:
    """Index of the first line after a jupytext header (``# ---`` … ``# ---``), else 0."""
    if lines[0].rstrip() != "# ---":
        return 0
    for i, line in enumerate(lines[1:], 1):
        if _MARKER.match(line):
            break
        if line.rstrip() == "# ---":
            return i + 1
    return 0


def _header(rest: str) -> tuple[CellKind, str, Whole | None, int | None]:
    """``Title [markdown] key=value`` → (kind, title, exact, N): ``lines=N`` makes the cell
    exactly N lines, one entry (``[command]``: a command); other metadata is ignored."""
    count = None
    m = _LINES.search(rest)
    if m is not None:
        count = int(m.group("count"))
        rest = rest[: m.start()] + rest[m.end() :]
    m = _CELL_TYPE.search(rest)
    if m is None:
        return "code", rest.strip(), None if count is None else "python", count
    cell_type = m.group("type").lower()
    title = rest[: m.start()].strip()
    if cell_type in _NARRATION_TYPES:
        return "markdown", title, None, None
    whole: Whole = "command" if cell_type == "command" else "python"
    return "code", title, None if count is None else whole, count


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.rstrip() == "#":
        return ""
    return line


def _heading(text: str) -> str:
    first = text.split("\n", 1)[0]
    return first.lstrip("#").strip() if first.startswith("#") else ""


# ---- reading files ---------------------------------------------------------------------------


def read_text(path: Path | Traversable) -> str:
    """The UTF-8 text of a file, or a LessonError saying plainly why it cannot be read
    (missing, a directory, a FIFO or device, over 1 MB, unreadable, binary, not UTF-8)."""
    name = str(path)
    try:
        # A file the user named: regular files only, size-limited. Else a shipped resource.
        data = files.read_bytes(path) if isinstance(path, Path) else path.read_bytes()
        return files.decode_text(data)
    except files.FileProblem as e:
        raise LessonError(f"cannot open lesson {name}: {e}") from None
    except OSError as e:
        raise LessonError(f"cannot open lesson {name}: {e.strerror or e}") from None


# ---- the lesson and its cursor -----------------------------------------------------------------


class Lesson:
    """A lesson's cells and a cursor: the index of the next cell to present.

    A step is the narration cells before a code cell plus that code cell: ``next()`` returns the
    cells of the next step and moves past them, ``prev()`` moves back one step, ``goto(n)`` puts
    the cursor at cell ``n``. Narration after the last code cell closes the lesson: it is shown
    with the last step, no ``next()`` of its own. Moving never undoes what already ran: the
    namespace keeps it. ``path`` is the file its cells are compiled as (so tracebacks and flags
    point into it); ``number`` is a shipped lesson's number.
    """

    def __init__(
        self,
        cells: list[LessonCell],
        name: str = "lesson",
        path: str = "",
        number: int | None = None,
    ) -> None:
        self.cells = cells
        self.name = name
        self.path = path
        self.number = number
        self.cursor = 0
        self.ran: LessonCell | None = None  # the code cell the latest next() returned

    @classmethod
    def from_text(
        cls, text: str, name: str = "lesson", path: str = "", number: int | None = None
    ) -> Lesson:
        return cls(parse(text), name, path, number)

    @property
    def title(self) -> str:
        """The first cell title or heading, else the name."""
        return next((c.title for c in self.cells if c.title), self.name)

    @property
    def label(self) -> str:
        """How a status line names it: ``lesson 3``, or the file's name."""
        return f"lesson {self.number}" if self.number is not None else f"lesson {self.name}"

    @property
    def current(self) -> LessonCell | None:
        """The cell at the cursor (None past the last cell)."""
        return self.cells[self.cursor] if self.cursor < len(self.cells) else None

    @property
    def done(self) -> bool:
        """No code cell is left to run (closing narration may be)."""
        return all(cell.kind != "code" for cell in self.cells[self.cursor :])

    @property
    def position(self) -> tuple[int, int]:
        """(cells behind the cursor, cells in the lesson)."""
        return self.cursor, len(self.cells)

    @property
    def steps(self) -> tuple[int, int]:
        """(steps run: code cells behind the cursor, steps in the lesson)."""
        code = [i for i, cell in enumerate(self.cells) if cell.kind == "code"]
        return sum(1 for i in code if i < self.cursor), len(code)

    def upcoming(self) -> list[LessonCell]:
        """The cells of the next step: narration from the cursor up to the next code cell (at
        the end, the closing narration)."""
        step: list[LessonCell] = []
        for cell in self.cells[self.cursor :]:
            step.append(cell)
            if cell.kind == "code":
                break
        return step

    def next(self) -> list[LessonCell]:
        """The next step's cells, the cursor moved past them; empty when no code is left."""
        if self.done:
            return []
        step = self.upcoming()
        self.cursor += len(step)
        self.ran = step[-1]
        return step

    def prev(self) -> list[LessonCell]:
        """Back one step (so ``next()`` runs the previous code cell again); the new upcoming
        step is returned. At the start the cursor stays."""
        starts = self._step_starts()
        earlier = [s for s in starts if s < self.cursor]
        self.cursor = earlier[-1] if earlier else 0
        return self.upcoming()

    def goto(self, n: int) -> list[LessonCell]:
        """Put the cursor at cell ``n`` (from 1; ``len + 1`` is the end); returns ``upcoming()``."""
        if not 1 <= n <= len(self.cells) + 1:
            n_cells = len(self.cells)
            cells = "only cell 1" if n_cells == 1 else f"cells 1 to {n_cells}"
            raise LessonError(f"{self.name} has {cells}, not {n}")
        self.cursor = n - 1
        return self.upcoming()

    def _step_starts(self) -> list[int]:
        starts = [0]
        for i, cell in enumerate(self.cells):
            if cell.kind == "code" and i + 1 < len(self.cells):
                starts.append(i + 1)
        return starts

    def entries(self, commands: Collection[str] | None = None) -> list[Entry]:
        """Every code cell's entries, in order: what running the whole lesson runs."""
        return [e for cell in self.cells for e in cell.entries(commands)]

    def syntax_errors(self, commands: Collection[str] | None = None) -> list[tuple[int, str]]:
        """``(cell number, "line N: message")`` for every code cell that cannot compile."""
        found = ((c.number, c.syntax_error(commands)) for c in self.cells)
        return [(n, error) for n, error in found if error is not None]

    def __repr__(self) -> str:
        return f"<Lesson {self.name}: cell {self.cursor + 1}/{len(self.cells)}>"


def load(spec: str | Path) -> Lesson:
    """The lesson at path ``spec``, or the shipped lesson it names (``"2"``, ``"02"``,
    ``"backward"``, ``"02_the_backward_walk"``). LessonError when neither exists or the file
    cannot be read; an empty file is an error too."""
    path = Path(spec).expanduser()
    if path.exists() or os.sep in str(spec):
        text = read_text(path)
        lesson = Lesson.from_text(text, path.stem, str(path))
    else:
        info = find(str(spec))
        text = read_text(info.resource)
        lesson = Lesson.from_text(text, info.name, info.path, info.number)
    if not lesson.cells:
        raise LessonError(f"{lesson.path or lesson.name} is empty: a lesson needs # %% cells")
    # Its cells run compiled as this file: tracebacks, flags and inspect.getsource read the
    # lines that ran from here, even if the file changes on disk (no mtime: kept as it is).
    linecache.cache[lesson.path] = (len(text), None, _split_keep_ends(text), lesson.path)
    return lesson


def _split_keep_ends(text: str) -> list[str]:
    """The lines of ``text`` as linecache keeps them: each ends with a newline."""
    return [line + "\n" for line in _split(text)]


# ---- the lessons that ship with anet-tui --------------------------------------------------------


@dataclass(frozen=True)
class LessonInfo:
    """A shipped lesson: ``number`` (1, 2, 3), ``name`` (file stem), ``title``, ``path``."""

    number: int
    name: str
    title: str
    path: str
    resource: Traversable


def _lesson_dir() -> Traversable:
    return resources.files("anet_tui").joinpath("lessons")


def shipped() -> list[LessonInfo]:
    """The lessons that ship with the package, in order (files ``NN_name.py``)."""
    found = []
    for item in _lesson_dir().iterdir():
        m = re.match(r"^(\d+)_\w+\.py$", item.name)
        if m is None or not item.is_file():
            continue
        name = item.name[:-3]
        lesson = Lesson.from_text(read_text(item), name)
        found.append(LessonInfo(int(m.group(1)), name, lesson.title, str(item), item))
    return sorted(found, key=lambda info: (info.number, info.name))


def find(spec: str) -> LessonInfo:
    """The shipped lesson named by number (``2``), file stem, or a unique part of its name."""
    lessons = shipped()
    key = spec.strip().lower().removesuffix(".py")
    if key.isdigit():
        hits = [i for i in lessons if i.number == int(key)]
    else:
        hits = [i for i in lessons if i.name == key] or [i for i in lessons if key in i.name]
    if len(hits) == 1:
        return hits[0]
    listing = "; ".join(f"{i.number} {i.name}" for i in lessons)
    why = "is ambiguous" if hits else "is no file and no shipped lesson"
    raise LessonError(f"lesson {spec!r} {why} (shipped: {listing})")


# ---- saving -------------------------------------------------------------------------------------


def to_script(sources: Iterable[str], note: str | None = None) -> str:
    """Sources run in a session as a percent-format lesson that replays them, entry for entry.

    Each Python source is a ``# %% lines=N`` cell: exactly its N lines, so a line inside it that
    looks like a cell break or a command (``# %%``, ``%s x`` in a string) stays Python.
    Consecutive one-line ``%`` commands share a ``# %%`` cell of ``# %command`` lines; a command
    of several lines is a ``# %% [command] lines=N`` cell of comment lines. The file is valid
    Python and commands are commands again when anet-tui runs it. ``note`` heads it as
    narration."""
    if note is None:
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
        note = (
            f"anet-tui session saved {stamp}: `anet-tui --lesson FILE` replays it (its %\n"
            "commands too), `python FILE` runs its Python\n"
            "(a `# %% lines=N` cell is exactly the N lines that ran: edit one, change its N)"
        )
    out = ["# %% [markdown]\n" + "".join(_comment(line) for line in note.split("\n"))]
    commands: list[str] = []
    for source in sources:
        lines = _split(source)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            continue
        if lines[0].lstrip().startswith("%"):  # a command (what Commands.execute runs as one)
            lines = _split("\n".join(lines).strip())
            if len(lines) == 1:
                commands.append(f"# {lines[0]}\n")
                continue
        if commands:
            out.append("# %%\n" + "".join(commands))
            commands = []
        if lines[0].lstrip().startswith("%"):
            body = "".join(f"# {line}\n" if line else "#\n" for line in lines)
            out.append(f"# %% [command] lines={len(lines)}\n{body}")
        else:
            out.append(f"# %% lines={len(lines)}\n" + "".join(f"{line}\n" for line in lines))
    if commands:
        out.append("# %%\n" + "".join(commands))
    return "\n".join(out)


def _comment(line: str) -> str:
    return f"# {line}\n" if line.strip() else "#\n"


def save_script(
    path: str | Path, sources: Iterable[str], *, force: bool = False, note: str | None = None
) -> Path:
    """Write ``to_script(sources)`` to ``path``, a regular file: an existing one is replaced
    only with ``force`` and keeps its mode (and owner, where allowed). Links (even dangling),
    devices, FIFOs, sockets and directories are refused, forced or not.

    A new file is created with ``O_EXCL|O_NOFOLLOW`` (nothing that appears there meanwhile is
    written through) and removed if writing fails. An existing one is replaced through a
    temporary file in the same folder, given its mode, then renamed over it once checked again:
    a failed save (a full disk) never leaves half of it, and a link or device put there
    meanwhile is not replaced."""
    path = Path(path).expanduser()
    data = to_script(sources, note).encode("utf-8", "replace")
    before = _existing(path)
    if before is not None and not force:
        raise LessonError(_EXISTS.format(path=path))
    try:
        if before is None:
            _write_new(path, data)
        else:
            _replace(path, data, before)
    except FileExistsError:
        raise LessonError(_EXISTS.format(path=path)) from None
    except OSError as e:
        raise LessonError(f"cannot save to {path}: {e.strerror or e}") from None
    return path


_EXISTS = "{path} exists: it is replaced only when forced (%save FILE -f)"


def _write_new(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o666)  # the umask decides the mode, as for any new file
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _replace(path: Path, data: bytes, before: os.stat_result) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, stat.S_IMODE(before.st_mode))
            if (before.st_uid, before.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # keeps the owner where allowed (root)
                    os.fchown(fd, before.st_uid, before.st_gid)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        now = _existing(path)
        if now is None or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise LessonError(f"cannot save to {path}: it changed while saving; try again")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _existing(path: Path) -> os.stat_result | None:
    """``lstat(path)`` when it is a regular file, None when nothing is there; LessonError for
    anything else (a link, dangling or not, a device, FIFO, socket or directory)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise LessonError(f"cannot save to {path}: {e.strerror or e}") from None
    if stat.S_ISREG(info.st_mode):
        return info
    if stat.S_ISLNK(info.st_mode):
        why = "it is a symbolic link; %save writes only regular files (save to the file it names)"
    elif stat.S_ISDIR(info.st_mode):
        why = "it is a directory"
    else:
        why = f"it is {files.kind_of(info.st_mode)}; %save writes only regular files"
    raise LessonError(f"cannot save to {path}: {why}")


__all__ = [
    "Entry",
    "Lesson",
    "LessonCell",
    "LessonError",
    "LessonInfo",
    "find",
    "is_lesson",
    "load",
    "parse",
    "read_text",
    "save_script",
    "shipped",
    "to_script",
]
