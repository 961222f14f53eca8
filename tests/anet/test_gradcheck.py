"""anet.gradcheck: Jacobians by backward and by central differences, and the check between them."""

from __future__ import annotations

import numpy as np
import pytest

from anet import Function, Tensor
from anet.gradcheck import GradcheckError, gradcheck, jacobian, numerical_jacobian

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))


class BadSquare(Function):
    """x**2 with a wrong backward (forgets the factor 2): what gradcheck is for."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x


def bad_square(x: Tensor) -> Tensor:
    return BadSquare.apply(x, BadSquare)


def test_jacobians_of_a_linear_map_are_its_matrix() -> None:
    x = RNG.standard_normal(4)
    f = lambda x: Tensor(A, requires_grad=False).dot(x)  # noqa: E731
    np.testing.assert_array_equal(jacobian(f, x), A)
    np.testing.assert_allclose(numerical_jacobian(f, x), A, atol=1e-9)


def test_jacobian_shape_is_outputs_by_inputs() -> None:
    x = RNG.standard_normal((2, 3))
    f = lambda x: (x**3).sum(axis=0)  # noqa: E731
    expected = np.zeros((3, 6))
    for i in range(2):
        for j in range(3):
            expected[j, i * 3 + j] = 3 * x[i, j] ** 2
    np.testing.assert_allclose(jacobian(f, x), expected, rtol=1e-12)
    np.testing.assert_allclose(numerical_jacobian(f, x), expected, rtol=1e-7)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.tanh(),
        lambda x: x.sigmoid() * x,
        lambda x: x.softmax(),
        lambda x: x.logsoftmax().sum(axis=1),
        lambda x: (x.exp() + 1).log().mean(),
        lambda x: x.dot(x.T),
    ],
    ids=["tanh", "sigmoid*x", "softmax", "logsoftmax", "softplus_mean", "gram"],
)
def test_correct_ops_pass(f) -> None:
    assert gradcheck(f, RNG.standard_normal((3, 4)))


def test_coarse_eps_fails_on_a_nonlinear_function() -> None:
    x = RNG.uniform(0.5, 2.0, (2, 3))
    assert gradcheck(lambda x: x**3, x, eps=1e-6)
    assert not gradcheck(lambda x: x**3, x, eps=0.1)  # truncation error eps**2 * x
    assert not gradcheck(lambda x: x.exp(), x, eps=0.1)
    # Central differences are exact on quadratics: the failure above is the eps, not the check.
    assert gradcheck(lambda x: x * x, x, eps=0.1)


def test_wrong_backward_fails_and_says_where() -> None:
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert not gradcheck(bad_square, x)
    with pytest.raises(GradcheckError) as info:
        gradcheck(bad_square, x, raise_exception=True)
    message = str(info.value)
    assert "input 0: 4 of 16 entries differ" in message
    # worst entry: x = 3 (flat index 2), analytical 3 against numerical 6
    assert "worst at output 2, input element 2: analytical 3, numerical 6" in message
    assert "analytical:" in message and "numerical:" in message


def test_several_inputs_as_a_tuple() -> None:
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    f = lambda a, b: a.dot(b).tanh()  # noqa: E731
    assert gradcheck(f, (a, b))
    ja, jb = jacobian(f, (a, b))
    assert ja.shape == (8, 6) and jb.shape == (8, 12)
    na, nb = numerical_jacobian(f, (a, b))
    np.testing.assert_allclose(ja, na, atol=1e-8)
    np.testing.assert_allclose(jb, nb, atol=1e-8)
    # a wrong grad for the second input only is reported as input 1
    with pytest.raises(GradcheckError, match="input 1"):
        b = RNG.uniform(1, 2, (2, 3))
        gradcheck(lambda a, b: a * bad_square(b), (a, b), raise_exception=True)


def test_inputs_are_cast_to_float64_and_left_untouched() -> None:
    x = RNG.standard_normal(5).astype(np.float32)
    before = x.copy()
    seen = []

    def f(t: Tensor) -> Tensor:
        seen.append(t.dtype)
        return t.tanh()

    assert gradcheck(f, x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x, before)
    assert gradcheck(lambda t: t.exp(), Tensor([0.5, 1.5]))  # a float32 Tensor, lists, numbers
    assert gradcheck(lambda t: t * t * t, [1.0, 2.0])
    np.testing.assert_allclose(jacobian(lambda t: t * t * t, 2.0), [[12.0]])


def test_outputs_that_ignore_an_input_have_zero_jacobian() -> None:
    a, b = RNG.standard_normal(3), RNG.standard_normal(2)
    ja, jb = jacobian(lambda a, b: a * 2, (a, b))
    np.testing.assert_array_equal(ja, 2 * np.eye(3))
    np.testing.assert_array_equal(jb, np.zeros((3, 2)))
    np.testing.assert_array_equal(jacobian(lambda a: Tensor([1.0, 2.0]), a), np.zeros((2, 3)))
    assert gradcheck(lambda a, b: a * 2, (a, b))


def test_func_must_return_a_tensor() -> None:
    with pytest.raises(TypeError, match="must return a Tensor, got ndarray"):
        gradcheck(lambda x: x.data, np.ones(2))
