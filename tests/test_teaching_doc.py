"""docs/teaching.md's forced command (/usr/local/bin/anet-class), taken from the doc as written
and run with SSH_ORIGINAL_COMMAND set, as sshd runs it, with ``anet-tui`` a stub that records how
it was called. SSH_ORIGINAL_COMMAND is whatever a student typed after ``ssh HOST``: the script
may start anet-tui in exactly four ways and must refuse anything else without running it."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "teaching.md"
BLOCKS = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
SCRIPT = next(b for b in BLOCKS if b.startswith("#!/bin/sh") and "SSH_ORIGINAL_COMMAND" in b)
MAX = int(re.search(r"^MAX=(\d+)", SCRIPT, re.M).group(1))
REFUSAL = re.compile(r"^this account runs anet-tui only: [^\n]*\n$")  # one line

# The stub: one JSON line per call (its arguments, folder, umask, whether stdin is a terminal,
# for check how many bytes its stdin holds, with a copy of script.py and its folder's mode
# beside the log), then the exit status the test asks for.
STUB = """#!/bin/sh
tty=false; [ -t 0 ] && tty=true
input=""
if [ "$1" = check ]; then
    cp "$2" "$STUB_LOG.script"; ls -ld . > "$STUB_LOG.folder"; input=$(wc -c)
fi
printf '{"args": "%s", "cwd": "%s", "umask": "%s", "tty": %s, "stdin": "%s"}\\n' \\
    "$*" "$PWD" "$(umask)" "$tty" "$(echo $input)" >> "$STUB_LOG"
exit "${STUB_STATUS:-0}"
"""

pytestmark = pytest.mark.skipif(os.name != "posix", reason="a POSIX sh script")

SHELLS = [
    argv
    for argv in (["/bin/sh"], ["dash"], ["bash", "--posix"], ["busybox", "sh"])
    if shutil.which(argv[0])
]


@pytest.fixture(params=SHELLS, ids=[" ".join(s) for s in SHELLS])
def forced(request, tmp_path):
    """Run the doc's script under one POSIX shell: ``forced(command, stdin=b"", tty=False)``
    returns (status, stdout, stderr, calls of the stub)."""
    assert "PATH=/opt/anet/bin:" in SCRIPT
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    (stub_dir / "anet-tui").write_text(STUB)
    (stub_dir / "anet-tui").chmod(0o755)
    script = tmp_path / "anet-class"
    script.write_text(SCRIPT.replace("PATH=/opt/anet/bin:", f"PATH={stub_dir}:", 1))
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    log = tmp_path / "calls.log"

    def run(command: str, stdin: bytes = b"", tty: bool = False, status: int = 0):
        log.write_text("")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "SSH_ORIGINAL_COMMAND": command,
            "STUB_LOG": str(log),
            "STUB_STATUS": str(status),
        }
        argv = [*request.param, str(script)]
        if tty:
            main, child = pty.openpty()
            try:
                done = subprocess.run(
                    argv,
                    stdin=child,
                    stdout=child,
                    stderr=subprocess.PIPE,
                    env=env,
                    cwd=home,
                    timeout=30,
                )
            finally:
                os.close(child)
                os.close(main)
            out = b""
        else:
            done = subprocess.run(
                argv, input=stdin, capture_output=True, env=env, cwd=home, timeout=30
            )
            out = done.stdout
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return done.returncode, out.decode(), done.stderr.decode(), calls

    run.home = home
    run.log = log
    run.tmp = tmp_path
    return run


def test_the_doc_has_the_script():
    assert SCRIPT.startswith("#!/bin/sh\n")
    assert "eval" not in SCRIPT
    assert MAX == 1_000_000


@pytest.mark.parametrize(
    ("command", "tty", "args"),
    [
        ("", True, ""),  # ssh HOST: the app
        ("", False, "--plain"),  # ssh HOST < FILE
        ("plain", True, "--plain"),
        ("plain", False, "--plain"),
        ("lesson 2", True, "--lesson 2"),
        ("lesson 12", True, "--lesson 12"),
        ("lesson 02", True, "--lesson 02"),
        ("lesson 2", False, "--plain --lesson 2"),  # no -t: the lesson in the plain REPL
    ],
)
def test_accepted_words_start_anet_tui(forced, command, tty, args):
    status, _, err, calls = forced(command, tty=tty)
    assert (status, err) == (0, "")
    assert len(calls) == 1
    assert calls[0]["args"] == args
    assert calls[0]["tty"] is tty
    assert calls[0]["umask"] == "0077"


def test_check_runs_the_script_from_stdin_in_a_private_folder_and_removes_it(forced):
    source = b"print('hi')\n"
    for wanted in (0, 1, 2, 3):  # anet-tui check's statuses reach the student unchanged
        status, _, _, calls = forced("check", stdin=source, status=wanted)
        assert status == wanted
        (call,) = calls
        assert call["args"] == "check script.py"
        assert Path(call["cwd"]).parent == forced.home
        assert Path(call["cwd"]).name.startswith(".anet-check.")
        assert Path(f"{forced.log}.script").read_bytes() == source
        assert Path(f"{forced.log}.folder").read_text().startswith("drwx------")
        assert call["stdin"] == "0"  # nothing left on stdin for the script to read
        assert call["tty"] is False
        assert list(forced.home.iterdir()) == []


def test_check_takes_max_bytes_and_refuses_one_more(forced):
    status, out, err, calls = forced("check", stdin=b"#" * MAX)
    assert (status, len(calls)) == (0, 1)
    status, out, err, calls = forced("check", stdin=b"#" * (MAX + 1))
    assert (status, out, calls) == (2, "", [])
    assert err.count("\n") == 1 and f"{MAX} bytes at most" in err
    assert list(forced.home.iterdir()) == []


HOSTILE = [
    "lesson",
    "lesson ",
    "lesson 2 ",
    " lesson 2",
    "lesson  2",
    "lesson\t2",
    "lesson 123",
    "lesson -1",
    "lesson 2x",
    "lesson x",
    "lesson backward",
    "lesson ../../etc/passwd",
    "lesson /tmp/x.py",
    "lesson *",
    "lesson [0-9]",
    "lesson \u0662",  # an Arabic-Indic digit two
    "lesson 2; touch CANARY",
    "lesson 2 && touch CANARY",
    "lesson $(touch CANARY)",
    "lesson `touch CANARY`",
    "lesson 2\ntouch CANARY",
    "LESSON 2",
    "plain ",
    "Plain",
    "plain --demo mlp",
    "plain; touch CANARY",
    "plain\ntouch CANARY",
    "check ",
    "check x.py",
    "check --root y",
    "check; touch CANARY",
    "check | touch CANARY",
    "--plain",
    "anet-tui",
    "anet-tui --plain",
    "touch CANARY",
    "$(touch CANARY)",
    "sh -c 'touch CANARY'",
    "/bin/sh",
    "scp -t .",
    "/usr/lib/openssh/sftp-server",
    "internal-sftp",
    "*",
]


@pytest.mark.parametrize("command", HOSTILE, ids=[repr(c) for c in HOSTILE])
def test_anything_else_is_refused_in_one_sentence_and_runs_nothing(forced, command):
    canary = forced.tmp / "canary"
    status, out, err, calls = forced(command.replace("CANARY", str(canary)), stdin=b"print(1)\n")
    assert status == 2
    assert out == ""
    assert REFUSAL.match(err), err
    assert calls == []
    assert not canary.exists()
    assert list(forced.home.iterdir()) == []
