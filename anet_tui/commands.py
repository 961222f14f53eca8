"""The ``%`` command language (``%debug``, ``%step`` …), shared by the app and the plain REPL.

Commands drive an :class:`anet.debug.BackwardSession` and answer with a :class:`CommandResult`:
lines of text, each with a kind (``info``, ``flag``, ``error``, ``tree``, ``json``), so every
front-end says the same words and draws them its own way. Markers are text (``✗ shape``,
``✓ done``), never colour alone; answers are Unicode (a front-end that must write ASCII turns them
so at output). Session work runs on the shell's worker thread, so Ctrl+C stops a hanging backward.

This module is the core: :class:`Commands` (parsing a ``%`` line, running it or Python, the
command table, ``%help``). The handlers live with their kind: the session's in
:mod:`anet_tui.session_commands`, the lessons', ``%run`` and ``%save`` in
:mod:`anet_tui.lesson_commands`; each works through a
:class:`~anet_tui.command_base.CommandContext`.

    commands = Commands(Shell())
    outcome = commands.execute("%debug loss")    # a CommandResult; Python gives a RunResult
    for line in outcome.lines:
        print(line.text)
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import inspect
import shlex
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from anet.debug import BackwardSession, Graph, charts, record
from anet.debug.views import LEGEND
from anet.tensor import Tensor
from anet_tui import demos, files, lessons
from anet_tui.command_base import (
    Command,
    CommandContext,
    CommandError,
    CommandResult,
    Handler,
    Line,
    internal_error,
)
from anet_tui.editor import run_in_terminal
from anet_tui.lesson_commands import LESSON_COMMANDS, cells_note
from anet_tui.session_commands import SESSION_COMMANDS
from anet_tui.shell import Cell, RunResult, Shell
from anet_tui.source import read_script
from anet_tui.text import inert, inert_json


class Commands:
    """The command language over one :class:`Shell` and at most one open session.

    With ``record`` (the default) code runs under :func:`anet.debug.record`, so flags say where
    each op was applied and in-place changes are caught; recording is on only while the shell
    runs something.
    """

    def __init__(self, shell: Shell, *, record: bool = True) -> None:
        self.shell = shell
        self.record = record
        self.session: BackwardSession | None = None
        self.root_name: str | None = None  # the expression %debug was given ("loss")
        self._last_tensor: tuple[str, Tensor] | None = None
        self._last_graph: Graph | None = None
        self.lesson: lessons.Lesson | None = None
        self.last_script: tuple[str, list[str]] | None = None  # what %edit -p opens: FILE, ARGS
        # How %edit hands the terminal to an editor: the app suspends itself around it.
        self.run_editor: Callable[[Sequence[str]], int] = run_in_terminal
        # Columns a chart fits in (%flow); the app sets its transcript's width.
        self.width = charts.WIDTH
        # name -> row; %help lists it in this order. Add a row to add a command.
        self.table: dict[str, Command] = {c.name: c for c in BUILTIN_COMMANDS}

    # ---- the table ---------------------------------------------------------------------------
    def find(self, name: str) -> Command | None:
        """The table row whose name or alias is ``name`` (lower case, no ``%``), or None."""
        for command in self.table.values():
            if name == command.name or name in command.aliases:
                return command
        return None

    def help_table(self) -> list[tuple[str, str]]:
        """``(usage, summary)`` of every command, in table order."""
        return [(c.usage, c.summary) for c in self.table.values()]

    def complete(self, text: str) -> list[str]:
        """``%`` command names starting with ``text`` (``"%st"`` gives ``["%step"]``)."""
        return [f"%{name}" for name in self.table if f"%{name}".startswith(text)]

    # ---- running -----------------------------------------------------------------------------
    @staticmethod
    def is_command(text: str) -> bool:
        return text.lstrip().startswith("%")

    def execute(
        self,
        text: str,
        on_output: Callable[[str], None] | None = None,
        *,
        filename: str | None = None,
        line: int = 1,
    ) -> RunResult | CommandResult:
        """Run one entry: a ``%`` line as a command, anything else as Python in the shell
        (compiled as ``filename`` from ``line`` on, when given: a lesson cell's)."""
        if self.is_command(text):
            return self.run(text, on_output=on_output)
        with self.recording():
            result = self.shell.run(text, filename=filename, line=line, on_output=on_output)
        if result.ok and isinstance(result.obj, Tensor) and not result.obj.is_leaf:
            source = text.strip()
            name = source if "\n" not in source and len(source) <= 40 else None
            self._last_tensor = (name or f"#{result.obj.id}", result.obj)
        elif result.ok:
            found = backward_root(text, self.shell.namespace)
            self._last_tensor = found or self._last_tensor
        return result

    def submit(
        self,
        text: str,
        *,
        on_output: Callable[[str], None] | None = None,
        echo: Callable[[str], None] = lambda entry: None,
        show: Callable[[RunResult | CommandResult], None] = lambda outcome: None,
    ) -> RunResult | CommandResult:
        """Run what the user entered, the way both front-ends do: ``show`` each outcome; when a
        command hands back entries (``then``), ``echo`` and run each as if typed, stopping at the
        first that fails, then show its ``after`` lines. Returns the first outcome."""
        outcome = self.execute(text, on_output=on_output)
        show(outcome)
        if isinstance(outcome, CommandResult) and (outcome.then or outcome.after):
            for entry in outcome.then:
                echo(entry.source)
                step = self.execute(
                    entry.source, on_output=on_output, filename=entry.filename, line=entry.line
                )
                show(step)
                if not step.ok or (isinstance(step, RunResult) and step.status == "exit"):
                    break
            if outcome.after:
                show(CommandResult(outcome.name, list(outcome.after), session=self.session))
        return outcome

    @property
    def known(self) -> set[str]:
        """Every command name and alias: what a lesson's ``# %step`` lines may name."""
        return {n for c in self.table.values() for n in (c.name, *c.aliases)}

    def run(self, line: str, on_output: Callable[[str], None] | None = None) -> CommandResult:
        """Run one ``%`` line. Never raises: every problem is an ``error`` line."""
        text = line.strip()
        name, _, arg = text[1:].partition(" ")
        command = self.find(name.lower())
        if command is None:
            result = CommandResult("", [Line(self.unknown_message(name), "error")])
        else:
            try:
                result = command.handler(CommandContext(self, on_output), arg.strip())
            except CommandError as e:
                result = CommandResult(command.name, [Line(str(e), "error")])
            except Exception as e:  # a bug here must not take the front-end down
                result = CommandResult(
                    command.name, [Line(internal_error(f"%{command.name}", e), "error")]
                )
        result.session = self.session
        # Messages quote user text (exception messages, op names, source lines): show it inert.
        result.lines = [_inert(line) for line in result.lines]
        result.after = [_inert(line) for line in result.after]
        status = "ok" if result.ok else "error"
        self.shell.cells.append(Cell(text, "%", status, kind="command"))
        return result

    def replays(self, cell: Cell) -> bool:
        """Whether ``%save`` writes this cell: Python always, a command when its table row says
        so (``replay``)."""
        if not self.is_command(cell.source):
            return True
        name = cell.source.strip()[1:].partition(" ")[0]
        command = self.find(name.lower())
        return command is not None and command.replay

    def unknown_message(self, name: str) -> str:
        """The error for ``%name`` naming no command, with the closest name as a hint."""
        names = [c.name for c in self.table.values()]
        close = difflib.get_close_matches(name.lower(), names, n=1)
        hint = f" (did you mean %{close[0]}?)" if close else ""
        return f"unknown command %{inert(name)}{hint}; %help lists the commands"

    @property
    def graph(self) -> Graph | None:
        """What a tree view shows: the open session, else the graph of the last tensor with a
        graph that a Python entry evaluated to or called ``backward()`` on (so a plain
        ``loss.backward()`` shows its grads), else None."""
        if self.session is not None:
            return self.session
        if self._last_tensor is None:
            return None
        tensor = self._last_tensor[1]
        if self._last_graph is None or self._last_graph.root is not tensor:
            self._last_graph = Graph(tensor)
        return self._last_graph

    @property
    def graph_name(self) -> str | None:
        """The name of what :attr:`graph` shows (``root_name`` for a session)."""
        if self.session is not None:
            return self.root_name
        return None if self._last_tensor is None else self._last_tensor[0]

    # ---- start-up ------------------------------------------------------------------------
    def startup(
        self,
        script: str | Path | None = None,
        demo: str | None = None,
        on_output: Callable[[str], None] | None = None,
        lesson: str | None = None,
        script_args: Sequence[str] = (),
    ) -> list[RunResult | CommandResult]:
        """Run the SCRIPT (given ``script_args`` as ``python SCRIPT ARGS`` would) and/or demo
        named on the command line into the namespace, in that order; for a demo, its title and
        "try first" text come as info lines around the run. A ``lesson`` (number, name or path)
        is opened last, as ``%lesson`` would. ``%save`` keeps the script as ``%run SCRIPT
        ARGS``, the demo as its code."""
        outcomes: list[RunResult | CommandResult] = []
        if lesson is not None:
            outcomes.extend(self.startup(script, demo, on_output, script_args=script_args))
            outcomes.append(self.run(f"%lesson {lesson}", on_output=on_output))
            return outcomes
        if script is not None:
            ran = self.run_script(script, script_args, on_output)
            line = "%run " + shlex.join([str(script), *script_args])
            self.shell.cells.append(Cell(line, "%", ran.status, kind="command"))
            outcomes.append(ran)
            with contextlib.suppress(files.FileProblem):  # run_file said what was wrong
                note = cells_note(str(script), files.read_text_file(script))
                if note is not None:
                    outcomes.append(CommandResult("run", [Line(note)]))
        if demo is not None:
            try:
                d = demos.load(demo)
            except KeyError as e:
                outcomes.append(CommandResult("demo", [Line(str(e.args[0]), "error")]))
                return outcomes
            outcomes.append(CommandResult("demo", [Line(f"demo {d.title}")]))
            with self.recording():  # a snippet, run (and saved) as if typed
                run = self.shell.run(read_script(d.path), filename=str(d.path), on_output=on_output)
            outcomes.append(run)
            if run.ok:
                outcomes.append(CommandResult("demo", [Line(t) for t in d.try_first.splitlines()]))
        return outcomes

    def run_script(
        self,
        path: str | Path,
        args: Sequence[str] = (),
        on_output: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Run a script as ``python PATH ARGS`` would (:meth:`Shell.run_file`), recording.
        ``%edit -p`` opens it next."""
        self.last_script = (str(path), list(args))
        with self.recording():
            return self.shell.run_file(path, argv=args, on_output=on_output)

    # ---- for handlers ------------------------------------------------------------------------
    def need_session(self) -> BackwardSession:
        """The open session, or a :class:`CommandError` saying how to open one."""
        if self.session is None:
            raise CommandError("no session is open: %debug EXPR opens one (e.g. %debug loss)")
        return self.session

    def recording(self) -> AbstractContextManager[Any]:
        """Where code runs: under :func:`anet.debug.record` when ``record`` is on."""
        return record() if self.record else nullcontext()

    def call(
        self, fn: Callable[[], Any], on_output: Callable[[str], None] | None = None
    ) -> RunResult:
        """Run session work (``session.finish``…) on the shell's worker, recording: user
        backwards may print, raise or hang. What ``fn`` returned is the result's ``obj``."""
        with self.recording():
            return self.shell.call(fn, on_output=on_output)


def _inert(line: Line) -> Line:
    """``line`` with its text inert (JSON stays JSON: it escapes as ``\\uXXXX``)."""
    return Line((inert_json if line.kind == "json" else inert)(line.text), line.kind)


def _help(ctx: CommandContext, arg: str) -> CommandResult:
    if arg:
        command = ctx.commands.find(arg.lstrip("%").lower())
        if command is None:
            raise CommandError(ctx.commands.unknown_message(arg.lstrip("%")))
        rows = [command]
    else:
        rows = list(ctx.commands.table.values())
    width = max(len(r.usage) for r in rows)
    lines = []
    for r in rows:
        alias = f" (also {', '.join('%' + a for a in r.aliases)})" if r.aliases else ""
        lines.append(Line(f"{r.usage:<{width}}  {r.summary}{alias}"))
    if not arg:
        lines.append(Line("Anything else is Python, run in the namespace (anet, np, Tensor …)."))
        lines.append(Line("Marks in the graph:"))
        width = max(len(mark) for mark, _ in LEGEND)
        lines += [Line(f"  {mark:<{width}}  {meaning}") for mark, meaning in LEGEND]
    return CommandResult("help", lines)


def backward_root(source: str, namespace: dict[str, Any]) -> tuple[str, Tensor] | None:
    """For an entry ending in ``NAME.backward(...)`` (a name or attribute path: nothing is run
    to find it), that name and tensor."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: undecodable bytes typed raw (surrogates)
        return None
    last = tree.body[-1] if tree.body else None
    if not (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Attribute)
        and last.value.func.attr == "backward"
    ):
        return None
    target = last.value.func.value
    path: list[str] = []
    while isinstance(target, ast.Attribute):
        path.append(target.attr)
        target = target.value
    if not isinstance(target, ast.Name) or target.id not in namespace:
        return None
    obj = namespace[target.id]
    for name in reversed(path):
        obj = inspect.getattr_static(obj, name, None)
    if not isinstance(obj, Tensor) or obj.is_leaf:
        return None
    return ast.unparse(last.value.func.value), obj


BUILTIN_COMMANDS = (
    *SESSION_COMMANDS,
    *LESSON_COMMANDS,
    Command("help", "%help [CMD]", "this list", _help, replay=False),
)


__all__ = [
    "BUILTIN_COMMANDS",
    "Command",
    "CommandContext",
    "CommandError",
    "CommandResult",
    "Commands",
    "Handler",
    "Line",
]
