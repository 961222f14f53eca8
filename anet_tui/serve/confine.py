"""What a student process may touch under Landlock: the rules, as path → rights.

Read (and execute): the Python installation, the shared libraries it loads, the ``anet`` and
``anet_tui`` packages, and a few files of ``/etc`` and ``/dev``. Write: the student's own folder
(its ``tmp`` is the private temp directory). Not: other students' folders, the server's state
(host key, key folder), the teacher's home — unless one of those lies beneath a path Python
needs, which :func:`overlaps` reports at start.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import anet
import anet_tui
from anet_tui.serve.landlock import READ, READ_DIR, READ_EXEC, READ_FILE, WRITE, WRITE_FILE

SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")  # libc, ld.so, libstdc++ …
ETC = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
    "/etc/os-release",
)
DEVICES_RW = ("/dev/null", "/dev/zero", "/dev/tty", "/dev/full")
DEVICES_R = ("/dev/urandom", "/dev/random")
PROC = ("/proc", "/sys/devices/system/cpu", "/sys/fs/cgroup")  # other processes: ptrace rules


def python_paths() -> list[str]:
    """Where this Python's own files are."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        str(Path(sys.executable).resolve().parent),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if value := sysconfig.get_paths().get(key):
            paths.add(value)
    for entry in sys.path:  # site-packages and .pth additions; not '' or the current folder
        if entry and Path(entry).is_absolute() and Path(entry).is_dir() and entry != ".":
            paths.add(entry)
    return sorted(paths)


def package_dirs() -> list[str]:
    return [str(Path(m.__file__).resolve().parent) for m in (anet, anet_tui)]


def rules(home: Path) -> dict[str, int]:
    allowed: dict[str, int] = {}

    def allow(path: str, rights: int) -> None:
        allowed[path] = allowed.get(path, 0) | rights

    for path in (*SYSTEM, *python_paths()):
        allow(path, READ_EXEC)
    for path in package_dirs():
        allow(path, READ)
        allow(str(Path(path).parent), READ_DIR)  # PYTHONPATH's folder: listed, not read
    for path in ETC:
        allow(path, READ_FILE)
    for path in PROC:
        allow(path, READ)
    for path in DEVICES_R:
        allow(path, READ_FILE)
    for path in DEVICES_RW:
        allow(path, READ_FILE | WRITE_FILE)
    allow(str(home), WRITE)
    return allowed


def overlaps(state: Path, home: Path) -> list[str]:
    """Readable rule paths that contain ``state`` (the host key, every student's folder)."""
    state = state.resolve()
    found = []
    for path, rights in rules(home).items():
        if path == str(home) or not rights & READ_FILE:
            continue
        if state == Path(path) or Path(path) in state.parents:
            found.append(path)
    return found
