"""Typing into the plain REPL from a test: prompt_toolkit's pipe input, keys sent by a thread."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from anet_tui.commands import Commands
from anet_tui.history import HistoryFile
from anet_tui.plain import PlainRepl
from anet_tui.shell import Shell


def drive(
    keys: str | list[str], tmp_path: Path, shell: Shell | None = None, pause: float = 0.2
) -> tuple[PlainRepl, str, int]:
    """Type ``keys`` into a fresh plain REPL; return it, what it printed and its exit code.

    A list is typed chunk by chunk, a little apart, as a person would (history is loaded
    in the background at each prompt: keys queued in advance can outrun it)."""
    shell = Shell() if shell is None else shell
    out = io.StringIO()
    chunks = [keys] if isinstance(keys, str) else keys
    stop = threading.Event()
    with create_pipe_input() as pipe:

        def typist() -> None:
            for chunk in chunks:
                if stop.is_set():
                    return
                pipe.send_text(chunk)
                time.sleep(pause)

        typing = threading.Thread(target=typist, daemon=True)
        typing.start()
        repl = PlainRepl(
            shell,
            Commands(shell),
            HistoryFile(tmp_path / "history"),
            input=pipe,
            output=DummyOutput(),
            out=out,
        )
        code = repl.interact()
        stop.set()
        typing.join()  # before the pipe closes: its descriptor may be reused by the next test
    return repl, out.getvalue(), code
