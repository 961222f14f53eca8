"""The floor: a minimal autograd with the seed's own API, as the reference anet's per-op cost is
measured against (benchmarks/run.py, benchmarks/phases.py).

Tensor / Context / Function with static forward and backward, ``Function.apply`` attached to
Tensor, Python numbers made constant leaves (cached per value and dtype), an iterative
topological sort, and every grad checked (an array of its parent's shape and dtype) before it is
added. What it leaves out is what anet adds for its users: ids and names, the debugger's hooks,
no_grad, float16 and integer dtypes, broadcasting, error messages, user Functions' read-only
lock. It is not part of anet; nothing imports it but the benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Tensor:
    __slots__ = ("_ctx", "data", "grad", "requires_grad")

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        self.data = data  # a numpy array: the workloads give nothing else
        self.grad: np.ndarray | None = None
        self._ctx: Context | None = None
        self.requires_grad = requires_grad

    def backward(self) -> None:
        walk(self, topo_order(self))


def topo_order(root: Tensor) -> list[Tensor]:
    """Every node ``root`` depends on, root first, each before its parents (iterative DFS)."""
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
        elif t not in visited:
            visited.add(t)
            stack.append((t, True))
            for p in t._ctx.parents:
                if p._ctx is not None and p not in visited:
                    stack.append((p, False))
    order.reverse()
    return order


def walk(root: Tensor, order: list[Tensor]) -> None:
    """Call each node's backward in ``order``, check every grad, add it into its parent."""
    root.grad = np.ones_like(root.data)
    for t in order:
        ctx = t._ctx
        grads = ctx.arg.backward(ctx, t.grad)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(ctx.parents):
            raise ValueError(f"{ctx.arg.__name__}: wrong number of grads")
        for p, g in zip(ctx.parents, grads):
            if g is None or not p.requires_grad:
                continue
            if type(g) is not np.ndarray or g.shape != p.data.shape or g.dtype != p.data.dtype:
                raise ValueError(f"{ctx.arg.__name__}: a grad does not fit its parent")
            p.grad = g if p.grad is None else p.grad + g


_constants: dict[tuple[float, np.dtype], Tensor] = {}


def _const(value: Any, like: Tensor) -> Tensor:
    key = (value, like.data.dtype)
    t = _constants.get(key)
    if t is None:
        t = _constants[key] = Tensor(np.asarray(value, dtype=like.data.dtype), False)
    return t


class Context:
    __slots__ = ("arg", "parents", "saved_tensors")

    def __init__(self, arg: type[Function], *tensors: Tensor) -> None:
        self.arg = arg
        self.parents = tensors
        self.saved_tensors: list[Any] = []

    def save_for_backward(self, *x: Any) -> None:
        self.saved_tensors.extend(x)


class Function:
    def apply(self: Tensor, arg: type[Function], *x: Any) -> Tensor:
        x = [t if type(t) is Tensor else _const(t, self) for t in x]
        ctx = Context(arg, self, *x)
        requires_grad = self.requires_grad
        for t in x:
            requires_grad = requires_grad or t.requires_grad
        ret = Tensor(arg.forward(ctx, self.data, *[t.data for t in x]), requires_grad)
        if requires_grad:
            ret._ctx = ctx
        return ret


def register(name: str, fxn: type[Function]) -> None:
    def method(self: Tensor, *x: Any) -> Tensor:
        return Function.apply(self, fxn, *x)

    setattr(Tensor, name, method)


class Add(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return grad_output, grad_output


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = ctx.saved_tensors
        return grad_output * y, grad_output * x


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.asarray(x.sum())

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return np.broadcast_to(grad_output, x.shape).copy()


for _name, _fxn in [("add", Add), ("mul", Mul), ("sum", Sum)]:
    register(_name, _fxn)
Tensor.__add__ = lambda self, other: Function.apply(self, Add, other)  # type: ignore[attr-defined]
Tensor.__mul__ = lambda self, other: Function.apply(self, Mul, other)  # type: ignore[attr-defined]


def chain(n: int, width: int = 16) -> None:
    """benchmarks/run.py's chain workload on the floor."""
    x = Tensor(np.ones(width, dtype=np.float32))
    y = x
    for i in range(n):
        y = y * 1.001 if i % 2 else y + 0.5
    y.sum().backward()
