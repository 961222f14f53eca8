"""Warnings raised inside a walk belong to the node that raised them (its record, its detail),
not to the output around the walk; other threads' warnings, and the user's own code outside
walks, warn as Python always does."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np

from anet import Function, Tensor
from anet.debug import BackwardSession, record, render
from anet.debug.views import NodeView, node_view
from anet.debug.warned import WARNED_LIMIT, Catcher, Warned
from anet_tui.commands import Commands
from anet_tui.shell import Shell

ROOT = str(Path(__file__).resolve().parents[2])


def nan_loss() -> tuple[Tensor, Tensor]:
    """The nan demo: sqrt's backward divides by zero, Mul's multiplies inf by 0."""
    with record():
        x = Tensor.zeros(3, requires_grad=True)
        loss = (x * x).sum().sqrt()
    return x, loss


def walked(session: BackwardSession) -> list[warnings.WarningMessage]:
    """Finish ``session``; the warnings that reached Python's warning machinery meanwhile."""
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        session.finish()
    return shown


def test_numpy_warnings_go_to_the_node_that_raised_them_not_to_the_output() -> None:
    _, loss = nan_loss()
    s = BackwardSession(loss)
    assert walked(s) == []
    sqrt, total, mul = s.nodes
    assert [w.message for w in sqrt.warned] == ["divide by zero encountered"]
    w = sqrt.warned[0]
    assert w.category == "RuntimeWarning" and w.file.endswith("ops.py") and w.count == 1
    assert w.source == "return grad_output / (2 * out)"  # the line that divided, not numpy's
    assert total.warned == ()
    assert {m.message for m in mul.warned} == {"invalid value encountered"}
    assert sqrt.flags[0].kind == "nonfinite"  # the flag the warning explains is still there


def test_the_detail_and_percent_show_list_a_node_s_warnings_once() -> None:
    _, loss = nan_loss()
    s = BackwardSession(loss)
    walked(s)
    text = render.detail(s, s.nodes[0].id)
    assert text.count("divide by zero encountered") == 1
    assert "ops.py:" in text and "return grad_output / (2 * out)" in text
    view = node_view(s, s.nodes[0].id)
    assert view.warned == s.nodes[0].warned
    assert NodeView.from_dict(view.to_dict()) == view  # through JSON and back
    assert render.to_dict(s)["nodes"][0]["warned"][0]["message"] == "divide by zero encountered"
    assert "warnings" not in render.detail(s, s.nodes[1].id)  # a node without: no section


def test_restart_forgets_them_and_walking_again_finds_them_again() -> None:
    _, loss = nan_loss()
    s = BackwardSession(loss)
    walked(s)
    s.restart()
    assert all(r.warned == () for r in s.nodes)
    walked(s)  # numpy warns each time (Python's once-per-place rule does not hide repeats)
    assert [w.count for w in s.nodes[0].warned] == [1]
    # step by step too
    s.restart()
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        while s.step() is not None:
            pass
    assert shown == [] and [w.count for w in s.nodes[0].warned] == [1]


class Warns(Function):
    """A user Function whose backward calls warnings.warn, and divides by zero when asked."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        warnings.warn("my backward is approximate", UserWarning, stacklevel=1)
        return grad_output * 2


def warns_loss() -> Tensor:
    x = Tensor.ones(3, requires_grad=True)
    return Function.apply(x, Warns).sum()


def test_a_warning_a_user_backward_raises_is_kept_on_its_node() -> None:
    s = BackwardSession(warns_loss(), verify=False)
    assert walked(s) == []
    rec = next(r for r in s.nodes if r.op == "Warns")
    (w,) = rec.warned
    assert (w.category, w.message) == ("UserWarning", "my backward is approximate")
    assert w.source.startswith("warnings.warn(")


def test_the_same_warning_from_the_same_place_is_counted_not_repeated() -> None:
    class Loop(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_output):
            for _ in range(5):
                np.log(np.zeros(1))
            for i in range(WARNED_LIMIT + 5):
                warnings.warn(f"warning {i}", stacklevel=1)
            return grad_output

    s = BackwardSession(
        Function.apply(Tensor.ones(2, requires_grad=True), Loop).sum(), verify=False
    )
    walked(s)
    rec = next(r for r in s.nodes if r.op == "Loop")
    assert len(rec.warned) == WARNED_LIMIT  # capped
    assert rec.warned[0].message == "divide by zero encountered" and rec.warned[0].count == 5


def test_the_user_s_settings_keep_their_meaning() -> None:
    _, loss = nan_loss()
    with np.errstate(divide="ignore", invalid="ignore"):
        s = BackwardSession(loss)
        assert walked(s) == [] and all(r.warned == () for r in s.nodes)
    with np.errstate(divide="raise"):
        s = BackwardSession(loss)
        s.finish()
    assert s.nodes[0].flags[0].kind == "exception"  # FloatingPointError, as numpy raises it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = BackwardSession(warns_loss(), verify=False)
        s.finish()
    assert any(f.kind == "exception" and "approximate" in f.message for f in s.flags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = BackwardSession(warns_loss(), verify=False)
        s.finish()
    assert all(r.warned == () for r in s.nodes)
    calls: list[str] = []
    with np.errstate(divide="call", call=lambda kind, flag: calls.append(kind)):
        s = BackwardSession(nan_loss()[1])
        walked(s)
    assert calls == ["divide by zero"]  # the user's own callback still gets theirs
    assert [w.message for w in s.nodes[0].warned] == []


def test_other_threads_warn_as_before_while_a_walk_runs() -> None:
    """Only the walking thread's warnings are taken: another thread's (numpy's or Python's)
    reach Python's machinery as ever, even while the walk is in the middle of a node."""
    seen: list[str] = []

    def other() -> None:
        warnings.warn("from another thread", stacklevel=1)
        np.log(np.zeros(1))

    class Meanwhile(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_output):
            t = threading.Thread(target=other)
            t.start()
            t.join()
            return grad_output

    root = Function.apply(Tensor.ones(2, requires_grad=True), Meanwhile).sum()
    s = BackwardSession(root, verify=False)
    seen = [str(w.message) for w in walked(s)]
    assert "from another thread" in seen and "divide by zero encountered in log" in seen
    assert all(r.warned == () for r in s.nodes)


def test_outside_walks_warnings_show_as_python_shows_them() -> None:
    _, loss = nan_loss()
    walked(BackwardSession(loss))  # the stand-in for showwarning is in place now
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        np.log(np.zeros(1))
        warnings.warn("plain", stacklevel=1)
    assert [str(w.message) for w in shown] == ["divide by zero encountered in log", "plain"]


def test_a_catcher_is_reentrant_and_leaves_numpy_as_it_found_it() -> None:
    before = np.geterr(), np.geterrcall()
    c = Catcher()
    with c, c:
        assert np.geterr()["divide"] == "call"
        np.log(np.zeros(1))
    assert (np.geterr(), np.geterrcall()) == before and c.caught == []
    w = Warned("RuntimeWarning", "divide by zero encountered", "/x/ops.py", 3, "a / b", 2)
    assert w.text().endswith("ops.py:3: RuntimeWarning: divide by zero encountered (2 times)")


# ---- through the command language (both front-ends print what these return) -------------------


def test_percent_step_on_the_nan_demo_prints_the_flag_not_numpy_s_warnings() -> None:
    c = Commands(Shell())
    c.startup(demo="nan")
    c.execute("%debug loss")
    outputs = []
    for _ in range(3):
        r = c.execute("%step")
        outputs.append(r.output + r.text())
    text = "\n".join(outputs)
    assert "RuntimeWarning" not in text and "ops.py" not in text
    assert "✗ nonfinite" in outputs[0]
    assert "(1 warning: %show #" in outputs[0]  # said once, where to read it
    shown = c.execute(f"%show #{c.session.nodes[0].id}").text()
    assert "RuntimeWarning: divide by zero encountered" in shown


def test_the_plain_repl_on_the_nan_demo_shows_warnings_of_typed_code_only() -> None:
    """The reproduction, as a person runs it: numpy's warnings printed while %step walks the nan
    demo buried its flag; now they are in %show, and code typed at the prompt still warns."""
    keys = "%debug loss\n%step\n%step\n%step\nnp.log(np.zeros(1))\n"
    out = subprocess.run(
        [sys.executable, "-m", "anet_tui.cli", "--plain", "--demo", "nan"],
        input=keys,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ROOT},
        check=False,
    ).stdout
    walk, _, typed = out.partition(">>> np.log")
    assert "✗ nonfinite" in walk and "RuntimeWarning" not in walk
    assert "RuntimeWarning: divide by zero encountered in log" in typed
