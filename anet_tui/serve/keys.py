"""Who may log in: ``NAME.pub`` files (one or more keys each) or one authorized_keys file whose
comments are the names, the teacher's key, the host key.

Names become directory names, so only ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}`` is a name; a key file
with any other stem, or a line of an authorized_keys file whose comment is no name, is skipped
(and reported). Key files are read again at each login, so a key dropped into the folder (or a
line added to the file) works at once and one removed stops working.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}")
MAX_KEY_FILE = 64_000  # bytes: a .pub file is a few hundred; anything bigger is not a key file
MAX_CLASS_FILE = 1_000_000  # bytes: an authorized_keys file of a class (a line is 100–750)


def is_name(text: str) -> bool:
    return NAME.fullmatch(text) is not None


def state_dir() -> Path:
    """``$XDG_STATE_HOME/anet-tui/serve`` (``~/.local/state/anet-tui/serve``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "anet-tui" / "serve"


def _key_lines(path: Path, limit: int = MAX_KEY_FILE) -> list[tuple[int, str]]:
    """(line number, text) of the lines of ``path`` that are neither blank nor comments."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    lines = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append((number, line))
    return lines


def read_keys(path: Path) -> list[asyncssh.SSHKey]:
    """The public keys in ``path`` (one per line, authorized_keys syntax without options)."""
    keys = [asyncssh.import_public_key(line) for _, line in _key_lines(path)]
    if not keys:
        raise ValueError("no key in it")
    return keys


def read_named_keys(path: Path, problems: list[str]) -> dict[str, list[asyncssh.SSHKey]]:
    """An authorized_keys file whose comments are the names: ``ssh-ed25519 AAAA… student1``.
    A line with options (``command=…``), an unreadable key or a comment that is no name is
    skipped, and said in ``problems``."""
    book: dict[str, list[asyncssh.SSHKey]] = {}
    for number, line in _key_lines(path, MAX_CLASS_FILE):
        try:
            key = asyncssh.import_public_key(line)
        except (ValueError, asyncssh.KeyImportError):
            problems.append(
                f"{path}:{number}: not a key line of the form 'TYPE KEY NAME' (options are not "
                "taken) (skipped)"
            )
            continue
        name = (key.get_comment() or "").strip()
        if not is_name(name):
            problems.append(f"{path}:{number}: the comment {name!r} is not a user name (skipped)")
            continue
        book.setdefault(name, []).append(key)
    return book


@dataclass
class KeyBook:
    """The names and their keys, read from ``folder`` (``NAME.pub`` files, or one
    authorized_keys file whose comments are the names) and the teacher's file."""

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
        book: dict[str, list[asyncssh.SSHKey]] = {}
        if self.folder is not None and not self.folder.is_dir():
            try:
                book = read_named_keys(self.folder, self.problems)
            except (OSError, ValueError) as e:
                self.problems.append(f"{self.folder}: {e}")
        elif self.folder is not None:
            for path in sorted(self.folder.glob("*.pub")):
                files.append((path.name.removesuffix(".pub"), path))
        if self.teacher_file is not None and self.teacher is not None:
            files.append((self.teacher, self.teacher_file))
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
        """Record ``key`` as ``folder/NAME.pub`` (enrolment), refusing to overwrite; or, when
        the keys are one authorized_keys file, as a line ``TYPE KEY NAME`` at its end."""
        assert self.folder is not None and is_name(name)
        kind, data = key.export_public_key("openssh").decode().split()[:2]
        line = f"{kind} {data} {name}\n"
        if not self.folder.is_dir():
            with open(self.folder, "a+b") as f:  # appends; reads to see how the file ends
                size = f.seek(0, os.SEEK_END)
                if size:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        line = "\n" + line
                f.write(line.encode())
            return self.folder
        path = self.folder / f"{name}.pub"
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
