"""The plain REPL, driven by real input: prompt_toolkit pipe input, stdin pipes, and a pty."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pexpect
import pytest
from plain_keys import drive
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.lexers import PygmentsLexer
from pygments.lexers.python import PythonLexer
from snippets import SWAP_GRAD

from anet_tui.commands import Commands
from anet_tui.history import HistoryFile
from anet_tui.plain import ShellCompleter
from anet_tui.shell import Shell

pytestmark = pytest.mark.timeout(240)

UP = "\x1b[A"
CTRL_C = "\x03"
CTRL_D = "\x04"

BROKEN = (
    "import numpy as np\nfrom anet import Function, Tensor, register\n\n\n"
    + SWAP_GRAD
    + textwrap.dedent(
        """\


    register("swapgrad", SwapGrad)
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    loss = x.swapgrad().sum()
    """
    )
)


def test_highlighting_lexer_is_python(tmp_path: Path) -> None:
    repl, _, _ = drive(CTRL_D, tmp_path)
    lexer = repl.prompt_session.lexer
    assert isinstance(lexer, PygmentsLexer) and lexer.pygments_lexer_cls is PythonLexer


def test_multiline_class_definition_with_auto_indent(tmp_path: Path) -> None:
    # Enter after "class A:" continues and indents; the empty line at the end runs the block.
    keys = "class A:\rdef f(self):\rreturn 41 + 1\r\rA().f()\r" + CTRL_D
    repl, out, code = drive(keys, tmp_path)
    assert code == 0
    assert repl.shell.namespace["A"]().f() == 42
    assert "42\n" in out and "Error" not in out


def test_enter_runs_complete_input_and_continues_open_brackets(tmp_path: Path) -> None:
    keys = "total = (1 +\r2)\rtotal\r" + CTRL_D
    repl, out, _ = drive(keys, tmp_path)
    assert repl.shell.namespace["total"] == 3 and "3\n" in out


def test_user_function_then_percent_commands_flag_the_bug(tmp_path: Path) -> None:
    shell = Shell()
    shell.run(BROKEN)
    _, out, _ = drive("%debug loss\r%continue\r%flags\r" + CTRL_D + CTRL_D, tmp_path, shell)
    assert "✗ shape at #" in out and "SwapGrad: parent 0: returned (3, 2), expected (2, 3)" in out
    assert "1 flag" in out


def test_flow_and_show_draw_pictures_typed_at_the_prompt(tmp_path: Path) -> None:
    shell = Shell()
    assert shell.run(
        "import numpy as np\nfrom anet import Tensor, nn\nnp.random.seed(0)\n"
        "layers = [nn.Linear(8, 8) for _ in range(6)]\nx = Tensor.randn(16, 8)\n"
        "for layer in layers:\n    x = layer(x).sigmoid()\nloss = x.sum()\n"
    ).ok
    keys = ["%debug loss\r", "%step 3\r", "%flow\r", "%show\r", "%finish\r", "%flow\r"]
    _, out, _ = drive([*keys, CTRL_D], tmp_path, shell)
    charts = out.split("grad flow per node · loss (#")
    assert len(charts) == 3
    assert "· step 3/19" in charts[1] and "15 more nodes get their grads" in charts[1]
    assert "step 19/19" in charts[2] and "— vanishing gradients" in charts[2]
    assert "█" in charts[2] and "1e-" in charts[2]
    assert "── pictures ──" in out and "  grad received  (16, 8) float32 · 128 values" in out


def test_history_is_saved_and_recalled_with_up(tmp_path: Path) -> None:
    drive("class B:\rpass\r\rseen = 123\r" + CTRL_D, tmp_path)
    saved = HistoryFile(tmp_path / "history").entries
    assert saved == ["class B:\n    pass\n", "seen = 123"]  # pass ended the block: no indent
    # A new REPL on the same file: Up recalls "seen = 123", Up again the class; Enter runs it.
    repl, _, _ = drive([UP, "\r", UP, UP, "\r", CTRL_D], tmp_path)
    assert repl.shell.namespace["seen"] == 123
    assert "B" in repl.shell.namespace


def test_tab_completes_names_from_the_live_namespace(tmp_path: Path) -> None:
    shell = Shell()
    shell.run("loss_value_xyz = Tensor([2.0])")
    # Completion runs on the prompt's event loop: under load it needs a moment before Enter.
    _, out, _ = drive(["loss_value_x", "\t", "\r", CTRL_D], tmp_path, shell, pause=0.6)
    assert "<Tensor #" in out  # the completed name was evaluated
    completer = ShellCompleter(shell, Commands(shell))
    names = [
        c.text for c in completer.get_completions(Document("loss_value_xyz.su"), CompleteEvent())
    ]
    assert "sum" in names and "sub" in names
    commands = [c.text for c in completer.get_completions(Document("%st"), CompleteEvent())]
    assert commands == ["%step"]


def test_ctrl_c_at_the_prompt_cancels_the_input(tmp_path: Path) -> None:
    repl, _, _ = drive("never_run = 1" + CTRL_C + "after = 2\r" + CTRL_D, tmp_path)
    assert "never_run" not in repl.shell.namespace
    assert repl.shell.namespace["after"] == 2


def test_ctrl_d_asks_once_while_a_session_is_open(tmp_path: Path) -> None:
    shell = Shell()
    shell.run(BROKEN)
    _, out, code = drive("%debug loss\r" + CTRL_D + CTRL_D, tmp_path, shell)
    assert out.count("press Ctrl+D again to leave") == 1 and code == 0


def test_exit_leaves_with_its_code(tmp_path: Path) -> None:
    repl, _, code = drive("exit(3)\rnot_reached = 1\r", tmp_path)
    assert code == 3 and "not_reached" not in repl.shell.namespace


def test_errors_are_shown_and_the_repl_goes_on(tmp_path: Path) -> None:
    keys = "1/0\rinput()\r%nonsense\rok = True\r" + CTRL_D
    repl, out, _ = drive(keys, tmp_path)
    assert "ZeroDivisionError" in out and "input() cannot read here" in out
    assert "unknown command %nonsense" in out
    assert repl.shell.namespace["ok"] is True


# ---- stdin that is not a terminal ----------------------------------------------------------------


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "anet_tui.cli", *args],
        input=stdin.encode(),
        capture_output=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_plain_reads_a_file_from_stdin(tmp_path: Path) -> None:
    script = BROKEN + "loss\n%debug loss\n%continue\nprint('after the session')\n"
    code, out, _ = run_cli("--plain", stdin=script, env={"ANET_TUI_HISTORY": str(tmp_path / "h")})
    assert code == 0
    assert ">>> class SwapGrad(Function):" in out  # the input is echoed, cell by cell
    assert "<Tensor #" in out and "Sum () float32" in out
    assert "✗ shape at #" in out and "returned (3, 2), expected (2, 3)" in out
    assert "└─" in out  # the session's text tree
    assert "after the session" in out


def test_plain_stdin_with_an_error_exits_1_and_runs_the_rest() -> None:
    code, out, _ = run_cli("--plain", stdin="1/0\nprint('still ran')\n")
    assert code == 1 and "ZeroDivisionError" in out and "still ran" in out


def test_plain_stdin_exit_code() -> None:
    code, out, _ = run_cli("--plain", stdin="print('a')\nimport sys\nsys.exit(5)\nprint('b')\n")
    assert code == 5 and "a\n" in out and "\nb\n" not in out


def test_plain_with_demo_and_script(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("from anet import Tensor\nw = Tensor([3.0])\n")
    # anet-tui's own options come before SCRIPT.py: the words after it are the script's
    code, out, _ = run_cli("--plain", "--demo", "shared", str(script), stdin="w.item() + 1\n")
    assert code == 0 and "4.0" in out and "%debug loss" in out  # the demo's "try first"


# ---- a real terminal (pty) ---------------------------------------------------------------------


def spawn_plain(tmp_path: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "ANET_TUI_HISTORY": str(tmp_path / "history"),
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "anet_tui.cli", "--plain"],
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(24, 80),
    )
    child.expect("Ctrl\\+D to leave")
    return child


def at_prompt(child: pexpect.spawn, text: str, prompt: str = ">>>") -> None:
    """Wait for the prompt, then type: keys typed before prompt_toolkit reads them raw would
    go through the terminal's line discipline (Enter would arrive as Ctrl+J)."""
    child.expect_exact(prompt)
    time.sleep(0.1)
    child.send(text)


def test_ctrl_c_interrupts_running_code_in_a_terminal(tmp_path: Path) -> None:
    child = spawn_plain(tmp_path)
    try:
        at_prompt(child, "kept = 41\r")
        at_prompt(child, "spins = 0\r")
        at_prompt(child, "while True:\r")
        at_prompt(child, "spins += 1\r", "...")  # indented for us
        at_prompt(child, "\r", "...")
        time.sleep(1.0)
        child.sendcontrol("c")
        child.expect("KeyboardInterrupt")
        at_prompt(child, "print('kept', kept + 1, spins > 0)\r")
        child.expect("kept 42 True")
        at_prompt(child, "\x04")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "kept = 41" in (tmp_path / "history").read_text()


def test_history_is_on_disk_when_the_terminal_hangs_up(tmp_path: Path) -> None:
    child = spawn_plain(tmp_path)
    try:
        at_prompt(child, "typed_before_hangup = 1\r")
        child.expect_exact(">>>")
        child.kill(signal.SIGHUP)  # ssh dropped
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert HistoryFile(tmp_path / "history").entries == ["typed_before_hangup = 1"]


def test_dumb_terminal_offers_plain(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "dumb", "ANET_TUI_HISTORY": str(tmp_path / "history")}
    child = pexpect.spawn(
        sys.executable, ["-m", "anet_tui.cli"], env=env, encoding="utf-8", timeout=120
    )
    try:
        child.expect("TERM=dumb")
        child.expect("anet-tui --plain")
        child.expect(r"Start the plain REPL now\? \[Y/n\]")
        child.send("n\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 2


@pytest.mark.parametrize("args", [[], ["--demo", "mlp"]])
def test_not_a_terminal_says_so_and_offers_plain(args: list[str]) -> None:
    code, _, err = run_cli(*args, stdin="1 + 1\n")
    assert code == 2 and "not a terminal" in err and "anet-tui --plain" in err
