"""A session interleaved with another walk (a plain backward(), another session) through the same
graph: the session notices the grads changed under it and refuses to go on until restart(),
rather than counting a walk twice or losing its own grads (issue #11, item 10)."""

from __future__ import annotations

import numpy as np
import pytest

from anet import Tensor
from anet.debug import BackwardSession
from anet.debug.session import StaleSessionError
from anet_tui.commands import CommandResult, Commands
from anet_tui.shell import Shell


def graph() -> tuple[Tensor, Tensor, Tensor]:
    """x -> a = 3x -> loss = sum(a * a): one backward gives x.grad = 18x = [18, 36]."""
    x = Tensor(np.array([1.0, 2.0]))
    a = x * 3
    return x, a, (a * a).sum()


@pytest.mark.parametrize("then", ["finish", "run", "step"])
def test_a_plain_backward_between_steps_stops_the_session(then: str) -> None:
    x, _, loss = graph()
    s = BackwardSession(loss)
    s.step()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])
    with pytest.raises(StaleSessionError) as info:
        getattr(s, then)()
    message = str(info.value)
    assert "changed outside this session" in message and "step 1/3" in message
    assert "restart()" in message and "%restart" in message
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])  # nothing counted twice
    assert s.position == (1, 3) and s.flags == []
    with pytest.raises(StaleSessionError):  # refused again, until restart()
        s.finish()
    s.restart()
    assert s.finish().reason == "done" and s.flags == []
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])  # the session's own walk, once


def test_a_second_root_sharing_nodes_stops_the_session() -> None:
    x, a, loss = graph()
    loss2 = (a * 2).sum()
    s = BackwardSession(loss)
    s.step()
    s.step()  # a now holds this walk's grad, 6a; its backward has not run
    loss2.backward()  # clears a.grad, gives it 2, and x gets 6
    with pytest.raises(StaleSessionError) as info:
        s.finish()
    assert f"#{a.id} Mul" in str(info.value)
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])  # loss2's walk only, not a mix
    s.restart()
    s.finish()
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])


def test_walks_that_leave_the_session_s_grads_alone_are_both_counted() -> None:
    x, _, loss = graph()
    s = BackwardSession(loss)
    loss.backward()  # before the first step: the session starts from the grads it finds
    s.step()
    (x * 5).sum().backward()  # shares only the leaf x: leaves accumulate, as two backwards
    assert s.finish().reason == "done" and s.flags == []
    np.testing.assert_array_equal(x.grad, [18 + 18 + 5, 36 + 36 + 5])


def test_another_session_interleaved_is_noticed_and_its_restart_is_not() -> None:
    x, _, loss = graph()
    s1 = BackwardSession(loss)
    s1.step()
    s2 = BackwardSession(loss)
    s2.step()
    s2.restart()  # puts back every grad as s2 found it: s1 can go on
    s1.finish()
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])
    s1.restart()
    s1.step()
    s2.finish()
    with pytest.raises(StaleSessionError):
        s1.finish()


def test_the_command_layer_says_what_happened_and_offers_restart() -> None:
    c = Commands(Shell())
    assert c.execute("x = Tensor(np.array([1.0, 2.0])); a = x * 3; loss = (a * a).sum()").ok
    assert c.execute("%debug loss").ok
    assert c.execute("%step").ok
    assert c.execute("loss.backward()").ok
    finished = c.execute("%finish")
    assert isinstance(finished, CommandResult)
    text = finished.text()
    assert not finished.ok and "changed outside this session" in text and "%restart" in text
    assert "0 flags" not in text and "done" not in text
    assert "Traceback" not in text and "session.py" not in text  # a sentence, not a traceback
    assert c.execute("%restart").ok
    again = c.execute("%finish")
    assert again.ok and "done" in again.text()
    np.testing.assert_array_equal(c.shell.namespace["x"].grad, [18.0, 36.0])


def test_a_walk_reaching_nodes_the_session_has_not_reached_yet_stops_it() -> None:
    x = Tensor(np.array([1.0, 2.0]))
    a = x * 3
    d = (a * 2) * (a * 2)
    loss = d.sum()
    s = BackwardSession(loss)
    s.step()  # only d holds a grad of this walk
    (a * 5).sum().backward()  # gives a (not reached yet) a grad, and x 15
    with pytest.raises(StaleSessionError) as info:
        s.finish()
    assert f"#{a.id} Mul" in str(info.value)
    np.testing.assert_array_equal(x.grad, [15.0, 15.0])


def test_zeroing_a_leaf_between_steps_is_not_an_interference() -> None:
    x, _, loss = graph()
    loss.backward()
    s = BackwardSession(loss)
    s.step()
    x.zero_grad()
    assert s.finish().reason == "done"
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])
