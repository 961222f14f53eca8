"""The full-screen app in ASCII, for terminals that cannot show our symbols (``TERM=linux``, a
locale that is not UTF-8: :func:`anet_tui.text.ascii_only` decides).

Two layers. What anet-tui writes (marks, flags, tree rows, the detail, the transcript) becomes
the same ASCII the plain REPL prints, through :func:`ascii_text` (``✓ done`` is ``ok done``,
``▶ current`` is ``> current``: :data:`anet.debug.views.ASCII_TABLE`), before Textual measures
it. What Textual draws itself (borders, the tree's guides, scrollbar ends, an ellipsis) goes
through :class:`AsciiFilter`, a line filter that swaps each such glyph for one ASCII character
of the same width; other text (the user's) is left as it is.
"""

from __future__ import annotations

import unicodedata

from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter
from textual.widget import Widget

from anet.debug.views import to_ascii

# The tree's guide lines (Textual's Tree.LINES) in ASCII, for every style it picks.
TREE_LINES = {style: ("  ", "| ", "`-", "|-") for style in ("default", "bold", "double")}
TREE_ICONS = ("+ ", "- ")  # a closed node, an open one (not > : that marks the current node)


def in_ascii(widget: Widget) -> bool:
    """Whether ``widget``'s app draws in ASCII (``AnetApp.ascii``; False in any other app)."""
    try:
        return bool(getattr(widget.app, "ascii", False))
    except Exception:  # not mounted in an app (yet)
        return False


def ascii_text(text: Text) -> Text:
    """``text`` with our symbols in ASCII, its styles kept (each styled run converted alone)."""
    plain = text.plain
    if plain.isascii():
        return text
    cuts = sorted({0, len(plain), *(s.start for s in text.spans), *(s.end for s in text.spans)})
    out = Text(
        style=text.style,
        justify=text.justify,
        overflow=text.overflow,
        no_wrap=text.no_wrap,
        end=text.end,
        tab_size=text.tab_size,
    )
    for piece in text.divide(cuts[1:-1]):
        converted = Text(to_ascii(piece.plain), style=piece.style)
        for span in piece.spans:  # (each piece is covered whole by its spans)
            converted.stylize(span.style)
        out.append_text(converted)
    return out


def _stand_in(char: str) -> str | None:
    """The one ASCII character drawn for a glyph Textual (or we) draw, or None to leave it."""
    n = ord(char)
    name = unicodedata.name(char, "")
    if 0x2500 <= n <= 0x257F:  # box drawing: borders, guides, rules
        words = set(name.split())
        sides = words & {"LEFT", "RIGHT", "UP", "DOWN"}
        if "VERTICAL" not in words and ("HORIZONTAL" in words or sides <= {"LEFT", "RIGHT"}):
            return "-" if not sides or "HORIZONTAL" not in words else "+"
        if "HORIZONTAL" not in words and ("VERTICAL" in words or sides <= {"UP", "DOWN"}):
            return "|" if not sides or "VERTICAL" not in words else "+"
        return "+"
    if 0x2580 <= n <= 0x259F:  # block elements: scrollbar ends, a key's left border
        return "|" if n in (0x258F, 0x2595) else " "
    if 0x25A0 <= n <= 0x25FF:  # geometric shapes: triangles, bullets
        for word, stand_in in (("RIGHT", ">"), ("LEFT", "<"), ("DOWN", "v"), ("UP", "^")):
            if "TRIANGLE" in name and word in name:
                return stand_in
        return "o" if "CIRCLE" in name else "#"
    if 0x2190 <= n <= 0x21FF:  # arrows
        for word, stand_in in (("RIGHT", ">"), ("LEFT", "<"), ("DOWN", "v"), ("UP", "^")):
            if word in name:
                return stand_in
        return "-"
    single = {"…": ".", "✓": "v", "✔": "v", "✗": "x", "✘": "x", "×": "x", "·": "-", "–": "-"}
    single |= {"—": "-", "•": "*", "‘": "'", "’": "'", "“": '"', "”": '"'}
    return single.get(char)


_GLYPHS = {
    n: stand_in
    for n in [*range(0x2190, 0x2200), *range(0x2500, 0x2600), *map(ord, "…✓✔✗✘×·–—•‘’“”")]
    if (stand_in := _stand_in(chr(n))) is not None
}


class AsciiFilter(LineFilter):
    """Textual's own glyphs (borders, guides, scrollbars, ``…``) as ASCII, one cell for one."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        out = []
        for segment in segments:
            text = segment.text
            if text.isascii() or segment.control:
                out.append(segment)
            else:
                out.append(Segment(text.translate(_GLYPHS), segment.style, segment.control))
        return out


__all__ = ["TREE_ICONS", "TREE_LINES", "AsciiFilter", "ascii_text", "in_ascii"]
