"""BackwardSession: backward() one node at a time, with breakpoints, flags and numerical checks.

The session walks with anet.autograd's own functions (prepare/begin, call_backward, deliver, and
check_grads/accumulate where a grad does not fit), so a finished session leaves exactly the grads
``Tensor.backward()`` leaves. Where backward() raises, the session flags the node and goes on with
what is usable.
"""

from __future__ import annotations

from math import isfinite
from operator import attrgetter, is_not
from typing import Any, NamedTuple

import numpy as np

from anet.autograd import (
    accumulate,
    begin,
    call_backward,
    check_grads,
    deliver,
    prepare,
)
from anet.debug import checks
from anet.debug import recording as _record
from anet.debug.checks import KINDS, CheckResult, Flag
from anet.debug.records import (
    CHECKED,
    CURRENT,
    DONE,
    ERROR,
    PENDING,
    UNREACHED,
    Graph,
    NodeRecord,
    node_id,
)
from anet.debug.verify import Directions, verify
from anet.debug.warned import Catcher, merged
from anet.errors import AnetError
from anet.flags import ERROR as SEVERE
from anet.flags import NOTE
from anet.tensor import Tensor
from anet.words import counted

# Sum of squares, the finiteness test of every returned grad: the C function itself where numpy
# exposes it (the public np.vdot adds a dispatch layer costing as much as the product itself).
_squares = getattr(np.vdot, "_implementation", np.vdot)
_grad_of = attrgetter("grad")


class StaleSessionError(AnetError, RuntimeError):
    """The grads of nodes still to run changed outside the session (another ``backward()`` or
    session walked through the graph, or a ``.grad`` was set): going on would count that walk
    twice or lose this one's grads, so the session refuses until ``restart()``."""


class Breakpoint(NamedTuple):
    """Stop ``run()`` before a node with this op or id, or after a node raising this flag kind."""

    kind: str  # "op", "node" or "flag"
    value: str | int

    def __str__(self) -> str:
        return f"#{self.value}" if self.kind == "node" else f"{self.kind} {self.value}"


class Stop(NamedTuple):
    """Why ``run()`` or ``finish()`` returned.

    ``reason`` is "flag" (``node`` raised a flag), "break" (``node`` is the current node, about
    to run, and matched ``breakpoint``) or "done" (``node`` is None). ``flags`` are the flags
    raised during this call.
    """

    reason: str
    node: NodeRecord | None
    flags: tuple[Flag, ...]
    breakpoint: Breakpoint | None = None


class BackwardSession(Graph):
    """A cursor over ``root``'s backward walk: ``step()``, ``run()``, ``finish()``, ``restart()``.

    Creating a session plans the walk (order and seed) and runs nothing: grads are untouched
    until the first step. ``nodes`` are the records in walk order; the one at the cursor has
    status ``current`` (it runs next), nodes behind it are ``done``, ``error`` or ``unreached``.

    Every node whose op is a user's Function (not one of anet's own, ``Function.trusted``) is
    checked numerically as it runs (anet.debug.verify: two forward calls per node, whatever
    the size); its status is then ``checked`` rather than ``done``, and a backward that
    disagrees gets a ``vjp`` flag. ``verify=False`` turns that off. ``check=True`` runs the full
    numerical check (``check()``) on every node, anet's own too, as it runs.
    ``stop_on_flags`` is the default of ``run()``: stop after the first node that raises an
    error flag (notes, e.g. a grad converted to its parent's dtype, are shown, never stop).
    Warnings raised while a node runs (numpy's ``divide by zero``, a ``warnings.warn`` in a
    backward) are kept on its record (``NodeRecord.warned``), not printed: see anet.debug.warned.
    When another walk (a plain ``backward()``, another session) changed the grads of nodes still
    to run between two calls, ``step``/``run``/``finish`` raise StaleSessionError until
    ``restart()``: going on would count that walk twice or lose this one's grads.
    """

    def __init__(
        self,
        root: Tensor,
        gradient: Any = None,
        *,
        check: bool = False,
        verify: bool = True,
        stop_on_flags: bool = True,
    ) -> None:
        order, self._seed = prepare(root, gradient)
        super().__init__(root, order)
        self.flags: list[Flag] = []
        self.stop_on_flags = stop_on_flags
        self._check_each = check
        self._directions = Directions() if verify and not check else None
        self._k = 0
        self._started = False
        self._stopped_at: int | None = None
        self._breaks: list[Breakpoint] = []
        self._snapshot: tuple[list[Any], list[tuple[Tensor, Any]]] | None = None
        self._tensors: list[Tensor] = []  # the nodes' tensors, in walk order (from the start)
        self._grad_leaves: list[Tensor] = []  # the leaves that take grads
        self._at: dict[int, int] | None = None  # tensor id -> index in the walk, when needed
        # (k, {index: grad} of nodes still to run that may hold one, the leaves' grads) as the
        # last call left them
        self._left: tuple[int, dict[int, Any], list[Any]] | None = None
        self._stale: str | None = None  # why the walk cannot go on (until restart)
        self._warnings = Catcher()  # the warnings of the node running, on the walking thread
        if self.nodes:
            self.nodes[0].status = CURRENT

    # ---- where the cursor is ---------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int]:
        """(nodes behind the cursor, nodes in the walk): ``step 3/4``."""
        return self._k, len(self.nodes)

    @property
    def done(self) -> bool:
        return self._started and self._k >= len(self.nodes)

    @property
    def started(self) -> bool:
        """Whether the walk has begun (grads seeded); False again after ``restart()``."""
        return self._started

    @property
    def current(self) -> NodeRecord | None:
        """The node that runs next (None when done)."""
        return self.nodes[self._k] if self._k < len(self.nodes) else None

    @property
    def last(self) -> NodeRecord | None:
        """The node that ran most recently (None before the first step)."""
        k = self._k - 1
        while k >= 0 and self.nodes[k].status == UNREACHED:
            k -= 1
        return self.nodes[k] if k >= 0 else None

    def __repr__(self) -> str:
        k, n = self.position
        flags = len(self.flags)
        return (
            f"<BackwardSession on #{self.root.id} {self.root.op}: step {k}/{n}"
            f"{', done' if self.done else ''}, {counted(flags, 'flag')}>"
        )

    # ---- walking ---------------------------------------------------------------------------
    def step(self) -> NodeRecord | None:
        """Run the current node's backward; return its record (None when the walk is done).

        Nodes that can no longer receive a grad (only reachable through failed nodes) are then
        marked ``unreached`` and passed, so the cursor always stops at a node that can run.
        """
        if (stale := self._stale_reason()) is not None:
            raise StaleSessionError(stale)
        self._start()
        k = self._k
        if k >= len(self.nodes):
            return None
        rec, start = self.nodes[k], k
        try:
            with self._warnings:
                self._run(rec)
                k += 1
                if self._check_each:
                    self.check(rec)
        finally:
            self._advance(k)
            self._stopped_at = self._k  # the user has seen the cursor here: run() goes on
            self._leave(start)
        return rec

    def run(self, stop_on_flags: bool | None = None) -> Stop:
        """Continue to the next breakpoint, the next flag (unless ``stop_on_flags`` is False;
        flag breakpoints still stop) or the end.

        A breakpoint stops before its node runs. ``run()`` does not stop again at the node
        where it already stopped for a breakpoint, or that ``step()`` moved the cursor to."""
        stop_on_flags = self.stop_on_flags if stop_on_flags is None else stop_on_flags
        return self._walk(True, stop_on_flags)

    def finish(self) -> Stop:
        """Run to the end, ignoring breakpoints and flags."""
        return self._walk(False, False)

    def _walk(self, breaks: bool, stop_on_flags: bool) -> Stop:
        if (stale := self._stale_reason()) is not None:
            raise StaleSessionError(stale)
        self._start()
        nodes, n, k = self.nodes, len(self.nodes), self._k
        start = k
        run, check_each = self._run, self._check_each
        breaks = breaks and bool(self._breaks)
        watch = stop_on_flags or (breaks and any(b.kind == "flag" for b in self._breaks))
        start_flags = len(self.flags)
        first = True
        try:
            self._warnings.__enter__()
            while k < n:
                rec = nodes[k]
                if rec.tensor.grad is None:
                    rec.status = UNREACHED
                    k += 1
                    continue
                if breaks and (not first or self._stopped_at != k):
                    hit = self._break_at(rec)
                    if hit is not None:
                        self._stopped_at = k
                        return Stop("break", rec, tuple(self.flags[start_flags:]), hit)
                first = False
                found = run(rec)
                k += 1
                if check_each:
                    flag = self.check(rec).flag
                    if flag is not None:
                        found = [*(found or ()), flag]
                if found and watch:
                    hit = self._flag_break(found)
                    severe = any(KINDS[f.kind].severity == SEVERE for f in found)
                    if (stop_on_flags and severe) or hit is not None:
                        self._stopped_at = None
                        return Stop("flag", rec, tuple(self.flags[start_flags:]), hit)
            return Stop("done", None, tuple(self.flags[start_flags:]))
        finally:
            self._advance(k)
            self._leave(start)
            self._warnings.__exit__()

    def _leave(self, start: int) -> None:
        """Remember what the next call checks (``_stale_reason``): the grads of the leaves and of
        the nodes still to run that may hold one (the parents of nodes run since ``start``, and
        those remembered before). Nothing when the walk is done; no cost inside the walk."""
        k, order = self._k, self._tensors
        if k >= len(order):
            self._left = None
            return
        if self._at is None:
            self._at = {t.id: i for i, t in enumerate(order)}
        at = self._at
        held = {i for i in (self._left[1] if self._left is not None else (0,)) if i >= k}
        for t in order[start:k]:
            for p in t._ctx.parents:
                if p._ctx is not None:
                    i = at.get(p.id)
                    if i is not None and i >= k:
                        held.add(i)
        self._left = (k, {i: order[i].grad for i in held}, list(map(_grad_of, self._grad_leaves)))

    @property
    def stale(self) -> str | None:
        """Why the walk cannot go on until ``restart()``, or None (see ``_stale_reason``)."""
        return self._stale_reason()

    def _stale_reason(self) -> str | None:
        """Why the walk cannot go on, or None: another walk (a plain backward(), another
        session) cleared or replaced the grads this session left on nodes still to run, or gave
        grads to nodes it has not reached yet. A walk that only added to leaves is fine: both
        walks count there, as two backward() calls do."""
        if self._stale is not None or self._left is None:
            return self._stale
        k, held, leaf_grads = self._left
        order = self._tensors
        changed = [i for i, g in held.items() if order[i].grad is not g]
        if not changed and any(map(is_not, map(_grad_of, self._grad_leaves), leaf_grads)):
            # A leaf's grad changed: some walk ran. Did it reach nodes still to run?
            changed = [
                i for i in range(k, len(order)) if i not in held and order[i].grad is not None
            ]
        if not changed:
            return None
        names = ", ".join(self.nodes[i].label for i in sorted(changed)[:3])
        if len(changed) > 3:
            names += f" and {len(changed) - 3} more"
        self._stale = (
            f"the grads of {names} changed outside this session since it stopped at step "
            f"{k}/{len(order)} (another backward() or session walked through this graph, or a "
            ".grad was set): going on would count that walk twice or lose this session's grads. "
            "restart() (%restart) starts over from the grads as they were before the session's "
            "first step."
        )
        return self._stale

    def _advance(self, k: int) -> None:
        """Put the cursor at ``k``, or past it to the first node that received a grad."""
        nodes = self.nodes
        while k < len(nodes) and nodes[k].tensor.grad is None:
            nodes[k].status = UNREACHED
            k += 1
        if k < len(nodes):
            nodes[k].status = CURRENT
        self._k = k

    def restart(self) -> None:
        """Back to before the first step: every grad this session wrote is restored (leaves get
        their earlier grads back), statuses are pending again, walk flags are cleared.
        Results of ``check()`` stay: they do not depend on the walk."""
        if self._started:
            node_grads, leaf_grads = self._snapshot
            for rec, g in zip(self.nodes, node_grads):
                rec.tensor.grad = g
            for t, g in leaf_grads:
                t.grad = None if g is None else g.copy()
        for rec in self.nodes:
            rec.status = PENDING
            if rec.flags:
                rec.flags = tuple(f for f in rec.flags if KINDS[f.kind].survives_restart)
            rec.received = rec.raw = rec.grads = None
            rec.warned = ()
        self.flags = [f for f in self.flags if KINDS[f.kind].survives_restart]
        self._k, self._started, self._stopped_at = 0, False, None
        self._snapshot = None
        self._left = self._stale = None
        if self.nodes:
            self.nodes[0].status = CURRENT

    def _start(self) -> None:
        if self._started:
            return
        order = [r.tensor for r in self.nodes]
        leaves = {p for t in order for p in t._ctx.parents if p._ctx is None}
        if self.root._ctx is None:
            leaves.add(self.root)
        # References suffice for the nodes' grads (begin() sets them to None, nothing mutates
        # them); leaves' grads are copied, accumulation may write into them.
        self._snapshot = (
            [t.grad for t in order],
            [(t, None if t.grad is None else np.array(t.grad, copy=True)) for t in leaves],
        )
        begin(self.root, order, self._seed)
        self._tensors = order
        self._grad_leaves = [t for t in leaves if t.requires_grad]
        self._started = True

    def _run(self, rec: NodeRecord) -> list[Flag] | None:
        """One node, as anet.autograd.backward runs it, plus the debugger's checks; return the
        flags raised (None when there are none). The inner loop of the session: kept lean (no
        list is built for a node without flags). The caller moves the cursor."""
        t = rec.tensor
        ctx = t._ctx
        trusted = ctx.arg.trusted
        received = rec.received = t.grad
        found: list[Flag] | None = None
        if _record.used and ctx.fingerprints is not None:
            flag = checks.inplace(t)
            if flag is not None:
                found = [flag]
        try:
            # as backward() calls it: anet's own ops as they are, a user Function guarded
            raw = ctx.arg.backward(ctx, received) if trusted else call_backward(t)
        except Exception as e:
            found = [*(found or ()), checks.exception(t, e)]
            rec.status = ERROR
        else:
            status = DONE
            served = deliver(t, raw)
            if served == len(ctx.parents):
                grads = raw if type(raw) is tuple else (raw,)
            else:
                # A grad that is not a fitting array: a problem, or a form check_grads converts
                # (a list of arrays, a numpy scalar).
                grads, problems = check_grads(t, raw)
                if problems:
                    if not KINDS[problems[0].kind].per_parent:
                        # about the node as a whole (a wrong count): which grad is whose is unknown
                        problems, grads = problems[:1], [None] * len(grads)
                    found = found or []
                for problem in problems:
                    if KINDS[problem.kind].severity == NOTE:
                        if trusted:
                            continue  # anet's own documented promotion: cast, as PyTorch does
                    else:
                        status = ERROR
                    found.append(checks.from_problem(t, problem))
                accumulate(t, grads, served)
            finite = True
            for g in grads:
                # A finite sum of squares means finite entries (overflow goes the slow way).
                if g is not None and g is not received and not isfinite(_squares(g, g)):
                    flags = checks.nonfinite(t, received, grads)
                    if flags:
                        found = (found or []) + flags
                        finite = False
                    break
            if not trusted and status == DONE and finite and self._directions is not None:
                result = verify(t, received, grads, self._directions)
                if result is not None:
                    flag = self._set_check(rec, result)
                    if result.ok:
                        status = CHECKED
                    elif flag is not None:
                        found = [*(found or ()), flag]
            rec.raw = raw
            rec.grads = grads
            rec.status = status
        if found:
            rec.flags += tuple(found)
            self.flags += found
        if self._warnings.caught:
            rec.warned = merged(rec.warned, self._warnings.take())
        return found

    # ---- breakpoints -------------------------------------------------------------------------
    def break_on(
        self, *, op: str | None = None, node: int | str | None = None, flag: str | None = None
    ) -> Breakpoint:
        """Stop ``run()`` before any node of ``op`` (class name, any case), before node ``#id``,
        or after a node raising a flag of kind ``flag``. Give exactly one."""
        given = [(k, v) for k, v in (("op", op), ("node", node), ("flag", flag)) if v is not None]
        if len(given) != 1:
            raise ValueError("break_on: give exactly one of op=, node=, flag=")
        kind, value = given[0]
        if kind == "op":
            ops = sorted({r.op for r in self.nodes})
            match = [o for o in ops if o.lower() == str(value).lower()]
            if not match:
                raise ValueError(f"no {value} node in this graph (its ops: {', '.join(ops)})")
            value = match[0]
        elif kind == "node":
            value = node_id(value)
            if not isinstance(self.node(value), NodeRecord):
                raise ValueError(f"#{value} is a leaf: it has no backward to stop at")
        elif value not in KINDS:
            raise ValueError(f"unknown flag kind {value!r} (kinds: {', '.join(KINDS)})")
        bp = Breakpoint(kind, value)
        if bp not in self._breaks:
            self._breaks.append(bp)
        return bp

    def list_breaks(self) -> list[Breakpoint]:
        return list(self._breaks)

    def clear_breaks(
        self, *, op: str | None = None, node: int | str | None = None, flag: str | None = None
    ) -> int:
        """Remove the given breakpoint, or all of them when none is given; return how many."""
        if op is None and node is None and flag is None:
            n = len(self._breaks)
            self._breaks.clear()
            return n

        def given(b: Breakpoint) -> bool:
            if b.kind == "op":
                return op is not None and str(b.value).lower() == op.lower()
            if b.kind == "node":
                return node is not None and b.value == node_id(node)
            return b.value == flag

        before = len(self._breaks)
        self._breaks = [b for b in self._breaks if not given(b)]
        return before - len(self._breaks)

    def _break_at(self, rec: NodeRecord) -> Breakpoint | None:
        for b in self._breaks:
            if (b.kind == "op" and b.value == rec.op) or (b.kind == "node" and b.value == rec.id):
                return b
        return None

    def _flag_break(self, flags: list[Flag]) -> Breakpoint | None:
        for b in self._breaks:
            if b.kind == "flag" and any(f.kind == b.value for f in flags):
                return b
        return None

    # ---- numerical checks --------------------------------------------------------------------
    def check(self, key: int | str | Tensor | NodeRecord, **options: Any) -> CheckResult:
        """Numerically check one node's backward (see anet.debug.checks.vjp_check); a
        disagreement raises a ``vjp`` flag on the node. Works whether or not it has run."""
        rec = key if isinstance(key, NodeRecord) else self.node(key)
        if not isinstance(rec, NodeRecord):
            raise ValueError(f"{rec.label} is a leaf: it has no backward to check")
        with self._warnings:
            result = checks.vjp_check(rec.tensor, **options)
            if self._warnings.caught:
                rec.warned = merged(rec.warned, self._warnings.take())
        flag = self._set_check(rec, result)
        if flag is not None:
            rec.flags += (flag,)
            self.flags.append(flag)
        if not rec.tensor._ctx.arg.trusted and rec.status in (DONE, CHECKED):
            rec.status = CHECKED if result.ok else DONE
        return result

    def _set_check(self, rec: NodeRecord, result: CheckResult) -> Flag | None:
        """Make ``result`` the node's latest check; its flag (to add) replaces the flags of
        earlier checks (the kinds restart keeps)."""
        rec.check = result
        if any(KINDS[f.kind].survives_restart for f in rec.flags):
            rec.flags = tuple(f for f in rec.flags if not KINDS[f.kind].survives_restart)
            self.flags = [
                f for f in self.flags if not (f.node == rec.id and KINDS[f.kind].survives_restart)
            ]
        return result.flag

    def check_all(self, **options: Any) -> list[CheckResult]:
        """``check()`` every node, in walk order."""
        return [self.check(rec, **options) for rec in self.nodes]
