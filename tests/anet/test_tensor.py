"""Making tensors and asking what they are: dtypes, creation helpers, repr, bad input, no_grad."""

from __future__ import annotations

import numpy as np
import pytest

import anet
from anet import Tensor


@pytest.mark.parametrize("data", [[1, 2, 3], (1.5, 2.5), [[1, 2], [3, 4]], 3, 2.5, [True, False]])
def test_lists_tuples_and_numbers_become_float32(data):
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.array(data, dtype=np.float32))


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.bool_]
)
def test_arrays_keep_their_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = Tensor(a)
    assert t.dtype == dtype
    assert t.shape == (2, 3)


def test_dtype_keyword_converts():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.arange(3), dtype=np.float32).dtype == np.float32
    assert Tensor(np.ones(2, dtype=np.float32), dtype="float64").dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.uint8])
def test_int_and_bool_tensors_never_require_grad(dtype):
    t = Tensor(np.ones(3, dtype=dtype), requires_grad=True)
    assert not t.requires_grad
    y = Tensor([1.0, 2.0, 3.0]) * t
    y.sum().backward()
    assert t.grad is None


def test_requires_grad_false_builds_no_graph():
    a = Tensor([1.0, 2.0], requires_grad=False)
    b = a * 2 + 1
    assert b._ctx is None and not b.requires_grad


def test_zeros_ones_accept_sizes_or_a_tuple_and_keywords():
    for make, value in [(Tensor.zeros, 0.0), (Tensor.ones, 1.0)]:
        for t in (make(2, 3), make((2, 3))):
            assert t.shape == (2, 3) and t.dtype == np.float32
            assert np.all(t.data == value)
        t = make(4, dtype=np.float64, requires_grad=False)
        assert t.dtype == np.float64 and not t.requires_grad


def test_randn_and_uniform():
    np.random.seed(0)
    r = Tensor.randn(200, 50)
    assert r.shape == (200, 50) and r.dtype == np.float32
    assert abs(r.data.mean()) < 0.05 and abs(r.data.std() - 1) < 0.05
    u = Tensor.uniform(100, 100, low=2.0, high=3.0, dtype=np.float64)
    assert u.dtype == np.float64
    assert u.data.min() >= 2.0 and u.data.max() < 3.0
    assert Tensor.uniform((3, 4)).shape == (3, 4)
    assert not Tensor.randn(2, requires_grad=False).requires_grad


def test_eye_and_arange():
    np.testing.assert_array_equal(Tensor.eye(3).data, np.eye(3))
    assert Tensor.eye(2, 3).shape == (2, 3) and Tensor.eye(3).dtype == np.float32
    np.testing.assert_array_equal(Tensor.arange(5).data, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(Tensor.arange(1, 7, 2).data, [1, 3, 5])
    assert Tensor.arange(4).dtype == np.float32
    assert Tensor.arange(4, dtype=np.int64).dtype == np.int64


def test_shape_dtype_ndim_size_numpy_item():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    t = Tensor(a)
    assert (t.shape, t.dtype, t.ndim, t.size) == ((2, 3, 4), np.float64, 3, 24)
    assert t.numpy() is a  # no copy of the user's array
    assert len(t) == 2
    s = t.sum()
    assert s.item() == 276.0 and type(s.item()) is float
    assert Tensor([[7.5]]).item() == 7.5


def test_item_on_many_elements_says_how_many():
    with pytest.raises(ValueError, match=r"6 elements"):
        Tensor.ones(2, 3).item()


def test_repr_shows_shape_dtype_and_op():
    x = Tensor([1.0, 2.0, 3.0])
    leaf = repr(x)
    assert "(3,)" in leaf and "float32" in leaf and "leaf" in leaf
    y = x * 2
    text = repr(y)
    assert "Mul" in text and "(3,)" in text and "float32" in text
    big = repr(Tensor.zeros(100, 100))
    assert "(100, 100)" in big and len(big) < 200  # no wall of numbers


def test_device_other_than_cpu_is_a_clear_error():
    assert Tensor([1.0], device="cpu").shape == (1,)
    with pytest.raises(ValueError, match=r"'cuda'.*cpu"):
        Tensor([1.0], device="cuda")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("abc", "str"),
        (b"abc", "bytes"),
        (np.array([object(), object()]), "object"),
        (np.array(["a", "b"]), "<U1"),
        ([[1, 2], [3]], "list"),
        ({"a": 1}, "dict"),
        (np.array([1 + 2j]), "complex"),
    ],
)
def test_bad_data_is_a_clear_type_error(data, words):
    with pytest.raises(TypeError, match=r"^Tensor: ") as info:
        Tensor(data)
    assert words in str(info.value)


def test_no_grad_builds_no_graph_and_restores():
    x = Tensor([1.0, 2.0])
    assert anet.is_grad_enabled()
    with anet.no_grad():
        assert not anet.is_grad_enabled()
        y = (x * 2).relu().sum()
        assert y._ctx is None and not y.requires_grad
    assert anet.is_grad_enabled()
    assert (x * 2)._ctx is not None


def test_no_grad_restores_after_an_exception():
    with pytest.raises(RuntimeError), anet.no_grad():
        raise RuntimeError("boom")
    assert anet.is_grad_enabled()


def test_detach_shares_data_and_leaves_the_graph():
    x = Tensor([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d._ctx is None and not d.requires_grad
    assert d.data is y.data
    np.testing.assert_array_equal(d.data, [3.0, 6.0])


def test_tensor_from_tensor_shares_data():
    x = Tensor([1.0, 2.0])
    assert Tensor(x).data is x.data
    assert Tensor(x, dtype=np.float64).dtype == np.float64


def test_grad_is_a_numpy_array_and_ctx_follows_the_seed():
    x = Tensor([1.0, 2.0])
    w = Tensor([[1.0], [2.0]])
    y = x.dot(w)
    assert y._ctx.arg is anet.ops.Dot
    assert y._ctx.parents == (x, w)
    y.sum().backward()
    assert type(x.grad) is np.ndarray and type(w.grad) is np.ndarray
    assert x._ctx is None
