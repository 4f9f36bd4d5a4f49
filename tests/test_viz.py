"""viz without Graphviz: what the DOT text says about a graph (nodes, edges, numbers, paths)."""

from __future__ import annotations

import dataclasses
import html
import math
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value
from autograd.names import node_name
from viz import DEFAULT_MAX_NODES, GraphTooLarge, draw_graph, render, step_through, to_dot
from viz.dot import write
from viz.options import DrawOptions
from viz.scene import build_scene
from viz.style import NEGATIVE, NOT_A_NUMBER, POSITIVE, ZERO, html_text
from viz.walk import walk

# ---- reading the DOT back: every statement sits on a line of its own -------------------------

NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")


def parse(dot: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Node id -> attributes, and (tail, head, attributes) for every edge, in order."""
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    for line in dot.splitlines():
        if m := EDGE.match(line):
            edges.append((m[1], m[2], m[3] or ""))
        elif (m := NODE.match(line)) and m[1] not in ("graph", "node", "edge"):
            assert m[1] not in nodes, f"node {m[1]} written twice"
            nodes[m[1]] = m[2]
    return nodes, edges


def text(attrs: str) -> str:
    """The visible text of an HTML-like label, lines joined by newlines."""
    m = re.search(r"label=<(.*)>", attrs)
    assert m, attrs
    body = re.sub(r"<BR/>|</TR>", "\n", m[1])
    # Graphviz reads a doubled backslash as one (see viz.style).
    return html.unescape(re.sub(r"<[^>]*>", "", body)).replace("\\\\", "\\").strip()


def values(nodes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in nodes.items() if re.fullmatch(r"v\d+", k)}


def ops(nodes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in nodes.items() if re.fullmatch(r"v\d+_op", k)}


def node_of(nodes: dict[str, str], label: str) -> str:
    """The id of the value node whose first line is `label`."""
    found = [k for k, a in values(nodes).items() if text(a).split("\n")[0] == label]
    assert len(found) == 1, (label, found)
    return found[0]


# ---- the seed's examples, built with the engine -----------------------------------------------


def seed_neuron() -> tuple[Value, list[Value], list[Value], Value]:
    """Seed cell 3: loss = relu(w0 x0 + w1 x1 + w2 x2 + b)^2, after backward()."""
    w = [Value(v, f"w{i}") for i, v in enumerate([-3.0, -1.0, 2.0])]
    x = [Value(v, f"x{i}") for i, v in enumerate([1.0, -2.0, 3.0])]
    b = Value(1.0, "b")
    products = [wi * xi for wi, xi in zip(w, x)]
    for i, p in enumerate(products):
        p.label = f"w{i}*x{i}"
    z = ag.sum([*products, b])
    z.label = "z"
    a = z.relu()
    a.label = "relu(z)"
    loss = a.square()
    loss.label = "loss"
    loss.backward()
    return loss, w, x, b


def seed_layer() -> tuple[Value, list[list[Value]], list[Value]]:
    """Seed cells 6 and 9: loss = (sum_i relu(W_i . X + B_i))^2, each neuron in a scope."""
    X = [Value(v, f"x{n}") for n, v in enumerate([1.0, 2.0, 3.0, 4.0], start=1)]
    rows = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2]]
    W = [[Value(v, f"w{i}{n}") for n, v in enumerate(r, 1)] for i, r in enumerate(rows, 1)]
    B = [Value(v, f"b{i}") for i, v in enumerate([0.1, 0.2, 0.3], start=1)]
    A = []
    with ag.scope("layer"):
        for i, (w_i, b_i) in enumerate(zip(W, B), start=1):
            with ag.scope(f"neuron {i}"):
                a = ag.sum([*(w * x for w, x in zip(w_i, X)), b_i]).relu()
                a.label = f"a{i}"
            A.append(a)
    y = ag.sum(A)
    y.label = "y"
    loss = y.square()
    loss.label = "loss"
    loss.backward()
    return loss, W, X


# ---- structure ---------------------------------------------------------------------------------


def test_neuron_has_one_box_per_value_one_ellipse_per_op_and_one_edge_per_operand() -> None:
    loss, *_ = seed_neuron()
    nodes, edges = parse(to_dot(loss))
    # 13 Values: w0..w2, x0..x2, three products, b, z, relu(z), loss; 6 ops made them.
    assert len(values(nodes)) == 13
    assert sorted(text(a) for a in ops(nodes).values()) == [
        "mul",
        "mul",
        "mul",
        "relu",
        "square",
        "sum",
    ]
    operand_edges = [e for e in edges if e[1].endswith("_op")]
    result_edges = [e for e in edges if not e[1].endswith("_op")]
    assert len(operand_edges) == 3 * 2 + 4 + 1 + 1
    assert len(result_edges) == 6
    assert sorted(t for t, h, _ in result_edges if t == h + "_op") == sorted(ops(nodes))
    assert "legend" in nodes


def test_edges_run_from_operands_in_operand_order() -> None:
    a, b = Value(5.0, "a"), Value(3.0, "b")
    d = b - a  # one sub node; b is operand 0, a is operand 1
    d.label = "d"
    d.backward()
    nodes, edges = parse(to_dot(d))
    into_sub = [(t, text(x)) for t, h, x in edges if h == node_of(nodes, "d") + "_op"]
    assert into_sub == [(node_of(nodes, "b"), "×1"), (node_of(nodes, "a"), "×-1")]


def test_labels_carry_data_and_grad_at_the_stated_precision() -> None:
    loss, w, x, b = seed_neuron()
    nodes, _ = parse(to_dot(loss))
    assert text(nodes[node_of(nodes, "w1")]).split("\n") == ["w1", "data -1", "grad -24"]
    assert text(nodes[node_of(nodes, "loss")]).split("\n") == ["loss", "data 36", "grad 1"]
    nodes, _ = parse(to_dot(loss, fmt="{:.3f}"))
    assert text(nodes[node_of(nodes, "w2")]).split("\n") == ["w2", "data 2.000", "grad 36.000"]
    third = Value(1.0, "t") / 3.0
    third.label = "third"
    third.backward()
    nodes, _ = parse(to_dot(third))
    assert text(nodes[node_of(nodes, "third")]).split("\n") == ["third", "data 0.3333", "grad 1"]
    nodes, _ = parse(to_dot(third, fmt=lambda v: f"{v:.2e}"))
    assert text(nodes[node_of(nodes, "t")]).split("\n") == ["t", "data 1.00e+00", "grad 3.33e-01"]


def test_show_data_and_show_grad_choose_the_numbers() -> None:
    loss, *_ = seed_neuron()
    nodes, _ = parse(to_dot(loss, show_data=False))
    assert text(nodes[node_of(nodes, "w0")]).split("\n") == ["w0", "grad 12"]
    nodes, _ = parse(to_dot(loss, show_grad=False))
    assert text(nodes[node_of(nodes, "w0")]).split("\n") == ["w0", "data -3"]
    # Without grads there is nothing to colour: every box is white.
    assert all(f'fillcolor="{ZERO}"' in a for a in values(nodes).values())


def test_edge_labels_are_the_local_derivatives_and_flow_adds_what_backward_passes() -> None:
    loss, w, x, b = seed_neuron()
    nodes, edges = parse(to_dot(loss, flow=True))
    label = {(t, h): text(a) for t, h, a in edges if "label" in a}
    mul0 = node_of(nodes, "w0*x0") + "_op"
    # d(w0 x0)/d w0 = x0 = 1 and d/dx0 = w0 = -3; the product's grad is 12.
    assert label[(node_of(nodes, "w0"), mul0)] == "×1 (12)"
    assert label[(node_of(nodes, "x0"), mul0)] == "×-3 (-36)"
    # d loss / d relu = 2 * relu(z) = 12, the seed's first factor.
    assert label[(node_of(nodes, "relu(z)"), node_of(nodes, "loss") + "_op")] == "×12 (12)"
    nodes, edges = parse(to_dot(loss, edge_labels=False))
    assert all("label" not in a for _, h, a in edges if h.endswith("_op"))


def test_edge_labels_use_the_rule_a_node_was_built_with() -> None:
    twice = ag.defop("viz_scaled", lambda a: 2.0 * a, lambda out, a: (2.0,))
    x = Value(1.5, "x")
    y = twice(x)
    y.label = "y"
    y.backward()
    ag.unregister("viz_scaled")
    ag.defop("viz_scaled", lambda a: 3.0 * a, lambda out, a: (3.0,))  # same name, new rule
    try:
        nodes, edges = parse(to_dot(y, highlight=x))
    finally:
        ag.unregister("viz_scaled")
    assert ("v0", "v1_op") in [(t, h) for t, h, _ in edges]
    assert [a for t, h, a in edges if h == "v1_op"][0].startswith("label=<<B>&#215;2</B>>")
    assert "∂y/∂x = 2 = 2" in text(nodes["legend"]) and x.grad == 2.0


def test_a_repeated_operand_gets_one_edge_per_slot() -> None:
    x = Value(3.0, "x")
    y = x * x
    y.label = "y"
    y.backward()
    nodes, edges = parse(to_dot(y))
    into = [
        text(a) for t, h, a in edges if (t, h) == (node_of(nodes, "x"), node_of(nodes, "y") + "_op")
    ]
    assert into == ["×3", "×3"]
    assert text(nodes[node_of(nodes, "x")]).endswith("grad 6")


def test_a_constant_is_a_small_box_with_its_number_only() -> None:
    x = Value(4.0, "x")
    y = ag.sum([x * 2.5, x**3]).tanh()
    y.label = "y"
    y.backward()
    nodes, edges = parse(to_dot(y))
    assert len(values(nodes)) == 7  # x, 2.5, 3, the product, the power, the sum, y
    constants = {k: a for k, a in values(nodes).items() if text(a) in ("2.5", "3")}
    assert sorted(text(a) for a in constants.values()) == ["2.5", "3"]  # no label, no grad line
    for k, attrs in constants.items():
        assert 'fillcolor="#f7f7f7"' in attrs and "fontsize=10" in attrs
        # Backward passes nothing into a constant: its arrow carries no factor.
        (into,) = [a for t, h, a in edges if t == k]
        assert "label" not in into
    # x's arrows keep theirs: d(x * 2.5)/dx = 2.5 and d(x ** 3)/dx = 3 x^2 = 48.
    assert sorted(text(a) for t, h, a in edges if t == node_of(nodes, "x")) == ["×2.5", "×48"]
    assert "a constant, the 2 in x * 2" in text(nodes["legend"])
    # A drawing without constants says nothing about them.
    assert "a constant" not in text(parse(to_dot(x.exp()))[0]["legend"])


def test_several_roots_share_one_drawing() -> None:
    x = Value(2.0, "x")
    f, g = x.exp(), x.log()
    nodes, edges = parse(to_dot([f, g]))
    assert len(values(nodes)) == 3 and len(ops(nodes)) == 2
    assert "&#8706;roots/&#8706;value" in to_dot([f, g])


# ---- highlight: the seed's chain of factors ------------------------------------------------------


def highlighted(edges: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(t, h, text(a) if "label" in a else "") for t, h, a in edges if "#7b3294" in a]


def test_highlight_marks_the_seeds_chain_for_w0_with_its_factors() -> None:
    loss, w, x, b = seed_neuron()
    dot = to_dot(loss, highlight=w[0], edge_labels=False)
    nodes, edges = parse(dot)
    n = {label: node_of(nodes, label) for label in ("w0", "w0*x0", "z", "relu(z)", "loss")}
    # d loss/d w0 = d loss/d relu * d relu/d z * d z/d (w0 x0) * d (w0 x0)/d w0 = 12 * 1 * 1 * 1.
    assert highlighted(edges) == [
        (f"{n['w0*x0']}_op", n["w0*x0"], ""),
        (n["w0"], f"{n['w0*x0']}_op", "×1"),
        (f"{n['z']}_op", n["z"], ""),
        (n["w0*x0"], f"{n['z']}_op", "×1"),
        (f"{n['relu(z)']}_op", n["relu(z)"], ""),
        (n["z"], f"{n['relu(z)']}_op", "×1"),
        (f"{n['loss']}_op", n["loss"], ""),
        (n["relu(z)"], f"{n['loss']}_op", "×12"),
    ]
    lit = {k for k, a in values(nodes).items() if "#7b3294" in a}
    assert lit == set(n.values())
    legend = text(nodes["legend"])
    # The legend writes the chain as autograd.explain does: d loss/d relu = 2·relu(z) = 2·6.
    assert "∂loss/∂w0 = 2·6 × 1 × 1 × 1 = 12" in legend
    assert "grad shown on w0: 12" in legend


def test_highlight_of_a_shared_input_lists_every_path() -> None:
    loss, W, X = seed_layer()
    nodes, edges = parse(to_dot(loss, highlight=X[1], fmt="{:.6g}"))
    legend = text(nodes["legend"])
    # Seed cell 10: d l / d x2 = sum_i d l/d z_i * w_i2 = 43.2 * (0.2 + 0.6 + 1.0) = 77.76.
    assert "∂loss/∂x2 = the sum over 3 paths:" in legend
    for w_i2, product in ((0.2, "8.64"), (0.6, "25.92"), (1, "43.2")):
        assert f"2·21.6 × 1 × 1 × 1 × {w_i2:g} = {product}" in legend
    assert "total 77.76" in legend and "grad shown on x2: 77.76" in legend
    assert X[1].grad == pytest.approx(77.76)
    # Three mul edges out of x2, three sums, three relus, the y sum and the square.
    assert len([e for e in highlighted(edges) if e[1].endswith("_op")]) == 3 + 3 + 3 + 3 + 1


def test_highlight_with_many_paths_says_so_instead_of_listing_them() -> None:
    x = Value(1.5, "x")
    y = x
    for _ in range(3):  # each step triples the number of paths: 27 in all
        y = y * y + y
    y.label = "y"
    y.backward()
    legend = text(parse(to_dot(y, highlight=x))[0]["legend"])
    assert f"∂y/∂x = {x.grad:.4g}: the sum over 27 paths of the product" in legend


def test_highlight_must_be_in_the_graph() -> None:
    loss, *_ = seed_neuron()
    with pytest.raises(ValueError, match="highlight=.*not a node of the graph"):
        to_dot(loss, highlight=Value(1.0))
    with pytest.raises(TypeError, match="highlight= must be a Value"):
        to_dot(loss, highlight=1.0)  # type: ignore[arg-type]


def build(ops_seq: list[tuple[int, int, int]]) -> tuple[Value, list[Value]]:
    """A small random DAG: each step combines two earlier nodes with add, mul, sub or tanh."""
    leaves = [Value(v, f"l{i}") for i, v in enumerate([0.5, -1.25, 2.0])]
    nodes = list(leaves)
    for kind, i, j in ops_seq:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append([a + b, a * b, a - b, (a * 0.5).tanh()][kind])
    return nodes[-1], leaves


@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=7
    )
)
def test_the_highlight_is_explains_paths_and_they_multiply_out_to_the_gradient(
    steps: list[tuple[int, int, int]],
) -> None:
    root, leaves = build(steps)
    root.label = "r"
    root.backward()
    number = walk(root).index
    for leaf in leaves:
        if leaf not in number:
            continue
        nodes, edges = parse(to_dot(root, highlight=leaf, fmt="{!r}"))
        # The purple edges are exactly the edges on autograd.explain's paths, repeats included.
        lit = sorted((t, h) for t, h, a in edges if "#7b3294" in a and h.endswith("_op"))
        on_paths = ag.explain(root, leaf).edges()
        assert lit == sorted((f"v{number[f.operand]}", f"v{number[f.out]}_op") for f in on_paths)
        legend = text(nodes["legend"]).split("purple: every path from r to")[1]
        if "too many or too long to list" in legend:
            (total,) = re.findall(r"= (\S+): the sum over", legend)
            assert float(total) == pytest.approx(leaf.grad, rel=1e-12, abs=1e-12)
            continue
        # One line per path ends in "= the product of its factors".
        products = [float(p) for p in re.findall(r"= (\S+)$", legend, flags=re.M)]
        assert sum(products) == pytest.approx(leaf.grad, rel=1e-12, abs=1e-12)
        if len(products) > 1:
            total = float(re.findall(r"total (\S+)$", legend, flags=re.M)[0])
            assert total == pytest.approx(leaf.grad, rel=1e-12, abs=1e-12)


# ---- colour ------------------------------------------------------------------------------------


def test_fill_shows_the_sign_and_size_of_grad() -> None:
    loss, w, x, b = seed_neuron()
    nodes, _ = parse(to_dot(loss))
    fill = {k: re.search(r'fillcolor="([^"]+)"', a)[1] for k, a in values(nodes).items()}  # type: ignore[index]
    # The largest |grad| is 36 (w2, and x0 with -36): quarters of 36 pick the step.
    assert fill[node_of(nodes, "w2")] == POSITIVE[3]
    assert fill[node_of(nodes, "x0")] == NEGATIVE[3]
    assert fill[node_of(nodes, "w1")] == NEGATIVE[2]  # 24 / 36 falls in the third quarter
    assert fill[node_of(nodes, "b")] == POSITIVE[1]  # 12 / 36 falls in the second
    assert fill[node_of(nodes, "loss")] == POSITIVE[0]  # 1 / 36 in the first
    legend = nodes["legend"]
    for colour, bound in zip(POSITIVE, ("9", "18", "27", "36")):
        assert f'BGCOLOR="{colour}"' in legend and f">{bound}</TD>" in legend
    nodes, _ = parse(to_dot(loss, color_by_grad=False))
    assert all(f'fillcolor="{ZERO}"' in a for a in values(nodes).values())


def test_zero_and_nan_gradients_are_white_and_grey_and_the_legend_says_why() -> None:
    x = Value(-1.0, "x")
    y = x.relu()  # relu'(-1) = 0, so nothing flows back
    y.label = "y"
    legend = text(parse(to_dot(y))[0]["legend"])
    assert "every grad here is 0: call backward() on the root first" in legend
    y.backward()
    nodes, _ = parse(to_dot(y))
    assert f'fillcolor="{ZERO}"' in nodes[node_of(nodes, "x")]
    z = Value(0.0, "z")
    q = z.log() * 0.0  # d/dz = 0 * (1/0) = nan
    q.label = "q"
    q.backward()
    assert math.isnan(z.grad)
    nodes, _ = parse(to_dot(q))
    assert f'fillcolor="{NOT_A_NUMBER}"' in nodes[node_of(nodes, "z")]
    assert "grad is not a number" in text(nodes["legend"])


# ---- determinism -------------------------------------------------------------------------------

GOLDEN = """\
digraph chainrule {
\tgraph [rankdir=LR fontname="Helvetica" fontsize=11 nodesep=0.2 ranksep=0.35 newrank=true ordering=in]
\tnode [fontname="Helvetica" fontsize=11 margin="0.08,0.03" penwidth=1]
\tedge [fontname="Helvetica" fontsize=10 arrowsize=0.7 color="#525252"]
\tv0 [shape=box style="rounded,filled" fillcolor="#6baed6" label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>a</B></TD></TR><TR><TD>data 2</TD></TR><TR><TD>grad -3</TD></TR></TABLE>>]
\tv1 [shape=box style="rounded,filled" fillcolor="#fc9272" label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>b</B></TD></TR><TR><TD>data -3</TD></TR><TR><TD>grad 2</TD></TR></TABLE>>]
\tv2 [shape=box style="rounded,filled" fillcolor="#fcbba1" label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>e</B></TD></TR><TR><TD>data -6</TD></TR><TR><TD>grad 1</TD></TR></TABLE>>]
\tv2_op [shape=ellipse style=filled fillcolor="#f0f0f0" height=0.3 label=<mul>]
\tv3 [shape=box style="rounded,filled" fillcolor="#fcbba1" label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>c</B></TD></TR><TR><TD>data 10</TD></TR><TR><TD>grad 1</TD></TR></TABLE>>]
\tv4 [shape=box style="rounded,filled" fillcolor="#fcbba1" label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>d</B></TD></TR><TR><TD>data 4</TD></TR><TR><TD>grad 1</TD></TR></TABLE>>]
\tv4_op [shape=ellipse style=filled fillcolor="#f0f0f0" height=0.3 label=<add>]
\tv2_op -> v2
\tv0 -> v2_op [label=<&#215;-3>]
\tv1 -> v2_op [label=<&#215;2>]
\tv4_op -> v4
\tv2 -> v4_op [label=<&#215;1>]
\tv3 -> v4_op [label=<&#215;1>]
}
"""

SMALL = """
from autograd import Value
a = Value(2.0, "a"); b = Value(-3.0, "b"); c = Value(10.0, "c")
e = a * b; e.label = "e"
d = e + c; d.label = "d"
d.backward()
"""


def test_golden_dot_for_a_small_graph() -> None:
    scope: dict[str, object] = {}
    exec(SMALL, scope)
    assert to_dot(scope["d"], legend=False) == GOLDEN  # type: ignore[arg-type]


def test_identically_built_graphs_give_byte_identical_dot_across_processes() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.setrecursionlimit(10**6)
        junk = [object() for _ in range(int(sys.argv[1]))]  # shifts every id()
        import autograd as ag
        from autograd import Value
        from viz import to_dot
        X = [Value(v, f"x{n}") for n, v in enumerate([1.0, 2.0, 3.0])]
        with ag.scope("layer"):
            outs = []
            for i in range(3):
                with ag.scope(f"neuron {i}"):
                    ws = [Value(0.1 * (i + n), f"w{i}{n}") for n in range(3)]
                    outs.append(ag.sum([w * x for w, x in zip(ws, X)]).tanh())
        loss = ag.sum(outs) ** 2
        loss.backward()
        sys.stdout.write(to_dot(loss, highlight=X[0], flow=True))
        """
    )
    outs = []
    for junk, seed in ((0, "1"), (12345, "2"), (777, "random")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code, str(junk)], capture_output=True, text=True, env=env
        )
        assert run.returncode == 0, run.stderr
        outs.append(run.stdout)
    assert outs[0] == outs[1] == outs[2]
    assert outs[0].count("subgraph cluster_") == 4


def test_draw_graph_is_a_digraph_holding_exactly_to_dot() -> None:
    import graphviz

    loss, w, *_ = seed_neuron()
    g = draw_graph(loss, highlight=w[0])
    assert isinstance(g, graphviz.Digraph)
    assert g.source == to_dot(loss, highlight=w[0])
    assert to_dot(loss) == to_dot(loss)


# ---- safe labels (the real `dot` checks them too, in test_viz_render.py) -------------------------

HOSTILE = [
    '"] ; x -> y [',
    "<B>bold?</B> & &amp; &#65;",
    "{record|fields}",
    "back\\slash \\n \\l \\N",
    "two\nlines\r\nthree",
    "naïve ∂ 漢字 😀",
    "tab\there",
    "bell\x07 del\x7f nul\x00",
    "lone \ud800 surrogate",
    "]]> --> <!-- <![CDATA[",
]


def test_hostile_labels_are_escaped_into_inert_text() -> None:
    leaves = [Value(float(i), s) for i, s in enumerate(HOSTILE)]
    root = ag.sum(leaves)
    root.label = HOSTILE[0]
    dot = to_dot(root)
    assert dot.isascii()
    nodes, edges = parse(dot)
    assert len(values(nodes)) == len(HOSTILE) + 1
    # The sum's ten factors are text nodes, each on its own arrow: two edges per operand.
    assert len(edges) == 2 * len(HOSTILE) + 1
    shown = {text(a).split("\n")[0] for a in values(nodes).values()}
    assert "naïve ∂ 漢字 😀" in shown
    assert '"] ; x -> y [' in shown
    assert "<B>bold?</B> & &amp; &#65;" in shown
    assert "bell\\x07 del\\x7f nul\\x00" in shown
    assert "lone \\ud800 surrogate" in shown
    assert "back\\slash \\n \\l \\N" in shown
    assert html_text("two\nlines\r\nthree") == "two<BR/>lines<BR/>three"


# ---- options and bad input ---------------------------------------------------------------------


def test_rankdir_and_bad_options_are_reported_by_name() -> None:
    loss, *_ = seed_neuron()
    assert "rankdir=TB" in to_dot(loss, rankdir="TB")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        to_dot(loss, rankdir="sideways")
    with pytest.raises(ValueError, match="fmt '{:d}' cannot format a float"):
        to_dot(loss, fmt="{:d}")
    with pytest.raises(ValueError, match="either collapse= or focus="):
        to_dot(loss, collapse="layer", focus=loss)
    with pytest.raises(ValueError, match="collapse must be 'layer', 'neuron' or a scope depth"):
        to_dot(loss, collapse="module")
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        to_dot(loss, max_nodes=0)
    with pytest.raises(TypeError, match="root must be an autograd.Value, got float"):
        to_dot(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="depth must be an int >= 0, got -1"):
        to_dot(loss, focus=loss, depth=-1)


def test_options_are_checked_before_the_walk_and_errors_name_the_entry_point(
    tmp_path: Path,
) -> None:
    loss, *_ = seed_neuron()
    with pytest.raises(TypeError, match=r"^to_dot\(\): legend must be True or False, got 'no'$"):
        to_dot(loss, legend="no")
    with pytest.raises(TypeError, match=r"^draw_graph\(\): flow must be True or False, got 1$"):
        draw_graph(loss, flow=1)
    with pytest.raises(ValueError, match=r"^render\(\): rankdir must be one of LR, RL, TB, BT"):
        render(loss, tmp_path / "x", rankdir="up")
    with pytest.raises(TypeError, match=r"^to_dot\(\) has no option 'colour'; its options are "):
        to_dot(loss, colour=True)
    with pytest.raises(TypeError, match=r"^to_dot\(\): focus= must be a Value of the graph"):
        to_dot(loss, focus="loss")
    for bad, error in ((1.0, TypeError), (0, ValueError), (False, ValueError)):
        with pytest.raises(error, match="collapse must be 'layer', 'neuron' or a scope depth >= 1"):
            to_dot(loss, collapse=bad)
    with pytest.raises(ValueError, match=r"scope depth >= 1 \(an int\); got about -10\*\*400$"):
        to_dot(loss, collapse=-(10**400))
    # True is the number 1 here as at every entry point: scope depth 1.
    assert to_dot(loss, collapse=True) == to_dot(loss, collapse=1)
    # Checked even when unused: depth without focus, and before any node is walked.
    with pytest.raises(ValueError, match="depth must be an int >= 0, got -1"):
        to_dot(3.0, depth=-1)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_the_options_are_one_frozen_dataclass() -> None:
    options = DrawOptions(highlight=None, fmt="{:.2f}", collapse=2)
    assert options.number(1.0 / 3.0) == "0.33" and options.max_nodes == DEFAULT_MAX_NODES
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.flow = True  # type: ignore[misc]
    assert DrawOptions.parse("to_dot", {"fmt": "{:.2f}", "collapse": 2}) == options
    assert not DrawOptions(show_grad=False).fill_by_grad and DrawOptions().fill_by_grad


def test_a_scene_is_read_only_so_it_can_be_written_again() -> None:
    loss, w, *_ = seed_neuron()
    options = DrawOptions(highlight=w[0], collapse=None)
    scene = build_scene(loss, options)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scene.focus = 0  # type: ignore[misc]
    first = write(scene, options)
    assert write(scene, options) == first
    assert "".join(first) == to_dot(loss, highlight=w[0]).split("\n", 1)[1].rsplit("}", 1)[0]
    assert sum(scene.highlighted or []) == 5  # w0, w0*x0, z, relu(z) and loss
    assert scene.graph.nodes[scene.highlight] is w[0]


def test_viz_reads_no_private_attribute() -> None:
    # The drawing reads data, grad, label, op, rule, parents and scope, as a user could.
    import ast
    from pathlib import Path as P

    private = []
    for path in sorted((P(__file__).parent.parent / "viz").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and ast.unparse(node.value) != "self"
            ):
                private.append((path.name, ast.unparse(node)))
    assert private == []


def test_a_node_is_named_alike_in_explain_the_legend_and_anomaly_reports() -> None:
    x = Value(2.0)  # unlabelled leaves are called by their number
    y = (x * 3.0).log()
    y.backward()
    legend = text(parse(to_dot(y, highlight=x))[0]["legend"])
    assert "purple: every path from root to 2" in legend and "grad shown on 2: 0.5" in legend
    assert str(ag.explain(y, x)).startswith("d log/d 2 = 0.5") and "∂log/∂2 = " in legend
    assert node_name(x) == "2" and node_name(y) == "log"
    y.label = "y"
    assert node_name(y) == "y" and node_name(Value(-0.0)) == "0"


def test_more_values_than_max_nodes_is_refused_naming_both_ways_out() -> None:
    loss, *_ = seed_neuron()
    with pytest.raises(GraphTooLarge, match="more than max_nodes=12 nodes") as e:
        to_dot(loss, max_nodes=12)
    assert "collapse=" in str(e.value) and "focus=" in str(e.value)
    assert isinstance(e.value, ValueError)
    to_dot(loss, max_nodes=13)


@pytest.mark.parametrize("entry", ["to_dot", "draw_graph", "render", "step_through"])
def test_every_refusal_names_the_function_the_user_called(entry: str, tmp_path: Path) -> None:
    calls: dict[str, Callable[..., object]] = {
        "to_dot": to_dot,
        "draw_graph": draw_graph,
        "render": lambda root, **o: render(root, tmp_path / "out", **o),
        "step_through": step_through,
    }
    draw = calls[entry]
    loss, W, X = seed_layer()
    refusals = [
        ({"max_nodes": 12}, GraphTooLarge, "the graph has more than max_nodes=12 nodes"),
        ({"focus": X[0], "max_nodes": 5}, GraphTooLarge, "focus='x1' with depth=2 still reaches"),
        (
            {"collapse": "neuron", "max_nodes": 5},
            GraphTooLarge,
            "collapse='neuron' still draws 6 boxes",
        ),
        ({"collapse": "neuron", "max_nodes": 8}, GraphTooLarge, "collapse='neuron' draws 9 arrows"),
        ({"highlight": Value(1.0, "elsewhere")}, ValueError, "highlight=.* is not a node"),
    ]
    for options, error, message in refusals:
        with pytest.raises(error, match=f"^{entry}\\(\\): {message}"):
            draw(loss, **options)
    with pytest.raises(TypeError, match=f"^{entry}\\(\\):? (the graph's root|needs) .*Value"):
        draw("loss")
    assert not list(tmp_path.iterdir())  # render() refused before writing any file


def test_the_limit_counts_each_constant_as_the_leaf_it_is_drawn_as() -> None:
    x = Value(2.0, "x")
    y = (x * 3.0) * 3.0  # two constant slots: two leaves "3" in the drawing
    with pytest.raises(GraphTooLarge, match="more than max_nodes=4 nodes"):
        to_dot(y, max_nodes=4)
    nodes, _ = parse(to_dot(y, max_nodes=5))
    assert len(values(nodes)) == 5


# ---- scopes: frames, folding and focus ---------------------------------------------------------


def test_scopes_become_nested_frames_with_each_neurons_weights_inside() -> None:
    loss, W, X = seed_layer()
    dot = to_dot(loss)
    assert dot.count("subgraph cluster_") == 4
    frames = re.split(r"subgraph cluster_\d+ \{", dot)
    # frames[1] is "layer" up to its first neuron; frames[2] is neuron 1 with w11..w14.
    assert "label=<layer>" in frames[1]
    assert "label=<neuron 1>" in frames[2]
    for n in range(1, 5):
        assert f"<B>w1{n}</B>" in frames[2]
        assert f"<B>x{n}</B>" in frames[1]  # the inputs are shared by the layer's neurons
    assert "subgraph" not in to_dot(loss, clusters=False)


def test_a_layers_shared_inputs_share_one_column_and_their_factors_sit_on_their_own_arrows() -> (
    None
):
    loss, W, X = seed_layer()
    dot = to_dot(loss)
    nodes, edges = parse(dot)
    xs = [node_of(nodes, f"x{n}") for n in range(1, 5)]
    # One rank for the four inputs, listed in label order.
    assert f"\t\t{{rank=same; {' '.join(xs)}}}\n" in dot
    frames = re.split(r"subgraph cluster_\d+ \{", dot)
    for n, x in enumerate(xs, start=1):
        out = [(h, a) for t, h, a in edges if t == x]
        assert len(out) == 3  # one arrow into each neuron
        for i, (factor, attrs) in enumerate(out, start=1):
            # The arrow stops at a text node showing d(w_in x_n)/d x_n = w_in, and goes on
            # from it, with the arrowhead, into the neuron's product.
            assert "arrowhead=none" in attrs and "label" not in attrs
            assert text(nodes[factor]) == f"×{W[i - 1][n - 1].data:g}"
            (into,) = [h for t, h, _ in edges if t == factor]
            assert (node_of(nodes, f"w{i}{n}"), into) in [(t, h) for t, h, _ in edges]
            assert f"\t{factor} [" in frames[1 + i]  # drawn inside neuron i's frame
    # A weight's arrow stays in its frame and keeps its label: d(w x)/d w = x.
    w23 = node_of(nodes, "w23")
    ((_, attrs),) = [(h, a) for t, h, a in edges if t == w23]
    assert text(attrs) == "×3"
    # The single neuron has no frames: nothing changes there.
    assert "rank=same" not in to_dot(seed_neuron()[0])


def test_collapse_by_neuron_folds_each_neuron_into_one_counted_box() -> None:
    loss, W, X = seed_layer()
    nodes, edges = parse(to_dot(loss, collapse="neuron"))
    boxes = {k: text(a) for k, a in nodes.items() if re.fullmatch(r"g\d+", k)}
    assert len(boxes) == 4  # three neurons and the four inputs they share
    for i in (1, 2, 3):
        # Each box sits in the layer's frame, so its own name is enough.
        (label,) = [b for b in boxes.values() if b.startswith(f"neuron {i}\n")]
        # 4 products, the sum and the relu, plus the 4 weights and the bias they own.
        assert "11 nodes: 4 mul · 1 relu · 1 sum" in label
        assert "5 leaves (weights, constants)" in label
        assert "1 output" in label and "max |grad| 172.8" in label
    (inputs,) = [k for k, b in boxes.items() if b.startswith("4 leaves")]
    into_neurons = [(h, text(a)) for t, h, a in edges if t == inputs]
    assert len(into_neurons) == 3 and all(x == "4 edges" for _, x in into_neurons)
    # y, the loss and their ops are not in any scope, so they stay as they are.
    assert {text(a).split("\n")[0] for a in values(nodes).values()} == {"y", "loss"}


def test_sibling_boxes_stand_in_one_column_in_label_order_unless_one_feeds_another() -> None:
    x = Value(1.0, "x")
    outs = []
    with ag.scope("layer"):
        for j in (2, 10, 0, 1):  # made in neither label order nor text order
            with ag.scope(f"neuron {j}"):
                outs.append((x * float(j + 1)).relu())
    with ag.scope("tangled"):
        with ag.scope("a"):
            a = x * 2.0
        with ag.scope("b"):
            b = x * 3.0 + a  # starts as deep as a, but reads a: it cannot stand beside a
    root = ag.sum([*outs, b])
    root.backward()
    scene = build_scene(root, DrawOptions.parse("to_dot", {"collapse": "neuron"}))
    (column,) = scene.columns
    titles = [scene.groups[k].title for k in column]
    assert titles == [f"layer / neuron {j}" for j in (0, 1, 2, 10)]
    dot = to_dot(root, collapse="neuron")
    # Written from the last box up: see _Writer._column for Graphviz's reversal inside frames.
    chain = " -> ".join(f"g{k}" for k in reversed(column))
    assert f"\t\t{{rank=same; {chain} [style=invis]}}\n" in dot
    assert "remincross=false" in dot
    assert "remincross" not in to_dot(root)  # without folding, nothing changes


def test_collapse_by_layer_folds_the_whole_layer() -> None:
    loss, W, X = seed_layer()
    nodes, edges = parse(to_dot(loss, collapse="layer", highlight=X[0]))
    (box,) = [text(a) for k, a in nodes.items() if re.fullmatch(r"g\d+", k)]
    # 12 mul + 3 sum + 3 relu, and 12 weights + 3 biases + 3 inputs: the highlighted x1
    # stays a box of its own, like the root.
    assert box.startswith("layer\n36 nodes: 12 mul · 3 relu · 3 sum\n18 leaves")
    assert "3 outputs" in box
    x1 = node_of(nodes, "x1")
    assert [(h, "#7b3294" in a) for t, h, a in edges if t == x1] == [("g0", True)]
    (into_y,) = [(t, a) for t, h, a in edges if h == node_of(nodes, "y") + "_op"]
    assert "label=<3 edges>" in into_y[1] and "#7b3294" in into_y[1]
    assert to_dot(loss, collapse=1, legend=False) == to_dot(loss, collapse="layer", legend=False)


def test_focus_draws_a_neighbourhood_and_marks_what_is_left_out() -> None:
    loss, w, x, b = seed_neuron()
    z = loss.parents[0].parents[0]
    nodes, edges = parse(to_dot(loss, focus=z, depth=1))
    shown = {text(a).split("\n")[0] for a in values(nodes).values()}
    assert shown == {"z", "w0*x0", "w1*x1", "w2*x2", "b", "relu(z)"}
    assert "peripheries=2" in nodes[node_of(nodes, "z")]
    stubs = {k: text(a) for k, a in nodes.items() if k.endswith(("_in", "_out"))}
    # Each product hides its two operands; relu(z) hides its one user, the square.
    assert sorted(stubs.values()) == ["… 1 more user"] + ["… 2 more operands"] * 3
    assert "showing the 6 of 13 nodes within 1 step of z" in text(nodes["legend"])
    assert "nodes within 2 steps of z" in text(parse(to_dot(loss, focus=z, depth=2))[0]["legend"])
    assert len(values(parse(to_dot(loss, focus=z, depth=0))[0])) == 1


def test_focus_on_a_long_chain_walks_without_recursion() -> None:
    x = Value(0.5, "x")
    y = x
    for _ in range(30_000):  # far deeper than Python's recursion limit
        y = y * 1.0
    y.label = "end"
    with pytest.raises(GraphTooLarge):
        to_dot(y)
    nodes, _ = parse(to_dot(y, focus=y, depth=3))
    # end, three muls behind it, and the constant operand 1.0 of each of the first three.
    assert len(values(nodes)) == 4 + 3


class Module:
    """Stands in for an nn module: nn passes owner=self to the scope around its forward."""


def test_layer_means_the_innermost_scope_with_an_owner() -> None:
    model, dense1, dense2 = Module(), Module(), Module()
    x = [Value(1.0, "x0"), Value(-2.0, "x1")]
    with ag.scope("model", owner=model):
        h = []
        with ag.scope("dense1", owner=dense1):
            w = [[Value(0.5 * (i + j), f"w{i}{j}") for j in range(2)] for i in range(3)]
            for i in range(3):
                with ag.scope(f"neuron {i}"):
                    h.append(ag.sum([a * b for a, b in zip(w[i], x)]).tanh())
        with ag.scope("dense2", owner=dense2):
            v = [Value(0.1 * i, f"v{i}") for i in range(3)]  # a leaf made inside a scope
            with ag.scope("neuron 0"):
                out = ag.sum([a * b for a, b in zip(v, h)])
    with ag.scope("mse", owner=Module()):
        loss = out.square()
    loss.label = "loss"
    loss.backward()
    dot = to_dot(loss, collapse="layer")
    # The root stays visible; it sits beside the boxes, not in a frame of its own.
    assert re.search(r"^\tv\d+ \[.*<B>loss</B>", dot, flags=re.M)
    found = {text(a).split("\n")[0]: text(a) for k, a in parse(dot)[0].items() if k[0] == "g"}
    assert sorted(found) == ["dense1 (Module)", "dense2 (Module)"]
    # dense1: 6 products, 3 sums, 3 tanh, its 6 weights and the 2 inputs only it uses.
    assert found["dense1 (Module)"].startswith("dense1 (Module)\n20 nodes")
    assert "8 leaves" in found["dense1 (Module)"]
    assert "3 leaves" in found["dense2 (Module)"]
    assert dot.count("subgraph cluster_") == 1  # the model frames its two layers
    neurons = to_dot(loss, collapse="neuron", clusters=False)
    assert neurons.count("<B>model / dense1 / neuron ") == 3
    assert to_dot(loss, collapse=1, legend=False).count("<B>model (Module)</B>") == 1


def test_a_root_whose_scope_is_folded_sits_in_that_scopes_frame_beside_its_box() -> None:
    x = Value(1.5, "x")
    with ag.scope("mse", owner=Module()):
        d = x - 0.5
        loss = d.square() * 0.5  # the scope folds d and its square; the root is kept
    loss.label = "loss"
    loss.backward()
    dot = to_dot(loss, collapse="layer", legend=False)
    (frame,) = re.findall(r"subgraph cluster_\d+ \{\n([^}]*)\}", dot)
    assert "label=<mse (Module)>" in frame
    # the box of the scope's other nodes, untitled inside its own frame, then the root
    # (x and the constant 0.5 join it: the box is their only user)
    assert "<B>4 nodes</B>: 1 square &#183; 1 sub" in frame
    assert "<B>loss</B>" in frame and "data 0.5" in frame and "label=<mul>" in frame
    assert "<B>mse (Module)</B>" not in dot


def test_grads_that_are_values_and_a_lone_leaf_are_drawn_too() -> None:
    x = Value(3.0, "x")
    y = x.tanh() * x
    y.label = "y"
    y.backward(create_graph=True)  # every grad is now a Value of its own graph
    assert isinstance(x.grad, Value)
    nodes, edges = parse(to_dot(y, highlight=x))
    expected = 3.0 * (1 - math.tanh(3.0) ** 2) + math.tanh(3.0)
    assert text(nodes[node_of(nodes, "x")]).split("\n") == ["x", "data 3", f"grad {expected:.4g}"]
    legend = text(nodes["legend"])
    # d y/d x = x tanh'(x) + tanh(x): the sum in tanh' is bracketed inside the product.
    assert f"3 × (1 - {math.tanh(3.0):.6g}²) = {3.0 * (1 - math.tanh(3.0) ** 2):.4g}" in legend
    assert f"total {expected:.4g}" in legend
    lone = Value(2.0, "lone")
    nodes, edges = parse(to_dot(lone, highlight=lone))
    assert list(values(nodes)) == ["v0"] and edges == []
    assert "∂lone/∂lone = 1 = 1" in text(nodes["legend"])
