"""The namespace code runs in: anet and numpy imported, ``input()`` and ``exit()`` made safe, and
completion of names and attribute paths in it.

    ns = default_namespace()
    complete(ns, "Tensor.bac")            # ("bac", ["backward"])
"""

from __future__ import annotations

import ast
import builtins
import inspect
import io
import keyword
import re
import textwrap
import tokenize
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import numpy as np

import anet
import anet.ops
from anet.tensor import Context, Function, Tensor, no_grad, register


class InputNotAvailable(EOFError):
    """Raised by ``input()`` in code run by the shell: there is no terminal to read from."""


def _no_input(prompt: Any = "") -> str:
    raise InputNotAvailable(
        "input() cannot read here: code run in anet-tui has no terminal to read from "
        "(put the value in a variable instead)"
    )


class _Quitter:
    """``exit()`` and ``quit()``: ask the front-end to leave (never close stdin, kill nothing)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl+D to leave anet-tui"

    def __call__(self, code: Any = None) -> None:
        raise SystemExit(code)


def default_namespace() -> dict[str, Any]:
    """A fresh namespace with anet, numpy and every built-in op already imported."""
    safe_builtins = dict(builtins.__dict__)
    safe_builtins.update(input=_no_input, exit=_Quitter("exit"), quit=_Quitter("quit"))
    ns: dict[str, Any] = {
        "__name__": "__main__",
        "__doc__": None,
        "__builtins__": safe_builtins,
        "anet": anet,
        "np": np,
        "Tensor": Tensor,
        "Function": Function,
        "Context": Context,
        "register": register,
        "no_grad": no_grad,
    }
    for name, obj in vars(anet.ops).items():
        if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function:
            ns[name] = obj
    return ns


def _provided() -> dict[str, tuple[str, str | None]]:
    """What :func:`default_namespace` provides beyond Python's own, as imports: name →
    ``(module, None)`` for ``import module as name``, ``(module, attribute)`` for ``from module
    import attribute as name``; in the namespace's order."""
    found: dict[str, tuple[str, str | None]] = {}
    for name, obj in default_namespace().items():
        if name.startswith("__"):
            continue
        if isinstance(obj, ModuleType):
            found[name] = (obj.__name__, None)
        else:
            found[name] = (obj.__module__, obj.__qualname__)
    return found


def imports_for(sources: Iterable[str]) -> str:
    """The import lines a script needs for the names of the REPL's namespace that ``sources``
    (Python) use, so that ``python saved.py`` runs what ran in the REPL; "" when they use none.

        imports_for(["x = Tensor(np.ones(3))"])
        # "import numpy as np\nfrom anet.tensor import Tensor"
    """
    used: set[str] = set()
    for source in sources:
        used |= _names(source)
    modules: list[str] = []
    attributes: dict[str, list[str]] = {}
    for name, (module, attribute) in _provided().items():
        if name not in used:
            continue
        if attribute is None:
            modules.append(f"import {module}" + (f" as {name}" if name != module else ""))
        else:
            alias = f" as {name}" if name != attribute else ""
            attributes.setdefault(module, []).append(attribute + alias)
    froms = []
    for module, names in attributes.items():
        line = f"from {module} import {', '.join(names)}"
        if len(line) > 79:  # wrapped as a formatter would
            wrapped = textwrap.fill(", ".join(names) + ",", 75)
            line = f"from {module} import (\n{textwrap.indent(wrapped, '    ')}\n)"
        froms.append(line)
    return "\n".join(modules + froms)


def only_provided_imports(source: str) -> bool:
    """Whether ``source`` does nothing but import names the REPL's namespace already has, as
    :func:`imports_for` writes them (so ``%save`` need not keep it: its own imports come first)."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return False
    provided = _provided()
    for node in body:
        if isinstance(node, ast.Import):
            pairs = [(a.asname or a.name, (a.name, None)) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            pairs = [(a.asname or a.name, (node.module, a.name)) for a in node.names]
        else:
            return False
        if any(provided.get(name) != what for name, what in pairs):
            return False
    return bool(body)


def _names(source: str) -> set[str]:
    """Every name token in ``source`` (what it may look up; strings and comments are not)."""
    names: set[str] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME:
                names.add(token.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return names


def complete(namespace: dict[str, Any], text: str) -> tuple[str, list[str]]:
    """Completions for the name or ``a.b.c`` attribute path that ``text`` ends with.

    Returns ``(prefix, candidates)``: a front-end replaces the last ``len(prefix)`` characters
    with a candidate. Attributes are looked up with getattr on the live objects (no calls).
    """
    m = re.search(r"[A-Za-z_]\w*(?:\.\w*)*$", text)
    if m is None:
        return "", []
    base, _, prefix = m.group(0).rpartition(".")
    if base:
        obj = _lookup(namespace, base)
        if obj is _MISSING:
            return prefix, []
        try:
            names = set(dir(obj))
        except Exception:
            return prefix, []
    else:
        builtin_names = namespace.get("__builtins__", builtins.__dict__)
        if not isinstance(builtin_names, dict):
            builtin_names = vars(builtin_names)
        names = set(namespace) | set(builtin_names) | set(keyword.kwlist)
    hide_private = not prefix.startswith("_")
    found = sorted(
        n
        for n in names
        if n.startswith(prefix) and not (hide_private and n.startswith("_")) and n != prefix
    )
    return prefix, found


def _lookup(namespace: dict[str, Any], path: str) -> Any:
    head, *rest = path.split(".")
    builtin_names = namespace.get("__builtins__", {})
    if head in namespace:
        obj = namespace[head]
    elif isinstance(builtin_names, dict) and head in builtin_names:
        obj = builtin_names[head]
    else:
        return _MISSING
    for name in rest:
        try:
            obj = getattr(obj, name)
        except Exception:
            return _MISSING
    return obj


_MISSING = object()


__all__ = [
    "InputNotAvailable",
    "complete",
    "default_namespace",
    "imports_for",
    "only_provided_imports",
]
