"""anet: a small numpy autograd library in the design of the first tinygrad, made correct."""

from anet import gradcheck, nn, ops, optim
from anet.autograd import GradientError, InPlaceError
from anet.errors import AnetError
from anet.ops import unbroadcast
from anet.tensor import Context, Function, OpError, Tensor, is_grad_enabled, no_grad, register

__version__ = "0.1.0"

__all__ = [
    "AnetError",
    "Context",
    "Function",
    "GradientError",
    "InPlaceError",
    "OpError",
    "Tensor",
    "gradcheck",
    "is_grad_enabled",
    "nn",
    "no_grad",
    "ops",
    "optim",
    "register",
    "unbroadcast",
]
