"""The README's Python examples run as written (a newcomer copies them first)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(source, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "demo.py"
    path.write_text(source, encoding="utf-8")
    exec(compile(source, str(path), "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_checks_clean_unless_it_shows_a_bug(source, tmp_path, monkeypatch):
    """``anet-tui check`` on each example: clean (exit 0, no flag), except the one that shows
    the debugger finding a bug on purpose, which is caught there and nowhere else."""
    import io

    from anet_tui.check import check

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "demo.py"
    path.write_text(source, encoding="utf-8")
    out = io.StringIO()
    status = check(str(path), out=out, timeout=0)
    flags = re.findall(r"^demo\.py:\d+: ([✗!]) (\w+) at #\d+ (\w+):", out.getvalue(), re.M)
    if "# the bug:" in source:
        assert (status, flags) == (1, [("✗", "vjp", "Cube")]), out.getvalue()
    else:
        assert (status, flags) == (0, []), out.getvalue()
