"""Handing the terminal to the user's editor, for ``%edit``: which editor (``$VISUAL``, then
``$EDITOR``), and running it in this process's terminal. No fallback editor: with neither set,
:func:`editor_command` says how to set one (a newcomer dropped into ``vi`` without asking may not
know how to leave it). A front-end that owns the screen hands the terminal over first: the app
runs :func:`run_in_terminal` inside ``App.suspend()``.

    argv = editor_command() + ["train.py"]    # EditorUnavailable: none set, or unreadable
    status = run_in_terminal(argv)            # the editor's exit status
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Any

NO_EDITOR = (
    "no editor is set: set EDITOR (export EDITOR=nano before starting anet-tui, or "
    "os.environ['EDITOR'] = 'nano' here), or edit the file elsewhere and %run it"
)


class EditorUnavailable(Exception):
    """The editor cannot run here; the message says why in the user's words."""


def editor_command(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The editor's command line (``$VISUAL``, else ``$EDITOR``, split as a shell would:
    ``code --wait`` is two words), the file's name to be added after it."""
    for name in ("VISUAL", "EDITOR"):
        value = environ.get(name, "").strip()
        if not value:
            continue
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise EditorUnavailable(f"{name}={value!r} cannot be read: {e}") from None
        if words:
            return words
    raise EditorUnavailable(NO_EDITOR)


def run_in_terminal(argv: Sequence[str]) -> int:
    """Run the editor on this process's terminal and wait for it; its exit status. Ctrl+C while
    it runs is the editor's: on the main thread, this process ignores it meanwhile (through a
    handler, which the editor does not inherit, unlike ``SIG_IGN``)."""
    with _sigint_ignored():
        try:
            return subprocess.run(list(argv), check=False).returncode
        except FileNotFoundError:
            raise EditorUnavailable(
                f"cannot start the editor: no program {argv[0]!r} (from VISUAL or EDITOR)"
            ) from None
        except OSError as e:
            raise EditorUnavailable(
                f"cannot start the editor {argv[0]!r}: {e.strerror or e}"
            ) from None


@contextlib.contextmanager
def _sigint_ignored() -> Any:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can be set on the main thread only: as it is
        return
    previous = signal.signal(signal.SIGINT, _ignore)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _ignore(*_: Any) -> None:
    """SIGINT while the editor runs: the editor's to act on, not ours."""


__all__ = ["NO_EDITOR", "EditorUnavailable", "editor_command", "run_in_terminal"]
