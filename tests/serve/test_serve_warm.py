"""anet-tui serve, speed: what every session computes alike is done once, in the zygote, before
it forks (anet_tui/serve/warm.py): the CSS parsed, the app drawn once, the heap frozen."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from servekit import ROOT, Server, Terminal, run


def _python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TERM": "xterm"},
        timeout=120,
    ).stdout


def test_shared_css_parses_give_the_same_rules_and_parse_once() -> None:
    # In a fresh interpreter: the patch is process-wide.
    out = _python(
        """
        from pathlib import Path
        import textual.css.stylesheet as ss
        import anet_tui
        from anet_tui.serve import warm

        css = (Path(anet_tui.__file__).parent / "app.tcss").read_text()
        def rules(sheet):
            sheet.add_source(css, read_from=("app.tcss", ""))
            sheet.parse()
            return [r.css for r in sheet.rules]
        from textual.app import App
        variables = App().get_css_variables()
        fresh = rules(ss.Stylesheet(variables=variables))
        assert warm.share_css_parses()
        calls = []
        real = ss.parse
        ss.parse = lambda *a, **k: calls.append(1) or real(*a, **k)
        first = rules(ss.Stylesheet(variables=variables))
        again = rules(ss.Stylesheet(variables=variables))  # a new stylesheet, as reparse makes
        other = rules(ss.Stylesheet(variables={**variables, "primary": "#00ff00"}))
        print(first == fresh == again, len(calls), len(fresh) > 5)
        """
    )
    # Same rules; parsed once for the first variables, once more for the new ones.
    assert out.split() == ["True", "2", "True"]


def test_the_warm_up_leaves_no_thread_and_no_history(tmp_path) -> None:
    out = _python(
        f"""
        import gc, os, threading
        os.environ["ANET_TUI_HISTORY"] = {str(tmp_path / "history")!r}
        from anet_tui.serve import warm
        warm.share_css_parses()
        warm.warm_up()
        warm.freeze()
        print(threading.active_count(), len(warm._shared) > 0, gc.get_freeze_count() > 10000)
        print(os.environ["ANET_TUI_HISTORY"])
        """
    )
    assert out.split() == ["1", "True", "True", str(tmp_path / "history")]
    assert not (tmp_path / "history").exists()  # the warm-up wrote no student's history


def test_a_session_starts_from_the_warmed_zygote(server: Server) -> None:
    async def go() -> str:
        async with await server.connect("student1") as conn:
            term = await Terminal.open(conn, "plain")
            await term.wait_for(lambda s: ">>>" in s)
            term.type(
                "import gc, textual.css.stylesheet as s; from anet_tui.serve import warm; "
                "print('warm', len(warm._shared) > 0, s.Stylesheet._parse_rules._anet_shared, "
                "gc.get_freeze_count() > 10000)\r"
            )
            return await term.wait_for(lambda s: "\nwarm " in s)

    assert "warm True True True" in run(go())
    assert "could not warm up" not in server.log


def test_an_idle_served_app_sends_nothing(server: Server) -> None:
    # No blinking cursor: thirty idle students' blinks kept an eighth of two cores busy.
    async def go() -> tuple[int, str]:
        async with await server.connect("student1") as conn:
            term = await Terminal.open(conn)
            screen = await term.wait_for(lambda s: "F1 help" in s and ">>>" in s)
            await asyncio.sleep(0.6)  # the last of the first frames
            before = len(term.raw)
            await asyncio.sleep(2.0)
            return len(term.raw) - before, screen

    sent, screen = run(go())
    assert sent == 0
    assert ">>>" in screen
