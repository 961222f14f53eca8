"""The app on hostile input (issue 7, the app's part): it keeps working and loses nothing."""

from __future__ import annotations

import io
import random
import socket
import textwrap
from pathlib import Path

import pytest
from rich.console import Console
from test_app import drive, enter, press, screen_text, settle
from textual import events
from textual.pilot import Pilot


def plain(renderable: object) -> str:
    """What a renderable shows, as text, unwrapped."""
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


BROKEN_FUNCTIONS = textwrap.dedent(
    """\
    class Returns(Function):
        kind = None
        @staticmethod
        def forward(ctx, x):
            return x * 1
        @staticmethod
        def backward(ctx, g):
            return Returns.kind(g)
    register("returns", Returns)
    x = Tensor(np.ones((2, 3)))
    """
)


BROKEN_BACKWARDS = [  # what Returns.backward returns → the flag it must raise
    ("lambda g: g.tolist()", "✗ type"),
    ("lambda g: Tensor(g)", "✗ type"),
    ("lambda g: 1.5", "✗ shape"),
    ("lambda g: 'grad'", "✗ type"),
    ("lambda g: None", "✗ none"),
    ("lambda g: (g, g)", "✗ count"),
    ("lambda g: g.astype(np.float32)", "! dtype"),  # a note: converted, never stops F5
    ("lambda g: 1 / 0", "✗ exception"),
]


def test_a_broken_backward_is_a_flag_naming_the_op_not_a_crash(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str]] = []

    async def script(pilot: Pilot) -> None:
        await enter(pilot, BROKEN_FUNCTIONS)
        for returned, _ in BROKEN_BACKWARDS:
            await enter(pilot, f"Returns.kind = staticmethod({returned})")
            await enter(pilot, "loss = x.returns().sum()")
            await enter(pilot, "%debug loss")
            await press(pilot, "f5")
            seen.append(
                (returned, pilot.app.transcript.text.splitlines()[-1], screen_text(pilot.app))
            )
        await enter(pilot, "'alive'")

    ran = drive(script, tmp_path)
    for (returned, flag), (_, last_line, screen) in zip(BROKEN_BACKWARDS, seen):
        assert last_line.startswith(f"{flag} at #") and "Returns" in last_line, returned
        assert "Returns " + flag in screen, returned  # the op's tree row says it too
    assert ran.transcript.rstrip().endswith("'alive'")


def test_a_hanging_backward_is_interrupted_and_the_session_stays_usable(tmp_path: Path) -> None:
    hang = textwrap.dedent(
        """\
        class Hang(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1
            @staticmethod
            def backward(ctx, g):
                while True:
                    pass
        register("hang", Hang)
        x = Tensor(np.ones(3))
        loss = x.hang().sum()
        """
    )

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, hang)
        await enter(pilot, "%debug loss")
        await pilot.press("f5")
        assert app.busy
        await press(pilot, "ctrl+c")
        assert not app.busy
        assert app.session.position == (1, 2)  # Sum ran; Hang is still the current node
        await enter(pilot, "%restart")
        assert app.session.position == (0, 2)

    ran = drive(script, tmp_path)
    assert "interrupted in #" in ran.transcript and "Hang's backward" in ran.transcript
    assert "restarted: grads restored" in ran.transcript


HOSTILE = [  # code → what the transcript shows for it
    ("def f(): return f()\nf()\n", "RecursionError"),
    ("np.zeros((10**6, 10**6))", "MemoryError"),
    ("input('name? ')", "input() cannot read here"),
    ("import sys; sys.stdout.buffer.write(b'\\xff\\xfeok\\n')", "��ok"),
    ("print('\\x1b[2J\\x1b[31mred\\x07')", "\\x1b[2J\\x1b[31mred\\x07"),
    ("print('x' * 100_000)", "more characters on this line"),
]


def test_hostile_code_ends_in_a_result_and_the_screen_holds(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        for code, _ in HOSTILE:
            await enter(pilot, code)
        await enter(pilot, "6 * 7")

    ran = drive(script, tmp_path)
    for code, shown in HOSTILE:
        assert shown in ran.transcript, code
    assert ran.transcript.rstrip().endswith("42")
    lines = ran.screen.splitlines()
    assert len(lines) == 24 and lines[0].startswith("anet-tui ·")  # nothing drew over it
    assert "\x1b" not in ran.screen and "\x07" not in ran.screen


def test_random_keys_never_crash_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1,200 random keys (fixed seeds) into a session: no unhandled exception, %help answers."""
    monkeypatch.chdir(tmp_path)
    keys = [
        *"0123456789+-/()[]%.,:= sncbg#",  # no "*": 9**9**9 would never end
        "enter", "tab", "shift+tab", "up", "down", "left", "right", "escape", "backspace",
        "ctrl+c", "ctrl+j", "space", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f9", "f10",
        "right_square_bracket", "left_square_bracket",
    ]  # fmt: skip

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        for seed in range(3):  # 1,200 keys
            rng = random.Random(seed)
            for _ in range(8):
                for key in rng.choices(keys, k=50):
                    character = key if len(key) == 1 else None
                    app.post_message(events.Key(key, character))
                await settle(pilot)
                while len(app.screen_stack) > 1:
                    app.pop_screen()  # help or the palette opened: close it, keep going
        app.repl_input.load_text("")
        await press(pilot, "f4")
        await enter(pilot, "%help")

    ran = drive(script, tmp_path, demo="broken")
    assert ran.app.is_running is False and ran.app.return_code in (0, None)
    assert "%debug EXPR" in ran.transcript.split(">>> %help")[-1]


def test_resize_storm_and_shrinking_below_the_minimum(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, "%debug loss")
        await press(pilot, "f10")
        sizes = [(30, 8), (120, 40), (50, 15), (79, 23), (20, 5), (200, 60), (81, 25)]
        for width, height in sizes * 2:
            await pilot.resize_terminal(width, height)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        text = screen_text(app)
        assert "too small" not in text and "step 1/3" in text
        await press(pilot, "f10")

    ran = drive(script, tmp_path, demo="broken")
    assert "step 2/3" in ran.screen


def test_the_app_opens_no_network_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[int] = []
    real = socket.socket

    class Watched(real):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, *args: object, **kwargs: object) -> None:
            if family in (socket.AF_INET, socket.AF_INET6, -1):
                opened.append(family)
            super().__init__(family, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "socket", Watched)

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "%debug loss")
        await press(pilot, "f5")
        await enter(pilot, "%check all")

    ran = drive(script, tmp_path, demo="broken")
    assert "checked 3 nodes" in ran.transcript
    assert opened == []


def test_history_file_that_cannot_be_written_warns_once_and_the_repl_goes_on(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "history"
    blocked.mkdir()  # a directory where the file should be: it can neither be read nor written
    (blocked / "history").mkdir()

    async def script(pilot: Pilot) -> None:
        await enter(pilot, "1 + 1")
        await enter(pilot, "2 + 2")
        await pilot.press("up")
        assert pilot.app.repl_input.text == "2 + 2"  # kept in memory

    ran = drive(script, blocked)
    assert ran.transcript.count("history is kept in memory only") == 1
    assert ran.transcript.rstrip().endswith("4")


def test_huge_tensors_and_graphs_in_the_tree_and_detail_panes(tmp_path: Path) -> None:
    # 2·10⁷ elements (its grad is a real array): above the size whose statistics the detail
    # pane leaves to a worker thread.
    huge = "big = Tensor(np.broadcast_to(np.float32(0.5), (2 * 10**7,)))\nloss = big.sum()\n"
    chain = "y = Tensor(np.ones(2))\nfor i in range(100_000):\n    y = y * 1.0\nsum_y = y.sum()\n"
    seen = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        await enter(pilot, huge)
        await enter(pilot, "%debug loss")
        await press(pilot, "f6")
        # The detail pane answers at once and fills in the statistics later.
        app.show_detail(app.shell.namespace["big"].id)
        seen["at once"] = plain(app.detail.body.content)
        await settle(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        seen["later"] = plain(app.detail.body.content)
        # 100,000 nodes: the tree opens, steps and keeps the current node in view.
        await enter(pilot, chain)
        await enter(pilot, "%debug sum_y")
        await enter(pilot, "%step 50000")
        seen["current"] = app.session.current.id
        seen["screen"] = screen_text(app)

    drive(script, tmp_path)
    assert "statistics: computing…" in seen["at once"]
    assert "(20000000,) float32  min 0.5 max 0.5 mean 0.5" in seen["later"]
    assert "step 50000/100001" in seen["screen"]
    assert f"#{seen['current']} Mul ▶ current" in seen["screen"]
