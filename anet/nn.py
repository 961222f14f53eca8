"""Layers (Linear, BatchNorm2D), losses and parameter listing, built from registered anet ops.

Everything here is composed of ops, so backward (and the debugger) steps through each piece.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np

from anet.tensor import Tensor

# Objects get_parameters does not walk into even though they have a __dict__.
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType)


def get_parameters(obj: Any) -> list[Tensor]:
    """Every Tensor that requires grad reachable from ``obj``, each once, in attribute order.

    Walks Tensors, lists, tuples, dict values and the attributes of objects (like the first
    tinygrad's ``get_parameters``). Tensors that do not require grad (BatchNorm2D's running
    statistics, constants) are buffers, not parameters, and are left out.
    """
    params: list[Tensor] = []
    seen: set[int] = set()
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, Tensor):
            if o.requires_grad:
                params.append(o)
        elif isinstance(o, (list, tuple)):
            stack.extend(reversed(o))
        elif isinstance(o, dict):
            stack.extend(reversed(o.values()))
        elif hasattr(o, "__dict__") and not isinstance(o, _OPAQUE):
            stack.extend(reversed(vars(o).values()))
    return params


def named_parameters(obj: Any, prefix: str = "") -> list[tuple[str, Tensor]]:
    """``get_parameters(obj)`` with the path to each: ``layers.0.weight`` (attributes by name,
    list and tuple items by index, dict values by key), in the same order, each Tensor once
    (under the first path that reaches it)."""
    params: list[tuple[str, Tensor]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [(prefix, obj)]
    while stack:
        path, o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, Tensor):
            if o.requires_grad:
                params.append((path, o))
            continue
        if isinstance(o, (list, tuple)):
            items: list[tuple[Any, Any]] = list(enumerate(o))
        elif isinstance(o, dict):
            items = list(o.items())
        elif hasattr(o, "__dict__") and not isinstance(o, _OPAQUE):
            items = list(vars(o).items())
        else:
            continue
        stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(items))
    return params


class Module:
    """Base class for models, PyTorch style: define ``forward``; ``model(x)`` calls it."""

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        return self.forward(*args, **kwargs)

    def parameters(self) -> list[Tensor]:
        """The Tensors an optimizer should update (see get_parameters)."""
        return get_parameters(self)

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """``(path, tensor)`` of each parameter: ``[("l1.weight", …), ("l1.bias", …), …]``."""
        return named_parameters(self)


class Linear(Module):
    """``x.dot(weight) + bias`` with ``weight`` of shape (in, out), as in the first tinygrad.

    PyTorch stores the transpose, (out, in): load its weights with ``Tensor(w.T)``. Both are
    initialised as PyTorch does, uniform in ±1/sqrt(in_features), from numpy's global generator.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        bound = 1 / math.sqrt(in_features)
        self.weight = Tensor.uniform(in_features, out_features, low=-bound, high=bound)
        self.bias = Tensor.uniform(out_features, low=-bound, high=bound) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        out = x.dot(self.weight)
        return out if self.bias is None else out + self.bias


class BatchNorm2D(Module):
    """Batch normalisation over (N, H, W) for each channel of an (N, C, H, W) input.

    ``training=True`` normalises with the batch's statistics (biased variance) and, when
    ``track_running_stats`` is also set, updates ``running_mean`` and ``running_var`` (unbiased
    variance) with ``momentum``, as PyTorch's BatchNorm2d does in train mode. ``training=False``
    (the default, as in the first tinygrad) normalises with the running statistics and updates
    nothing: PyTorch's eval mode. (The first tinygrad also updated them in that mode, with the
    biased variance; anet does not.)
    """

    def __init__(
        self,
        sz: int,
        eps: float = 1e-5,
        track_running_stats: bool = False,
        training: bool = False,
        momentum: float = 0.1,
    ) -> None:
        self.eps, self.track_running_stats = eps, track_running_stats
        self.training, self.momentum = training, momentum
        self.weight, self.bias = Tensor.ones(sz), Tensor.zeros(sz)
        self.running_mean = Tensor.zeros(sz, requires_grad=False)
        self.running_var = Tensor.ones(sz, requires_grad=False)
        self.num_batches_tracked = 0

    def forward(self, x: Tensor) -> Tensor:
        c = self.weight.shape[0]
        if x.ndim != 4 or x.shape[1] != c:
            raise ValueError(f"BatchNorm2D({c}): expected input (N, {c}, H, W), got {x.shape}")
        if self.training:
            n = x.size // c
            if n < 2:
                raise ValueError(
                    f"BatchNorm2D: training needs more than 1 value per channel, got {x.shape}"
                )
            mean = x.mean(axis=(0, 2, 3))
            centered = x - mean.reshape(1, c, 1, 1)
            var = (centered * centered).mean(axis=(0, 2, 3))
            if self.track_running_stats:
                self._update_running_stats(mean.data, var.data * (n / (n - 1)))
        else:
            centered = x - self.running_mean.reshape(1, c, 1, 1)
            var = self.running_var
        x_hat = centered / (var + self.eps).sqrt().reshape(1, c, 1, 1)
        return x_hat * self.weight.reshape(1, c, 1, 1) + self.bias.reshape(1, c, 1, 1)

    def _update_running_stats(self, mean: np.ndarray, unbiased_var: np.ndarray) -> None:
        m = self.momentum
        for stat, batch in ((self.running_mean, mean), (self.running_var, unbiased_var)):
            stat.data = ((1 - m) * stat.data + m * batch).astype(stat.dtype, copy=False)
        self.num_batches_tracked += 1


# ---- losses ---------------------------------------------------------------------------------


def nll_loss(logprobs: Tensor, target: Any) -> Tensor:
    """Mean over the batch of ``-logprobs[i, target[i]]``; ``target`` holds class indices."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logprobs.ndim != 2:
        raise ValueError(f"nll_loss: expected logprobs of shape (N, C), got {logprobs.shape}")
    n, classes = logprobs.shape
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"nll_loss: target has shape {t.shape}, expected ({n},) for {n} rows")
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise ValueError(
            f"nll_loss: target has class {t.min() if t.min() < 0 else t.max()}, "
            f"outside 0..{classes - 1}"
        )
    return -logprobs[np.arange(n), t].mean()


def cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """``nll_loss(logits.logsoftmax(), target)``: mean cross-entropy of unnormalised scores."""
    return nll_loss(logits.logsoftmax(), target)


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean of ``(pred - target)**2``; ``target`` must have pred's shape (no silent broadcast)."""
    if not isinstance(target, Tensor):
        target = Tensor(target, requires_grad=False, dtype=pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has {target.shape}")
    diff = pred - target
    return (diff * diff).mean()
