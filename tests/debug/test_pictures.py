"""Pictures of values and gradients (anet.debug.pictures) and their text (anet.debug.charts):
histograms with words for what is notable, the flow of grads along a walk, by node and by
parameter, and their drawings at 80 columns in Unicode and ASCII."""

from __future__ import annotations

import json
import re
import tracemalloc
from itertools import pairwise

import numpy as np
import pytest

from anet import Tensor, nn
from anet.debug import BackwardSession, Graph, charts, pictures, record, render
from anet.debug.pictures import SAMPLE, Flow, Histogram, flow, histogram
from anet.debug.views import to_ascii, where_text

# ---- histogram: the numbers --------------------------------------------------------------------


def test_histogram_statistics_and_bins_match_numpy() -> None:
    a = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
    h = histogram(a, "out")
    assert (h.title, h.shape, h.dtype, h.count) == ("out", (64, 32), "float32", 2048)
    assert h.min == pytest.approx(float(a.min())) and h.max == pytest.approx(float(a.max()))
    assert h.mean == pytest.approx(float(a.astype(np.float64).mean()))
    assert h.std == pytest.approx(float(a.astype(np.float64).std()))
    assert len(h.counts) >= 16 and len(h.edges) == len(h.counts) + 1
    counts, edges = np.histogram(a.astype(np.float64), bins=len(h.counts))
    assert h.counts == tuple(counts) and np.allclose(h.edges, edges)
    assert sum(h.counts) == 2048 and h.sampled is None and h.words == ()
    assert (h.zeros, h.nan, h.inf, h.value) == (0.0, 0, 0, None)


@pytest.mark.parametrize(
    "a",
    [
        np.random.default_rng(2).standard_normal(300),
        np.array([[1.0, np.nan], [np.inf, -np.inf]]),
        np.zeros(5, dtype=np.float16),
        np.arange(10, dtype=np.int64),
        np.array([True, False, True]),
        np.float32(2.5),
        np.ones((1, 1, 1)),
        np.zeros((0, 3)),
        np.full(10, 3.0),
    ],
    ids=["normal", "nonfinite", "float16", "int", "bool", "0-d", "one", "empty", "constant"],
)
def test_histogram_round_trips_through_json(a: np.ndarray) -> None:
    h = histogram(a, "x", grad=True)
    assert Histogram.from_dict(json.loads(json.dumps(h.to_dict()))) == h


def test_one_element_gets_a_value_and_empty_says_so() -> None:
    for one in (np.float32(2.5), np.array([[2.5]]), Tensor([2.5])):
        h = histogram(one)
        assert h.value == 2.5 and h.count == 1 and h.counts == () and h.edges == ()
    assert "value 2.5" in charts.histogram(histogram(np.float32(2.5), "loss"))
    empty = histogram(np.zeros((0, 3)))
    assert empty.count == 0 and empty.words == ("empty",) and empty.counts == ()
    same = histogram(np.full(10, 3.0))
    assert same.counts == (10,) and same.min == same.max == 3.0
    assert "all 3" in charts.histogram(same)
    with pytest.raises(TypeError, match="numbers only"):
        histogram(np.array(["a", "b"]))


def test_nan_and_inf_are_counted_and_left_out_of_the_bins() -> None:
    a = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 3.0, np.nan])
    h = histogram(a, grad=True)
    assert (h.nan, h.inf, h.min, h.max, sum(h.counts)) == (2, 2, 1.0, 3.0, 3)
    assert h.mean == pytest.approx(2.0)
    assert h.words[0] == "2 NaN and 2 Inf (left out of the bins and statistics)"
    none = histogram(np.full(4, np.nan))
    assert none.min is None and none.counts == () and none.nan == 4
    assert "none finite" in charts.histogram(none)


# ---- histogram: the words ----------------------------------------------------------------------


def relu_like(share: float, n: int = 10_000) -> np.ndarray:
    a = np.abs(np.random.default_rng(3).standard_normal(n)).astype(np.float32) + 0.1
    a[: int(share * n)] = 0
    return a


def test_many_zeros_read_as_a_dead_relu_only_where_a_relu_makes_them() -> None:
    dead = relu_like(0.62)
    assert histogram(dead, relu=True).words == ("62% zeros — a dead ReLU?",)
    assert histogram(dead, grad=True, relu=True).words == ("62% zeros — a dead ReLU?",)
    assert histogram(dead, grad=True).words == ("62% zeros",)  # a grad, no ReLU: the fact only
    assert histogram(dead).words == ()  # values with zeros (padding, one-hot): nothing to say
    assert histogram(relu_like(0.5), relu=True).words == ()  # a healthy ReLU: half zeros
    assert histogram(np.zeros(8), relu=True).words == ("all zeros — a dead ReLU",)
    assert histogram(np.zeros(8), grad=True).words == ("all zeros — no gradient flows here",)


def test_tiny_and_huge_values_are_called_out() -> None:
    a = np.random.default_rng(4).standard_normal(500)
    (tiny,) = histogram(a * 1e-12, grad=True).words
    assert tiny.startswith("every |grad| < 1e-07") and tiny.endswith("a vanishing gradient")
    assert histogram(a * 1e-12).words[0].endswith("all tiny")
    (huge,) = histogram(a * 1e9, grad=True).words
    assert huge.startswith("max |grad|") and huge.endswith("an exploding gradient?")
    assert histogram(a).words == () and histogram(a, grad=True).words == ()
    assert histogram(np.array([3e-9]), grad=True).words == (
        "|grad| 3.0e-09 < 1e-07 — a vanishing gradient",
    )


def test_log_counts_when_a_linear_scale_would_flatten_most_bins() -> None:
    flat = np.random.default_rng(5).uniform(-1, 1, 10_000)
    assert not histogram(flat).log_counts
    spiky = relu_like(0.9)
    assert histogram(spiky).log_counts
    text = charts.histogram(histogram(spiky, "x"))
    assert "counts on a log scale" in text.splitlines()[0]


# ---- histogram: big arrays ---------------------------------------------------------------------


def big_array() -> np.ndarray:
    a = np.empty(10**8, dtype=np.float32)
    a[:] = 0.5
    a[::1000] = -2.0
    a[12_345_677] = 9.0  # one extreme a sample would miss
    a[99_999_998] = np.nan
    a[3] = np.inf
    return a


def test_a_big_array_is_sampled_in_bounded_memory_with_exact_extremes() -> None:
    a = big_array()
    for view in (a, a.reshape(10**4, 10**4).T):  # contiguous, and transposed (no copy either)
        tracemalloc.start()
        h = histogram(view, "big")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 40 * 2**20, peak  # the array is 400 MB
        assert (h.count, h.sampled) == (10**8, SAMPLE)
        assert (h.min, h.max, h.nan, h.inf) == (-2.0, 9.0, 1, 1)  # exact: every entry looked at
        assert SAMPLE - 2 <= sum(h.counts) <= SAMPLE  # the sample's NaN/Inf are not binned
        assert h.mean == pytest.approx(0.4975, abs=0.002)  # from the sample
    text = charts.histogram(h)
    assert f"sampled {SAMPLE:,} of 100,000,000" in text


def test_sample_is_spread_over_the_whole_array_and_reproducible() -> None:
    a = np.arange(10 * SAMPLE + 7, dtype=np.float64)
    m = pictures.measure(a)
    assert m.looked == SAMPLE and m.sample.size == SAMPLE
    assert m.sample.min() < a.size / SAMPLE and m.sample.max() > a.size - 2 * a.size / SAMPLE
    assert np.all(np.diff(m.sample) > 0)  # one from each stretch, in order
    assert np.array_equal(m.sample, pictures.measure(a).sample)


# ---- histogram: the drawing --------------------------------------------------------------------


def lines_fit(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert len(line) <= width, line


def test_histogram_text_fits_80_columns_and_reads_in_ascii() -> None:
    a = np.random.default_rng(6).standard_normal((64, 32)).astype(np.float32) * 1e-9
    h = histogram(np.maximum(a, 0), "grad to parent 1 (#12345 SomeLongOpName)", grad=True)
    text = charts.histogram(h)
    lines_fit(text)
    assert any(c in text for c in "▁▂▃▄▅▆▇█")
    lines = text.splitlines()
    assert lines[0].startswith("grad to parent 1 (#12345 SomeLongOpName)  (64, 32) float32")
    assert "mean " in text and "std " in text and "zeros " in text
    assert "! every |grad| < 1e-07" in text
    ascii = charts.histogram(h, ascii=True)
    assert ascii.isascii() and ascii == to_ascii(text)
    assert [len(t) for t in ascii.splitlines()] == [len(t) for t in lines]  # columns kept
    assert "#" in ascii


def test_histogram_bars_are_as_tall_as_the_counts() -> None:
    h = Histogram("x", (6,), "float64", 6, min=0.0, max=1.0, mean=0.5, std=0.5,
                  edges=(0.0, 0.5, 1.0), counts=(4, 2))  # fmt: skip
    lines = charts.histogram(h, height=2, width=40).splitlines()
    # 3 columns a bin; 4 of 4: both rows full; 2 of 4: the bottom row only
    assert lines[-4:] == ["  ███", "  ██████", "  0    1", "  mean 0.5  std 0.5  zeros 0%"]


def test_a_histogram_narrower_than_its_bins_draws_neighbours_as_one() -> None:
    h = histogram(np.random.default_rng(1).standard_normal(2048), "out")
    assert len(h.counts) == 32
    lines = charts.histogram(h, width=30, height=3).splitlines()
    lines_fit("\n".join(lines), 30)  # (a pane 30 columns wide: nothing cut off at its edge)
    at = next(i for i, line in enumerate(lines) if line.startswith("  -"))  # the axis
    bars, axis = lines[at - 3 : at], lines[at]
    assert max(len(b) for b in bars) == len(axis) == 2 + 16  # 16 bins of two, a cell each
    assert axis.split() == [f"{h.min:.3g}", "0", f"{h.max:.3g}"]


# ---- flow: a deep network ----------------------------------------------------------------------


class Deep(nn.Module):
    def __init__(self, depth: int = 8, width: int = 16, activation: str = "sigmoid") -> None:
        self.layers = [nn.Linear(width, width) for _ in range(depth)]
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = getattr(layer(x), self.activation)()
        return x


def deep_loss(activation: str = "sigmoid", depth: int = 8, bias: float | None = None):
    np.random.seed(0)
    net = Deep(depth, activation=activation)
    if bias is not None:
        for layer in net.layers:
            layer.bias.data = np.full(16, bias, dtype=np.float32)
    x = Tensor.randn(32, 16, requires_grad=False)
    with record():
        loss = nn.mse_loss(net(x), Tensor.randn(32, 16, requires_grad=False))
    return net, loss


def test_flow_has_a_bar_per_node_with_its_grad_and_updates_as_you_step() -> None:
    _, loss = deep_loss()
    s = BackwardSession(loss)
    assert flow(s).bars == ()  # nothing run: no grads yet
    s.step()
    first = flow(s)
    assert [b.id for b in first.bars] == [s.nodes[0].id, s.nodes[1].id]  # the root, the current
    assert first.position == (1, len(s.nodes)) and first.waiting == len(s.nodes) - 2
    s.step()
    s.step()
    assert len(flow(s).bars) == 4
    s.finish()
    f = flow(s)
    assert [b.id for b in f.bars] == [r.id for r in s.nodes]  # walk order, every node
    assert f.waiting == 0 and f.by == "node" and f.root == s.nodes[0].label
    for b, rec in zip(f.bars, s.nodes):
        g = np.abs(rec.received.astype(np.float64))
        assert b.mean_abs == pytest.approx(g.mean()) and b.max_abs == pytest.approx(g.max())
        assert b.label == rec.label and b.where == rec.where and b.size == g.size
    assert Flow.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    assert "vanishing gradients" in f.words[0]


def test_flow_by_parameter_names_each_by_its_layer() -> None:
    net, loss = deep_loss()
    s = BackwardSession(loss)
    s.finish()
    f = flow(s, by="param", model=net)
    assert f.model == "Deep" and f.waiting == 0
    labels = [b.label for b in f.bars]
    assert labels[:4] == ["layers.7.weight", "layers.7.bias", "layers.6.weight", "layers.6.bias"]
    assert labels[-1] == "layers.0.bias" and len(labels) == 16
    assert f.bars[0].group == "layers.7"
    w = net.layers[0].weight
    bar = next(b for b in f.bars if b.id == w.id)
    assert bar.mean_abs == pytest.approx(float(np.abs(w.grad.astype(np.float64)).mean()))
    assert Flow.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    unnamed = flow(s, by="param")
    assert unnamed.model is None and unnamed.bars[0].label == f"#{net.layers[7].bias.id} leaf"


def test_flow_by_parameter_shows_this_walks_grads_as_they_complete() -> None:
    net, loss = deep_loss()
    for p in net.parameters():
        p.grad = np.full_like(p.data, 1e6)  # an earlier walk's grads, never zeroed
    s = BackwardSession(loss)
    s.step()
    assert flow(s, by="param", model=net).bars == ()  # no parameter complete yet
    while s.current is not None and not flow(s, by="param", model=net).bars:
        s.step()
    partial = flow(s, by="param", model=net)
    assert [b.label for b in partial.bars] == ["layers.7.bias"]  # the Add ran, not yet the Dot
    assert partial.waiting == 15
    s.finish()
    for b in flow(s, by="param", model=net).bars:
        assert b.max_abs < 1e3  # the walk's own grads, not the 1e6 the parameters still hold


def test_flow_on_a_plain_backward_graph() -> None:
    net, loss = deep_loss()
    loss.backward()
    f = flow(Graph(loss))
    assert f.position is None and len(f.bars) == len(Graph(loss).nodes)
    by_param = flow(Graph(loss), by="param", model=net)
    assert len(by_param.bars) == 16
    with pytest.raises(ValueError, match="by must be"):
        flow(Graph(loss), by="layer")


def test_sigmoid_network_grads_fall_monotonically_by_layer() -> None:
    net, loss = deep_loss(depth=12)
    s = BackwardSession(loss)
    s.finish()
    bars = flow(s, by="param", model=net).bars
    weights = [b.mean_abs for b in bars if b.label.endswith(".weight")]
    assert len(weights) == 12
    assert all(a > b for a, b in pairwise(weights))
    assert weights[0] / weights[-1] > 1e3


def test_dead_relus_and_nonfinite_grads_are_named() -> None:
    net, loss = deep_loss("relu", bias=-1.0)
    s = BackwardSession(loss)
    s.finish()
    f = flow(s)
    dead = [b for b in f.bars if b.max_abs == 0]
    assert dead and f.words[-1].startswith(f"{len(dead)} nodes got all-zero grads (first ")
    assert f.words[-1].endswith("— dead ReLUs?")
    params = flow(s, by="param", model=net)
    assert "so they will not learn" in params.words[-1]
    relu = next(r for r in s.nodes if r.op == "ReLU")
    shown = charts.pictures(s, relu.id)
    assert "all zeros — a dead ReLU" in shown

    x = Tensor(np.array([1.0, 0.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        s = BackwardSession((x * 1.0).log().sum())
        s.finish()
    f = flow(s)
    (bar,) = [b for b in f.bars if b.nonfinite]  # the grad Log passed to the Mul
    assert bar.nonfinite == 1 and bar.label.endswith("Mul") and bar.max_abs == 1.0
    assert "nonfinite" in next(b for b in f.bars if b.op == "Log").flags
    assert f.words[-1] == f"NaN or Inf in the grads of 1 node (first {bar.label})"
    assert "1 NaN/Inf" in charts.flow(f)


def test_the_root_seed_is_no_fall_of_grads() -> None:
    x = Tensor(np.random.default_rng(7).standard_normal(10**4), requires_grad=True)
    s = BackwardSession((x * 2).mean())  # the mean's grad is 1e-4 of the seed's
    s.finish()
    assert flow(s).words == ()


# ---- flow: the drawing -------------------------------------------------------------------------


def test_flow_chart_fits_80_columns_with_a_log_axis_in_unicode_and_ascii() -> None:
    net, loss = deep_loss()
    s = BackwardSession(loss)
    s.finish()
    for f in (flow(s), flow(s, by="param", model=net)):
        text = charts.flow(f, name="loss")
        lines_fit(text)
        lines = text.splitlines()
        assert lines[0].startswith("grad flow per ") and "loss (#" in lines[0]
        assert f"step {len(s.nodes)}/{len(s.nodes)}" in lines[0]
        assert "log scale" in lines[1] and "1e-" in lines[2] and lines[2].endswith("mean     max")
        rows = lines[3 : 3 + len(f.bars)]
        assert all("█" in r for r in rows)
        # a longer bar for a mean |grad| ten times bigger
        for (ra, a), (rb, b) in pairwise(zip(rows, f.bars)):
            if a.mean_abs > 10 * b.mean_abs:
                assert ra.count("█") > rb.count("█")
        ascii = charts.flow(f, name="loss", ascii=True)
        assert ascii.isascii() and ascii == to_ascii(text)
        assert [len(t) for t in ascii.splitlines()] == [len(t) for t in lines]
    node_text = charts.flow(flow(s))
    row = next(t for t in node_text.splitlines() if t.startswith(s.nodes[3].label + " "))
    assert row.split()[2] == "~" + where_text(s.nodes[3].where)[-15:]  # its line, cut at the left
    param_text = charts.flow(flow(s, by="param", model=net)).splitlines()
    assert param_text[3].startswith("layers.7 weight ") and param_text[4].startswith("  ")


def test_flow_chart_labels_make_room_for_bars_of_30_cells() -> None:
    """The user's line, cut at the left, gives way first (down to ``~ients.py:25``): in a pane
    75 columns wide the bars still get 30 cells."""
    _, loss = deep_loss()
    s = BackwardSession(loss)
    s.finish()
    f = flow(s)
    for width in (80, 75):
        lines = charts.flow(f, width=width).splitlines()
        lines_fit("\n".join(lines), width)
        bars = [re.findall("[█·]+", line) for line in lines[3 : 3 + len(f.bars)]]
        assert max(len(b[0]) for b in bars if b) >= 30
        first = lines[3].split()  # ['#45', 'Mean', '~ictures.py:226', ...]: its line kept
        assert first[2].startswith("~") and first[2].endswith(where_text(f.bars[0].where)[-6:])


def test_flow_chart_cuts_long_walks_and_says_what_waits() -> None:
    x = Tensor(np.ones(4), requires_grad=True)
    y = x
    for _ in range(200):
        y = y * 1.01
    s = BackwardSession(y.sum())
    assert "no grads yet" in charts.flow(flow(s))
    for _ in range(150):
        s.step()
    text = charts.flow(flow(s), max_rows=20)
    assert "… 131 more rows" in text and "50 more nodes get their grads" in text
    assert len(text.splitlines()) < 30


def test_details_show_the_pictures_before_the_source() -> None:
    _, loss = deep_loss()
    s = BackwardSession(loss)
    s.step()
    s.step()
    sub = s.current
    text = render.detail(s, sub.id, pictures=True)
    assert "── pictures ──" in text and text.index("── pictures ──") < text.index("── backward")
    assert "  out  (32, 16) float32" in text and "  grad received  (32, 16)" in text
    assert "grad to parent" not in text  # not run yet
    s.step()
    text = render.detail(s, sub.id, pictures=True)
    assert "grad to parent 0 (#" in text
    lines_fit(text.split("── backward")[0])
    assert "── pictures ──" not in render.detail(s, sub.id)
    s.finish()
    weight = next(leaf for leaf in s.leaves if leaf.requires_grad)
    leaf = render.detail(s, weight.id, pictures=True)
    assert "  values  " in leaf and "\n  grad  (16,) float32 · 16 values\n" in leaf
