"""Every built-in op: a Function with its forward and backward side by side, declared by @op
(its Tensor methods and operators, its trust) just above it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from anet.tensor import _OWN_ATTRIBUTES, Function, OpError, Tensor, _binary, _const, _shape

# The reductions themselves: ``a.sum(...)`` and ``np.sum(a, ...)`` reach these through a layer of
# Python, which on the small arrays of a learner's graph costs more than the sum.
_sum, _max = np.add.reduce, np.maximum.reduce


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes numpy broadcast, giving it ``shape`` again."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return _sum(grad, axis=axes, keepdims=True).reshape(shape)


def _expand(grad: np.ndarray, shape: tuple[int, ...], axis: Any, keepdim: bool) -> np.ndarray:
    """The grad of a reduction, put back in the shape of its input (reduced axes restored)."""
    if not shape:  # a 0-d input: reducing it over axis 0 (or -1) changes nothing
        grad = np.reshape(grad, ())
    elif axis is not None and not keepdim:
        grad = np.expand_dims(grad, axis)
    elif axis is None and not keepdim:
        grad = np.reshape(grad, (1,) * len(shape))
    return grad


# ---- declaring an op -----------------------------------------------------------------------
# Every built-in op is declared by @op, just above its class: the Tensor methods and operators
# that apply it, and its trust (``trusted = True``: anet.autograd runs its backward without the
# read-only lock, the fingerprints and the grad un-aliasing a user's Function gets). Trust is the
# class's own attribute, never inherited (see Function.__init_subclass__) and never guessed from
# the module a class lives in. Users attach their ops with register(), as in the seed.
#
# register() attaches a functools.partialmethod; binding one runs Python code on every call
# (about a microsecond), so @op attaches plain functions with the same meaning: ``x.dot(w)`` is
# ``Function.apply(x, Dot, w)`` either way, and ``x * y`` calls apply directly, its Python numbers
# made cached constants (tensor._const).

_UNARY_OPERATORS = frozenset({"__neg__", "__pos__", "__abs__", "__invert__"})


def op(
    *names: str,
    options: tuple[str, ...] = (),
    methods: dict[str, Callable[..., Tensor]] | None = None,
    operators: tuple[str, ...] = (),
) -> Callable[[type[Function]], type[Function]]:
    """Declare the class below as a built-in op: trusted, applied by ``Tensor.<name>`` for each
    of ``names`` (its ``options`` may be given by position: ``x.sum(1)``), by the hand-written
    ``methods`` (name: function) and by the special methods ``operators`` (``"__neg__"``: a
    unary one; ``"__radd__"`` beside ``"__add__"``: the reflected one)."""

    def declare(fxn: type[Function]) -> type[Function]:
        if not (isinstance(fxn, type) and issubclass(fxn, Function) and fxn is not Function):
            raise TypeError(f"@op declares a subclass of Function, not {fxn!r:.80}")
        fxn.trusted = True
        attached = {
            name: _options_method(name, fxn, options) if options else _method(name, fxn)
            for name in names
        }
        attached.update(methods or {})
        for name in operators:  # __radd__ is reflected when __add__ is declared with it
            reflected = name.startswith("__r") and f"__{name[3:]}" in operators
            attached[name] = _operator(name, fxn, reflected)
        for name, method in attached.items():
            if name in _OWN_ATTRIBUTES:  # (as register() refuses them)
                raise ValueError(f"op {fxn.__name__}: {name!r} is one of Tensor's own attributes")
            setattr(Tensor, name, method)
        return fxn

    return declare


def _method(name: str, fxn: type[Function]) -> Callable[..., Tensor]:
    """``x.<name>(*operands, **options)``: the common calls made without unpacking."""
    apply = Function.apply

    def method(self: Tensor, *x: Any, **kwargs: Any) -> Tensor:
        if kwargs:
            return apply(self, fxn, *x, **kwargs)
        if not x:  # the common cases, called without unpacking: x.relu(), x.dot(w)
            return apply(self, fxn)
        if len(x) == 1:
            other = x[0]
            if type(other) is not Tensor:
                other = _const(other, self)
            return _binary(self, fxn, other)
        return apply(self, fxn, *x)

    method.__name__ = name
    method.__doc__ = f"Apply {fxn.__name__}: {(fxn.__doc__ or '').strip()}".rstrip(": ")
    return method


def _options_method(
    name: str, fxn: type[Function], options: tuple[str, ...]
) -> Callable[..., Tensor]:
    """``x.<name>(*options, **options)``: options also by position, as PyTorch (``x.sum(1)``)."""
    apply = Function.apply

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if len(args) > len(options):
            raise TypeError(
                f"{name}() takes at most {len(options)} options by position "
                f"({', '.join(options)}), got {len(args)}"
            )
        for option, value in zip(options, args):
            if option in kwargs:
                raise TypeError(f"{name}() got {option!r} twice")
            kwargs[option] = value
        return apply(self, fxn, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Apply {fxn.__name__} (options: {', '.join(options)})."
    return method


def _operator(name: str, fxn: type[Function], reflected: bool) -> Callable[..., Tensor]:
    """``x * y`` (``__mul__``), ``2 * x`` (``__rmul__``), ``-x`` (``__neg__``): operators are the
    hot path, they call ``Function.apply`` directly."""
    apply = Function.apply
    if name in _UNARY_OPERATORS:

        def method(self: Tensor) -> Tensor:
            return apply(self, fxn)
    elif reflected:

        def method(self: Tensor, other: Any) -> Tensor:
            return _binary(_const(other, self), fxn, self)
    else:

        def method(self: Tensor, other: Any) -> Tensor:
            if type(other) is not Tensor:
                other = _const(other, self)
            return _binary(self, fxn, other)

    method.__name__ = name
    return method


# ---- binary, elementwise (broadcasting) ---------------------------------------------------


@op("add", operators=("__add__", "__radd__"))
class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.parents
        shape = grad_output.shape  # (unbroadcast only where numpy broadcast: it is hot)
        gx = gy = None
        if x.requires_grad:
            xs = x.data.shape
            gx = grad_output if xs == shape else unbroadcast(grad_output, xs)
        if y.requires_grad:
            ys = y.data.shape
            gy = grad_output if ys == shape else unbroadcast(grad_output, ys)
        return gx, gy


@op("sub", operators=("__sub__", "__rsub__"))
class Sub(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.parents
        return (
            unbroadcast(grad_output, x.shape) if x.requires_grad else None,
            unbroadcast(-grad_output, y.shape) if y.requires_grad else None,
        )


@op("mul", operators=("__mul__", "__rmul__"))
class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        px, py = ctx.parents
        shape = grad_output.shape  # (unbroadcast only where numpy broadcast: it is hot)
        gx = gy = None
        if px.requires_grad:
            gx = grad_output * y
            if x.shape != shape:
                gx = unbroadcast(gx, x.shape)
        if py.requires_grad:
            gy = grad_output * x
            if y.shape != shape:
                gy = unbroadcast(gy, y.shape)
        return gx, gy


@op("div", operators=("__truediv__", "__rtruediv__"))
class Div(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        px, py = ctx.parents
        return (
            unbroadcast(grad_output / y, x.shape) if px.requires_grad else None,
            unbroadcast(-grad_output * x / (y * y), y.shape) if py.requires_grad else None,
        )


@op("pow", operators=("__pow__", "__rpow__"))
class Pow(Function):
    @staticmethod
    def forward(ctx, x, y):
        out = x**y
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, y, out = ctx.saved_tensors
        px, py = ctx.parents
        gx = gy = None
        # At x = 0 the formulas give 0 * inf; PyTorch (and the limit) take 0 there.
        with np.errstate(divide="ignore", invalid="ignore"):
            if px.requires_grad:
                gx = unbroadcast(grad_output * np.where(y == 0, 0, y * x ** (y - 1)), x.shape)
            if py.requires_grad:
                dy = np.where((x == 0) & (y >= 0), 0, out * np.log(x))
                gy = unbroadcast(grad_output * dy, y.shape)
        return gx, gy


# ---- unary, elementwise --------------------------------------------------------------------


@op("neg", operators=("__neg__",))
class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


@op("sqrt")
class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output / (2 * out)


@op("exp")
class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


@op("log")
class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x


@op("abs")
class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * np.sign(x)


@op("relu")
class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)


@op("leakyrelu", options=("neg_slope",))
class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, neg_slope=0.01):
        ctx.save_for_backward(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float64  # an int slope would be 0
        return np.where(x > 0, x, x * np.asarray(neg_slope, dtype=dtype))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        slope = np.asarray(ctx.kwargs.get("neg_slope", 0.01), dtype=grad_output.dtype)
        return np.where(x > 0, grad_output, grad_output * slope)


@op("sigmoid")
class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            out = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)


@op("tanh")
class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (1 - out * out)


# ---- matrix product ------------------------------------------------------------------------


@op("dot", "matmul", operators=("__matmul__", "__rmatmul__"))
class Dot(Function):
    """``input @ weight``: 2-D as in the seed, also 1-D and batched (numpy matmul rules)."""

    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input @ weight

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        if input.ndim == 2 and weight.ndim == 2:
            # A grad nobody needs (the input batch, usually) is a whole matmul saved.
            px, pw = ctx.parents
            return (
                grad_output @ weight.T if px.requires_grad else None,
                input.T @ grad_output if pw.requires_grad else None,
            )
        if input.ndim == 1 and weight.ndim == 1:
            return grad_output * weight, grad_output * input
        x = input[None] if input.ndim == 1 else input
        w = weight[:, None] if weight.ndim == 1 else weight
        g = grad_output
        if input.ndim == 1:
            g = np.expand_dims(g, -2)
        if weight.ndim == 1:
            g = np.expand_dims(g, -1)
        gx = unbroadcast(g @ np.swapaxes(w, -1, -2), x.shape).reshape(input.shape)
        gw = unbroadcast(np.swapaxes(x, -1, -2) @ g, w.shape).reshape(weight.shape)
        return gx, gw


# ---- reductions ----------------------------------------------------------------------------


@op("sum", options=("axis", "keepdim"))
class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        return _sum(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.parents
        g = _expand(grad_output, x.shape, ctx.kwargs.get("axis"), ctx.kwargs.get("keepdim", False))
        grad = np.empty(x.shape, dtype=grad_output.dtype)
        grad[...] = g  # a writable array, filled by broadcasting
        return grad


@op("mean", options=("axis", "keepdim"))
class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        # numpy's dtype: a float keeps its own, a mean of integers or booleans is float64
        return np.mean(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.parents
        g = _expand(grad_output, x.shape, ctx.kwargs.get("axis"), ctx.kwargs.get("keepdim", False))
        n = max(x.size // max(grad_output.size, 1), 1)
        return np.broadcast_to(g / np.asarray(n, dtype=g.dtype), x.shape).copy()


@op("max", options=("axis", "keepdim"))
class Max(Function):
    """Maximum over ``axis``; tied maxima share the gradient evenly. A NaN is the maximum
    (numpy's and PyTorch's): the gradient goes to the NaN entries only."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        out = np.max(x, axis=axis, keepdims=True)
        ctx.save_for_backward(x, out)
        return (
            out
            if keepdim
            else (np.squeeze(out, axis=axis) if axis is not None else out.reshape(()))
        )

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        axis, keepdim = ctx.kwargs.get("axis"), ctx.kwargs.get("keepdim", False)
        mask = x == out
        if np.isnan(out).any():  # a NaN maximum: its grad goes to the NaN entries
            mask |= np.isnan(x) & np.isnan(out)
        g = _expand(grad_output, x.shape, axis, keepdim)
        count = mask.sum(axis=axis, keepdims=True) if x.ndim else mask
        return mask * (g / count.astype(g.dtype))


# ---- softmax (last axis) -------------------------------------------------------------------


@op("logsoftmax")
class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x):
        shifted = x - _max(x, axis=-1, keepdims=True)
        out = shifted - np.log(_sum(np.exp(shifted), axis=-1, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output - np.exp(out) * _sum(grad_output, axis=-1, keepdims=True)


@op("softmax")
class Softmax(Function):
    @staticmethod
    def forward(ctx, x):
        e = np.exp(x - _max(x, axis=-1, keepdims=True))
        out = e / _sum(e, axis=-1, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return out * (grad_output - _sum(grad_output * out, axis=-1, keepdims=True))


# ---- shape ---------------------------------------------------------------------------------


def _reshape(self: Tensor, *shape: Any, **kwargs: Any) -> Tensor:
    """``x.reshape(2, 3)``, ``x.reshape((2, 3))`` or ``x.reshape(shape=(2, 3))``."""
    if shape:
        kwargs["shape"] = _shape(shape)
    return Function.apply(self, Reshape, **kwargs)


def _flatten(self: Tensor, start_dim: int = 0) -> Tensor:
    """Merge the axes from ``start_dim`` on into one (PyTorch's flatten)."""
    return self.reshape(shape=(*self.shape[:start_dim], -1))


@op(methods={"reshape": _reshape, "view": _reshape, "flatten": _flatten})
class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.parents[0].shape)


def _transpose(self: Tensor, *axes: Any, **kwargs: Any) -> Tensor:
    """``transpose(order=…)`` (first tinygrad), ``transpose(a, b)`` swapping two axes (PyTorch),
    a full permutation ``transpose(2, 0, 1)`` (numpy), or no argument: all axes reversed."""
    if axes:
        order = _shape(axes)
        if len(order) == 2:
            perm = list(range(self.ndim))
            a, b = order
            try:
                perm[a], perm[b] = perm[b], perm[a]
            except IndexError:
                raise OpError(
                    f"transpose: cannot swap axes {a} and {b} of a tensor of shape {self.shape}"
                ) from None
            order = tuple(perm)
        kwargs["order"] = order
    elif "order" not in kwargs:
        kwargs["order"] = tuple(range(self.ndim))[::-1]
    return Function.apply(self, Transpose, **kwargs)


def _permute(self: Tensor, *order: Any) -> Tensor:
    """The axes in a new order, ``permute(2, 0, 1)`` or ``permute((2, 0, 1))`` (PyTorch)."""
    return Function.apply(self, Transpose, order=_shape(order))


@op(methods={"transpose": _transpose, "permute": _permute})
class Transpose(Function):
    @staticmethod
    def forward(ctx, x, order):
        return np.transpose(x, order)

    @staticmethod
    def backward(ctx, grad_output):
        # Negative axes (order=(-1, 0, 1)) made positive first, or argsort inverts the wrong way.
        return np.transpose(
            grad_output, np.argsort(np.asarray(ctx.kwargs["order"]) % grad_output.ndim)
        )


@op("getitem")
class GetItem(Function):
    """``x[index]``: basic slicing, integer and boolean arrays; repeated indices accumulate."""

    @staticmethod
    def forward(ctx, x, index):
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.parents
        index = ctx.kwargs["index"]
        grad = np.zeros(x.shape, dtype=grad_output.dtype)
        if _is_basic_index(index):
            grad[index] = grad_output
        else:
            np.add.at(grad, index, grad_output)
        return grad


def _is_basic_index(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


@op("pad2d", options=("padding",))
class Pad2d(Function):
    """Zero padding of the last two axes, ``padding=(left, right, top, bottom)`` as in F.pad."""

    @staticmethod
    def forward(ctx, x, padding):
        left, right, top, bottom = padding
        width = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(x, width)

    @staticmethod
    def backward(ctx, grad_output):
        left, right, top, bottom = ctx.kwargs["padding"]
        h, w = grad_output.shape[-2:]
        return grad_output[..., top : h - bottom, left : w - right]


# ---- convolution and pooling (NCHW, PyTorch semantics) -------------------------------------


def _pair(v: Any, name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in pair):
        raise OpError(f"{name} must be a positive int or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _conv2d(self: Tensor, weight: Tensor, stride: Any = 1, groups: int = 1) -> Tensor:
    """Cross-correlation with ``weight (out, in/groups, kh, kw)``; see Conv2d."""
    return Function.apply(self, Conv2d, weight, stride=stride, groups=groups)


@op(methods={"conv2d": _conv2d})
class Conv2d(Function):
    """Cross-correlation of ``x (N, C, H, W)`` with ``w (O, C/groups, kh, kw)``; no padding."""

    @staticmethod
    def forward(ctx, x, w, stride=1, groups=1):
        sh, sw = _pair(stride, "conv2d stride")
        if x.ndim != 4 or w.ndim != 4:
            raise OpError(
                f"conv2d: input {x.shape} must be (N, C, H, W) and weight {w.shape} must be "
                "(out, in/groups, kh, kw)"
            )
        _, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        if c != cg * groups or o % groups:
            raise OpError(
                f"conv2d: input has {c} channels and weight {w.shape} with groups={groups}; "
                f"need channels == {cg} * groups and out channels divisible by groups"
            )
        if h < kh or wd < kw:
            raise OpError(f"conv2d: kernel {(kh, kw)} is larger than the input {(h, wd)}")
        windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
        n, _, ho, wo = windows.shape[:4]
        # im2col: one row per output pixel holding its (C, kh, kw) window, made once and saved;
        # the convolution is then one matrix product per group.
        cols = np.ascontiguousarray(windows.transpose(0, 2, 3, 1, 4, 5))
        cols = cols.reshape(n * ho * wo, c * kh * kw)
        og, k = o // groups, cg * kh * kw
        out = np.empty((n * ho * wo, o), dtype=np.result_type(x, w))
        for g in range(groups):
            out[:, g * og : (g + 1) * og] = cols[:, g * k : (g + 1) * k] @ (
                w[g * og : (g + 1) * og].reshape(og, k).T
            )
        ctx.save_for_backward(cols, w)
        return np.ascontiguousarray(out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2))

    @staticmethod
    def backward(ctx, grad_output):
        cols, w = ctx.saved_tensors
        px, pw = ctx.parents
        groups = ctx.kwargs.get("groups", 1)
        sh, sw = _pair(ctx.kwargs.get("stride", 1), "conv2d stride")
        n, c = px.shape[:2]
        o, cg, kh, kw = w.shape
        og, k = o // groups, cg * kh * kw
        ho, wo = grad_output.shape[2:]
        g2 = grad_output.transpose(0, 2, 3, 1).reshape(n * ho * wo, o)
        gx = gw = None
        if pw.requires_grad:
            gw = np.empty(w.shape, dtype=grad_output.dtype)
            for g in range(groups):
                part = g2[:, g * og : (g + 1) * og].T @ cols[:, g * k : (g + 1) * k]
                gw[g * og : (g + 1) * og] = part.reshape(og, cg, kh, kw)
        if px.requires_grad:
            dcols = np.empty(cols.shape, dtype=grad_output.dtype)
            for g in range(groups):
                dcols[:, g * k : (g + 1) * k] = g2[:, g * og : (g + 1) * og] @ (
                    w[g * og : (g + 1) * og].reshape(og, k)
                )
            dcols = dcols.reshape(n, ho, wo, c, kh, kw)
            # col2im: scatter back one kernel offset at a time (kh*kw steps, each over all pixels)
            gx = np.zeros(px.shape, dtype=grad_output.dtype)
            for i in range(kh):
                for j in range(kw):
                    gx[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += dcols[
                        :, :, :, :, i, j
                    ].transpose(0, 3, 1, 2)
        return gx, gw


def _pool_windows(x: np.ndarray, kernel_size: Any, name: str) -> tuple[np.ndarray, int, int]:
    """``x`` cropped to whole windows and viewed as (..., Ho, Wo, kh*kw)."""
    kh, kw = _pair(kernel_size, f"{name} kernel_size")
    h, w = x.shape[-2:]
    ho, wo = h // kh, w // kw
    if ho == 0 or wo == 0:
        raise OpError(f"{name}: kernel {(kh, kw)} is larger than the input {(h, w)}")
    lead = x.shape[:-2]
    cropped = x[..., : ho * kh, : wo * kw].reshape(*lead, ho, kh, wo, kw)
    windows = np.moveaxis(cropped, -3, -2).reshape(*lead, ho, wo, kh * kw)
    return windows, kh, kw


def _unpool(grad_windows: np.ndarray, shape: tuple[int, ...], kh: int, kw: int) -> np.ndarray:
    """Put (..., Ho, Wo, kh*kw) window grads back in an array of ``shape`` (zeros where cropped)."""
    *lead, ho, wo, _ = grad_windows.shape
    blocks = np.moveaxis(grad_windows.reshape(*lead, ho, wo, kh, kw), -2, -3)
    grad = np.zeros(shape, dtype=grad_windows.dtype)
    grad[..., : ho * kh, : wo * kw] = blocks.reshape(*lead, ho * kh, wo * kw)
    return grad


@op("max_pool2d", options=("kernel_size",))
class MaxPool2d(Function):
    """Max over ``kernel_size`` windows, stride = kernel; the first maximum gets the grad."""

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2)):
        windows, _, _ = _pool_windows(x, kernel_size, "max_pool2d")
        idx = windows.argmax(axis=-1)
        ctx.save_for_backward(idx)
        return np.take_along_axis(windows, idx[..., None], axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, grad_output):
        (idx,) = ctx.saved_tensors
        x = ctx.parents[0]
        kh, kw = _pair(ctx.kwargs.get("kernel_size", (2, 2)), "max_pool2d kernel_size")
        grad_windows = np.zeros((*idx.shape, kh * kw), dtype=grad_output.dtype)
        np.put_along_axis(grad_windows, idx[..., None], grad_output[..., None], axis=-1)
        return _unpool(grad_windows, x.shape, kh, kw)


@op("avg_pool2d", options=("kernel_size",))
class AvgPool2d(Function):
    """Mean over ``kernel_size`` windows, stride = kernel."""

    @staticmethod
    def forward(ctx, x, kernel_size=(2, 2)):
        windows, _, _ = _pool_windows(x, kernel_size, "avg_pool2d")
        # as numpy's mean: integers and booleans average in float64, not truncated
        return windows.mean(axis=-1, dtype=x.dtype if x.dtype.kind == "f" else np.float64)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.parents[0]
        kh, kw = _pair(ctx.kwargs.get("kernel_size", (2, 2)), "avg_pool2d kernel_size")
        share = grad_output[..., None] / np.asarray(kh * kw, dtype=grad_output.dtype)
        return _unpool(np.broadcast_to(share, (*grad_output.shape, kh * kw)), x.shape, kh, kw)
