"""Files: history where it cannot be written, two REPLs writing one history, scripts and lessons
that are missing, binary or broken, and ``%save`` over an existing file."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from anet_tui.commands import Commands
from anet_tui.plain import PlainRepl
from anet_tui.shell import Shell

pytestmark = pytest.mark.timeout(60)

ANET_TUI = shutil.which("anet-tui", path=os.path.dirname(sys.executable)) or "anet-tui"
UP = "\x1b[A"
CTRL_D = "\x04"


def run_cli(
    *args: str, stdin: str = "", cwd: Path | None = None, history: Path | None = None
) -> tuple[int, str, str]:
    """The installed ``anet-tui`` with ``stdin`` piped in: (exit code, stdout, stderr)."""
    env = {**os.environ, "NO_COLOR": "1"}
    if history is not None:
        env["ANET_TUI_HISTORY"] = str(history)
    proc = subprocess.run(
        [ANET_TUI, *args], input=stdin.encode(), capture_output=True, timeout=60, env=env, cwd=cwd
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def type_into_plain_repl(keys: list[str]) -> tuple[PlainRepl, str]:
    """Type ``keys`` (chunk by chunk, as a person would) into a plain REPL using the default
    history file (``$ANET_TUI_HISTORY``); return it and what it printed."""
    out = io.StringIO()
    left = threading.Event()
    with create_pipe_input() as pipe:

        def typist() -> None:
            for chunk in keys:
                if left.is_set():
                    return
                pipe.send_text(chunk)
                time.sleep(0.15)

        typing = threading.Thread(target=typist, daemon=True)
        typing.start()
        shell = Shell()
        repl = PlainRepl(shell, Commands(shell), input=pipe, output=DummyOutput(), out=out)
        assert repl.interact() == 0
        left.set()
        typing.join()  # before the pipe closes: its descriptor may be reused by the next one
    return repl, out.getvalue()


# ---- history -------------------------------------------------------------------------------


def unwritable_places(tmp_path: Path) -> dict[str, Path]:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    if os.geteuid() == 0:  # root writes through permission bits: sysfs refuses even root
        read_only = Path("/sys/anet-tui-test/history")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        read_only = folder / "history"
    return {"parent is a file": blocker / "state" / "history", "read-only folder": read_only}


@pytest.mark.parametrize("place", ["parent is a file", "read-only folder"])
def test_history_that_cannot_be_written_warns_once_and_the_repl_goes_on(
    place: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = unwritable_places(tmp_path)[place]
    monkeypatch.setenv("ANET_TUI_HISTORY", str(path))
    keys = ["a = 1\r", "b = a + 1\r", "c = b * 10\r", UP, "\r", CTRL_D]
    repl, out = type_into_plain_repl(keys)
    assert out.count("anet-tui: history cannot be") == 1, out
    assert "kept in memory only" in out
    assert repl.shell.namespace["c"] == 20
    # Up still recalled the last entry from memory and ran it again.
    ran = [c.source for c in repl.shell.cells]
    assert ran == ["a = 1", "b = a + 1", "c = b * 10", "c = b * 10"]
    assert not path.exists()


def test_history_in_a_missing_folder_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "not" / "yet" / "there" / "history"
    monkeypatch.setenv("ANET_TUI_HISTORY", str(path))
    _, out = type_into_plain_repl(["kept = 1\r", CTRL_D])
    assert "history" not in out
    assert [json.loads(line) for line in path.read_text().splitlines()] == ["kept = 1"]


WRITER = textwrap.dedent(
    """\
    import io, pathlib, sys, time
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from anet_tui.plain import PlainRepl

    tag, n, folder = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
    (folder / f"ready-{tag}").touch()
    while not (folder / "go").exists():  # start together
        time.sleep(0.01)
    with create_pipe_input() as pipe:
        # Everything typed ahead: the two processes run flat out, side by side.
        pipe.send_text("".join(f"{tag}_{i} = {i}\\r" for i in range(n)) + "\\x04")
        sys.exit(PlainRepl(input=pipe, output=DummyOutput(), out=io.StringIO()).interact())
    """
)


def test_two_repls_writing_one_history_lose_nothing_and_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "history"
    env = {**os.environ, "ANET_TUI_HISTORY": str(path)}
    n = 80
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, tag, str(n), str(tmp_path)], env=env)
        for tag in "AB"
    ]
    while not all((tmp_path / f"ready-{tag}").exists() for tag in "AB"):
        time.sleep(0.01)
    (tmp_path / "go").touch()
    assert [p.wait(60) for p in procs] == [0, 0]
    entries = [json.loads(line) for line in path.read_text().splitlines()]  # whole lines only
    assert len(entries) == 2 * n
    for tag in "AB":
        assert [e for e in entries if e.startswith(tag)] == [f"{tag}_{i} = {i}" for i in range(n)]


# ---- scripts and lessons that are missing, binary or broken ---------------------------------


def test_a_missing_script_or_lesson_is_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.py")
    code, _, err = run_cli("--plain", missing, history=tmp_path / "h")
    assert code == 2 and f"{missing}: no such file" in err
    code, _, err = run_cli("check", missing)
    assert code == 2 and "no such file" in err
    code, out, _ = run_cli("--plain", "--lesson", missing, stdin="print('still here')\n")
    assert code == 0 and "no such file" in out and "still here" in out


def test_a_binary_script_or_lesson_is_a_clear_error(tmp_path: Path) -> None:
    binary = tmp_path / "model.py"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    code, out, _ = run_cli(
        "--plain", str(binary), stdin="print('still here')\n", history=tmp_path / "h"
    )
    assert code == 0 and "it is a binary file, not Python source" in out and "still here" in out
    assert "\x00" not in out and "\x7f" not in out
    code, _, err = run_cli("check", str(binary))
    assert code == 2 and "binary file" in err
    code, out, _ = run_cli("--plain", stdin=f"%lesson {binary}\nprint('still here')\n")
    assert "binary file" in out and "still here" in out


LESSON = textwrap.dedent(
    """\
    # %%
    a = 1
    # %%
    b = a + 1
    # %%
    c = (b +
    # %%
    d = 4
    """
)


def test_a_lesson_with_a_syntax_error_in_cell_3_keeps_cells_1_and_2(tmp_path: Path) -> None:
    lesson = tmp_path / "broken_lesson.py"
    lesson.write_text(LESSON)
    typed = "%next\n%next\n%next\nprint('a, b =', a, b)\n%next\nprint('d =', d)\n"
    code, out, _ = run_cli("--plain", "--lesson", str(lesson), stdin=typed, history=tmp_path / "h")
    assert "cell 3 cannot run: line 6: '(' was never closed" in out  # said when it opens
    assert "SyntaxError: '(' was never closed" in out  # and when it runs
    assert "a, b = 1 2" in out and "d = 4" in out
    assert code == 0


def test_a_script_with_a_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("x = 1\ny = 2\nz = (x +\n")
    code, out, _ = run_cli("--plain", str(script), stdin="print('ok', 1 + 1)\n")
    assert f'File "{script}", line 3' in out and "SyntaxError" in out and "ok 2" in out
    code, _, err = run_cli("check", str(script))
    assert code == 2 and "SyntaxError" in err and "line 3" in err


def test_save_over_an_existing_file_needs_f(tmp_path: Path) -> None:
    typed = textwrap.dedent(
        """\
        x = 1
        %save session.py
        y = 2
        %save session.py
        print('after the refusal')
        %save session.py -f
        """
    )
    code, out, _ = run_cli("--plain", stdin=typed, cwd=tmp_path, history=tmp_path / "h")
    assert "saved 1 cell to session.py" in out
    assert "session.py exists: it is replaced only when forced (%save FILE -f)" in out
    assert "after the refusal" in out and "saved 3 cells to session.py" in out
    saved = (tmp_path / "session.py").read_text()
    assert "x = 1" in saved and "y = 2" in saved and "print('after the refusal')" in saved
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    assert code == 1  # the refused %save is an error
