"""Every anet-tui message is a sentence: a % command used wrongly answers in words (never a
``KeyError(...)`` repr, never a traceback through anet-tui's own code); tracebacks are for the
user's code, trimmed to the user's frames."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from anet_tui.commands import BUILTIN_COMMANDS, CommandResult, Commands
from anet_tui.plain import PlainRepl
from anet_tui.shell import Shell
from anet_tui.text import ascii_only

ROOT = str(Path(__file__).resolve().parents[2])

PROGRAM = textwrap.dedent(
    """\
    x = Tensor.ones(2, requires_grad=True)
    loss = (x * x).sum()
    big = x * 3
    """
)

# Bad arguments for every command of the table (the test below checks none is forgotten).
BAD: dict[str, list[str]] = {
    "debug": [
        "",
        "3",
        "nope",
        "x",
        "big",
        "x.sum().detach()",
        "1/0",
        "]]",
        "'unterminated",
        "x.sum() + Tensor.ones(3)",
    ],
    "step": ["abc", "0", "-1", "1 2", "1e9", "99999999999999999999999"],
    "continue": ["now"],
    "finish": ["now"],
    "restart": ["now"],
    "break": [
        "#999",
        "999",
        "#1",
        "#",
        "#-1",
        "node abc",
        "node #999",
        "op Nope",
        "flag nope",
        "a b c",
        "clear #999",
        "clear a b c",
        "clear node abc",
        "Nope",
    ],
    "check": ["#999", "abc", "#1", "all extra", "#"],
    "flags": ["extra"],
    "show": ["#999", "abc", "--json #999", "#", "--json abc", "#1 #2"],
    "tree": ["#999", "abc", "#"],
    "run": ["", "/nonexistent/x.py", "'unterminated", "/dev/null/x", "/"],
    "edit": ["-p", "/nonexistent/folder/x.py", "'unterminated", "/", "-z"],
    "flow": ["", "--params", "--params nope", "--bogus", "#999"],
    "save": ["", "/nonexistent/dir/x.py", "'unterminated", "a b", "/"],
    "lesson": ["99", "nonexistent", "'unterminated", "/", "/dev/null"],
    "next": ["extra"],
    "prev": ["extra"],
    "goto": ["abc", "99", "-1", "0", ""],
    "help": ["nope", "%nope"],
}

# A Python repr of an exception (``KeyError('no #999 …')``), or an exception class named by its
# module path (``anet.autograd.GradientError:``): internals, not sentences.
INTERNALS = re.compile(r"\b[A-Z]\w*(Error|Exception|Warning)\(|\banet(_tui)?\.\w+\.\w+Error\b")


def bad_lines() -> list[str]:
    return [f"%{name} {arg}".rstrip() for name, args in BAD.items() for arg in args]


def test_every_command_of_the_table_is_tried() -> None:
    assert set(BAD) == {c.name for c in BUILTIN_COMMANDS}


def assert_sentences(text: str) -> None:
    assert "Traceback" not in text, text
    assert not INTERNALS.search(text), text


@pytest.mark.parametrize("session", [False, True], ids=["no session", "session"])
def test_bad_arguments_answer_in_sentences(session: bool) -> None:
    c = Commands(Shell())
    c.execute(PROGRAM)
    if session:
        c.execute("%debug loss")
        c.execute("%step")
    for line in bad_lines():
        result = c.execute(line)
        assert isinstance(result, CommandResult)
        text = result.text() + result.output
        assert text.strip(), line  # an answer, not silence
        assert_sentences(f"{line}\n{text}")
        for answer in result.lines:
            if answer.kind == "error":
                assert answer.text[:1].isalnum() or answer.text[:1] == "%", answer.text


def test_the_plain_repl_transcript_of_every_bad_command_has_no_traceback() -> None:
    """The done-when of issue #14: grep "Traceback" over the transcript of a session that tries
    every % command with bad arguments finds nothing."""
    out = io.StringIO()
    repl = PlainRepl(out=out)
    script = "\n".join([PROGRAM, *bad_lines(), "%debug loss", "%step", *bad_lines()])
    repl.run_text(script + "\n")
    transcript = out.getvalue()
    assert transcript.count(">>> %") == 2 * len(bad_lines()) + 2
    assert_sentences(transcript)


def test_break_on_a_node_not_in_the_graph_says_so_as_show_does() -> None:
    c = Commands(Shell())
    c.execute(PROGRAM)
    c.execute("%debug loss")
    broke, shown = c.execute("%break #999"), c.execute("%show #999")
    assert broke.text() == shown.text() == f"no #999 in the graph of #{c.session.root.id} Sum"


def test_an_internal_failure_is_a_sentence_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a handler: said in words, with what to do (report it), never as a repr."""
    c = Commands(Shell())
    c.execute(PROGRAM)
    c.execute("%debug loss")

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("no such thing")

    monkeypatch.setattr(c.session, "list_breaks", broken)
    result = c.execute("%break")
    assert result.kind == "error"
    assert result.text() == (
        "%break failed inside anet-tui: no such thing (KeyError; a bug: please report it)"
    )


# ---- tracebacks: the user's own code, the user's frames ------------------------------------


def test_an_error_inside_anet_called_from_user_code_shows_the_user_s_frames_only() -> None:
    shell = Shell()
    shell.run("x = Tensor.ones(2)\ndef f():\n    return x.reshape(5)\n")
    error = shell.run("f()").error or ""
    assert error.startswith("Traceback (most recent call last):")
    assert '"<repl-2>", line 1' in error and '"<repl-1>", line 3, in f' in error
    assert "anet/" not in error and "direct cause" not in error  # anet's own frames: dropped
    assert error.rstrip().endswith("cannot reshape array of size 2 into shape (5,)")


def test_a_user_function_s_own_frames_stay() -> None:
    shell = Shell()
    shell.run(
        textwrap.dedent(
            """\
            class Bad(Function):
                @staticmethod
                def forward(ctx, x):
                    raise ValueError("my forward is broken")

                @staticmethod
                def backward(ctx, g):
                    return g
            """
        )
    )
    error = shell.run("Function.apply(Tensor.ones(2), Bad)").error or ""
    assert "in forward" in error and 'raise ValueError("my forward is broken")' in error
    assert "anet/tensor.py" not in error


def check_run(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "anet_tui.cli", "check", str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_check_with_a_root_of_two_elements_says_so_in_one_line(tmp_path: Path) -> None:
    source = "from anet import Tensor\nx = Tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\n"
    ran = check_run(tmp_path, source, "--root", "y")
    assert ran.returncode == 2
    assert "Traceback" not in ran.stderr + ran.stdout
    (line,) = ran.stderr.splitlines()
    assert line.startswith("anet-tui check: y ") and "(2,)" in line and ".sum()" in line


def test_check_of_a_failing_script_shows_the_script_s_frames(tmp_path: Path) -> None:
    source = "from anet import Tensor\nx = Tensor.ones(2)\ny = x.reshape(5)\n"
    ran = check_run(tmp_path, source)
    assert ran.returncode == 2
    assert 'script.py", line 3' in ran.stderr and "anet/" not in ran.stderr


# ---- ASCII: when, and the plain REPL under TERM=linux --------------------------------------


@pytest.mark.parametrize(
    ("env", "ascii"),
    [
        ({"TERM": "linux", "LANG": "en_US.UTF-8"}, True),  # the console font lacks ✓ ✗ ▶
        ({"TERM": "xterm", "LANG": "C"}, True),
        ({"TERM": "xterm", "LANG": "C", "LC_CTYPE": "C.UTF-8"}, True),  # Python's coercion
        ({"TERM": "xterm", "LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}, True),
        ({"TERM": "xterm", "LANG": "en_US.ISO-8859-1"}, True),
        ({"TERM": "xterm", "LANG": "de_DE@euro"}, True),
        ({"TERM": "xterm", "LANG": "en_US.UTF-8"}, False),
        ({"TERM": "xterm-256color", "LANG": "en_US.utf8"}, False),
        ({"TERM": "xterm", "LC_ALL": "C.UTF-8", "LANG": "C"}, False),
        ({"TERM": "screen"}, False),  # no locale set: the stream's encoding decides
    ],
)
def test_when_to_write_ascii(env: dict[str, str], ascii: bool) -> None:
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert ascii_only(utf8, env) is ascii
    latin1 = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    assert ascii_only(latin1, {"TERM": "xterm", "LANG": "en_US.UTF-8"}) is True


def test_the_plain_repl_under_term_linux_writes_ascii_marks() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "anet_tui.cli", "--plain", "--demo", "nan"],
        input="%debug loss\n%step\n%step\n%show #4\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin", "TERM": "linux", "LANG": "C.UTF-8"},
        check=False,
    )
    out = ran.stdout
    assert out.isascii(), [c for c in out if not c.isascii()]
    assert "x nonfinite at #4 Sqrt" in out and "ok done" in out and "> current" in out


# ---- the plain REPL wraps its messages at word boundaries ------------------------------------


def test_long_messages_wrap_between_words_to_the_terminal_width() -> None:
    """Long messages broke mid-word at the terminal's edge: now they wrap between words,
    continuation lines indented; tree rows are never wrapped (their columns stay lined up)."""
    out = io.StringIO()
    repl = PlainRepl(out=out, width=50)
    repl.execute(PROGRAM)
    repl.execute("%debug loss")
    message = (
        f"session on #{repl.commands.session.root.id} Sum (loss): 2 nodes, nothing run yet; "
        "%step runs one node, %continue runs to the next flag"
    )
    lines = out.getvalue().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("session on"))
    block = [lines[first]]
    for line in lines[first + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    assert len(message) > 50 and len(block) > 1 and all(len(line) <= 50 for line in block)
    assert " ".join(line.strip() for line in block) == message  # every break between words
    assert all(line.startswith("  ") and not line.startswith("   ") for line in block[1:])
    assert lines[first + len(block)].startswith("#") and "current" in lines[first + len(block)]


def test_into_a_pipe_lines_stay_whole() -> None:
    out = io.StringIO()  # no terminal: no width
    repl = PlainRepl(out=out)
    repl.execute(PROGRAM)
    repl.execute("%debug loss")
    lines = out.getvalue().split("\n")
    assert any(len(line) > 80 and line.startswith("session on") for line in lines)
