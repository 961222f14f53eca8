"""``%edit`` (issue #14): FILE, a new temporary file, or the last file edited or run (``-p``) opens
in ``$VISUAL``/``$EDITOR``; on a clean exit it runs as ``%run`` runs it. The editor here is a small
Python script that appends code to the file it is given (or, in a terminal, first waits for
Enter): through the command layer, the plain REPL, the app under Pilot (which cannot suspend),
and the real app and plain REPL in a pty (where the app suspends and gives the terminal back)."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pexpect
import pytest
from plain_keys import drive as drive_plain
from test_app import drive, enter
from test_e2e_pty import Terminal
from textual.pilot import Pilot

from anet_tui.commands import Commands
from anet_tui.editor import NO_EDITOR, EditorUnavailable, editor_command
from anet_tui.lessons import Lesson
from anet_tui.shell import Shell

pytestmark = pytest.mark.timeout(240)

CTRL_D = "\x04"

# Appends a block that counts its runs and says how it ran; FAKE_EDITOR_STATUS is its exit
# status, FAKE_EDITOR_WRITE=0 writes nothing, FAKE_EDITOR_WAIT=1 waits for Enter first (a pty).
EDITOR_SCRIPT = textwrap.dedent(
    """\
    import os, sys
    if os.environ.get("FAKE_EDITOR_WAIT") == "1":
        print("FAKE EDITOR on", os.path.basename(sys.argv[-1]), "- press Enter", flush=True)
        sys.stdin.readline()
    if os.environ.get("FAKE_EDITOR_WRITE", "1") == "1":
        with open(sys.argv[-1], "a") as f:
            f.write(
                "import sys\\n"
                "edits = globals().get('edits', 0) + 1\\n"
                "print('edited', edits, __name__, sys.argv[1:])\\n"
            )
    sys.exit(int(os.environ.get("FAKE_EDITOR_STATUS", "0")))
    """
)


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """EDITOR set to the fake editor (VISUAL unset); new temp files go to ``tmp_path/tmp``."""
    script = tmp_path / "fake_editor.py"
    script.write_text(EDITOR_SCRIPT)
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    monkeypatch.setenv("EDITOR", command)
    monkeypatch.delenv("VISUAL", raising=False)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return command


def text_of(c: Commands, line: str) -> tuple[bool, str, str]:
    r = c.execute(line)
    return r.ok, r.text(), r.output


# ---- the command layer ---------------------------------------------------------------------------


def test_edit_file_runs_it_as_a_script_with_its_args(editor: str, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text("before = 41\n")
    c = Commands(Shell())
    ok, text, output = text_of(c, f"%edit {path} a 'b c'")
    assert ok, text
    assert output == "edited 1 __main__ ['a', 'b c']\n"  # its own argv, __name__ == "__main__"
    assert c.shell.namespace["before"] == 41 and c.shell.namespace["edits"] == 1
    assert text == f"ran {path} · %edit -p edits it again"
    assert path.read_text().count("edits =") == 1
    # Edit and run it again: the last file, with its args.
    ok, text, output = text_of(c, "%edit -p")
    assert ok and output == "edited 2 __main__ ['a', 'b c']\nedited 3 __main__ ['a', 'b c']\n"
    # %save keeps what ran (a %run of the file), not the editor.
    saved = tmp_path / "session.py"
    assert c.execute(f"%save {saved}").ok
    entries = [e.source for e in Lesson.from_text(saved.read_text()).entries(c.known)]
    assert entries == [f"%run {path} a 'b c'"] * 2


def test_edit_alone_opens_a_new_file_and_p_opens_it_again(editor: str, tmp_path: Path) -> None:
    c = Commands(Shell())
    ok, text, output = text_of(c, "%edit")
    assert ok and output == "edited 1 __main__ []\n", text
    [made] = (tmp_path / "tmp").iterdir()
    assert made.name.startswith("anet_edit_") and made.suffix == ".py"
    assert text == f"ran {made} · %edit -p edits it again (a new file: it stays there)"
    ok, _, output = text_of(c, "%edit -p")
    assert ok and "edited 3" in output and list((tmp_path / "tmp").iterdir()) == [made]
    ok, _, output = text_of(c, "%edit")  # a new one each time
    assert (
        ok and output == "edited 4 __main__ []\n" and len(list((tmp_path / "tmp").iterdir())) == 2
    )


def test_edit_p_also_reopens_the_last_file_run(editor: str, tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text("import sys\nprint('args', sys.argv[1:])\n")
    c = Commands(Shell())
    assert text_of(c, "%edit -p")[1] == (
        "%edit -p: no file was edited or run yet; %edit FILE opens one"
    )
    assert c.execute(f"%run {path} x").ok
    ok, _, output = text_of(c, "%edit -p")
    assert ok and output == "args ['x']\nedited 1 __main__ ['x']\n"


def test_edit_without_an_editor_says_how_to_set_one(
    editor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDITOR")
    c = Commands(Shell())
    ok, text, _ = text_of(c, f"%edit {tmp_path / 'x.py'}")
    assert not ok and text == f"%edit: {NO_EDITOR}"
    assert "set EDITOR (export EDITOR=nano" in text
    ok, text, _ = text_of(c, "%edit")
    assert not ok and list((tmp_path / "tmp").iterdir()) == []  # no temp file made
    monkeypatch.setenv("VISUAL", "   ")  # blank: as unset
    assert not text_of(c, "%edit")[0]


def test_visual_comes_before_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", "code --wait")
    monkeypatch.setenv("EDITOR", "nano")
    assert editor_command() == ["code", "--wait"]
    monkeypatch.delenv("VISUAL")
    assert editor_command() == ["nano"]
    monkeypatch.setenv("EDITOR", "'unclosed")
    with pytest.raises(EditorUnavailable, match=r"EDITOR=.*cannot be read"):
        editor_command()


@pytest.mark.parametrize(
    ("env", "line", "words"),
    [
        ({"FAKE_EDITOR_STATUS": "1"}, "%edit {f}", "the editor exited with status 1: nothing ran"),
        ({"FAKE_EDITOR_WRITE": "0"}, "%edit {new}", "new.py was not saved: nothing ran"),
        ({"FAKE_EDITOR_WRITE": "0"}, "%edit", "nothing was written to the new file: nothing ran"),
        ({"FAKE_EDITOR_STATUS": "3"}, "%edit", "the editor exited with status 3: nothing ran"),
        ({"EDITOR": "no-such-editor-anywhere"}, "%edit {f}", "no program 'no-such-editor-any"),
        ({}, "%edit {dir}", "cannot edit"),
        ({}, "%edit -x", "usage: %edit [FILE [ARGS…]] | %edit -p"),
        ({}, "%edit -p extra", "usage: %edit"),
        ({}, "%edit 'unclosed", "%edit: No closing quotation"),
    ],
)
def test_edit_refusals_run_nothing_and_leave_no_temp_file(
    editor: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    line: str,
    words: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    f = tmp_path / "f.py"
    f.write_text("ran_it = True\n")
    c = Commands(Shell())
    ok, text, _ = text_of(c, line.format(f=f, new=tmp_path / "new.py", dir=tmp_path))
    assert not ok and words in text, text
    assert "ran_it" not in c.shell.namespace and "edits" not in c.shell.namespace
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "new.py").exists()


def test_edit_is_in_help_and_completes(editor: str) -> None:
    c = Commands(Shell())
    assert "%edit [FILE [ARGS…]]" in c.execute("%help edit").text()
    assert c.complete("%ed") == ["%edit"]


# ---- the plain REPL ------------------------------------------------------------------------------


def test_plain_edit_runs_the_editor_then_the_file(editor: str, tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    _, out, code = drive_plain([f"%edit {path} 1\r", "print('after', edits)\r", CTRL_D], tmp_path)
    assert code == 0
    assert "edited 1 __main__ ['1']\n" in out and f"ran {path} · %edit -p" in out
    assert "after 1\n" in out


# ---- the app (Pilot: headless, it cannot suspend) ------------------------------------------------


def test_app_edit_headless_says_it_cannot_and_the_app_goes_on(editor: str, tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_text("x = 1\n")

    async def script(pilot: Pilot) -> None:
        await enter(pilot, f"%edit {path}")
        await enter(pilot, "1 + 1")

    ran = drive(script, tmp_path)
    assert "%edit: this terminal cannot be handed to an editor" in ran.transcript
    assert "x" not in ran.app.shell.namespace and path.read_text() == "x = 1\n"
    assert ran.transcript.rstrip().endswith("2")


def test_app_edit_runs_the_editor_inside_suspend_then_the_file(
    editor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suspended: list[bool] = []

    @contextlib.contextmanager
    def suspend(self: object) -> object:  # what App.suspend does where it can: hand over
        suspended.append(True)
        yield

    from anet_tui.app import AnetApp

    monkeypatch.setattr(AnetApp, "suspend", suspend)
    path = tmp_path / "f.py"

    async def script(pilot: Pilot) -> None:
        await enter(pilot, f"%edit {path} z")

    ran = drive(script, tmp_path)
    assert suspended == [True]
    assert "edited 1 __main__ ['z']" in ran.transcript and f"ran {path}" in ran.transcript
    assert ran.app.shell.namespace["edits"] == 1


# ---- a real terminal -------------------------------------------------------------------------


def test_app_in_a_pty_suspends_for_the_editor_and_comes_back(editor: str, tmp_path: Path) -> None:
    term = Terminal([], tmp_path, EDITOR=editor, FAKE_EDITOR_WAIT="1")
    try:
        term.wait_for(lambda s: "Ctrl+Q quits" in s)
        term.type("%edit f.py 7\r")
        term.wait_for(lambda s: "FAKE EDITOR on f.py - press Enter" in s)
        # The app had left the alternate screen (suspended) when the editor wrote: pyte keeps
        # one screen, so this is read in the bytes.
        raw, at = term.raw, term.raw.index(b"FAKE EDITOR")
        assert raw.rfind(b"\x1b[?1049l", 0, at) > raw.rfind(b"\x1b[?1049h", 0, at) >= 0
        term.type("\r")
        back = term.wait_for(lambda s: "edited 1 __main__ ['7']" in s)
        # Ctrl+C while the editor runs stops the editor; the app comes back, nothing ran.
        term.type("%edit -p\r")
        term.wait_for(lambda s: term.raw.count(b"FAKE EDITOR on f.py") == 2)
        term.child.sendcontrol("c")
        term.wait_for(lambda s: "the editor was stopped by signal 2: nothing ran" in s)
        term.type("print('still', edits)\r")
        back = term.wait_for(lambda s: "still 1" in s)
    finally:
        code = term.close()
    assert "ran f.py · %edit -p edits it again" in back
    assert term.raw.find(b"\x1b[?1049h", term.raw.index(b"FAKE EDITOR")) > 0  # and came back
    assert code == 0


def test_plain_in_a_pty_runs_the_editor_in_the_terminal(editor: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "ANET_TUI_HISTORY": str(tmp_path / "history"),
        "EDITOR": editor,
        "FAKE_EDITOR_WAIT": "1",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "anet_tui.cli", "--plain"],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 80),
        cwd=str(tmp_path),
    )
    try:
        child.expect_exact(">>>")
        time.sleep(0.1)
        child.send("%edit f.py\r")
        child.expect_exact("FAKE EDITOR on f.py - press Enter")
        child.send("\r")
        child.expect_exact("edited 1 __main__ []")
        child.expect_exact(">>>")
        time.sleep(0.1)
        # Ctrl+C while the editor runs stops the editor, not anet-tui; nothing runs.
        child.send("%edit -p\r")
        child.expect_exact("FAKE EDITOR on f.py - press Enter")
        child.sendcontrol("c")
        child.expect_exact("%edit: the editor was stopped by signal 2: nothing ran")
        child.expect_exact(">>>")
        time.sleep(0.1)
        child.send("print('edits', edits)\r")
        child.expect_exact("edits 1")
        child.expect_exact(">>>")
        time.sleep(0.1)
        child.send("\x04")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
