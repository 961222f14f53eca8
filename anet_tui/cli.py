"""The ``anet-tui`` command: the full-screen app, ``--plain`` REPL, and ``anet-tui check``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import anet

if TYPE_CHECKING:
    from anet.debug import Flag, Graph
    from anet_tui.commands import Commands

DESCRIPTION = "Step through anet's backward() one node at a time, in a terminal."
EPILOG = """\
SCRIPT.py ARGS runs as `python SCRIPT.py ARGS` would (sys.argv, __name__ == "__main__", its
folder on sys.path); every word after SCRIPT.py is the script's, so anet-tui's own options
go before it: anet-tui --plain train.py --epochs 5

commands:
  anet-tui check SCRIPT.py [--root NAME] [--timeout SECONDS] [-- ARGS...]
      run SCRIPT.py (with ARGS), walk backward from NAME (default: every one-element tensor
      with a graph) with the numerical check on every node, print each flag on one line; exit
      0 when there are none, 1 when there are flags, 2 when the script fails, 3 when it takes
      longer than --timeout (default 60 s)

keys and %commands: press F1 in the app, or type %help.
NO_COLOR=1 turns colour off; TEXTUAL_COLOR_SYSTEM=256 when colours are wrong over ssh.
"""


def version_text() -> str:
    parts = [f"anet {anet.__version__}", f"Python {sys.version.split()[0]}"]
    for package in ("textual", "prompt_toolkit"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            parts.append(f"{package} {metadata.version(package)}")
    return f"anet-tui {anet.__version__} ({', '.join(parts)})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anet-tui",
        usage="%(prog)s [-h] [--demo NAME] [--lesson [N|FILE]] [--plain] [--version] "
        "[SCRIPT.py [ARGS ...]]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "script", nargs="?", metavar="SCRIPT.py", help="run this script into the REPL first"
    )
    parser.add_argument(
        "args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="the script's arguments, its sys.argv[1:] (anet-tui's options go before SCRIPT.py)",
    )
    parser.add_argument("--demo", metavar="NAME", help="open a built-in demo (see --demo list)")
    parser.add_argument(
        "--lesson",
        nargs="?",
        const="",
        metavar="N|FILE",
        help="open a lesson (alone: list the lessons that ship); a # %%%% SCRIPT.py is one too",
    )
    parser.add_argument(
        "--plain", action="store_true", help="a line-by-line REPL instead of the full-screen app"
    )
    parser.add_argument("--version", action="version", version=version_text())
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anet-tui check",
        usage="%(prog)s [-h] [--root NAME] [--timeout SECONDS] SCRIPT.py [-- ARGS ...]",
        description="Run a script and check the backward of every node its loss depends on. "
        "The ARGS after -- are the script's (its sys.argv[1:]).",
        epilog=(
            "exit status: 0 no flags, 1 flags found, 2 the script (or its root) failed, "
            "3 it timed out (the script and the walks took longer than --timeout)"
        ),
    )
    parser.add_argument("script", metavar="SCRIPT.py")
    parser.add_argument(
        "--root",
        metavar="NAME",
        help="the tensor to walk back from (default: every one-element tensor with a graph)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=CHECK_TIMEOUT,
        help=f"stop after this long, running and walking together (default {CHECK_TIMEOUT:g}; "
        "0: no limit)",
    )
    return parser


def parse_check_args(argv: Sequence[str]) -> argparse.Namespace:
    """``anet-tui check``'s arguments; ``args`` holds those after the first ``--``, verbatim
    (the script's own, a later ``--`` included)."""
    argv = list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    parsed = build_check_parser().parse_args(argv[:cut])
    parsed.args = argv[cut + 1 :]
    return parsed


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"--timeout SECONDS takes a number of seconds, 0 or more (got {text!r})"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["check"]:
        check_args = parse_check_args(args_list[1:])
        return _guarded(
            lambda: check(
                check_args.script, check_args.root, timeout=check_args.timeout, args=check_args.args
            )
        )
    args = build_parser().parse_args(args_list)
    from anet_tui import demos

    if args.demo == "list":
        for name in demos.names():
            print(f"{name:8} {demos.load(name).title.partition(': ')[2]}")
        return 0
    if args.demo is not None and args.demo not in demos.names():
        print(
            f"anet-tui: no demo called {args.demo!r}; the demos are: {', '.join(demos.names())}",
            file=sys.stderr,
        )
        return 2
    problem = None if args.script is None else _file_problem(args.script)
    if problem is not None:
        print(f"anet-tui: {args.script}: {problem}", file=sys.stderr)
        return 2
    if args.lesson == "" and args.script is None:
        from anet_tui import lessons

        for info in lessons.shipped():
            print(f"{info.number}  {info.title}")
        print("anet-tui --lesson N opens one (add --plain for the line-by-line REPL)")
        return 0
    lesson = args.lesson or None
    if args.script is not None and (args.lesson == "" or _is_lesson_file(args.script)):
        if args.args:
            print(f"anet-tui: {args.script} is a lesson: it takes no ARGS", file=sys.stderr)
            return 2
        lesson, args.script = args.script, None
    start = {"script": args.script, "demo": args.demo, "lesson": lesson, "script_args": args.args}
    if args.plain:
        return _guarded(lambda: _run_plain(**start))
    return _guarded(lambda: _run_app(start, args_list))


def _file_problem(path: str) -> str | None:
    """Why ``path`` cannot be read as a script (missing, a FIFO, a device …), or None."""
    from anet_tui import files

    try:
        os.close(files.open_regular(path))
    except files.FileProblem as e:
        return str(e)
    return None


def _is_lesson_file(path: str) -> bool:
    """Whether SCRIPT.py is a lesson (``# %%`` cells) rather than a script to run first."""
    from anet_tui import lessons

    try:
        return lessons.is_lesson(lessons.read_text(Path(path)))
    except lessons.LessonError:
        return False  # binary or unreadable: running it as a script reports the problem


def _run_plain(
    script: str | None, demo: str | None, lesson: str | None, script_args: Sequence[str] = ()
) -> int:
    from anet_tui import plain

    return plain.run(script=script, demo=demo, lesson=lesson, script_args=script_args)


def fullscreen_problem() -> str | None:
    """Why the full-screen app cannot run here, or None when it can."""
    if os.environ.get("TERM") == "dumb":
        return "TERM=dumb: this terminal cannot draw the full-screen app"
    if not sys.stdin.isatty():
        return "standard input is not a terminal"
    if not sys.stdout.isatty():
        return "standard output is not a terminal"
    return None


def _run_app(start: dict[str, Any], argv: list[str]) -> int:
    problem = fullscreen_problem()
    run_app = None
    if problem is None:
        try:
            from anet_tui.app import run as run_app
        except ImportError as e:
            problem = f"the full-screen app cannot start ({e})"
    if run_app is not None:
        return run_app(**start)
    plain_command = " ".join(["anet-tui", "--plain", *argv])
    print(f"anet-tui: {problem}.\nThe plain REPL works here: {plain_command}", file=sys.stderr)
    if sys.stdin.isatty() and sys.stdout.isatty():
        try:
            answer = input("Start the plain REPL now? [Y/n] ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 2
        if answer.strip().lower() in ("", "y", "yes"):
            return _run_plain(**start)
    return 2


def _guarded(run: Callable[[], int]) -> int:
    """Run a front-end; an unexpected crash writes its traceback to a file and says where."""
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`anet-tui --plain < f | head -1`): stop quietly
        _silence_stdout()
        return 141  # 128 + SIGPIPE: what a shell reports for any tool a closed pipe stopped
    except Exception:
        path = crash_report(traceback.format_exc())
        print(f"anet-tui crashed (a bug: please report it); traceback in {path}", file=sys.stderr)
        return 70


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit cannot fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def crash_report(text: str) -> Path:
    """Write ``text`` to a new file next to the history (or in the temp dir); return its path."""
    from anet_tui.history import history_path

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for folder in (history_path().parent, Path(os.environ.get("TMPDIR", "/tmp"))):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"anet-tui-crash-{stamp}-{os.getpid()}.txt"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(nowhere: no writable folder)")


# ---- anet-tui check ---------------------------------------------------------------------------


CHECK_TIMEOUT = 60.0  # seconds: anet-tui check's default --timeout
TIMED_OUT = 3  # anet-tui check's exit status when it timed out
_GRACE = 1.0  # seconds an interrupted script gets to stop before check leaves without it


def check(
    script: str,
    root: str | None = None,
    out: TextIO | None = None,
    timeout: float = CHECK_TIMEOUT,
    args: Sequence[str] = (),
) -> int:
    """``anet-tui check``: 0 when no node is flagged, 1 when some are, 2 when the script fails
    (``os._exit`` included), 3 when running and walking took longer than ``timeout`` seconds
    (0: no limit). The work runs on a thread of its own, so a script stuck in C (``time.sleep``)
    cannot keep check from answering. ``args`` are the script's ``sys.argv[1:]``."""
    from anet_tui.commands import Commands
    from anet_tui.shell import Shell

    out = sys.stdout if out is None else out
    problem = _file_problem(script)
    if problem is not None:
        print(f"anet-tui check: {script}: {problem}", file=sys.stderr)
        return 2
    shell = Shell()
    commands = Commands(shell)
    stopped = threading.Event()
    exits: list[int] = []
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["status"] = _check(commands, script, root, out, stopped, exits, args)
        except BaseException as e:  # handed to the caller's thread (BrokenPipeError …)
            box["error"] = e

    thread = threading.Thread(target=work, name="anet-tui-check", daemon=True)
    with _os_exit_raises(exits):
        thread.start()
        try:
            thread.join(timeout if timeout > 0 else None)
        except KeyboardInterrupt:
            stopped.set()
            shell.interrupt()
            raise
        if thread.is_alive():
            stopped.set()
            where = _where(shell.stack(), script)
            shell.interrupt()
            thread.join(_GRACE)
            print(
                f"anet-tui check: {script} timed out after {timeout:g} s{where}; "
                "--timeout SECONDS gives it longer (0: no limit)",
                file=sys.stderr,
            )
            return TIMED_OUT
    if "error" in box:
        raise box["error"]
    return int(box["status"])


@contextlib.contextmanager
def _os_exit_raises(exits: list[int]) -> Iterator[None]:
    """While check runs, ``os._exit(N)`` in the script raises SystemExit(N) and is noted in
    ``exits`` instead of ending the process silently with status N; restored afterwards."""
    modules = [m for m in (os, sys.modules.get("posix"), sys.modules.get("nt")) if m is not None]
    saved = [(m, m._exit) for m in modules]

    def _exit(status: int) -> NoReturn:
        exits.append(status)
        raise SystemExit(status)

    for module in modules:
        module._exit = _exit  # type: ignore[assignment]
    try:
        yield
    finally:
        for module, real in saved:
            module._exit = real  # type: ignore[assignment]


def _where(stack: traceback.StackSummary, script: str) -> str:
    """``, stopped at script.py:12 in f`` for the innermost frame in the script (else the
    innermost frame), or ``""`` when nothing was running."""
    from anet.autograd import short_path

    if not stack:
        return ""
    target = os.path.abspath(script)
    mine = [f for f in stack if os.path.abspath(f.filename) == target]
    frame = (mine or list(stack))[-1]
    name = "" if frame.name == "<module>" else f" in {frame.name}"
    return f", stopped at {short_path(frame.filename)}:{frame.lineno}{name}"


def _check(
    commands: Commands,
    script: str,
    root: str | None,
    out: TextIO,
    stopped: threading.Event,
    exits: list[int],
    args: Sequence[str] = (),
) -> int:
    """The work of :func:`check`, on its thread; says nothing more once ``stopped`` is set."""
    from anet.debug import BackwardSession
    from anet.tensor import Tensor
    from anet_tui.text import ascii_only

    ascii = ascii_only(out)
    shell = commands.shell

    def failed(message: str) -> int:
        if not stopped.is_set():
            print(f"anet-tui check: {message}", file=sys.stderr)
        return 2

    ran = commands.startup(script=script, on_output=out.write, script_args=args)[0]
    if stopped.is_set():
        return TIMED_OUT
    if exits:
        return failed(f"{script} failed: the script ended the process with os._exit({exits[0]})")
    if not ran.ok:
        message = ran.error or f"the script asked to exit (code {ran.exit_code})"
        return failed(f"{script} failed:\n{message.rstrip()}")
    namespace = shell.namespace
    if root is not None:
        if root not in namespace:
            return failed(f"{script} defines no {root!r}")
        roots = [(root, namespace[root])]
    else:
        roots = [
            (name, value)
            for name, value in namespace.items()
            if isinstance(value, Tensor)
            and not value.is_leaf
            and value.data.size == 1
            and not name.startswith("_")
        ]
        if not roots:
            return failed(
                f"{script} leaves no one-element tensor with a graph (name one with --root)"
            )
    seen_roots: set[int] = set()
    seen_flags: set[tuple[int, str, int | None]] = set()
    total = 0
    for name, tensor in roots:
        if not isinstance(tensor, Tensor) or tensor.is_leaf:
            return failed(f"{name} is not a tensor with a graph")
        if id(tensor) in seen_roots:
            continue
        seen_roots.add(id(tensor))

        def walk(t: Tensor = tensor) -> BackwardSession:
            session = BackwardSession(t, check=True)
            session.finish()
            return session

        result = commands.call(walk)
        if stopped.is_set():
            return TIMED_OUT
        if exits:
            return failed(
                f"{script} failed: the script ended the process with os._exit({exits[0]}) "
                f"(in a backward from {name})"
            )
        if not result.ok:
            return failed(f"{name}: {(result.error or '').rstrip()}")
        session: BackwardSession = result.obj
        flags: list[Flag] = []
        for flag in session.flags:
            key = (flag.node, flag.kind, flag.index)
            if key not in seen_flags:
                seen_flags.add(key)
                flags.append(flag)
        for flag in flags:
            print(flag_line(session, flag, ascii), file=out)
        n = len(session.nodes)
        word = "flag" if len(flags) == 1 else "flags"
        print(
            f"{name} (#{tensor.id} {tensor.op}): {n} nodes checked, {len(flags)} {word}", file=out
        )
        total += len(flags)
    return 1 if total else 0


def flag_line(session: Graph, flag: Flag, ascii: bool = False) -> str:
    """``broken.py:31: ✗ shape at #3 SwapGrad: parent 0: …  [loss = x.swapgrad().sum()]``:
    where the flagged op was applied, the flag, and that line of the user's code; inert (the
    message may quote the user's text), in ASCII only when ``ascii``."""
    from anet_tui.text import inert, to_ascii

    text = _flag_line(session, flag, ascii)
    return to_ascii(inert(text)) if ascii else inert(text)


def _flag_line(session: Graph, flag: Flag, ascii: bool) -> str:
    from anet.debug.views import where_text

    loc = session.node(flag.node).where
    line = flag.line(ascii)
    if loc is None:
        return line
    source = f"  [{loc.source}]" if loc.source else ""
    return f"{where_text(loc, 'relative')}: {line}{source}"


if __name__ == "__main__":
    raise SystemExit(main())
