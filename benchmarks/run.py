"""Every performance workload of anet, each against a baseline timed in the same process.

    python benchmarks/run.py            # full sizes, one table
    python benchmarks/run.py --quick    # tiny sizes (the smoke test uses this)

Baselines: numpy by hand, and PyTorch when it is installed (`pip install torch==2.13.0`).
Each workload and its baseline run in turn (anet, baseline, anet, baseline, …) and each figure is
the best (minimum) of its runs, as timeit recommends. Taking turns matters on a shared machine:
its speed drifts by tens of percent over seconds, and timing one side after the other puts that
drift into the ratio, which is what the targets are about. Times are this thread's CPU time
(``time.thread_time``): with one BLAS thread everything runs on it, and a run that other
processes took the CPU from does not count their time.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# One BLAS thread everywhere, so that the comparison is of overheads, not of thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402

from anet import Tensor  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None


clock = time.thread_time


def best_times(fns: Sequence[Callable[[], object]], repeat: int, warmup: int = 2) -> list[float]:
    """Best (minimum) time in seconds of each of ``fns``, run in turn ``repeat`` times."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = clock()
            fn()
            best[i] = min(best[i], clock() - start)
    return best


@dataclass
class Row:
    workload: str
    anet: float  # seconds (or a ratio, when unit is "ratio")
    baseline_name: str
    baseline: float | None
    target: str
    ok: bool | None
    unit: str = "ms"


# ---- MLP step -----------------------------------------------------------------------------


def _mlp_data(sizes: list[int], batch: int, rng: np.random.Generator):
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    ws = [
        (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
        for a, b in itertools.pairwise(sizes)
    ]
    bs = [np.zeros(b, dtype=np.float32) for b in sizes[1:]]
    return x, y, ws, bs


def mlp_anet(sizes: list[int], batch: int, lr: float = 0.01) -> Callable[[], None]:
    x, y, ws, bs = _mlp_data(sizes, batch, np.random.default_rng(0))
    params = [Tensor(a) for pair in zip(ws, bs) for a in pair]
    xt = Tensor(x, requires_grad=False)
    onehot = np.zeros((batch, sizes[-1]), dtype=np.float32)
    onehot[np.arange(batch), y] = -1.0 / batch
    target = Tensor(onehot, requires_grad=False)

    def step() -> None:
        h = xt
        for i in range(0, len(params), 2):
            h = h.dot(params[i]).add(params[i + 1])
            h = h.relu() if i + 2 < len(params) else h.logsoftmax()
        loss = h.mul(target).sum()
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= lr * p.grad

    return step


def mlp_numpy(sizes: list[int], batch: int, lr: float = 0.01) -> Callable[[], None]:
    x, y, ws, bs = _mlp_data(sizes, batch, np.random.default_rng(0))
    rows = np.arange(batch)

    def step() -> None:
        acts = [x]
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i + 1 < len(ws):
                h = np.maximum(h, 0)
                acts.append(h)
        shifted = h - h.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        _loss = -logp[rows, y].mean()
        g = np.exp(logp)
        g[rows, y] -= 1
        g /= batch
        for i in range(len(ws) - 1, -1, -1):
            gw, gb = acts[i].T @ g, g.sum(axis=0)
            if i:
                g = (g @ ws[i].T) * (acts[i] > 0)
            ws[i] -= lr * gw
            bs[i] -= lr * gb

    return step


def mlp_torch(sizes: list[int], batch: int, lr: float = 0.01) -> Callable[[], None]:
    x, y, ws, bs = _mlp_data(sizes, batch, np.random.default_rng(0))
    params = [torch.tensor(a, requires_grad=True) for pair in zip(ws, bs) for a in pair]
    xt, yt = torch.tensor(x), torch.tensor(y)

    def step() -> None:
        h = xt
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            h = h.relu() if i + 2 < len(params) else h.log_softmax(dim=1)
        loss = torch.nn.functional.nll_loss(h, yt)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad

    return step


# ---- chain of small elementwise ops --------------------------------------------------------


def chain_anet(n: int, width: int = 16) -> Callable[[], None]:
    def run() -> None:
        x = Tensor(np.ones(width, dtype=np.float32))
        y = x
        for i in range(n):
            y = y * 1.001 if i % 2 else y + 0.5
        y.sum().backward()

    return run


def chain_numpy(n: int, width: int = 16) -> Callable[[], None]:
    """numpy's forward alone, its constants made once (as anet caches its own)."""
    scale, shift = np.float32(1.001), np.float32(0.5)

    def run() -> None:
        y = np.ones(width, dtype=np.float32)
        for i in range(n):
            y = y * scale if i % 2 else y + shift

    return run


def chain_floor(n: int, width: int = 16) -> Callable[[], None]:
    """The chain on benchmarks/floor.py: a minimal autograd with the seed's own API."""
    return lambda: floor.chain(n, width)


def chain_torch(n: int, width: int = 16) -> Callable[[], None]:
    def run() -> None:
        x = torch.ones(width, requires_grad=True)
        y = x
        for i in range(n):
            y = y * 1.001 if i % 2 else y + 0.5
        y.sum().backward()

    return run


def chain_backward_times(sizes: Sequence[int], repeat: int) -> list[float]:
    """Best time of the backward alone of an n-op chain, for each n in ``sizes`` in turn (each
    graph is built outside the timing)."""

    def graph(n: int) -> Tensor:
        y = Tensor(np.ones(4, dtype=np.float32))
        for _ in range(n):
            y = y * 1.0
        return y.sum()

    best = [float("inf")] * len(sizes)
    for _ in range(repeat):
        for i, n in enumerate(sizes):
            y = graph(n)
            start = clock()
            y.backward()
            best[i] = min(best[i], clock() - start)
    return best


# ---- convolution + pooling ----------------------------------------------------------------


def conv_anet(batch: int, size: int) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, 3, size, size)).astype(np.float32))
    w = Tensor(rng.standard_normal((16, 3, 3, 3)).astype(np.float32))

    def run() -> None:
        x.grad = w.grad = None
        x.conv2d(w).max_pool2d(kernel_size=(2, 2)).sum().backward()

    return run


def conv_torch(batch: int, size: int) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((batch, 3, size, size)).astype(np.float32))
    w = torch.tensor(rng.standard_normal((16, 3, 3, 3)).astype(np.float32))
    x.requires_grad_(True)
    w.requires_grad_(True)
    f = torch.nn.functional

    def run() -> None:
        x.grad = w.grad = None
        f.max_pool2d(f.conv2d(x, w), (2, 2)).sum().backward()

    return run


# ---- the debugger -------------------------------------------------------------------------


def _graph_for_session(n: int) -> tuple[Tensor, Tensor]:
    x = Tensor(np.ones((4, 4), dtype=np.float32))
    y = x
    for i in range(n):
        y = (y * 0.999).tanh() if i % 3 else y + x
    return x, y.sum()


def session_ratio(n: int, repeat: int) -> list[float]:
    """[plain backward, finished BackwardSession] seconds on the same graph."""
    from anet.debug import BackwardSession

    x, root = _graph_for_session(n)

    def plain() -> None:
        x.grad = None
        root.backward()

    def session() -> None:
        x.grad = None
        BackwardSession(root).finish()

    return best_times([plain, session], repeat)


def record_ratio(n: int, repeat: int) -> list[float]:
    """[off, on] seconds of the small-op chain forward+backward with anet.debug.record()."""
    from anet.debug import record

    run = chain_anet(n)

    def recorded() -> None:
        with record():
            run()

    return best_times([run, recorded], repeat)


# ---- the table ----------------------------------------------------------------------------


def measure(quick: bool) -> list[Row]:
    r = 3 if quick else 40
    rows: list[Row] = []
    have_torch = torch is not None

    # Each ratio comes from its own pair taking turns: a third party (torch) running between
    # them would leave the caches to whoever runs after it.
    for sizes, batch, target_ratio, name in [
        ([64, 128, 10], 128, 1.5, "MLP 64-128-10 b128 step"),
        ([784, 512, 512, 10], 256, 1.1, "MLP 784-512-512-10 b256 step"),
    ]:
        small = name.startswith("MLP 64")
        if quick:
            sizes, batch = [8, 16, 4], 8
        reps = r * 4 if small else r
        a, n = best_times([mlp_anet(sizes, batch), mlp_numpy(sizes, batch)], reps)
        rows.append(Row(name, a, "numpy", n, f"<= {target_ratio}x", a / n <= target_ratio))
        if small:
            t = None
            if have_torch:
                a, t = best_times([mlp_anet(sizes, batch), mlp_torch(sizes, batch)], reps)
            rows.append(Row(name, a, "torch", t, "< torch", None if t is None else a < t))

    n_chain = 50 if quick else 1000
    a, n = (x / n_chain for x in best_times([chain_anet(n_chain), chain_numpy(n_chain)], r))
    rows.append(Row("chain op fwd+bwd (per op)", a, "numpy fwd", n, "-", None, "us"))
    reps = r if quick else r * 4  # (the ratio to the floor is the figure: more turns)
    a, f = (x / n_chain for x in best_times([chain_anet(n_chain), chain_floor(n_chain)], reps))
    ok = a / f <= 1.1
    rows.append(Row("chain op fwd+bwd (per op)", a, "same-API floor", f, "<= 1.1x", ok, "us"))
    t = None
    if have_torch:
        a, t = (x / n_chain for x in best_times([chain_anet(n_chain), chain_torch(n_chain)], r))
    ok = None if t is None else a / t <= 0.75
    rows.append(Row("chain op fwd+bwd (per op)", a, "torch", t, "<= 0.75x", ok, "us"))

    small, big = (1_000, 10_000) if quick else (10_000, 100_000)
    t_small, t_big = chain_backward_times([small, big], 3 if quick else 9)
    rows.append(
        Row(
            f"chain backward {big // 1000}k vs {small // 1000}k",
            t_big,
            "same, 10x shorter",
            t_small,
            "<= 12x",
            t_big / t_small <= 12,
        )
    )

    conv = (2, 12) if quick else (8, 28)
    fns = [conv_anet(*conv)] + ([conv_torch(*conv)] if have_torch else [])
    a, *t = best_times(fns, r)
    t_ = t[0] if t else None
    ok = None if t_ is None else a / t_ <= 3
    rows.append(Row("conv2d+max_pool2d fwd+bwd", a, "torch", t_, "<= 3x", ok))

    try:
        plain, sess = session_ratio(30 if quick else 300, r * 2)
        rows.append(
            Row(
                "finished BackwardSession",
                sess,
                "plain backward",
                plain,
                "<= 1.3x",
                sess / plain <= 1.3,
            )
        )
        off, on = record_ratio(n_chain, r if quick else r * 2)
        rows.append(
            Row("record() on, small-op chain", on, "record() off", off, "<= 1.3x", on / off <= 1.3)
        )
    except ImportError as e:
        rows.append(Row(f"debugger ({e})", float("nan"), "-", None, "-", None))
    return rows


def format_table(rows: list[Row]) -> str:
    head = f"{'workload':34} {'anet':>10} {'baseline':>20} {'ratio':>7} {'target':>9}  result"
    lines = [head, "-" * len(head)]
    for row in rows:
        scale = 1e6 if row.unit == "us" else 1e3
        unit = "us" if row.unit == "us" else "ms"
        base = (
            "n/a (not installed)" if row.baseline is None else f"{row.baseline * scale:.3f}{unit}"
        )
        ratio = "-" if row.baseline is None else f"{row.anet / row.baseline:.2f}x"
        result = {True: "pass", False: "MISS", None: "-"}[row.ok]
        lines.append(
            f"{row.workload:34} {row.anet * scale:>8.3f}{unit} {row.baseline_name + ' ' + base:>20}"
            f" {ratio:>7} {row.target:>9}  {result}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few repeats")
    args = parser.parse_args(argv)
    print(
        f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(format_table(measure(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
