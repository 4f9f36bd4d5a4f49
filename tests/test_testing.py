"""autograd.testing: its strategies keep their promises, and its property catches wrong gradients."""

from __future__ import annotations

import math
from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from strategies import (
    BOUND,
    BUILT_IN_OPS,
    MARGIN,
    Expression,
    Step,
    assert_gradients_match,
    custom_op,
    expressions,
    graphs,
    op_inputs,
    usable,
    values,
)

import autograd as ag
from autograd import GradcheckError, OpFunction, Value
from autograd.ops import ANY, div
from autograd.testing import _slot

# ---- values() ----


@given(values(-2.0, 3.0))
def test_values_stay_in_range(x: float) -> None:
    assert -2.0 <= x <= 3.0 and math.isfinite(x)


@given(values(-5.0, 5.0, away_from=(0.0, 2.0), margin=0.25))
def test_values_keep_away_from_the_given_points(x: float) -> None:
    assert abs(x) >= 0.25 and abs(x - 2.0) >= 0.25


@given(values(positive=True), values(negative=True))
def test_values_of_one_sign(p: float, n: float) -> None:
    assert p >= MARGIN and n <= -MARGIN


def test_values_with_nothing_left_is_an_error() -> None:
    with pytest.raises(ValueError, match="no numbers are left"):
        values(-1.0, 1.0, away_from=(0.0,), margin=2.0)
    with pytest.raises(ValueError, match=r"values\(5, 1\): no numbers lie in \[5.0, 1.0\]"):
        values(5, 1)
    with pytest.raises(ValueError, match=r"no numbers of that sign lie in \[0.1, 0.05\]"):
        values(-1.0, 0.05, positive=True)


# ---- op_inputs() ----


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_op_inputs_are_inside_the_domain(name: str) -> None:
    op = ag.OPS[name]
    seen: list[tuple[float, ...]] = []

    @settings(max_examples=60)
    @given(op_inputs(name))
    def check(xs: tuple[float, ...]) -> None:
        seen.append(xs)
        assert usable(op, xs)
        assert all(abs(x) <= 10.0 for x in xs)
        if op.arity >= 0:
            assert len(xs) == op.arity
        else:
            assert 1 <= len(xs) <= 5

    check()
    assert len(seen) == 60
    if name == "log":
        assert min(x for (x,) in seen) >= MARGIN
    if name == "relu":
        assert min(abs(x) for (x,) in seen) >= MARGIN
    if name == "div":
        assert min(abs(b) for _, b in seen) >= MARGIN
    if name == "pow":
        assert all(MARGIN <= a <= 10.0 and -3.0 <= b <= 3.0 for a, b in seen)
    if name == "exp":
        assert max(x for (x,) in seen) <= 5.0


def test_op_inputs_of_an_op_without_a_domain_entry_avoid_its_nans_and_kinks() -> None:
    # sqrt is nan below 0 and has a kink (an infinite slope) at 0.
    with custom_op(
        "root",
        lambda a: math.sqrt(a) if a >= 0 else math.nan,
        lambda out, a: (0.5 / out if out > 0 else math.inf,),
        kinks=lambda a: ((0.0,),),
    ) as root:

        @settings(max_examples=50)
        @given(op_inputs(root.op))
        def check(xs: tuple[float, ...]) -> None:
            assert xs[0] >= MARGIN

        check()


# ---- expressions() and graphs() ----


def _slot_values(e: Expression) -> list[float]:
    vals = list(e.inputs)
    for step in e.steps:
        args = [vals[a] if type(a) is int else a for a in step.operands]
        vals.append(ag.OPS[step.op].f(*args))
    return vals


@settings(max_examples=150)
@given(expressions(ops=BUILT_IN_OPS))
def test_expression_on_values_records_one_node_per_step(e: Expression) -> None:
    leaves = [Value(x, f"x{i}") for i, x in enumerate(e.inputs)]
    out = e(*leaves)
    assert out.data == e.floats(*e.inputs)
    nodes = [v for v in ag.topological_order(out) if v.op]
    assert sorted(v.op for v in nodes) == sorted(e.ops)
    assert {v.label for v in nodes} == {f"v{e.n_inputs + k}" for k in range(len(e.steps))}


@settings(max_examples=150)
@given(expressions(ops=BUILT_IN_OPS))
def test_every_operand_is_inside_its_ops_domain(e: Expression) -> None:
    vals = _slot_values(e)
    for k, step in enumerate(e.steps):
        op = ag.OPS[step.op]
        datas = [vals[a] if type(a) is int else a for a in step.operands]
        for j, x in enumerate(datas):
            if op.domain == (ANY,):
                continue  # so a mul may scale back a result beyond the bound: checked below
            parts = _slot(op, j, BOUND)
            assert any(lo - 1e-9 <= x <= hi + 1e-9 for lo, hi in parts), (step, x)
        assert math.isfinite(vals[e.n_inputs + k])
    # A result beyond the bound feeds only the mul that scales it back, in the very next step.
    for k, step in enumerate(e.steps):
        slot = e.n_inputs + k
        for a in step.operands:
            if type(a) is int and abs(vals[a]) > BOUND:
                assert step.op == "mul" and a == slot - 1 and abs(vals[slot]) <= 10.0
    # And every step reaches the output: only the last slot is unused.
    uses = e.uses
    assert [i for i in range(e.n_inputs, len(uses)) if uses[i] == 0] == [len(uses) - 1]


@settings(max_examples=80)
@given(expressions(ops=["tanh", "mul"]))
def test_expressions_draw_from_the_given_ops_plus_the_repairs(e: Expression) -> None:
    assert set(e.ops) <= {"tanh", "mul", "add", "sum"}


def test_a_registered_custom_op_is_drawn_into_graphs() -> None:
    with custom_op("cube", lambda a: a**3, lambda out, a: (3.0 * a * a,)) as cube:
        name = cube.op.name
        drawn: list[Expression] = []

        @settings(max_examples=100)
        @given(expressions())  # the default: every op in the table at draw time
        def check(e: Expression) -> None:
            drawn.append(e)
            if set(e.ops) <= {
                *BUILT_IN_OPS,
                name,
            }:  # ops other packages registered are not ours to judge
                assert_gradients_match(e, e.inputs)

        check()
    assert sum(name in e.ops for e in drawn) >= 5


def test_graphs_by_default_draw_every_built_in_op() -> None:
    # graphs() iterates the table at draw time: each built-in op must be reachable from it, its
    # testing domain and kinks leaving it usable inputs.
    drawn: Counter[str] = Counter()

    @settings(max_examples=400, phases=[Phase.generate])
    @given(graphs())
    def check(graph: tuple[Expression, list[float]]) -> None:
        drawn.update(graph[0].ops)

    check()
    assert not set(BUILT_IN_OPS) - set(drawn), sorted(set(BUILT_IN_OPS) - set(drawn))


def test_the_property_catches_a_wrong_custom_op_inside_random_graphs() -> None:
    with custom_op("badsq", lambda a: a * a, lambda out, a: (a,)) as badsq:

        @settings(max_examples=100, phases=[Phase.generate])
        @given(graphs(ops=[badsq.op.name, "add", "tanh"]))
        def check(graph: tuple[Expression, list[float]]) -> None:
            f, inputs = graph
            assert_gradients_match(f, inputs)

        with pytest.raises(GradcheckError, match="MISMATCH"):
            check()


def test_expression_text_and_arity() -> None:
    e = Expression(
        2, (Step("mul", (0, 1)), Step("add", (2, 0.5)), Step("sum", (2, 3))), (1.5, -2.0)
    )
    assert str(e) == "x0, x1 = 1.5, -2.0\nv2 = mul(x0, x1)\nv3 = add(v2, 0.5)\nv4 = sum(v2, v3)"
    assert e.floats(*e.inputs) == -3.0 + -2.5
    assert (e.shared, e.constants, e.uses) == (1, 1, [1, 1, 2, 1, 0])
    with pytest.raises(TypeError, match="takes 2 input"):
        e(Value(1.0))


def test_unknown_op_in_expressions_is_an_error() -> None:
    @given(expressions(ops=["nope"]))
    def check(e: Expression) -> None:
        pass

    with pytest.raises(ValueError, match="no op named 'nope'"):
        check()


@given(graphs(max_inputs=2, max_steps=3, ops=BUILT_IN_OPS))
def test_graphs_are_pairs_of_f_and_inputs(graph: tuple[Expression, list[float]]) -> None:
    f, inputs = graph
    assert inputs == list(f.inputs) and 1 <= len(inputs) <= 2


# ---- assert_gradients_match ----


def test_assert_gradients_match_passes_true_and_fails_hidden_gradients() -> None:
    assert_gradients_match(lambda x, y: (x * y).sigmoid() / y, [0.4, 1.7])
    with pytest.raises(GradcheckError):
        assert_gradients_match(lambda x: x * x.data, [3.0])


def test_assert_gradients_match_takes_a_smaller_step_where_the_difference_truncates() -> None:
    # arcsin(1e5 (x - 2)) at u = 0.4: at eps = 1e-6 the central difference is off by about
    # eps^2 / 6 times the third derivative (1e15 times arcsin's third at 0.4), 0.4 % of the slope.
    def steep(x: Value) -> Value:
        return ((x - 2.0) * 1e5).arcsin()

    with pytest.raises(GradcheckError, match="MISMATCH"):
        ag.gradcheck(steep, [2.000004])
    assert_gradients_match(steep, [2.000004])  # right at eps = 1e-7
    wrong = custom_op("badsin", math.sin, lambda out, a: (1.01 * math.cos(a),))
    with wrong as badsin, pytest.raises(GradcheckError, match="MISMATCH"):  # wrong at both steps
        assert_gradients_match(lambda x: badsin((x - 2.0) * 1e5), [2.000004])


def test_assert_gradients_match_compares_with_the_float_twin() -> None:
    assert_gradients_match(lambda x: x.exp(), [0.5], reference=math.exp)
    with pytest.raises(AssertionError, match="on Values but"):
        assert_gradients_match(lambda x: x.exp(), [0.5], reference=lambda x: math.exp(x) + 1e-9)


def test_assert_gradients_match_on_a_function_that_differentiates_inside() -> None:
    # f(x) = d(x^3)/dx = 3x^2 as a graph: its value needs recording on, also inside no_grad().
    def f(x: Value) -> Value:
        return ag.grad(x**3, x, create_graph=True)

    assert_gradients_match(f, [2.0], reference=lambda x: 3 * x * x)
    with ag.no_grad():
        assert_gradients_match(f, [2.0], reference=lambda x: 3 * x * x)
    with pytest.raises(AssertionError, match="on Values but"):
        assert_gradients_match(f, [2.0], reference=lambda x: 3 * x * x + 1e-6)


def test_assert_gradients_match_allows_for_rounding_at_large_values() -> None:
    # f = 1e8 + x / 1000: rounding of f near 1e8 (1.5e-8) over 2 eps puts ~1e-2 of noise into
    # the central difference, far beyond atol for a slope of 1e-3. gradcheck's plain tolerance
    # cannot tell that from a wrong derivative; the property allows for it.
    def f(x: Value) -> Value:
        return x * 1e-3 + 1e8

    noisy = ag.gradcheck_report(f, [0.3])
    assert noisy.rows[0].difference > noisy.rows[0].allowed
    assert_gradients_match(f, [0.3])


@settings(max_examples=30)
@given(st.data())
def test_strategies_compose_in_a_users_property(data: st.DataObject) -> None:
    x = data.draw(values(-2.0, 2.0, away_from=(0.0,)))
    (b,) = data.draw(op_inputs("log"))
    assert_gradients_match(lambda p, q: p.relu() * q.log() + p / q, [x, b])


def test_random_graphs_find_an_undeclared_kink_and_respect_a_declared_one() -> None:
    # hypot is a cone at the origin. Undeclared, the graphs soon feed it (x, x) with x near 0.
    def hypot_op(**kwargs: Any) -> AbstractContextManager[OpFunction]:
        return custom_op(
            "hypot", math.hypot, lambda out, a, b: (div(a, out), div(b, out)), arity=2, **kwargs
        )

    def run(name: str) -> None:
        @settings(max_examples=300, phases=[Phase.generate])
        @given(graphs(ops=[name, "add"]))
        def check(graph: tuple[Expression, list[float]]) -> None:
            assert_gradients_match(*graph)

        check()

    with hypot_op() as hypot, pytest.raises(GradcheckError, match="MISMATCH"):
        run(hypot.op.name)
    with hypot_op(kinks=lambda a, b: ((0.0,), (0.0,))) as hypot:
        run(hypot.op.name)
