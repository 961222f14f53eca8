"""The benchmark scripts still run (at tiny sizes): they measure, the tests only keep them alive."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def quick(script: str) -> str:
    """What ``script --quick`` prints (it must exit 0)."""
    return subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout


def test_run_py_prints_the_whole_table():
    out = quick("run.py")
    rows = [line for line in out.splitlines() if line.endswith(("pass", "MISS", "-"))]
    for workload in (
        "MLP 64-128-10",
        "MLP 784-512-512-10",
        "chain op fwd+bwd",
        "chain backward",
        "conv2d+max_pool2d",
        "finished BackwardSession",
        "record() on",
    ):
        assert any(row.startswith(workload) for row in rows), (workload, out)
    assert any("same-API floor" in row for row in rows), out


def test_phases_py_prints_each_phase_of_anet_and_the_floor():
    out = quick("phases.py")
    assert all(phase in out for phase in ("forward", "plan", "walk", "teardown"))
    names = [line.split()[0] for line in out.splitlines()[4:]]
    assert names == ["anet", "anet,", "floor"], out


def test_the_floor_computes_the_same_grads_as_anet():
    """The reference the engine is timed against does the same work: same values, same grads."""
    sys.path.insert(0, str(BENCH))
    try:
        import floor
    finally:
        sys.path.remove(str(BENCH))
    from anet import Tensor

    for make in (Tensor, floor.Tensor):
        x = make(np.linspace(-1, 1, 16, dtype=np.float32))
        y = x
        for i in range(40):
            y = y * 1.001 if i % 2 else y + 0.5
        y.sum().backward()
        if make is Tensor:
            expected = (y.data.copy(), x.grad.copy())
        else:
            np.testing.assert_allclose(y.data, expected[0], rtol=1e-6)
            np.testing.assert_allclose(x.grad, expected[1], rtol=1e-6)
            assert x.grad.dtype == expected[1].dtype == np.float32


@pytest.mark.parametrize("script", ["debug_bench.py", "tui_bench.py"])
def test_other_benchmarks_run_quick(script):
    out = quick(script)
    assert "ratio" in out or "ms" in out
    if script == "debug_bench.py":  # the time of a big histogram (10⁸ float32; 10⁷ quick)
        assert re.search(r"^histogram of 1e\+07 float32 \(sampled [\d,]+\): \d+ ms", out, re.M)
