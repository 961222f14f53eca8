"""Fuzzing, in CI within a fixed budget (derandomized, a few seconds): random and malformed REPL
lines and ``%`` commands through the evaluator both front-ends share. Every one ends in a result
or a clear error; the REPL and the session stay usable. (Random op graphs against numerical grads
are fuzzed in tests/anet/test_properties.py.)"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snippets import SWAP_GRAD

from anet_tui import lessons
from anet_tui.commands import BUILTIN_COMMANDS, CommandResult, Commands
from anet_tui.shell import RunResult, Shell
from anet_tui.source import is_complete, split_input

pytestmark = pytest.mark.timeout(120)

SETUP = SWAP_GRAD + textwrap.dedent(
    """\

    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    w = Tensor(np.ones((3, 2), dtype=np.float32))
    loss = SwapGrad.apply(x, SwapGrad).dot(w).relu().sum()
    """
)
# Python pieces: names that exist, numbers kept small (no 9**9**9), no loops, imports or files.
PY_TOKENS = [
    "x", "w", "loss", "Tensor", "np", "anet", "SwapGrad", "Function", "_", "undefined_name",
    ".sum()", ".T", ".backward()", ".grad", ".data", ".shape", ".relu()", ".dot(w)", ".item()",
    ".mean(axis=0)", ".reshape(shape=(3, 2))", "[0]", "[:, 1]", "[::-1]",
    "0", "1", "2", "7", "-1", "3.5", "1e-3", "float('nan')", "None", "True",
    "+", "-", "*", "/", "@", "%", "==", "<", "and", "not", "is", "in", "=", "+=", ",", ":",
    "(", ")", "[", "]", "{", "}", "'text'", '"\\x1b[2J"', "'\\udcff'", "f'{x}'", "b'\\xff'",
    "def", "class", "lambda", "if", "else", "return", "yield", "raise", "try", "assert", "del",
    "print(", "repr(", "len(", "Tensor(", "np.zeros(", "np.ones(", "exit(", "input(",
    "\\", "#", ";", "\n", "\n    ", "\t", "...", "@staticmethod",
]  # fmt: skip
NAMES = sorted({n for c in BUILTIN_COMMANDS for n in (c.name, *c.aliases)} - {"save"})
ARG_TOKENS = [
    "loss", "x", "x.sum()", "#1", "#3", "#999", "1", "0", "-2", "99", "all", "clear", "op", "node",
    "flag", "shape", "vjp", "Dot", "SwapGrad", "relu", "1", "2", "3", "-f", "'", '"', "(", "\\",
]  # fmt: skip
MALFORMED = st.text(
    alphabet=st.sampled_from(list("%#()[]{}'\"\\:;,.=+-*/ \t\n\rabcxyz019_é✗\x00\x1b\x07\udcff")),
    max_size=40,
)
OBEYED = ["\x1b", "\x07", "\x00", "\x9b"]
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Iteration)\b", re.M)

python_lines = st.lists(st.sampled_from(PY_TOKENS), min_size=1, max_size=12).map(" ".join)
command_lines = st.builds(
    lambda name, args: f"%{name} {' '.join(args)}".rstrip(),
    st.sampled_from([*NAMES, "nope", "DEBUG", "", "%", "step%", "b"]),
    st.lists(st.sampled_from(ARG_TOKENS), max_size=3),
)
save_lines = st.builds(
    lambda name, force: f"%save {name}{' -f' if force else ''}",
    st.sampled_from(["s.py", "out/s.py", "'two words.py'", "", "s.py extra"]),
    st.booleans(),
)
entries = st.one_of(python_lines, command_lines, save_lines, MALFORMED)


def check_answer(outcome: RunResult | CommandResult) -> None:
    """A result or a clear error, inert."""
    text = outcome.text()
    assert not any(ch in text for ch in OBEYED), text
    if isinstance(outcome, CommandResult):
        if not outcome.ok:
            errors = [line.text for line in outcome.lines if line.kind == "error"]
            assert all(e.strip() for e in errors), outcome.lines
        return
    assert outcome.status in ("ok", "error", "exit"), outcome.status
    if outcome.status == "error":
        assert EXCEPTION_LINE.search(outcome.error or ""), outcome.error


@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=st.lists(entries, min_size=1, max_size=6))
def test_random_lines_and_commands_always_answer(
    lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where %save writes
    c = Commands(Shell())
    assert c.execute(SETUP).ok and c.execute("%debug loss").ok  # commands have a walk to move
    for line in lines:
        check_answer(c.submit(line, show=check_answer))
        session = c.session
        if session is not None:
            k, n = session.position
            assert 0 <= k <= n == len(session.nodes)
    assert c.execute("1 + 1").value == "2"  # still answering
    assert isinstance(c.execute("%help"), CommandResult)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.lists(st.one_of(python_lines, MALFORMED, command_lines), max_size=8).map("\n".join))
def test_splitting_and_completeness_never_fail_on_any_text(text: str) -> None:
    assert isinstance(is_complete(text), bool)
    cells = split_input(text)
    assert all(isinstance(cell, str) and cell.strip() for cell in cells)
    parsed = lessons.Lesson.from_text(text)
    for cell in parsed.cells:
        cell.entries()
        cell.syntax_error()
