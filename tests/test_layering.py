"""Layering: anet and anet.debug stand without the app's libraries, and the app reads the graph
through the public API (Tensor.parents, is_leaf, op), not through ``_ctx``."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UI_LIBRARIES = ("textual", "rich", "prompt_toolkit", "pygments")


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_anet_source_imports_no_ui_library():
    # Every import, lazy ones inside functions too.
    offending = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "anet").rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if name.split(".")[0] in UI_LIBRARIES
    ]
    assert not offending, offending


def test_importing_anet_and_anet_debug_loads_no_ui_library():
    code = (
        "import sys, anet, anet.debug, anet.debug.render\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {UI_LIBRARIES!r}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout


def test_the_app_reads_no_ctx():
    # The lessons teach the seed's internals: `_ctx` is the article's own name there.
    lessons = ROOT / "anet_tui" / "lessons"
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "anet_tui").rglob("*"))
        if path.is_file()
        and path.suffix in (".py", ".tcss", ".md", ".txt")
        and lessons not in path.parents
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"_ctx\b", line)
    ]
    assert not found, found
