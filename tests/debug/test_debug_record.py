"""record(): the switch and context manager, where ops were applied, fingerprints."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from anet import Tensor
from anet.autograd import GradientError
from anet.debug import BackwardSession, is_recording, record
from anet.debug.recording import fingerprint
from anet.nn import Linear


def test_context_manager_restores_the_previous_state() -> None:
    assert not is_recording()
    with record():
        assert is_recording()
        with record(False):
            assert not is_recording()
        assert is_recording()
    assert not is_recording()


def test_switch_on_and_off() -> None:
    try:
        record()
        assert is_recording()
        y = Tensor(np.ones(2)) * 2.0
        assert y._ctx.where[1] > 0
    finally:
        record(False)
    assert not is_recording()
    z = Tensor(np.ones(2)) * 2.0
    assert z._ctx.where is None


def test_where_is_the_users_line_through_registered_methods_and_operators() -> None:
    x = Tensor(np.ones((2, 2)))
    with record():
        a = x.dot(x)  # registered with partialmethod
        b = a * 3.0  # an operator
        c = b.sum(axis=0)  # an option-taking method
        d = Linear(2, 2)(c.reshape(1, 2))  # ops applied inside anet.nn
    for t, text in [(a, "a = x.dot(x)"), (b, "b = a * 3.0"), (c, "c = b.sum(axis=0)")]:
        file, line, source = t._ctx.where
        assert file == __file__ and line > 0 and source.startswith(text)
    assert d._ctx.where[2].startswith("d = Linear(2, 2)")


def test_plain_backward_errors_say_where_when_recorded() -> None:
    import student_bugs  # noqa: F401

    x = Tensor(np.ones((2, 3)))
    with record():
        loss = x.swap_grad().sum()
    with pytest.raises(GradientError, match=r"test_debug_record.py:\d+: loss = x.swap_grad"):
        loss.backward()


def test_fingerprint_changes_with_values_only() -> None:
    a = np.arange(12.0).reshape(3, 4)
    assert fingerprint(a) == fingerprint(a.copy())
    before = fingerprint(a)
    a[1, 2] += 1
    assert fingerprint(a) != before
    # Views that are not C-contiguous: transposed, strided, overlapping windows, broadcast.
    for view in (
        a.T,
        a[:, ::2],
        sliding_window_view(a, (2, 2)),
        np.broadcast_to(a[0], (5, 4)),
    ):
        same = fingerprint(view)
        assert same == fingerprint(np.ascontiguousarray(view)) or view.flags.f_contiguous
        assert fingerprint(view) == same
    window = sliding_window_view(a, (2, 2))
    before = fingerprint(window)
    a[0, 0] = -5
    assert fingerprint(window) != before


def test_big_non_contiguous_fingerprint_is_chunked_not_copied_whole() -> None:
    big = np.zeros((2100, 1000), dtype=np.float32)[:, ::2]  # 1.05M entries, strided
    before = fingerprint(big)
    big.base[2000, 10] = 1.0
    assert fingerprint(big) != before


def test_recorded_fingerprints_cover_saved_tensors_and_parents() -> None:
    x, w = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))
    with record():
        y = x @ w
    saved, parents = y._ctx.fingerprints
    assert len(saved) == 2 and len(parents) == 2
    x.data[0, 0] = 3.0
    s = BackwardSession(y.sum())
    s.finish()
    assert [(f.kind, f.node, f.index) for f in s.flags] == [("inplace", y.id, 0)]
    assert "saved tensor 0" in s.flags[0].message
