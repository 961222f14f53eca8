"""Files, round 2 (issue #11): ``%save`` writes only regular files and keeps their mode; files
anet-tui reads (lessons, scripts, the history) are regular files of at most 1 MB, so a FIFO or a
device never hangs it; saved sessions replay exactly the entries that ran."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anet_tui import lessons
from anet_tui.commands import Command, CommandResult, Commands
from anet_tui.history import HistoryFile
from anet_tui.shell import Shell

pytestmark = pytest.mark.timeout(300)

ANET_TUI = shutil.which("anet-tui", path=os.path.dirname(sys.executable)) or "anet-tui"
ROOT = os.geteuid() == 0


def run_cli(
    *args: str, stdin: str = "", cwd: Path | None = None, limit_memory: bool = False
) -> tuple[int, str, str]:
    """The installed ``anet-tui``; with ``limit_memory`` its address space is capped at 2 GiB, so
    a regression that reads a device without end fails here instead of waking the OOM killer."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {**os.environ, "NO_COLOR": "1", "ANET_TUI_HISTORY": os.devnull}
    proc = subprocess.run(
        [ANET_TUI, *args],
        input=stdin.encode(),
        capture_output=True,
        timeout=120,
        env=env,
        cwd=cwd,
        preexec_fn=cap_memory if limit_memory else None,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def finishes(fn: Callable[[], Any], seconds: float = 60.0) -> Any:
    """``fn()``'s result, or a test failure when it has not returned within ``seconds`` (it runs
    on a daemon thread: a hang fails the test instead of blocking the run)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # handed back to the test
            box["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (blocked?)"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture
def fifo(tmp_path: Path) -> Any:
    path = tmp_path / "pipe.py"
    os.mkfifo(path)
    yield path
    # A regression may have left a reader blocked in open(): a writer releases it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


def dev_null_is_intact() -> bool:
    return stat.S_ISCHR(os.stat(os.devnull).st_mode)


# ---- %save writes regular files only (item 3) ------------------------------------------------


def session(tmp_path: Path) -> Commands:
    c = Commands(Shell())
    assert c.execute("x = 1").ok
    return c


def special_targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Things at a path that %save must refuse, and a word its refusal says."""
    targets: dict[str, tuple[Path, str]] = {}
    pipe = tmp_path / "fifo.py"
    os.mkfifo(pipe)
    targets["fifo"] = (pipe, "FIFO")
    folder = tmp_path / "folder.py"
    folder.mkdir()
    targets["directory"] = (folder, "directory")
    real = tmp_path / "real.py"
    real.write_text("precious\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    targets["symlink"] = (link, "symbolic link")
    dangling = tmp_path / "dangling.py"
    dangling.symlink_to(tmp_path / "nowhere.py")
    targets["dangling symlink"] = (dangling, "symbolic link")
    to_devnull = tmp_path / "devnull.py"
    to_devnull.symlink_to(os.devnull)
    targets["symlink to /dev/null"] = (to_devnull, "symbolic link")
    sock_path = tmp_path / "sock.py"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    targets["socket"] = (sock_path, "socket")
    if ROOT:  # a device node of our own (the same device as /dev/null), never /dev/null itself
        device = tmp_path / "null.py"
        try:
            os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            targets["character device"] = (device, "device")
        except OSError:
            pass
    return targets


def describe(path: Path) -> tuple[int, str | None]:
    info = os.lstat(path)
    return stat.S_IFMT(info.st_mode), os.readlink(path) if stat.S_ISLNK(info.st_mode) else None


@pytest.mark.parametrize("force", [False, True])
def test_save_refuses_links_devices_fifos_sockets_and_folders(tmp_path: Path, force: bool) -> None:
    c = session(tmp_path)
    targets = special_targets(tmp_path)
    for what, (path, word) in targets.items():
        before = describe(path)
        result = finishes(lambda p=path: c.run(f"%save {p}{' -f' if force else ''}"))
        assert result.kind == "error", (what, result.text())
        assert word in result.text() and str(path) in result.text(), (what, result.text())
        assert describe(path) == before, f"{what} was replaced"
    assert (tmp_path / "real.py").read_text() == "precious\n"
    assert not (tmp_path / "nowhere.py").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    assert dev_null_is_intact()


def test_save_f_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    c = session(tmp_path)
    for mode in (0o644, 0o640, 0o755):
        target = tmp_path / f"saved-{mode:o}.py"
        target.write_text("old\n")
        target.chmod(mode)
        assert c.run(f"%save {target} -f").ok
        assert stat.S_IMODE(target.stat().st_mode) == mode
        assert "x = 1" in target.read_text()
    new = tmp_path / "new.py"
    old_umask = os.umask(0o022)
    try:
        assert c.run(f"%save {new}").ok
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644  # a new file: the umask decides, as usual


def test_save_without_f_refuses_an_existing_file_and_leaves_it(tmp_path: Path) -> None:
    c = session(tmp_path)
    target = tmp_path / "keep.py"
    target.write_text("precious\n")
    result = c.run(f"%save {target}")
    assert result.kind == "error" and "exists" in result.text()
    assert target.read_text() == "precious\n"


# ---- reading user-named files: regular files up to 1 MB (item 11) ----------------------------


def test_lesson_on_a_fifo_is_refused_at_once(fifo: Path) -> None:
    c = Commands(Shell())
    result = finishes(lambda: c.run(f"%lesson {fifo}"))
    assert result.kind == "error"
    assert f"cannot open lesson {fifo}: it is a FIFO (named pipe), not a regular file" in (
        result.text()
    )


def test_reading_files_refuses_fifos_devices_and_big_files(tmp_path: Path, fifo: Path) -> None:
    big = tmp_path / "big.py"
    big.write_bytes(b"# %%\n" + b"x = 1\n" * 200_000)  # 1.2 MB
    for path, words in [
        (fifo, "FIFO"),
        (Path(os.devnull), "character device"),  # /dev/zero: in a memory-capped process below
        (big, "larger than 1 MB"),
        (tmp_path, "directory"),
    ]:
        with pytest.raises(lessons.LessonError, match=words):
            finishes(lambda p=path: lessons.load(p))
        result = finishes(lambda p=path: Shell().run_file(p))
        assert result.status == "error" and words in (result.error or ""), result.error


def test_a_symlink_to_a_lesson_still_opens(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text("# %%\nx = 1\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    assert lessons.load(link).entries()[0].source == "x = 1"


def test_the_command_line_refuses_a_fifo_script_lesson_or_check(tmp_path: Path, fifo: Path) -> None:
    code, out, err = run_cli("--plain", "--lesson", str(fifo), stdin="print('still here')\n")
    assert "FIFO" in out and "still here" in out and code == 0
    code, out, err = run_cli("--plain", str(fifo), stdin="print('still here')\n")
    assert code == 2 and f"{fifo}: it is a FIFO (named pipe), not a regular file" in err
    code, out, err = run_cli("check", str(fifo))
    assert code == 2 and "FIFO" in err


def test_lesson_on_dev_zero_is_refused_without_reading_it(tmp_path: Path) -> None:
    code, out, _ = run_cli(
        "--plain", "--lesson", "/dev/zero", stdin="print('still here')\n", limit_memory=True
    )
    assert "/dev/zero: it is a character device, not a regular file" in out
    assert "still here" in out and code == 0
    code, out, _ = run_cli("--plain", stdin="%lesson /dev/zero\nprint('still here')\n")
    assert "character device" in out and "still here" in out


def test_a_script_over_1_mb_is_refused_with_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * 200_000)
    code, _, err = run_cli("check", str(big))
    assert code == 2 and "larger than 1 MB" in err


def test_a_history_that_is_a_fifo_warns_and_never_blocks(fifo: Path) -> None:
    warnings: list[str] = []
    history = finishes(lambda: HistoryFile(fifo, warn=warnings.append))
    assert history.entries == [] and len(warnings) == 1 and "FIFO" in warnings[0]
    finishes(lambda: history.append("x = 1"))  # kept in memory, never blocking on the pipe
    assert history.entries == ["x = 1"]


def test_a_history_on_dev_null_is_quietly_off() -> None:
    warnings: list[str] = []
    history = HistoryFile(os.devnull, warn=warnings.append)
    history.append("x = 1")
    assert history.entries == ["x = 1"] and warnings == []
    assert dev_null_is_intact()


def test_a_big_history_loads_its_last_entries(tmp_path: Path) -> None:
    path = tmp_path / "history"
    with path.open("w") as f:
        for i in range(60_000):  # about 2 MB
            f.write(f'"entry = {i:032d}"\n')
    history = HistoryFile(path)
    assert history.warning is None
    assert history.entries[-1] == f"entry = {59_999:032d}" and len(history.entries) == 5_000


# ---- saved sessions replay exactly what ran (item 12) ----------------------------------------

TRICKY = [
    'text = """\n%s items\n"""',
    'text = """\n%debug y\n"""',
    'text = """\n# %%\nnot a new cell\n"""',
    'text = """\n# %% [markdown]\n# not narration\n"""',
    'text = """\n# %step\n"""',
    "x = 1\n# %%\ny = 2",
    "# only a comment",
    'fmt = ("%d"\n%s )',
    "def f():\n    return '''\n%s\n'''",
    "s = 'form\\x0cfeed'\nt = '''a\x0cb\u2028c'''",
]


def replayed(sources: list[str], commands: Commands) -> list[str]:
    text = lessons.to_script(sources)
    return [e.source for e in lessons.Lesson.from_text(text).entries(commands.known)]


@pytest.mark.parametrize("source", TRICKY)
def test_each_tricky_entry_replays_as_it_ran(source: str) -> None:
    c = Commands(Shell())
    sources = ["a = 1", source, "%debug loss", "%s", "%step 2", source]
    assert replayed(sources, c) == sources


_LINE = st.sampled_from(
    ["%s x", "%debug y", "# %%", "# %% [markdown]", "# %s x", "%step", "", "  ", "x = 1", "#"]
) | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"))


@st.composite
def entries(draw: Any) -> str:
    kind = draw(st.sampled_from(["string", "code", "command"]))
    if kind == "command":
        return draw(st.sampled_from(["%debug loss", "%s", "%step 3", "%b Dot", "%show #3"]))
    body = "\n".join(draw(st.lists(_LINE, max_size=5)))
    if kind == "string":
        return f"s = '''\n{body}\n'''"
    return f"y = 2\n{body}\nz = 3"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(entries(), max_size=6))
def test_any_session_replays_entry_for_entry(sources: list[str]) -> None:
    assert replayed(sources, Commands(Shell())) == sources


def test_percent_s_in_a_string_is_not_run_as_step_on_replay(tmp_path: Path) -> None:
    c = Commands(Shell())
    for entry in ["from anet import Tensor", 'doc = """\n%s items\n# %%\n%debug y\n"""']:
        assert c.execute(entry).ok
    target = tmp_path / "saved.py"
    assert c.run(f"%save {target}").ok
    again = Commands(Shell())
    ran: list[CommandResult | Any] = []
    opened = again.run(f"%lesson {target}")
    assert opened.ok, opened.text()
    while not again.lesson.done:  # type: ignore[union-attr]
        again.submit("%next", show=ran.append)
    assert not any(isinstance(r, CommandResult) and r.name in ("step", "debug") for r in ran)
    assert again.shell.namespace["doc"] == c.shell.namespace["doc"]


def test_saved_sessions_and_lessons_of_the_old_format_still_load() -> None:
    old = textwrap.dedent(
        """\
        # %% [markdown]
        # anet-tui session saved 2026-01-01 10:00: replay it with `anet-tui FILE`

        # %%
        x = Tensor([1.0, 2.0])
        loss = x.sum()

        # %%
        # %debug loss
        # %step
        """
    )
    got = [(e.source, e.command) for e in lessons.Lesson.from_text(old).entries({"debug", "step"})]
    assert got == [
        ("x = Tensor([1.0, 2.0])\nloss = x.sum()", False),
        ("%debug loss", True),
        ("%step", True),
    ]
    for info in lessons.shipped():
        assert lessons.load(str(info.number)).entries(Commands(Shell()).known)


def test_which_commands_are_saved_is_a_column_of_the_command_table(tmp_path: Path) -> None:
    c = Commands(Shell())
    c.table["hello"] = Command(
        "hello", "%hello", "say hello", lambda ctx, a: CommandResult("hello"), replay=False
    )
    c.table["again"] = Command(
        "again", "%again", "a replayable one", lambda ctx, a: CommandResult("again")
    )
    for entry in ["x = 1", "%hello", "%again", "%help", "%save " + str(tmp_path / "a.py")]:
        c.execute(entry)
    assert not c.table["save"].replay and not c.table["lesson"].replay
    assert c.table["step"].replay
    target = tmp_path / "b.py"
    assert c.run(f"%save {target}").ok
    got = [e.source for e in lessons.load(target).entries(c.known)]
    assert got == ["x = 1", "%again"]


def test_a_multi_line_command_replays_as_one_command(tmp_path: Path) -> None:
    c = Commands(Shell())
    sources = ["%debug (loss\n * 2)", "%s"]
    assert replayed(sources, c) == sources
    text = lessons.to_script(sources)
    compile(text, "saved.py", "exec")  # still valid Python


def test_saved_files_are_still_valid_python(tmp_path: Path) -> None:
    text = lessons.to_script(["a = 1", *TRICKY, "%debug loss", "%s"])
    compile(text, "saved.py", "exec")
