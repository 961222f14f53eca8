"""No dead code in anet and anet_tui: vulture, configured in pyproject.toml ([tool.vulture]: the
paths, Textual's handler patterns, tests/vulture_whitelist.py), finds nothing unused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("vulture")

ROOT = Path(__file__).resolve().parents[1]


def test_vulture_finds_no_unused_code() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vulture"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 3), run.stderr  # 3: vulture found unused code
    assert not run.stdout.strip(), run.stdout
