"""The installed ``anet-tui`` in a real pseudo-terminal (pexpect), its screen read by pyte."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte

ANET_TUI = shutil.which("anet-tui") or "anet-tui"  # installed with the package

COLS, ROWS = 80, 24


class Terminal:
    """``anet-tui ARGS`` in an 80×24 pty; ``screen`` is what a person would see."""

    def __init__(self, args: list[str], tmp_path: Path, **env: str) -> None:
        environ = {
            **os.environ,
            "TERM": "xterm-256color",
            "ANET_TUI_HISTORY": str(tmp_path / "history"),
            **env,
        }
        if "NO_COLOR" not in env:
            environ.pop("NO_COLOR", None)
        self.child = pexpect.spawn(
            ANET_TUI, args, env=environ, dimensions=(ROWS, COLS), cwd=str(tmp_path)
        )
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""

    def pump(self, seconds: float = 0.1) -> None:
        try:
            data = self.child.read_nonblocking(1 << 16, timeout=seconds)
        except (pexpect.TIMEOUT, pexpect.EOF):
            return
        self.raw += data
        self.stream.feed(data)

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, ready: Callable[[str], bool], timeout: float = 60) -> str:
        """The screen once ``ready(screen)`` and the app has stopped drawing for a moment."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if ready(self.text):
                return self.quiet()
        raise AssertionError(f"the screen never got there; it shows:\n{self.text}")

    def quiet(self, gap: float = 0.3) -> str:
        """Read until nothing has arrived for ``gap`` seconds (a frame may come in pieces)."""
        while True:
            before = len(self.raw)
            self.pump(gap)
            if len(self.raw) == before:
                return self.text

    def type(self, text: str | bytes) -> None:
        self.child.send(text)

    def resize(self, cols: int, rows: int) -> None:
        """The window resized: the pty's size (SIGWINCH to the app) and the screen's."""
        self.child.setwinsize(rows, cols)
        self.screen.resize(rows, cols)

    def close(self) -> int | None:
        if self.child.isalive():
            self.child.send("\x11")  # Ctrl+Q
            deadline = time.monotonic() + 60
            while self.child.isalive() and time.monotonic() < deadline:
                self.pump()
        self.child.close(force=True)
        return self.child.exitstatus


def test_demo_broken_debug_and_continue_shows_the_shape_flag(tmp_path: Path) -> None:
    term = Terminal(["--demo", "broken"], tmp_path)
    try:
        term.wait_for(lambda s: "%debug loss" in s and "no session" in s)
        term.type("%debug loss\r")
        term.wait_for(lambda s: "step 0/3" in s)
        term.type("%continue\r")
        screen = term.wait_for(lambda s: "✗ 1 flag" in s and "returned (3, 2)" in s)
    finally:
        code = term.close()
    assert "✗ shape" in screen  # the flag, on the tree row and in the transcript
    assert "#3 SwapGrad ✗ shape" in screen  # the op's name
    assert "returned (3, 2), expected (2, 3)" in screen  # both shapes
    assert "got (3,2) expected (2,3)" in screen  # and on the tree's grad row
    assert code == 0  # Ctrl+Q left cleanly


def test_the_mlp_demo_draws_its_full_screen_and_what_to_try_first(tmp_path: Path) -> None:
    # How fast the first screen comes is measured by benchmarks/tui_bench.py, not asserted here.
    term = Terminal(["--demo", "mlp"], tmp_path)
    try:
        term.wait_for(lambda s: "anet-tui" in s and "repl" in s and "F1 help" in s)
        term.wait_for(lambda s: "%debug loss" in s)
    finally:
        term.close()


GREYS = {0, 7, 8, 15, 16, 231, *range(232, 256)}  # xterm-256 colours without a hue


def colours(raw: bytes) -> tuple[set[int], set[tuple[int, int, int]]]:
    """The 256-colour indexes and truecolor triples a terminal was asked to draw with."""
    indexed = {int(n) for n in re.findall(rb"[34]8;5;(\d+)", raw)}
    rgb = {tuple(map(int, t)) for t in re.findall(rb"[34]8;2;(\d+);(\d+);(\d+)", raw)}
    return indexed, rgb  # type: ignore[return-value]


def flagged_screen(tmp_path: Path, **env: str) -> tuple[str, bytes]:
    term = Terminal(["--demo", "broken"], tmp_path, **env)
    try:
        term.wait_for(lambda s: "%debug loss" in s)
        term.type("%debug loss\r")
        term.wait_for(lambda s: "step 0/3" in s)
        term.type("%continue\r")
        screen = term.wait_for(lambda s: "✗ 1 flag" in s)
    finally:
        term.close()
    return screen, term.raw


def test_no_color_draws_in_greys_only(tmp_path: Path) -> None:
    screen, raw = flagged_screen(tmp_path, NO_COLOR="1")
    assert "#3 SwapGrad ✗ shape" in screen  # the markers are words and symbols
    indexed, rgb = colours(raw)
    assert indexed or rgb
    assert indexed <= GREYS and all(r == g == b for r, g, b in rgb)
    # The same screen with colour allowed does use hues (the red of a flag…).
    _, raw = flagged_screen(tmp_path)
    indexed, rgb = colours(raw)
    assert indexed - GREYS or any(not r == g == b for r, g, b in rgb)


def test_ctrl_c_stops_a_loop_in_the_real_terminal_and_the_app_goes_on(tmp_path: Path) -> None:
    term = Terminal([], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s)
        term.type("while True: pass\r\r")
        term.wait_for(lambda s: "running" in s)
        term.type("\x03")
        term.wait_for(lambda s: "KeyboardInterrupt" in s)
        term.type("6 * 7\r")
        screen = term.wait_for(lambda s: "\n│42" in s)
    finally:
        code = term.close()
    assert "running" not in screen.splitlines()[0]
    assert code == 0
    # The history was written as the entries ran, for the next session (or the plain REPL).
    assert "while True: pass" in (tmp_path / "history").read_text()


def test_exit_restores_the_terminal(tmp_path: Path) -> None:
    term = Terminal([], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s)
        term.type("exit(4)\r")
        deadline = time.monotonic() + 60
        while term.child.isalive() and time.monotonic() < deadline:
            term.pump()
    finally:
        code = term.close()
    assert code == 4
    tail = term.raw[-400:]
    assert b"\x1b[?1049l" in tail  # back from the alternate screen
    assert b"\x1b[?25h" in term.raw  # cursor shown again


def test_a_dropped_connection_loses_no_history(tmp_path: Path) -> None:
    term = Terminal([], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s)
        term.type("weights = 3\r")
        term.wait_for(lambda s: ">>> weights = 3" in s)
        term.child.kill(signal.SIGHUP)  # what sshd does when the connection drops
        deadline = time.monotonic() + 60
        while term.child.isalive() and time.monotonic() < deadline:
            term.pump()
    finally:
        term.close()
    assert not term.child.isalive()
    assert "weights = 3" in (tmp_path / "history").read_text()


def test_lang_c_still_draws_and_runs(tmp_path: Path) -> None:
    term = Terminal(["--demo", "shared"], tmp_path, LANG="C", LC_ALL="C")
    try:
        term.wait_for(lambda s: "%debug loss" in s)
        term.type("%debug loss\r")
        term.wait_for(lambda s: "step 0/2" in s)
        term.type("%finish\r")
        screen = term.wait_for(lambda s: "done: 2 nodes, 0 flags" in s)
    finally:
        code = term.close()
    assert "#3 Sum" in screen and code == 0


def test_a_crash_restores_the_terminal_and_says_where_the_traceback_is(tmp_path: Path) -> None:
    # The installed entry point, with a bug planted in the app (nothing a user can type crashes it).
    crash = (
        "import anet_tui.app as app; app.AnetApp.on_mount = lambda self: 1 / 0; "
        "from anet_tui.cli import main; raise SystemExit(main())"
    )
    env = {**os.environ, "TERM": "xterm-256color", "ANET_TUI_HISTORY": str(tmp_path / "h")}
    child = pexpect.spawn(sys.executable, ["-c", crash], env=env, dimensions=(ROWS, COLS))
    raw = b""
    with contextlib.suppress(pexpect.EOF):
        while True:
            raw += child.read_nonblocking(1 << 16, timeout=60)
    modes = termios.tcgetattr(child.child_fd)[3]
    child.close()
    assert child.exitstatus == 70
    assert modes & termios.ICANON and modes & termios.ECHO  # cooked mode again
    assert b"\x1b[?1049l" in raw  # off the alternate screen
    found = re.search(rb"traceback in (\S+\.txt)", raw)
    assert found is not None
    assert "ZeroDivisionError" in Path(found.group(1).decode()).read_text()


# ---- reliability, round 2 (issue #11) ------------------------------------------------------------


def test_bytes_that_are_not_utf8_become_replacement_characters(tmp_path: Path) -> None:
    # Textual's input thread decodes strictly (textual#6456): one \xff ended the app, status 0.
    term = Terminal([], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s)
        term.type(b"\x1b[200~s = 'ab\xfe\xffcd'\x1b[201~")  # pasted from a Latin-1 terminal
        term.wait_for(lambda s: "s = 'ab\ufffd\ufffdcd'" in s)
        # (each line waits for its answer: keys typed while a line runs are not queued yet)
        term.type("; 's-ok'\r")
        term.wait_for(lambda s: "\n│'s-ok'" in s)
        term.type(b"t = '\xc3")  # the first byte of é …
        term.quiet()
        term.type(b"\xa9'; 't-ok'\r")  # … and the second, in a later read: one character
        term.wait_for(lambda s: "\n│'t-ok'" in s)
        term.type(b"u = '\xc3'; 'u-ok'\r")  # a sequence that never completes
        term.wait_for(lambda s: "\n│'u-ok'" in s)
        term.type("len(s), t, len(u)\r")
        term.wait_for(lambda s: "(6, 'é', 1)" in s)
        term.type("7*8\r")
        screen = term.wait_for(lambda s: "\n│56" in s)
    finally:
        code = term.close()
    assert "Error" not in screen and code == 0


def test_os_exit_in_user_code_restores_the_terminal_first(tmp_path: Path) -> None:
    term = Terminal([], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s)
        # A forked child (multiprocessing does this) exiting leaves the app's terminal alone.
        term.type("import os; child = os.fork() or os._exit(0); os.waitpid(child, 0)[1]\r")
        term.wait_for(lambda s: "\n│0" in s)
        assert b"\x1b[?1049l" not in term.raw
        typed_at = len(term.raw)
        term.type("os._exit(3)\r")
        deadline = time.monotonic() + 60
        while term.child.isalive() and time.monotonic() < deadline:
            term.pump()
        modes = termios.tcgetattr(term.child.child_fd)
    finally:
        code = term.close()
    assert code == 3
    lflag = modes[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO and lflag & termios.ISIG
    assert modes[0] & termios.ICRNL  # Enter sends a newline again
    tail = term.raw[typed_at:]  # what the app wrote after it was asked to exit
    assert b"\x1b[?1049l" in tail  # off the alternate screen
    assert b"\x1b[?25h" in tail  # the cursor shown
    assert b"\x1b[?1000l" in tail and b"\x1b[?1003l" in tail  # no more mouse reports
    assert b"\x1b[?2004l" in tail  # no bracketed paste
    assert not term.screen.cursor.hidden


# ---- keys and input (issue #14) ------------------------------------------------------------------

F10 = b"\x1b[21~"  # as xterm sends it

DEEP_MLP = """\
import numpy as np

from anet import Tensor

rng = np.random.default_rng(0)
h = Tensor(rng.standard_normal((4, 8)).astype(np.float32), requires_grad=False)
for _ in range(75):
    w = Tensor(rng.standard_normal((8, 8)).astype(np.float32) * 0.5)
    h = h.dot(w).relu()
loss = h.sum()
"""


def test_forty_f10s_in_one_burst_step_exactly_forty_nodes(tmp_path: Path) -> None:
    (tmp_path / "deep_mlp.py").write_text(DEEP_MLP)
    term = Terminal(["deep_mlp.py"], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s and "running" not in s.splitlines()[0])
        term.type("%debug loss\r")
        term.wait_for(lambda s: "step 0/151" in s)
        term.type(F10 * 40)  # one write: the app reads them as one burst
        screen = term.wait_for(lambda s: "step 40/151" in s and "running" not in s)
        time.sleep(1)
        screen = term.quiet()
    finally:
        code = term.close()
    top = screen.splitlines()[0]
    assert "step 40/151" in top and "queued" not in top
    assert "Still running" not in screen
    assert code == 0


def test_entries_pasted_together_each_run(tmp_path: Path) -> None:
    term = Terminal(["--demo", "broken"], tmp_path)
    try:
        term.wait_for(lambda s: "%debug loss" in s and "no session" in s)
        term.type("%debug loss\r%continue\r")  # typed faster than %debug runs
        screen = term.wait_for(lambda s: "✗ 1 flag" in s and "running" not in s)
    finally:
        code = term.close()
    assert ">>> %continue" in screen
    assert screen.splitlines()[-3].strip("│ ") == ">>>"  # the input is empty: nothing refused
    assert code == 0


def test_focus_survives_shrinking_the_window_and_growing_it_back(tmp_path: Path) -> None:
    term = Terminal([], tmp_path)
    try:
        term.wait_for(lambda s: ">>>" in s)
        term.resize(40, 12)
        term.wait_for(lambda s: "too small" in s)
        term.resize(COLS, ROWS)
        term.wait_for(lambda s: "repl" in s and "too small" not in s)
        term.type("6 * 7\r")  # typed straight away: the input has the focus again
        screen = term.wait_for(lambda s: "\n│42" in s)
    finally:
        code = term.close()
    assert ">>> 6 * 7" in screen and code == 0


def test_typing_after_esc_goes_to_the_input_not_to_the_keys(tmp_path: Path) -> None:
    term = Terminal(["--demo", "mlp"], tmp_path)
    try:
        term.wait_for(lambda s: "%debug loss" in s)
        term.type("%debug loss\r")
        term.wait_for(lambda s: "step 0/7" in s)
        term.type("\x1b")
        term.quiet()
        term.type("s = loss.sum(); print(s)\r")
        screen = term.wait_for(lambda s: ">>> s = loss.sum(); print(s)" in s)
    finally:
        code = term.close()
    assert "step 0/7" in screen.splitlines()[0]  # s did not step
    assert ">>> %step" not in screen
    assert code == 0
