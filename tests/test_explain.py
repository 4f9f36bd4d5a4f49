"""`explain`: the chain rule printed path by path, checked against the seed and against backward()."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import BUILT_IN_OPS, op_inputs, usable

import autograd as ag
from autograd import OPS, Value, explain
from autograd.explain import Explanation
from autograd.names import count_text
from autograd.testing import expressions


def seed_neuron(labelled: bool = False) -> tuple[Value, list[Value], Value]:
    """The seed's cell 3 neuron: loss = relu(w0 x0 + w1 x1 + w2 x2 + b)^2, inputs as constants."""
    w = [Value(v, f"w{i}") for i, v in enumerate([-3.0, -1.0, 2.0])]
    b = Value(1.0, "b")
    products = [wi * xi for wi, xi in zip(w, [1.0, -2.0, 3.0])]
    z = ag.sum([*products, b])
    a = z.relu()
    loss = a.square()
    if labelled:
        for i, p in enumerate(products):
            p.label = f"w{i}*x{i}"
        z.label, a.label, loss.label = "z", "relu(z)", "loss"
    return loss, w, b


SEED_W0 = """\
d square/d w0 = 12, the sum over 1 path:

path 1 of 1: square ← relu ← sum ← mul ← w0
  d square/d relu = 2·relu = 2·6 = 12
  d relu/d sum    = 1  (sum = 6 > 0)
  d sum/d mul     = 1
  d mul/d w0      = 1
  product: 2·6 · 1 · 1 · 1 = 12"""

SEED_B = """\
d square/d b = 12, the sum over 1 path:

path 1 of 1: square ← relu ← sum ← b
  d square/d relu = 2·relu = 2·6 = 12
  d relu/d sum    = 1  (sum = 6 > 0)
  d sum/d b       = 1
  product: 2·6 · 1 · 1 = 12"""

SEED_W0_LABELLED = """\
d loss/d w0 = 12, the sum over 1 path:

path 1 of 1: loss ← relu(z) ← z ← w0*x0 ← w0
  d loss/d relu(z) = 2·relu(z) = 2·6 = 12
  d relu(z)/d z    = 1  (z = 6 > 0)
  d z/d w0*x0      = 1
  d w0*x0/d w0     = 1
  product: 2·6 · 1 · 1 · 1 = 12"""


# ---- the seed's derivation ----


def test_seed_neuron_w0_reads_like_the_seed() -> None:
    loss, w, _ = seed_neuron()
    e = explain(loss, w[0])
    assert str(e) == SEED_W0
    assert e.count == 1 and e.paths is not None and len(e.paths) == 1
    (path,) = e.paths
    # The seed: dLoss/dReLU = 2 ReLU(sum) = 12, dReLU/dsum = 1, dsum/dmul = 1, dmul/dw0 = x0 = 1.
    assert [f.name for f in path.factors] == [
        "d square/d relu",
        "d relu/d sum",
        "d sum/d mul",
        "d mul/d w0",
    ]
    assert [f.value for f in path.factors] == [12.0, 1.0, 1.0, 1.0]
    assert [f.shown for f in path.factors] == ["2·6", "1", "1", "1"]
    assert path.factors[0].formula == "2·relu"
    assert path.product == 12.0 and e.total == 12.0
    assert [v.op or v.label for v in path.nodes] == ["square", "relu", "sum", "mul", "w0"]


def test_seed_neuron_bias_and_labelled_graph() -> None:
    loss, _, b = seed_neuron()
    assert str(explain(loss, b)) == SEED_B
    loss, w, _ = seed_neuron(labelled=True)
    assert str(explain(loss, w[0])) == SEED_W0_LABELLED


def test_seed_neuron_every_parameter_matches_the_hand_derivation() -> None:
    # Seed cell 3: dloss/dw = 2 relu(z) relu'(z) x, dloss/db = 2 relu(z) relu'(z), z = 6.
    loss, w, b = seed_neuron()
    for p, x in zip(w, [1.0, -2.0, 3.0]):
        e = explain(loss, p)
        assert e.paths is not None
        assert [f.value for f in e.paths[0].factors] == [12.0, 1.0, 1.0, x]
        assert e.total == 2 * 6 * 1 * x
    assert explain(loss, b).total == 12.0


def test_named_inputs_show_in_the_mul_factor() -> None:
    w0, x0 = Value(-3.0, "w0"), Value(1.0, "x0")
    loss = ag.sum([w0 * x0, Value(9.0, "b")]).relu().square()
    e = explain(loss, w0)
    assert e.paths is not None
    assert str(e.paths[0].factors[-1]) == "d mul/d w0 = x0 = 1"


def test_explain_before_backward_changes_no_grad_and_agrees_after_it_to_the_bit() -> None:
    loss, w, b = seed_neuron()
    params = [*w, b]
    before = [explain(loss, p).total for p in params]
    assert all(v.grad == 0.0 for v in ag.reverse_topological_order(loss))
    loss.backward()
    assert before == [p.grad for p in params]
    assert [explain(loss, p).total for p in params] == [p.grad for p in params]
    assert "note" not in str(explain(loss, w[0]))


def test_a_grad_from_other_passes_is_flagged() -> None:
    loss, w, _ = seed_neuron()
    loss.backward()
    loss.backward()  # leaves accumulate: w0.grad = 24, while d loss/d w0 = 12
    text = str(explain(loss, w[0]))
    assert text.endswith(
        "note: w0.grad is 24, not 12: it was set by a backward() from another root,"
        " or has accumulated over several passes."
    )


def test_an_inactive_relu_shows_a_zero_factor() -> None:
    w = Value(-3.0, "w")
    loss = (w * 2.0).relu().square()
    e = explain(loss, w)
    assert e.paths is not None
    f = e.paths[0].factors[1]
    assert (f.name, f.value, f.note) == ("d relu/d mul", 0.0, "mul = -6 ≤ 0")
    assert e.total == 0.0
    assert "product: 2·0 · 0 · 2 = 0" in str(e)


# ---- reused nodes: several paths, whose products add up to the gradient ----


@pytest.mark.parametrize(
    ("build", "products", "grad"),
    [
        (lambda x: x * x + x, [3.0, 3.0, 1.0], 7.0),  # d/dx (x^2 + x) = 2x + 1
        (lambda x: (x + x) * x, [3.0, 3.0, 6.0], 12.0),  # d/dx 2x^2 = 4x
        (lambda x: ag.sum([x, x, x]) * 2.0, [2.0, 2.0, 2.0], 6.0),
    ],
)
def test_reused_node_path_products_add_up_to_the_gradient(build, products, grad) -> None:  # type: ignore[no-untyped-def]
    x = Value(3.0, "x")
    y = build(x)
    e = explain(y, x)
    assert e.paths is not None
    assert [p.product for p in e.paths] == products
    assert sum(p.product for p in e.paths) == grad == e.total
    y.backward()
    assert x.grad == e.total
    assert f"= {' + '.join(f'{p:g}' for p in products)} = {grad:g}" in str(e)


def test_edges_are_those_of_the_listed_paths() -> None:
    x, u = Value(3.0, "x"), Value(5.0, "u")
    y = (x + x) * x + u.tanh()  # the tanh branch lies on no path to x
    e = explain(y, x)
    assert e.paths is not None
    on_paths = {(f.out, f.index) for p in e.paths for f in p.factors}
    edges = e.edges()
    assert {(f.out, f.index) for f in edges} == on_paths and len(edges) == len(on_paths) == 5
    assert [v.op or v.label for v in e.nodes] == ["add", "mul", "add", "x"]
    assert {f.name: f.value for f in edges}["d mul/d add#2"] == 3.0


def test_two_edges_to_one_operand_are_two_factors() -> None:
    x = Value(3.0, "x")
    e = explain(x * x, x)
    assert e.paths is not None
    names = [p.factors[0].name for p in e.paths]
    assert names == ["d mul/d x (operand 1)", "d mul/d x (operand 2)"]
    assert [p.product for p in e.paths] == [3.0, 3.0]


def test_unlabelled_nodes_with_one_op_get_numbered_from_the_root() -> None:
    x = Value(0.5, "x")
    y = (x * 2.0) * (x * 3.0)
    e = explain(y, x)
    assert e.paths is not None
    assert [[e.name(v) for v in p.nodes] for p in e.paths] == [
        ["mul#1", "mul#2", "x"],
        ["mul#1", "mul#3", "x"],
    ]
    assert "$\\text{mul}_{1} \\leftarrow \\text{mul}_{2}" in e._repr_markdown_()


# ---- each op's displayed formula, evaluated, gives the factor's value ----


# The functions a formula may name, as Python evaluates them.
_FUNCTIONS = {
    name: getattr(np, name)
    for name in ("log", "exp", "sqrt", "sin", "cos", "tanh", "sinh", "cosh", "sign", "floor")
} | {"sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a))}


def _evaluate(numbers: str) -> float:
    """A factor's formula with numbers put in, evaluated as Python after translating the notation."""
    expr = numbers.replace("·", "*").replace("²", "**2").replace("^", "**").replace("ln(", "log(")
    assert re.fullmatch(r"[0-9eE.+\-*/() a-z]*", expr), expr
    return float(eval(expr, {"__builtins__": {}, **_FUNCTIONS}))


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_every_factor_formula_evaluates_to_its_value(name: str) -> None:
    # Every entry of the table, on inputs from its own domain: the factor explain shows for each
    # operand, evaluated, is the rule's local derivative. The inputs have 3 decimals, so that the
    # 6 digits explain shows are them exactly (ln(1.23438) would be 2e-5 off ln(1.234375)).
    op = OPS[name]
    count = []
    inputs = op_inputs(name).map(lambda xs: tuple(round(x, 3) for x in xs))

    @settings(max_examples=25)
    @given(inputs.filter(lambda xs: usable(op, xs)))
    def check(xs: tuple[float, ...]) -> None:
        count.append(xs)
        inputs = [Value(x, f"a{i}") for i, x in enumerate(xs)]
        out = ag.apply(op, *inputs)
        local = op.df(out.data, *xs)
        for i, x in enumerate(inputs):
            e = explain(out, x)
            assert e.paths is not None
            (f,) = e.paths[0].factors
            assert f.value == local[i]  # straight from the rule table
            assert bool(f.numbers) == (op.formula is not None)  # a number only without one
            assert bool(f.note) == (op.note is not None)
            assert _evaluate(f.shown) == pytest.approx(f.value, rel=1e-5, abs=1e-6)

    check()
    assert len(count) == 25


@pytest.mark.parametrize(
    ("x", "note", "values"),
    [
        (0.5, "lo = 0.1 ≤ x = 0.5 ≤ hi = 0.9", [1.0, 0.0, 0.0]),
        (-3.0, "x = -3 < lo = 0.1 ≤ hi = 0.9", [0.0, 1.0, 0.0]),
        (2.0, "x = 2 > hi = 0.9", [0.0, 0.0, 1.0]),
    ],
)
def test_a_clip_factor_says_which_bound_is_in_force(
    x: float, note: str, values: list[float]
) -> None:
    leaves = [Value(x, "x"), Value(0.1, "lo"), Value(0.9, "hi")]
    y = ag.clip(*leaves)
    factors = [explain(y, v).paths[0].factors[0] for v in leaves]  # type: ignore[index]
    assert [f.note for f in factors] == [note] * 3
    assert [f.value for f in factors] == values
    # A constant bound is its number already: no "0.9 = 0.9".
    (f,) = explain(ag.clip(leaves[0], 0.1, 0.9), leaves[0]).paths[0].factors  # type: ignore[index]
    assert f.note == note.replace("lo = ", "").replace("hi = ", "")
    latex = re.sub(r"\b(x|lo|hi)\b", r"\\text{\1}", note).replace("≤", "\\le")
    assert f"\\quad ({latex})" in explain(y, leaves[0])._repr_markdown_()


def test_constant_exponent_is_lowered_in_the_formula() -> None:
    x = Value(2.0, "x")
    e = explain(x**3, x)
    assert e.paths is not None
    f = e.paths[0].factors[0]
    assert (f.formula, f.numbers, f.value) == ("3·x²", "3·2²", 12.0)


# ---- random graphs: explain and backward agree ----


@settings(max_examples=60)
@given(expressions(max_inputs=3, max_steps=8, ops=BUILT_IN_OPS))
def test_random_graph_totals_equal_backward_and_paths_add_up(expr) -> None:  # type: ignore[no-untyped-def]
    xs = [Value(x, f"x{i}") for i, x in enumerate(expr.inputs)]
    y = expr(*xs)
    explanations = [explain(y, x, max_paths=200) for x in xs]
    y.backward()
    for x, e in zip(xs, explanations):
        assert e.total == x.grad  # same rules, same order: equal to the bit
        partial = 0.0
        for g in e.groups:
            partial += g.subtotal
        assert partial == e.total
        assert sum(g.count for g in e.groups) == e.count
        if e.paths is not None:
            assert len(e.paths) == e.count
            assert math.fsum(p.product for p in e.paths) == pytest.approx(
                e.total, rel=1e-9, abs=1e-9
            )
            for p in e.paths:
                assert p.nodes[0] is y and p.nodes[-1] is x
                assert math.prod(f.value for f in p.factors) == pytest.approx(p.product, rel=1e-12)
            edges = {tuple((f.out, f.index) for f in p.factors) for p in e.paths}
            assert len(edges) == e.count  # every path listed once


# A pool of leaves feeding dots, sums and products that reuse operands: the graphs where the order
# of adding contributions shows in the last bit (the 0.6 vs 0.6000000000000001 of a dot's operand
# that is both a weight and an input).
@st.composite
def _reused_operand_graphs(draw: st.DrawFn) -> tuple[list[Value], Value]:
    number = st.floats(-2.0, 2.0, allow_nan=False).map(lambda x: round(x, 3))
    leaves = [Value(draw(number), f"x{i}") for i in range(draw(st.integers(2, 3)))]
    nodes = list(leaves)
    for step in range(draw(st.integers(1, 4))):
        pick = st.sampled_from(nodes)
        kinds = ["dot", "dot+bias", "dot of data", "sum", "mul"]
        kind = draw(st.sampled_from(kinds[:2] if step == 0 else kinds))  # at least one dot
        n = draw(st.integers(2, 6))
        if kind.startswith("dot"):
            ws = [draw(pick) for _ in range(n)]
            xs = [draw(number) if kind == "dot of data" else draw(pick) for _ in range(n)]
            nodes.append(ag.dot(ws, xs, draw(pick) if kind == "dot+bias" else None))
        elif kind == "sum":
            nodes.append(ag.sum([draw(pick) for _ in range(n + 1)]))
        else:
            nodes.append(draw(pick) * draw(pick))
    return leaves, nodes[-1]


@settings(max_examples=150)
@given(_reused_operand_graphs())
def test_explain_total_equals_every_backward_to_the_last_bit_with_reused_operands(
    graph: tuple[list[Value], Value],
) -> None:
    leaves, y = graph
    totals = [explain(y, x).total.hex() for x in leaves]
    y.backward()
    assert [x.grad.hex() for x in leaves] == totals
    assert [g.hex() for g in ag.grad(y, leaves)] == totals
    # The general path of backward (detect_anomaly, create_graph) adds in the same order.
    with ag.detect_anomaly():
        assert [g.hex() for g in ag.grad(y, leaves)] == totals
    # create_graph starts a gradient from its first contribution (no `0 + ...` node), so a zero
    # keeps the contribution's sign there: compare zeros as numbers, everything else by its bits.
    graph = [g.data for g in ag.grad(y, leaves, create_graph=True)]
    assert [g.hex() if g else 0.0 for g in graph] == [
        t if float.fromhex(t) else 0.0 for t in totals
    ]


def test_a_dot_operand_in_several_slots_gets_explains_total_to_the_bit() -> None:
    a, b, c, d, e = (
        Value(v, n) for v, n in [(0.1, "a"), (1.0, "b"), (0.2, "c"), (0.3, "d"), (1.0, "e")]
    )
    y = ag.dot([a, b, b, e], [b, c, d, e])  # b is x_1, w_2 and w_3
    total = explain(y, b).total
    y.backward()
    # Pair by pair, as w_k x_k are multiplied: x_1 (times a), then w_2 (times c), then w_3 (times
    # d). In operand order (w_2, w_3, x_1) the sum would be (0.2 + 0.3) + 0.1 = 0.6.
    assert b.grad == total == (0.1 + 0.2) + 0.3 == 0.6000000000000001


# ---- graphs with very many paths are counted, not walked, and grouped ----


def test_two_to_the_200_paths_are_counted_exactly_and_grouped() -> None:
    x = Value(0.3, "x")
    h = x
    for _ in range(200):
        h = (h + h) * 0.5  # two paths per level, d/dh = 0.5 (1 + 1) = 1
    e = explain(h, x)
    assert e.count == 2**200
    assert e.grouped and e.paths is None
    assert e.total == 1.0
    assert [g.count for g in e.groups] == [2**199, 2**199]
    assert [g.subtotal for g in e.groups] == [0.5, 0.5]
    text = str(e)
    assert f"the sum over {2**200:,} (about 1.6e+60) paths, too many to list" in text
    assert len(text.splitlines()) < 12
    assert "$$" in e._repr_markdown_() and "| via |" in e._repr_markdown_()


def test_path_counts_too_long_to_print_are_shown_by_their_size() -> None:
    # Python refuses str() of an int over 4,300 digits; 2^15000 has 4,516.
    x = Value(0.3, "x")
    h = x
    for _ in range(15_000):
        h = (h + h) * 0.5
    e = explain(h, x)
    assert e.count == 2**15_000 and e.total == 1.0
    text = str(e)
    assert "the sum over 2^15000 (about 2.8e+4515) paths, too many to list" in text
    assert "via add#15000 (2^14999 (about 1.4e+4515) paths)" in text
    assert "| 2^14999 (about 1.4e+4515) |" in e._repr_markdown_()
    assert "over 2^15000 (about 2.8e+4515) paths>" in repr(e)


def test_count_text_is_exact_up_to_100_digits_then_gives_the_size_rounded() -> None:
    from decimal import ROUND_HALF_UP, Context

    def size(n: int) -> str:  # an independent oracle: two significant digits by decimal
        return format(Context(prec=2, rounding=ROUND_HALF_UP).create_decimal(n), ".1e")

    assert count_text(999_999_999_999) == "999,999,999,999"
    assert count_text(10**12) == "1,000,000,000,000 (about 1.0e+12)"
    assert count_text(995 * 10**20) == f"{995 * 10**20:,} (about 1.0e+23)"
    assert count_text(10**100 - 1) == f"{10**100 - 1:,} (about 1.0e+100)"
    assert count_text(10**100) == "about 1.0e+100"
    for n in (3**9_500, 7**20_000 + 1, 10**4_400 - 1, 2**20_000 + 2**19_999):
        assert count_text(n) == f"about {size(n)}"
    assert count_text(2**20_000) == f"2^20000 (about {size(2**20_000)})"


def test_many_edges_into_wrt_show_the_largest_and_summarise_the_rest() -> None:
    x = Value(0.5, "x")
    y = ag.sum([x * float(k) for k in range(1, 101)])  # dy/dx = 1 + ... + 100 = 5050
    e = explain(y, x, max_paths=10)
    assert e.count == 100 and e.total == 5050.0
    text = str(e)
    assert "The 10 largest of 100 edges into x:" in text
    lines = [line for line in text.splitlines() if line.startswith("  via ")]
    assert len(lines) == 10
    assert lines[0].endswith("= 1 · 100 = 100")
    assert "... and 90 more edges into x (90 paths), together 4095" in text
    assert text.endswith("sum over 100 edges: d sum/d x = 5050")


def test_a_long_chain_is_one_path_too_long_to_list() -> None:
    x = Value(0.1, "x")
    h = x
    for _ in range(20_000):
        h = h + 1.0
    e = explain(h, x)
    assert (e.count, e.longest, e.total) == (1, 20_000, 1.0)
    assert len(str(e).splitlines()) == 5
    assert e.grouped
    assert "too long to list (up to 20,000 edges)" in str(e)
    chain = explain(h, x, max_length=20_000)  # listed on request: one path of 20,000 factors
    assert chain.paths is not None and len(chain.paths[0].factors) == 20_000
    assert chain.total == 1.0


# ---- edges of the API ----


def test_no_path_and_root_itself() -> None:
    x, y = Value(1.0, "x"), Value(2.0, "y")
    z = x * 3.0
    e = explain(z, y)
    assert (e.count, e.total, e.paths) == (0, 0.0, ())
    assert str(e) == "d mul/d y = 0: no path leads from mul down to y"
    e = explain(z, z)
    assert (e.count, e.total) == (1, 1.0)
    assert e.paths is not None and e.paths[0].factors == ()


def test_bad_arguments_are_named() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="explain\\(\\) needs Values, got float"):
        explain(1.0, x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_paths"):
        explain(x, x, max_paths=0)


def test_markdown_renders_the_seed_as_math() -> None:
    loss, w, _ = seed_neuron(labelled=True)
    md = explain(loss, w[0])._repr_markdown_()
    assert isinstance(explain(loss, w[0]), Explanation)
    assert (
        "\\frac{\\partial \\text{loss}}{\\partial \\text{relu(z)}} &= 2 \\cdot \\text{relu(z)}"
        in md
    )
    assert "= 2 \\cdot 6 = 12" in md
    assert "\\text{product} &= 2 \\cdot 6 \\cdot 1 \\cdot 1 \\cdot 1 = 12" in md
    assert md.count("$$") % 2 == 0
