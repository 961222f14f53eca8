"""shared: x * x uses x twice, so both of its grads must be added up.

Try first:
  %debug loss      open a session on the loss
  %step            run the Sum node, then %step again for Mul
  x.grad           2 * x: both paths added (the seed article overwrote one and got x)
"""

from anet import Tensor

x = Tensor([1.0, 2.0, 3.0])
y = x * x
loss = y.sum()
