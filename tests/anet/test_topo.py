"""The walk order: every consumer of a tensor runs before it, however the graph is shaped."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from anet import Tensor
from anet.autograd import topo_order


def test_tensor_used_directly_and_inside_a_later_op():
    # c is a direct parent of the root and also a parent of c*c: the order must put c after both.
    x = Tensor([3.0], dtype=np.float64)
    c = x - 1
    (c * (c * c)).sum().backward()
    assert x.grad.tolist() == [12.0]  # d/dx (x-1)^3 = 3 (x-1)^2 = 12


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=40))
def test_order_puts_every_consumer_before_its_parents(pairs):
    nodes = [Tensor([1.0]), Tensor([2.0])]
    for a, b in pairs:
        nodes.append(nodes[a % len(nodes)] * nodes[b % len(nodes)])
    root = nodes[-1]
    order = topo_order(root)
    position = {t: i for i, t in enumerate(order)}
    assert order[0] is root
    assert len(position) == len(order)  # each node once
    for t in order:
        for p in t._ctx.parents:
            if p._ctx is not None:
                assert position[p] > position[t]
