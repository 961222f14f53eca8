"""Python numbers in ops become constant leaves, cached: ``y * 0.5`` in a loop makes one Tensor."""

from __future__ import annotations

import numpy as np
import pytest

from anet import Tensor


def test_a_number_used_twice_is_one_constant_leaf() -> None:
    x = Tensor([1.0, 2.0])
    a, b = x * 0.5, (x + 1.0) * 0.5
    c = a._ctx.parents[1]
    assert c is b._ctx.parents[1]
    assert not c.requires_grad and c._ctx is None and c.grad is None
    assert not c.data.flags.writeable  # nobody can change 0.5 for everyone
    (a + b).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_constants_keep_sign_of_zero_and_dtype() -> None:
    x32 = Tensor(np.ones(2, np.float32))
    x64 = Tensor(np.ones(2, np.float64))
    with np.errstate(divide="ignore"):  # 1/±0 is the point: which infinity comes out
        assert (1 / (x32 * -0.0)).data[0] == -np.inf
        assert (1 / (x32 * 0.0)).data[0] == np.inf
    assert (x32 * 2.0)._ctx.parents[1].dtype == np.float32
    assert (x64 * 2.0)._ctx.parents[1].dtype == np.float64
    assert (x32 * 2.0)._ctx.parents[1] is not (x64 * 2.0)._ctx.parents[1]


def test_a_constant_someone_made_require_grad_is_not_handed_out_again() -> None:
    x = Tensor([1.0, 2.0])
    c = (x * 3.0)._ctx.parents[1]
    c.requires_grad = True
    fresh = (x * 3.0)._ctx.parents[1]
    assert fresh is not c and not fresh.requires_grad


@pytest.mark.parametrize("number", [np.float32(2.5), np.int64(3), 2])
def test_numpy_scalars_and_ints_are_constants_in_the_tensor_dtype(number) -> None:
    x = Tensor(np.ones(2, np.float64))
    c = (x * number)._ctx.parents[1]
    assert c.dtype == np.float64 and float(c.data) == float(number)
