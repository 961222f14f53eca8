"""The ``%`` command language (``%debug``, ``%step`` …), shared by the app and the plain REPL.

Commands drive an :class:`anet.debug.BackwardSession` and answer with a :class:`CommandResult`:
lines of text, each with a kind (``info``, ``flag``, ``error``, ``tree``), so every front-end says
the same words and draws them its own way. Markers are text (``✗ shape``, ``✓ done``), never colour
alone. Session work runs on the shell's worker thread, so Ctrl+C stops a hanging backward.

    commands = Commands(Shell())
    outcome = commands.execute("%debug loss")    # a CommandResult; Python gives a RunResult
    for line in outcome.lines:
        print(line.text)
"""

from __future__ import annotations

import ast
import difflib
import inspect
import os
import shlex
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from anet.debug import FLAG_KINDS, BackwardSession, Flag, Graph, NodeRecord, Stop, record, render
from anet.debug.records import Record, node_id
from anet.tensor import Tensor
from anet_tui import demos, lessons
from anet_tui.shell import Cell, RunResult, Shell, inert

Kind = Literal["info", "flag", "error", "tree"]
MAX_STEP_LINES = 20  # %step N prints at most this many step lines (%check all: results)
MAX_FLAG_LINES = 200  # %flags lists at most this many
TREE_LINES = 60  # trees printed after a command are cut here (%tree prints up to 1,000)


@dataclass(frozen=True)
class Line:
    """One line of a command's answer. ``kind``: ``info`` (plain text), ``flag`` (a flag found),
    ``error`` (the command could not do what was asked), ``tree`` (a text tree of the graph)."""

    text: str
    kind: Kind = "info"


@dataclass
class CommandResult:
    """What a ``%`` command did.

    ``name`` is the command (``"step"``; ``""`` when the line named no known command), ``lines``
    its answer, ``output`` what user code printed meanwhile (already streamed to ``on_output``),
    ``session`` the session after the command (None if none is open), ``node`` the record the
    command is about (the node stepped, stopped at, shown or checked: a view selects it), ``stop``
    what ``run()``/``finish()`` returned, ``changed`` whether the walk's state may have changed
    (a view redraws its tree). ``then`` and ``after`` are for commands that run code as if it
    were typed (a lesson's ``%next``): :meth:`Commands.submit` runs ``then``, then shows ``after``.
    """

    name: str
    lines: list[Line] = field(default_factory=list)
    output: str = ""
    session: BackwardSession | None = None
    node: NodeRecord | None = None
    stop: Stop | None = None
    changed: bool = False
    then: list[str] = field(default_factory=list)  # entries to run next, as if typed (%next)
    after: list[Line] = field(default_factory=list)  # lines to show once they have run

    @property
    def ok(self) -> bool:
        return not any(line.kind == "error" for line in self.lines)

    @property
    def kind(self) -> Kind:
        """The most serious kind among the lines: error, then flag, then info."""
        kinds = {line.kind for line in self.lines}
        return "error" if "error" in kinds else "flag" if "flag" in kinds else "info"

    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


Handler = Callable[["Commands", str], CommandResult]


@dataclass(frozen=True)
class Command:
    """One entry of the command table: ``%help`` is generated from these."""

    name: str
    usage: str  # "%step [N]"
    summary: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    replay: bool = True  # %save writes it into the session file (False: %help, %save, %next …)


class CommandError(Exception):
    """A command was used wrongly: the message is shown as an error line."""


class Commands:
    """The command language over one :class:`Shell` and at most one open session.

    ``trees=True`` (the plain REPL) adds the session's text tree to the answer of every command
    that moves the walk; the app, which draws its own tree, leaves it off. ``ascii=True`` draws
    markers and trees in ASCII only (terminals that cannot show ``✗``). With ``record`` (the
    default) code runs under :func:`anet.debug.record`, so flags say where each op was applied
    and in-place changes are caught; recording is on only while the shell runs something.
    """

    def __init__(
        self, shell: Shell, *, trees: bool = False, ascii: bool = False, record: bool = True
    ) -> None:
        self.shell = shell
        self.trees = trees
        self.ascii = ascii
        self.record = record
        self.session: BackwardSession | None = None
        self.root_name: str | None = None  # the expression %debug was given ("loss")
        self._last_tensor: tuple[str, Tensor] | None = None
        self._last_graph: Graph | None = None
        self._on_output: Callable[[str], None] | None = None
        self.lesson: lessons.Lesson | None = None
        self.table: dict[str, Command] = {}
        for command in BUILTIN_COMMANDS:
            self.add(command)

    # ---- the table ---------------------------------------------------------------------------
    def add(self, command: Command) -> None:
        """Add (or replace) a command, e.g. the lessons' ``%next``; ``%help`` lists it."""
        self.table[command.name] = command

    def _find(self, name: str) -> Command | None:
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
        self, text: str, on_output: Callable[[str], None] | None = None
    ) -> RunResult | CommandResult:
        """Run one entry: a ``%`` line as a command, anything else as Python in the shell."""
        if self.is_command(text):
            return self.run(text, on_output=on_output)
        with self._recording():
            result = self.shell.run(text, on_output=on_output)
        if result.ok and isinstance(result.obj, Tensor) and result.obj._ctx is not None:
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
                echo(entry)
                step = self.execute(entry, on_output=on_output)
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
        command = self._find(name.lower())
        if command is None:
            result = CommandResult("", [Line(self._unknown(name), "error")])
        else:
            self._on_output = on_output
            try:
                result = command.handler(self, arg.strip())
            except CommandError as e:
                result = CommandResult(command.name, [Line(str(e), "error")])
            except Exception as e:  # a bug here must not take the front-end down
                result = CommandResult(
                    command.name, [Line(f"%{command.name} failed: {inert(repr(e))}", "error")]
                )
            finally:
                self._on_output = None
        result.session = self.session
        # Messages quote user text (exception messages, op names, source lines): show it inert.
        result.lines = [Line(inert(line.text), line.kind) for line in result.lines]
        result.after = [Line(inert(line.text), line.kind) for line in result.after]
        status = "ok" if result.ok else "error"
        self.shell.cells.append(Cell(text, "%", status, kind="command"))
        return result

    def _replays(self, cell: Cell) -> bool:
        """Whether ``%save`` writes this cell: Python always, a command when its table row says
        so (``replay``)."""
        if not self.is_command(cell.source):
            return True
        name = cell.source.strip()[1:].partition(" ")[0]
        command = self._find(name.lower())
        return command is not None and command.replay

    def _unknown(self, name: str) -> str:
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
    ) -> list[RunResult | CommandResult]:
        """Run the SCRIPT and/or demo named on the command line into the namespace, in that
        order; for a demo, its title and "try first" text come as info lines around the run.
        A ``lesson`` (number, name or path) is opened last, as ``%lesson`` would."""
        outcomes: list[RunResult | CommandResult] = []
        if lesson is not None:
            outcomes.extend(self.startup(script, demo, on_output))
            outcomes.append(self.run(f"%lesson {lesson}", on_output=on_output))
            return outcomes
        if script is not None:
            with self._recording():
                outcomes.append(self.shell.run_file(script, on_output=on_output))
        if demo is not None:
            try:
                d = demos.load(demo)
            except KeyError as e:
                outcomes.append(CommandResult("demo", [Line(str(e.args[0]), "error")]))
                return outcomes
            outcomes.append(CommandResult("demo", [Line(f"demo {d.title}")]))
            with self._recording():
                run = self.shell.run_file(d.path, on_output=on_output)
            outcomes.append(run)
            if run.ok:
                outcomes.append(CommandResult("demo", [Line(t) for t in d.try_first.splitlines()]))
        return outcomes

    # ---- helpers for handlers ----------------------------------------------------------------
    def _need_session(self) -> BackwardSession:
        if self.session is None:
            raise CommandError("no session is open: %debug EXPR opens one (e.g. %debug loss)")
        return self.session

    def _recording(self) -> AbstractContextManager[Any]:
        return record() if self.record else nullcontext()

    def call(
        self, fn: Callable[[], Any], on_output: Callable[[str], None] | None = None
    ) -> RunResult:
        """Run session work (``session.finish``…) on the shell's worker, recording: user
        backwards may print, raise or hang. What ``fn`` returned is the result's ``obj``."""
        with self._recording():
            return self.shell.call(fn, on_output=on_output or self._on_output)

    def _call(self, fn: Callable[[], Any]) -> tuple[Any, RunResult]:
        result = self.call(fn)
        return result.obj, result

    def _position(self, session: BackwardSession) -> str:
        k, n = session.position
        return f"step {k}/{n}"

    def _tree_lines(self, session: Graph, limit: int = TREE_LINES) -> list[Line]:
        text = render.tree(session, ascii=self.ascii, max_lines=limit)
        return [Line(t, "tree") for t in text.splitlines()]

    def _flag_line(self, flag: Flag) -> Line:
        return Line(flag.line(self.ascii), "flag")

    def _walked(
        self,
        name: str,
        result: RunResult,
        lines: list[Line],
        node: NodeRecord | None = None,
        stop: Stop | None = None,
    ) -> CommandResult:
        """The answer of a command that moved the walk, with the interrupt/error note and tree."""
        session = self._need_session()
        if result.status in ("interrupted", "exit"):  # exit(): called by a user's backward
            current = session.current
            where = f" in {current.label}'s backward" if current is not None else ""
            what = "interrupted" if result.status == "interrupted" else "exit() called"
            lines.append(
                Line(
                    f"{what}{where}: the session is still at {self._position(session)}; "
                    "%step retries that node, %restart starts over",
                    "error",
                )
            )
        elif not result.ok:
            lines.append(Line(_strip(result.error or "failed"), "error"))
        if self.trees:
            lines += self._tree_lines(session)
        return CommandResult(name, lines, result.output, node=node, stop=stop, changed=True)

    def _node(self, session: Graph, arg: str) -> Record:
        """The node or leaf ``arg`` (``#5`` or ``5``) names, or a CommandError saying why not."""
        try:
            return session.node(arg)
        except (KeyError, ValueError) as e:
            raise CommandError(str(e.args[0])) from None


def _strip(text: str) -> str:
    return text.rstrip("\n")


def _stop_lines(commands: Commands, session: BackwardSession, stop: Stop) -> list[Line]:
    head = render.stop_line(session, stop, ascii=commands.ascii)
    kind: Kind = "flag" if stop.reason == "flag" else "info"
    lines = [Line(head, kind)]
    if stop.reason == "flag":  # other flags raised on the way (the stop line names the last)
        shown = next(f for f in reversed(stop.flags) if f.node == stop.node.id)
        lines += [commands._flag_line(f) for f in stop.flags if f is not shown]
    elif stop.flags:
        lines += [commands._flag_line(f) for f in stop.flags]
    return lines


# ---- the commands ----------------------------------------------------------------------------


def _debug(c: Commands, arg: str) -> CommandResult:
    if not arg:
        raise CommandError("usage: %debug EXPR, e.g. %debug loss")
    with c._recording():
        value = c.shell.evaluate(arg, on_output=c._on_output)
    if value.status != "ok":
        error = _strip(value.error or value.status)
        if error.count('  File "') <= 1:  # only the expression's own line: the message says it
            error = error.splitlines()[-1]
        raise CommandError(f"%debug {arg}: {error}")
    root = value.obj
    if not isinstance(root, Tensor):
        raise CommandError(f"%debug needs a Tensor; {arg} is a {type(root).__name__}")
    if root._ctx is None and not root.requires_grad:
        why = (
            f"it is {root.dtype}: integer and boolean tensors never need grad"
            if root.dtype.kind != "f"
            else "made under no_grad, or only from tensors that need no grad"
        )
        raise CommandError(
            f"{arg} is #{root.id}, a constant: it needs no grad, so it has no graph to walk ({why})"
        )
    if root._ctx is None:
        raise CommandError(
            f"{arg} is #{root.id}, a leaf: it has no graph to walk (debug a tensor made by ops)"
        )
    session, made = c._call(lambda: BackwardSession(root))
    if made.status != "ok":
        error = _strip(made.error or "").splitlines()[-1]
        hint = " (debug a one-element tensor, e.g. its .sum())" if root.data.size != 1 else ""
        raise CommandError(f"%debug {arg}: {error}{hint}")
    c.session, c.root_name = session, arg
    n = len(session.nodes)
    lines = [
        Line(
            f"session on #{root.id} {root.op} ({arg}): {n} node{'s' * (n != 1)}, nothing run yet;"
            " %step runs one node, %continue runs to the next flag"
        )
    ]
    if c.trees:
        lines += c._tree_lines(session)
    return CommandResult("debug", lines, value.output, node=session.current, changed=True)


def _walkable(c: Commands) -> BackwardSession:
    """The session, when its walk can go on; else a CommandError saying why (another walk
    changed its grads since it stopped: it goes on only after %restart)."""
    session = c._need_session()
    if (why := session.stale) is not None:
        raise CommandError(f"the walk cannot go on: {why}")
    return session


def _step(c: Commands, arg: str) -> CommandResult:
    session = _walkable(c)
    try:
        count = int(arg) if arg else 1
    except ValueError:
        raise CommandError(f"usage: %step [N], N a number of nodes (got {arg!r})") from None
    if count < 1:
        raise CommandError("%step N: N must be at least 1")
    if session.done:
        return CommandResult(
            "step", [Line(f"the walk is done ({c._position(session)}): %restart runs it again")]
        )
    ran: list[NodeRecord] = []

    def steps() -> None:
        for _ in range(count):
            rec = session.step()
            if rec is None:
                break
            ran.append(rec)

    _, result = c._call(steps)
    lines: list[Line] = []
    for i, rec in enumerate(ran):
        if i == MAX_STEP_LINES and len(ran) > MAX_STEP_LINES + 1:
            lines.append(Line(f"… {len(ran) - MAX_STEP_LINES - 1} more steps"))
        if MAX_STEP_LINES <= i < len(ran) - 1:
            continue
        mark = render.marks(rec, ascii=c.ascii)
        lines.append(Line(f"ran {rec.label} {rec.shape}  {mark}", "flag" if rec.flags else "info"))
        lines += [c._flag_line(f) for f in rec.flags]
    tail = f"{c._position(session)}"
    if session.done:
        tail = f"done: {tail}, {len(session.flags)} flag{'s' * (len(session.flags) != 1)}"
    elif session.current is not None:
        tail += f", next {session.current.label}"
    lines.append(Line(tail))
    return c._walked("step", result, lines, node=ran[-1] if ran else None)


def _continue(c: Commands, arg: str) -> CommandResult:
    if arg:
        raise CommandError("%continue takes nothing (use %break to choose where it stops)")
    session = _walkable(c)
    if session.done:
        return CommandResult(
            "continue", [Line(f"the walk is done ({c._position(session)}): %restart runs it again")]
        )
    stop, result = c._call(session.run)
    lines = _stop_lines(c, session, stop) if stop is not None else []
    return c._walked("continue", result, lines, node=None if stop is None else stop.node, stop=stop)


def _finish(c: Commands, arg: str) -> CommandResult:
    if arg:
        raise CommandError("%finish takes nothing")
    session = _walkable(c)
    stop, result = c._call(session.finish)
    lines = _stop_lines(c, session, stop) if stop is not None else []
    return c._walked("finish", result, lines, node=session.last, stop=stop)


def _restart(c: Commands, arg: str) -> CommandResult:
    if arg:
        raise CommandError("%restart takes nothing")
    session = c._need_session()
    _, result = c._call(session.restart)
    lines = [Line(f"restarted: grads restored, back to {c._position(session)}")]
    return c._walked("restart", result, lines, node=session.current)


def _break(c: Commands, arg: str) -> CommandResult:
    session = c._need_session()
    words = arg.split()
    if not words:
        breaks = session.list_breaks()
        if not breaks:
            return CommandResult("break", [Line("no breakpoints (%break OP|#ID|KIND sets one)")])
        return CommandResult("break", [Line(f"breakpoint {b}") for b in breaks])
    if words[0] == "clear":
        if len(words) == 1:
            n = session.clear_breaks()
        else:
            kind, value = _break_target(words[1:])
            n = session.clear_breaks(**{kind: value})
        return CommandResult("break", [Line(f"cleared {n} breakpoint{'s' * (n != 1)}")])
    kind, value = _break_target(words)
    try:
        bp = session.break_on(**{kind: value})
    except ValueError as e:
        raise CommandError(str(e)) from None
    when = "after a node raising" if bp.kind == "flag" else "before"
    return CommandResult("break", [Line(f"breakpoint {bp}: %continue stops {when} it")])


def _break_target(words: list[str]) -> tuple[str, Any]:
    """``Dot`` / ``#5`` / ``shape`` / ``op Dot`` / ``node 5`` / ``flag shape``."""
    if len(words) == 2 and words[0] in ("op", "node", "flag"):
        kind, value = words
    elif len(words) == 1:
        value = words[0]
        if value.startswith("#") or value.isdigit():
            kind = "node"
        elif value in FLAG_KINDS:
            kind = "flag"
        else:
            kind = "op"
    else:
        raise CommandError("usage: %break OP|#ID|KIND (or op NAME, node ID, flag KIND)")
    if kind == "node":
        try:
            return kind, node_id(value)
        except ValueError as e:
            raise CommandError(str(e)) from None
    return kind, value


def _check(c: Commands, arg: str) -> CommandResult:
    session = c._need_session()
    if arg == "all":
        results, run = c._call(session.check_all)
        if run.status != "ok":
            return c._walked("check", run, [])
        bad = sum(r.flag is not None for r in results)
        if len(results) > MAX_STEP_LINES:  # a big graph: the disagreements only, and not all
            shown = [r for r in results if r.flag is not None][:MAX_STEP_LINES]
        else:
            shown = results
        lines = [
            c._flag_line(r.flag) if r.flag is not None else Line(_check_text(c, r)) for r in shown
        ]
        if len(shown) < len(results):
            lines.append(
                Line(f"… {len(results) - len(shown)} more not listed (%flags lists flags)")
            )
        lines.append(Line(f"checked {len(results)} nodes: {bad} disagree"))
        return CommandResult("check", lines, run.output, changed=True)
    target = arg or (session.current or session.last or session.nodes[0]).id
    rec = c._node(session, str(target))
    if not isinstance(rec, NodeRecord):
        raise CommandError(f"{rec.label} is a leaf: it has no backward to check")
    result, run = c._call(lambda: session.check(rec))
    if run.status != "ok":
        return c._walked("check", run, [], node=rec)
    line = c._flag_line(result.flag) if result.flag is not None else Line(_check_text(c, result))
    return CommandResult("check", [line], run.output, node=rec, changed=True)


def _check_text(c: Commands, result: Any) -> str:
    if result.ok is None:
        return f"? {result.message}"
    return f"{'ok' if c.ascii else '✓'} {result.message}"


def _flags(c: Commands, arg: str) -> CommandResult:
    session = c._need_session()
    if not session.flags:
        return CommandResult("flags", [Line(f"no flags ({c._position(session)})")])
    lines = []
    for f in session.flags[:MAX_FLAG_LINES]:
        loc = session.node(f.node).where
        at = f"  ({os.path.basename(loc.file)}:{loc.line})" if loc is not None else ""
        lines.append(Line(f.line(c.ascii) + at, "flag"))
    n = len(session.flags)
    if n > MAX_FLAG_LINES:
        lines.append(Line(f"… {n - MAX_FLAG_LINES} more (%show #ID shows a node's flags)"))
    lines.append(Line(f"{n} flag{'s' * (n != 1)} ({c._position(session)})"))
    return CommandResult("flags", lines)


def _show(c: Commands, arg: str) -> CommandResult:
    session = c._need_session()
    if not arg:
        current = session.current or session.last
        if current is None:
            raise CommandError("usage: %show #ID")
        arg = str(current.id)
    rec = c._node(session, arg)
    cross = "x" if c.ascii else "✗"
    text = render.detail(session, rec.id, ascii=c.ascii)
    lines = [
        Line(t, "flag" if t.lstrip().startswith(f"{cross} ") else "info") for t in text.splitlines()
    ]
    return CommandResult("show", lines, node=rec if isinstance(rec, NodeRecord) else None)


def _tree(c: Commands, arg: str) -> CommandResult:
    session = c._need_session()
    if arg:
        rec = c._node(session, arg)
        text = render.tree(session, node=rec.id, ascii=c.ascii, max_lines=1000)
    else:
        text = render.tree(session, ascii=c.ascii, max_lines=1000)
    return CommandResult("tree", [Line(t, "tree") for t in text.splitlines()])


def _help(c: Commands, arg: str) -> CommandResult:
    if arg:
        command = c._find(arg.lstrip("%").lower())
        if command is None:
            raise CommandError(c._unknown(arg.lstrip("%")))
        rows = [command]
    else:
        rows = list(c.table.values())
    width = max(len(r.usage) for r in rows)
    lines = []
    for r in rows:
        alias = f" (also {', '.join('%' + a for a in r.aliases)})" if r.aliases else ""
        lines.append(Line(f"{r.usage:<{width}}  {r.summary}{alias}"))
    if not arg:
        lines.append(Line("Anything else is Python, run in the namespace (anet, np, Tensor …)."))
    return CommandResult("help", lines)


def _save(c: Commands, arg: str) -> CommandResult:
    try:
        words = shlex.split(arg)
    except ValueError as e:
        raise CommandError(f"%save: {e}") from None
    force = "-f" in words
    names = [w for w in words if w != "-f"]
    if len(names) != 1:
        raise CommandError("usage: %save FILE [-f]  (-f overwrites an existing file)")
    sources = [cell.source for cell in c.shell.cells if cell.status == "ok" and c._replays(cell)]
    try:
        path = lessons.save_script(Path(names[0]).expanduser(), sources, force=force)
    except lessons.LessonError as e:
        raise CommandError(f"%save: {e}") from None
    cells = sum(1 for source in sources if not source.lstrip().startswith("%"))
    return CommandResult("save", [Line(f"saved {cells} cell{'s' * (cells != 1)} to {path}")])


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
    if not isinstance(obj, Tensor) or obj._ctx is None:
        return None
    return ast.unparse(last.value.func.value), obj


# ---- lessons --------------------------------------------------------------------------------


def _lesson(c: Commands, arg: str) -> CommandResult:
    if not arg:
        lines = [Line(f"{i.number}  {i.title}") for i in lessons.shipped()]
        lines.append(Line("%lesson N opens one (or a path to a # %% file); %next runs its cells"))
        return CommandResult("lesson", lines)
    try:
        c.lesson = lessons.load(arg)
    except lessons.LessonError as e:
        raise CommandError(str(e)) from None
    _, n = c.lesson.position
    head = Line(
        f"lesson {c.lesson.title} ({n} cells) · %next runs the next cell, %prev / %goto N move"
    )
    # Said up front: the cells before a broken one still run.
    broken = [
        Line(f"cell {number} cannot run: {error}", "error")
        for number, error in c.lesson.syntax_errors(c.known)
    ]
    return CommandResult("lesson", [head, *broken, *_preview(c.lesson)])


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


def _need_lesson(c: Commands) -> lessons.Lesson:
    if c.lesson is None:
        raise CommandError("no lesson is open: %lesson lists them, %lesson N opens one")
    return c.lesson


def _next(c: Commands, arg: str) -> CommandResult:
    lesson = _need_lesson(c)
    if lesson.done:
        return CommandResult("next", [Line("end of the lesson · %goto 1 starts it again")])
    step = lesson.next()
    code = [cell for cell in step if cell.kind == "code"]
    then = [e.source for cell in code for e in cell.entries(c.known)]
    done, n = lesson.position
    head = Line(f"cell {code[0].number}/{n}" if code else f"narration {done}/{n}")
    return CommandResult("next", [head], then=then, after=_preview(lesson))


def _prev(c: Commands, arg: str) -> CommandResult:
    lesson = _need_lesson(c)
    lesson.prev()
    return CommandResult("prev", _preview(lesson))


def _goto(c: Commands, arg: str) -> CommandResult:
    lesson = _need_lesson(c)
    if not arg.isdigit():
        raise CommandError("usage: %goto N  (a cell number of the lesson, from 1)")
    try:
        lesson.goto(int(arg))
    except lessons.LessonError as e:
        raise CommandError(str(e)) from None
    return CommandResult("goto", _preview(lesson))


BUILTIN_COMMANDS = (
    Command(
        "debug", "%debug EXPR", "open a backward session on the tensor EXPR (e.g. loss)", _debug
    ),
    Command("step", "%step [N]", "run the next node's backward (or the next N)", _step, ("s",)),
    Command(
        "continue",
        "%continue",
        "run to the next breakpoint, the next flag, or the end",
        _continue,
        ("c",),
    ),
    Command("finish", "%finish", "run to the end, ignoring breakpoints and flags", _finish),
    Command(
        "restart", "%restart", "undo the session's grads: back to before the first step", _restart
    ),
    Command(
        "break",
        "%break OP|#ID|KIND",
        "stop before nodes of op OP or node #ID, or after a KIND flag; "
        "%break lists, %break clear [..] removes",
        _break,
        ("b",),
    ),
    Command("check", "%check #ID|all", "numerical check of a node's backward (or of all)", _check),
    Command("flags", "%flags", "list the flags raised so far", _flags),
    Command("show", "%show #ID", "everything the session knows about one node", _show),
    Command("tree", "%tree [#ID]", "the session's graph as a text tree", _tree),
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
    Command("help", "%help [CMD]", "this list", _help, replay=False),
)


__all__ = [
    "BUILTIN_COMMANDS",
    "Command",
    "CommandError",
    "CommandResult",
    "Commands",
    "Line",
]
