# %% [markdown]
# # Lesson 3: Debug your own Function
#
# Every op in anet is a Function with a `forward` and a `backward`, and so is every op
# you write. When a backward is wrong, the grads are wrong, often silently. This lesson
# plants two bugs, finds both with the debugger, fixes them and checks they are gone.
#
# First, two Functions with a bug each:
#
# - `MyDot` is the article's Dot with one `.T` forgotten: `grad_weight` comes out
#   transposed, the wrong *shape*;
# - `Cube` computes x³, but its backward forgot the square: `3 * x` instead of
#   `3 * x**2`. The shape is right; the *values* are wrong.

# %%
import numpy as np

import anet
from anet import Function, Tensor, register


class MyDot(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input.dot(weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_output.dot(weight.T)
        grad_weight = grad_output.T.dot(input)  # bug: the article ends this line with .T
        return grad_input, grad_weight


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x * grad_output  # bug: the derivative of x³ is 3x²


register("mydot", MyDot)
register("cube", Cube)

# %% [markdown]
# ## Build a loss and call backward
#
# `x` is 2×3 and `w` is 3×2. A plain `loss.backward()` refuses a grad of the wrong shape,
# and its message names the op and both shapes.

# %%
x = Tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
w = Tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]])
loss = x.mydot(w).cube().sum()
try:
    loss.backward()
except anet.GradientError as e:
    print("backward refused:", e)

# %% [markdown]
# ## Find them with the debugger
#
# `%debug loss` opens a session; `%continue` runs the walk to the next *flag*. Cube
# comes first. Its shapes are right, but the debugger checks every Function *you* wrote
# as it runs it: your forward in float64, a tiny step either side, against your
# backward. Look for `✗ vjp`; `%show` prints the node and its backward.

# %%
# %debug loss
# %continue
# %show

# %% [markdown]
# Cube's backward is wrong by a factor of x. `%continue` again goes on to the next
# flag, `✗ shape` at MyDot: which parent, which two shapes? `%flags` lists them all.

# %%
# %continue
# %flags

# %% [markdown]
# Two flags: `vjp` at Cube, `shape` at MyDot (parent 1, `w`, is 3×2; it got a 2×3 grad).
#
# ## Fix both
#
# Put the `.T` back and square `x`. A graph remembers the Function classes that built
# it, so after redefining them, build `loss` again. The stopped walk had already put a
# grad into `x`: clear the old grads too.


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


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad_output


register("mydot", MyDot)
register("cube", Cube)
x.grad = w.grad = None
loss = x.mydot(w).cube().sum()

# %% [markdown]
# ## Check again
#
# A new session on the new `loss`: the walk runs to the end, your two Functions read
# `✓ checked` (their backward agreed with the finite differences), anet's own Sum reads
# `✓ done`, and `%flags` has nothing to say. `%check all` compares every node entry by
# entry, anet's own too, if you want to see the numbers.

# %%
# %debug loss
# %continue
# %flags

# %% [markdown]
# Last, compare with anet's own `dot` and `**`, on fresh copies of the same numbers.

# %%
x2, w2 = Tensor(x.data), Tensor(w.data)
(x2.dot(w2) ** 3).sum().backward()
print("x.grad matches anet:", np.allclose(x.grad, x2.grad))
print("w.grad matches anet:", np.allclose(w.grad, w2.grad))

# %% [markdown]
# Both match. What you used:
#
# - a plain `backward()` stops at a wrong *shape* and names the op;
# - `%debug` + `%continue` stop at the node that raised a flag, `%show` shows it;
# - your own Functions are checked numerically as they run: wrong *values* that no
#   shape test can see are a `vjp` flag, and a right one reads `✓ checked`.
#
# Try it on your own Functions: `anet-tui check my_script.py` runs the same checks
# from the command line, and fails (exit status 1) when there is a flag.
