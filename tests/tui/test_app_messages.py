"""Issue #14 in the app, through Pilot at 80×24: the footer fits in every focus state, the
current node never hides in a collapsed row."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from test_app import drive, enter, press, screen_text
from textual.pilot import Pilot
from textual.widgets import Footer

from anet_tui.widgets.key_footer import fitting, is_key, key_width

# ---- the footer --------------------------------------------------------------------------------


def footer_problems(pilot: Pilot) -> list[str]:
    """What is wrong with the footer as drawn: keys cut, overlapping or off the screen."""
    app = pilot.app
    row = screen_text(app).splitlines()[-1]
    footer = app.query_one(Footer)
    keys = [w for w in footer.children if is_key(w) and w.display]
    problems = []
    width = app.size.width
    if footer.virtual_size.width > footer.size.width:
        problems.append(f"the row is {footer.virtual_size.width} wide in {footer.size.width}")
    for key in keys:
        text = f"{key.key_display} {key.description}".strip()
        if text not in row:
            problems.append(f"{text!r} is not whole in {row!r}")
        if key.region.right > width:
            problems.append(f"{text!r} ends at {key.region.right}")
    regions = sorted(k.region for k in keys)
    for a, b in itertools.pairwise(regions):
        if a.right > b.x:
            problems.append(f"keys overlap: {a} {b}")
    if "help" not in row:
        problems.append(f"no help key in {row!r}")
    return problems


@pytest.mark.parametrize("demo", [None, "nan"], ids=["no session", "nan demo"])
def test_the_footer_fits_80_columns_whatever_has_focus(tmp_path: Path, demo: str | None) -> None:
    """The reproduction: at 80 columns with the graph focused the footer ran off the screen
    (``^c stop ^▏^p palettee``). Every focus state, before and after a session with flags."""
    seen: list[tuple[str, list[str], str]] = []

    async def check(pilot: Pilot, state: str) -> None:
        for key in ("f2", "f3", "f4"):
            await press(pilot, key)
            seen.append((f"{state}, {key}", footer_problems(pilot), screen_text(pilot.app)))

    async def script(pilot: Pilot) -> None:
        await check(pilot, "start")
        if demo is not None:
            await enter(pilot, "%debug loss")
            await check(pilot, "session")
            await enter(pilot, "%finish")
            await check(pilot, "flags")

    drive(script, tmp_path, demo=demo)
    bad = [(state, problems) for state, problems, _ in seen if problems]
    assert not bad, bad
    assert len(seen) == (9 if demo else 3)


def test_fitting_leaves_out_the_palette_then_keys_from_the_end_but_never_help() -> None:
    class Key:
        def __init__(self, key: str, description: str, action: str, palette: bool = False):
            self.key_display, self.description, self.action = key, description, action
            self.palette = palette

        def has_class(self, name: str) -> bool:
            return self.palette and name == "-command-palette"

    keys = [
        Key("F10", "step", "step"),
        Key("F5", "continue", "continue"),
        Key("^q", "quit", "quit"),
        Key("F1", "help", "help"),
        Key("^p", "palette", "command_palette", palette=True),
    ]
    assert key_width(keys[0]) == len("F10 step ")
    everything = sum(map(key_width, keys))
    assert fitting(keys, everything) == keys  # type: ignore[arg-type]
    assert fitting(keys, everything - 1) == keys[:4]  # type: ignore[arg-type]
    assert fitting(keys, 20) == [keys[0], keys[3]]  # type: ignore[arg-type]
    assert fitting(keys, 3) == [keys[3]]  # type: ignore[arg-type]


# ---- the current node stays in sight -----------------------------------------------------------


def in_sight(tree: object, row: object) -> bool:
    """Whether a tree row is drawn: every row it is inside is open."""
    parent = row.parent  # type: ignore[attr-defined]
    while parent is not None and parent is not tree.root:  # type: ignore[attr-defined]
        if not parent.is_expanded:
            return False
        parent = parent.parent
    return True


def test_the_current_node_cannot_be_collapsed_out_of_sight(tmp_path: Path) -> None:
    """Collapsing a row that holds the current node hid it: now such a row stays open (Space,
    Enter, Shift+Space, a click alike), ← on it goes up instead, other rows still collapse."""
    seen: dict[str, object] = {}

    async def script(pilot: Pilot) -> None:
        app = pilot.app
        tree = app.graph_view
        await enter(pilot, "%debug loss")
        await enter(pilot, "%step 2")  # the current node is #2 Mul, inside #3 Sum inside #4 Sqrt
        await press(pilot, "f2")
        assert app.session.current.id == 2
        current = tree._rows[2]
        for keys in (("space",), ("enter",), ("shift+space",), ("left",)):
            for ident in (3, 4):
                tree.reveal(ident)
                await press(pilot, *keys)
                seen[f"{keys} on #{ident}"] = in_sight(tree, current)
        tree.reveal(3)
        await press(pilot, "left")
        seen["left goes up"] = tree.selected_id
        seen["screen"] = screen_text(app)
        await enter(pilot, "%step")  # the walk moves on: #3 Sum can close now
        await press(pilot, "f2")
        tree.reveal(3)
        await press(pilot, "space")
        seen["closes"] = tree._rows[3].is_expanded

    drive(script, tmp_path, demo="nan")
    lines = {k: v for k, v in seen.items() if k.startswith("(")}
    assert all(lines.values()), lines
    assert seen["left goes up"] == 4
    assert "#2 Mul ▶ current" in str(seen["screen"])
    assert seen["closes"] is False


# ---- ASCII where the terminal cannot show our symbols -----------------------------------------


def test_under_term_linux_the_app_draws_ascii_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Linux console's font has no ✓ ✗ ▾ ▶ ▏: every cell of the screen is ASCII, our marks
    in the plain REPL's ASCII forms (``x nonfinite``, ``ok done``, ``> current``)."""
    monkeypatch.setenv("TERM", "linux")
    screens: list[str] = []

    async def script(pilot: Pilot) -> None:
        assert pilot.app.ascii
        await enter(pilot, "%debug loss")
        await press(pilot, "f10")
        screens.append(screen_text(pilot.app))
        await press(pilot, "f2")
        await press(pilot, "f10")
        screens.append(screen_text(pilot.app))
        await press(pilot, "f10")
        await press(pilot, "f3")
        screens.append(screen_text(pilot.app))
        await press(pilot, "f1")
        screens.append(screen_text(pilot.app))

    ran = drive(script, tmp_path, demo="nan")
    for screen in screens:
        assert screen.isascii(), [c for c in screen if not c.isascii()]
    assert "x nonfinite" in screens[0] and "> current" in screens[0]
    assert "ok done" in screens[1] and "+--" in screens[0]  # ASCII borders
    assert "x nonfinite at #4 Sqrt" in ran.transcript and ran.transcript.isascii()


def test_a_utf8_terminal_keeps_the_symbols(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)

    async def script(pilot: Pilot) -> None:
        assert not pilot.app.ascii
        await enter(pilot, "%debug loss")
        await press(pilot, "f10")

    ran = drive(script, tmp_path, demo="nan")
    assert "✗ nonfinite" in ran.screen and "╭─ graph" in ran.screen


def test_the_real_app_under_term_linux_sends_the_terminal_ascii_only(tmp_path: Path) -> None:
    """In a pty, the bytes anet-tui sends a Linux console: not one outside ASCII (escape
    sequences are ASCII too), borders, guides, scrollbars and marks included."""
    from test_e2e_pty import Terminal

    term = Terminal(["--demo", "nan"], tmp_path, TERM="linux")
    try:
        term.wait_for(lambda s: "%debug loss" in s)
        term.type("%debug loss\r")
        term.wait_for(lambda s: "step 0/3" in s)
        term.type("\x1b[21~")  # F10
        screen = term.wait_for(lambda s: "x nonfinite" in s and "step 1/3" in s)
    finally:
        code = term.close()
    assert screen.isascii() and term.raw.isascii(), [b for b in term.raw if b > 127][:10]
    assert "#4 Sqrt x nonfinite" in screen and "+- graph" in screen
    assert code == 0
