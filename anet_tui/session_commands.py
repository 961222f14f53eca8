"""The ``%`` commands of a backward session: %debug opens one on a tensor; %step, %continue,
%finish and %restart move its walk; %break sets where %continue stops; %check, %flags, %show
(with histograms of the node's values and grads), %tree and %flow (the grads' sizes along the
walk) look at it. Session work runs on the shell's worker thread (:meth:`CommandContext.call`),
so Ctrl+C stops a hanging backward and a user's backward may print.
"""

from __future__ import annotations

from typing import Any

from anet.debug import FLAG_KINDS, BackwardSession, NodeRecord, Stop, charts, pictures, render
from anet.debug.records import node_id
from anet.debug.views import where_text
from anet.tensor import Tensor
from anet.words import a_or_an, counted
from anet_tui.command_base import (
    MAX_FLAG_LINES,
    MAX_STEP_LINES,
    MAX_TREE_LINES,
    Command,
    CommandContext,
    CommandError,
    CommandResult,
    FlowAt,
    Kind,
    Line,
    TreeAt,
    error_line,
)


def _stop_lines(ctx: CommandContext, session: BackwardSession, stop: Stop) -> list[Line]:
    head = render.stop_line(session, stop)
    kind: Kind = "flag" if stop.reason == "flag" else "info"
    lines = [Line(head, kind)]
    if stop.reason == "flag":  # other flags raised on the way (the stop line names the last)
        shown = next(f for f in reversed(stop.flags) if f.node == stop.node.id)
        lines += [ctx.flag_line(f) for f in stop.flags if f is not shown]
    elif stop.flags:
        lines += [ctx.flag_line(f) for f in stop.flags]
    return lines


def _debug(ctx: CommandContext, arg: str) -> CommandResult:
    if not arg:
        raise CommandError("usage: %debug EXPR, e.g. %debug loss")
    value = ctx.evaluate(arg)
    if value.status != "ok":
        error = (value.error or value.status).rstrip("\n")
        if error.count('  File "') <= 1:  # only the expression's own line: the message says it
            error = error_line(error)
        raise CommandError(f"%debug {arg}: {error}")
    root = value.obj
    if not isinstance(root, Tensor):
        raise CommandError(f"%debug needs a Tensor; {arg} is {a_or_an(type(root).__name__)}")
    if root.is_leaf and not root.requires_grad:
        why = (
            f"it is {root.dtype}: integer and boolean tensors never need grad"
            if root.dtype.kind != "f"
            else "made under no_grad, or only from tensors that need no grad"
        )
        raise CommandError(
            f"{arg} is #{root.id}, a constant: it needs no grad, so it has no graph to walk ({why})"
        )
    if root.is_leaf:
        raise CommandError(
            f"{arg} is #{root.id}, a leaf: it has no graph to walk (debug a tensor made by ops)"
        )
    if root.data.size != 1:
        raise CommandError(
            f"%debug {arg}: #{root.id} {root.op} has shape {root.data.shape}, and a session starts "
            f"only from a one-element output, as backward() does: debug its sum, "
            f"%debug ({arg}).sum()"
        )
    session, made = ctx.call(lambda: BackwardSession(root))
    if made.status != "ok":
        raise CommandError(f"%debug {arg}: {error_line(made.error or made.status)}")
    ctx.commands.session, ctx.commands.root_name = session, arg
    n = len(session.nodes)
    lines = [
        Line(
            f"session on #{root.id} {root.op} ({arg}): {counted(n, 'node')}, nothing run yet;"
            " %step runs one node, %continue runs to the next flag"
        )
    ]
    return CommandResult("debug", lines, value.output, node=session.current, changed=True)


def _step(ctx: CommandContext, arg: str) -> CommandResult:
    session = ctx.walkable()
    try:
        count = int(arg) if arg else 1
    except ValueError:
        raise CommandError(f"usage: %step [N], N a number of nodes (got {arg!r})") from None
    if count < 1:
        raise CommandError("%step N: N must be at least 1")
    if session.done:
        return CommandResult(
            "step", [Line(f"the walk is done ({ctx.position(session)}): %restart runs it again")]
        )
    ran: list[NodeRecord] = []

    def steps() -> None:
        for _ in range(count):
            rec = session.step()
            if rec is None:
                break
            ran.append(rec)

    _, result = ctx.call(steps)
    lines: list[Line] = []
    for i, rec in enumerate(ran):
        if i == MAX_STEP_LINES and len(ran) > MAX_STEP_LINES + 1:
            lines.append(Line(f"… {counted(len(ran) - MAX_STEP_LINES - 1, 'more step')}"))
        if MAX_STEP_LINES <= i < len(ran) - 1:
            continue
        mark = render.marks(rec)
        warned = sum(w.count for w in rec.warned)
        said = f"  ({counted(warned, 'warning')}: %show #{rec.id})" if warned else ""
        kind: Kind = "flag" if rec.flags else "info"
        lines.append(Line(f"ran {rec.label} {rec.shape}  {mark}{said}", kind))
        lines += [ctx.flag_line(f) for f in rec.flags]
    tail = f"{ctx.position(session)}"
    if session.done:
        tail = f"done: {tail}, {counted(len(session.flags), 'flag')}"
    elif session.current is not None:
        tail += f", next {session.current.label}"
    lines.append(Line(tail))
    return ctx.walked("step", result, lines, node=ran[-1] if ran else None)


def _continue(ctx: CommandContext, arg: str) -> CommandResult:
    if arg:
        raise CommandError("%continue takes nothing (use %break to choose where it stops)")
    session = ctx.walkable()
    if session.done:
        return CommandResult(
            "continue",
            [Line(f"the walk is done ({ctx.position(session)}): %restart runs it again")],
        )
    stop, result = ctx.call(session.run)
    lines = _stop_lines(ctx, session, stop) if stop is not None else []
    return ctx.walked(
        "continue", result, lines, node=None if stop is None else stop.node, stop=stop
    )


def _finish(ctx: CommandContext, arg: str) -> CommandResult:
    if arg:
        raise CommandError("%finish takes nothing")
    session = ctx.walkable()
    stop, result = ctx.call(session.finish)
    lines = _stop_lines(ctx, session, stop) if stop is not None else []
    return ctx.walked("finish", result, lines, node=session.last, stop=stop)


def _restart(ctx: CommandContext, arg: str) -> CommandResult:
    if arg:
        raise CommandError("%restart takes nothing")
    session = ctx.need_session()
    _, result = ctx.call(session.restart)
    lines = [Line(f"restarted: grads restored, back to {ctx.position(session)}")]
    return ctx.walked("restart", result, lines, node=session.current)


def _break(ctx: CommandContext, arg: str) -> CommandResult:
    session = ctx.need_session()
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
        return CommandResult("break", [Line(f"cleared {counted(n, 'breakpoint')}")])
    kind, value = _break_target(words)
    try:
        bp = session.break_on(**{kind: value})
    except (KeyError, ValueError) as e:  # KeyError: no such node (its message says so)
        raise CommandError(str(e.args[0])) from None
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


def _check(ctx: CommandContext, arg: str) -> CommandResult:
    session = ctx.need_session()
    if arg == "all":
        results, run = ctx.call(session.check_all)
        if run.status != "ok":
            return ctx.walked("check", run, [])
        bad = sum(r.flag is not None for r in results)
        if len(results) > MAX_STEP_LINES:  # a big graph: the disagreements only, and not all
            shown = [r for r in results if r.flag is not None][:MAX_STEP_LINES]
        else:
            shown = results
        lines = [
            ctx.flag_line(r.flag) if r.flag is not None else Line(_check_text(r)) for r in shown
        ]
        if len(shown) < len(results):
            lines.append(
                Line(f"… {len(results) - len(shown)} more not listed (%flags lists flags)")
            )
        agree = "disagrees" if bad == 1 else "disagree"
        lines.append(Line(f"checked {counted(len(results), 'node')}: {bad} {agree}"))
        return CommandResult("check", lines, run.output)
    target = arg or (session.current or session.last or session.nodes[0]).id
    rec = ctx.node(session, str(target))
    if not isinstance(rec, NodeRecord):
        raise CommandError(f"{rec.label} is a leaf: it has no backward to check")
    result, run = ctx.call(lambda: session.check(rec))
    if run.status != "ok":
        return ctx.walked("check", run, [], node=rec)
    line = ctx.flag_line(result.flag) if result.flag is not None else Line(_check_text(result))
    return CommandResult("check", [line], run.output, node=rec)


def _check_text(result: Any) -> str:
    return f"{'?' if result.ok is None else '✓'} {result.message}"


def _flags(ctx: CommandContext, arg: str) -> CommandResult:
    session = ctx.need_session()
    if not session.flags:
        return CommandResult("flags", [Line(f"no flags ({ctx.position(session)})")])
    lines = []
    for f in session.flags[:MAX_FLAG_LINES]:
        loc = session.node(f.node).where
        at = f"  ({where_text(loc)})" if loc is not None else ""
        lines.append(Line(f.line() + at, "flag"))
    n = len(session.flags)
    if n > MAX_FLAG_LINES:
        lines.append(Line(f"… {n - MAX_FLAG_LINES} more (%show #ID shows a node's flags)"))
    lines.append(Line(f"{counted(n, 'flag')} ({ctx.position(session)})"))
    return CommandResult("flags", lines)


def _show(ctx: CommandContext, arg: str) -> CommandResult:
    session = ctx.need_session()
    words = arg.split()
    as_json = "--json" in words  # the node's view as JSON (NodeView.from_dict reads it back)
    arg = " ".join(w for w in words if w != "--json")
    if not arg:
        current = session.current or session.last
        if current is None:
            raise CommandError("usage: %show #ID")
        arg = str(current.id)
    rec = ctx.node(session, arg)
    if as_json:
        return CommandResult("show", [Line(render.node_json(session, rec.id), "json")])
    text = render.detail(session, rec.id, pictures=True)
    lines = [Line(t, "flag" if t.lstrip().startswith("✗ ") else "info") for t in text.splitlines()]
    return CommandResult("show", lines, node=rec if isinstance(rec, NodeRecord) else None)


def _flow(ctx: CommandContext, arg: str) -> CommandResult:
    words = arg.split()
    by = "param" if words[:1] == ["--params"] else "node"
    if (by == "node" and words) or len(words) > 2:
        raise CommandError("usage: %flow [--params [MODEL]]")
    graph = ctx.commands.graph  # the session, or the graph a plain backward() walked
    if graph is None:
        graph = ctx.need_session()  # raises, saying how to open one
    model: Any = None
    name = None
    if by == "param":
        if len(words) == 2:
            name = words[1]
            value = ctx.evaluate(name)
            if value.status != "ok":
                error = (value.error or value.status).rstrip("\n").splitlines()[-1]
                raise CommandError(f"%flow --params {name}: {error}")
            model = value.obj
        else:
            found = pictures.find_model(graph, ctx.shell.namespace)
            if found is not None:
                name, model = found
    asked = FlowAt(by, model, name)
    made, run = ctx.call(lambda: asked.flow(graph))
    if run.status != "ok" or made is None:
        error = (run.error or run.status).rstrip("\n").splitlines()[-1]
        raise CommandError(f"%flow: {error}")
    text = charts.flow(made, name=ctx.commands.graph_name, width=ctx.commands.width)
    lines = [Line(t) for t in text.splitlines()]
    if by == "param" and model is None:
        lines.append(Line("no nn.Module holds these parameters: %flow --params MODEL names one"))
    return CommandResult("flow", lines, run.output, flow=asked)


def _tree(ctx: CommandContext, arg: str) -> CommandResult:
    session = ctx.need_session()
    at = TreeAt(ctx.node(session, arg).id if arg else None, MAX_TREE_LINES)
    text = render.tree(session, node=at.start, max_lines=at.max_lines)
    return CommandResult("tree", [Line(t, "tree") for t in text.splitlines()], tree=at)


SESSION_COMMANDS = (
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
    Command(
        "show",
        "%show #ID [--json]",
        "everything the session knows about one node (--json: as JSON)",
        _show,
    ),
    Command("tree", "%tree [#ID]", "the session's graph as a text tree", _tree),
    Command(
        "flow",
        "%flow [--params]",
        "how big the grads are, node by node, as bars on a log scale "
        "(--params: per parameter, by layer)",
        _flow,
    ),
)


__all__ = ["SESSION_COMMANDS"]
