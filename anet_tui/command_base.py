"""What every ``%`` command module shares: the answer (a :class:`CommandResult` of
:class:`Line` objects), the table row (:class:`Command`), and the :class:`CommandContext` a
handler works through.

A handler is ``handler(ctx, arg) -> CommandResult``: ``arg`` is the text after the command's
name, ``ctx`` gives it the :class:`~anet_tui.commands.Commands` it runs in and the
``on_output`` of this one run, so code it runs streams its output where the entry's does. A
handler raises :class:`CommandError` for a command used wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from anet.debug import BackwardSession, Flag, Graph, NodeRecord, Stop, pictures
from anet.debug.records import Record
from anet_tui.shell import RunResult, Shell
from anet_tui.text import internal_error

if TYPE_CHECKING:
    from anet_tui.commands import Commands

Kind = Literal["info", "flag", "error", "tree", "json", "narration", "code"]
MAX_STEP_LINES = 20  # %step N prints at most this many step lines (%check all: results)
MAX_FLAG_LINES = 200  # %flags lists at most this many
MAX_TREE_LINES = 1_000  # %tree draws at most this many lines


@dataclass(frozen=True)
class Line:
    """One line of a command's answer, in Unicode (a front-end that must write ASCII turns it
    so at output). ``kind``: ``info`` (plain text), ``flag`` (a flag found), ``error`` (the
    command could not do what was asked), ``tree`` (a row of a text tree of the graph: the
    result's ``tree`` says which), ``json`` (JSON text), ``narration`` (a paragraph, heading or
    list item of a lesson's narration, unwrapped: a front-end wraps it to its width), ``code``
    (a line of the lesson cell ``%next`` runs next, or the line that introduces it)."""

    text: str
    kind: Kind = "info"


@dataclass(frozen=True)
class TreeAt:
    """A text tree of the session: from node ``start`` (None: the root), cut at ``max_lines``
    (:func:`anet.debug.render.tree`'s ``node`` and ``max_lines``)."""

    start: int | None = None
    max_lines: int = MAX_TREE_LINES


@dataclass(frozen=True)
class FlowAt:
    """Which flow chart ``%flow`` drew: a bar per node (``by="node"``) or per parameter
    (``"param"``), named and grouped by ``model``, an object of the namespace called ``name``
    (None: none holds the graph's parameters). A front-end draws it again as the walk goes on."""

    by: str = "node"
    model: Any = None
    name: str | None = None

    def flow(self, graph: Graph) -> pictures.Flow:
        """The chart's data for ``graph`` as it stands (the model ``net (Deep)``)."""
        made = pictures.flow(graph, self.by, self.model)
        if self.name is not None and made.model is not None:
            made = replace(made, model=f"{self.name} ({made.model})")
        return made


@dataclass(frozen=True)
class Typed:
    """An entry a command hands back to run as if typed (``%next``: a lesson cell's), and where
    its text comes from: compiled as ``filename`` from ``line`` on, tracebacks and flags point
    into that file (None: an entry of its own, ``<repl-N>``)."""

    source: str
    filename: str | None = None
    line: int = 1


@dataclass
class CommandResult:
    """What a ``%`` command did.

    ``name`` is the command (``"step"``; ``""`` when the line named no known command), ``lines``
    its answer, ``output`` what user code printed meanwhile (already streamed to ``on_output``),
    ``session`` the session after the command (None if none is open), ``node`` the record the
    command is about (the node stepped, stopped at, shown or checked: a view selects it), ``stop``
    what ``run()``/``finish()`` returned, ``changed`` whether the command moved the walk (or
    opened a session): the plain REPL prints the session's tree after such a one. ``tree`` says
    which tree its ``tree`` lines draw (``%tree``), so a front-end may draw it again its own way
    (in ASCII); ``flow`` which chart its lines draw (``%flow``: the app draws it again as the
    walk goes on). ``then`` and ``after`` are for commands that run code as if it were typed (a
    lesson's ``%next``): :meth:`Commands.submit` runs ``then``, then shows ``after``.
    """

    name: str
    lines: list[Line] = field(default_factory=list)
    output: str = ""
    session: BackwardSession | None = None
    node: NodeRecord | None = None
    stop: Stop | None = None
    changed: bool = False
    tree: TreeAt | None = None
    flow: FlowAt | None = None
    then: list[Typed] = field(default_factory=list)  # entries to run next, as if typed (%next)
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


Handler = Callable[["CommandContext", str], CommandResult]


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


_ANET_ERROR = re.compile(r"^anet(?:_tui)?(?:\.\w+)+\.\w+: ")


def error_line(error: str) -> str:
    """The last line of a traceback, the exception, as a sentence: ``ZeroDivisionError:
    division by zero``; anet's own errors by their message alone (they are sentences; the
    module path of their class, ``anet.autograd.GradientError``, is no news to anyone)."""
    lines = error.rstrip("\n").splitlines() or [""]
    return _ANET_ERROR.sub("", lines[-1])


@dataclass(frozen=True)
class CommandContext:
    """What a handler works with: the :class:`~anet_tui.commands.Commands` it runs in (its
    shell, session, lesson and settings) and the ``on_output`` of this run, which code the
    handler runs (:meth:`call`, :meth:`evaluate`) streams its output to."""

    commands: Commands
    on_output: Callable[[str], None] | None = None

    @property
    def shell(self) -> Shell:
        return self.commands.shell

    # ---- the session -------------------------------------------------------------------------
    def need_session(self) -> BackwardSession:
        """The open session, or a CommandError saying how to open one."""
        return self.commands.need_session()

    def walkable(self) -> BackwardSession:
        """The session, when its walk can go on; else a CommandError saying why (another walk
        changed its grads since it stopped: it goes on only after %restart)."""
        session = self.need_session()
        if (why := session.stale) is not None:
            raise CommandError(f"the walk cannot go on: {why}")
        return session

    def node(self, session: Graph, arg: str) -> Record:
        """The node or leaf ``arg`` (``#5`` or ``5``) names, or a CommandError saying why not."""
        try:
            return session.node(arg)
        except (KeyError, ValueError) as e:
            raise CommandError(str(e.args[0])) from None

    # ---- running code ------------------------------------------------------------------------
    def call(self, fn: Callable[[], Any]) -> tuple[Any, RunResult]:
        """Run session work on the shell's worker (:meth:`Commands.call`), its output to this
        run's ``on_output``: what ``fn`` returned, and the run's result."""
        result = self.commands.call(fn, on_output=self.on_output)
        return result.obj, result

    def evaluate(self, expression: str) -> RunResult:
        """Evaluate a Python expression in the namespace, recording, as ``%debug EXPR`` does."""
        with self.commands.recording():
            return self.shell.evaluate(expression, on_output=self.on_output)

    # ---- the words ---------------------------------------------------------------------------
    def position(self, session: BackwardSession) -> str:
        """Where the walk is: ``step K/N``."""
        k, n = session.position
        return f"step {k}/{n}"

    def flag_line(self, flag: Flag) -> Line:
        return Line(flag.line(), "flag")

    def walked(
        self,
        name: str,
        result: RunResult,
        lines: list[Line],
        node: NodeRecord | None = None,
        stop: Stop | None = None,
    ) -> CommandResult:
        """The answer of a command that moved the walk, with the interrupt/error note."""
        session = self.need_session()
        if result.status in ("interrupted", "exit"):  # exit(): called by a user's backward
            current = session.current
            where = f" in {current.label}'s backward" if current is not None else ""
            what = "interrupted" if result.status == "interrupted" else "exit() called"
            lines.append(
                Line(
                    f"{what}{where}: the session is still at {self.position(session)}; "
                    "%step retries that node, %restart starts over",
                    "error",
                )
            )
        elif not result.ok:
            lines.append(Line((result.error or "failed").rstrip("\n"), "error"))
        return CommandResult(name, lines, result.output, node=node, stop=stop, changed=True)


__all__ = [
    "Command",
    "CommandContext",
    "CommandError",
    "CommandResult",
    "Handler",
    "Kind",
    "Line",
    "TreeAt",
    "Typed",
    "error_line",
    "internal_error",
]
