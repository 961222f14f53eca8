"""Making text safe to show: what code printed or a value's repr, before any front-end draws it.

Escape sequences and control characters become visible instead of obeyed (:func:`inert`;
:func:`inert_json` for JSON), long text is cut with a note (:func:`cap`), values get a REPL's
compact repr (:func:`display`), and terminals that cannot show our symbols get ASCII
(:func:`to_ascii`, :func:`json_ascii`, :func:`ascii_only`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from anet.debug.views import to_ascii  # the one table of ASCII stand-ins
from anet.words import exception_text

MAX_OUTPUT_CHARS = 50_000
MAX_OUTPUT_LINES = 1_000
MAX_LINE_CHARS = 2_000
MAX_VALUE_CHARS = 10_000

# C0 controls except tab and newline, DEL, C1 controls, and bidi overrides that reorder a line.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# In JSON text, lone surrogates too (json.dumps leaves them as they are).
_JSON_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def inert(text: str) -> str:
    """``text`` with nothing a terminal would obey: escapes and control characters become visible
    (``\\x1b``), carriage returns become newlines, lone surrogates become ``?``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return escape(text)


def escape(text: str) -> str:
    """``text`` with control characters and bidi overrides shown as ``\\xNN`` (carriage returns
    too), lone surrogates as ``?``."""
    text = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def inert_json(text: str) -> str:
    """JSON text made inert, still JSON: what :func:`inert` would show as ``\\x85`` (it can only
    stand in a string) becomes the JSON escape ``\\u0085``, a lone surrogate ``\\udc80``."""
    return _JSON_UNSAFE.sub(_json_escape, text)


def json_ascii(text: str) -> str:
    """JSON text in ASCII only, as ``json.dumps(..., ensure_ascii=True)`` writes it: every other
    character a ``\\uXXXX`` escape (two, a surrogate pair, above U+FFFF)."""
    return _NON_ASCII.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    n = ord(match.group())
    if n > 0xFFFF:
        n -= 0x10000
        return f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}"
    return f"\\u{n:04x}"


# Terminals whose font lacks ✓ ✗ ▶ ▾ and the box corners: the Linux console, and the VTs.
ASCII_TERMS = frozenset({"linux", "vt100", "vt102", "vt220"})


def ascii_only(stream: Any, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to write ASCII only to ``stream`` (both front-ends ask this): it cannot encode
    ``✗``; or ``TERM`` is the Linux console (``linux``) or another terminal whose font lacks our
    symbols; or the locale (``LC_ALL``, else ``LC_CTYPE``, else ``LANG``) is not UTF-8 (``C``,
    ``POSIX``, ``en_US.ISO-8859-1``: Python writes UTF-8 anyway, which such a terminal shows
    as mojibake). With no locale set at all, the stream's encoding decides."""
    env = os.environ if environ is None else environ
    encoding = getattr(stream, "encoding", None)  # None: a text buffer, it holds anything
    try:
        "✗▶✓└─│…".encode(encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return True
    if env.get("TERM", "") in ASCII_TERMS:
        return True
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "")
        # Python's locale coercion (PEP 538) sets LC_CTYPE=C.UTF-8 itself: look past it.
        if value and not (name == "LC_CTYPE" and value.lower() in ("c.utf-8", "c.utf8")):
            codeset = value.partition(".")[2].partition("@")[0].lower().replace("-", "")
            return codeset != "utf8"
    return False


def internal_error(what: str, e: BaseException) -> str:
    """What to say when anet-tui itself failed (a bug): in words, never as a repr."""
    if len(e.args) == 1 and isinstance(e.args[0], str):
        message = e.args[0]  # a KeyError's own, unquoted
    else:
        message = exception_text(e).partition(": ")[2]
    message = message or "no message"
    return f"{what} failed inside anet-tui: {message} ({type(e).__name__}; a bug: please report it)"


def utf8(text: str) -> str:
    """``text`` as valid Unicode: bytes a terminal sent that were not UTF-8 (decoded by
    prompt_toolkit as lone surrogates) become U+FFFD, as they do in piped input."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # surrogates that are no escaped bytes
            raw = text.encode("utf-8", "replace")
        text = raw.decode("utf-8", "replace")
    return text


def cap(
    text: str,
    max_chars: int = MAX_VALUE_CHARS,
    max_lines: int = 200,
    max_line: int = MAX_LINE_CHARS,
) -> str:
    """``text`` cut to ``max_chars`` characters and ``max_lines`` lines, each line to
    ``max_line`` characters, with a note saying so."""
    if len(text) > max_line:
        text = "\n".join(
            line
            if len(line) <= max_line
            else f"{line[:max_line]} … ({len(line) - max_line:,} more characters on this line)"
            for line in text.split("\n")
        )
    lines = text.count("\n") + 1
    if len(text) <= max_chars and lines <= max_lines:
        return text
    head = text[:max_chars]
    if head.count("\n") >= max_lines:
        head = "\n".join(head.split("\n")[:max_lines])
    return f"{head}\n… cut: {len(text) - len(head):,} more characters not shown"


def display(value: Any) -> str:
    """The compact text a REPL shows for a value: Tensors by their repr (``#id Op shape dtype
    grad``), large numpy arrays summarised with their shape, everything inert and capped."""
    if isinstance(value, np.ndarray) and value.size > 100:
        with np.printoptions(threshold=100, edgeitems=3, linewidth=100):
            text = repr(value)
        if "shape=" not in text:
            text += f"  # shape {value.shape}, {value.dtype}"
    else:
        with np.printoptions(threshold=100, edgeitems=3, linewidth=100):
            text = repr(value)
    return cap(inert(text))


__all__ = [
    "ASCII_TERMS",
    "MAX_LINE_CHARS",
    "MAX_OUTPUT_CHARS",
    "MAX_OUTPUT_LINES",
    "MAX_VALUE_CHARS",
    "ascii_only",
    "cap",
    "display",
    "escape",
    "inert",
    "inert_json",
    "internal_error",
    "json_ascii",
    "to_ascii",
    "utf8",
]
