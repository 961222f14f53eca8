"""No dead code in anet and anet_tui: vulture, configured in pyproject.toml ([tool.vulture]: the
paths, Textual's handler patterns, tests/vulture_whitelist.py), finds nothing unused."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("vulture")

ROOT = Path(__file__).resolve().parents[1]

# Dead code in anet_tui/shell.py that the shell split of #12 removes (RunResult.elapsed is set and
# never read; Shell.next_filename is never called). Empty this set when that lands.
BEING_REMOVED = {"elapsed", "next_filename"}


def test_vulture_finds_no_unused_code() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vulture"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 3), run.stderr  # 3: vulture found unused code
    findings = run.stdout.splitlines()
    unexpected = [
        line
        for line in findings
        if not (m := re.search(r"unused \w+(?: \w+)? '(\w+)'", line))
        or m.group(1) not in BEING_REMOVED
    ]
    assert not unexpected, "\n".join(unexpected)
