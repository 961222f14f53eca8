"""Indentation as the REPL input edits it, the one rule both front-ends follow (the app's input
widget and the plain REPL's prompt_toolkit key bindings): what Enter indents the next line by,
how much Backspace takes back, and how many spaces Tab inserts. Pure functions of the text
before the cursor; no UI here.

    next_indent("    def f(self):")        # "        ": a block opens
    next_indent("        return 1")        # "    ": the block ends
    backspace_width("        ")            # 4: one indent level, back to column 4
    tab_width("  ")                        # 2: to the next multiple of 4
"""

from __future__ import annotations

import io
import re
import tokenize

INDENT = "    "
WIDTH = len(INDENT)

# A line starting with one of these ends its block: nothing after it in the block runs.
_ENDS_BLOCK = re.compile(r"(?:return|pass|raise|break|continue)\b")
_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def leading(line: str) -> str:
    """The whitespace ``line`` starts with."""
    return line[: len(line) - len(line.lstrip())]


def dedented(indent: str) -> str:
    """``indent`` one level less: back to the previous multiple of :data:`WIDTH` columns."""
    return " " * ((len(indent) - 1) // WIDTH * WIDTH) if indent else ""


def next_indent(line: str) -> str:
    """The indent Enter gives the next line, after ``line`` (the text before the cursor): one
    level deeper after a ``:`` that opens a block, one level less after ``return``, ``pass``,
    ``raise``, ``break`` or ``continue``, else the same. Inside an open bracket it stays the
    same (``return (a,`` goes on); a comment is not code (``if x:  # why`` opens a block)."""
    indent = leading(line)
    code, depth = _code(line)
    if depth > 0:
        return indent
    if code.endswith(":"):
        return indent + INDENT
    if _ENDS_BLOCK.match(code):
        return dedented(indent)
    return indent


def backspace_width(before: str) -> int:
    """How many characters Backspace deletes, with ``before`` the text on the line before the
    cursor: in leading spaces, back to the previous indent level (the previous multiple of
    :data:`WIDTH`); anywhere else (a tab, code before the cursor, column 0), one character."""
    if not before or before.strip(" "):
        return 1
    return len(before) - len(dedented(before))


def tab_width(before: str) -> int:
    """How many spaces Tab inserts: up to the next multiple of :data:`WIDTH` columns."""
    return WIDTH - len(before) % WIDTH


def _code(line: str) -> tuple[str, int]:
    """``line`` stripped of its comment and surrounding blanks, and how many brackets it leaves
    open. A line that does not tokenize (an unclosed string) is taken as it is."""
    code_end, depth = len(line), 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                code_end = token.start[1]
            elif token.type == tokenize.OP:
                depth += _BRACKETS.get(token.string, 0)
    except (tokenize.TokenError, SyntaxError):  # the end of an open bracket or string
        pass
    return line[:code_end].strip(), depth


__all__ = ["INDENT", "WIDTH", "backspace_width", "dedented", "leading", "next_indent", "tab_width"]
