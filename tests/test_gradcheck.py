"""gradcheck and custom ops: true gradients pass, wrong ones fail with a table, kinks are named."""

from __future__ import annotations

import math
import sys
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from strategies import custom_op

import autograd as ag
from autograd import GradcheckError, KinkError, KinkWarning, Value, gradcheck, no_grad
from autograd.gradcheck import gradcheck_report, kinks_in_reach
from autograd.ops import div


@pytest.fixture
def no_warnings():
    """Turn every warning into an error inside the test: a plain pass must stay silent."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---- true gradients of composite functions pass ----


def seed_neuron(w0: Value, w1: Value, w2: Value, b: Value) -> Value:
    """The seed's neuron: relu(w . x + b) squared, with x = (1, -2, 3)."""
    return ag.sum([w0 * 1.0, w1 * -2.0, w2 * 3.0, b]).relu().square()


COMPOSITES = {
    "seed neuron": (seed_neuron, [-3.0, -1.0, 2.0, 1.0]),
    "tanh, exp, div": (lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, 1.2]),
    "log and pow": (lambda x, y: (x**y).log() + y ** (-1.5) - 2**x, [1.7, 0.8]),
    "sigmoid and reflected constants": (lambda x: 3 - 1 / x.sigmoid() + (-x) * 0.5, [-0.4]),
    "shared subexpression": (
        lambda x, y: (lambda h: h * h + h.exp() - h / y)(x * y + x),
        [0.6, -0.9],
    ),
    "n-ary sum": (lambda a, b, c: ag.sum([a, a * b, b.square(), c.tanh(), 2.0]), [0.5, -1.5, 2.5]),
    "deep chain": (lambda x: _chain(x, 200), [0.3]),
}


def _chain(x: Value, n: int) -> Value:
    for _ in range(n):
        x = (x * 1.01).tanh() + 0.01
    return x


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_true_gradients_of_composites_pass(name: str, no_warnings: None) -> None:
    f, inputs = COMPOSITES[name]
    assert gradcheck(f, inputs) is True
    report = gradcheck_report(f, inputs)
    assert all(r.status == "ok" for r in report.rows)
    assert all(r.difference <= 1e-6 * (1 + abs(r.numeric)) for r in report.rows)


def test_report_holds_hand_derived_numbers() -> None:
    # f(x, y) = x^2 y at (3, 2): df/dx = 2xy = 12, df/dy = x^2 = 9.
    report = gradcheck_report(lambda x, y: x.square() * y, [3.0, 2.0])
    assert report.output == 18.0
    assert [r.analytic for r in report.rows] == [12.0, 9.0]
    assert [r.numeric for r in report.rows] == pytest.approx([12.0, 9.0], abs=1e-7)
    assert report.passed


def test_second_derivative_through_create_graph_passes() -> None:
    # d/dx (x^3) = 3x^2 as a Value; gradcheck then checks its derivative 6x.
    def dcube(x: Value) -> Value:
        return ag.grad(x**3, x, create_graph=True)

    report = gradcheck_report(dcube, [1.5])
    assert report.output == pytest.approx(6.75)
    assert report.rows[0].analytic == pytest.approx(9.0)
    assert gradcheck(dcube, [1.5])


# ---- wrong derivatives fail, with the table showing both numbers ----


def test_wrong_custom_op_derivative_fails_with_a_table() -> None:
    # cube's derivative is 3a^2; this op claims 3a. At a = 1.5: analytic 4.5, numeric 6.75.
    with (
        custom_op("badcube", lambda a: a**3, lambda out, a: (3.0 * a,)) as cube,
        pytest.raises(GradcheckError) as info,
    ):
        gradcheck(lambda a: cube(a), [1.5])
    err = info.value
    assert not isinstance(err, KinkError)
    row = err.report.rows[0]
    assert row.analytic == 4.5
    assert row.numeric == pytest.approx(6.75, abs=1e-6)
    assert row.status == "MISMATCH"
    text = str(err)
    assert "analytic" in text and "numeric" in text and "|difference|" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("x0 "))
    assert line.split()[:4] == ["x0", "1.5", "4.5", f"{row.numeric:.10g}"]
    assert line.split()[-1] == "MISMATCH"


def test_only_the_wrong_input_fails() -> None:
    # a * b with d/db claimed as 2a: input a passes, input b fails.
    with (
        custom_op("badmul", lambda a, b: a * b, lambda out, a, b: (b, 2.0 * a)) as badmul,
        pytest.raises(GradcheckError) as info,
    ):
        gradcheck(badmul, [Value(2.0, "a"), Value(5.0, "b")])
    rows = {r.name: r for r in info.value.report.rows}
    assert rows["a"].status == "ok" and rows["a"].analytic == 5.0
    assert rows["b"].status == "MISMATCH" and rows["b"].analytic == 4.0
    assert rows["b"].numeric == pytest.approx(2.0, abs=1e-6)
    assert "failed for 1 of 2" in str(info.value)


def test_dependence_hidden_behind_data_fails_showing_both_numbers() -> None:
    # f(x) = x * x.data looks like x^2 to the numbers but like 3 x to the graph at x = 3.
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * x.data, [3.0])
    row = info.value.report.rows[0]
    assert row.analytic == 3.0
    assert row.numeric == pytest.approx(6.0, abs=1e-6)
    line = next(ln for ln in str(info.value).splitlines() if ln.startswith("x0 "))
    assert line.split()[2] == "3" and float(line.split()[3]) == pytest.approx(6.0)


def test_wholly_hidden_input_has_zero_analytic_gradient() -> None:
    # f(x, y) = x * y.data: the graph sees no y at all, so d/dy is 0 against a numeric x = 1.5.
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x * y.data, [1.5, -2.0])
    x_row, y_row = info.value.report.rows
    assert x_row.status == "ok"
    assert y_row.analytic == 0.0 and y_row.numeric == pytest.approx(1.5, abs=1e-6)


def test_tolerances_are_atol_plus_rtol_times_numeric() -> None:
    # A derivative 0.05% too large: inside rtol=1e-3, outside rtol=1e-4.
    with custom_op("nearly", lambda a: 2.0 * a, lambda out, a: (2.001,)) as nearly:
        assert gradcheck(nearly, [1.0])
        with pytest.raises(GradcheckError) as info:
            gradcheck(nearly, [1.0], rtol=1e-4)
    row = info.value.report.rows[0]
    assert row.allowed == pytest.approx(1e-5 + 1e-4 * 2.0)
    assert row.difference == pytest.approx(1e-3, rel=1e-3)


# ---- kinks ----


def test_relu_at_its_kink_passes_on_the_left_slope_and_says_so() -> None:
    with pytest.warns(KinkWarning) as record:
        assert gradcheck(lambda x: x.relu() * 3.0 + x, [0.0]) is True
    message = str(record[0].message)
    assert "relu's kink at 0" in message
    assert "one-sided" in message
    assert "left slope 1, right slope 4" in message
    assert "the analytic gradient 1 is the left slope" in message


def test_kink_that_matches_neither_side_is_reported_as_a_kink() -> None:
    # relu(x) - relu(-x) is x, with slope 1 on both sides; at 0 the engine's relu'(0) = 0 gives 0.
    with pytest.raises(KinkError) as info:
        gradcheck(lambda x: x.relu() - (-x).relu(), [Value(0.0, "x")])
    row = info.value.report.rows[0]
    assert isinstance(info.value, GradcheckError)
    assert row.status == "kink, inconclusive"
    assert (row.analytic, row.left, row.right) == (0.0, 1.0, 1.0)
    assert "input x = 0.0 sits within eps of relu's kink at 0" in str(info.value)
    assert "MISMATCH" not in str(info.value)


def test_kink_within_eps_but_not_on_it_is_found() -> None:
    with pytest.warns(KinkWarning, match="relu's kink at 0"):
        gradcheck(lambda x: x.relu(), [3e-7])


def test_kink_reach_scales_with_the_operand_sensitivity() -> None:
    # relu(1e6 x) at x = 1e-9: the operand is 1e-3, but an eps step of x moves it by 1.
    with pytest.warns(KinkWarning, match=r"relu\(mul=0.001"):
        gradcheck(lambda x: (x * 1e6).relu(), [1e-9])
    x = Value(1e-9)
    out = (x * 1e6).relu()
    (found,) = kinks_in_reach(out, [x], 1e-6)
    assert [(k.op, k.point, k.at) for k in found] == [("relu", 0.0, pytest.approx(1e-3))]
    # A slow operand is out of reach at the same distance: relu(x) at x = 1e-3.
    y = Value(1e-3)
    assert kinks_in_reach(y.relu(), [y], 1e-6) == [[]]


def _relu_chains(n: int, nodes: int, at_kink: Callable[[int], bool]) -> tuple[list[Value], Value]:
    """n inputs, each through a chain of relus, about `nodes` nodes in all; some inputs at 0."""
    leaves = [Value(0.0 if at_kink(i) else 0.5 + i / n, f"x{i}") for i in range(n)]
    terms = []
    for x in leaves:
        h = x
        for _ in range(max(1, nodes // (2 * n))):
            h = (h * 0.9).relu()  # at x = 0 every relu of the chain sits on its kink
        terms.append(h)
    return leaves, ag.sum(terms)


def test_kink_search_memory_per_node_does_not_grow_with_the_number_of_inputs() -> None:
    per_node = {}
    for n in (20, 200):
        leaves, out = _relu_chains(n, 2000, lambda i: i % 10 == 0)
        size = len(ag.topological_order(out))
        tracemalloc.start()
        try:
            found = kinks_in_reach(out, leaves, 1e-6)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert [bool(f) for f in found] == [i % 10 == 0 for i in range(n)]
        per_node[n] = peak / size
    # One tangent of every input per node would take 10 times the memory at 200 inputs.
    assert per_node[200] < 1.5 * per_node[20] and per_node[200] < 1000, per_node


def test_kink_search_takes_no_more_passes_than_candidates_or_searched_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = sys.modules["autograd.gradcheck"]
    passes = {"reverse": 0, "forward": 0}
    for kind, name in (("reverse", "grad"), ("forward", "_tangents")):
        original = getattr(module, name)

        def counting(*args: Any, _kind: str = kind, _f: Any = original) -> Any:
            passes[_kind] += 1
            return _f(*args)

        monkeypatch.setattr(module, name, counting)

    # 300 inputs, none near a kink: the bound alone settles it, no exact pass at all.
    leaves, out = _relu_chains(300, 1200, lambda i: False)
    assert kinks_in_reach(out, leaves, 1e-6) == [[]] * 300 and passes == {
        "reverse": 0,
        "forward": 0,
    }
    # Two inputs at the kink of their chain's first relu (relu'(0) = 0, so the second one stays
    # out of reach): two candidate operands, two reverse passes for all 300 inputs.
    leaves, out = _relu_chains(300, 1200, lambda i: i in (7, 8))
    found = kinks_in_reach(out, leaves, 1e-6)
    assert [len(f) for f in found] == [1 if i in (7, 8) else 0 for i in range(300)]
    assert passes == {"reverse": 2, "forward": 0}
    # Every input at the kink, two of them searched: two forward passes, not 300 reverse ones.
    leaves, out = _relu_chains(300, 1200, lambda i: True)
    found = kinks_in_reach(out, leaves, 1e-6, which=[3, 250])
    assert [len(f) for f in found] == [1 if i in (3, 250) else 0 for i in range(300)]
    assert passes == {"reverse": 2, "forward": 2}


def test_kink_out_of_reach_passes_silently(no_warnings: None) -> None:
    assert gradcheck(lambda x: x.relu() * 3.0, [1e-3])


def test_wrong_derivative_away_from_the_kink_is_a_plain_failure() -> None:
    with custom_op(
        "badrelu",
        lambda a: max(a, 0.0),
        lambda out, a: (0.25,),  # not 0.5: at 0 that is the central difference itself
        kinks=lambda a: ((0.0,),),
    ) as badrelu:
        with pytest.raises(GradcheckError) as far:
            gradcheck(badrelu, [0.5])
        with pytest.raises(KinkError) as near:
            gradcheck(badrelu, [0.0])
    assert type(far.value) is GradcheckError
    assert far.value.report.rows[0].status == "MISMATCH"
    assert "badrelu" in str(near.value) and "matches neither side" in str(near.value)


def test_pole_of_div_is_named() -> None:
    with pytest.raises(
        KinkError, match=r"div's kink at 0 in its operand 1 \(node div\(1.0, x0=1e-07\)\)"
    ):
        gradcheck(lambda x: 1.0 / x, [1e-7])


def test_non_finite_values_never_pass() -> None:
    # log at 0: f = -inf, the right slope is inf too; an infinite slope confirms nothing.
    with pytest.raises(KinkError, match="log's kink at 0") as info:
        gradcheck(lambda x: x.log(), [0.0])
    assert "f = -inf at these inputs: there is no gradient to check." in str(info.value)
    with pytest.raises(KinkError, match="pow's kink at 0"):
        gradcheck(lambda x: x**0.5, [0.0])
    with pytest.raises(GradcheckError, match="f = inf at these inputs"):
        gradcheck(lambda x: x * math.inf, [1.0])


def test_kink_of_a_custom_op_is_named() -> None:
    with custom_op(
        "hypot",
        math.hypot,
        lambda out, a, b: (div(a, out), div(b, out)),
        arity=2,
        kinks=lambda a, b: ((0.0,) if b == 0 else (), (0.0,) if a == 0 else ()),
    ) as hypot:
        name = hypot.op.name
        with pytest.raises(KinkError, match=f"{name}'s kink at 0"):
            gradcheck(lambda a: hypot(a, 0.0), [0.0])


# ---- inputs and misuse ----


def test_input_values_keep_their_grad_and_name_the_rows() -> None:
    a, b = Value(0.5, "a"), Value(-1.5, "b")
    a.grad = 7.0
    report = gradcheck_report(lambda p, q: p * q, [a, b])
    assert [r.name for r in report.rows] == ["a", "b"]
    assert [r.analytic for r in report.rows] == [-1.5, 0.5]
    assert (a.grad, b.grad) == (7.0, 0.0)


def test_a_bare_number_is_one_input_and_unused_inputs_get_zero() -> None:
    assert gradcheck(lambda x: x.tanh(), 0.25)
    report = gradcheck_report(lambda x, y: x.exp(), [0.0, 4.0])
    assert report.rows[1].analytic == 0.0 and report.rows[1].numeric == 0.0


@pytest.mark.parametrize("x", [1e8, 1e9, 1e10])
def test_central_difference_divides_by_the_step_actually_taken(x: float) -> None:
    eps = 1e-6
    step = (x + eps) - (x - eps)
    assert step != 2 * eps  # floats near x are too far apart to hold x ± eps exactly
    for f in (lambda v: v, lambda v: ag.sum([v, 5.0])):
        report = gradcheck_report(f, [x], eps=eps)
        assert report.rows[0].numeric == 1.0  # the rise is the step itself: no rounding left
        assert report.passed
    # A kink's one-sided slopes divide by their own steps too: d/dv relu(v - x) (v - x + 1) is 0
    # just left of v = x and 1 just right of it (over eps instead, the right slope would be 1.9).
    report = gradcheck_report(lambda v: (v - x).relu() * (v - x + 1.0), [x], eps=eps)
    row = report.rows[0]
    assert row.status == "kink, left slope" and row.left == 0.0
    assert row.right == pytest.approx(1.0, rel=1e-5)


def test_an_eps_below_the_float_spacing_at_an_input_is_named() -> None:
    with pytest.raises(
        ValueError, match=r"eps=1e-06 is below the spacing of floats at input x1 = 1e\+20"
    ):
        gradcheck(lambda a, b: a * b, [1.0, 1e20])


def test_works_inside_no_grad() -> None:
    with no_grad():
        report = gradcheck_report(lambda x: x.square(), [1.5])
    assert report.rows[0].analytic == 3.0


@pytest.mark.parametrize(
    ("f", "inputs", "kwargs", "error", "match"),
    [
        (lambda x: x, [], {}, ValueError, "at least one input"),
        (lambda x: x, "ab", {}, TypeError, "got str"),
        (lambda x: x, [math.inf], {}, ValueError, "inputs must be finite"),
        (lambda x: x, [[1.0]], {}, TypeError, "needs a real number, got list"),
        (lambda x: x, [1.0], {"eps": 0.0}, ValueError, "eps must be a finite number > 0"),
        (lambda x: x, [1.0], {"rtol": -1.0}, ValueError, "rtol must be"),
        (lambda x: 2.0, [1.0], {}, TypeError, "gradcheck: f must return a Value, got float"),
        ("f", [1.0], {}, TypeError, "callable f, got str"),
    ],
)
def test_bad_arguments_are_named(f, inputs, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        gradcheck(f, inputs, **kwargs)
