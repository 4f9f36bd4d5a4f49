"""micrograd's published checks and demo, run on chainrule with only the import lines changed.

micrograd (github.com/karpathy/micrograd, commit c911406) publishes two engine checks against
PyTorch in test/test_engine.py, and a training run in demo.ipynb whose printed losses are its
record. These tests restate both in our own words, using the same calls a micrograd user
writes: `Value`, `+= `, `relu()`, `backward()`, `MLP(2, [16, 16, 1])`, `parameters()`,
`zero_grad()`, `p.data -= lr * p.grad`.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from graphviz import Digraph
from sklearn.datasets import make_moons  # demo.ipynb's own import

# The only lines that differ from micrograd: its `from micrograd.engine import Value`,
# `from micrograd.nn import MLP` and `from micrograd import nn`, and a drawing's import.
import nn
from autograd import Value
from nn import MLP
from viz import draw_dot


def test_sanity_expression_matches_torch() -> None:
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    # PyTorch float64 on the same expression prints y = -20.0 and dy/dx = 46.0; by hand,
    # z = -10, q = 40, h = 100, y = h + q (1 + x) = -20 and dy/dx = 46. Exact in floats.
    assert y.data == -20.0
    assert x.grad == 46.0


def test_more_ops_expression_matches_torch() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    # torch 2.13 (the dev pin) in float64 on the same expression, printed with repr. micrograd
    # allows 1e-6; we allow a few ulp: a.grad collects its three paths in another order than
    # torch's and lands 1 ulp away (138.8338192419825).
    assert g.data == pytest.approx(24.70408163265306, rel=1e-15)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-15)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-15)


def demo_moons() -> tuple[np.ndarray, np.ndarray]:
    """demo.ipynb's data: make_moons(n_samples=100, noise=0.1) drawn after np.random.seed(1337)."""
    return make_moons(n_samples=100, noise=0.1, random_state=1337)


def test_demo_moons_are_the_data_micrograds_demo_draws_from_numpys_global_seed() -> None:
    state = np.random.get_state()
    try:
        np.random.seed(1337)  # demo.ipynb's first cell, then its make_moons call, as written
        X, y = make_moons(n_samples=100, noise=0.1)
    finally:
        np.random.set_state(state)
    ours_X, ours_y = demo_moons()
    assert np.array_equal(ours_X, X) and np.array_equal(ours_y, y)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [50, 50]


# demo.ipynb's printed record, steps 0 to 40: "step k loss L, accuracy A%".
DEMO_LOSSES = [
    0.8958441028683222, 1.7235905336972022, 0.7429006313851131, 0.7705641260584198,
    0.3692793385976538, 0.313545481918522, 0.2814234349772435, 0.26888733313983904,
    0.2567147286057417, 0.2704862551637922, 0.24507023853658053, 0.2509905529791503,
    0.21560951851922952, 0.23090378446402726, 0.20152151227899445, 0.22574506279282217,
    0.19447987596204114, 0.21089496199246363, 0.159830773563036, 0.1845374874688392,
    0.18977522856087634, 0.19072704042579647, 0.11733695088756485, 0.12173524408232454,
    0.1261571261277045, 0.16049097780801674, 0.18747197705245805, 0.16741837891059408,
    0.09586583491455399, 0.0877878370742091, 0.11731297569011848, 0.09340146460619836,
    0.12454454903103446, 0.07984002652777272, 0.07727519232921673, 0.07661250143094483,
    0.10610492379198365, 0.09062808429265976, 0.10671887043036932, 0.05225659921975849,
    0.06016009895234464,
]  # fmt: skip
DEMO_ACCURACIES = [
    50, 81, 77, 82, 84, 86, 89, 91, 91, 91, 91, 92, 91, 93, 92, 93, 92, 93, 94, 93, 91,
    93, 97, 95, 95, 95, 92, 95, 97, 96, 95, 97, 95, 97, 97, 98, 96, 99, 95, 98, 100,
]  # fmt: skip


def test_demo_recipe_follows_micrograds_printed_training_run() -> None:
    random.seed(1337)
    X, y = demo_moons()
    y = y * 2 - 1  # labels -1 and 1, numpy ints as in the demo

    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337

    def loss() -> tuple[Value, float]:
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]  # hinge
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())  # L2
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    for k, (printed_loss, printed_accuracy) in enumerate(zip(DEMO_LOSSES, DEMO_ACCURACIES)):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        # A neuron here adds w . x before b, micrograd adds b first: sums rounded in another
        # order. Re-running micrograd itself today differs from its printout by ~1e-15, too.
        assert total_loss.data == pytest.approx(printed_loss, rel=1e-12), f"step {k}"
        assert acc * 100 == printed_accuracy, f"step {k}"
    assert acc == 1.0


# trace_graph.ipynb draws a graph with its own function: a walk over `_prev`, then one record
# box per value ("data | grad") and one small node per `_op`. Restated here with those reads.


def trace(root: Value) -> tuple[set[Value], set[tuple[Value, Value]]]:
    nodes, edges = set(), set()

    def build(v: Value) -> None:
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def micrograd_style_draw_dot(root: Value) -> Digraph:
    nodes, edges = trace(root)
    dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        dot.node(
            name=uid,
            label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad),  # noqa: UP031 - as the notebook writes it
            shape="record",
        )
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def test_trace_graph_draw_dot_walks_prev_and_op_and_renders() -> None:
    x = Value(1.0, label="x")
    y = (x * 2 + 1).relu()
    y.backward()
    nodes, edges = trace(y)
    # x, the constants 2 and 1, x * 2, x * 2 + 1 and the relu: micrograd's six values too.
    assert len(nodes) == 6 and len(edges) == 5
    assert sorted(n._op for n in nodes) == ["", "", "", "add", "mul", "relu"]
    assert x.grad == 2.0 and y.data == 3.0
    svg = micrograd_style_draw_dot(y).pipe(format="svg").decode()
    assert svg.count('class="node"') == 6 + 3  # a box per value, a node per op
    assert svg.count('class="edge"') == 5 + 3
    assert "data 3.0000" in svg and "grad 2.0000" in svg


def test_trace_graph_neuron_example_matches_micrograds_seeded_weights() -> None:
    random.seed(1337)
    n = nn.Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()
    random.seed(1337)
    w = [random.uniform(-1, 1), random.uniform(-1, 1)]  # micrograd's Neuron(2) draws these
    assert [wi.data for wi in n.w] == w and n.b.data == 0.0
    assert y.data == max(w[0] * 1.0 + w[1] * -2.0, 0.0)
    nodes, edges = trace(y)
    assert len(nodes) == 7 and len(edges) == 6  # w0, w1, x0, x1, b, one dot node, the relu
    assert micrograd_style_draw_dot(y).pipe(format="svg").startswith(b"<?xml")
    assert draw_dot(y).pipe(format="svg").count(b"grad") >= 7  # ours, under micrograd's name
