"""Where the chain workload's time goes, per phase, in anet and in the same-API floor.

    python benchmarks/phases.py            # 1000-op chain, 300 rounds
    python benchmarks/phases.py --quick    # tiny (the smoke test uses this)

The workload is benchmarks/run.py's chain: ``+0.5`` / ``*1.001`` on 16 float32 numbers, then
``sum().backward()``. Each round builds one graph per variant and times its phases in turn:

- forward: building the graph (every op applied);
- plan: ordering the walk and seeding it (``anet.autograd.plan``; the floor's ``topo_order``);
- walk: ``backward()`` minus plan (each node's backward, checks, accumulation): the best time
  of backward less the best time of plan alone;
- teardown: dropping the graph (the last reference goes, every node is freed).

Variants: anet, anet under ``anet.debug.record()``, and the floor (benchmarks/floor.py). Figures
are per op, in microseconds of this thread's CPU time (``time.thread_time``, not disturbed by
other processes taking the CPU), each the best of its rounds; the variants take turns.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402

from anet import Tensor, autograd  # noqa: E402
from anet.debug import record  # noqa: E402

PHASES = ("forward", "plan", "walk", "teardown")


def chain(make: Callable[[np.ndarray], object], n: int) -> object:
    y = x = make(np.ones(16, dtype=np.float32))
    for i in range(n):
        y = y * 1.001 if i % 2 else y + 0.5
    del x
    return y.sum()


def anet_round(n: int, recorded: bool) -> list[float]:
    """[forward, plan, backward (plan and walk), teardown] seconds of one graph in anet."""
    clock = time.thread_time
    start = clock()
    if recorded:
        with record():
            root = chain(Tensor, n)
    else:
        root = chain(Tensor, n)
    built = clock()
    autograd.plan(root)
    planned = clock()
    root.backward()  # plans again
    walked = clock()
    del root
    freed = clock()
    return [built - start, planned - built, walked - planned, freed - walked]


def floor_round(n: int) -> list[float]:
    """[forward, plan, backward (plan and walk), teardown] seconds of one graph in the floor."""
    clock = time.thread_time
    start = clock()
    root = chain(floor.Tensor, n)
    built = clock()
    floor.topo_order(root)
    planned = clock()
    root.backward()
    walked = clock()
    del root
    freed = clock()
    return [built - start, planned - built, walked - planned, freed - walked]


def measure(n: int, rounds: int) -> dict[str, list[float]]:
    """Best seconds per phase of each variant, taking turns for ``rounds`` rounds. The walk is
    the best backward minus the best plan (each minimum of many rounds: the difference of two
    noisy figures from one round would be biased low by taking its minimum)."""
    variants: dict[str, Callable[[], list[float]]] = {
        "anet": lambda: anet_round(n, False),
        "anet, record()": lambda: anet_round(n, True),
        "floor": lambda: floor_round(n),
    }
    best = {name: [float("inf")] * len(PHASES) for name in variants}
    for fn in variants.values():  # warm up: caches, constants, line numbers
        fn()
    for _ in range(rounds):
        for name, fn in variants.items():
            best[name] = [min(a, b) for a, b in zip(best[name], fn())]
    for phases in best.values():
        phases[2] = max(phases[2] - phases[1], 0.0)
    return best


def format_table(best: dict[str, list[float]], n: int) -> str:
    head = f"{'variant':16}" + "".join(f"{p:>10}" for p in PHASES) + f"{'total':>10}{'/floor':>8}"
    lines = [f"per op, us (chain of {n} ops on 16 float32, best of each phase)", head]
    lines.append("-" * len(head))
    floor_total = sum(best["floor"])
    for name, phases in best.items():
        total = sum(phases)
        cells = "".join(f"{s / n * 1e6:10.3f}" for s in phases)
        lines.append(f"{name:16}{cells}{total / n * 1e6:10.3f}{total / floor_total:7.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short chain, a few rounds")
    args = parser.parse_args(argv)
    n, rounds = (50, 3) if args.quick else (1000, 300)
    print(f"numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}, gc {gc.isenabled()}")
    print(format_table(measure(n, rounds), n))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
