"""Issue #11, round 2: user code ending the process with ``os._exit`` in the plain REPL (the
full-screen app's counterpart is in tests/tui/test_e2e_pty.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_terminal import Terminal, assert_modes_restored

pytestmark = pytest.mark.timeout(60)


def test_os_exit_in_the_plain_repl_leaves_the_terminal_cooked(tmp_path: Path) -> None:
    # prompt_toolkit's raw mode lasts while a line is read; code runs in cooked mode.
    t = Terminal(tmp_path)
    try:
        t.type("import os; os._exit(3)\r")
        code, stty = t.leave()
    finally:
        t.child.close(force=True)
    assert code == 3
    assert_modes_restored(stty)
