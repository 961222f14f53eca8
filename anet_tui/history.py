"""The REPL history file, shared by the app and the plain REPL and safe with two of them at once.

One entry per line, JSON-encoded so multi-line input (a ``class`` body) stays one entry. Each
entry is appended with a single ``write()`` on a file opened with ``O_APPEND``: two instances
writing at once never interleave, and an entry is on disk as soon as it was run (a dropped ssh
connection loses nothing). When the file cannot be written, a warning is given once and the REPL
keeps going with in-memory history.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from anet_tui import files

MAX_ENTRIES = 5_000  # loaded from the end of the file; older entries stay on disk
MAX_BYTES = 4_000_000  # at most this much of the file's end is read


def history_path() -> Path:
    """``$ANET_TUI_HISTORY``, else ``$XDG_STATE_HOME/anet-tui/history``, else
    ``~/.local/state/anet-tui/history``."""
    override = os.environ.get("ANET_TUI_HISTORY")
    if override:
        return Path(override).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "anet-tui" / "history"


def _is_devnull(path: Path) -> bool:
    try:
        return os.path.samefile(path, os.devnull)
    except OSError:
        return False


def _warn_stderr(message: str) -> None:
    print(f"anet-tui: {message}", file=sys.stderr)


class HistoryFile:
    """Entries oldest first in ``entries``; :meth:`append` writes one through to the file.

    ``warn`` receives a one-line message the first time the file cannot be read or written
    (default: printed to stderr); ``warning`` keeps it for a front-end that shows it later.
    """

    def __init__(
        self, path: str | Path | None = None, warn: Callable[[str], None] | None = None
    ) -> None:
        self.path = history_path() if path is None else Path(path)
        self.warn = _warn_stderr if warn is None else warn
        self.warning: str | None = None
        self._off = _is_devnull(self.path)  # ANET_TUI_HISTORY=/dev/null: no file, no warning
        self.entries: list[str] = self._load()

    def _problem(self, what: str, error: OSError) -> None:
        if self.warning is None:
            reason = error.strerror or str(error)
            self.warning = f"history {what} {self.path}: {reason}; history is kept in memory only"
            self.warn(self.warning)

    def _load(self) -> list[str]:
        if self._off:
            return []
        try:
            fd = files.open_regular(self.path)  # never a FIFO (it would block) or a device
        except files.FileProblem as e:
            if str(e) != "no such file":
                self._problem("cannot be read from", OSError(0, str(e)))
            return []
        try:
            size = os.fstat(fd).st_size
            if size > MAX_BYTES:  # a long history: only its end is loaded
                os.lseek(fd, size - MAX_BYTES, os.SEEK_SET)
            data = os.read(fd, MAX_BYTES)
            while len(data) < MAX_BYTES and (more := os.read(fd, MAX_BYTES - len(data))):
                data += more
        except OSError as e:
            self._problem("cannot be read from", e)
            return []
        finally:
            os.close(fd)
        if size > MAX_BYTES:
            data = data.partition(b"\n")[2]  # the first line is probably cut
        entries = []
        for raw in data.decode("utf-8", "replace").splitlines():
            if not raw:
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = raw  # a line written by hand or by another tool: keep it as it is
            if isinstance(entry, str) and entry.strip():
                entries.append(entry)
        return entries[-MAX_ENTRIES:]

    def append(self, entry: str) -> None:
        """Add ``entry`` (skipped when blank or the same as the previous one) and write it out."""
        if not entry.strip() or (self.entries and self.entries[-1] == entry):
            return
        self.entries.append(entry)
        if self.warning is not None or self._off:
            return
        try:
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            data = line.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: keep them as \u escapes
            data = (json.dumps(entry) + "\n").encode("ascii")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = files.open_regular(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            except files.FileProblem as e:
                raise OSError(0, str(e)) from None
            try:
                written = os.write(fd, data)  # one write: appends from two processes never mix
                if written != len(data):
                    raise OSError(0, f"short write ({written} of {len(data)} bytes)")
            finally:
                os.close(fd)
        except OSError as e:
            self._problem("cannot be written to", e)


__all__ = ["HistoryFile", "history_path"]
