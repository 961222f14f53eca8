"""The installed ``anet-tui --plain`` in a real pseudo-terminal: Ctrl+C, leaving (the terminal's
modes restored, history on disk), a dropped connection, and the terminals people really have:
TERM=dumb, a C locale, NO_COLOR."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pexpect
import pytest
from snippets import SWAP_GRAD

from anet_tui.history import HistoryFile

pytestmark = pytest.mark.timeout(240)

ANET_TUI = shutil.which("anet-tui", path=os.path.dirname(sys.executable)) or "anet-tui"
SGR = re.compile(rb"\x1b\[([0-9;]*)m")

BROKEN = (
    "import numpy as np\nfrom anet import Function, Tensor\n\n\n"
    + SWAP_GRAD
    + textwrap.dedent(
        """\


    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    loss = SwapGrad.apply(x, SwapGrad).sum()
    """
    )
)


class Terminal:
    """``anet-tui --plain`` run by bash in an 80×24 pty; after it leaves, bash prints its exit
    code and ``stty -a``: the terminal modes it left behind."""

    def __init__(self, tmp_path: Path, *args: str, **env: str) -> None:
        self.history = tmp_path / "history"
        command = " ".join(shlex.quote(a) for a in (ANET_TUI, "--plain", *args))
        environment = {
            **os.environ,
            "TERM": "xterm",
            "LANG": "C.UTF-8",  # a UTF-8 terminal unless a test says otherwise
            "LC_ALL": "",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "ANET_TUI_HISTORY": str(self.history),
            **env,
        }
        self.child = pexpect.spawn(
            "bash",
            ["--norc", "--noprofile", "-c", f"{command}; echo EXIT=$?; stty -a"],
            env=environment,
            timeout=60,
            dimensions=(24, 80),
        )
        self.child.expect("Ctrl.D to leave")

    def type(self, text: str, prompt: str = ">>>") -> None:
        """Wait for the prompt (keys typed earlier would go through the line discipline), type."""
        self.child.expect_exact(prompt)
        time.sleep(0.1)
        self.child.send(text)

    def expect(self, pattern: str | bytes) -> bytes:
        self.child.expect(pattern)
        return self.child.before + self.child.after

    def leave(self) -> tuple[int, str]:
        """Wait for anet-tui to end: its exit code and the terminal modes after it."""
        self.child.expect(rb"EXIT=(\d+)")
        code = int(self.child.match.group(1))
        self.child.expect(pexpect.EOF)
        self.child.close()
        return code, self.child.before.decode()


def colour_codes(data: bytes) -> list[bytes]:
    """The SGR sequences in ``data`` that set a foreground or background colour."""

    def colours(params: bytes) -> bool:
        numbers = [int(p) for p in params.split(b";") if p.isdigit()]
        return any(30 <= n <= 49 or 90 <= n <= 107 for n in numbers)

    return [m for m in SGR.findall(data) if colours(m)]


def assert_modes_restored(stty: str) -> None:
    for mode in ("icanon", "echo", "isig", "icrnl", "opost"):
        assert re.search(rf"(?<![-\w]){mode}\b", stty), f"{mode} left off: {stty}"


def test_ctrl_c_input_and_bad_bytes_in_a_terminal_then_quit(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(BROKEN)
    t = Terminal(tmp_path, str(tmp_path / "broken.py"))
    try:
        t.type("kept = 41\r")
        t.type("while True: pass\r")
        t.type("\r", "...")
        time.sleep(0.5)
        t.child.sendcontrol("c")  # an infinite loop
        t.expect("KeyboardInterrupt")
        t.type("name = input('who? ')\r")  # no hang: no terminal for user code to read
        t.expect("input\\(\\) cannot read here")
        t.type(b"s = '\xff\xfe'\r")  # not UTF-8, typed raw
        t.type("print(kept + 1, len(s))\r")
        t.expect("42 2")
        # A hanging backward in a session: Ctrl+C, then the session is still usable.
        t.type("SwapGrad.backward = staticmethod(lambda ctx, g: [0 for _ in iter(int, 1)])\r")
        t.type("%debug loss\r")
        t.type("%continue\r")
        time.sleep(0.5)
        t.child.sendcontrol("c")
        t.expect("interrupted in #\\d+ SwapGrad's backward")
        t.type("%restart\r")
        t.expect("back to step 0/2")
        t.type("1/0\r")
        error = t.expect("ZeroDivisionError")
        t.type("quit()\r")
        code, stty = t.leave()
    finally:
        t.child.close(force=True)
    assert code == 0
    assert_modes_restored(stty)
    assert colour_codes(error)  # errors are red when colour is allowed (see the NO_COLOR test)
    entries = HistoryFile(t.history).entries
    assert entries[0] == "kept = 41" and entries[-1] == "quit()" and "%continue" in entries


@pytest.mark.parametrize(
    ("how", "code"), [("import sys; sys.exit(3)\r", 3), ("exit()\r", 0), ("\x04", 0)]
)
def test_leaving_restores_the_terminal_and_keeps_history(
    tmp_path: Path, how: str, code: int
) -> None:
    t = Terminal(tmp_path)
    try:
        t.type("typed_first = 1\r")
        t.type(how)
        exit_code, stty = t.leave()
    finally:
        t.child.close(force=True)
    assert exit_code == code
    assert_modes_restored(stty)
    expected = ["typed_first = 1"] + ([how.rstrip("\r")] if how != "\x04" else [])
    assert HistoryFile(t.history).entries == expected


def test_hangup_while_code_runs_leaves_history_on_disk(tmp_path: Path) -> None:
    history = tmp_path / "history"
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    env["ANET_TUI_HISTORY"] = str(history)
    child = pexpect.spawn(ANET_TUI, ["--plain"], env=env, timeout=60, dimensions=(24, 80))
    try:
        for text, prompt in (("before = 1\r", ">>>"), ("while True: pass\r", ">>>"), ("\r", "...")):
            child.expect_exact(prompt)
            time.sleep(0.1)
            child.send(text)
        time.sleep(0.5)  # the loop is running: ssh drops now
        child.kill(signal.SIGHUP)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    entries = HistoryFile(history).entries
    assert entries[0] == "before = 1" and entries[1].startswith("while True: pass")


def test_dumb_terminal_gets_plain_text_only(tmp_path: Path) -> None:
    t = Terminal(tmp_path, TERM="dumb")
    try:
        t.type("1/0\r")
        t.expect("ZeroDivisionError")
        t.type("%debug (Tensor([1.0]) * 2).sum()\r")
        t.expect("session on")
        t.type("exit()\r")
        code, stty = t.leave()
    finally:
        t.child.close(force=True)
    assert code == 0 and b"\x1b" not in t.child.before
    assert_modes_restored(stty)


def test_no_color_means_no_colour_codes(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(BROKEN)
    t = Terminal(tmp_path, str(tmp_path / "broken.py"), NO_COLOR="1")
    seen = b""
    try:
        t.type("1/0\r")
        seen += t.expect("ZeroDivisionError")
        t.type("%debug loss\r")
        t.type("%continue\r")
        seen += t.expect("shape at #")
        t.type("x.sum()\r")  # highlighted input, a value
        seen += t.expect("Sum")
        t.type("\x04")
        t.type("\x04")  # a session is open: asked once
        code, _ = t.leave()
    finally:
        t.child.close(force=True)
    assert code == 0 and b"\xe2\x9c\x97 shape" in seen  # the flag is a text marker: ✗ shape
    assert colour_codes(seen) == []  # bold or reverse may stay: they are not colour


@pytest.mark.parametrize("locale", [{"LC_ALL": "C"}, {"LANG": "C", "LC_ALL": ""}])
def test_c_locale_in_a_terminal_draws_ascii(tmp_path: Path, locale: dict[str, str]) -> None:
    (tmp_path / "broken.py").write_text(BROKEN)
    t = Terminal(tmp_path, str(tmp_path / "broken.py"), **locale)
    try:
        t.type("%debug loss\r")
        t.type("%continue\r")
        seen = t.expect("x shape at #\\d+ SwapGrad")
        t.type("%tree\r")
        seen += t.expect("leaf")
        t.type("\x04")
        t.type("\x04")
        code, stty = t.leave()
    finally:
        t.child.close(force=True)
    assert code == 0 and seen.isascii(), seen
    assert "`- " in seen.decode()  # the tree, drawn in ASCII
    assert_modes_restored(stty)


# ---- the same, piped -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [{"LC_ALL": "C"}, {"LANG": "C", "LC_ALL": ""}, {"PYTHONIOENCODING": "ascii"}],
    ids=["LC_ALL=C", "LANG=C", "ascii stdout"],
)
def test_c_locale_piped_plain_and_check_are_ascii(tmp_path: Path, env: dict[str, str]) -> None:
    script = tmp_path / "broken.py"
    script.write_text(BROKEN)
    environment = {**os.environ, "ANET_TUI_HISTORY": str(tmp_path / "h"), **env}
    typed = "%debug loss\n%continue\n%show\nprint('caf\\u00e9 …')\n"
    plain = subprocess.run(
        [ANET_TUI, "--plain", str(script)],
        input=typed.encode(),
        capture_output=True,
        timeout=60,
        env=environment,
    )
    assert plain.returncode == 0 and plain.stderr == b"", plain.stderr.decode()
    text = plain.stdout.decode("utf-8")
    assert "x shape at #" in text and "`- " in text and "UnicodeEncodeError" not in text
    ours = text.split("print('caf")[0]  # everything anet-tui wrote before the user's print
    assert ours.isascii(), [ch for ch in ours if not ch.isascii()]
    check = subprocess.run(
        [ANET_TUI, "check", str(script)], capture_output=True, timeout=60, env=environment
    )
    assert check.returncode == 1 and check.stderr == b""
    assert check.stdout.isascii() and b"x shape at #" in check.stdout
