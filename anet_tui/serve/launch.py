"""The first program of a student session: ``python -m anet_tui.serve.launch SPEC``.

The server starts it in a new session (``setsid``) on the pty's slave; it takes the pty as its
controlling terminal, lowers its priority, sets the resource limits, confines itself with
Landlock when asked, and execs the student's ``anet-tui``. Doing this in a fresh process (rather
than in a ``preexec_fn`` of the threaded server) keeps the server free of fork-time hazards.

SPEC is JSON (at most :data:`MAX_SPEC` bytes): ``{"argv": [...], "limits": {"as": bytes,
"fsize": bytes, "core": 0, "nofile": n}, "nice": n, "landlock": {path: rights} | null}``.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import sys
import termios

MAX_SPEC = 64_000
LIMITS = {
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "core": resource.RLIMIT_CORE,
    "nofile": resource.RLIMIT_NOFILE,
}
FAILED = 126  # the exit status when the session could not be set up


def apply(spec: dict, controlling_terminal: bool = True) -> None:
    """Everything but the exec; raises on the first thing that cannot be done."""
    if controlling_terminal:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    os.nice(int(spec.get("nice", 0)))
    for name, value in spec.get("limits", {}).items():
        if value is not None:
            value = int(value)
            _, hard = resource.getrlimit(LIMITS[name])
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(LIMITS[name], (value, value))
    if spec.get("landlock") is not None:
        from anet_tui.serve import landlock

        landlock.confine({str(k): int(v) for k, v in spec["landlock"].items()})


def main(argv: list[str]) -> int:
    if len(argv) != 1 or len(argv[0]) > MAX_SPEC:
        print("anet-tui serve: launch takes one JSON spec", file=sys.stderr)
        return FAILED
    try:
        spec = json.loads(argv[0])
        command = [str(word) for word in spec["argv"]]
        apply(spec)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"anet-tui serve: cannot start the session: {e}", file=sys.stderr)
        return FAILED
    try:
        os.execv(command[0], command)
    except OSError as e:
        print(f"anet-tui serve: cannot start {command[0]}: {e}", file=sys.stderr)
    return FAILED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
