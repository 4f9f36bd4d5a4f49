"""Gradients of gradients: the rule table run on Values, against analytic formulas and differences."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import BUILT_IN_OPS

import autograd as ag
from autograd import Value, derivative, hessian
from autograd.functional import gradient
from autograd.testing import expressions, values

REL = (
    1e-12  # the second derivative's graph does the analytic formula's arithmetic, in another order
)


def second(f: Callable[[Value], Value], x0: float) -> tuple[float, float]:
    """(f'(x0), f''(x0)) through grad(create_graph=True) and a second grad."""
    x = Value(x0, "x")
    (g,) = ag.grad(f(x), [x], create_graph=True)
    (h,) = ag.grad(g, [x])
    return g.data, h


def second_by_backward(f: Callable[[Value], Value], x0: float) -> float:
    """f''(x0) through backward(create_graph=True), then backward on the Value left in x.grad."""
    x = Value(x0, "x")
    f(x).backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)  # even a constant derivative (of x / 3) comes back as a Value
    x.grad = 0.0
    g.backward()
    return x.grad


# ---- one-variable functions: (f, f', f'') with the second derivative written out by hand ----

ANALYTIC: dict[
    str,
    tuple[
        Callable[[Value], Value],
        Callable[[float], float],
        Callable[[float], float],
        st.SearchStrategy[float],
    ],
] = {
    "cube": (lambda x: x**3, lambda x: 3 * x * x, lambda x: 6 * x, values(-5, 5)),
    "tanh": (
        lambda x: x.tanh(),
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
        values(-4, 4),
    ),
    "sigmoid": (
        lambda x: x.sigmoid(),
        lambda x: _s(x) * (1 - _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 2 * _s(x)),
        values(-6, 6),
    ),
    "exp": (lambda x: x.exp(), math.exp, math.exp, values(-5, 5)),
    "log": (lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / (x * x), values(0.05, 20)),
    "pow 2.5": (
        lambda x: x**2.5,
        lambda x: 2.5 * x**1.5,
        lambda x: 2.5 * 1.5 * x**0.5,
        values(0.05, 10),
    ),
    "pow -1.5": (
        lambda x: x**-1.5,
        lambda x: -1.5 * x**-2.5,
        lambda x: -1.5 * -2.5 * x**-3.5,
        values(0.1, 10),
    ),
    "rpow 3**x": (
        lambda x: 3.0**x,
        lambda x: 3.0**x * math.log(3.0),
        lambda x: 3.0**x * math.log(3.0) ** 2,
        values(-3, 3),
    ),
    "1 / x": (
        lambda x: 1.0 / x,
        lambda x: -1 / x**2,
        lambda x: 2 / x**3,
        values(0.1, 10, away_from=()),
    ),
    "x / 3": (lambda x: x / 3.0, lambda x: 1 / 3, lambda x: 0.0, values(-5, 5)),
    "square": (lambda x: x.square(), lambda x: 2 * x, lambda x: 2.0, values(-5, 5)),
    "relu^2": (
        lambda x: x.relu().square(),
        lambda x: 2 * max(x, 0.0),
        lambda x: 2.0 if x > 0 else 0.0,
        values(-5, 5, away_from=(0.0,)),
    ),
    "tanh(x^2)": (
        lambda x: (x * x).tanh(),
        lambda x: 2 * x * (1 - math.tanh(x * x) ** 2),
        lambda x: 2 * (1 - math.tanh(x * x) ** 2) * (1 - 4 * x * x * math.tanh(x * x)),
        values(-2, 2),
    ),
}


def _s(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("name", list(ANALYTIC))
def test_second_derivative_matches_the_analytic_formula(name: str) -> None:
    f, df, d2f, xs = ANALYTIC[name]

    @settings(max_examples=25)
    @given(xs)
    def check(x0: float) -> None:
        g, h = second(f, x0)
        assert g == pytest.approx(df(x0), rel=REL, abs=1e-14)
        assert h == pytest.approx(d2f(x0), rel=1e-10, abs=1e-13)
        assert second_by_backward(f, x0) == pytest.approx(d2f(x0), rel=1e-10, abs=1e-13)

    check()


@pytest.mark.parametrize("name", list(ANALYTIC))
def test_first_derivative_as_a_graph_equals_the_float_backward_to_the_bit(name: str) -> None:
    # One rule table: run on Values, the rules do the very float operations they do on floats.
    f = ANALYTIC[name][0]
    for x0 in (0.3, 1.7):
        x = Value(x0)
        f(x).backward()
        assert second(f, x0)[0] == x.grad


def test_pow_with_a_value_exponent_has_the_full_analytic_hessian() -> None:
    # f = a^b: f_aa = b(b-1)a^(b-2), f_ab = a^(b-1)(1 + b ln a), f_bb = a^b ln^2 a.
    @settings(max_examples=30)
    @given(values(0.1, 5), values(-3, 3))
    def check(a: float, b: float) -> None:
        h = hessian(lambda x, y: x**y, [a, b])
        ln = math.log(a)
        expected = [
            [b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * ln)],
            [a ** (b - 1) * (1 + b * ln), a**b * ln * ln],
        ]
        np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)

    check()


def test_div_has_the_full_analytic_hessian() -> None:
    # f = a / b: f_aa = 0, f_ab = -1/b^2, f_bb = 2a/b^3.
    @settings(max_examples=30)
    @given(values(-5, 5), values(-5, 5, away_from=(0.0,)))
    def check(a: float, b: float) -> None:
        h = hessian(lambda x, y: x / y, [a, b])
        expected = [[0.0, -1 / b**2], [-1 / b**2, 2 * a / b**3]]
        np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)

    check()


def test_third_and_fourth_derivatives() -> None:
    t = math.tanh(0.4)
    s = _s(0.4)
    assert derivative(lambda x: x**3, 2.0, 3) == 6.0
    assert derivative(lambda x: x**3, 2.0, 4) == 0.0
    assert derivative(lambda x: x**3, -1.5, 0) == -3.375
    assert derivative(lambda x: x.tanh(), 0.4, 3) == pytest.approx(
        -2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-12
    )
    assert derivative(lambda x: x.sigmoid(), 0.4, 3) == pytest.approx(
        s * (1 - s) * (1 - 6 * s + 6 * s * s), rel=1e-12
    )
    assert derivative(lambda x: x.exp(), 0.4, 4) == pytest.approx(math.exp(0.4), rel=1e-14)
    assert derivative(lambda x: x.log(), 2.0, 3) == pytest.approx(2 / 8, rel=1e-14)  # 2 / x^3


def test_grad_with_create_graph_touches_no_grad_and_returns_values() -> None:
    x, y = Value(1.5, "x"), Value(-0.5, "y")
    z = (x * y).tanh() + x.square()
    gx, gy = ag.grad(z, [x, y], create_graph=True)
    assert isinstance(gx, Value) and isinstance(gy, Value)
    assert all(v.grad == 0.0 for v in ag.reverse_topological_order(z))
    t = math.tanh(-0.75)
    assert gx.data == pytest.approx(y.data * (1 - t * t) + 2 * x.data, rel=1e-14)
    # An input the output does not depend on gets a 0 that can still be differentiated.
    w = Value(3.0)
    (gw,) = ag.grad(z, [w], create_graph=True)
    assert isinstance(gw, Value) and gw.data == 0.0 and ag.grad(gw, [x]) == [0.0]


def test_backward_create_graph_leaves_a_value_even_for_a_constant_derivative() -> None:
    x = Value(2.0, "x")
    (x / 3.0 + 1.0).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 1 / 3
    assert ag.grad(x.grad, [x]) == [0.0]


def test_backward_create_graph_accumulates_values_across_passes() -> None:
    x = Value(2.0, "x")
    y = x**3
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 24.0  # 2 * 3x^2
    assert ag.grad(x.grad, [x]) == [24.0]  # 2 * 6x


# ---- random graphs: the Hessian against central differences of the gradient ----


@settings(max_examples=150)
@given(expressions(max_inputs=3, max_steps=8, ops=BUILT_IN_OPS))
def test_random_graph_hessian_matches_differences_of_gradients(expr) -> None:  # type: ignore[no-untyped-def]
    x = np.array(expr.inputs)
    h = hessian(expr, list(x))
    g = gradient(expr, list(x))
    eps = 1e-5
    differences = np.empty_like(h)
    for j in range(len(x)):
        step = np.zeros_like(x)
        step[j] = eps
        differences[:, j] = (gradient(expr, list(x + step)) - gradient(expr, list(x - step))) / (
            2 * eps
        )
    # Truncation error grows with the third derivative (hence rtol); rounding with |g| / eps.
    tolerance = 1e-6 + 1e-4 * np.abs(h) + 1e-10 * np.max(np.abs(g)) / eps
    assert np.all(np.abs(h - differences) <= tolerance), (
        f"{expr}\nH = {h}\ndifferences = {differences}"
    )
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-12)


# ---- the Hessian of a two-variable function ----


def f2(x: Value, y: Value) -> Value:
    """f(x, y) = x^3 y + tanh(x y) + e^(x - y) / y."""
    return x**3 * y + (x * y).tanh() + (x - y).exp() / y


def f2_float(x: float, y: float) -> float:
    return x**3 * y + math.tanh(x * y) + math.exp(x - y) / y


def test_two_variable_hessian_is_symmetric_and_matches_finite_differences() -> None:
    x0, y0 = 0.7, 1.3
    h = hessian(f2, [x0, y0])
    assert h.shape == (2, 2)
    assert h[0, 1] == pytest.approx(h[1, 0], rel=1e-13)
    # Second-order central differences of f itself (no gradients involved), step 1e-4.
    e = 1e-4
    fxx = (f2_float(x0 + e, y0) - 2 * f2_float(x0, y0) + f2_float(x0 - e, y0)) / e**2
    fyy = (f2_float(x0, y0 + e) - 2 * f2_float(x0, y0) + f2_float(x0, y0 - e)) / e**2
    fxy = (
        f2_float(x0 + e, y0 + e)
        - f2_float(x0 + e, y0 - e)
        - f2_float(x0 - e, y0 + e)
        + f2_float(x0 - e, y0 - e)
    ) / (4 * e * e)
    np.testing.assert_allclose(h, [[fxx, fxy], [fxy, fyy]], rtol=1e-5)
    # And exactly, by hand: t = tanh(xy), s = 1 - t^2, q = e^(x - y).
    t = math.tanh(x0 * y0)
    s, q = 1 - t * t, math.exp(x0 - y0)
    exact = [
        [
            6 * x0 * y0 - 2 * y0 * y0 * t * s + q / y0,
            3 * x0**2 + s - 2 * x0 * y0 * t * s - q / y0 - q / y0**2,
        ],
        [0.0, -2 * x0 * x0 * t * s + q / y0 + 2 * q / y0**2 + 2 * q / y0**3],
    ]
    exact[1][0] = exact[0][1]
    np.testing.assert_allclose(h, exact, rtol=1e-12)


def test_polynomial_hessian_is_exact() -> None:
    # f = x^2 y + y^3: H = [[2y, 2x], [2x, 6y]].
    h = hessian(lambda x, y: x * x * y + y**3, [1.5, -2.0])
    assert h.tolist() == [[-4.0, 3.0], [3.0, -12.0]]


def test_helpers_record_their_graphs_even_inside_no_grad() -> None:
    # Under no_grad() f's nodes would be leaves and every derivative 0.
    with ag.no_grad():
        assert hessian(lambda x, y: x * x * y + y**3, [1.5, -2.0]).tolist() == [
            [-4.0, 3.0],
            [3.0, -12.0],
        ]
        assert derivative(lambda x: x**3, 2.0, 2) == 12.0
        assert gradient(lambda x, y: x * y, [3.0, 4.0]).tolist() == [4.0, 3.0]
        assert not ag.is_grad_enabled()


def test_hessian_leaves_value_inputs_alone() -> None:
    a = Value(0.5, "a")
    h = hessian(lambda x: x.exp() * x, [a])  # (x e^x)'' = (x + 2) e^x
    assert h[0, 0] == pytest.approx(2.5 * math.exp(0.5), rel=1e-14)
    assert (a.grad, a.op) == (0.0, "")


def test_every_entry_point_runs_f_on_fresh_leaves_labelled_like_its_inputs() -> None:
    # derivative, hessian, gradient, gradcheck and assert_gradients_match share one helper.
    from autograd.testing import assert_gradients_match

    a, seen = Value(0.5, "a"), []

    def f(x: Value, y: Value) -> Value:
        seen.append((x.label, y.label, x is a, x.op))
        return x * y

    first = []  # each entry point's first call of f: the gradient taken on the graph
    for run in [
        lambda: hessian(f, [a, 3]),
        lambda: gradient(f, [a, 3]),
        lambda: ag.gradcheck(f, [a, 3]),  # its central differences then run on plain numbers
        lambda: assert_gradients_match(f, [a, 3]),
        lambda: derivative(lambda x: f(x, Value(3.0, "x1")), a),
    ]:
        seen.clear()
        run()
        first.append(seen[0])
    assert first == [("a", "x1", False, "")] * 5
    assert (a.grad, a.op) == (0.0, "")
    for call, who in [
        (lambda g: hessian(g, [1.0]), "hessian()"),
        (lambda g: ag.gradcheck(g, [1.0]), "gradcheck"),
        (lambda g: assert_gradients_match(g, [1.0]), "assert_gradients_match()"),
    ]:
        with pytest.raises(TypeError, match=rf"^{re.escape(who)} needs a callable f, got str"):
            call("f")
    # A plain number returned is a constant for derivatives, and refused by the checks.
    assert derivative(lambda x: 2.5, 1.0) == 0.0
    with pytest.raises(TypeError, match=r"^gradcheck: f must return a Value, got float"):
        ag.gradcheck(lambda x: 2.5, [1.0])


def test_bad_arguments_are_named() -> None:
    with pytest.raises(
        TypeError, match="hessian\\(\\) needs a list of numbers or Values, got float"
    ):
        hessian(lambda x: x, 3.0)
    with pytest.raises(ValueError, match="at least one input"):
        hessian(lambda x: x, [])
    with pytest.raises(TypeError, match="f must return a Value or a number, got str"):
        hessian(lambda x: "1", [2.0])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="needs a real number, got str"):
        hessian(lambda x: x, ["1"])
    with pytest.raises(ValueError, match="order must be an int >= 0"):
        derivative(lambda x: x, 1.0, -1)
    with pytest.raises(
        ValueError, match=r"^derivative\(\) order must be an int >= 0, got about -10\*\*400$"
    ):
        derivative(lambda x: x, 1.0, -(10**400))
    with pytest.raises(
        TypeError, match=r"^derivative\(\) order needs an int, got float; use int\(x\)$"
    ):
        derivative(lambda x: x, 1.0, 2.0)  # type: ignore[arg-type]
    # Counts take numpy integers, and booleans as 0 and 1, as at every entry point: x^3 at 2.
    cube = lambda x: x * x * x  # noqa: E731
    assert derivative(cube, 2.0, True) == 12.0 and derivative(cube, 2.0, np.int64(2)) == 12.0
    assert derivative(cube, 2.0, False) == 8.0


# ---- the same number with and without create_graph, at IEEE-754's special values ----

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, math.inf, -math.inf, math.nan]
SPECIAL += [5e-324, -5e-324]  # subnormal: 1/a overflows, so b a^(b - 1) at b = 0 is 0 * inf


def _same(p: float, q: float) -> bool:
    """Equal as numbers (0.0 == -0.0: the sign of a zero gradient carries no meaning), or both nan."""
    return p == q or (math.isnan(p) and math.isnan(q))


def _torch_pow_grads(a: float, b: float) -> tuple[float, float]:
    """PyTorch's float64 rule for f = a ** b: d/da = b a^(b-1), masked to 0 where b == 0; d/db =
    a^b ln a, masked to 0 where a == 0 and b >= 0. numpy does the IEEE arithmetic."""
    with np.errstate(all="ignore"):
        da = 0.0 if b == 0 else float(b * np.power(a, b - 1.0))
        db = 0.0 if (a == 0 and b >= 0) else float(np.power(a, b) * np.log(a))
    return da, db


def _three_ways(f: Callable[..., Value], point: list[float]) -> list[list[float]]:
    """The gradient at `point` by backward(), by grad(create_graph=True) and by backward(create_graph=True)."""
    xs = [Value(p) for p in point]
    f(*xs).backward()
    plain = [x.grad for x in xs]
    xs = [Value(p) for p in point]
    graph = [g.data for g in ag.grad(f(*xs), xs, create_graph=True)]
    xs = [Value(p) for p in point]
    f(*xs).backward(create_graph=True)
    return [plain, graph, [x.grad.data for x in xs]]


@pytest.mark.parametrize("a", SPECIAL, ids=repr)
def test_pow_derivatives_follow_pytorchs_masks_at_special_values_in_every_mode(a: float) -> None:
    for b in SPECIAL:
        da, db = _torch_pow_grads(a, b)
        for way in _three_ways(lambda x, y: x**y, [a, b]):
            assert _same(way[0], da) and _same(way[1], db), (a, b, way, (da, db))
        # A number exponent or base takes the rule's float shortcuts: still the same numbers.
        for (g,) in _three_ways(lambda x, b=b: x**b, [a])[:2]:
            assert _same(g, da), (a, b, g, da)
        for (g,) in _three_ways(lambda y, a=a: a**y, [b])[:2]:
            assert _same(g, db), (a, b, g, db)
    # The two cases the masks exist for, written out: at a = 0 and b < 0, d/db is -inf.
    assert _torch_pow_grads(0.0, -1.0) == (-math.inf, -math.inf)
    assert _torch_pow_grads(-0.0, -1.0) == (-math.inf, math.inf)  # (-0)^-1 = -inf, ln(-0) = -inf
    assert _torch_pow_grads(0.0, 0.0) == (0.0, 0.0)


def test_pow_keeps_its_graph_through_a_zero_exponent_where_the_formula_is_already_zero() -> None:
    # f = a ** b: d2f/da db = a^(b-1) (1 + b ln a), which is 1/a at b = 0.
    assert hessian(lambda a, b: a**b, [2.0, 0.0])[0, 1] == 0.5
    assert hessian(lambda a, b: a**b, [0.25, 0.0])[0, 1] == 4.0


_UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "square"]
_BINARY: dict[str, Callable[[Value, Value], Value]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: x**y,
    "sum with a repeated operand": lambda x, y: ag.sum([x, y, x]),
    "dot with repeated operands": lambda x, y: ag.dot([x, y], [y, x], x),
    "dot with constant inputs": lambda x, y: ag.dot([x, y], [2.0, -3.0], y),
    "x * 2 ** y": lambda x, y: x * 2.0**y,
}


@pytest.mark.parametrize("name", _UNARY + list(_BINARY))
def test_backward_and_create_graph_give_the_same_gradients_at_special_values(name: str) -> None:
    if name in _UNARY:
        f: Callable[..., Value] = lambda x: ag.apply(name, x)  # noqa: E731
        points = [[a] for a in SPECIAL]
    else:
        f = _BINARY[name]
        points = [[a, b] for a in SPECIAL for b in SPECIAL]
    for point in points:
        plain, graph, by_backward = _three_ways(f, point)
        for p, q, r in zip(plain, graph, by_backward):
            assert _same(p, q) and _same(p, r), (name, point, plain, graph, by_backward)
