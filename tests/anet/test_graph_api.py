"""The graph as the debugger and the app read it: Tensor.parents and is_leaf, Context's named
slots (where, fingerprints, narrowed), the apply hook's accessor; ``_ctx`` still works."""

from __future__ import annotations

import numpy as np

import anet.tensor
from anet import Context, Function, Tensor, no_grad
from anet.debug import record
from anet.debug.recording import is_recording

_DEBUG_SLOTS = {"where": None, "fingerprints": None, "narrowed": False}


def test_a_leaf_has_no_parents():
    x = Tensor([1.0, 2.0])
    assert x.is_leaf
    assert x.parents == ()
    assert x._ctx is None


def test_an_op_result_names_its_parents():
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    y = x * w
    assert not y.is_leaf
    assert y.parents == (x, w)
    assert y.parents is y._ctx.parents  # the seed's name still works
    assert y._ctx.parents[0] is x


def test_constants_and_no_grad_results_are_leaves():
    x = Tensor([1.0, 2.0])
    y = x * 2.0
    assert y.parents[0] is x and y.parents[1].is_leaf  # the constant 2.0
    with no_grad():
        z = x * 2.0
    assert z.is_leaf and z.parents == ()
    assert Tensor([1, 2]).is_leaf  # an integer tensor


def test_contexts_made_by_apply_and_by_hand_have_the_same_slots():
    # Function.apply and a Context made by hand fill in the same slots.
    x = Tensor([1.0, 2.0])
    by_apply = (x * 3.0)._ctx
    by_hand = Context(by_apply.arg, *by_apply.parents)
    for name in Context.__slots__:
        if name != "__dict__":
            assert hasattr(by_apply, name) and hasattr(by_hand, name), name
    for ctx in (by_apply, by_hand):
        for name, default in _DEBUG_SLOTS.items():
            assert getattr(ctx, name) is default, name
        assert vars(ctx) == {}  # nothing of the debugger's among a Function's own attributes


def test_a_functions_own_attributes_and_options_still_work():
    seen = {}

    class Scale(Function):
        @staticmethod
        def forward(ctx, a, factor=1.0):
            ctx.mask = a > 0  # an attribute of its own
            seen["factor"] = ctx.factor  # an option, read as an attribute
            return a * factor

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.factor * ctx.mask

    x = Tensor([1.0, -2.0])
    y = Function.apply(x, Scale, factor=3.0)  # as register(name, Scale) would call it
    assert seen["factor"] == 3.0
    assert set(vars(y._ctx)) == {"mask"}
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0])


def test_record_fills_where_and_fingerprints():
    x = Tensor([1.0, 2.0])
    assert anet.tensor.apply_hook() is None and not is_recording()
    with record():
        assert anet.tensor.apply_hook() is not None and is_recording()
        y = x * 2.0
    assert anet.tensor.apply_hook() is None and not is_recording()
    assert y._ctx.where[0] == __file__ and y._ctx.where[2] == "y = x * 2.0"
    saved, parents = y._ctx.fingerprints  # a crc32 per saved array, one per parent
    assert isinstance(saved, tuple) and len(parents) == 2
    assert vars(y._ctx) == {}
    z = x * 2.0
    assert z._ctx.where is None and z._ctx.fingerprints is None


def test_narrowed_marks_a_float16_op_computed_in_float32():
    x = Tensor(np.ones(2, dtype=np.float16))
    y = x * 0.1  # not a float16 number: computed in float32, rounded to float16
    assert y.dtype == np.float16 and y._ctx.narrowed is True
    assert (x * 2.0)._ctx.narrowed is False
