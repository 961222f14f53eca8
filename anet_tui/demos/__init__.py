"""The built-in demos (``anet-tui --demo NAME``): small scripts that each leave a root ``loss``.

A demo is a plain Python file beside this one. Its docstring's first line says what it is; the
rest says what to try first, and the front-ends show it after running the demo.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Demo:
    name: str
    path: Path
    title: str  # the docstring's first line
    try_first: str  # the rest of the docstring


def names() -> list[str]:
    """Every demo's name, sorted."""
    return sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))


def load(name: str) -> Demo:
    """The demo called ``name``; KeyError (saying which exist) when there is none."""
    if name not in names():
        raise KeyError(f"no demo called {name!r}; the demos are: {', '.join(names())}")
    path = HERE / f"{name}.py"
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or name
    title, _, rest = doc.partition("\n")
    return Demo(name, path, title.strip(), rest.strip())


__all__ = ["Demo", "load", "names"]
