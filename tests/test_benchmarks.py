"""The benchmark scripts still run (at tiny sizes): they measure, the tests only keep them alive."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_run_py_prints_the_whole_table():
    out = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
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


@pytest.mark.parametrize("script", ["debug_bench.py", "tui_bench.py"])
def test_other_benchmarks_run_quick(script):
    out = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "ratio" in out or "ms" in out
    if script == "debug_bench.py":  # the time of a big histogram (10⁸ float32; 10⁷ quick)
        assert re.search(r"^histogram of 1e\+07 float32 \(sampled [\d,]+\): \d+ ms", out, re.M)
