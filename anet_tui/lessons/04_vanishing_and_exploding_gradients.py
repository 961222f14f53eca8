# %% [markdown]
# # Lesson 4: Vanishing and exploding gradients
#
# A layer learns only if the gradient reaches it. On its way down, each layer's
# backward multiplies the grad by the slope of its activation and by its weights:
# twenty layers, twenty factors. When they are a little below 1, the grad *vanishes*;
# a little above 1, it *explodes*. A table of numbers hides this. A picture shows it:
# `%flow` draws the size of the grad at every node of the walk, as bars on a log scale.
#
# First, a network of any depth, its activation chosen by name, and a batch of data.

# %%
import numpy as np

from anet import Tensor, nn


class Deep(nn.Module):
    def __init__(self, depth=20, width=32, activation="sigmoid"):
        self.layers = [nn.Linear(width, width) for _ in range(depth)]
        self.activation = activation

    def forward(self, x):
        for layer in self.layers:
            x = getattr(layer(x), self.activation)()
        return x


np.random.seed(0)  # nn.Linear draws its weights from numpy's generator
x = Tensor.randn(64, 32, requires_grad=False)
target = Tensor.randn(64, 32, requires_grad=False)

# %% [markdown]
# ## Twenty sigmoid layers
#
# `%debug loss` opens a session, and `%step 7` runs the loss, the last layer and the
# sigmoid below it. Then `%flow` draws one bar for each node that has its grad so far.
# The `█` part goes up to the mean |grad|, and the `·` part goes on to the largest one.
# The scale is logarithmic: every power of ten is the same distance.

# %%
net = Deep(activation="sigmoid")
loss = nn.mse_loss(net(x), target)
# %debug loss
# %step 7
# %flow

# %% [markdown]
# The bars already get shorter from one layer to the next. A sigmoid's slope is at
# most 1/4, so each sigmoid divides the grad by four or more.
#
# Run the rest of the walk and look again. This time `%flow --params` draws one bar per
# parameter, grouped by the layer that owns it. `layers.19` is the last layer, nearest
# the loss, and `layers.0` is the first.

# %%
# %finish
# %flow --params

# %% [markdown]
# From the last layer to the first, the grad falls by more than fifteen orders of
# magnitude. A learning rate multiplies 1e-19 into nothing, so the first layers never
# learn.
#
# `%show` draws the node where the walk ended: the first layer's `Dot`. You get
# histograms of its output, of the grad it received and of the grad it passed to its
# weight. Read the line under each one.

# %%
# %show

# %% [markdown]
# ## ReLU instead
#
# A ReLU has slope 1 where it lets a value through, and 0 where it does not. There is
# no factor of 1/4. Here is the same network with ReLU:

# %%
net = Deep(activation="relu")
loss = nn.mse_loss(net(x), target)
# %debug loss
# %finish
# %flow --params

# %% [markdown]
# It is better, but the grad still falls about eight orders of magnitude. The slope was
# only one of the factors: each layer also multiplies by its weights. `nn.Linear` draws
# them uniform in ±1/√32, which is too small here. In each layer about 0.4 of the grad's
# size gets through, and 0.4²⁰ ≈ 1e-8.
#
# Look at the right-hand column too, with marks like `77% zeros`: most of those weights
# got a grad of exactly 0. The values shrink on their way up, so a unit whose bias is negative stays
# below 0 for every example. Its ReLU is *dead*: it outputs 0 and passes back 0, and the
# weights around it get no grad at all.
#
# ## A bad initialisation: too big
#
# Go the other way and draw each weight from a standard normal distribution (standard
# deviation 1, not about 0.1). Now each layer multiplies the grad by about 4:

# %%
net = Deep(activation="relu")
for layer in net.layers:
    layer.weight.data = np.random.randn(32, 32).astype(np.float32)
loss = nn.mse_loss(net(x), target)
# %debug loss
# %finish
# %flow --params

# %% [markdown]
# The bars grow instead: exploding gradients. The biases' grads grow from about 1e10 at
# the top to 1e21 at the bottom. Every weight's grad is about 1e21, because the values
# grew just as fast on the way up. One step of gradient descent would throw every
# weight far off, and the next loss would overflow.
#
# ## A bad initialisation: dead ReLUs
#
# Keep `nn.Linear`'s small weights, and start every bias at -0.1. Each layer's output
# shrinks, so the bias soon wins: after a few layers, every pre-activation is negative
# for every example. Those ReLUs output 0 and pass back a grad of exactly 0. They are
# dead, and nothing below them can learn. This time `%flow` draws one bar per node:

# %%
net = Deep(activation="relu")
for layer in net.layers:
    layer.bias.data = np.full(32, -0.1, dtype=np.float32)
loss = nn.mse_loss(net(x), target)
# %debug loss
# %finish
# %flow

# %% [markdown]
# Below the last ReLU, every bar is empty and every row says `all zeros`. The line at
# the bottom asks the question. A network that starts like this never learns, however
# long you train it.
#
# ## The fix: initialise for ReLU
#
# Kaiming He's initialisation draws each weight with standard deviation √(2/fan_in),
# and every bias starts at 0. Each input adds its share to the variance, and the 2
# makes up for the half that ReLU zeroes. So each layer keeps the grad's size, forward
# and backward.

# %%
net = Deep(activation="relu")
for layer in net.layers:
    fan_in = layer.weight.shape[0]
    layer.weight.data = (np.random.randn(32, 32) * np.sqrt(2 / fan_in)).astype(np.float32)
    layer.bias.data = np.zeros(32, dtype=np.float32)
loss = nn.mse_loss(net(x), target)
# %debug loss
# %finish
# %flow --params

# %% [markdown]
# Every layer's bar is now within a factor of ten of the others, and no line at the
# bottom warns about anything. All twenty layers will learn at about the same pace.
#
# What you used:
#
# - `%flow` draws the grad each node received, at the step the walk has reached, as
#   bars on a log scale. `%flow --params` draws one bar per parameter, by layer;
# - `%show` draws histograms of a node's values and grads, with a line for anything
#   notable: many zeros, NaN or Inf, all tiny, or huge;
# - vanishing means the bars fall by orders of magnitude from the loss down, exploding
#   means they grow, and dead ReLUs give empty bars marked `all zeros`.
#
# Other fixes work on the same picture. Residual connections (`x = x + layer(x)`)
# give the grad a path with no factor at all, and normalisation layers rescale each
# layer's values. Try one, and look at its `%flow`.
