"""Scripts run as scripts everywhere (issue #13): ``sys.argv`` is ``[FILE, *ARGS]``,
``__name__ == "__main__"``, the script's folder leads ``sys.path``, and ``sys.exit(0)`` is success
while another code is one line and the REPL goes on: through ``Shell.run_file``, ``%run``, the
plain REPL, ``anet-tui check`` and the app at 80×24."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from test_app import enter, screen_text, settle
from test_e2e_pty import Terminal

from anet.debug import Graph
from anet_tui import cli
from anet_tui.app import AnetApp
from anet_tui.commands import Commands
from anet_tui.history import HistoryFile
from anet_tui.lessons import Lesson
from anet_tui.shell import Shell

pytestmark = pytest.mark.timeout(240)

SIBLING = "sibling_of_the_script_13"  # a module beside the script, importable only from there

SCRIPT = f"""\
import sys

import {SIBLING}
from anet import Tensor

print("argv", sys.argv[1:])
print("name", __name__)
print("file is argv[0]", __file__ == sys.argv[0])
print("sibling", {SIBLING}.WORD)
x = Tensor([1.0, 2.0])
loss = (x * x).sum()
if __name__ == "__main__":
    ran_as_main = True
    sys.exit(0)
"""


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``project/main_script.py`` printing what Python gave it, beside the module it imports.
    ``sys.path`` and the sibling in ``sys.modules`` are put back after the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop(SIBLING, None)
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / f"{SIBLING}.py").write_text('WORD = "from the folder"\n')
    path = folder / "main_script.py"
    path.write_text(SCRIPT)
    yield path
    sys.modules.pop(SIBLING, None)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


SAW = "argv ['a', 'b']\nname __main__\nfile is argv[0] True\nsibling from the folder\n"


# ---- Shell.run_file ------------------------------------------------------------------------------


def test_run_file_gives_the_script_argv_main_file_and_its_folder(script: Path) -> None:
    shell = Shell()
    argv = sys.argv
    pieces: list[str] = []
    r = shell.run_file(script, argv=["a", "b"], on_output=pieces.append)
    assert r.status == "ok" and r.error is None and r.exit_code == 0, r.error
    assert r.output == SAW and "".join(pieces) == SAW  # streamed as it ran
    assert sys.argv is argv  # restored: the very list anet-tui had
    ns = shell.namespace
    assert ns["ran_as_main"] is True and ns["__name__"] == "__main__"
    assert ns["__file__"] == str(script) and ns["loss"].item() == 5.0
    # The folder leads sys.path (a REPL user goes on importing from it), once, run after run.
    folder = str(script.parent.resolve())
    assert sys.path[0] == folder
    sys.path.append(folder)  # and where the user put it too
    assert shell.run_file(script, argv=["c"]).output.startswith("argv ['c']\n")
    assert sys.path[0] == folder and sys.path.count(folder) == 1


def test_run_file_puts_back_argv_and_name_after_an_error_and_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    argv = sys.argv
    shell = Shell(namespace={"__name__": "sandbox"})
    bad = write(
        tmp_path, "bad.py", "import sys\nseen = __name__, sys.argv[1:]\nraise ValueError('no')\n"
    )
    r = shell.run_file(bad, argv=["x"])
    assert r.status == "error" and "ValueError: no" in r.error
    assert f'File "{bad}", line 3, in <module>' in r.error
    assert "anet_tui" not in r.error  # the traceback starts at the script
    assert shell.namespace["seen"] == ("__main__", ["x"])
    assert sys.argv is argv and shell.namespace["__name__"] == "sandbox"
    loop = write(
        tmp_path,
        "loop.py",
        "import sys, time\nseen = sys.argv[1:]\nwhile True:\n    time.sleep(0.01)\n",
    )
    timer = threading.Timer(0.5, shell.interrupt)
    timer.start()
    r = shell.run_file(loop, argv=["y"])
    timer.join()
    assert r.status == "interrupted" and "KeyboardInterrupt" in r.error
    assert shell.namespace["seen"] == ["y"]
    assert sys.argv is argv and shell.namespace["__name__"] == "sandbox"


@pytest.mark.parametrize(
    ("ending", "status", "error"),
    [
        ("sys.exit()", "ok", None),
        ("sys.exit(0)", "ok", None),
        ("raise SystemExit(None)", "ok", None),
        ("exit(0)", "ok", None),
        ("sys.exit(3)", "error", "the script exited with code 3\n"),
        ("sys.exit(True)", "error", "the script exited with code 1\n"),
        ("sys.exit('bad input')", "error", "the script exited with code 1\n"),
    ],
)
def test_run_file_exit_zero_is_success_and_another_code_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str, status: str, error: str | None
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    shell = Shell()
    r = shell.run_file(write(tmp_path, "s.py", f"import sys\nbefore = 1\n{ending}\nafter = 2\n"))
    assert (r.status, r.error) == (status, error)
    assert shell.namespace["before"] == 1 and "after" not in shell.namespace
    if "bad input" in ending:
        assert r.output == "bad input\n"  # printed, as Python prints it


ARGPARSE = """\
import argparse
parser = argparse.ArgumentParser(description="a script with options")
parser.add_argument("--steps", type=int, default=1)
args = parser.parse_args()
print("steps", args.steps)
"""


def test_run_file_argparse_sees_the_script_args(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    shell = Shell()
    path = write(tmp_path, "train.py", ARGPARSE)
    assert shell.run_file(path, argv=["--steps", "3"]).output == "steps 3\n"
    helped = shell.run_file(path, argv=["--help"])
    assert helped.ok and "usage: train.py [-h] [--steps STEPS]" in helped.output
    wrong = shell.run_file(path, argv=["--nope"])
    assert wrong.status == "error" and wrong.error == "the script exited with code 2\n"
    assert "train.py: error: unrecognized arguments: --nope" in wrong.output  # its stderr


# ---- %run ---------------------------------------------------------------------------------------


def test_percent_run_runs_a_script_with_args_recording_and_streaming(script: Path) -> None:
    c = Commands(Shell())
    pieces: list[str] = []
    r = c.execute(f"%run {script} a 'b'", on_output=pieces.append)
    assert r.ok and r.lines == [] and r.output == SAW and "".join(pieces) == SAW
    assert c.shell.namespace["ran_as_main"] is True
    # It ran recording: the graph knows the script's line each op was applied on.
    loss = c.shell.namespace["loss"]
    where = Graph(loss).node(loss.id).where
    assert where is not None and where.file == str(script) and where.line == 11
    assert c.execute("%debug loss").ok  # and the namespace is the script's
    spaced = c.execute(f"%run {script} 'one word' two")
    assert spaced.output.startswith("argv ['one word', 'two']\n")


def test_percent_run_reports_an_exit_code_in_one_line_and_goes_on(tmp_path: Path) -> None:
    c = Commands(Shell())
    path = write(tmp_path, "train.py", ARGPARSE)
    r = c.execute(f"%run {path} --nope")
    assert r.kind == "error" and r.text() == "the script exited with code 2"
    assert "unrecognized arguments: --nope" in r.output
    assert c.execute(f"%run {path} --help").ok
    assert c.execute("parser.description").value == "'a script with options'"


def test_percent_run_is_saved_as_percent_run_and_replays(script: Path, tmp_path: Path) -> None:
    c = Commands(Shell())
    assert c.execute(f"%run {script} a b").ok
    assert c.execute(f"%run {script} again").ok
    failing = write(tmp_path, "fails.py", "raise SystemExit(4)\n")
    assert not c.execute(f"%run {failing}").ok  # what failed is not saved
    saved = tmp_path / "session.py"
    assert c.execute(f"%save {saved}").ok
    text = saved.read_text()
    assert f"# %run {script} a b\n" in text and "fails.py" not in text
    assert "import sys" not in text  # the script is run again, not copied
    replay = Commands(Shell())
    assert replay.execute(f"%lesson {saved}").ok
    outputs: list[str] = []
    replay.submit("%next", on_output=outputs.append)
    assert replay.shell.namespace["ran_as_main"] is True
    assert "argv ['a', 'b']\n" in "".join(outputs)


def test_a_startup_script_is_saved_as_percent_run(script: Path, tmp_path: Path) -> None:
    c = Commands(Shell())
    [ran] = c.startup(script=str(script), script_args=["a", "b c"])
    assert ran.ok and ran.output.startswith("argv ['a', 'b c']\n")
    saved = tmp_path / "session.py"
    assert c.execute(f"%save {saved}").ok
    entries = [e.source for e in Lesson.from_text(saved.read_text()).entries(c.known)]
    assert entries == [f"%run {script} a 'b c'"]


def test_percent_run_refuses_what_is_no_script(tmp_path: Path) -> None:
    c = Commands(Shell())
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    (tmp_path / "binary.py").write_bytes(b"\x00\x01")
    cases = {
        "%run": "usage: %run FILE [ARGS…]",
        f"%run {tmp_path / 'missing.py'}": "missing.py: no such file",
        f"%run {tmp_path / 'folder'}": "folder: it is a directory",
        f"%run {tmp_path / 'fifo'}": "fifo: it is a FIFO (named pipe), not a regular file",
        f"%run {tmp_path / 'binary.py'}": "binary.py: it is a binary file",
        "%run 'unclosed": "%run: No closing quotation",
    }
    for line, words in cases.items():
        r = c.execute(line)
        assert r.kind == "error" and words in r.text(), (line, r.text())
    assert "%run FILE [ARGS…]" in c.execute("%help run").text()


def test_percent_run_runs_a_file_with_cells_as_a_script_and_says_so(tmp_path: Path) -> None:
    # `# %%` cells make a file a lesson only for %lesson / --lesson: %run runs it as Python.
    c = Commands(Shell())
    path = write(tmp_path, "cells.py", "# %%\nimport sys\nx = sys.argv[1:]\n# %step\n")
    r = c.execute(f"%run {path} a")
    assert r.ok and c.shell.namespace["x"] == ["a"], r.text()
    assert "cells.py has # %% cells: it ran as a script; %lesson " in r.text()
    assert "steps through them" in r.text()
    assert "has # %% cells" not in c.execute(f"%run {write(tmp_path, 'plain.py', 'y = 1')}").text()


# ---- the plain REPL, check, the command line --------------------------------------------------


def run_cli(*args: str, cwd: Path, stdin: str = "") -> tuple[int, str, str]:
    env = {**os.environ, "NO_COLOR": "1", "ANET_TUI_HISTORY": str(cwd / "history")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(cli.__file__).parents[1]), *sys.path])
    proc = subprocess.run(
        [sys.executable, "-m", "anet_tui.cli", *args],
        input=stdin.encode(),
        capture_output=True,
        timeout=120,
        cwd=cwd,  # not the script's folder: its sibling is found through sys.path
        env=env,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_plain_passes_the_args_and_percent_run_works_there(script: Path, tmp_path: Path) -> None:
    stdin = f"print(ran_as_main, __name__)\n%run {script} c\nimport sys; print(sys.argv[1:3])\n"
    code, out, err = run_cli("--plain", str(script), "a", "b", cwd=tmp_path, stdin=stdin)
    assert code == 0, err
    assert out.startswith(SAW)
    assert "True __main__\n" in out and "argv ['c']\n" in out
    assert "['--plain', " in out  # anet-tui's own argv is back once the script has run


def test_plain_reports_a_script_exit_and_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "train.py", "before = 1\n" + ARGPARSE)
    code, out, err = run_cli(
        "--plain", str(path), "--nope", cwd=tmp_path, stdin="print('still here', before)\n"
    )
    assert code == 0, err
    assert "unrecognized arguments: --nope\nthe script exited with code 2\n" in out
    assert "still here 1" in out


def test_check_passes_the_args_after_the_double_dash(
    script: Path, capsys: pytest.CaptureFixture
) -> None:
    code = cli.main(["check", str(script), "--root", "loss", "--", "a", "b"])
    out = capsys.readouterr().out
    assert code == 0  # the script ended with sys.exit(0): a clean run
    assert out.startswith(SAW) and "loss (#" in out and ", 0 flags" in out


def test_check_args_reach_the_script_verbatim(script: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("check", str(script), "--", "--root", "x", "--", "y", cwd=tmp_path)
    assert code == 0, err
    assert out.startswith("argv ['--root', 'x', '--', 'y']\n")


def test_the_command_line_gives_every_word_after_the_script_to_it() -> None:
    args = cli.build_parser().parse_args(["--plain", "t.py", "--steps", "3", "--plain", "-h"])
    assert args.plain and args.script == "t.py"
    assert args.args == ["--steps", "3", "--plain", "-h"]
    assert cli.build_parser().parse_args(["--demo", "mlp"]).args == []
    check = cli.parse_check_args(["s.py", "--root", "loss", "--timeout", "5", "--", "-x"])
    assert (check.script, check.root, check.timeout, check.args) == ("s.py", "loss", 5.0, ["-x"])
    assert cli.parse_check_args(["s.py"]).args == []
    help_text = cli.build_parser().format_help()
    assert "[SCRIPT.py [ARGS ...]]" in help_text and "options go before SCRIPT.py" in help_text
    assert "[-- ARGS ...]" in cli.build_check_parser().format_help()


def test_a_file_with_cells_on_the_command_line_runs_as_a_script(tmp_path: Path) -> None:
    # Issue 14: `anet-tui FILE` runs FILE, `# %%` cells or not; only --lesson opens a lesson.
    path = write(tmp_path, "cells.py", "# %%\nimport sys\nx = sys.argv[1:]\nprint('ran', x)\n")
    code, out, err = run_cli("--plain", str(path), "a", "b", cwd=tmp_path, stdin="print(x)\n")
    assert code == 0, err
    assert "ran ['a', 'b']\n" in out and "cells.py has # %% cells: it ran as a script" in out
    code, out, err = run_cli("--plain", "--lesson", str(path), cwd=tmp_path, stdin="%next\n")
    assert code == 0 and "lesson cells (1 cell)" in out, err
    assert "\nran [" not in out.split(">>> %next")[0] and "\nran [" in out  # ran at %next only


def test_a_lesson_on_the_command_line_takes_no_args(tmp_path: Path) -> None:
    lesson = write(tmp_path, "lesson.py", "# %%\nx = 1\n")
    code, _, err = run_cli("--lesson", "--plain", str(lesson), "extra", cwd=tmp_path)
    assert code == 2 and "is a lesson: it takes no ARGS" in err


# ---- the app at 80×24 ---------------------------------------------------------------------------


def open_app(
    tmp_path: Path, script: Path, args: list[str], then: Sequence[str] = ()
) -> tuple[bool, str, str]:
    """Start the app on ``script ARGS``, type ``then``: (still running, transcript, screen)."""

    async def main() -> tuple[bool, str, str]:
        history = HistoryFile(tmp_path / "history")
        app = AnetApp(script=str(script), script_args=args, history=history)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for entry in then:
                await enter(pilot, entry)
            return app.is_running, app.transcript.text, screen_text(app)
        return False, "", ""

    return asyncio.run(main())


def test_app_shows_a_script_exit_in_one_line_and_stays_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = write(
        tmp_path, "three.py", "import sys\nbefore = 40\nprint('ran', sys.argv[1:])\nsys.exit(3)\n"
    )
    running, transcript, screen = open_app(tmp_path, path, ["a"], ["before + 2"])
    assert running
    assert "ran ['a']\nthe script exited with code 3\n" in transcript
    assert "Traceback" not in transcript and "SystemExit" not in transcript
    assert "the script exited with code 3" in screen
    assert ">>> before + 2\n42" in transcript  # the namespace is the script's


def test_app_survives_a_scripts_help_and_runs_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = write(tmp_path, "train.py", ARGPARSE)
    running, transcript, screen = open_app(
        tmp_path, path, ["--help"], [f"%run {path} --steps 4", "args.steps * 10"]
    )
    assert running
    assert "usage: train.py [-h] [--steps STEPS]" in transcript and "exited" not in transcript
    assert "steps 4\n" in transcript and "\n40" in transcript
    assert "40" in screen


def test_the_spiral_with_a_wrong_option_leaves_the_app_open_in_a_real_terminal(
    tmp_path: Path,
) -> None:
    spiral = Path(cli.__file__).parents[1] / "examples" / "train_spiral.py"
    term = Terminal([str(spiral), "--bogus", "7"], tmp_path)
    try:
        term.wait_for(lambda s: "exited with code 2" in s)
        term.type("make_spiral(2)[1]\r")
        screen = term.wait_for(lambda s: "array([0, 0, 1, 1, 2, 2])" in s)
    finally:
        code = term.close()
    assert "train_spiral.py: error: unrecognized arguments: --bogus 7" in screen
    assert code == 0


def test_the_spiral_trains_with_its_own_options_in_a_real_terminal(tmp_path: Path) -> None:
    spiral = Path(cli.__file__).parents[1] / "examples" / "train_spiral.py"
    args = [str(spiral), "--epochs", "3", "--points", "20", "--print-every", "1"]
    term = Terminal(args, tmp_path)
    try:
        screen = term.wait_for(lambda s: "final train accuracy" in s and ">>>" in s)
    finally:
        code = term.close()
    assert "epoch    3" in screen and "(60 points, 3 epochs)" in screen
    assert code == 0
