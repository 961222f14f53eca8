"""Messages name types and count things in English: ``an int``, ``1 cell``."""

from __future__ import annotations

import pytest

from anet.words import a_or_an, counted, plural


@pytest.mark.parametrize(
    ("word", "said"),
    [
        ("int", "an int"),
        ("float32", "a float32"),
        ("ndarray", "an ndarray"),
        ("object", "an object"),
        ("uint8", "a uint8"),
        ("one-element tensor", "a one-element tensor"),
        ("list", "a list"),
        ("Ellipsis", "an Ellipsis"),
        ("NoneType", "a NoneType"),
        ("int64 grad", "an int64 grad"),
    ],
)
def test_a_or_an(word: str, said: str) -> None:
    assert a_or_an(word) == said


def test_counted_and_plural() -> None:
    assert counted(1, "cell") == "1 cell" and counted(0, "cell") == "0 cells"
    assert counted(3, "flag") == "3 flags" and counted(20_000, "parent") == "20000 parents"
    assert counted(2, "match") == "2 matches" and counted(2, "box") == "2 boxes"
    assert plural(1, "more step") == "more step" and plural(2, "more step") == "more steps"
    assert counted(2, "child", "children") == "2 children"
