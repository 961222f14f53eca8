"""Optimizers (SGD, Adam, RMSprop) with the first tinygrad's signatures and PyTorch's numerics.

``step()`` updates each parameter's ``.data`` in place (other references to the array see the
change) and keeps its dtype; parameters whose ``.grad`` is None are skipped, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from anet.tensor import Tensor


class Optimizer:
    """Holds ``params`` (the Tensors that require grad) and clears their grads."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: params must be Tensors, got {p!r:.60}")
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters that require grad")

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def _state(self) -> list[np.ndarray]:
        """One zero buffer per parameter, in the parameter's dtype."""
        return [np.zeros_like(p.data) for p in self.params]


class SGD(Optimizer):
    """``buf = momentum * buf + g; p -= lr * buf`` (plain ``p -= lr * g`` when momentum is 0)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001, momentum: float = 0) -> None:
        super().__init__(params)
        self.lr, self.momentum = lr, momentum
        self.buf = self._state() if momentum else []

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.momentum:
                self.buf[i] *= self.momentum
                self.buf[i] += g
                g = self.buf[i]
            p.data -= self.lr * g


class Adam(Optimizer):
    """PyTorch's Adam: ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.

    ``t`` counts the steps each parameter has taken (one without a grad does not count).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.001,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m, self.v = self._state(), self._state()
        self.t = [0] * len(self.params)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g, m, v = p.grad, self.m[i], self.v[i]
            self.t[i] += 1
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            step_size = self.lr / (1 - self.b1 ** self.t[i])
            denom = np.sqrt(v) / np.sqrt(1 - self.b2 ** self.t[i]) + self.eps
            p.data -= step_size * m / denom


class RMSprop(Optimizer):
    """``v = decay * v + (1 - decay) * g**2; p -= lr * g / (sqrt(v) + eps)`` (PyTorch's formula).

    ``alpha`` is PyTorch's name for ``decay``; the defaults are the first tinygrad's.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.001,
        decay: float = 0.9,
        eps: float = 1e-8,
        *,
        alpha: float | None = None,
    ) -> None:
        super().__init__(params)
        if alpha is not None and decay != 0.9:
            raise TypeError("RMSprop: give decay or alpha (its PyTorch name), not both")
        self.lr, self.decay, self.eps = lr, decay if alpha is None else alpha, eps
        self.v = self._state()

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g, v = p.grad, self.v[i]
            v *= self.decay
            v += (1 - self.decay) * g * g
            p.data -= self.lr * g / (np.sqrt(v) + self.eps)
