"""The anet-tui command line: options, demos, the app fallback, and `anet-tui check`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from anet_tui import cli, demos

GOOD = textwrap.dedent(
    """\
    import numpy as np
    from anet import Function, Tensor, register


    class Scale(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 3


    register("scale", Scale)
    w = Tensor(np.linspace(-1, 1, 6).reshape(2, 3))
    loss = w.scale().relu().sum()
    other = (w * w).mean()
    print("script ran")
    """
)

BROKEN = GOOD.replace("return grad_output * 3", "return (grad_output * 3).T")
WRONG_VALUE = GOOD.replace("return grad_output * 3", "return grad_output * 2")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_passes_a_correct_function(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["check", str(write(tmp_path, "good.py", GOOD))])
    out = capsys.readouterr().out
    assert code == 0
    assert "script ran" in out
    assert "loss (#" in out and "other (#" in out  # both one-element roots were checked
    assert out.count(", 0 flags") == 2


def test_check_flags_a_wrong_shape_with_file_line_and_source(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    script = write(tmp_path, "broken.py", BROKEN)
    code = cli.main(["check", str(script), "--root", "loss"])
    out = capsys.readouterr().out
    assert code == 1
    flag = next(line for line in out.splitlines() if "✗" in line)
    assert flag.startswith(f"{script}:17: ✗ shape at #") or flag.startswith("broken.py:17: ✗")
    assert "Scale: parent 0: returned (3, 2), expected (2, 3)" in flag
    assert flag.endswith("[loss = w.scale().relu().sum()]")
    assert "loss (#" in out and "1 flag" in out and "other" not in out


def test_check_flags_a_wrong_value_numerically(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = cli.main(["check", str(write(tmp_path, "wrong.py", WRONG_VALUE))])
    out = capsys.readouterr().out
    assert (
        code == 1
        and "✗ vjp at #" in out
        and "Scale: parent 0 at (" in out
        and "finite differences" in out
    )


@pytest.mark.parametrize(
    ("text", "args", "words"),
    [
        ("raise RuntimeError('script bug')\n", [], "RuntimeError: script bug"),
        ("x = (\n", [], "SyntaxError"),
        ("from anet import Tensor\nw = Tensor([1.0])\n", [], "no one-element tensor"),
        (GOOD, ["--root", "nope"], "defines no 'nope'"),
        (GOOD, ["--root", "w"], "not a tensor with a graph"),
        ("import sys\nsys.exit(3)\n", [], "failed:\nthe script exited with code 3"),
    ],
)
def test_check_exits_2_when_the_script_or_root_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str, args: list[str], words: str
) -> None:
    code = cli.main(["check", str(write(tmp_path, "s.py", text)), *args])
    assert code == 2 and words in capsys.readouterr().err


def test_check_missing_file(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["check", "/no/such/script.py"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_as_a_command_in_ci(tmp_path: Path) -> None:
    """The real entry point, as a user's CI would run it: 0, then 1 for a broken Function."""
    codes = []
    for name, text in (("good.py", GOOD), ("broken.py", BROKEN), ("bad.py", "1/0\n")):
        proc = subprocess.run(
            [sys.executable, "-m", "anet_tui.cli", "check", str(write(tmp_path, name, text))],
            capture_output=True,
            text=True,
            timeout=60,
        )
        codes.append(proc.returncode)
    assert codes == [0, 1, 2]


def test_version_and_help(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("anet-tui 0.1.0 (anet 0.1.0, Python 3.")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "--plain" in text and "--demo NAME" in text and "anet-tui check SCRIPT.py" in text


def test_demo_list_and_unknown_demo(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["--demo", "list"]) == 0
    listed = capsys.readouterr().out
    for name in ("mlp", "broken", "nan", "shared"):
        assert name in listed
        demo = demos.load(name)
        assert demo.try_first and "%debug loss" in demo.try_first
    assert cli.main(["--demo", "nope"]) == 2
    assert "no demo called 'nope'" in capsys.readouterr().err


def test_missing_script_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["/no/such/file.py", "--plain"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_app_unavailable_offers_plain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(cli, "fullscreen_problem", lambda: None)
    monkeypatch.setitem(sys.modules, "anet_tui.app", None)  # importing it raises ImportError
    start = {"script": None, "demo": "mlp", "lesson": None}
    assert cli._run_app(start, ["--demo", "mlp"]) == 2
    err = capsys.readouterr().err
    assert "the full-screen app cannot start" in err and "anet-tui --plain --demo mlp" in err


def test_fullscreen_problem_names_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert "TERM=dumb" in cli.fullscreen_problem()
    monkeypatch.setenv("TERM", "xterm")
    assert "not a terminal" in cli.fullscreen_problem()  # pytest's stdin is not a tty


def test_crash_writes_a_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("ANET_TUI_HISTORY", str(tmp_path / "state" / "history"))

    def boom() -> int:
        raise RuntimeError("a bug in anet-tui")

    assert cli._guarded(boom) == 70
    err = capsys.readouterr().err
    reports = list((tmp_path / "state").glob("anet-tui-crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in err
    assert "RuntimeError: a bug in anet-tui" in reports[0].read_text()


def test_console_script_is_installed() -> None:
    """`anet-tui` on PATH is this package's (pip install -e .)."""
    proc = subprocess.run(
        ["anet-tui", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("anet-tui ")


def test_the_versions_are_looked_up_only_for_version(monkeypatch, capsys) -> None:
    """Reading the installed packages' metadata costs a served session's start a twentieth."""
    looked_up: list[int] = []
    version_text = cli.version_text

    def counting() -> str:
        looked_up.append(1)
        return version_text()

    monkeypatch.setattr(cli, "version_text", counting)
    cli.build_parser().parse_args(["--plain"])
    assert looked_up == []
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--version"])
    assert looked_up == [1] and capsys.readouterr().out.startswith("anet-tui 0.1.0")
