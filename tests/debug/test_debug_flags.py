"""One test per flag kind, each with a broken user-defined Function: the flag names that node."""

from __future__ import annotations

import numpy as np
import pytest
import student_bugs  # noqa: F401 - registers the broken Functions

from anet import Tensor
from anet.autograd import GradientError
from anet.debug import FLAG_KINDS, BackwardSession, record


def leaf(*shape: int, dtype: type = np.float32, seed: int = 0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def only_flag(session: BackwardSession) -> object:
    assert len(session.flags) == 1, [f.message for f in session.flags]
    return session.flags[0]


def test_shape_flag_names_the_op_parent_and_both_shapes() -> None:
    x = leaf(2, 3)
    with record():
        swapped = x.swap_grad()
        loss = (swapped * 1.5).sum()
    s = BackwardSession(loss)
    stop = s.run()
    flag = only_flag(s)
    assert stop.reason == "flag" and stop.node.id == swapped.id
    assert (flag.kind, flag.node, flag.index) == ("shape", swapped.id, 0)
    assert "SwapGrad" in flag.message and "(3, 2)" in flag.message and "(2, 3)" in flag.message
    assert "loss = (swapped * 1.5).sum()" not in flag.message  # applied on the line before
    assert "swapped = x.swap_grad()" in flag.message
    assert s.node(swapped.id).status == "error"
    assert x.grad is None  # the bad grad is not accumulated


def test_shape_flag_says_when_summing_broadcast_axes_fixes_it() -> None:
    x, b = leaf(4, 3), leaf(3, seed=1)
    out = x.no_broadcast_add(b)
    s = BackwardSession(out.sum())
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("shape", out.id, 1)
    assert "broadcast" in flag.message
    np.testing.assert_array_equal(x.grad, np.ones((4, 3)))  # the good parent still got its grad


def test_count_flag() -> None:
    x, y = leaf(3), leaf(3, seed=1)
    out = x.one_grad_for_two(y)
    s = BackwardSession((out * 2).sum())
    s.run()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("count", out.id, None)
    assert "1 grad for 2 parents" in flag.message and "OneGradForTwo" in flag.message
    assert x.grad is None and y.grad is None  # which grad was whose is unknown: none is used


def test_none_flag() -> None:
    x, y = leaf(3), leaf(3, seed=1)
    out = x.forgets_second(y)
    s = BackwardSession(out.sum())
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("none", out.id, 1)
    assert f"#{y.id}" in flag.message
    np.testing.assert_allclose(x.grad, y.data)
    assert y.grad is None


def test_dtype_flag_is_a_warning_and_the_grad_is_converted() -> None:
    x = leaf(2, 2)
    out = x.float64_grad()
    s = BackwardSession(out.sum())
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("dtype", out.id, 0)
    assert "float64" in flag.message and "float32" in flag.message
    assert s.node(out.id).status == "checked"  # a note: the grad is usable, and it agrees
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 3.0))


def test_type_flag_for_a_tensor_returned() -> None:
    x = leaf(2)
    out = x.returns_tensor()
    s = BackwardSession(out.sum())
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("type", out.id, 0)
    assert "Tensor" in flag.message and ".data" in flag.message


def test_nonfinite_flag_only_at_the_origin() -> None:
    x = Tensor(np.array([0.0, 1.0, 2.0], dtype=np.float32))
    with record():
        logged = x.safe_log()
        scaled = logged * 3.0  # finite grad in, finite out: not flagged
        loss = scaled.sum()
    s = BackwardSession(loss)
    stop = s.run()
    flag = only_flag(s)
    assert stop.node.id == logged.id
    assert (flag.kind, flag.node, flag.index) == ("nonfinite", logged.id, 0)
    assert "1 Inf" in flag.message and "SafeLog" in flag.message
    assert "logged = x.safe_log()" in flag.message
    # Downstream of the origin the grad is already infinite: no second flag.
    y = Tensor(np.array([0.0, 1.0], dtype=np.float32))
    loss2 = (y.safe_log() * 2.0).exp().sum()
    s2 = BackwardSession(loss2.log())
    s2.finish()
    assert [f.kind for f in s2.flags] == ["nonfinite"]


def test_exception_flag_keeps_the_traceback_and_the_walk_goes_on() -> None:
    a, b = leaf(3), leaf(3, seed=1)
    crashed = a.crashes()
    other = (a * 2.0).exp().square()  # a second path to a, not through the crash
    loss = (crashed.tanh() + other).sum() + (b * b).sum()
    s = BackwardSession(loss)
    stop = s.run()
    flag = only_flag(s)
    assert stop.reason == "flag" and stop.node.id == crashed.id
    assert (flag.kind, flag.node, flag.index) == ("exception", crashed.id, None)
    assert "IndexError" in flag.message and "Crashes" in flag.message
    assert "x = ctx.saved_tensors[0]" in flag.traceback
    assert "anet/autograd.py" not in flag.traceback  # starts in the user's backward
    s.finish()
    assert s.node(crashed.id).status == "error"
    np.testing.assert_allclose(b.grad, 2 * b.data, rtol=1e-6)  # the other branches ran
    assert a.grad is not None  # through deep/hidden


def test_exception_makes_nodes_only_reachable_through_it_unreached() -> None:
    x = leaf(3)
    inner = x.exp()
    mid = inner * 2.0
    crashed = mid.crashes()
    loss = crashed.sum() + (x * 3.0).sum()
    s = BackwardSession(loss)
    s.finish()
    statuses = {r.id: r.status for r in s.nodes}
    assert statuses[crashed.id] == "error"
    assert statuses[mid.id] == "unreached" and statuses[inner.id] == "unreached"
    assert inner.grad is None and mid.grad is None
    np.testing.assert_allclose(x.grad, np.full(3, 3.0))
    assert s.done and s.position == (len(s.nodes), len(s.nodes))


def test_vjp_flag_from_the_numerical_check() -> None:
    x = leaf(2, 3, dtype=np.float64)
    with record():
        cubed = x.wrong_cube()
        squared = cubed.square()
        loss = squared.sum()
    s = BackwardSession(loss)
    results = {r.node: r for r in s.check_all()}
    assert results[squared.id].ok is True
    assert results[loss.id].ok is True
    bad = results[cubed.id]
    assert bad.ok is False and bad.parents[0].max_error > 0.1
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("vjp", cubed.id, 0)
    assert "Cube" in flag.message and "parent 0 max error" in flag.message
    assert "cubed = x.wrong_cube()" in flag.message
    # check() again replaces the flag instead of adding a second one
    s.check(cubed.id)
    assert len(s.flags) == 1


def test_vjp_check_during_the_walk_stops_run() -> None:
    x = leaf(4)
    cubed = x.wrong_cube()
    loss = (cubed * 2.0).sum()
    s = BackwardSession(loss, check=True)
    stop = s.run()
    assert stop.reason == "flag" and stop.node.id == cubed.id
    assert [f.kind for f in s.flags] == ["vjp"]


def test_inplace_flag_when_a_later_op_changes_saved_data() -> None:
    x = leaf(2, 3)
    with record():
        e = x.exp()  # Exp saves its output, e.data
        doubled = e.scale_in_place()  # ...which this forward scales in place
        loss = doubled.sum()
    s = BackwardSession(loss)
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node) == ("inplace", e.id)
    assert "saved tensor 0" in flag.message and "Exp" in flag.message
    assert "e = x.exp()" in flag.message


def test_inplace_flag_when_the_user_updates_a_weight_before_backward() -> None:
    x, w = leaf(2, 3), leaf(3, 4, seed=1)
    with record():
        y = x @ w
        loss = y.sum()
    w.data -= 0.1  # an optimizer step taken too early
    s = BackwardSession(loss)
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("inplace", y.id, 1)
    assert f"parent 1 (#{w.id})" in flag.message


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_inplace_flag_on_a_weight_that_is_not_c_contiguous(layout: str) -> None:
    x = leaf(2, 3)
    big = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    w = Tensor(big[:, :3].copy().T if layout == "transposed" else big[::2, ::2].T)
    assert not w.data.flags.c_contiguous
    with record():
        y = x @ w
        loss = y.sum()
    w.data[0, 0] += 1.0
    s = BackwardSession(loss)
    s.finish()
    flag = only_flag(s)
    assert (flag.kind, flag.node, flag.index) == ("inplace", y.id, 1)


def test_nothing_is_flagged_on_a_correct_graph() -> None:
    x, w = leaf(4, 3), leaf(3, 2, seed=1)
    with record():
        loss = (x @ w).relu().square().mean()
    s = BackwardSession(loss, check=True)
    assert s.run().reason == "done"
    assert s.flags == []
    assert all(r.check.ok for r in s.nodes)


def test_every_kind_is_documented() -> None:
    assert set(FLAG_KINDS) == {
        "shape", "count", "none", "type", "dtype", "nonfinite", "exception", "vjp", "inplace"
    }  # fmt: skip


def test_plain_backward_still_raises_where_the_session_flags() -> None:
    x = leaf(2, 3)
    loss = x.swap_grad().sum()
    with pytest.raises(GradientError) as info:
        loss.backward()
    assert info.value.kind == "shape"
