"""viz on a 50,000-node graph: refused, folded by scope, or cut to a neighbourhood, never hung.

The network is made by hand with `autograd.scope` (viz must not depend on nn): 50 inputs, a
layer of 400 ReLU neurons and a layer of 12, and loss = the sum of the squared outputs.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Sequence

import pytest

import autograd as ag
from autograd import Value
from viz import DEFAULT_MAX_NODES, GraphTooLarge, draw_graph, to_dot


def network(n_inputs: int, widths: Sequence[int]) -> tuple[Value, list[Value]]:
    """Dense ReLU layers "dense1", "dense2", ..., each neuron in a scope "neuron j" of its own."""
    rng = random.Random(0)
    xs = [Value(rng.uniform(-1, 1), f"x{j}") for j in range(n_inputs)]
    inputs = list(xs)
    for li, width in enumerate(widths, start=1):
        outs = []
        with ag.scope(f"dense{li}"):
            for n in range(width):
                ws = [Value(rng.uniform(-1, 1), f"w{li}.{n}.{j}") for j in range(len(xs))]
                b = Value(0.1, f"b{li}.{n}")
                with ag.scope(f"neuron {n}"):
                    z = ag.sum([*(w * x for w, x in zip(ws, xs)), b])
                    outs.append(z.relu())
        xs = outs
    loss = ag.sum([o.square() for o in xs])
    loss.label = "loss"
    loss.backward()
    return loss, inputs


# Nodes per neuron: its weights, their products, the bias, the sum and the relu.
N_BIG = 50 + 400 * (50 + 50 + 3) + 12 * (400 + 400 + 3) + 12 + 1


@pytest.fixture(scope="module")
def big() -> tuple[Value, list[Value]]:
    loss, inputs = network(50, [400, 12])
    assert len(ag.topological_order(loss)) == N_BIG > 50_000
    return loss, inputs


def boxes(dot: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(r"^\t*(g\d+) \[.*?label=<(.*)>\]$", dot, flags=re.M)}


def svg_node_count(dot: str) -> int:
    run = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.count(b'class="node"')


def test_the_default_refuses_at_once_and_names_both_ways_out(
    big: tuple[Value, list[Value]],
) -> None:
    loss, _ = big
    with pytest.raises(GraphTooLarge) as e:
        draw_graph(loss)
    message = str(e.value)
    assert f"the graph has more than max_nodes={DEFAULT_MAX_NODES} nodes" in message
    assert "collapse='layer'" in message and "focus=" in message


class CountingValue(Value):
    """A node that counts how often a walk reads its operands, to see how far the walk went."""

    __slots__ = ()
    reads = 0

    @property
    def parents(self) -> tuple[Value, ...]:
        CountingValue.reads += 1
        return super().parents


def test_a_refusal_stops_counting_past_the_limit_and_changes_nothing() -> None:
    # 200,000 nodes, each with a constant operand: drawn, each constant would be a leaf.
    h: Value = CountingValue(0.5, "x")
    for _ in range(200_000):
        node = CountingValue(h.data * 1.0001)  # a leaf, made a mul node as the engine makes one
        node._rule, node._a, node._b = ag.OPS["mul"], h, 1.0001
        h = node
    before = ag.topological_order(h)
    assert len(before) == 200_001
    CountingValue.reads = 0
    with pytest.raises(GraphTooLarge, match=f"more than max_nodes={DEFAULT_MAX_NODES} nodes"):
        to_dot(h)
    # Each node counts itself and its constant, so 501 nodes pass the limit of 1,000.
    assert 0 < CountingValue.reads <= DEFAULT_MAX_NODES // 2 + 1
    # Not one constant became a node: the same nodes in the same order.
    after = ag.topological_order(h)
    assert len(after) == len(before) and all(v is w for v, w in zip(after, before))


def test_a_refusal_leaves_an_ordinary_graph_with_constants_as_it_was() -> None:
    x = Value(0.5, "x")
    h = x
    for _ in range(100_000):
        h = h * 1.0001 + 0.5
    before = ag.topological_order(h)
    with pytest.raises(GraphTooLarge):
        to_dot(h)
    with pytest.raises(GraphTooLarge):
        draw_graph([h, x])
    after = ag.topological_order(h)
    assert len(after) == len(before) == 200_001
    assert all(v is w for v, w in zip(after, before))
    h.backward()
    assert x.grad == pytest.approx(1.0001**100_000, rel=1e-9)


def test_collapse_by_layer_draws_two_counted_boxes(big: tuple[Value, list[Value]]) -> None:
    loss, inputs = big
    dot = to_dot(loss, collapse="layer")
    found = boxes(dot)
    assert len(found) == 2
    dense1, dense2 = found.values()
    # dense1 holds 400 neurons' 20,000 products, sums and relus, and owns their 20,400
    # weights and biases plus the 50 inputs (nothing else uses them).
    assert (
        "<B>dense1</B>" in dense1
        and "41250 nodes: 20000 mul &#183; 400 relu &#183; 400 sum" in dense1
    )
    assert "20450 leaves" in dense1 and "400 outputs" in dense1
    assert "9636 nodes: 4800 mul &#183; 12 relu &#183; 12 sum" in dense2 and "12 outputs" in dense2
    assert "\tg0 -> g1 [style=bold label=<4800 edges>]" in dot
    # What is left outside the scopes: 12 squares and the loss, each a box and an ellipse,
    # and the factor x1 on each square's arrow into the loss, a text node on that arrow.
    assert len(re.findall(r"^\tv\d+ \[", dot, flags=re.M)) == 13
    assert len(re.findall(r"^\tv\d+_x\d+ \[.*label=<&#215;1>", dot, flags=re.M)) == 12
    assert svg_node_count(dot) == 2 + 13 * 2 + 12 + 1
    # Highlighting an input keeps it out of its box and lights the boxes on its paths.
    lit = to_dot(loss, collapse="layer", highlight=inputs[0])
    assert re.search(r"^\tv\d+ \[.*#7b3294.*<B>x0</B>", lit, flags=re.M)
    assert lit.count('\tg0 -> g1 [style=bold label=<4800 edges> color="#7b3294"') == 1
    assert re.search(r"&#8706;loss/&#8706;x0 = \S+: the sum over 4,800 paths", lit)


def test_collapse_by_neuron_is_refused_when_its_arrows_would_hang_dot(
    big: tuple[Value, list[Value]],
) -> None:
    loss, _ = big
    # 400 x 12 from neuron to neuron, 400 from the shared inputs, 12 into the squares, and the
    # 12 + 12 + 1 arrows of the squares and the loss.
    with pytest.raises(GraphTooLarge, match="draws 5237 arrows between its boxes") as e:
        to_dot(loss, collapse="neuron")
    assert "collapse='layer'" in str(e.value) and "focus=" in str(e.value)


def test_collapse_by_neuron_on_a_smaller_network_draws_one_box_per_neuron() -> None:
    loss, _ = network(20, [64, 3])
    dot = to_dot(loss, collapse="neuron")
    found = boxes(dot)
    neurons = [b for b in found.values() if "neuron" in b]
    assert len(neurons) == 64 + 3
    assert len(found) == 64 + 3 + 1  # and one box for the 20 inputs that every neuron shares
    assert sum("<B>20 leaves</B>" in b for b in found.values()) == 1
    # Each neuron of the first layer: 20 products, the sum and the relu, 20 weights, the bias.
    first = [b for b in neurons if "20 mul" in b]
    assert len(first) == 64
    assert all("43 nodes: 20 mul &#183; 1 relu &#183; 1 sum" in b for b in first)
    assert all("21 leaves (weights, constants)" in b for b in first)
    assert dot.count("subgraph cluster_") == 2  # each layer frames its neuron boxes
    # Boxes, 3 squares and the loss (box and ellipse each), 3 factors into the loss, legend.
    assert svg_node_count(dot) == 68 + 3 * 2 + 1 * 2 + 3 + 1


def test_focus_draws_a_neighbourhood_of_the_big_graph(big: tuple[Value, list[Value]]) -> None:
    loss, inputs = big
    z = next(v for v in ag.topological_order(loss) if v.op == "sum")  # neuron 0's w.x + b
    dot = to_dot(loss, focus=z, depth=1, fan=60)
    shown = re.findall(r"^\t*(v\d+) \[", dot, flags=re.M)
    # z, its 50 products and bias, and its one user, the relu.
    assert len(shown) == 1 + 51 + 1
    assert dot.count("2 more operands") == 50 and "12 more users" in dot
    assert svg_node_count(dot) > 2 * 53
    # With the default fan of 24, z shows its first 24 operands and counts the other 27.
    dot = to_dot(loss, focus=z, depth=1)
    assert len(re.findall(r"^\t*(v\d+) \[", dot, flags=re.M)) == 1 + 24 + 1
    assert "&#8230; 27 more operands" in dot
    assert re.search(r"showing the 26 of \d{1,3}(,\d{3})+ nodes within 1 step of ", dot)
    # A shared input reaches every neuron of the first layer within one step.
    dot = to_dot(loss, focus=inputs[0], depth=1, fan=400)
    assert len(re.findall(r"^\t*v\d+ \[", dot, flags=re.M)) == 401
    with pytest.raises(GraphTooLarge, match="with depth=2 still reaches .* use a smaller depth"):
        to_dot(loss, focus=inputs[0], depth=2, fan=400)


def test_a_highlight_with_more_paths_than_python_can_print_shows_their_size() -> None:
    x = Value(0.3, "x")
    h = x
    with ag.scope("doubling"):
        for _ in range(15_000):
            h = (h + h) * 0.5  # two paths per level, d/dh = 1
    h.label = "h"
    h.backward()
    dot = to_dot(h, collapse="neuron", highlight=x)
    legend = re.search(r"^\tlegend \[.*$", dot, flags=re.M)
    assert legend is not None
    assert (
        "&#8706;h/&#8706;x = 1: the sum over 2^15000 (about 2.8e+4515) paths of the product"
        in legend[0]
    )
    # x; h, its op and its constant 0.5 (a leaf of no scope); the folded chain; the legend.
    assert svg_node_count(dot) == 1 + 3 + 1 + 1
