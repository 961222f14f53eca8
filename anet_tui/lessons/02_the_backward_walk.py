# %% [markdown]
# # Lesson 2: The backward walk
#
# In lesson 1, `out.backward()` filled the grads. This lesson writes the backward walk
# from the article yourself, finds the bug in it, and then steps through anet's own
# walk one node at a time to see how it does it.
#
# Here is the article's `Tensor.backward`, written as a function of a Tensor `t`.
# It fills the root's grad with ones, calls the node's backward, and for each parent
# sets `grad` and recurses.

# %%
import inspect

import numpy as np

import anet
from anet import Tensor


def article_backward(t, allow_fill=True):
    if t._ctx is None:
        return
    if t.grad is None and allow_fill:
        assert t.data.size == 1
        t.grad = np.ones_like(t.data)
    assert t.grad is not None
    grads = t._ctx.arg.backward(t._ctx, t.grad)
    if len(t._ctx.parents) == 1:
        grads = [grads]
    for p, g in zip(t._ctx.parents, grads):
        if g.shape != p.data.shape:
            print(f"grad shape must match tensor shape in {t._ctx.arg!r}, {g.shape} != {p.shape}")
        p.grad = g
        article_backward(p, False)


# %% [markdown]
# ## Try it on x*x
#
# `y` is the sum of `x*x`, so dy/dx is `2x`. Run the article's walk and compare.

# %%
x = Tensor([1.0, 2.0, 3.0])
y = (x * x).sum()
article_backward(y)
print("article's walk:", x.grad)
print("should be 2x:  ", 2 * x.data)

# %% [markdown]
# The walk gave `x`, not `2x`. Why? `x*x` is one Mul whose two parents are the *same*
# tensor. Its backward returns two grads, one per parent, and the loop does
# `p.grad = g` twice: the second overwrites the first. Look at the two grads:

# %%
mul = y._ctx.parents[0]
print("both parents are x:", mul._ctx.parents[0] is x, mul._ctx.parents[1] is x)
grads = mul._ctx.arg.backward(mul._ctx, np.ones(3, dtype=np.float32))
print("Mul.backward returns:", grads)

# %% [markdown]
# A tensor used twice must get the *sum* of its grads. anet's walk adds them.
# Watch it happen: `%debug y` opens a session on `y` (nothing runs yet), and each
# `%step` runs one node's backward. The first step runs Sum: its grad goes to the
# Mul node, so `x.grad` is still empty.

# %%
x.grad = None
# %debug y
# %step
print("after Sum: x.grad =", x.grad)

# %% [markdown]
# The next step runs Mul. It returns the same two grads as above, both for `x`, and
# the walk *accumulates* them into `x.grad`. `%show` prints what the session knows
# about that node: the grad it received and the grads it returned, one per parent.

# %%
# %step
# %show
print("after Mul: x.grad =", x.grad, "  (2x)")

# %% [markdown]
# ## One more: (x + x) * x
#
# This is `2x²`, so the grad is `4x`: 12 at x = 3. Here `x` reaches the result by two
# paths, through the Add and directly. Compare the two walks.

# %%
x = Tensor([3.0])
z = (x + x) * x
article_backward(z)
print("article's walk:", x.grad)

x.grad = None
z.backward()
print("anet's walk:   ", x.grad, "  expected", 4 * x.data)

# %% [markdown]
# The article's walk also re-walks a node once per path that reaches it, and recurses:
# a chain of about a thousand ops ends in RecursionError.
#
# anet's walk puts the nodes in topological order (every node after all the nodes
# that use it) and visits each one once, in a plain loop. Here it is, printed from
# the code that `z.backward()` just ran:

# %%
print(inspect.getsource(anet.autograd.backward))

# %% [markdown]
# `plan` orders the nodes and seeds the root's grad. For each node, its backward runs
# on the grad the node has received: anet's own ops (declared `trusted`) are called
# directly, a Function of yours through `call_backward`, which makes grad_output, the
# saved tensors and the parents' data read-only while it runs. If that fails, `label` and
# `where` name the op in a note on the error (and the line that applied the op, under
# `anet.debug.record()`). `deliver` checks each returned grad and adds it into its
# parent's `.grad`: this is where `x` gets the sum of its grads. It returns how many
# parents it served: all of them, unless a grad does not fit its parent (not an array
# of the parent's shape and dtype, or missing). Then the walk takes the careful way
# for the rest: `check_grads` says what is wrong; anything but a dtype stops the walk
# with a GradientError that names the op (the article only printed a warning), while
# a wrong dtype is converted to the parent's, and `accumulate` adds the grads.
#
# Lesson 3: write your own Function with a bug in its backward, and find it with the
# debugger: `anet-tui --lesson 3`.
