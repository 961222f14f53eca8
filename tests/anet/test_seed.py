"""The seed article's snippets (/work/shared/seed/anet-birth.zh.txt), typed as a user would, run
unchanged on anet: their own ``register``, their own ``class Dot(Function)``, and the article's
``Function.apply`` body in a class of their own."""

from __future__ import annotations

from functools import partialmethod

import numpy as np
import pytest
from numgrad import numerical_vjp

import anet
from anet import Context, Function, Tensor


# fmt: off
# ---- transcribed from the article, character for character ----------------------------------
def register(name,fxn):
    setattr(Tensor,name,partialmethod(fxn.apply,fxn))

class Dot(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input,weight)
        return input.dot(weight)

    @staticmethod
    def backward(ctx,grad_output):

        input,weight = ctx.saved_tensors

        grad_input = grad_output.dot(weight.T)
        grad_weight = grad_output.T.dot(input).T

        return grad_input,grad_weight

# The article's Function, written by the user as a base class of their own.
class ArticleFunction(Function):
    def apply(self:Tensor,arg,*x):
        ctx = Context(arg,self,*x)
        ret = Tensor(arg.forward(ctx, self.data,*[t.data for t in x]))
        ret._ctx = ctx
        return ret
# ---- end of the transcription -----------------------------------------------------------------
# fmt: on


class ArticleDot(ArticleFunction):
    """The article's Dot, made through the article's own apply."""

    forward = Dot.forward
    backward = Dot.backward


@pytest.fixture(autouse=True)
def user_ops():
    register("mydot", Dot)
    register("articledot", ArticleDot)
    yield
    del Tensor.mydot, Tensor.articledot


X_INIT = np.random.default_rng(0).standard_normal((1, 3))
W_INIT = np.random.default_rng(1).standard_normal((3, 3))
M_INIT = np.array([[0.0, 0.0, -2.0]])


def article_graph(x: Tensor, W: Tensor, dot: str) -> Tensor:
    """The article's figure: dot, relu, logsoftmax, mul, and out_sum, the sum of the components."""
    out = getattr(x, dot)(W)
    outr = out.relu()
    outl = outr.logsoftmax()
    outm = outl.mul(Tensor(M_INIT, requires_grad=False))
    return outm.sum()


@pytest.mark.parametrize("dot", ["mydot", "articledot", "dot"])
def test_article_graph_gives_numerical_grads(dot):
    x, W = Tensor(X_INIT), Tensor(W_INIT)
    out_sum = article_graph(x, W, dot)
    assert out_sum.shape == ()
    out_sum.backward()
    want_x, want_w = numerical_vjp(lambda a, b: article_graph(a, b, dot), [X_INIT, W_INIT], 1.0)
    np.testing.assert_allclose(x.grad, want_x, atol=1e-7)
    np.testing.assert_allclose(W.grad, want_w, atol=1e-7)


@pytest.mark.parametrize("dot", ["mydot", "articledot"])
def test_user_dot_builds_the_seed_context(dot):
    x, W = Tensor(X_INIT), Tensor(W_INIT)
    y = getattr(x, dot)(W)
    assert isinstance(y, Tensor)
    assert type(y.data) is np.ndarray and y.grad is None
    assert y._ctx.arg in (Dot, ArticleDot)
    assert y._ctx.parents == (x, W)
    saved_input, saved_weight = y._ctx.saved_tensors
    assert saved_input is x.data and saved_weight is W.data
    np.testing.assert_allclose(y.data, X_INIT @ W_INIT)


def test_user_dot_used_twice_accumulates():
    x, W = Tensor(X_INIT), Tensor(W_INIT)
    (x.mydot(W) + x.articledot(W)).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.ones((1, 3)) @ W_INIT.T)
    np.testing.assert_allclose(W.grad, 2 * X_INIT.T @ np.ones((1, 3)))


def test_user_registration_leaves_the_builtin_dot_alone():
    assert Tensor(X_INIT).dot(Tensor(W_INIT))._ctx.arg is anet.ops.Dot
    assert Tensor(X_INIT).mydot(Tensor(W_INIT)).op == "Dot"
