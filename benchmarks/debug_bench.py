"""What the debugger costs, against baselines timed in the same process.

    python benchmarks/debug_bench.py           # full sizes
    python benchmarks/debug_bench.py --quick   # small sizes, a few seconds

- finished BackwardSession vs plain backward() on the same graph (and step() by step() too);
- the automatic numerical check of user Functions: a finished session over 100 user-Function
  nodes of 10^4 elements each, against plain backward() of that graph (and with verify=False);
- planning a session (BackwardSession(root)) for 1k / 10k / 100k nodes, against the topological
  sort plain backward() does itself;
- anet.debug.record() on vs off: forward of a small-op chain, per op;
- drawing: render.tree / render.json of a 10k-node session;
- summaries: the statistics %show prints for 10⁸ float32 (10⁷ with --quick), against one numpy
  pass (min) over the same array;
- the histogram %show draws of 10⁸ float32 (10⁷ with --quick), against the same numpy pass.
Times are medians of interleaved runs, in CPU time of this process (the machine may be shared:
other processes then slow both sides alike); ratios are the point.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anet import Function, Tensor  # noqa: E402
from anet.autograd import topo_order  # noqa: E402
from anet.debug import BackwardSession, pictures, record, render  # noqa: E402
from anet.debug.summary import Summary  # noqa: E402


def graph(n_ops: int) -> tuple[Tensor, Tensor]:
    """A chain of small ops with a skip connection every third op: (leaf, root)."""
    x = Tensor(np.ones((4, 4), dtype=np.float32))
    y = x
    for i in range(n_ops):
        y = (y * 0.999).tanh() if i % 3 else y + x
    return x, y.sum()


def medians(fns: dict[str, Callable[[], None]], repeat: int) -> dict[str, float]:
    """Median CPU seconds of each function, run interleaved so load hits them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.process_time()
            fn()
            times[name].append(time.process_time() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def session_vs_backward(n_ops: int, repeat: int) -> None:
    x, root = graph(n_ops)
    nodes = len(topo_order(root))

    def plain() -> None:
        x.grad = None
        root.backward()

    def finished() -> None:
        x.grad = None
        BackwardSession(root).finish()

    def stepped() -> None:
        x.grad = None
        s = BackwardSession(root)
        while s.step() is not None:
            pass

    t = medians({"plain": plain, "finish": finished, "step": stepped}, repeat)
    print(f"walk, {nodes} nodes (4x4 float32): plain backward {t['plain'] * 1e3:.1f} ms")
    for name in ("finish", "step"):
        print(
            f"  session {name + '()':9} {t[name] * 1e3:7.1f} ms   "
            f"ratio {t[name] / t['plain']:.2f}x   "
            f"(+{(t[name] - t['plain']) / nodes * 1e6:.2f} us per node)"
        )


class Tanh(Function):
    """A user's Function (not one of anet's own): the session checks it as it walks."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return (1 - y * y) * grad_output


class Poly(Function):
    """Arithmetic only (x + x^3 / 100): forward about as cheap as backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x + 0.01 * x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (1 + 0.03 * x * x) * grad_output


class Scale(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 0.99

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0.99


def automatic_check(n_nodes: int, size: int, repeat: int) -> None:
    """Chains of user Functions: the check's cost against plain backward() of the same graph."""
    for name, first in (("Poly", Poly), ("Tanh", Tanh)):
        x = Tensor(np.random.default_rng(0).uniform(-1, 1, size), requires_grad=True)
        y = x
        for i in range(n_nodes):
            y = Function.apply(y, Scale if i % 2 else first)
        root = y.sum()

        def plain(x: Tensor = x, root: Tensor = root) -> None:
            x.grad = None
            root.backward()

        def checked(x: Tensor = x, root: Tensor = root) -> None:
            x.grad = None
            BackwardSession(root).finish()

        def unchecked(x: Tensor = x, root: Tensor = root) -> None:
            x.grad = None
            BackwardSession(root, verify=False).finish()

        t = medians({"plain": plain, "checked": checked, "unchecked": unchecked}, repeat)
        print(
            f"automatic check, {n_nodes} user-Function nodes ({name}, Scale) of {size} float64: "
            f"plain backward {t['plain'] * 1e3:.1f} ms; finished session "
            f"{t['checked'] * 1e3:.1f} ms, ratio {t['checked'] / t['plain']:.2f}x "
            f"(verify=False: {t['unchecked'] / t['plain']:.2f}x)"
        )


def plan_times(sizes: list[int], repeat: int) -> None:
    print("plan (BackwardSession(root)) vs the topological sort backward() does:")
    for n_ops in sizes:
        _, root = graph(n_ops)
        nodes = len(topo_order(root))
        t = medians(
            {"topo": lambda r=root: topo_order(r), "plan": lambda r=root: BackwardSession(r)},
            repeat,
        )
        print(
            f"  {nodes:>7} nodes: plan {t['plan'] * 1e3:8.1f} ms   "
            f"topo_order {t['topo'] * 1e3:7.1f} ms   ratio {t['plan'] / t['topo']:.2f}x"
        )


def record_cost(n_ops: int, repeat: int) -> None:
    x = Tensor(np.ones((4, 4), dtype=np.float32))

    def chain() -> None:
        y = x
        for _ in range(n_ops):
            y = y * 1.001
        y = y + 1.0

    def recorded() -> None:
        with record():
            chain()

    t = medians({"off": chain, "on": recorded}, repeat)
    per_off, per_on = t["off"] / (n_ops + 1) * 1e6, t["on"] / (n_ops + 1) * 1e6
    print(
        f"record(), forward of a {n_ops}-op chain: off {per_off:.2f} us/op, "
        f"on {per_on:.2f} us/op, ratio {t['on'] / t['off']:.2f}x"
    )


def drawing(n_ops: int, repeat: int) -> None:
    _, root = graph(n_ops)
    s = BackwardSession(root)
    s.finish()
    t = medians(
        {
            "tree": lambda: render.tree(s),
            "json": lambda: render.json(s),
            "dot": lambda: render.dot(s),
        },
        repeat,
    )
    print(
        f"render, {len(s.nodes)} nodes: tree {t['tree'] * 1e3:.0f} ms, "
        f"json {t['json'] * 1e3:.0f} ms, dot {t['dot'] * 1e3:.0f} ms"
    )


def big_summaries(n: int, repeat: int) -> None:
    """A fresh Summary's statistics (what %show prints for a value), chunk by chunk."""
    data = np.arange(n, dtype=np.float32)
    data[5], data[7] = np.nan, np.inf
    t = medians(
        {"numpy": lambda: np.min(data), "summary": lambda: Summary(data).stats_text()},
        repeat,
    )
    print(
        f"summary of {n:.0e} float32 (min, max, mean, NaN, Inf): {t['summary'] * 1e3:.0f} ms, "
        f"one np.min pass {t['numpy'] * 1e3:.0f} ms, ratio {t['summary'] / t['numpy']:.1f}x"
    )


def big_histogram(n: int, repeat: int) -> None:
    """The histogram %show draws of a big grad: the exact extremes and NaN/Inf counts in one
    chunked pass, the rest from a bounded sample (anet.debug.pictures)."""
    data = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    data[5], data[7] = np.nan, np.inf
    t = medians(
        {"numpy": lambda: np.min(data), "histogram": lambda: pictures.histogram(data)},
        repeat,
    )
    print(
        f"histogram of {n:.0e} float32 (sampled {pictures.SAMPLE:,}): "
        f"{t['histogram'] * 1e3:.0f} ms, one np.min pass {t['numpy'] * 1e3:.0f} ms, "
        f"ratio {t['histogram'] / t['numpy']:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    args = parser.parse_args()
    repeat = 3 if args.quick else 9
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    session_vs_backward(300 if args.quick else 3000, repeat)
    automatic_check(100, 10**3 if args.quick else 10**4, repeat)
    plan_times([600, 6000] if args.quick else [600, 6000, 60000], 3 if args.quick else 5)
    record_cost(300 if args.quick else 3000, repeat)
    drawing(600 if args.quick else 6000, 3)
    big_summaries(10**7 if args.quick else 10**8, 3)
    big_histogram(10**7 if args.quick else 10**8, 3 if args.quick else 5)


if __name__ == "__main__":
    main()
