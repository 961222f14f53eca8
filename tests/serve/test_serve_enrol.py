"""anet-tui serve, step 4: ``--enrol`` prints a class code; a new name logs in with it once and
the key it offered is saved under that name; from then on that name needs its key."""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
import pytest
from servekit import Server, Terminal, run


def test_the_class_code_works_once_per_name_then_keys_only(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--enrol")
    try:
        lines = [srv.proc.stdout.readline().decode() for _ in range(2)]
        code = re.search(r"class code (\S+)", lines[1]).group(1)
        newbie = asyncssh.generate_private_key("ssh-ed25519")
        other = asyncssh.generate_private_key("ssh-ed25519")

        async def session(user: str, key, **kwargs) -> str:
            async with await srv.connect(user, key, **kwargs) as conn:
                term = await Terminal.open(conn, "plain")
                return await term.wait_for(lambda s: ">>>" in s)

        # Wrong code, no key, a name that has a key: all refused, nothing saved.
        with pytest.raises(asyncssh.PermissionDenied):
            run(session("newbie", newbie, password="not-the-code"))
        srv.wait_log(r"refused: login as 'newbie' from 127\.0\.0\.1: wrong class code")
        with pytest.raises(asyncssh.PermissionDenied):
            run(session("newbie", None, password=code))
        srv.wait_log(r"'newbie' .*: class code without a public key to record")
        with pytest.raises(asyncssh.PermissionDenied):
            run(session("student1", other, password=code))
        srv.wait_log(r"'student1' .*: password \(the class code\) for a name that has a key")
        assert not (srv.keys_dir / "newbie.pub").exists()

        # The code with a key: in, and the key is saved under the name.
        assert ">>>" in run(session("newbie", newbie, password=code))
        srv.wait_log(r"enrolled newbie from 127\.0\.0\.1: key SHA256:\S+ saved as .*newbie\.pub")
        saved = asyncssh.read_public_key(srv.keys_dir / "newbie.pub")
        assert saved.public_data == newbie.public_data

        # Then the key alone works, and the code no longer does for that name.
        assert ">>>" in run(session("newbie", newbie))
        with pytest.raises(asyncssh.PermissionDenied):
            run(session("newbie", other, password=code))
        assert asyncssh.read_public_key(srv.keys_dir / "newbie.pub").public_data == (
            newbie.public_data
        )
    finally:
        srv.stop()


def test_without_enrol_a_password_is_never_asked_for(server: Server) -> None:
    async def go() -> None:
        await server.connect("student1", None, password="anything")

    with pytest.raises(asyncssh.PermissionDenied):
        run(go())
    assert "enrolled" not in server.log
