# %% [markdown]
# # Lesson 1: Tensor, Context, Function
#
# anet began as a short article, "Write a neural network yourself: the birth of Anet".
# It builds an autograd library from three classes:
#
# - a **Tensor** holds `data` (a numpy array), `grad` (a numpy array, not a Tensor)
#   and `_ctx`, the Context of the op that made it;
# - a **Context** remembers one op application: `arg` (the Function class),
#   `parents` (the Tensors it was applied to) and `saved_tensors`;
# - a **Function** has a static `forward` and `backward`; `register` turns it into
#   a Tensor method.
#
# Each step shows some text, then runs one cell of code. Read the output before you go on.

# %%
import numpy as np

from anet import Function, Tensor, register

x = Tensor([[1.0, 2.0, 3.0]])
print("data:", x.data, x.data.dtype)
print("grad:", x.grad)
print("ctx: ", x._ctx)

# %% [markdown]
# `x` is a leaf: nobody made it, so its `_ctx` is None and it has no grad yet.
#
# Now apply an op. anet already has `dot`. Look at the Context on the result:
# `arg` is the class `Dot`, and `parents` are `x` and `w`, the two Tensors of `y = x·w`.

# %%
w = Tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
y = x.dot(w)
print("y:", y.data)
print("arg:", y._ctx.arg.__name__)
print("parents are x and w:", y._ctx.parents[0] is x, y._ctx.parents[1] is w)
print("saved:", [a.shape for a in y._ctx.saved_tensors])

# %% [markdown]
# ## Dot, written by hand
#
# Here is the article's `Dot`, word for word. `forward` gets numpy arrays and saves
# what `backward` will need; `backward` gets `grad_output` (dL/dy) and returns one
# grad per parent: dL/dx and dL/dw.
#
# `dot` is taken by anet's own Dot, so register yours under a new name: `mydot`.


# %%
class MyDot(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input.dot(weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_output.dot(weight.T)
        grad_weight = grad_output.T.dot(input).T
        return grad_input, grad_weight


register("mydot", MyDot)
print(x.mydot(w))

# %% [markdown]
# `register("mydot", MyDot)` did `setattr(Tensor, "mydot", partialmethod(MyDot.apply, MyDot))`.
# So `x.mydot(w)` calls `Function.apply` with `self = x`: it makes a Context, runs
# `MyDot.forward` on the arrays and hangs the Context on the result.
#
# The result prints as `#id MyDot`: your Function made it.
#
# ## Sum
#
# A loss must be one number, so add a `Sum`. Its backward spreads the one grad it
# receives over every entry of its input.


# %%
class MySum(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return np.array(input.sum())

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * np.ones_like(input)


register("mysum", MySum)
out = x.mydot(w).mysum()
print(out)

# %% [markdown]
# `out` is a one-element Tensor at the top of a small graph:
# `MySum` ← `MyDot` ← (`x`, `w`).
#
# `out.backward()` starts with a grad of ones at `out` and walks down the graph,
# calling each Function's backward. Then compare with anet's own `dot` and `sum`,
# on fresh copies of the same numbers.

# %%
out.backward()
print("x.grad", x.grad)
print("w.grad", w.grad.ravel())

x2, w2 = Tensor(x.data), Tensor(w.data)
x2.dot(w2).sum().backward()
print("same as anet's Dot and Sum:", np.allclose(x.grad, x2.grad), np.allclose(w.grad, w2.grad))

# %% [markdown]
# Both grads agree. Check one by hand: `out` is the sum of `x·w`, so dL/dx is each row
# of `w` summed: 1, 1 and 2.
#
# ## Look at the graph
#
# `%debug out` opens a backward session on `out`: it plans the walk and runs nothing
# yet. The tree puts the root on top and the parents below it, the direction
# backward goes. Leaves say `leaf`.

# %%
# %debug out
# %tree

# %% [markdown]
# That is the whole design: Tensors carry their Context, Contexts point to their
# parents, and backward follows them.
#
# Lesson 2 writes the article's backward walk, finds where it goes wrong, and steps
# through anet's own walk one node at a time: `anet-tui --lesson 2`.
