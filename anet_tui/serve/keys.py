"""Who may log in: ``NAME.pub`` files (one or more keys each), the teacher's key, the host key.

Names become directory names, so only ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}`` is a name; a key file
with any other stem is skipped (and reported). Key files are read again at each login, so a key
dropped into the folder works at once and one removed stops working.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}")
MAX_KEY_FILE = 64_000  # bytes: a .pub file is a few hundred; anything bigger is not a key file


def is_name(text: str) -> bool:
    return NAME.fullmatch(text) is not None


def state_dir() -> Path:
    """``$XDG_STATE_HOME/anet-tui/serve`` (``~/.local/state/anet-tui/serve``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "anet-tui" / "serve"


def read_keys(path: Path) -> list[asyncssh.SSHKey]:
    """The public keys in ``path`` (one per line, authorized_keys syntax without options)."""
    with open(path, "rb") as f:
        data = f.read(MAX_KEY_FILE + 1)
    if len(data) > MAX_KEY_FILE:
        raise ValueError(f"larger than {MAX_KEY_FILE} bytes")
    keys = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.append(asyncssh.import_public_key(line))
    if not keys:
        raise ValueError("no key in it")
    return keys


@dataclass
class KeyBook:
    """The names and their keys, read from ``folder`` (``NAME.pub``) and the teacher's file."""

    folder: Path | None
    teacher_file: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def teacher(self) -> str | None:
        return None if self.teacher_file is None else self.teacher_file.name.removesuffix(".pub")

    def load(self) -> dict[str, list[asyncssh.SSHKey]]:
        """Name → keys, as the files say now; unreadable files go to ``problems``."""
        self.problems = []
        files: list[tuple[str, Path]] = []
        if self.folder is not None:
            for path in sorted(self.folder.glob("*.pub")):
                files.append((path.name.removesuffix(".pub"), path))
        if self.teacher_file is not None and self.teacher is not None:
            files.append((self.teacher, self.teacher_file))
        book: dict[str, list[asyncssh.SSHKey]] = {}
        for name, path in files:
            if not is_name(name):
                self.problems.append(f"{path}: {name!r} is not a user name (skipped)")
                continue
            try:
                book.setdefault(name, []).extend(read_keys(path))
            except (OSError, ValueError, asyncssh.KeyImportError) as e:
                self.problems.append(f"{path}: {e} (skipped)")
        return book

    def owner(self, key: asyncssh.SSHKey) -> str | None:
        """The name a key belongs to, or None."""
        data = key.public_data
        for name, keys in self.load().items():
            if any(k.public_data == data for k in keys):
                return name
        return None

    def add(self, name: str, key: asyncssh.SSHKey) -> Path:
        """Record ``key`` as ``folder/NAME.pub`` (enrolment); refuses to overwrite."""
        assert self.folder is not None and is_name(name)
        path = self.folder / f"{name}.pub"
        line = key.export_public_key("openssh").decode().strip() + f" {name}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(line)
        return path


def host_key(folder: Path) -> asyncssh.SSHKey:
    """The server's ed25519 host key in ``folder/host_key``, made (mode 0600) on first start."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "host_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(
                f"{path} is readable by others (mode {mode:o}): chmod 600 it"
            ) from None
        return asyncssh.read_private_key(path)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="anet-tui serve")
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_private_key("openssh"))
    return key
