"""Indentation as the REPL input edits it (issue #14): Enter dedents after ``return``, ``pass``,
``raise``, ``break`` and ``continue``; Backspace in leading spaces takes back one indent level.
One rule (:mod:`anet_tui.indent`), in both front-ends: the app's input (Pilot) and the plain
REPL (prompt_toolkit through a pipe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from plain_keys import drive as drive_plain
from test_app import drive, press
from textual.pilot import Pilot

from anet_tui.indent import backspace_width, dedented, next_indent, tab_width

pytestmark = pytest.mark.timeout(180)

BACKSPACE = "\x7f"  # what a terminal sends for Backspace
CTRL_D = "\x04"


# ---- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "indent"),
    [
        ("class A:", 4),
        ("    def f(self):", 8),
        ("if x:  # why: a comment", 4),
        ("    else:", 8),
        ("        return 1", 4),
        ("        return", 4),
        ("        return(x)", 4),
        ("        pass", 4),
        ("        raise ValueError('no')", 4),
        ("            break", 8),
        ("            continue  # next one", 8),
        ("    return 1", 0),
        ("return", 0),
        ("        x = 1", 8),
        ("        pass_rate = 0.5", 8),  # a name that starts like a keyword
        ("        returned = f()", 8),
        ("        return (a,", 8),  # an open bracket: the statement goes on
        ("    x = {'a:':", 4),
        ("    d['key:']", 4),
        ("    s = 'a # b:'", 4),
        ("    f = lambda: 3", 4),
        ("    s = 'unclosed", 4),
        ("", 0),
    ],
)
def test_next_indent(line: str, indent: int) -> None:
    assert next_indent(line) == " " * indent


def test_backspace_takes_back_one_level_in_leading_spaces_only() -> None:
    assert backspace_width("        ") == 4  # column 8 → 4
    assert backspace_width("       ") == 3  # column 7 → 4: back onto the grid
    assert backspace_width("    ") == 4
    assert backspace_width("  ") == 2
    assert backspace_width(" ") == 1
    assert backspace_width("") == 1  # column 0: joins the line above
    assert backspace_width("    x") == 1  # code before the cursor: one character
    assert backspace_width("    x = 1   ") == 1
    assert backspace_width("\t") == 1  # a tab is one character
    assert backspace_width("  \t  ") == 1


def test_tab_and_dedent_keep_to_the_grid() -> None:
    assert [tab_width(" " * n) for n in range(6)] == [4, 3, 2, 1, 4, 3]
    assert [dedented(" " * n) for n in (0, 1, 4, 5, 8, 9)] == ["", "", "", "    ", "    ", " " * 8]


# ---- the app ---------------------------------------------------------------------------------


def test_app_a_class_whose_method_returns_then_a_staticmethod(tmp_path: Path) -> None:
    typed: list[str] = []

    async def script(pilot: Pilot) -> None:
        inp = pilot.app.repl_input
        await pilot.press(*"class A:", "enter", *"def f(self):", "enter", *"return 1", "enter")
        assert inp.text.endswith("return 1\n    ")  # back at the method's level
        await pilot.press(*"@staticmethod", "enter", *"def g():", "enter")
        await pilot.press(*"return 2", "enter")
        typed.append(inp.text)
        await press(pilot, "enter")  # the blank line runs the class

    ran = drive(script, tmp_path)
    assert typed == [
        "class A:\n    def f(self):\n        return 1\n    @staticmethod\n    def g():\n"
        "        return 2\n    "
    ]
    assert "Error" not in ran.transcript, ran.transcript
    cls = ran.app.shell.namespace["A"]
    assert cls().f() == 1 and cls.g() == 2


def test_app_backspace_in_leading_spaces_takes_back_one_level(tmp_path: Path) -> None:
    seen: list[str] = []

    async def script(pilot: Pilot) -> None:
        inp = pilot.app.repl_input
        await pilot.press(*"class B:", "enter", *"def f(self):", "enter", *"x = 1", "enter")
        seen.append(inp.text)  # still in the method: x = 1 ends nothing
        await pilot.press("backspace")
        seen.append(inp.text)
        await pilot.press(*"@staticmethod", "enter", *"def g():", "enter", *"return 2")
        await pilot.press("backspace")  # code before the cursor: one character
        await pilot.press(*"22", "enter")
        await press(pilot, "enter")

    ran = drive(script, tmp_path)
    assert seen[0].endswith("x = 1\n        ")
    assert seen[1].endswith("x = 1\n    ")  # 8 → 4, not 7
    assert "Error" not in ran.transcript, ran.transcript
    assert ran.app.shell.namespace["B"].g() == 22


def test_app_backspace_with_a_selection_deletes_the_selection(tmp_path: Path) -> None:
    async def script(pilot: Pilot) -> None:
        inp = pilot.app.repl_input
        inp.load_text("        ")
        inp.select_all()
        await pilot.press("backspace")
        assert inp.text == ""

    drive(script, tmp_path)


# ---- the plain REPL ----------------------------------------------------------------------------


def test_plain_a_class_whose_method_returns_then_a_staticmethod(tmp_path: Path) -> None:
    keys = (
        "class A:\rdef f(self):\rreturn 1\r@staticmethod\rdef g():\rreturn 2\r\r"
        "print(A().f(), A.g())\r" + CTRL_D
    )
    _, out, code = drive_plain(keys, tmp_path)
    assert code == 0 and "Error" not in out, out
    assert "1 2\n" in out


def test_plain_backspace_in_leading_spaces_takes_back_one_level(tmp_path: Path) -> None:
    keys = (
        "class B:\rdef f(self):\rx = 1\r" + BACKSPACE + "@staticmethod\rdef g():\r"
        "return 2" + BACKSPACE + "22\r\r"
        "print(B.g())\r" + CTRL_D
    )
    repl, out, code = drive_plain(keys, tmp_path)
    assert code == 0 and "Error" not in out, out
    assert "22\n" in out
    history = repl.prompt_session.history.get_strings()
    assert "class B:\n    def f(self):\n        x = 1\n    @staticmethod\n" in history[0]
