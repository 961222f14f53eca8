"""nan: the length of a zero vector; its backward gives NaN grads, though the loss is 0.

Try first:
  %debug loss      open a session on the loss
  %continue        stops at the node where the first non-finite grad is born (Sqrt: 0.5/sqrt(0))
  %finish          run on, then look at x.grad: NaN, from inf * 0 in Mul
"""

from anet import Tensor

x = Tensor.zeros(3)
loss = (x * x).sum().sqrt()
