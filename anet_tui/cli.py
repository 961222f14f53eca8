"""The ``anet-tui`` command (placeholder until the app lands: prints the version and exits)."""

from __future__ import annotations

import sys

import anet


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--version" in args:
        print(f"anet-tui {anet.__version__}")
        return 0
    print("anet-tui: the app is not built yet; see README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
