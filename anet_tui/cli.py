"""The ``anet-tui`` command: the full-screen app, ``--plain`` REPL, and ``anet-tui check``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import anet
from anet_tui import files
from anet_tui.check import CHECK_TIMEOUT, check

DESCRIPTION = "Step through anet's backward() one node at a time, in a terminal."
EPILOG = """\
SCRIPT.py ARGS runs as `python SCRIPT.py ARGS` would (sys.argv, __name__ == "__main__", its
folder on sys.path); every word after SCRIPT.py is the script's, so anet-tui's own options
go before it: anet-tui --plain train.py --epochs 5. A file cut into `# %%` cells runs as a
script too; --lesson FILE steps through its cells instead (%next runs each).

commands:
  anet-tui check SCRIPT.py [--every N] [--root NAME] [--timeout SECONDS] [-- ARGS...]
      run SCRIPT.py (with ARGS), walking each backward() it calls at that moment (user
      Functions checked numerically on calls 1, 2, 3, 4, 8, 16 ... or every N-th), then every
      one-element tensor with a graph it left unwalked (or NAME); print each flag on one line;
      exit 0 when there are none, 1 when there are flags, 2 when the script fails, 3 when it
      takes longer than --timeout (default 60 s)

  anet-tui serve --keys DIR [--host HOST] [--port PORT] [--teacher KEY.pub] ...
      serve the app to a class over SSH (pip install "anet[serve]"); see docs/teaching.md

keys and %commands: press F1 in the app, or type %help.
NO_COLOR=1 turns colour off; TEXTUAL_COLOR_SYSTEM=256 when colours are wrong over ssh.
"""


def version_text() -> str:
    parts = [f"anet {anet.__version__}", f"Python {sys.version.split()[0]}"]
    for package in ("textual", "prompt_toolkit"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            parts.append(f"{package} {metadata.version(package)}")
    return f"anet-tui {anet.__version__} ({', '.join(parts)})"


class VersionAction(argparse.Action):
    """``--version``: argparse's, but the versions are looked up only when asked (reading the
    installed packages' metadata was a twentieth of a served session's start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the versions and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(version_text())  # on stdout, as argparse's own
        parser.exit()


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
        help="open a lesson: a shipped one by number or name, or a # %%%% FILE (alone: list "
        "the lessons that ship)",
    )
    parser.add_argument(
        "--plain", action="store_true", help="a line-by-line REPL instead of the full-screen app"
    )
    parser.add_argument("--version", action=VersionAction)
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anet-tui check",
        usage="%(prog)s [-h] [--every N] [--root NAME] [--timeout SECONDS] SCRIPT.py [-- ARGS ...]",
        description=(
            "Run a script, walking each backward() it calls as the debugger does (user "
            "Functions checked numerically), then the one-element tensors it left unwalked. "
            "The ARGS after -- are the script's (its sys.argv[1:])."
        ),
        epilog=(
            "exit status: 0 no flags, 1 flags found, 2 the script (or its root) failed, "
            "3 it timed out (the script and the walks took longer than --timeout)"
        ),
    )
    parser.add_argument("script", metavar="SCRIPT.py")
    parser.add_argument(
        "--root",
        metavar="NAME",
        help="the tensor to walk back from at the end (default: every one-element tensor "
        "with a graph that no backward() call walked)",
    )
    parser.add_argument(
        "--every",
        metavar="N",
        type=_calls,
        default=0,
        help="check user Functions numerically on every N-th backward() call (default: calls "
        "1, 2, 3 and then each power of two; 1: every call)",
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


def _calls(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"--every N takes a whole number, 1 or more (got {text!r})"
        )
    return int(text)


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
    if args_list[:1] == ["serve"]:
        from anet_tui.serve.command import main as serve

        return serve(args_list[1:])
    if args_list[:1] == ["check"]:
        check_args = parse_check_args(args_list[1:])
        return _guarded(
            lambda: check(
                check_args.script,
                check_args.root,
                timeout=check_args.timeout,
                every=check_args.every,
                args=check_args.args,
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
    problem = None if args.script is None else files.unreadable(args.script)
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
    if args.script is not None and args.lesson == "":  # `--lesson --plain FILE`: FILE is it
        if args.args:
            print(f"anet-tui: {args.script} is a lesson: it takes no ARGS", file=sys.stderr)
            return 2
        lesson, args.script = args.script, None
    start = {"script": args.script, "demo": args.demo, "lesson": lesson, "script_args": args.args}
    if args.plain:
        return _guarded(lambda: _run_plain(**start))
    return _guarded(lambda: _run_app(start, args_list))


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


if __name__ == "__main__":
    raise SystemExit(main())
