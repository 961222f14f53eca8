"""User Functions that keep views of their inputs: the read-only lock around a user's backward
must never break correct code and must always be undone; in-place writes it cannot cover are
caught by the fingerprints while recording."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anet import Function, Tensor
from anet.autograd import InPlaceError
from anet.debug import BackwardSession, record

pytestmark = pytest.mark.timeout(120)

# ---- the read-only lock and views ---------------------------------------------------------------

VIEWS = {
    "T": lambda a: a.T,
    "column": lambda a: a[:, :1],
    "reshape": lambda a: a.reshape(-1),
    "strided": lambda a: a[::2, ::-1],
    "view of a view": lambda a: a.T[1:][:, ::2][::-1],
}


class SavesView(Function):
    """forward: sum(x * x); saves a view of x chosen by ``how``; backward reads it."""

    @staticmethod
    def forward(ctx, x, how="T"):
        ctx.save_for_backward(VIEWS[how](x), x)
        return np.sum(x * x)

    @staticmethod
    def backward(ctx, grad_output):
        view, x = ctx.saved_tensors
        assert np.isfinite(view).all()
        return 2 * x * grad_output


class ViewAndBase(Function):
    """forward(a, b) = sum(a) + sum(b * b): called as ``x[0:2]`` and ``x`` of one array."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b, a.T, b[::-1])
        return np.sum(a) + np.sum(b * b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b, _, _ = ctx.saved_tensors
        return np.ones_like(a) * grad_output, 2 * b * grad_output


def data(*shape: int) -> np.ndarray:
    return np.arange(1, np.prod(shape) + 1, dtype=np.float64).reshape(shape).copy()  # owns it


def assert_usable(*arrays: np.ndarray) -> None:
    """The user's next optimizer step works: every array is writeable and can be updated."""
    for a in arrays:
        assert a.flags.writeable
        before = a.copy()
        a += 1
        assert np.array_equal(a, before + 1)


@pytest.mark.parametrize("how", list(VIEWS))
@pytest.mark.parametrize("walk", ["backward", "session"])
def test_a_function_saving_a_view_of_its_input_works_and_unlocks(how: str, walk: str) -> None:
    x = Tensor(data(4, 4))
    loss = SavesView.apply(x, SavesView, how=how)
    if walk == "backward":
        loss.backward()
    else:
        session = BackwardSession(loss)
        session.finish()
        assert session.flags == []
    np.testing.assert_allclose(x.grad, 2 * x.data)
    assert_usable(x.data)


def test_parents_that_are_a_view_and_its_base() -> None:
    base = data(3, 2)
    x = Tensor(base)
    view = x[0:2]  # a GetItem: its data is a view of base
    loss = ViewAndBase.apply(Tensor(base[0:2]), ViewAndBase, x) + view.sum()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * base + np.array([[1, 1], [1, 1], [0, 0]]))
    assert_usable(base)


def test_the_same_array_twice_and_a_grad_output_that_is_a_view_of_a_parent() -> None:
    class Twice(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b, a, a.T)
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            a, b, _, _ = ctx.saved_tensors
            return grad_output * b, grad_output * a

    x = Tensor(data(3, 3))
    out = Twice.apply(x, Twice, x)
    out.backward(gradient=x.data.T)  # the seed grad is a view of the parent's own data
    np.testing.assert_allclose(x.grad, 2 * x.data * x.data.T)
    assert_usable(x.data)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_the_lock_is_undone_when_backward_raises_or_is_interrupted(error: type) -> None:
    class Fails(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x.T, x[1:], x)
            return np.sum(x)

        @staticmethod
        def backward(ctx, grad_output):
            raise error("stop")

    x = Tensor(data(3, 3))
    with pytest.raises(error):
        Fails.apply(x, Fails).backward()
    assert_usable(x.data)


def test_arrays_the_lock_cannot_undo_are_left_as_they_were() -> None:
    """A writeable view of an array the user made read-only cannot be made writeable again by
    anyone: the lock leaves it alone. Read-only arrays stay read-only."""
    owner = data(2, 3)
    view = owner[:, :2]
    owner.flags.writeable = False
    frozen = data(2, 2)
    frozen.flags.writeable = False

    class Uses(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return np.sum(a * b)

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            return grad_output * b, grad_output * a

    x, w = Tensor(view), Tensor(frozen)
    Uses.apply(x, Uses, w).backward()
    np.testing.assert_allclose(x.grad, frozen)
    assert view.flags.writeable and not owner.flags.writeable and not frozen.flags.writeable


def test_an_array_over_memory_it_does_not_own() -> None:
    buffer = bytearray(data(2, 3).tobytes())
    arr = np.frombuffer(buffer, dtype=np.float64).reshape(2, 3)  # base: a bytearray
    x = Tensor(arr)
    SavesView.apply(x, SavesView, how="column").backward()
    np.testing.assert_allclose(x.grad, 2 * arr)
    assert_usable(arr)
    readonly = np.frombuffer(bytes(8 * 6), dtype=np.float64).reshape(2, 3)
    SavesView.apply(Tensor(readonly), SavesView, how="T").backward()
    assert not readonly.flags.writeable


# ---- random Functions saving random views -------------------------------------------------------

# Each step maps an array to a view of it (never a copy): chains of them are views of views.
STEPS = {
    "T": lambda a: a.T,
    "flip": lambda a: a[::-1],
    "stride": lambda a: a[::2],
    "tail": lambda a: a[1:],
    "column": lambda a: a[..., :1],
    "ravel": lambda a: a.reshape(-1) if a.flags.c_contiguous else a,
    "expand": lambda a: a[None],
    "swap": lambda a: np.swapaxes(a, 0, -1),
}


def view_of(a: np.ndarray, steps: list[str]) -> np.ndarray:
    for s in steps:
        a = STEPS[s](a)
    return a


class Random(Function):
    """forward(*xs) = sum_i sum(xs[i] ** 2) * (i + 1); saves random views, keeps some on ctx."""

    @staticmethod
    def forward(ctx, *xs, plan=()):
        views = [view_of(xs[i % len(xs)], steps) for i, steps in plan]
        ctx.save_for_backward(*xs, *views[::2])
        ctx.kept = views[1::2]  # ctx attributes: not locked, only read here
        return sum(np.sum(x * x) * (i + 1) for i, x in enumerate(xs))

    @staticmethod
    def backward(ctx, grad_output):
        n = len(ctx.parents)
        xs = ctx.saved_tensors[:n]
        for v in [*ctx.saved_tensors[n:], *ctx.kept]:
            float(np.sum(v))  # read every view
        return tuple(2 * x * (i + 1) * grad_output for i, x in enumerate(xs))


@dataclasses.dataclass
class Case:
    base: np.ndarray
    parents: list[np.ndarray]
    plan: list[tuple[int, list[str]]]
    gradient_view: bool
    frozen: bool


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rows, cols = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    base = np.random.default_rng(draw(st.integers(0, 99))).standard_normal((rows, cols))
    step = st.sampled_from(sorted(STEPS))
    parents = []
    for _ in range(draw(st.integers(1, 3))):
        # a parent is the base itself, a view of it (parents views of each other), or its own
        kind = draw(st.sampled_from(["base", "view", "own"]))
        if kind == "base":
            parents.append(base)
        elif kind == "view":
            parents.append(view_of(base, draw(st.lists(step, max_size=3))))
        else:
            parents.append(base.copy())
    plan = draw(st.lists(st.tuples(st.integers(0, 5), st.lists(step, max_size=4)), max_size=6))
    return Case(base, parents, plan, draw(st.booleans()), draw(st.booleans()))


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(cases(), st.sampled_from(["backward", "session", "recorded"]))
def test_random_functions_saving_random_views(case: Case, walk: str) -> None:
    frozen = None
    if case.frozen:  # a read-only user array among the parents: it must stay read-only
        frozen = np.array(case.base)
        frozen.flags.writeable = False
        case.parents.append(frozen)
    arrays = [case.base, *case.parents]
    before = [a.flags.writeable for a in arrays]
    values = [a.copy() for a in arrays]
    tensors = [Tensor(p) for p in case.parents]
    with record(walk == "recorded"):
        out = Random.apply(tensors[0], Random, *tensors[1:], plan=case.plan)
    if case.gradient_view:  # the seed grad: a 0-d view of the base's memory
        gradient = case.base.reshape(-1)[0, ...]
        expected_g = float(gradient)
    else:
        gradient, expected_g = None, 1.0
    if walk == "session":
        session = BackwardSession(out, gradient)
        session.finish()
        assert session.flags == []
    else:
        out.backward(gradient=gradient)
    # grads as expected: each parent's own (parents sharing memory are separate tensors)
    for i, (t, v) in enumerate(zip(tensors, values[1:])):
        np.testing.assert_allclose(t.grad, 2 * v * (i + 1) * expected_g, rtol=1e-12)
    # nothing changed, nothing left locked: the flags are exactly what they were
    assert [a.flags.writeable for a in arrays] == before
    for a, v in zip(arrays, values):
        np.testing.assert_array_equal(a, v)
    assert_usable(*(a for a in arrays if a is not frozen))


# ---- in-place writes the lock does not cover ----------------------------------------------------


class ZeroesThroughAView(Function):
    """Keeps ``ctx.flat = x.reshape(-1)`` (a view the lock cannot see) and zeroes it."""

    @staticmethod
    def forward(ctx, x):
        ctx.flat = x.reshape(-1)
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        ctx.flat *= 0
        return grad_output * 2


class ZeroesSavedView(Function):
    """Saves a new array y, keeps a view of it on ctx, and writes through the view."""

    @staticmethod
    def forward(ctx, x):
        y = x * 3
        ctx.save_for_backward(y)
        ctx.part = y[:1]
        return y

    @staticmethod
    def backward(ctx, grad_output):
        ctx.part[...] = 0
        return grad_output * 3


def test_a_backward_writing_into_a_parent_through_a_view_raises_under_record() -> None:
    x = Tensor(np.ones((2, 3)))
    with record():
        loss = ZeroesThroughAView.apply(x, ZeroesThroughAView).sum()
    with pytest.raises(InPlaceError) as info:
        loss.backward()
    message = str(info.value)
    node = loss._ctx.parents[0]
    assert message.startswith("ZeroesThroughAView.backward")
    assert f"#{node.id} ZeroesThroughAView" in message
    assert f"parent 0 (#{x.id})" in message and "in place" in message
    assert info.value.index == 0
    assert x.data.flags.writeable  # the user's array is usable (its values are lost)


def test_a_backward_writing_into_a_saved_array_through_a_view_raises_under_record() -> None:
    x = Tensor(np.ones((2, 3)))
    with record():
        loss = ZeroesSavedView.apply(x, ZeroesSavedView).sum()
    with pytest.raises(InPlaceError, match=r"saved tensor 0"):
        loss.backward()
    assert np.array_equal(x.data, np.ones((2, 3)))


def test_the_session_flags_the_node_whose_backward_changed_its_parent() -> None:
    x = Tensor(np.ones((2, 3)))
    with record():
        loss = ZeroesThroughAView.apply(x, ZeroesThroughAView).sum()
    session = BackwardSession(loss)
    stop = session.run()
    assert stop.reason == "flag" and stop.node.op == "ZeroesThroughAView"
    (flag,) = stop.flags
    assert flag.kind == "inplace" and flag.index == 0
    assert "parent 0" in flag.short and "backward" in flag.short
    assert f"parent 0 (#{x.id})" in flag.message
    session.finish()
    assert session.done


def test_correct_functions_with_views_raise_nothing_under_record() -> None:
    x = Tensor(data(4, 4))
    with record():
        loss = SavesView.apply(x, SavesView, how="view of a view")
    loss.backward()
    session = BackwardSession(loss)
    session.finish()
    assert session.flags == []
