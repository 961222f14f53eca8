"""benchmarks/serve_bench.py still runs (3 students): it measures, this only keeps it alive."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serve_bench_runs_quick() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serve_bench.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "first screen: median" in out
    assert "memory per student: RSS" in out
