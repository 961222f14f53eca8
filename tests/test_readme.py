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


SNAPSHOT = README.parent / "tests" / "tui" / "snapshots" / "flow_view_colour.txt"


def test_the_readme_flow_picture_is_the_apps_screen():
    """The README's flow picture is the app's own screen at 80×24: the status line and the flow
    chart of tests/tui/snapshots/flow_view_colour.txt, which test_app_snapshots.py checks
    against the app. After regenerating that snapshot, copy its first 13 lines here."""
    screen = SNAPSHOT.read_text(encoding="utf-8").splitlines()[:13]
    assert screen[1].startswith("╭─ grad flow per parameter") and screen[-1].startswith("╰")
    text = README.read_text(encoding="utf-8")
    blocks = [body for _, body in re.findall(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M)]
    assert "\n".join(screen) + "\n" in blocks
    assert all(len(line) == 80 for line in screen[1:])
