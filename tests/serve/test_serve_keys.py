"""anet-tui serve --keys FILE: one authorized_keys file whose comments are the names."""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
import pytest
from servekit import Server, Terminal, run

HEADER = """# the class of 2026: one key a line, the comment is the student's name

{evil} mallory
{nameless} ../student1
"""


def test_an_authorized_keys_file_names_students_by_comment(tmp_path: Path) -> None:
    evil = asyncssh.generate_private_key("ssh-ed25519")
    nameless = asyncssh.generate_private_key("ssh-ed25519")

    def line(key: asyncssh.SSHKey) -> str:
        return " ".join(key.export_public_key().decode().split()[:2])

    header = HEADER.format(evil=f'command="/bin/sh" {line(evil)}', nameless=line(nameless))
    srv = Server(tmp_path, keys_file=header)
    try:
        assert "2 students known" in srv.banner  # student1, student2; the bad lines skipped
        problems = [srv.proc.stdout.readline().decode() for _ in range(3)]
        assert any(re.search(r"authorized_keys:3: not a key line", p) for p in problems)
        assert any(
            "authorized_keys:4: the comment '../student1' is not a user" in p for p in problems
        )

        async def plain(user: str, key: asyncssh.SSHKey) -> str:
            async with await srv.connect(user, key) as conn:
                term = await Terminal.open(conn, "plain")
                term.type("6 * 7\r")
                return await term.wait_for(lambda s: "\n42" in s)

        assert "42" in run(plain("student1", srv.keys["student1"]))
        assert "42" in run(plain("student2", srv.keys["student2"]))
        for user, key in (
            ("student2", srv.keys["student1"]),  # a key opens only its comment's name
            ("mallory", evil),  # a line with options gives no key at all
            ("student1", nameless),
        ):
            with pytest.raises(asyncssh.PermissionDenied):
                run(plain(user, key))
        srv.wait_log(r"refused: login as 'student2' from 127\.0\.0\.1: student1's key")
        srv.wait_log(r"refused: login as 'mallory' from 127\.0\.0\.1: unknown key")
    finally:
        srv.stop()


def test_enrolment_appends_to_the_authorized_keys_file(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--enrol", keys_file="# no newline at the end:")
    srv.keys_file.write_text(srv.keys_file.read_text().rstrip("\n"))
    try:
        lines = [srv.proc.stdout.readline().decode() for _ in range(2)]  # students:, enrolment:
        code = re.search(r"class code (\S+)", lines[1]).group(1)
        newbie = asyncssh.generate_private_key("ssh-ed25519")

        async def plain(**kwargs) -> str:
            async with await srv.connect("newbie", newbie, **kwargs) as conn:
                term = await Terminal.open(conn, "plain")
                return await term.wait_for(lambda s: ">>>" in s)

        assert ">>>" in run(plain(password=code))
        assert ">>>" in run(plain())  # then the key alone
    finally:
        srv.stop()
    lines = srv.keys_file.read_text().splitlines()
    assert lines[-1].endswith(" newbie") and lines[-1].startswith("ssh-ed25519 ")
    assert lines[-2].endswith("student2")  # the last line before was not run into
