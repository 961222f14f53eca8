"""Reading and writing the files a user names (scripts, lessons, the history, ``%save``) safely.

Only regular files are read or written: a FIFO would block for ever, a device such as
``/dev/zero`` never ends, and writing "into" ``/dev/null`` by replacing it would destroy it. Every
read has a size limit. Problems are :class:`FileProblem` exceptions whose message is a short reason
(``it is a FIFO (named pipe), not a regular file``) that callers put after the path.

    text = read_text_file("lesson.py")     # str, or FileProblem saying why not
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 1_000_000  # scripts and lessons: 1 MB is far more than any of them needs
_BINARY_PROBE = 8192
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class FileProblem(Exception):
    """A file cannot be read or written; the message is the reason, without the path."""


def kind_of(mode: int) -> str:
    """``a FIFO (named pipe)``, ``a directory`` …: what a non-regular file is, in words."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def not_regular(mode: int) -> str:
    """The reason a file of this mode is refused."""
    if stat.S_ISDIR(mode):
        return "it is a directory"
    return f"it is {kind_of(mode)}, not a regular file"


def open_regular(path: str | Path, flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """A descriptor for the regular file at ``path`` (symbolic links followed), or FileProblem.

    Checked with ``stat`` before opening, so a device is never opened (opening one can act: a
    tape rewinds), and again with ``fstat`` after, so a file swapped in between is caught. The
    open is non-blocking: a FIFO put there in that instant cannot hang it either."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise FileProblem("no such file") from None
    except OSError as e:
        raise FileProblem(e.strerror or str(e)) from None
    else:
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(not_regular(info.st_mode))
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, mode)
    except IsADirectoryError:
        raise FileProblem("it is a directory") from None
    except OSError as e:
        raise FileProblem(e.strerror or str(e)) from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise FileProblem(not_regular(opened.st_mode))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def unreadable(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a script (missing, a FIFO, a device …), or None."""
    try:
        os.close(open_regular(path))
    except FileProblem as e:
        return str(e)
    return None


def read_bytes(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them (FileProblem when it
    is larger, saying the limit)."""
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size <= limit:
            chunks, total = [], 0
            while total <= limit:  # size may be wrong (a file still growing): read to the end
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            data = b"".join(chunks)
            size = max(size, len(data))
    except OSError as e:
        raise FileProblem(e.strerror or str(e)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise FileProblem(
            f"it is larger than {_megabytes(limit)} ({size:,} bytes); "
            f"anet-tui reads files up to {_megabytes(limit)}"
        )
    return data


def read_text_file(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text (an editor's BOM dropped) of the regular file at ``path``: FileProblem when
    it is not one, is over ``limit`` bytes, binary or not UTF-8."""
    return decode_text(read_bytes(path, limit))


def decode_text(data: bytes) -> str:
    """``data`` as UTF-8 source text, or FileProblem: binary (a NUL near the start), not UTF-8."""
    if b"\0" in data[:_BINARY_PROBE]:
        raise FileProblem("it is a binary file, not Python source")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FileProblem(
            f"it is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); save it as UTF-8"
        ) from None


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


__all__ = [
    "MAX_FILE_BYTES",
    "FileProblem",
    "decode_text",
    "kind_of",
    "not_regular",
    "open_regular",
    "read_bytes",
    "read_text_file",
    "unreadable",
]
