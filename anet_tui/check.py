"""``anet-tui check SCRIPT.py``: run a script; check each ``backward()`` when the script calls it.

While the script runs, every ``Tensor.backward()`` walks as a :class:`BackwardSession`, which
leaves exactly the grads backward() leaves, so the script goes on as it would. Each call is
walked before later code (an ``opt.step()``) changes anything it depends on, so nothing is
flagged for a change that came after the walk. A backward that would raise becomes the flag it
is, at the culprit, and the script stops there. User Functions are checked numerically on the
first calls and then on every power of two (``--every N``: each N-th call). One-element tensors
the script built but never walked are walked at the end. Each flag prints one line, once per
place in the code; notes (a grad converted to its parent's dtype) print too, never fail.

Exit status: 0 no flags, 1 flags, 2 the script failed, 3 it took longer than ``--timeout``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from anet.words import counted

if TYPE_CHECKING:
    from anet.debug import BackwardSession, Flag, Graph
    from anet.tensor import Tensor
    from anet_tui.commands import Commands

CHECK_TIMEOUT = 60.0  # seconds: anet-tui check's default --timeout
TIMED_OUT = 3  # anet-tui check's exit status when it timed out
_GRACE = 1.0  # seconds an interrupted script gets to stop before check leaves without it


class CheckStopped(BaseException):
    """Raised from a ``backward()`` call whose walk failed (it would have raised): ends the
    script there. A BaseException, so the script's own ``except Exception`` lets it through."""


@dataclass
class Site:
    """One line of the script that calls ``backward()``, and what its calls found."""

    where: str  # "train.py:31"
    source: str  # "loss.backward()"
    calls: int = 0
    checked: int = 0  # calls on which user Functions were checked numerically
    nodes: int = 0  # nodes of its latest walk
    flags: int = 0  # error flags first seen in its walks
    notes: int = 0


class Checker:
    """What ``Tensor.backward`` calls while check runs the script (see the module docstring)."""

    def __init__(self, out: TextIO, every: int = 0) -> None:
        from anet_tui.text import ascii_only

        self.out = out
        self.ascii = ascii_only(out)
        self.every = every
        self.calls = 0
        self.sites: dict[str, Site] = {}
        self.walked: set[int] = set()  # ids of every node a call walked
        self.errors = 0  # error flags printed (each once)
        self.notes = 0
        self.stopped: Site | None = None  # where a walk failed and the script was stopped
        self._seen: set[tuple[Any, ...]] = set()

    def checks(self, k: int) -> bool:
        """Whether call ``k`` (from 1) runs the numerical check: each ``every``-th call, or
        (every=0) calls 1, 2, 3 and then each power of two."""
        if self.every:
            return (k - 1) % self.every == 0
        return k <= 3 or k & (k - 1) == 0

    def __call__(self, root: Tensor, gradient: Any) -> None:
        from anet.debug import BackwardSession
        from anet.debug.recording import user_frame
        from anet.debug.records import CHECKED, ERROR

        self.calls += 1
        verify = self.checks(self.calls)
        session = BackwardSession(root, gradient, verify=verify)  # raises as backward() does
        session.finish()
        site = self._site(user_frame(1))
        site.calls += 1
        site.checked += any(rec.status == CHECKED or rec.check for rec in session.nodes)
        site.nodes = len(session.nodes)
        self.walked.update(rec.id for rec in session.nodes)
        errors, notes = self.report(session)
        site.flags += errors
        site.notes += notes
        if any(rec.status == ERROR for rec in session.nodes):
            self.stopped = site
            raise CheckStopped(f"backward() at {site.where} failed")

    def _site(self, frame: tuple[str, int, str] | None) -> Site:
        from anet.autograd import short_path

        if frame is None:
            key, source = "?", ""
        else:
            key, source = f"{short_path(frame[0])}:{frame[1]}", frame[2]
        site = self.sites.get(key)
        if site is None:
            site = self.sites[key] = Site(key, source)
        return site

    def report(self, session: BackwardSession) -> tuple[int, int]:
        """Print the session's flags not printed before (one line each, the first time the
        same kind is raised by the same op at the same line); return (errors, notes) printed."""
        from anet.flags import KINDS, NOTE

        errors = notes = 0
        for flag in session.flags:
            rec = session.node(flag.node)
            where = rec.where
            place = (where.file, where.line) if where is not None else (flag.label,)
            key = (*place, rec.op, flag.kind, flag.index)
            if key in self._seen:
                continue
            self._seen.add(key)
            print(flag_line(session, flag, self.ascii), file=self.out)
            if KINDS[flag.kind].severity == NOTE:
                notes += 1
            else:
                errors += 1
        self.errors += errors
        self.notes += notes
        return errors, notes

    def summary(self) -> list[str]:
        """One line per line of the script that called backward()."""
        lines = []
        for site in self.sites.values():
            source = f" {site.source}" if site.source else ""
            checked = ""
            if site.checked:
                checked = f", your Functions checked on {counted(site.checked, 'call')}"
            lines.append(
                f"{site.where}{source}: {counted(site.calls, 'call')} walked "
                f"({counted(site.nodes, 'node')} each){checked}, {counted(site.flags, 'flag')}"
                + (f", {counted(site.notes, 'note')}" if site.notes else "")
            )
        return lines


def check(
    script: str,
    root: str | None = None,
    out: TextIO | None = None,
    timeout: float = CHECK_TIMEOUT,
    every: int = 0,
    args: Sequence[str] = (),
) -> int:
    """``anet-tui check``: 0 when no node is flagged, 1 when some are, 2 when the script fails
    (``os._exit`` included), 3 when running and walking took longer than ``timeout`` seconds
    (0: no limit). The work runs on a thread of its own, so a script stuck in C (``time.sleep``)
    cannot keep check from answering."""
    from anet_tui.commands import Commands
    from anet_tui.files import unreadable
    from anet_tui.shell import Shell

    out = sys.stdout if out is None else out
    problem = unreadable(script)
    if problem is not None:
        print(f"anet-tui check: {script}: {problem}", file=sys.stderr)
        return 2
    shell = Shell()
    commands = Commands(shell)
    stopped = threading.Event()
    exits: list[int] = []
    box: dict[str, Any] = {}
    checker = Checker(out, every)

    def work() -> None:
        try:
            box["status"] = _check(commands, checker, script, args, root, out, stopped, exits)
        except BaseException as e:  # handed to the caller's thread (BrokenPipeError …)
            box["error"] = e

    thread = threading.Thread(target=work, name="anet-tui-check", daemon=True)
    with _os_exit_raises(exits):
        thread.start()
        try:
            thread.join(timeout if timeout > 0 else None)
        except KeyboardInterrupt:
            stopped.set()
            shell.interrupt()
            raise
        if thread.is_alive():
            stopped.set()
            where = _where(shell.stack(), script)
            shell.interrupt()
            thread.join(_GRACE)
            print(
                f"anet-tui check: {script} timed out after {timeout:g} s{where}; "
                "--timeout SECONDS gives it longer (0: no limit)",
                file=sys.stderr,
            )
            return TIMED_OUT
    if "error" in box:
        raise box["error"]
    return int(box["status"])


@contextlib.contextmanager
def _os_exit_raises(exits: list[int]) -> Iterator[None]:
    """While check runs, ``os._exit(N)`` in the script raises SystemExit(N) and is noted in
    ``exits`` instead of ending the process silently with status N; restored afterwards."""
    modules = [m for m in (os, sys.modules.get("posix"), sys.modules.get("nt")) if m is not None]
    saved = [(m, m._exit) for m in modules]

    def _exit(status: int) -> NoReturn:
        exits.append(status)
        raise SystemExit(status)

    for module in modules:
        module._exit = _exit  # type: ignore[assignment]
    try:
        yield
    finally:
        for module, real in saved:
            module._exit = real  # type: ignore[assignment]


@contextlib.contextmanager
def _walks(checker: Checker) -> Iterator[None]:
    """While the script runs, ``Tensor.backward()`` calls ``checker``."""
    from anet.tensor import set_backward_hook

    set_backward_hook(checker)
    try:
        yield
    finally:
        set_backward_hook(None)


def _where(stack: traceback.StackSummary, script: str) -> str:
    """``, stopped at script.py:12 in f`` for the innermost frame in the script (else the
    innermost frame), or ``""`` when nothing was running."""
    from anet.autograd import short_path

    if not stack:
        return ""
    target = os.path.abspath(script)
    mine = [f for f in stack if os.path.abspath(f.filename) == target]
    frame = (mine or list(stack))[-1]
    name = "" if frame.name == "<module>" else f" in {frame.name}"
    return f", stopped at {short_path(frame.filename)}:{frame.lineno}{name}"


def _check(
    commands: Commands,
    checker: Checker,
    script: str,
    args: Sequence[str],
    root: str | None,
    out: TextIO,
    stopped: threading.Event,
    exits: list[int],
) -> int:
    """The work of :func:`check`, on its thread; says nothing more once ``stopped`` is set."""
    from anet.tensor import Tensor

    def failed(message: str) -> int:
        if not stopped.is_set():
            print(f"anet-tui check: {message}", file=sys.stderr)
        return 2

    with _walks(checker):
        ran = commands.startup(script=script, on_output=out.write, script_args=args)[0]
    if stopped.is_set():
        return TIMED_OUT
    if checker.stopped is not None:
        print(
            f"{script} stopped at {checker.stopped.where}: that backward() cannot run "
            "(the flag above says why)",
            file=out,
        )
        _summary(checker, out)
        return 1
    if exits:
        return failed(f"{script} failed: the script ended the process with os._exit({exits[0]})")
    if not ran.ok:
        message = ran.error or f"the script exited with code {ran.exit_code}"
        return failed(f"{script} failed:\n{message.rstrip()}")
    namespace = commands.shell.namespace
    if root is not None:
        if root not in namespace:
            return failed(f"{script} defines no {root!r}")
        roots = [(root, namespace[root])]
        tensor = roots[0][1]
        if not isinstance(tensor, Tensor) or tensor.is_leaf:
            return failed(f"{root} is not a tensor with a graph")
        if tensor.data.size != 1:
            return failed(
                f"{root} has shape {tensor.data.shape}, and check walks one-element tensors, as "
                f"backward() does: name one with --root (the script could keep {root}.sum())"
            )
    else:
        roots = [
            (name, value)
            for name, value in namespace.items()
            if isinstance(value, Tensor)
            and not value.is_leaf
            and value.data.size == 1
            and not name.startswith("_")
        ]
        if not roots and not checker.calls:
            return failed(
                f"{script} leaves no one-element tensor with a graph (name one with --root)"
            )
    status = _walk_left(commands, checker, roots, script, stopped, exits, out)
    if status is not None:
        return failed(status) if status else TIMED_OUT
    _summary(checker, out)
    return 1 if checker.errors else 0


def _walk_left(
    commands: Commands,
    checker: Checker,
    roots: list[tuple[str, Any]],
    script: str,
    stopped: threading.Event,
    exits: list[int],
    out: TextIO,
) -> str | None:
    """Walk each root no backward() call walked; None when done, else why it failed ("" when
    it timed out)."""
    from anet.debug import BackwardSession
    from anet_tui.command_base import error_line

    seen: set[int] = set()
    for name, tensor in roots:
        if tensor.id in checker.walked:
            continue  # its backward() ran (the script may have changed its inputs since)
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))

        def walk(t: Tensor = tensor) -> BackwardSession:
            session = BackwardSession(t)
            session.finish()
            return session

        result = commands.call(walk)
        if stopped.is_set():
            return ""
        if exits:
            return (
                f"{script} failed: the script ended the process with os._exit({exits[0]}) "
                f"(in a backward from {name})"
            )
        if not result.ok:
            return f"{name}: {error_line(result.error or result.status)}"
        session = result.obj
        errors, notes = checker.report(session)
        n = len(session.nodes)
        extra = f", {counted(notes, 'note')}" if notes else ""
        print(
            f"{name} (#{tensor.id} {tensor.op}): {counted(n, 'node')} checked, "
            + f"{counted(errors, 'flag')}{extra}",
            file=out,
        )
    return None


def _summary(checker: Checker, out: TextIO) -> None:
    for line in checker.summary():
        print(line, file=out)


def flag_line(session: Graph, flag: Flag, ascii: bool = False) -> str:
    """``broken.py:31: ✗ shape at #3 SwapGrad: parent 0: …  [loss = x.swapgrad().sum()]``:
    where the flagged op was applied, the flag, and that line of the user's code; inert (the
    message may quote the user's text), in ASCII only when ``ascii``."""
    from anet.debug.views import where_text
    from anet_tui.text import inert, to_ascii

    loc = session.node(flag.node).where
    line = flag.line()
    if loc is not None:
        source = f"  [{loc.source}]" if loc.source else ""
        line = f"{where_text(loc, 'relative')}: {line}{source}"
    return to_ascii(inert(line)) if ascii else inert(line)


__all__ = ["CHECK_TIMEOUT", "TIMED_OUT", "CheckStopped", "Checker", "check", "flag_line"]
