"""The graph pane's rows draw from the views: a node's saved tensors are its NodeView's."""

from __future__ import annotations

import numpy as np

from anet import Function, Tensor, register
from anet.debug import BackwardSession
from anet.debug.views import ValueView, node_view
from anet_tui.widgets.graph_tree import saved_label


class Keeps(Function):
    """Keeps an array, a numpy scalar and a list for its backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, np.float32(2.0), [1, 2])
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2


register("keeps", Keeps)


def test_the_saved_row_is_the_node_view_s_saved_entries() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    kept = x.keeps()
    s = BackwardSession(kept.sum())
    saved = node_view(s, kept.id).saved
    assert [v.kind for v in saved] == ["array", "float32", "list"]
    # a numpy scalar says so (it is no array, and no Python float either)
    assert saved_label(saved).plain == "saved (2,3) float32, a float32 scalar, a list"
    assert [v.short() for v in saved] == ["(2,3) float32", "a float32 scalar", "a list"]
    assert ValueView("int").short() == "an int"
    assert saved_label([ValueView("array", (4,), "int64")]).plain == "saved (4,) int64"
