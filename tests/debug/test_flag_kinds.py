"""anet.flags: one table of flag kinds that the walk, the debugger and the front-ends ask."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import student_bugs  # noqa: F401 - registers the broken Functions

import anet.debug
from anet import Function, Tensor, autograd, flags, register
from anet.debug import BackwardSession, record
from anet.flags import ERROR, FLAG_KINDS, KINDS, NOTE, WARNING_KINDS, FlagKind

ROOT = Path(__file__).resolve().parents[2]


class DoublesInPlace(Function):
    """inplace (refused write): backward writes into its grad_output."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        grad_output *= 2
        return grad_output


class ListOfNumbers(Function):
    """type (node-wide): returns ``grad.tolist()``."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * 2).tolist()


register("doubles_in_place_kinds", DoublesInPlace)
register("list_of_numbers_kinds", ListOfNumbers)


def leaf(*shape: int, dtype: type = np.float32, seed: int = 0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def corpus() -> list[BackwardSession]:
    """Finished sessions (numerical check on) over every broken Function of the test corpus."""
    x, y = leaf(3), leaf(3, seed=1)
    with record():
        e = leaf(2, 3).exp()
        moved = e.scale_in_place().sum()
    roots = [
        leaf(2, 3).swap_grad().sum(),
        leaf(4, 3).no_broadcast_add(leaf(3, seed=1)).sum(),
        (x.one_grad_for_two(y) * 2).sum(),
        x.forgets_second(y).sum(),
        leaf(2, 2).float64_grad().sum(),
        leaf(2).returns_tensor().sum(),
        Tensor(np.array([0.0, 1.0], dtype=np.float32)).safe_log().sum(),
        leaf(3).crashes().sum(),
        leaf(2, 3, dtype=np.float64).wrong_cube().sum(),
        moved,
        leaf(3).doubles_in_place_kinds().sum(),
        leaf(3).list_of_numbers_kinds().sum(),
        leaf(2, 3).square().sum(),
    ]
    sessions = []
    for root in roots:
        s = BackwardSession(root, check=True)
        s.finish()
        sessions.append(s)
    return sessions


def test_every_row_is_complete() -> None:
    assert list(KINDS) == [
        "shape", "count", "none", "type", "dtype", "nonfinite", "exception", "vjp", "inplace"
    ]  # fmt: skip
    for name, kind in KINDS.items():
        assert isinstance(kind, FlagKind) and kind.name == name
        assert getattr(flags, name.upper()) is kind  # the row's constant: flags.DTYPE...
        assert kind.severity in (ERROR, NOTE)
        assert isinstance(kind.survives_restart, bool) and isinstance(kind.per_parent, bool)
        assert kind.meaning and "\n" not in kind.meaning and kind.meaning == kind.meaning.strip()
    with pytest.raises(AttributeError):
        KINDS["shape"].severity = NOTE  # type: ignore[misc]


def test_the_derived_names_come_from_the_table() -> None:
    assert {k.name: k.meaning for k in KINDS.values()} == FLAG_KINDS
    assert list(FLAG_KINDS) == list(KINDS)
    assert anet.debug.FLAG_KINDS is FLAG_KINDS and anet.debug.KINDS is KINDS
    assert autograd.WARNING_KINDS is WARNING_KINDS
    assert WARNING_KINDS == {k.name for k in KINDS.values() if k.severity == NOTE} == {"dtype"}
    assert {k.name for k in KINDS.values() if k.survives_restart} == {"vjp"}
    assert {k.name for k in KINDS.values() if not k.per_parent} == {"count", "exception"}


def test_break_help_lists_the_table() -> None:
    s = BackwardSession(leaf(3).square().sum())
    with pytest.raises(ValueError) as info:
        s.break_on(flag="bogus")
    assert str(info.value) == f"unknown flag kind 'bogus' (kinds: {', '.join(KINDS)})"
    for name in KINDS:
        assert s.break_on(flag=name).value == name


def test_readme_names_every_kind() -> None:
    text = " ".join((ROOT / "README.md").read_text().split())
    listed = ", ".join(f"`{name}`" for name in list(KINDS)[:-1]) + f" or `{list(KINDS)[-1]}`"
    assert f"a flag of kind {listed}." in text


def test_every_flag_of_the_corpus_has_a_kind_in_the_table_and_obeys_its_row() -> None:
    sessions = corpus()
    made = [f for s in sessions for f in s.flags]
    assert {f.kind for f in made} == set(KINDS)  # every kind made, every row exercised
    for s in sessions:
        for f in s.flags:
            kind = KINDS[f.kind]
            if not kind.per_parent:
                assert f.index is None, f
            rec = s.node(f.node)
            rows = rec.returned
            if rows is not None and f.index is not None:
                assert (f.kind in rows[f.index].flags) is (not kind.survives_restart), f
            if kind.severity == NOTE:
                assert rec.status in ("done", "checked"), f  # usable: it ran
        kept = [f for f in s.flags if KINDS[f.kind].survives_restart]
        s.restart()
        assert s.flags == kept
        assert [f for r in s.nodes for f in r.flags] == kept


def test_a_node_with_only_notes_is_done_and_errors_stop_plain_backward() -> None:
    for kind in KINDS.values():
        if kind.severity == NOTE:
            assert kind.name in autograd.WARNING_KINDS
    out = leaf(2, 2).float64_grad()
    out.sum().backward()  # a note: backward goes on
    with pytest.raises(autograd.GradientError):
        leaf(2, 3).swap_grad().sum().backward()


def _sources() -> list[Path]:
    return sorted([*(ROOT / "anet").rglob("*.py"), *(ROOT / "anet_tui").rglob("*.py")])


def test_no_kind_is_special_cased_by_its_name_outside_the_table() -> None:
    """A kind's name is written in anet/flags.py only: code compares kinds with the table's rows
    and asks the table, it never compares ``.kind`` (or a flag list) with a literal name, and
    never makes a Flag or Problem with a literal kind."""
    names = set(KINDS)
    found = []
    for path in _sources():
        if path == ROOT / "anet" / "flags.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                parts = [node.left, *node.comparators]
                literal = any(isinstance(p, ast.Constant) and p.value in names for p in parts)
                text = ast.unparse(node)
                if literal and ("kind" in text or "flags" in text):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Flag", "Problem"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
