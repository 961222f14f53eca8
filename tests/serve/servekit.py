"""Helpers for tests/serve: a real ``anet-tui serve`` on 127.0.0.1 (a free port) and asyncssh
clients that read its screens with pyte."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

asyncssh = pytest.importorskip("asyncssh")
pyte = pytest.importorskip("pyte")

ROOT = Path(__file__).resolve().parents[2]
COLS, ROWS = 80, 24
WAIT = 60.0  # seconds: two shared cores, other tests running


class Server:
    def __init__(
        self,
        tmp_path: Path,
        *extra: str,
        students=("student1", "student2"),
        keys_file: str | None = None,
    ) -> None:
        """``keys_file``: text put before the students' key lines in an authorized_keys file
        that --keys names (instead of a folder of NAME.pub files)."""
        self.dir = tmp_path
        self.keys_dir = tmp_path / "keys"
        self.keys_dir.mkdir(exist_ok=True)
        self.state = tmp_path / "state"
        self.keys: dict[str, asyncssh.SSHKey] = {}
        self.keys_file = None if keys_file is None else tmp_path / "authorized_keys"
        for name in students:
            self.add_key(name)
        if self.keys_file is not None:
            lines = [keys_file] + [
                key.export_public_key().decode().strip() for key in self.keys.values()
            ]
            self.keys_file.write_text("\n".join(lines) + "\n")
            for path in self.keys_dir.glob("*.pub"):
                path.unlink()
        self.log_path = tmp_path / "server.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "anet_tui.cli",
                    "serve",
                    "--port",
                    "0",
                    "--keys",
                    str(self.keys_dir if self.keys_file is None else self.keys_file),
                    "--state",
                    str(self.state),
                    "--headless",
                    "--grace",
                    "1",
                    *extra,
                ],
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=env,
                cwd=ROOT,
            )
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline().decode()
        match = re.search(r" on 127\.0\.0\.1:(\d+) ", self.banner)
        assert match, (self.banner, self.log)
        self.port = int(match.group(1))

    def add_key(self, name: str, folder: Path | None = None) -> asyncssh.SSHKey:
        key = asyncssh.generate_private_key("ssh-ed25519", comment=name)
        self.keys[name] = key
        if folder is None:
            folder = self.keys_dir
        (folder / f"{name}.pub").write_bytes(key.export_public_key())
        return key

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = WAIT) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.log):
                return match
            time.sleep(0.1)
        raise AssertionError(f"the log never matched {pattern!r}:\n{self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    async def connect(self, user: str, key: asyncssh.SSHKey | None = None, **kwargs):
        if key is None and "password" not in kwargs:
            key = self.keys[user]
        return await asyncssh.connect(
            "127.0.0.1",
            self.port,
            username=user,
            known_hosts=None,
            agent_path=None,
            client_keys=[key] if key is not None else [],
            **kwargs,
        )


class Terminal:
    """One session's screen, as a person at an 80×24 terminal would see it."""

    def __init__(self, process) -> None:
        self.process = process
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.closed = False
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, conn, command: str | None = None, size=(COLS, ROWS)) -> Terminal:
        process = await conn.create_process(
            command, term_type="xterm-256color", term_size=size, encoding=None
        )
        term = cls(process)
        if size != (COLS, ROWS):
            term.screen.resize(size[1], size[0])
        return term

    async def _read(self) -> None:
        while data := await self.process.stdout.read(1 << 16):
            self.raw += data
            self.stream.feed(data)
            if b"\x1b[6n" in data:  # prompt_toolkit asks where the cursor is: answer
                y, x = self.screen.cursor.y + 1, self.screen.cursor.x + 1
                self.process.stdin.write(f"\x1b[{y};{x}R".encode())
        self.closed = True

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    async def wait_for(self, ready: Callable[[str], bool], timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready(self.text):
                return await self.quiet()
            if self.closed:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"the screen never got there; it shows:\n{self.text}")

    async def quiet(self, gap: float = 0.3) -> str:
        while True:
            before = len(self.raw)
            await asyncio.sleep(gap)
            if len(self.raw) == before:
                return self.text

    def type(self, text: str) -> None:
        self.process.stdin.write(text.encode())


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


def gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False
