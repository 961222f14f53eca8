"""BackwardSession: planning, stepping exactness, position, run/finish/restart, breakpoints."""

from __future__ import annotations

import numpy as np
import pytest
import student_bugs  # noqa: F401 - registers the broken Functions

from anet import Function, Tensor
from anet.autograd import GradientError
from anet.debug import BackwardSession

calls: list[int] = []


class Logged(Function):
    """Multiplies by 3 and logs each backward call (by output id) in ``calls``."""

    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, grad_output):
        calls.append(ctx.out_id)
        return grad_output * 3


def logged(x: Tensor) -> Tensor:
    out = Function.apply(x, Logged)
    out._ctx.out_id = out.id
    return out


def diamond() -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """x -> a -> (b, c) -> d -> loss: a is shared, its grad is the sum of two paths."""
    x = Tensor(np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]]))
    a = logged(x)
    b, c = logged(a), logged(a)
    d = b * c
    loss = d.sum()
    return x, loss, {"a": a, "b": b, "c": c, "d": d}


def test_creating_a_session_runs_nothing_and_leaves_grads_alone() -> None:
    x, loss, t = diamond()
    x.grad = np.full(x.shape, 5.0)
    t["a"].grad = np.ones(x.shape)  # left over from an earlier walk
    calls.clear()
    s = BackwardSession(loss)
    assert calls == []
    assert s.position == (0, 5) and not s.done and not s.started
    assert s.nodes[0].id == loss.id
    assert s.current is s.nodes[0] and s.nodes[0].status == "current"
    assert all(r.status == "pending" for r in s.nodes[1:])
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 5.0))
    np.testing.assert_array_equal(t["a"].grad, np.ones(x.shape))
    assert loss.grad is None


def test_stepping_is_exact() -> None:
    x, loss, t = diamond()
    loss.backward()
    final = {k: v.grad.copy() for k, v in t.items()} | {"x": x.grad.copy()}
    x.grad = None
    s = BackwardSession(loss)
    consumers: dict[int, list[int]] = {}  # node id -> ids of the nodes that use it
    for r in s.nodes:
        for p in r.parents:
            consumers.setdefault(p.id, []).append(r.id)
    names = {v.id: k for k, v in t.items()} | {x.id: "x"}
    for k in range(1, len(s.nodes) + 1):
        calls.clear()
        rec = s.step()
        # a user Function (Logged) is checked numerically as it runs; anet's own ops are not
        expected = "done" if rec.tensor._ctx.arg.trusted else "checked"
        assert rec is s.nodes[k - 1] and rec.status == expected
        assert s.position == (k, 5)
        ran = {r.id for r in s.nodes[:k]}
        assert all(r.status == "pending" for r in s.nodes[k + 1 :])
        assert calls in ([], [rec.id])  # only this node's backward ran (Mul/Sum do not log)
        for ident, name in names.items():
            tensor = t.get(name, x)
            users = consumers.get(ident, [])
            if all(u in ran for u in users):  # every contribution is in: the final grad
                np.testing.assert_allclose(tensor.grad, final[name])
            elif not any(u in ran for u in users):
                assert tensor.grad is None, name
    assert s.step() is None and s.done


def test_partial_accumulation_is_visible_on_a_shared_node() -> None:
    _, loss, t = diamond()
    s = BackwardSession(loss)
    order = [r.id for r in s.nodes]
    first = order.index(t["b"].id) if order.index(t["b"].id) < order.index(t["c"].id) else None
    first_branch = t["b"] if first is not None else t["c"]
    while s.current.id != first_branch.id:
        s.step()
    s.step()  # one of the two paths into `a` has run
    other = t["c"] if first_branch is t["b"] else t["b"]
    np.testing.assert_allclose(t["a"].grad, first_branch.grad * 3)
    s.step()
    np.testing.assert_allclose(t["a"].grad, first_branch.grad * 3 + other.grad * 3)


def test_finish_gives_the_same_grads_as_backward() -> None:
    x, loss, _ = diamond()
    loss.backward()
    want = x.grad.copy()
    x.grad = None
    stop = BackwardSession(loss).finish()
    assert stop.reason == "done" and stop.flags == ()
    np.testing.assert_array_equal(x.grad, want)


def test_restart_restores_every_grad_including_earlier_leaf_grads() -> None:
    x, loss, t = diamond()
    earlier = np.full(x.shape, 7.0)
    x.grad = earlier
    t["b"].grad = np.full(x.shape, -1.0)
    s = BackwardSession(loss)
    s.step()
    s.step()
    s.finish()
    assert not np.array_equal(x.grad, earlier)
    s.restart()
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 7.0))
    np.testing.assert_array_equal(t["b"].grad, np.full(x.shape, -1.0))
    assert loss.grad is None and t["a"].grad is None
    assert s.position == (0, 5) and not s.started and s.flags == []
    assert [r.status for r in s.nodes] == ["current"] + ["pending"] * 4
    s.finish()
    once = x.grad.copy()
    s.restart()
    s.finish()
    np.testing.assert_array_equal(x.grad, once)  # restart then finish: the same result again


def test_restart_keeps_check_results_but_clears_walk_flags() -> None:
    x = Tensor(np.ones((2, 3)))
    loss = x.wrong_cube().swap_grad().sum()
    s = BackwardSession(loss)
    s.finish()
    s.check_all()
    assert sorted(f.kind for f in s.flags) == ["shape", "vjp"]
    s.restart()
    assert [f.kind for f in s.flags] == ["vjp"]


def test_break_on_op_stops_before_the_node_runs() -> None:
    _, loss, t = diamond()
    s = BackwardSession(loss)
    bp = s.break_on(op="mul")  # any case
    assert bp.value == "Mul" and s.list_breaks() == [bp]
    stop = s.run()
    assert stop.reason == "break" and stop.breakpoint == bp
    assert stop.node.id == t["d"].id and stop.node.status == "current"
    assert t["b"].grad is None  # Mul has not run
    assert s.position == (1, 5)
    stop = s.run()  # continues past the node it stopped at
    assert stop.reason == "done" and s.done


def test_break_on_the_root_stops_a_fresh_session_at_once() -> None:
    _, loss, _ = diamond()
    s = BackwardSession(loss)
    s.break_on(node=loss.id)
    stop = s.run()
    assert stop.reason == "break" and s.position == (0, 5)
    assert s.run().reason == "done"
    s.restart()
    assert s.run().reason == "break"  # after a restart it stops there again


def test_break_on_node_by_id_or_hash_text() -> None:
    _, loss, t = diamond()
    s = BackwardSession(loss)
    s.break_on(node=f"#{t['a'].id}")
    stop = s.run()
    assert stop.reason == "break" and stop.node.id == t["a"].id
    assert s.current.id == t["a"].id


def test_break_on_flag_kind_with_stop_on_flags_off() -> None:
    x, y = Tensor(np.ones((2, 3), dtype=np.float32)), Tensor(np.ones((2, 3), dtype=np.float32))
    loss = (x.swap_grad() * 2.0).sum() + (y.float64_grad() * 2.0).sum()
    s = BackwardSession(loss, stop_on_flags=False)
    s.break_on(flag="dtype")
    order = [r.op for r in s.nodes]
    assert order.index("SwapGrad") < order.index("Float64Grad")
    stop = s.run()
    assert stop.reason == "flag" and stop.breakpoint.value == "dtype"
    assert [f.kind for f in s.flags] == ["shape", "dtype"]  # shape did not stop it
    assert stop.node.op == "Float64Grad"
    assert s.run().reason == "done"


def test_run_stops_on_the_first_flag_by_default_and_can_opt_out() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    loss = (x.float64_grad().swap_grad() * 2.0).sum()
    s = BackwardSession(loss)
    stop = s.run()
    assert stop.reason == "flag" and stop.node.op == "SwapGrad"
    s.restart()
    stop = s.run(stop_on_flags=False)
    assert stop.reason == "done" and len(stop.flags) == 1  # the dtype node was never reached


def test_finish_ignores_breakpoints() -> None:
    _, loss, _ = diamond()
    s = BackwardSession(loss)
    s.break_on(op="Logged")
    assert s.finish().reason == "done" and s.done


def test_clear_breaks() -> None:
    _, loss, t = diamond()
    s = BackwardSession(loss)
    s.break_on(op="Logged")
    s.break_on(node=t["d"].id)
    s.break_on(flag="shape")
    assert s.clear_breaks(op="logged") == 1
    assert [b.kind for b in s.list_breaks()] == ["node", "flag"]
    assert s.clear_breaks() == 2 and s.list_breaks() == []


def test_bad_breakpoints_are_clear_errors() -> None:
    x, loss, _ = diamond()
    s = BackwardSession(loss)
    with pytest.raises(ValueError, match="no Conv2d node"):
        s.break_on(op="Conv2d")
    with pytest.raises(ValueError, match="unknown flag kind"):
        s.break_on(flag="shapes")
    with pytest.raises(ValueError, match="leaf"):
        s.break_on(node=x.id)
    with pytest.raises(KeyError):
        s.break_on(node=10**9)
    with pytest.raises(ValueError, match="exactly one"):
        s.break_on(op="Mul", flag="shape")


def test_records_by_id_and_leaves() -> None:
    x, loss, t = diamond()
    s = BackwardSession(loss)
    assert s.node(t["a"].id) is s[f"#{t['a'].id}"] is s[t["a"]]
    assert [leaf.id for leaf in s.leaves] == [x.id]
    assert s.node(x.id).is_leaf and s.node(x.id).label == f"#{x.id} leaf"
    assert [p.id for p in s.parents(t["d"].id)] == [t["b"].id, t["c"].id]
    assert x.id in s and 10**9 not in s


def test_a_session_on_a_non_scalar_needs_a_gradient() -> None:
    x = Tensor(np.ones(3))
    y = x * 2.0
    with pytest.raises(GradientError, match="gradient"):
        BackwardSession(y)
    s = BackwardSession(y, np.array([1.0, 2.0, 3.0]))
    s.finish()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_a_session_on_a_leaf() -> None:
    x = Tensor(np.ones(1))
    s = BackwardSession(x)
    assert s.nodes == [] and s.step() is None and s.done
    np.testing.assert_array_equal(x.grad, [1.0])


def test_keyboard_interrupt_leaves_the_session_resumable() -> None:
    class Interrupted(Function):
        fire = True

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            if Interrupted.fire:
                Interrupted.fire = False
                raise KeyboardInterrupt
            return grad_output * 2

    x = Tensor(np.ones(3))
    out = Function.apply(x * 1.0, Interrupted)
    loss = out.sum()
    s = BackwardSession(loss)
    with pytest.raises(KeyboardInterrupt):
        s.finish()
    assert s.current.id == out.id and s.current.status == "current"
    assert s.position == (1, 3)
    s.finish()
    np.testing.assert_array_equal(x.grad, np.full(3, 2.0))


def test_record_contents_after_a_step() -> None:
    x = Tensor(np.array([[1.0, 2.0], [3.0, np.nan]], dtype=np.float32))
    w = Tensor(np.eye(2, dtype=np.float32))
    y = x @ w
    loss = y.sum()
    s = BackwardSession(loss)
    rec = s.node(y.id)
    assert rec.grad_output is None and rec.returned is None
    s.step()
    assert rec.grad_output.shape == (2, 2)  # what it has received so far
    s.step()
    assert rec.op == "Dot" and rec.label == f"#{y.id} Dot" and rec.shape == (2, 2)
    assert [(p.id, p.shape, p.is_leaf) for p in rec.parents] == [
        (x.id, (2, 2), True),
        (w.id, (2, 2), True),
    ]
    saved = rec.saved
    assert [s.shape for s in saved] == [(2, 2), (2, 2)]
    assert saved[0].nan == 1 and saved[0].max == 3.0 and saved[0].mean == 2.0
    assert saved is rec.saved  # computed once
    assert [(r.parent, r.value.shape, r.expected_shape, r.flags) for r in rec.returned] == [
        (x.id, (2, 2), (2, 2), ()),
        (w.id, (2, 2), (2, 2), ("nonfinite",)),  # x's NaN reaches w's grad here, first
    ]
    assert rec.where is None  # not recorded
    assert "def backward" in rec.source
    assert s.last is rec


def test_a_breakpoint_after_a_flag_stop_still_stops_and_stepping_onto_one_goes_on() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    inner = x * 2.0
    flagged = inner.wrong_cube()  # wrong math: a vjp flag, and grads still flow on
    loss = (flagged * 3.0).sum()
    s = BackwardSession(loss)
    s.break_on(op="Mul")
    assert [r.op for r in s.nodes] == ["Sum", "Mul", "Cube", "Mul"]
    stop = s.run()  # Sum runs, then it stops before the first Mul
    assert stop.reason == "break" and stop.node.op == "Mul" and s.position == (1, 4)
    stop = s.run()  # runs that Mul, then the Cube raises a vjp flag
    assert stop.reason == "flag" and stop.node.id == flagged.id
    stop = s.run()  # the next node is a Mul with a breakpoint: it stops before it
    assert stop.reason == "break" and stop.node.id == inner.id
    s.restart()
    s.step()  # onto the first Mul, by stepping
    stop = s.run()  # does not stop where the cursor already is; the flag stops it
    assert stop.reason == "flag"
