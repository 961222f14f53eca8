"""The verdicts' corpus (tests/corpus/): a flag is a claim that the user's grads are wrong.

Every correct program checks clean (exit 0, no flag, no note on anet's own ops); every buggy
program is caught at its culprit, with the kind its first line names, and nothing else is
flagged; the same buggy programs, stepped in the plain REPL with ``%debug loss`` and
``%continue``, stop at the culprit with that flag.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from plain_keys import drive

from anet import Tensor
from anet.autograd import short_path
from anet_tui.check import check
from anet_tui.shell import Shell

CORPUS = Path(__file__).resolve().parent / "corpus"
GOOD = sorted((CORPUS / "good").glob("*.py"))
BAD = sorted((CORPUS / "bad").glob("*.py"))
FLAG = re.compile(r"([✗!x]) (\w+) at #(\d+) (\w+):")
CTRL_D = "\x04"


@pytest.fixture(autouse=True)
def _ops_put_back():
    """A program's register() calls change Tensor for the whole process (as they do for a
    user): put Tensor's ops back after each, so that tests run later see their own."""
    before = dict(vars(Tensor))
    yield
    for name in set(vars(Tensor)) - set(before):
        delattr(Tensor, name)
    for name, value in before.items():
        if vars(Tensor).get(name) is not value:
            setattr(Tensor, name, value)


def expectation(path: Path) -> tuple[str, str]:
    """(kind, Function) from the program's first line, ``# expect: KIND at CLASS``."""
    match = re.fullmatch(r"# expect: (\w+) at (\w+)", path.read_text().splitlines()[0])
    assert match, f"{path.name}: the first line must say '# expect: KIND at CLASS'"
    return match[1], match[2]


def run_check(path: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = check(str(path), out=out, timeout=0, args=args)
    return status, out.getvalue()


def test_the_corpus_is_big_enough() -> None:
    assert len(GOOD) >= 12 and len(BAD) >= 12
    kinds = {expectation(p)[0] for p in BAD}
    assert kinds >= {"shape", "count", "none", "type", "exception", "nonfinite", "vjp", "inplace"}


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_a_correct_program_checks_clean(path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a script runs from anywhere, as `python FILE` does
    status, out = run_check(path)
    assert FLAG.findall(out) == [], out
    assert status == 0, out


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_a_buggy_program_is_caught_at_its_culprit_and_nowhere_else(path: Path) -> None:
    kind, culprit = expectation(path)
    status, out = run_check(path)
    assert status == 1, out
    # check's own lines start with the op's place in the file (the script may print flags too)
    mine = [line for line in out.splitlines() if line.startswith(short_path(str(path)))]
    flags = {(k, op) for line in mine for _, k, _, op in FLAG.findall(line)}
    assert flags == {(kind, culprit)}, out


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_a_buggy_program_stepped_in_the_plain_repl_stops_at_its_culprit(
    path: Path, tmp_path: Path
) -> None:
    kind, culprit = expectation(path)
    assert ".backward(" not in path.read_text()  # the REPL walks it, the script does not
    keys = [f"%run {path}\r", "%debug loss\r", "%continue\r", CTRL_D + CTRL_D]
    _, out, _ = drive(keys, tmp_path, Shell())
    stops = [line for line in out.splitlines() if line.startswith("✗ ")]
    assert stops, out
    first = FLAG.match(stops[0])
    assert first and (first[2], first[4]) == (kind, culprit), out
    assert {(k, op) for line in stops for _, k, _, op in FLAG.findall(line)} == {(kind, culprit)}
