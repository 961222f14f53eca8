"""Everything a session would compute the same way for every student, done once in the zygote
before it forks (:mod:`anet_tui.serve.zygote`), so each student's first screen costs only what
is really theirs.

Measured on one student's path from fork to first frame (cProfile, Textual 8.2.8): of about a
quarter of a CPU-second, Textual parsed the same CSS twice (once at start, once more when the
first screen is installed: ``Stylesheet.reparse`` starts from an empty cache), Pygments compiled
the Python lexer's regular expressions for the input's highlighting, a few modules were imported
late, and Rich and Textual filled their caches. :func:`warm_up` runs the app once, headless, at
80×24 in the zygote (no thread survives it; the history is ``/dev/null``), and
:func:`share_css_parses` keeps parsed CSS for the whole process, so a forked child finds every
stylesheet already parsed. :func:`freeze` then moves every object made so far out of the garbage
collector's reach, so collections in the children neither walk nor copy the shared heap.

This is the one module of the server that touches a private Textual name,
``Stylesheet._parse_rules``; tests/serve/test_serve_warm.py checks that it still exists and that
the shared parse gives the rules a fresh one gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

MAX_SHARED = 1024  # parsed stylesheets kept per process (a few dozen per theme in practice)
_shared: dict[tuple, Any] = {}


def share_css_parses() -> bool:
    """Make Textual's CSS parse cache process-wide instead of per stylesheet; False when this
    Textual has no ``Stylesheet._parse_rules`` to wrap (then nothing is changed)."""
    from textual.css.stylesheet import Stylesheet

    original = getattr(Stylesheet, "_parse_rules", None)
    if original is None or getattr(original, "_anet_shared", False):
        return original is not None

    def _parse_rules(
        self: Stylesheet,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> Any:
        variables = tuple(sorted(self._variables.items()))
        key = (css, read_from, is_default_rules, tie_breaker, scope, variables)
        rules = _shared.get(key)
        if rules is None:
            rules = original(self, css, read_from, is_default_rules, tie_breaker, scope)
            if len(_shared) >= MAX_SHARED:
                _shared.clear()
            _shared[key] = rules
        return rules

    _parse_rules._anet_shared = True  # type: ignore[attr-defined]
    Stylesheet._parse_rules = _parse_rules  # type: ignore[method-assign]
    return True


@contextlib.contextmanager
def _environment(changes: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def warm_up(size: tuple[int, int] = (80, 24)) -> None:
    """Run the app once to its first screen, headless, and close it; raises what went wrong."""
    from anet_tui.app import AnetApp

    async def first_screen() -> None:
        app = AnetApp()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.export_screenshot()  # draws the frame a terminal would get

    with _environment({"ANET_TUI_HISTORY": os.devnull, "TERM": "xterm-256color"}):
        asyncio.run(first_screen())
    if threading.active_count() != 1:  # a fork copies only the calling thread
        raise RuntimeError(f"threads left after the warm-up: {threading.enumerate()}")


def freeze() -> None:
    """Collect once, then keep every object made so far out of later collections (before fork)."""
    gc.collect()
    gc.freeze()
