"""``anet-tui check`` walks each backward() when the script calls it (issue #13)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from anet_tui.check import Checker, check

LOOP = textwrap.dedent(
    """\
    import numpy as np
    from anet import Function, Tensor, register, nn, optim

    class AddBias(Function):
        @staticmethod
        def forward(ctx, x, b):
            return x + b
        @staticmethod
        def backward(ctx, g):
            return g, BIAS_GRAD(g)

    register("addbias", AddBias)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 2)).astype(np.float32))
    b = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([b], lr=0.1)
    for step in range(STEPS):
        opt.zero_grad()
        loss = (x.addbias(b) ** 2).mean()
        loss.backward()
        opt.step()
        print("step", step)
    """
)


def run(tmp_path: Path, source: str, **options) -> tuple[int, str]:
    script = tmp_path / "train.py"
    script.write_text(source)
    out = io.StringIO()
    status = check(str(script), out=out, timeout=0, **options)
    return status, out.getvalue()


def loop(bias_grad: str, steps: int = 5) -> str:
    return LOOP.replace("BIAS_GRAD(g)", bias_grad).replace("STEPS", str(steps))


def test_a_training_loop_checks_clean_although_opt_step_changes_the_weights_after_each_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out = run(tmp_path, loop("g.sum(axis=0)", steps=20))
    assert status == 0, out
    assert "✗" not in out and "!" not in out
    assert "step 19" in out  # the script ran to its end
    # one summary line for the line that calls backward(): 20 calls, each walked
    assert "train.py:20 loss.backward(): 20 calls walked (3 nodes each), your Functions " in out
    assert "checked on 6 calls, 0 flags" in out  # calls 1, 2, 3, 4, 8 and 16


def test_a_backward_that_cannot_run_stops_the_script_at_its_first_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out = run(tmp_path, loop("g"))  # forgot to sum over the batch
    assert status == 1, out
    flag = next(line for line in out.splitlines() if "✗" in line)
    assert flag.startswith("train.py:19: ✗ shape at #") and "AddBias: parent 1" in flag
    assert "step 0" not in out  # stopped at the first call, before any opt.step()
    assert "train.py stopped at train.py:20: that backward() cannot run" in out
    assert "Traceback" not in out


def test_a_backward_that_raises_is_an_exception_flag_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out = run(tmp_path, loop("g.sum(axis=O)"))  # the letter O: a NameError
    assert status == 1, out
    assert "✗ exception at #" in out and "NameError: name 'O' is not defined" in out
    assert "Traceback" not in out


def test_wrong_math_in_a_loop_is_one_flag_line_and_the_loop_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out = run(tmp_path, loop("2 * g.sum(axis=0)", steps=6))
    assert status == 1, out
    flags = [line for line in out.splitlines() if "✗" in line]
    assert len(flags) == 1 and "✗ vjp at #" in flags[0] and "AddBias" in flags[0], out
    assert "step 5" in out  # wrong grads still train: the script ran on


def test_every_n_picks_the_calls_whose_user_functions_are_checked() -> None:
    auto, every = Checker(io.StringIO()), Checker(io.StringIO(), every=3)
    assert [k for k in range(1, 20) if auto.checks(k)] == [1, 2, 3, 4, 8, 16]
    assert [k for k in range(1, 11) if every.checks(k)] == [1, 4, 7, 10]


def test_a_failing_script_is_exit_2_with_its_own_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _ = run(tmp_path, "import numpy as np\nx = np.ones(3)\nx.nope()\n")
    err = capsys.readouterr().err
    assert status == 2
    assert 'File "' in err and 'train.py", line 3' in err and "AttributeError" in err
    assert "anet_tui" not in err  # anet-tui's frames are removed
