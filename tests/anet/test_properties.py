"""Property tests: random shapes and random compositions of ops, backward against numerical
gradients in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numgrad import numerical_vjp

import anet
from anet import Tensor

# Each op keeps its inputs where it is smooth: log, sqrt, div and pow see t*t + 0.5.
UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "neg": lambda t: -t,
    "exp": lambda t: (t * 0.5).exp(),
    "log": lambda t: (t * t + 0.5).log(),
    "sqrt": lambda t: (t * t + 0.5).sqrt(),
    "abs": lambda t: t.abs(),
    "relu": lambda t: t.relu(),
    "leakyrelu": lambda t: t.leakyrelu(0.1),
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "x**2": lambda t: t**2,
    "2-x": lambda t: 2 - t,
    "1/x": lambda t: 1 / (t * t + 0.5),
}
BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "pow": lambda a, b: (a * a + 0.5) ** b.tanh(),
}
Step = Callable[[Tensor, list[Tensor]], Tensor]


def axes(draw: st.DrawFn, ndim: int) -> int | tuple[int, ...] | None:
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


def operand_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape``: fewer leading axes, some axes 1, or one more axis."""
    kind = draw(st.sampled_from(["same", "drop", "ones", "extra"]))
    if kind == "drop" and shape:
        return shape[draw(st.integers(1, len(shape))) :]
    if kind == "ones":
        return tuple(1 if draw(st.booleans()) else n for n in shape)
    if kind == "extra" and len(shape) < 4:
        return (draw(st.integers(1, 3)), *(1 if draw(st.booleans()) else n for n in shape))
    return shape


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[tuple[int, ...]], list[Step], list[str]]:
    """Leaf shapes and steps: each step maps (current tensor, leaves) to the next tensor."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    leaves = [shape]
    steps: list[Step] = []
    names: list[str] = []

    def add(name: str, step: Step) -> None:
        steps.append(step)
        names.append(name)

    for _ in range(draw(st.integers(1, 5))):
        ndim, n_leaves = len(shape), len(leaves)
        kinds = ["unary", "binary", "scalar", "shared"]
        if ndim >= 1:
            kinds += ["reduce", "softmax", "dot", "getitem", "reshape"]
        if ndim >= 2:
            kinds += ["permute", "pad2d", "pool"]
        kind = draw(st.sampled_from(kinds))
        if kind == "unary":
            name = draw(st.sampled_from(sorted(UNARY)))
            add(name, lambda t, ls, f=UNARY[name]: f(t))
        elif kind == "scalar":
            c = draw(st.floats(0.5, 2.0))
            add(f"*{c}", lambda t, ls, c=c: t * c)
        elif kind in ("binary", "shared"):
            name = draw(st.sampled_from(sorted(BINARY)))
            if kind == "shared" and shape == leaves[0]:
                index = 0  # reuse the first leaf: a shared node
            else:
                leaves.append(operand_shape(draw, shape))
                index = len(leaves) - 1
            flip = draw(st.booleans())
            f = BINARY[name]
            if flip:
                add(f"leaf{index} {name} t", lambda t, ls, f=f, i=index: f(ls[i], t))
            else:
                add(f"t {name} leaf{index}", lambda t, ls, f=f, i=index: f(t, ls[i]))
        elif kind == "reduce":
            op = draw(st.sampled_from(["sum", "mean", "max"]))
            axis, keepdim = axes(draw, ndim), draw(st.booleans())
            add(
                f"{op}({axis}, {keepdim})",
                lambda t, ls, o=op, a=axis, k=keepdim: getattr(t, o)(a, k),
            )
        elif kind == "softmax":
            op = draw(st.sampled_from(["softmax", "logsoftmax"]))
            add(op, lambda t, ls, o=op: getattr(t, o)())
        elif kind == "dot":
            w = (shape[-1], draw(st.integers(1, 3))) if draw(st.booleans()) else (shape[-1],)
            leaves.append(w)
            add(f"@ leaf{n_leaves}", lambda t, ls, i=n_leaves: t @ ls[i])
        elif kind == "getitem":
            if draw(st.booleans()):
                add("[::-1]", lambda t, ls: t[::-1])
            else:
                idx = np.array(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4)))
                add(f"[{idx.tolist()}]", lambda t, ls, idx=idx: t[idx])
        elif kind == "reshape":
            if draw(st.booleans()):
                add("flatten", lambda t, ls: t.flatten())
            else:
                add("reshape reversed", lambda t, ls: t.reshape(t.shape[::-1]))
        elif kind == "permute":
            order = tuple(draw(st.permutations(range(ndim))))
            add(f"permute{order}", lambda t, ls, o=order: t.permute(o))
        elif kind == "pad2d":
            pad = tuple(draw(st.lists(st.integers(0, 1), min_size=4, max_size=4)))
            add(f"pad2d{pad}", lambda t, ls, p=pad: t.pad2d(p))
        else:
            op = draw(st.sampled_from(["max_pool2d", "avg_pool2d"]))
            k = (draw(st.integers(1, shape[-2])), draw(st.integers(1, shape[-1])))
            add(f"{op}{k}", lambda t, ls, o=op, k=k: getattr(t, o)(kernel_size=k))
        with anet.no_grad():
            shape = run(steps, [Tensor(np.ones(s)) for s in leaves]).shape
            if np.prod(shape) > 64:  # keep the numerical gradient cheap
                steps.pop()
                names.pop()
                del leaves[n_leaves:]
                shape = run(steps, [Tensor(np.ones(s)) for s in leaves]).shape
    return leaves, steps, names


def run(steps: list[Step], leaves: list[Tensor]) -> Tensor:
    t = leaves[0]
    for step in steps:
        t = step(t, leaves)
    return t


@given(programs(), st.integers(0, 2**32 - 1))
def test_random_compositions_match_numerical_gradients(program, seed):
    shapes, steps, names = program
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    leaves = [Tensor(a.copy()) for a in arrays]
    out = run(steps, leaves)
    assert out.dtype == np.float64
    grad_output = rng.standard_normal(out.shape)
    out.backward(grad_output)
    expected = numerical_vjp(lambda *ls: run(steps, list(ls)), arrays, grad_output)
    scale = 1 + float(np.abs(out.data).max())
    for i, (leaf, want) in enumerate(zip(leaves, expected)):
        got = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad
        np.testing.assert_allclose(
            got, want, rtol=1e-4, atol=1e-5 * scale, err_msg=f"leaf {i} of {' -> '.join(names)}"
        )
