"""The shared evaluator: namespace, completeness, capture, caps, interrupts, errors, history."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import anet_tui.capture
from anet import Tensor
from anet_tui.history import HistoryFile, history_path
from anet_tui.plain import PromptHistory
from anet_tui.shell import Shell
from anet_tui.source import is_complete, split_input
from anet_tui.text import display, inert


@pytest.fixture
def shell() -> Shell:
    return Shell()


def interrupt_after(shell: Shell, seconds: float) -> threading.Thread:
    def later() -> None:
        deadline = time.monotonic() + 60
        while not shell.running and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(seconds)
        shell.interrupt()

    t = threading.Thread(target=later)
    t.start()
    return t


# ---- namespace and values -----------------------------------------------------------------------


def test_namespace_has_anet_numpy_and_every_op(shell: Shell) -> None:
    r = shell.run("Tensor, Function, Context, register, no_grad, np.pi, anet.ops.Dot is Dot, ReLU")
    assert r.ok, r.error
    assert "True" in r.value
    r = shell.run("x = Tensor([[1.0, 2.0]]); w = Tensor([[3.0], [4.0]]); x.dot(w).sum()")
    assert r.ok and r.obj.item() == 11.0


def test_expression_sets_underscore_and_shows_tensor_compactly(shell: Shell) -> None:
    r = shell.run("y = Tensor.ones(2, 3) * 2\ny")
    y = shell.namespace["y"]
    assert shell.namespace["_"] is y
    assert r.value.startswith(f"<Tensor #{y.id} Mul (2, 3) float32")
    assert "grad=None" in r.value
    shell.run("y.sum().backward()")
    assert "grad=None" not in shell.run("y").value  # the grad now shows up in the summary
    assert shell.run("_ is y").value == "True"


def test_statements_and_none_show_no_value(shell: Shell) -> None:
    assert shell.run("a = 1").value is None
    assert shell.run("None").value is None
    assert shell.run("print('hi')").output == "hi\n"


def test_large_arrays_are_summarised(shell: Shell) -> None:
    r = shell.run("np.arange(10**6)")
    assert "..." in r.value and "1000000" in r.value
    assert len(r.value) < 300
    assert len(display(np.zeros((500, 500)))) < 1000


def test_state_persists_across_runs_including_numpy_error_state(shell: Shell) -> None:
    shell.run("def f(v):\n    return v * 2\n")
    assert shell.run("f(21)").value == "42"
    shell.run("old = np.seterr(all='raise')")
    r = shell.run("np.float64(1.0) / np.float64(0.0)")
    assert r.status == "error" and "FloatingPointError" in r.error


def test_user_function_source_is_visible_to_inspect(shell: Shell) -> None:
    shell.run(
        textwrap.dedent(
            """\
            class Twice(Function):
                @staticmethod
                def forward(ctx, x):
                    return x * 2

                @staticmethod
                def backward(ctx, g):
                    return g * 2
            """
        )
    )
    src = inspect.getsource(shell.namespace["Twice"].backward)
    assert "return g * 2" in src


# ---- completeness and splitting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "complete"),
    [
        ("x = 1", True),
        ("def f():", False),
        ("def f():\n    return 1", False),
        ("def f():\n    return 1\n", True),  # a blank line ends the block
        ("def f():\n    return 1\n    ", True),  # whitespace-only line: also blank
        ("class A(Function):\n    @staticmethod", False),
        ("x = (1,", False),
        ("x = (1,\n 2)", True),
        ("s = '''abc", False),
        ("x = 1 + \\", False),
        ("x = 1 +", True),  # never valid: run it and show the SyntaxError
        ("%debug loss", True),
        ("", True),
        ("if x:\n    y = 1\nelse:", False),
    ],
)
def test_is_complete(source: str, complete: bool) -> None:
    assert is_complete(source) is complete


def test_split_input_by_statement_and_command() -> None:
    text = textwrap.dedent(
        """\
        # comment only: dropped
        class A:
            def f(self):
                return 1

            def g(self):
                return 2
        %debug loss
        s = '''
        %inside a string
        '''
        if s:
            y = 1
        else:
            y = 2
        y
        """
    )
    cells = split_input(text)
    assert cells[0].startswith("class A:") and "def g" in cells[0]
    assert cells[1] == "%debug loss"
    assert "%inside a string" in cells[2]
    assert cells[3].startswith("if s:") and cells[3].endswith("y = 2")
    assert cells[4] == "y"
    assert len(cells) == 5


# ---- errors -----------------------------------------------------------------------------------


def test_traceback_is_trimmed_to_user_frames(shell: Shell) -> None:
    shell.run("def inner():\n    raise ValueError('bad value')\n")
    r = shell.run("inner()")
    assert r.status == "error"
    assert 'File "<repl-2>", line 1' in r.error and 'File "<repl-1>", line 2' in r.error
    assert "raise ValueError('bad value')" in r.error  # the user's source line is shown
    assert "shell.py" not in r.error
    assert r.error.rstrip().endswith("ValueError: bad value")


def test_syntax_error_shows_the_line(shell: Shell) -> None:
    r = shell.run("x = 1 +")
    assert r.status == "error" and "SyntaxError" in r.error and "x = 1 +" in r.error
    assert "shell.py" not in r.error


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def r(n):\n    return r(n + 1)\nr(0)", "RecursionError"),
        ("np.zeros((10**6, 10**6))", "Unable to allocate"),
        ("raise KeyError('k')", "KeyError"),
        ("import nonexistent_module_xyz", "ModuleNotFoundError"),
        ("Tensor('text')", "cannot make a Tensor"),
    ],
)
def test_errors_never_escape(shell: Shell, source: str, expected: str) -> None:
    r = shell.run(source)
    assert r.status == "error" and expected in r.error
    assert shell.run("1 + 1").value == "2"


def test_broken_repr_is_reported_not_raised(shell: Shell) -> None:
    shell.run("class Bad:\n    def __repr__(self):\n        raise RuntimeError('no')\n")
    r = shell.run("Bad()")
    assert r.ok and "repr failed" in r.value


# ---- interrupt, input, exit --------------------------------------------------------------------


def test_interrupt_stops_infinite_loop_and_namespace_survives(shell: Shell) -> None:
    shell.run("kept = Tensor([1.0, 2.0])\ncount = 0")
    t = interrupt_after(shell, 0.2)
    r = shell.run("while True:\n    count += 1\n")
    t.join()
    assert r.status == "interrupted"
    assert "KeyboardInterrupt" in r.error and "<repl-2>" in r.error
    assert shell.namespace["count"] > 0
    assert shell.run("kept.sum().item()").value == "3.0"
    assert not shell.running


def test_interrupt_with_nothing_running_is_harmless(shell: Shell) -> None:
    assert shell.interrupt() is False
    assert shell.run("2 * 21").value == "42"


def test_second_run_while_busy_is_refused(shell: Shell) -> None:
    results = {}
    t = threading.Thread(target=lambda: results.setdefault("a", shell.run("while True: pass")))
    t.start()
    while not shell.running:
        time.sleep(0.01)
    busy = shell.run("1")
    shell.interrupt()
    t.join(60)
    assert busy.status == "error" and "busy" in busy.error
    assert results["a"].status == "interrupted"


def test_input_does_not_hang(shell: Shell) -> None:
    r = shell.run("input('name? ')")
    assert r.status == "error" and "input() cannot read here" in r.error
    r = shell.run("import sys\nsys.stdin.readline()")
    assert r.ok and r.value == "''"


@pytest.mark.parametrize(
    ("source", "code"),
    [("exit()", 0), ("quit(3)", 3), ("import sys; sys.exit(4)", 4), ("raise SystemExit", 0)],
)
def test_exit_is_a_request_not_a_process_exit(shell: Shell, source: str, code: int) -> None:
    r = shell.run(source)
    assert r.status == "exit" and r.exit_code == code
    assert shell.run("'still here'").value == "'still here'"


# ---- output -----------------------------------------------------------------------------------


def test_output_is_captured_in_order_and_streamed(shell: Shell) -> None:
    chunks: list[str] = []
    r = shell.run(
        "import sys\nprint('one')\nprint('two', file=sys.stderr)\nprint('three')",
        on_output=chunks.append,
    )
    assert r.output == "one\ntwo\nthree\n"
    assert "".join(chunks) == r.output


@pytest.mark.timeout(180)  # a hang guard; how fast it is, is benchmarks/tui_bench.py's business
def test_huge_output_is_capped_with_a_note(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past the cap the capture only counts: the 10 MB line and the lines after the limit are
    # never made inert, so capping costs about what is kept, not what was printed.
    escaped: list[int] = []
    escape = anet_tui.capture.escape
    monkeypatch.setattr(
        anet_tui.capture, "escape", lambda text: escaped.append(len(text)) or escape(text)
    )
    r = shell.run("print('x' * 10_000_000)\nfor i in range(100_000): print(i)")
    assert sum(escaped) < 120_000, f"{sum(escaped):,} characters made inert"
    assert len(r.output) < 60_000
    assert "more characters on this line" in r.output
    assert "output cut" in r.output
    assert shell.run("'ok'").value == "'ok'"


def test_many_lines_are_capped() -> None:
    shell = Shell(max_output_lines=10)
    r = shell.run("for i in range(1000): print(i)")
    lines = r.output.splitlines()
    assert lines[:10] == [str(i) for i in range(10)]
    assert "output cut" in lines[-1]


def test_escape_sequences_and_bad_bytes_are_inert(shell: Shell) -> None:
    r = shell.run(r"print('\x1b[2J\x1b[31mred\x07\x00 ok')")
    assert "\x1b" not in r.output and "\x07" not in r.output and "\x00" not in r.output
    assert "\\x1b[2J" in r.output and "red" in r.output
    r = shell.run(r"import sys; sys.stdout.buffer.write(b'\xff\xfe bytes\n')")
    assert "bytes" in r.output and "\ufffd" in r.output
    r = shell.run(r"'\x1b]0;title\x07'")
    assert "\x1b" not in r.value
    assert inert("a\r\nb\rc\udcff") == "a\nb\nc?"


def test_front_end_threads_keep_their_own_stdout(
    shell: Shell, capsys: pytest.CaptureFixture
) -> None:
    # While user code runs, a print from another thread (the UI's) is not captured with it.
    started = threading.Event()

    def ui() -> None:
        started.wait(60)
        print("from the ui thread")

    t = threading.Thread(target=ui)
    t.start()
    r = shell.call(lambda: (started.set(), t.join(60), print("from user code")))
    assert r.output == "from user code\n"
    assert "from the ui thread" in capsys.readouterr().out
    assert not hasattr(sys.stdout, "_fallback")  # the router is gone after the run


def test_call_runs_a_function_with_capture_and_errors(shell: Shell) -> None:
    r = shell.call(lambda a, b: a + b, 2, 3)
    assert r.ok and r.obj == 5
    r = shell.call(lambda: 1 / 0)
    assert r.status == "error" and "ZeroDivisionError" in r.error


def test_run_file_sets_file_and_reports_bad_files(shell: Shell, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("x = Tensor([2.0])\nloss = (x * x).sum()\n")
    r = shell.run_file(script)
    assert r.ok and shell.namespace["__file__"] == str(script)
    assert isinstance(shell.namespace["loss"], Tensor)
    binary = tmp_path / "b.py"
    binary.write_bytes(b"\x00\x01\x02")
    assert "binary" in shell.run_file(binary).error
    assert "no such file" in shell.run_file(tmp_path / "missing.py").error


def test_completion_of_names_and_attributes(shell: Shell) -> None:
    shell.run("loss_value = Tensor([1.0])")
    assert "loss_value" in shell.complete("loss_")[1]
    prefix, found = shell.complete("loss_value.su")
    assert prefix == "su" and "sum" in found and "sub" in found
    assert "arange" in shell.complete("np.ara")[1]
    assert "backward" in shell.complete("x = loss_value.")[1]
    assert not any(n.startswith("_") for n in shell.complete("loss_value.")[1])
    assert shell.complete("nothing_like_this.x") == ("x", [])


# ---- history ----------------------------------------------------------------------------------


def test_history_path_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ANET_TUI_HISTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == tmp_path / "anet-tui" / "history"
    monkeypatch.setenv("ANET_TUI_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"


def test_history_round_trip_with_multiline_entries(tmp_path: Path) -> None:
    path = tmp_path / "state" / "history"  # missing directory: created
    h = HistoryFile(path)
    h.append("x = 1")
    h.append("class A:\n    pass")
    h.append("class A:\n    pass")  # repeated: stored once
    h.append("   ")
    h.append("s = '✗ ünïcode'")
    again = HistoryFile(path)
    assert again.entries == ["x = 1", "class A:\n    pass", "s = '✗ ünïcode'"]
    assert len(path.read_text().splitlines()) == 3
    assert next(iter(PromptHistory(again).load_history_strings())) == "s = '✗ ünïcode'"


def test_history_in_unwritable_place_warns_once(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings: list[str] = []
    h = HistoryFile(blocker / "sub" / "history", warn=warnings.append)  # parent is a file
    h.append("a = 1")
    h.append("b = 2")
    assert len(warnings) == 1 and "history" in warnings[0]
    assert h.entries == ["a = 1", "b = 2"]  # kept in memory


def test_history_ignores_corrupt_lines(tmp_path: Path) -> None:
    path = tmp_path / "history"
    path.write_bytes(b'"good"\n\xff\xfe broken\n{"not": "a string"}\n"also good"\n')
    assert HistoryFile(path).entries == ["good", "\ufffd\ufffd broken", "also good"]


def test_two_processes_appending_do_not_interleave(tmp_path: Path) -> None:
    path = tmp_path / "history"
    writer = textwrap.dedent(
        """\
        import sys
        from anet_tui.history import HistoryFile
        h = HistoryFile(sys.argv[1])
        for i in range(300):
            h.append(f"{sys.argv[2]} {i}\\n" + "body " * 50)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(path), tag]) for tag in ("A", "B")]
    for p in procs:
        assert p.wait(60) == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 600
    entries = [json.loads(line) for line in lines]
    for tag in ("A", "B"):
        mine = [e.split("\n")[0] for e in entries if e.startswith(tag)]
        assert mine == [f"{tag} {i}" for i in range(300)]
    assert all(e.endswith("body " * 50) for e in entries)


def test_history_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "history"
    HistoryFile(path).append("secret = 1")
    assert os.stat(path).st_mode & 0o077 == 0


# ---- output from threads the user started (issue #11, round 2) --------------------------------

LATE_PRINTER = textwrap.dedent(
    """\
    import threading, time
    go = threading.Event()

    def later():
        go.wait(10)
        print("late \\x1b[2J" + "x" * 5000)

    threading.Thread(target=later, daemon=True).start()
    """
)


def test_a_thread_printing_after_its_cell_ended_is_shown_inert_and_capped(
    capfd: pytest.CaptureFixture[str],
) -> None:
    shell = Shell()
    got: list[str] = []
    assert shell.run(LATE_PRINTER, on_output=got.append).ok
    shell.namespace["go"].set()  # the cell has ended: now the thread prints
    deadline = time.monotonic() + 60
    while "late" not in "".join(got) and time.monotonic() < deadline:
        time.sleep(0.05)
    late = "".join(got)
    assert "late \\x1b[2J" in late and "\x1b" not in late  # shown, inert
    assert "more characters on this line" in late  # capped like any output
    raw = capfd.readouterr()
    assert "late" not in raw.out and "late" not in raw.err  # never raw on the terminal
    assert shell.run("print('next cell')", on_output=got.append).output == "next cell\n"


def test_a_thread_printing_while_its_cell_runs_is_part_of_the_output(
    capfd: pytest.CaptureFixture[str],
) -> None:
    shell = Shell()
    source = (
        "import threading\n"
        "t = threading.Thread(target=lambda: print('from a thread \\x07'))\n"
        "t.start(); t.join()\n"
    )
    result = shell.run(source)
    assert result.output == "from a thread \\x07\n"
    assert "from a thread" not in capfd.readouterr().out


def test_the_plain_repl_shows_a_late_thread_s_output_inert() -> None:
    import io

    from anet_tui.commands import Commands
    from anet_tui.plain import PlainRepl

    out = io.StringIO()
    shell = Shell()
    repl = PlainRepl(shell, Commands(shell), out=out)
    assert repl.run_text(LATE_PRINTER) == 0
    shell.namespace["go"].set()
    deadline = time.monotonic() + 60
    printed = "late \\x1b[2Jxxxxx"  # (the echoed source holds the words, not the x's)
    while printed not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert printed in out.getvalue() and "\x1b[2J" not in out.getvalue()
