"""``anet-tui check --timeout``: a script or backward that never ends is stopped with its own exit
status (3) and says where it was; ``os._exit(N)`` in the script is reported, not obeyed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from anet_tui import cli

pytestmark = pytest.mark.timeout(300)

# The scripts sleep 1000 s or loop for ever: exit status 3 and "timed out" can only come from
# --timeout, and a check that ignored it would hit the hang guards (no clock is asserted).

ANET_TUI = shutil.which("anet-tui", path=os.path.dirname(sys.executable)) or "anet-tui"

STUCK_BACKWARD = textwrap.dedent(
    """\
    import numpy as np
    from anet import Function, Tensor, register


    class Stuck(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_output):
            BODY


    register("stuck", Stuck)
    x = Tensor(np.ones(3))
    loss = x.stuck().sum()
    """
)
HANGING_BACKWARD = STUCK_BACKWARD.replace("BODY", "while True:\n            pass")


def check_cli(tmp_path: Path, source: str, *args: str) -> tuple[int, str, str]:
    script = tmp_path / "script.py"
    script.write_text(source)
    proc = subprocess.run(
        [ANET_TUI, "check", *args, "script.py"],
        capture_output=True,
        timeout=150,  # a hang guard: without a working --timeout these scripts never end
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("x = 1\nwhile True:\n    x += 1\n", "[23]"),
        ("import time\n\ntime.sleep(1000)\n", "3"),  # stuck in C: stopped all the same
    ],
)
def test_a_script_that_never_ends_times_out_with_status_3(
    tmp_path: Path, source: str, line: str
) -> None:
    code, _, err = check_cli(tmp_path, source, "--timeout", "1")
    assert code == 3, err
    assert "anet-tui check: script.py timed out after 1 s" in err
    assert re.search(rf"stopped at script\.py:{line}\b", err), err  # where it was stopped


def test_a_backward_that_hangs_times_out_naming_its_line(tmp_path: Path) -> None:
    code, _, err = check_cli(tmp_path, HANGING_BACKWARD, "--timeout", "1.5")
    assert code == 3 and "timed out after 1.5 s" in err, err
    assert re.search(r"script\.py:1[23]\b", err), err  # in the backward's loop


def test_timeout_0_waits_and_a_quick_script_is_unaffected(tmp_path: Path) -> None:
    quick = "from anet import Tensor\nx = Tensor([1.0, 2.0])\nloss = (x * x).sum()\n"
    code, out, err = check_cli(tmp_path, quick, "--timeout", "0")
    assert code == 0 and "0 flags" in out, err
    code, out, err = check_cli(tmp_path, quick)
    assert code == 0 and "0 flags" in out, err


@pytest.mark.parametrize("where", ["script", "backward"])
def test_os_exit_is_reported_and_exits_2(tmp_path: Path, where: str) -> None:
    if where == "script":
        source = "import os\nprint('before')\nos._exit(3)\nprint('after')\n"
    else:
        source = STUCK_BACKWARD.replace("BODY", "import os\n        os._exit(3)")
    code, out, err = check_cli(tmp_path, source)
    assert code == 2, (out, err)
    assert "the script ended the process with os._exit(3)" in err
    assert os._exit.__module__ in ("posix", "nt")  # this process's own is untouched
    if where == "script":
        assert "before" in out and "after" not in out


def test_bad_timeouts_are_refused_with_a_sentence(tmp_path: Path) -> None:
    for bad in ("-1", "soon", "nan"):
        code, _, err = check_cli(tmp_path, "x = 1\n", "--timeout", bad)
        assert code == 2 and "--timeout" in err and "SECONDS" in err, err


def test_help_and_in_process_check_know_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = " ".join(cli.build_check_parser().format_help().split())
    assert "--timeout SECONDS" in text and "3 it timed out" in text
    assert cli.build_check_parser().parse_args(["s.py"]).timeout == cli.CHECK_TIMEOUT
    script = tmp_path / "loop.py"
    script.write_text("while True:\n    pass\n")
    assert cli.check(str(script), timeout=0.5) == 3
    assert "timed out after 0.5 s" in capsys.readouterr().err
