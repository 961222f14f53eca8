"""How fast the anet-tui app draws: first screen, opening a 10,000-node graph, one step.

    python benchmarks/tui_bench.py            # 10,000-node graphs, 30 steps each
    python benchmarks/tui_bench.py --quick    # 1,000 nodes, 5 steps

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
        await asyncio.sleep(0.0005)
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
        # Steps: F10's action, the step on the worker, the redraw, one full frame.
        totals, ui = [], []
        original = app.refresh_views

        def timed_refresh(focus=None):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            original(focus)
            ui.append(time.perf_counter() - t)

        app.refresh_views = timed_refresh  # type: ignore[method-assign]
        for _ in range(steps):
            k = app.session.position[0]
            start = time.perf_counter()
            app.action_step()
            await until(lambda k=k: not app.busy and app.session.position[0] > k)
            totals.append(time.perf_counter() - start + frame(app))
        app.refresh_views = original  # type: ignore[method-assign]
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


def first_screen_pty() -> float | None:
    """Seconds from starting ``anet-tui --demo mlp`` to its first full screen (status line, panes,
    footer and the demo's hint), in an 80×24 pseudo-terminal."""
    exe = shutil.which("anet-tui")
    if exe is None:
        return None
    import pexpect
    import pyte

    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    env = {**os.environ, "TERM": "xterm-256color"}
    start = time.perf_counter()
    child = pexpect.spawn(exe, ["--demo", "mlp"], env=env, dimensions=(24, 80))
    try:
        while time.perf_counter() - start < 30:
            with contextlib.suppress(pexpect.TIMEOUT):
                stream.feed(child.read_nonblocking(1 << 16, timeout=0.01))
            text = "\n".join(screen.display)
            if "anet-tui" in text and "%debug loss" in text and "F1 help" in text:
                return time.perf_counter() - start
        return None
    finally:
        child.sendcontrol("q")
        child.close(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 nodes, 5 steps")
    args = parser.parse_args()
    n, steps = (1_000, 5) if args.quick else (10_000, 30)
    pty = first_screen_pty()
    pilot = asyncio.run(first_screen_pilot())
    print(
        "first full screen of --demo mlp: "
        + (f"{pty * 1000:.0f} ms in a pty (process start included), " if pty else "")
        + f"{pilot * 1000:.0f} ms through Pilot"
    )
    asyncio.run(graph_figures("chain", CHAIN, n, steps))
    asyncio.run(graph_figures("balanced", BALANCED, n, steps))


if __name__ == "__main__":
    main()
