"""Make the golden data tests/anet/test_optim.py and test_nn.py compare anet against.

Run from the repository root with PyTorch installed (used here only, never by anet or the tests):
    python tests/golden/make_golden.py
Writes tests/golden/optim.npz and tests/golden/batchnorm.npz (float64, loadable with
allow_pickle=False). Made with torch 2.13.0+cpu.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
STEPS = 3

# name -> (anet optimizer, its keyword arguments, step at which q has no grad or None)
OPTIM_CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}, None),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}, None),
    "adam": ("Adam", {"lr": 0.1}, None),
    "adam_betas": ("Adam", {"lr": 0.05, "b1": 0.8, "b2": 0.99, "eps": 1e-6}, None),
    "adam_skip": ("Adam", {"lr": 0.1}, 2),
    "rmsprop": ("RMSprop", {"lr": 0.01}, None),
    "rmsprop_alpha": ("RMSprop", {"lr": 0.01, "decay": 0.99, "eps": 1e-6}, None),
}
ANET_DEFAULTS = {
    "SGD": {"momentum": 0.0},
    "Adam": {"b1": 0.9, "b2": 0.999, "eps": 1e-8},
    "RMSprop": {"decay": 0.9, "eps": 1e-8},
}


def torch_optimizer(kind: str, params: list[torch.Tensor], kw: dict[str, float]):
    kw = {**ANET_DEFAULTS[kind], **kw}
    if kind == "SGD":
        return torch.optim.SGD(params, lr=kw["lr"], momentum=kw["momentum"], foreach=False)
    if kind == "Adam":
        return torch.optim.Adam(
            params, lr=kw["lr"], betas=(kw["b1"], kw["b2"]), eps=kw["eps"], foreach=False
        )
    return torch.optim.RMSprop(params, lr=kw["lr"], alpha=kw["decay"], eps=kw["eps"], foreach=False)


def make_optim(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """loss(p, q) = 0.5 * sum((W @ p + q - T)**2), p (3, 4) and q (4,) the parameters."""
    data = {
        "W": rng.standard_normal((5, 3)),
        "T": rng.standard_normal((5, 4)),
        "p0": rng.standard_normal((3, 4)),
        "q0": rng.standard_normal(4),
    }
    W, T = torch.tensor(data["W"]), torch.tensor(data["T"])
    for name, (kind, kw, skip_q_at) in OPTIM_CONFIGS.items():
        p = torch.tensor(data["p0"], requires_grad=True)
        q = torch.tensor(data["q0"], requires_grad=True)
        opt = torch_optimizer(kind, [p, q], kw)
        for step in range(1, STEPS + 1):
            opt.zero_grad()
            (0.5 * ((W @ p + q - T) ** 2).sum()).backward()
            if step == skip_q_at:
                q.grad = None
            opt.step()
            if step in (1, STEPS):
                data[f"{name}__p{step}"] = p.detach().numpy().copy()
                data[f"{name}__q{step}"] = q.detach().numpy().copy()
        for key, value in kw.items():
            data[f"{name}__{key}"] = np.float64(value)
    return data


def make_batchnorm(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """BatchNorm2d(3) on (4, 3, 5, 5) inputs: train mode twice, then eval mode; loss sum(y * G)."""
    c = 3
    data = {
        "x": rng.standard_normal((4, c, 5, 5)) * 2 + 0.5,
        "x2": rng.standard_normal((4, c, 5, 5)) - 1,
        "G": rng.standard_normal((4, c, 5, 5)),
        "weight": rng.standard_normal(c),
        "bias": rng.standard_normal(c),
        "running_mean0": rng.standard_normal(c),
        "running_var0": rng.uniform(0.5, 2.0, c),
        "eps": np.float64(1e-5),
        "momentum": np.float64(0.1),
    }
    bn = torch.nn.BatchNorm2d(c, eps=1e-5, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(data["weight"]))
        bn.bias.copy_(torch.tensor(data["bias"]))
        bn.running_mean.copy_(torch.tensor(data["running_mean0"]))
        bn.running_var.copy_(torch.tensor(data["running_var0"]))
    G = torch.tensor(data["G"])

    def run(prefix: str, x: np.ndarray) -> None:
        bn.zero_grad()
        xt = torch.tensor(x, requires_grad=True)
        y = bn(xt)
        (y * G).sum().backward()
        data[f"{prefix}_y"] = y.detach().numpy()
        data[f"{prefix}_dx"] = xt.grad.numpy()
        data[f"{prefix}_dweight"] = bn.weight.grad.numpy().copy()
        data[f"{prefix}_dbias"] = bn.bias.grad.numpy().copy()
        data[f"{prefix}_running_mean"] = bn.running_mean.numpy().copy()
        data[f"{prefix}_running_var"] = bn.running_var.numpy().copy()
        data[f"{prefix}_num_batches_tracked"] = np.int64(bn.num_batches_tracked.item())

    bn.train()
    run("train1", data["x"])
    run("train2", data["x2"])
    bn.eval()
    run("eval", data["x"])  # with the running statistics left by the two training batches
    return data


def main() -> None:
    rng = np.random.default_rng(20201018)
    for name, data in (("optim", make_optim(rng)), ("batchnorm", make_batchnorm(rng))):
        path = HERE / f"{name}.npz"
        np.savez(path, **data)
        print(f"wrote {path} ({len(data)} arrays)")


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main()
