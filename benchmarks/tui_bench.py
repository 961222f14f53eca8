"""How fast the anet-tui app draws: first screen, opening a 10,000-node graph, one step; and what
capping a huge output costs.

    python benchmarks/tui_bench.py            # 10,000-node graphs, 30 steps each, 10 MB printed
    python benchmarks/tui_bench.py --quick    # 1,000 nodes, 5 steps, 1 MB

Driven through Textual's Pilot (the real app, headless, 80×24) and, for the first screen, the
installed ``anet-tui`` in a pseudo-terminal. Targets (issue 5): first full screen of
``--demo mlp`` within 1 s; a 10,000-node graph opens in the tree in under a second; each step
redraws in under 100 ms. Figures are printed, never asserted: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANET_TUI_HISTORY", str(Path(tempfile.mkdtemp()) / "history"))

from anet_tui.app import AnetApp
from anet_tui.shell import Shell
from anet_tui.widgets.repl_input import ReplInput

CHAIN = """\
x = Tensor(np.ones(3))
y = x
for i in range({n}):
    y = y * 1.0001
loss = y.sum()
"""

BALANCED = """\
w = Tensor(np.ones(3))
terms = [w * float(i) for i in range({n} // 2)]
while len(terms) > 1:
    terms = [a + b for a, b in zip(terms[::2], terms[1::2])] + terms[len(terms) // 2 * 2:]
loss = terms[0].sum()
"""


async def until(condition, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    """Poll the app's own loop until ``condition()``; return the seconds it took."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the app never got there")
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


def frame(app: AnetApp) -> float:
    """Seconds to render one full frame of the current screen (what a terminal gets)."""
    start = time.perf_counter()
    app.screen._compositor.render_update(full=True)
    return time.perf_counter() - start


def submit(app: AnetApp, source: str) -> None:
    """What Enter on complete input does (the app's handler, called on its own loop)."""
    app.on_repl_input_submitted(ReplInput.Submitted(source))


async def run_source(app: AnetApp, source: str) -> None:
    submit(app, source)
    await until(lambda: not app.busy, timeout=300)


redrawn: list[float] = []  # start and end of the latest AnetApp.on_finished
_on_finished = AnetApp.on_finished


def _timed_on_finished(self: AnetApp, message: object) -> None:
    start = time.perf_counter()
    _on_finished(self, message)  # type: ignore[arg-type]
    redrawn[:] = [start, time.perf_counter()]


AnetApp.on_finished = _timed_on_finished  # type: ignore[method-assign]


async def graph_figures(kind: str, template: str, n: int, steps: int) -> None:
    app = AnetApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await run_source(app, template.format(n=n))
        # %debug: plan the walk (anet.debug) and open the tree (the app), to the next frame.
        start = time.perf_counter()
        submit(app, "%debug loss")
        await until(lambda: not app.busy and app.session is not None)
        opened = time.perf_counter() - start + frame(app)
        nodes = len(app.session.nodes)
        # The app's own part of that: drawing the tree of an already planned session.
        start = time.perf_counter()
        app.graph_view.show_graph(app.session)
        app.graph_view.reveal(app.session.current.id)
        tree_only = time.perf_counter() - start + frame(app)
        # Steps: F10's action, the step on the worker, the message back, the redraw of the
        # panes (on_finished), then one full frame. Timed by a hook at the end of on_finished,
        # so the polling below does not count.
        totals, ui = [], []
        for _ in range(steps):
            k = app.session.position[0]
            redrawn.clear()
            start = time.perf_counter()
            app.action_session("step")
            await until(lambda k=k: bool(redrawn) and app.session.position[0] > k)
            ui.append(redrawn[1] - redrawn[0])
            totals.append(redrawn[1] - start + frame(app))
    ms = 1000
    print(
        f"{kind:9} {nodes:>6} nodes  %debug to drawn tree {opened * ms:7.1f} ms"
        f"  (tree alone {tree_only * ms:6.1f} ms)"
        f"  step: median {statistics.median(totals) * ms:5.1f} ms,"
        f" max {max(totals) * ms:5.1f} ms (redraw part median {statistics.median(ui) * ms:4.1f} ms)"
    )


async def first_screen_pilot() -> float:
    start = time.perf_counter()
    app = AnetApp(demo="mlp")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.is_running)
        await until(lambda: not app.busy and "loss" in app.shell.namespace)
        await pilot.pause()
        frame(app)
        return time.perf_counter() - start


def first_screen_pty(command: list[str]) -> tuple[float, float] | None:
    """Seconds from starting ``COMMAND --demo mlp`` in an 80×24 pseudo-terminal to its first
    full frame (status line, panes, footer), and to the demo's hint (the demo has run)."""
    import pexpect
    import pyte

    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    env = {**os.environ, "TERM": "xterm-256color"}
    start = time.perf_counter()
    child = pexpect.spawn(command[0], [*command[1:], "--demo", "mlp"], env=env, dimensions=(24, 80))
    first = None
    try:
        while time.perf_counter() - start < 30:
            with contextlib.suppress(pexpect.TIMEOUT):
                stream.feed(child.read_nonblocking(1 << 16, timeout=0.005))
            text = "\n".join(screen.display)
            if first is None and "anet-tui" in text and "repl" in text and "F1 help" in text:
                first = time.perf_counter() - start
            if first is not None and "%debug loss" in text:
                return first, time.perf_counter() - start
        return None
    finally:
        child.sendcontrol("q")
        child.close(force=True)


def huge_output(megabytes: int, repeat: int) -> None:
    """Cells printing ``megabytes`` MB, captured and capped to 50,000 characters, against the same
    cells printing to /dev/null: the ratio is what capturing and capping cost. The tests check the
    cap by how little is made inert past it; this says how fast that is."""
    n = megabytes * 1_000_000
    cells = {
        "one line": f"s = 'x' * {n}\nprint(s{{to}})",
        "in lines": f"s = ('y' * 99 + '\\n') * {n // 100}\nprint(s{{to}})",
        "many prints": f"for i in range({n // 50}):\n    print(i, 'z' * 40{{to}})",
    }
    shell = Shell()
    assert shell.run("import os\nnull = open(os.devnull, 'w')").ok
    figures = []
    for name, cell in cells.items():
        best = {"captured": float("inf"), "/dev/null": float("inf")}
        for _ in range(repeat):  # in turns: a shared machine's drift stays out of the ratio
            for where, to in (("captured", ""), ("/dev/null", ", file=null")):
                start = time.perf_counter()
                assert shell.run(cell.format(to=to)).ok
                best[where] = min(best[where], time.perf_counter() - start)
        ratio = best["captured"] / best["/dev/null"]
        figures.append(f"{name} {best['captured'] * 1000:.0f} ms ({ratio:.2f}x /dev/null)")
    print(f"{megabytes} MB printed, captured and capped (best of {repeat}): " + ", ".join(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 nodes, 5 steps")
    args = parser.parse_args()
    n, steps = (1_000, 5) if args.quick else (10_000, 30)
    commands = [[sys.executable, "-m", "anet_tui.cli"]]
    if shutil.which("anet-tui"):
        commands.append([shutil.which("anet-tui")])  # type: ignore[list-item]
    for command in commands:
        figures = first_screen_pty(command)
        if figures is not None:
            print(
                f"{' '.join(Path(c).name for c in command)} --demo mlp in a pty: first full frame"
                f" {figures[0] * 1000:.0f} ms, demo loaded {figures[1] * 1000:.0f} ms"
            )
    pilot = asyncio.run(first_screen_pilot())
    print(f"--demo mlp through Pilot (no process start): demo loaded {pilot * 1000:.0f} ms")
    asyncio.run(graph_figures("chain", CHAIN, n, steps))
    asyncio.run(graph_figures("balanced", BALANCED, n, steps))
    huge_output(1 if args.quick else 10, 2 if args.quick else 5)


if __name__ == "__main__":
    main()
