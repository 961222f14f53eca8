"""Whatever is typed or piped into the REPL, and whatever the code prints, the REPL answers, stays
usable, and shows the output inert and capped — through the shared evaluator, the plain REPL, and
the installed ``anet-tui --plain`` reading a pipe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from plain_keys import drive
from prompt_toolkit.buffer import Buffer

import anet_tui.capture
from anet_tui.commands import Commands
from anet_tui.history import HistoryFile
from anet_tui.lessons import Lesson
from anet_tui.shell import RunResult, Shell
from anet_tui.source import is_complete, split_input

# No test here times anything (issue 12): the cap is shown by how little work is done past it,
# and a hang by this generous limit. Speed is measured in benchmarks/tui_bench.py.
pytestmark = pytest.mark.timeout(180)

ANET_TUI = shutil.which("anet-tui", path=os.path.dirname(sys.executable)) or "anet-tui"
# What a terminal would obey: ESC, BEL, NUL, backspace, C1 CSI, bidi overrides.
OBEYED = ["\x1b", "\x07", "\x00", "\x08", "\x9b", "\u202e"]


def evaluate(c: Commands, source: str) -> RunResult:
    result = c.execute(source)
    assert isinstance(result, RunResult)
    return result


def still_usable(c: Commands) -> None:
    assert c.shell.namespace["kept"] == 41, "the namespace was lost"
    assert c.execute("kept + 1").value == "42"


@pytest.fixture
def c() -> Commands:
    commands = Commands(Shell())
    assert commands.execute("kept = 41").ok
    return commands


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def f(:\n    pass", "SyntaxError: invalid syntax"),
        ("x = (1,\n", "SyntaxError: '(' was never closed"),
        ("raise ValueError('boom')", "ValueError: boom"),
        ("def deep(n):\n    return deep(n + 1)\n\ndeep(0)", "RecursionError: maximum recursion"),
        ("np.zeros((10**6, 10**6))", "Unable to allocate 7.28 TiB"),
        ("bytearray(10**15)", "MemoryError"),
        ("name = input('who are you? ')", "input() cannot read here"),
        ("import builtins\nbuiltins.input()", "EOFError"),
        (
            "class Loop:\n    def __repr__(self):\n        return repr(self)\n\nLoop()",
            "repr failed",
        ),
    ],
)
def test_errors_end_in_a_result_and_the_namespace_survives(
    c: Commands, source: str, words: str
) -> None:
    result = evaluate(c, source)
    shown = result.text()
    assert result.status in ("error", "ok") and words in shown, shown
    assert "anet_tui/shell.py" not in shown  # the traceback starts at the user's code
    assert len(shown) < 25_000
    still_usable(c)


@pytest.mark.timeout(60)  # a read that waited for input would never end
def test_stdin_reads_end_at_once(c: Commands) -> None:
    result = evaluate(c, "import sys\n(sys.stdin.read(), sys.stdin.readline())")
    assert result.ok and result.value == "('', '')"


@pytest.mark.parametrize(
    ("source", "code", "printed"),
    [("exit()", 0, ""), ("quit(3)", 3, ""), ("import sys\nsys.exit('bye now')", 1, "bye now")],
)
def test_exit_asks_the_front_end_to_leave(
    c: Commands, source: str, code: int, printed: str
) -> None:
    result = evaluate(c, source)
    assert result.status == "exit" and result.exit_code == code and printed in result.output
    still_usable(c)  # nothing was torn down: leaving is the front-end's decision


@pytest.mark.parametrize(
    "source",
    [
        "print(np.arange(10**8, dtype=np.float32))",  # numpy summarises a huge array itself
        "np.arange(10**8, dtype=np.float32)",
        "print('x' * 10_000_000)",  # 10 MB in one line
        "print(('y' * 99 + '\\n') * 100_000)",  # 10 MB in lines
        "for i in range(200_000):\n    print(i, 'z' * 40)",
        "'v' * 10_000_000",  # a 10 MB value
        "import sys\nsys.stdout.buffer.write(b'w' * 10_000_000)",
    ],
)
def test_huge_output_is_capped_and_fast(
    c: Commands, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fast because the capture stops working once its budget is spent: of 10 MB printed, only
    # about what is kept is ever made inert; the rest is counted and dropped unseen.
    escaped: list[int] = []
    escape = anet_tui.capture.escape
    monkeypatch.setattr(
        anet_tui.capture, "escape", lambda text: escaped.append(len(text)) or escape(text)
    )
    result = evaluate(c, source)
    shown = result.text()
    assert result.ok
    assert sum(escaped) < 120_000, f"{sum(escaped):,} characters made inert"
    assert len(shown) < 60_000 and shown.count("\n") <= 1_010
    assert max(len(line) for line in shown.split("\n")) < 2_100  # long lines are cut too
    assert "cut" in shown or "more characters" in shown or "..." in shown
    still_usable(c)


def test_escape_sequences_and_control_characters_are_shown_inert(c: Commands) -> None:
    hostile = (
        "print('\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07 bell\\x07 nul\\x00 bs\\x08 csi\\x9b31m "
        "rtl\\u202etxt.exe over\\rwritten')\n"
        "'\\x1b[31mred value'"
    )
    result = evaluate(c, hostile)
    shown = result.text()
    assert result.ok and not any(ch in shown for ch in OBEYED)
    assert "\\x1b[2J" in shown and "\\x07" in shown and "\\x9b" in shown and "\\u202e" not in shown
    assert "over\nwritten" in shown  # a carriage return cannot overwrite the line


def test_hostile_text_in_errors_and_flags_is_inert(c: Commands) -> None:
    source = (
        "class Evil(Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        return x * 1\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        raise ValueError('\\x1b]0;owned\\x07\\x1b[2J')\n"
        "\n"
        "loss = Evil.apply(Tensor([1.0]), Evil).sum()"
    )
    assert c.execute(source).ok
    for line in ("%debug loss", "%continue", "%flags", "%show", "loss.backward()", "%nope\x1b[2J"):
        shown = c.execute(line).text()
        assert not any(ch in shown for ch in OBEYED), (line, shown)
    assert "\\x1b]0;owned" in c.execute("%flags").text()


def test_bytes_that_are_not_utf8_in_output(c: Commands) -> None:
    source = (
        "import sys\n"
        "sys.stdout.buffer.write(b'bad \\xff\\xfe bytes \\xc3\\n')\n"
        "print('lone surrogate \\udce9')\n"
        "'\\udcff'"
    )
    result = evaluate(c, source)
    shown = result.text()
    assert result.ok and "bad \ufffd\ufffd bytes \ufffd" in shown
    shown.encode("utf-8")  # nothing a terminal could not be sent
    assert "lone surrogate ?" in shown


def test_bytes_that_are_not_utf8_typed_in_a_terminal(c: Commands, tmp_path: Path) -> None:
    # prompt_toolkit hands bytes that are not UTF-8 over as lone surrogates (surrogateescape).
    result = evaluate(c, "s = 'caf\udce9 \udcff'\nlen(s)")
    assert result.ok and result.value == "6"
    assert c.shell.namespace["s"] == "caf\ufffd \ufffd"
    saved = c.execute(f"%save {tmp_path / 'session.py'}")
    assert saved.ok and "caf\ufffd" in (tmp_path / "session.py").read_text(encoding="utf-8")


def test_asking_whether_input_is_complete_prints_no_warning() -> None:
    """Enter calls is_complete: a SyntaxWarning printed there would land in the prompt."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert is_complete("None[0]") and is_complete("'\\d'")
        assert split_input("None[0]\nx = '\\d'\n") == ["None[0]", "x = '\\d'"]
        Lesson.from_text("# %%\nNone[0]\n").cells[0].syntax_error()
    assert [str(w.message) for w in caught] == []


# ---- the plain REPL, typed into ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"), [("exit()", 0), ("quit()", 0), ("import sys; sys.exit(4)", 4)]
)
def test_exit_leaves_the_plain_repl_with_history_saved(
    typed: str, code: int, tmp_path: Path
) -> None:
    repl, _, exit_code = drive(["before = 1\r", typed + "\r", "after = 2\r"], tmp_path, pause=0.15)
    assert exit_code == code and "after" not in repl.shell.namespace
    assert HistoryFile(tmp_path / "history").entries == ["before = 1", typed]


def test_a_very_long_line_pasted_into_the_plain_repl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal delivers a paste between bracketed-paste marks: inserted at once, not per key.
    inserts: list[int] = []
    insert_text = Buffer.insert_text

    def counted(self: Buffer, data: str, *args: object, **kwargs: object) -> None:
        inserts.append(len(data))
        insert_text(self, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Buffer, "insert_text", counted)
    paste = "\x1b[200~s = '" + "q" * 200_000 + "'\x1b[201~"
    repl, out, _ = drive([paste, "\r", "len(s)\r", "\x04"], tmp_path, pause=0.15)
    assert repl.shell.namespace["s"] == "q" * 200_000 and "200000" in out
    assert max(inserts) >= 200_000 and len(inserts) < 100, len(inserts)  # one insert, not 200,000


# ---- the installed command, reading a pipe -------------------------------------------------


def run_plain(stdin: bytes, tmp_path: Path, **env: str) -> tuple[int, bytes, bytes]:
    proc = subprocess.run(
        [ANET_TUI, "--plain"],
        input=stdin,
        capture_output=True,
        timeout=150,  # a hang guard, not a speed claim
        env={**os.environ, "ANET_TUI_HISTORY": str(tmp_path / "h"), **env},
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_piped_hostile_input_and_output(tmp_path: Path) -> None:
    stdin = (
        b"s = 'raw \xff\xfe bytes'\n"  # not UTF-8, inside a string
        b"caf\xe9 = 1\n"  # not UTF-8, in a name
        b"print('\\x1b[2J\\x1b]0;title\\x07', '\x1b[31mtyped escape\x1b[0m')\n"
        b"x = '" + b"L" * 1_000_000 + b"'\n"  # a 1 MB line
        b"print(len(x), s)\n"
        b"print('z' * 5_000_000)\n"
        b"print('the end')\n"
    )
    code, out, err = run_plain(stdin, tmp_path, NO_COLOR="1")
    assert err == b""
    text = out.decode("utf-8")  # valid UTF-8 throughout
    assert not any(ch in text for ch in OBEYED)
    assert "1000000 raw \ufffd\ufffd bytes" in text and "the end" in text
    assert "SyntaxError" in text and code == 1  # the name with a bad byte cannot compile
    assert len(out) < 200_000  # the 1 MB echo and the 5 MB print were cut


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    script = tmp_path / "many.py"
    cells = ["print('first line')", "import time; time.sleep(0.5)"]
    cells += [f"print({i}, 'x' * 100)" for i in range(2_000)]
    script.write_text("\n".join(cells) + "\n")
    env = {**os.environ, "ANET_TUI_HISTORY": str(tmp_path / "h"), "TMPDIR": str(tmp_path)}
    pipeline = f"'{ANET_TUI}' --plain < '{script}' | head -1; exit ${{PIPESTATUS[0]}}"
    proc = subprocess.run(
        ["bash", "-c", pipeline], capture_output=True, timeout=60, env=env, cwd=tmp_path
    )
    assert proc.stdout == b">>> print('first line')\n"
    assert proc.stderr == b"", proc.stderr.decode()  # no traceback, no "crashed" line
    assert proc.returncode == 141  # 128 + SIGPIPE, as for any tool the pipe stopped
    assert not list(tmp_path.glob("anet-tui-crash-*")), "a crash report was written"


def test_check_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    script = tmp_path / "loss.py"
    script.write_text(
        "from anet import Tensor\nimport time\n"
        "x = Tensor([1.0, 2.0])\n"
        + "".join(f"loss{i} = (x * {i + 1}.0).sum()\n" for i in range(300))
    )
    env = {**os.environ, "ANET_TUI_HISTORY": str(tmp_path / "h"), "TMPDIR": str(tmp_path)}
    pipeline = f"'{ANET_TUI}' check '{script}' | head -1; exit ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", pipeline], capture_output=True, timeout=60, env=env)
    assert proc.stdout.startswith(b"loss0 (#") and proc.stdout.count(b"\n") == 1
    assert proc.stderr == b"" and proc.returncode in (0, 141)
    assert not list(tmp_path.glob("anet-tui-crash-*"))
