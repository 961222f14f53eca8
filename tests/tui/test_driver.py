"""anet_tui.driver, the one module that touches Textual's private names: they are still there
(a Textual upgrade that moves one fails here), and it imports where AppDriver cannot run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.app import App

from anet_tui.driver import crash_of

ROOT = Path(__file__).resolve().parents[2]


class Crashes(App[None]):
    def on_mount(self) -> None:
        raise RuntimeError("boom in on_mount")


class Leaves(App[None]):
    def on_mount(self) -> None:
        self.exit()


def test_textual_still_keeps_what_ended_an_app_where_crash_of_reads_it() -> None:
    assert "_exception" in vars(Leaves())  # Textual 8.2.8's App._exception: renamed? see driver
    app = Leaves()
    app.run(headless=True)
    assert crash_of(app) is None and app.return_code == 0


def test_crash_of_is_the_exception_that_ended_the_app(capsys: pytest.CaptureFixture[str]) -> None:
    app = Crashes()
    app.run(headless=True)  # Textual prints the traceback and sets return_code to 1
    crash = crash_of(app)
    assert isinstance(crash, RuntimeError) and str(crash) == "boom in on_mount"
    assert app.return_code == 1
    assert "RuntimeError: boom in on_mount" in capsys.readouterr().err


def test_the_driver_module_imports_without_termios() -> None:
    # On Windows the app runs on Textual's own driver; it still asks crash_of what ended it.
    code = textwrap.dedent(
        """\
        import sys
        import textual.app, textual._loop, textual._xterm_parser, textual.driver
        sys.platform = "win32"
        for name in ("termios", "tty", "textual.drivers.linux_driver"):
            sys.modules[name] = None  # what is not there on Windows
        from anet_tui.driver import crash_of
        print(crash_of.__name__)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert run.returncode == 0 and run.stdout == "crash_of\n", run.stderr
