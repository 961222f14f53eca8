"""Broken user Functions, typed into the REPL the way a student writes them: each gets a flag in a
session and a clear error from a plain ``backward()``, naming the op — never a crash."""

from __future__ import annotations

import textwrap
import threading
import time

import numpy as np
import pytest

from anet import Function, OpError, Tensor
from anet.autograd import GradientError, InPlaceError
from anet.debug import BackwardSession
from anet.flags import KINDS, NOTE
from anet_tui.commands import CommandResult, Commands
from anet_tui.shell import RunResult, Shell

pytestmark = pytest.mark.timeout(60)

# (class name, body of backward(ctx, grad_output), the flag kind a session raises)
BROKEN = [
    ("ListOfNumbers", "return (grad_output * 2).tolist()", "type"),
    ("ReturnsTensor", "return Tensor(grad_output), grad_output", "type"),
    ("ReturnsFloat", "return 1.0, grad_output", "shape"),
    ("ReturnsStr", "return 'grad', grad_output", "type"),
    ("WrongShape", "return grad_output.T, grad_output", "shape"),
    ("ComplexGrad", "return grad_output.astype(np.complex64), grad_output", "type"),
    ("ObjectGrad", "return grad_output.astype(object), grad_output", "type"),
    (
        "Float64Grad",  # the right math, in float64: a note (the grad is converted), not an error
        "x, y = ctx.saved_tensors\nreturn (grad_output * y).astype(np.float64), grad_output * x",
        "dtype",
    ),
    ("ReturnsNone", "return None", "count"),
    ("NoneForOne", "return None, grad_output", "none"),
    ("TooMany", "return grad_output, grad_output, grad_output", "count"),
    ("TooFew", "return (grad_output,)", "count"),
    ("Raises", "raise RuntimeError('my backward is broken')", "exception"),
    ("MutatesGrad", "grad_output *= 2\nreturn grad_output, grad_output", "inplace"),
    ("MutatesSaved", "x, y = ctx.saved_tensors\nx *= 0\nreturn grad_output * y, x", "inplace"),
]


def student_code(name: str, body: str) -> str:
    """A two-input Function (forward x * y) with the given backward, and a loss through it."""
    return (
        textwrap.dedent(
            f"""\
            class {name}(Function):
                @staticmethod
                def forward(ctx, x, y):
                    ctx.save_for_backward(x, y)
                    return x * y

                @staticmethod
                def backward(ctx, grad_output):
            """
        )
        + textwrap.indent(body, " " * 8)
        + textwrap.dedent(
            f"""

            register("{name.lower()}", {name})
            x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
            y = Tensor(np.full((2, 3), 0.5, dtype=np.float32))
            loss = x.{name.lower()}(y).tanh().sum()
            """
        )
    )


def command(c: Commands, line: str) -> CommandResult:
    result = c.execute(line)
    assert isinstance(result, CommandResult)
    return result


@pytest.mark.parametrize(("name", "body", "kind"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_backward_in_a_session_and_in_plain_backward(
    name: str, body: str, kind: str
) -> None:
    c = Commands(Shell())
    typed = c.execute(student_code(name, body))
    assert isinstance(typed, RunResult) and typed.ok, typed.error
    x_before = c.shell.namespace["x"].data.copy()

    # The session stops at the broken node with a flag naming it, and can go on to the end.
    opened = command(c, "%debug loss")
    assert opened.ok
    stopped = command(c, "%continue")
    assert stopped.ok, stopped.text()  # a flag is an answer, not an error of the command
    if KINDS[kind].severity == NOTE:  # shown, never stops %continue
        assert f"! {kind} at #" in stopped.text() and f" {name}:" in stopped.text()
        assert stopped.stop is not None and stopped.stop.reason == "done"
    else:
        assert f"✗ {kind} at #" in stopped.text() and f" {name}:" in stopped.text()
        assert stopped.stop is not None and stopped.stop.node.op == name
    finished = command(c, "%finish")
    assert finished.ok and c.session.done
    assert name in command(c, "%show").text() or name in command(c, "%flags").text()

    # Plain backward, typed as usual: a clear error naming the op (or, for a dtype slip, a grad
    # converted to the parent's dtype). The REPL goes on either way.
    c.execute("x.grad = y.grad = None")
    plain = c.execute("loss.backward()")
    assert isinstance(plain, RunResult)
    if kind == "dtype":
        assert plain.ok and c.shell.namespace["x"].grad.dtype == np.float32
    else:
        assert plain.status == "error" and name in plain.error, plain.error
        assert "Traceback" in plain.error and "anet/autograd.py" not in plain.error.splitlines()[-1]
    assert c.execute("1 + 1").value == "2"
    # Nothing wrote into the user's tensor, not even the backward that tried to.
    assert np.array_equal(c.shell.namespace["x"].data, x_before)


def test_the_exact_messages_of_plain_backward() -> None:
    """What a student reads: the op, the parent, the expected and actual shape or type."""
    ns: dict = {"Function": Function, "Tensor": Tensor, "np": np, "register": lambda *a: None}
    expected = {
        "ListOfNumbers": "returned a Python list of numbers, not numpy arrays",
        "ReturnsTensor": "returned a Tensor for parent 0; backward must return numpy arrays",
        "ReturnsFloat": "returned a grad of shape () for parent 0",
        "WrongShape": "returned a grad of shape (3, 2) for parent 0",
        "ComplexGrad": "returned an array of dtype complex64 for parent 0",
        "ReturnsNone": "returned None (a missing return?) for 2 parents",
        "NoneForOne": "returned None for parent 0",
        "TooMany": "returned 3 grads for 2 parents",
        "MutatesGrad": "wrote into an array in place",
    }
    for name, body, _ in BROKEN:
        if name not in expected:
            continue
        exec(
            student_code(name, body).replace(f"x.{name.lower()}(y)", f"{name}.apply(x, {name}, y)"),
            ns,
        )
        with pytest.raises(GradientError) as info:
            ns["loss"].backward()
        message = str(info.value)
        assert expected[name] in message and message.startswith(f"{name}.backward")
        assert f"#{ns['loss']._ctx.parents[0]._ctx.parents[0].id} {name}" in message
    assert issubclass(InPlaceError, GradientError)


def test_a_backward_that_writes_into_a_shared_grad_cannot_corrupt_its_sibling() -> None:
    """Add hands the same grad array to both parents; a downstream backward doubling its
    grad_output in place would silently double the other branch's grad too."""

    class Doubles(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            grad_output *= 2
            return grad_output

    a = Tensor(np.ones(3, dtype=np.float32))
    s = a + a.mul(1.0)  # the two parents of Add get one array
    loss = (Doubles.apply(s, Doubles) + s.tanh()).sum()
    with pytest.raises(InPlaceError, match=r"Doubles\.backward, #\d+ Doubles"):
        loss.backward()
    session = BackwardSession(loss)
    stop = session.run()
    assert (stop.reason, stop.node.op, stop.flags[0].kind) == ("flag", "Doubles", "inplace")
    assert session.finish().reason == "done"


def test_an_ndarray_subclass_grad_is_taken_as_plain_values() -> None:
    class MaskedGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, grad_output):
            return np.ma.masked_array(grad_output * 3, mask=[[True, False], [False, False]])

    x = Tensor(np.ones((2, 2), dtype=np.float32))
    loss = MaskedGrad.apply(x, MaskedGrad).sum()
    session = BackwardSession(loss)
    assert session.finish().reason == "done" and not session.flags
    assert type(x.grad) is np.ndarray and np.array_equal(x.grad, np.full((2, 2), 3.0))
    x.grad = None
    loss.backward()
    assert type(x.grad) is np.ndarray


@pytest.mark.parametrize(
    ("returned", "words"),
    [
        ("[1.0, 2.0]", "returned a list"),
        ("None", "returned a NoneType"),
        ("Tensor([1.0])", "returned a Tensor"),
        ("'text'", "returned a str"),
        ("np.ones(2, dtype=np.complex64)", "complex numbers"),
        ("np.array(['a', 'b'])", "dtype <U1"),
        ("np.ma.masked_array([1.0, 2.0])", "returned a MaskedArray"),
    ],
)
def test_forward_that_returns_a_non_array_is_an_error_naming_the_op(
    returned: str, words: str
) -> None:
    c = Commands(Shell())
    code = textwrap.dedent(
        f"""\
        class BadForward(Function):
            @staticmethod
            def forward(ctx, x):
                return {returned}

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output

        out = BadForward.apply(Tensor([1.0, 2.0]), BadForward)
        """
    )
    r = c.execute(code)
    assert isinstance(r, RunResult) and r.status == "error"
    assert "OpError: BadForward.forward returned" in r.error and words in r.error
    assert "out" not in c.shell.namespace and c.execute("2 * 3").value == "6"


def test_forward_returning_integers_gives_a_constant() -> None:
    class Floor(Function):
        @staticmethod
        def forward(ctx, x):
            return np.floor(x).astype(np.int64)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    out = Floor.apply(Tensor([1.5, 2.5]), Floor)
    assert out.dtype == np.int64 and not out.requires_grad and out._ctx is None
    with pytest.raises(GradientError, match="integer and boolean tensors never require grad"):
        out.sum().backward()
    with pytest.raises(OpError):
        Floor.apply(Tensor([1.0]), type("C", (Floor,), {"forward": staticmethod(lambda c, x: 1j)}))


HANG = textwrap.dedent(
    """\
    class Hang(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            while True:
                pass

    x = Tensor([0.1, 0.5, -0.3])
    loss = Hang.apply(x, Hang).tanh().sum()
    """
)
FIX = textwrap.dedent(
    """\
    def fixed(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output

    Hang.backward = staticmethod(fixed)
    """
)


def interrupt_when_running(shell: Shell, after: float = 0.3) -> threading.Thread:
    """Press Ctrl+C (Shell.interrupt, what both front-ends call) once code has run a while."""

    def press() -> None:
        while not shell.running:
            time.sleep(0.01)
        time.sleep(after)
        shell.interrupt()

    t = threading.Thread(target=press, daemon=True)
    t.start()
    return t


def expected_grad() -> np.ndarray:
    x = np.array([0.1, 0.5, -0.3])
    return (1 - np.tanh(x * x) ** 2) * 2 * x


def test_ctrl_c_stops_a_hanging_plain_backward_and_the_repl_recovers() -> None:
    c = Commands(Shell())
    assert c.execute(HANG).ok
    presser = interrupt_when_running(c.shell)
    r = c.execute("loss.backward()")
    presser.join()
    assert r.status == "interrupted" and "KeyboardInterrupt" in r.error
    assert "interrupted in the backward of #" in r.error and "Hang" in r.error
    assert "zero_grad" in r.error  # what to do about the half-accumulated leaf grads
    assert c.execute(FIX).ok and c.execute("x.zero_grad(); loss.backward()").ok
    np.testing.assert_allclose(c.shell.namespace["x"].grad, expected_grad(), rtol=1e-5)


@pytest.mark.parametrize("then", ["%continue", "%restart"])
def test_ctrl_c_in_a_hanging_session_leaves_it_resumable_or_restartable(then: str) -> None:
    c = Commands(Shell())
    assert c.execute(HANG).ok
    assert command(c, "%debug loss").ok
    presser = interrupt_when_running(c.shell)
    r = command(c, "%continue")
    presser.join()
    assert not r.ok and "interrupted in #" in r.text() and "Hang's backward" in r.text()
    assert c.session.position == (2, 3) and c.session.current.op == "Hang"
    assert command(c, "%flags").ok and c.execute("x.grad is None").value == "True"
    assert c.execute(FIX).ok
    if then == "%restart":
        assert command(c, "%restart").ok and c.session.position == (0, 3)
    done = command(c, "%continue")
    assert done.ok and c.session.done and not c.session.flags, done.text()
    np.testing.assert_allclose(c.shell.namespace["x"].grad, expected_grad(), rtol=1e-5)


def test_exit_called_by_a_backward_stops_the_walk_not_the_repl() -> None:
    c = Commands(Shell())
    code = HANG.replace("while True:\n            pass", "exit(3)")
    assert "exit(3)" in code and c.execute(code).ok and command(c, "%debug loss").ok
    r = command(c, "%continue")
    assert not r.ok and "exit() called in #" in r.text() and "Hang's backward" in r.text()
    assert c.session.position == (2, 3) and c.execute("1 + 1").value == "2"
