"""Security: nothing anet-tui loads runs unless the user asks (history, lessons and saved sessions
are only parsed), saved data is never unpickled or eval'ed, and no network socket is opened."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

import anet
import anet_tui
from anet_tui.commands import Commands
from anet_tui.history import HistoryFile
from anet_tui.plain import PlainRepl
from anet_tui.shell import Shell

pytestmark = pytest.mark.timeout(60)

UP = "\x1b[A"
CTRL_D = "\x04"


def planted(marker: Path) -> str:
    """Code that leaves ``marker`` behind when it runs."""
    return f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')"


def type_keys(keys: list[str], history: Path) -> PlainRepl:
    left = threading.Event()
    with create_pipe_input() as pipe:

        def typist() -> None:
            for chunk in keys:
                if left.is_set():
                    return
                pipe.send_text(chunk)
                time.sleep(0.15)

        typing = threading.Thread(target=typist, daemon=True)
        typing.start()
        shell = Shell()
        repl = PlainRepl(
            shell,
            Commands(shell),
            HistoryFile(history),
            input=pipe,
            output=DummyOutput(),
            out=io.StringIO(),
        )
        repl.interact()
        left.set()
        typing.join()
    return repl


def test_history_is_only_read_until_the_user_runs_an_entry(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    history = tmp_path / "history"
    history.write_text(json.dumps(planted(marker)) + "\n" + json.dumps("'{__import__}'") + "\n")
    type_keys(["1 + 1\r", CTRL_D], history)  # open the REPL, run something else, leave
    assert not marker.exists()
    type_keys([UP, UP, UP, "\r", CTRL_D], history)  # recalled and run on purpose: it runs
    assert marker.exists()


def test_a_lesson_or_saved_session_is_only_parsed_until_its_cells_are_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    lesson = tmp_path / "evil_lesson.py"
    lesson.write_text(f"# %% [markdown]\n# Looks harmless\n# %%\n{planted(marker)}\n")
    c = Commands(Shell())
    assert c.execute(f"%lesson {lesson}").ok
    assert not marker.exists() and "write_text" in c.execute("%lesson " + str(lesson)).text()
    # From the command line too: `anet-tui --plain --lesson LESSON.py` opens it, it does not run
    # it (`anet-tui --plain LESSON.py` runs it: asked to run a script, as `python LESSON.py`).
    proc = subprocess.run(
        [sys.executable, "-m", "anet_tui.cli", "--plain", "--lesson", str(lesson)],
        input=b"print('only this ran')\n",
        capture_output=True,
        timeout=60,
        env={**os.environ, "ANET_TUI_HISTORY": str(tmp_path / "h")},
    )
    assert b"only this ran" in proc.stdout and not marker.exists()
    # A saved session is a lesson too: %save, then open it elsewhere.
    saver = Commands(Shell())
    saver.execute("harmless = 1")
    saver.execute(f"%save {tmp_path / 'saved.py'}")
    opened = Commands(Shell())
    assert opened.execute(f"%lesson {tmp_path / 'saved.py'}").ok
    assert "harmless" not in opened.shell.namespace
    # Running is explicit: %next runs the cell, and then (only then) the code runs.
    assert c.submit("%next").ok and marker.exists()


# ---- what the package's source may never do ------------------------------------------------

ALLOWED_EVAL = {("anet_tui/shell.py", "_execute"), ("anet_tui/shell.py", "job")}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "yaml", "joblib"}
FORBIDDEN_CALLS = {"system", "popen", "urlopen", "create_connection", "literal_eval"}


def package_sources() -> list[Path]:
    roots = [Path(anet.__file__).parent, Path(anet_tui.__file__).parent]
    return [p for root in roots for p in sorted(root.rglob("*.py")) if "lessons" not in p.parts]


def test_saved_data_is_never_unpickled_or_evaluated() -> None:
    problems: list[str] = []
    for path in package_sources():
        rel = f"{path.parent.name}/{path.name}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions: dict[ast.AST, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    functions[inner] = node.name  # BFS: the innermost function last
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                names = set()
            if names & FORBIDDEN_MODULES:
                problems.append(f"{rel}:{node.lineno} imports {names & FORBIDDEN_MODULES}")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("eval", "exec") and (rel, functions.get(node)) not in ALLOWED_EVAL:
                problems.append(f"{rel}:{node.lineno} calls {name}() in {functions.get(node)}")
            if name in FORBIDDEN_CALLS:
                problems.append(f"{rel}:{node.lineno} calls {name}()")
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False
                ):
                    problems.append(f"{rel}:{node.lineno} allow_pickle is not False")
            if (
                name == "load"
                and "np" in ast.unparse(func)
                and not any(kw.arg == "allow_pickle" for kw in node.keywords)
            ):
                problems.append(f"{rel}:{node.lineno} np.load without allow_pickle=False")
    assert problems == []
    # The two eval/exec sites left are the REPL running what the user typed: they exist.
    shell = (Path(anet_tui.__file__).parent / "shell.py").read_text()
    assert "exec(compile(tree, filename" in shell and "eval(code, self.namespace)" in shell


def test_the_source_scan_would_catch_a_pickle() -> None:
    # Spelled in pieces so that a grep for pickles in the tree does not find this test itself.
    module, flag = "pick" + "le", "allow_" + "pickle"
    tree = ast.parse(f"import {module}\ndata = np.load(f, {flag}=True)\n")
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import)]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert imports[0].names[0].name in FORBIDDEN_MODULES
    assert calls[0].keywords[0].arg == "allow_pickle" and calls[0].keywords[0].value.value is True


# ---- no network --------------------------------------------------------------------------

AUDITED = textwrap.dedent(
    """\
    import io, json, socket, sys, time, threading
    events = []

    def hook(event, args):
        if event == "socket.__new__":
            events.append([event, int(args[1])])  # the address family
        elif event.startswith(("socket.", "http.", "urllib.", "ftplib.", "smtplib.")):
            events.append([event, None])

    sys.addaudithook(hook)

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from anet_tui import cli
    from anet_tui.plain import PlainRepl

    script, saved = sys.argv[1], sys.argv[2]
    typed = [
        f"exec(open({script!r}).read())\\r", "%debug loss\\r", "%continue\\r", "%check all\\r",
        "%lesson 1\\r", "%next\\r", f"%save {saved}\\r", "\\x04", "\\x04",
    ]
    with create_pipe_input() as pipe:
        def typist():
            for keys in typed:
                pipe.send_text(keys)
                time.sleep(0.2)
        threading.Thread(target=typist, daemon=True).start()
        PlainRepl(input=pipe, output=DummyOutput(), out=io.StringIO()).interact()
    code = cli.main(["check", script])
    print(json.dumps({"events": events, "check": code, "unix": int(socket.AF_UNIX)}))
    """
)


def test_a_plain_repl_session_and_check_open_no_network_socket(tmp_path: Path) -> None:
    script = tmp_path / "model.py"
    script.write_text(
        "from anet import Tensor\nx = Tensor([[1.0, -1.0]])\nw = Tensor([[0.5], [0.25]])\n"
        "loss = x.dot(w).relu().sum()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", AUDITED, str(script), str(tmp_path / "saved.py")],
        capture_output=True,
        timeout=60,
        env={**os.environ, "ANET_TUI_HISTORY": str(tmp_path / "h")},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout.decode().splitlines()[-1])
    assert report["check"] == 0 and (tmp_path / "saved.py").exists()  # the session really ran
    network = [e for e in report["events"] if e != ["socket.__new__", report["unix"]]]
    assert network == [], network  # only local socketpairs (asyncio's wake-up pipe), if any
