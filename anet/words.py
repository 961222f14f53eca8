"""English for messages: ``a float32`` / ``an int``, ``1 cell`` / ``3 cells``, an exception as
``ValueError: bad shape``.

Every message anet and anet-tui write that names a type or counts something goes through these,
so none reads ``a int`` or ``1 cells``.
"""

from __future__ import annotations

# Words spelled with a vowel that are said with a consonant ("a uint8", "a one-element tensor").
_A_BEFORE = ("one", "once", "uint", "unit", "uni", "use", "usu", "eu")
# Words spelled with a consonant that are said with a vowel: names read letter by letter.
_AN_BEFORE = ("ndarray", "nd", "hour", "honest")


def a_or_an(word: str) -> str:
    """``word`` with its indefinite article: ``a float32``, ``an int``, ``an ndarray``,
    ``a uint8``."""
    lower = word.lower()
    if lower.startswith(_AN_BEFORE):
        return f"an {word}"
    if lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(_A_BEFORE):
        return f"an {word}"
    return f"a {word}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``word`` when ``n`` is 1, else its plural (``many``, or the word with ``s``/``es``)."""
    if n == 1:
        return word
    if many is not None:
        return many
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def counted(n: int, word: str, many: str | None = None) -> str:
    """``1 cell``, ``3 cells``, ``20000 parents`` (digits as positions show them: ``step
    3/20000``)."""
    return f"{n} {plural(n, word, many)}"


def exception_text(e: BaseException) -> str:
    """``ValueError: bad shape``: an exception as Python's last traceback line says it (not as
    its repr, ``ValueError('bad shape')``)."""
    try:
        message = str(e)
    except Exception:  # an exception whose str() raises
        message = ""
    return f"{type(e).__name__}: {message}" if message else type(e).__name__


__all__ = ["a_or_an", "counted", "exception_text", "plural"]
