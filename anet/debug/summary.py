"""Summaries of arrays for display: shape, dtype, min/max/mean, NaN/Inf counts, a short preview.

Computed once, lazily, in bounded chunks: a 10⁸-element array is never copied or printed whole.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

import numpy as np

from anet.arrays import chunks


def all_finite(g: np.ndarray) -> bool:
    """No NaN or Inf in ``g``: one reduction when clean (a finite sum means finite entries)."""
    if g.dtype.kind != "f":
        return True
    if math.isfinite(np.add.reduce(g, axis=None)):
        return True
    return bool(np.isfinite(g).all())


class Summary:
    """What a value looks like, without its contents: shape, dtype and statistics of an array.

    Statistics (``min``, ``max``, ``mean`` over the finite entries, ``nan``, ``inf``) are computed
    on first use and kept. Non-arrays (a list a backward returned, a Tensor, a number) are
    described by their type and a short repr.
    """

    __slots__ = ("_stats", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._stats: tuple[Any, Any, Any, int, int] | None = None

    @property
    def is_array(self) -> bool:
        return isinstance(self.value, np.ndarray)

    @property
    def shape(self) -> tuple[int, ...] | None:
        return self.value.shape if self.is_array else None

    @property
    def dtype(self) -> np.dtype | None:
        return self.value.dtype if self.is_array else None

    @property
    def size(self) -> int | None:
        return self.value.size if self.is_array else None

    @property
    def kind(self) -> str:
        """ "array", or the type name of what is there instead (``list``, ``Tensor``…)."""
        return "array" if self.is_array else type(self.value).__name__

    def _compute(self) -> tuple[Any, Any, Any, int, int]:
        if self._stats is None:
            self._stats = _statistics(self.value) if self.is_array else (None, None, None, 0, 0)
        return self._stats

    @property
    def min(self) -> float | None:
        return self._compute()[0]

    @property
    def max(self) -> float | None:
        return self._compute()[1]

    @property
    def mean(self) -> float | None:
        return self._compute()[2]

    @property
    def nan(self) -> int:
        return self._compute()[3]

    @property
    def inf(self) -> int:
        return self._compute()[4]

    def preview(self, items: int = 3, precision: int = 4) -> str:
        """A few values, numpy style with ``...`` (only the edges are formatted)."""
        if not self.is_array:
            return _short_repr(self.value)
        return np.array2string(
            self.value,
            threshold=2 * items,
            edgeitems=items,
            precision=precision,
            separator=", ",
            max_line_width=10**6,
        ).replace("\n", "")

    def stats_text(self) -> str:
        """``min -1.2 max 3.4 mean 0.5`` plus NaN/Inf counts when there are any."""
        if not self.is_array:
            return _short_repr(self.value)
        if self.value.size == 0:
            return "empty"
        parts = []
        if self.min is not None:
            parts.append(f"min {_num(self.min)} max {_num(self.max)} mean {_num(self.mean)}")
        if self.nan:
            parts.append(f"{self.nan} NaN")
        if self.inf:
            parts.append(f"{self.inf} Inf")
        return "  ".join(parts)

    def __str__(self) -> str:
        if not self.is_array:
            return f"{self.kind} {_short_repr(self.value)}"
        return f"{self.shape} {self.dtype}  {self.stats_text()}"


def _statistics(a: np.ndarray) -> tuple[Any, Any, Any, int, int]:
    """(min, max, mean over the finite entries, NaN count, Inf count), chunk by chunk."""
    if a.size == 0 or a.dtype.kind not in "biuf":
        return None, None, None, 0, 0
    lo, hi, total, count, nan, inf = math.inf, -math.inf, 0.0, 0, 0, 0
    for c in chunks(a):
        cmin, cmax = c.min(), c.max()
        if c.dtype.kind == "f" and not (math.isfinite(cmin) and math.isfinite(cmax)):
            isnan = np.isnan(c)
            isinf = np.isinf(c)
            nan += int(isnan.sum())
            inf += int(isinf.sum())
            c = c[~(isnan | isinf)]
            if c.size == 0:
                continue
            cmin, cmax = c.min(), c.max()
        lo, hi = min(lo, float(cmin)), max(hi, float(cmax))
        total += float(np.add.reduce(c, axis=None, dtype=np.float64))
        count += c.size
    if count == 0:
        return None, None, None, nan, inf
    if a.dtype.kind in "biu":
        lo, hi = int(lo), int(hi)
    return lo, hi, total / count, nan, inf


def _num(x: float) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


_repr = reprlib.Repr()
_repr.maxlist = _repr.maxtuple = _repr.maxdict = 4
_repr.maxstring = _repr.maxother = 40


def _short_repr(value: Any, limit: int = 60) -> str:
    text = _repr.repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
