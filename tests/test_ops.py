"""The rule table (`autograd/ops.py`): every entry against an oracle written here, independently.

Each built-in op has an oracle below: its forward with numpy and its local derivatives derived by
hand. The tests iterate the table, so a new entry in ops.py fails here until its oracle is added.
Checked per op, on inputs drawn from the op's own testing domain:
- forward and local derivatives against the oracle, and against central differences;
- second derivatives (the rules run on Values) against central differences of the oracle's
  derivatives;
- the array form (what replay runs over a batch) against the scalar rule, on drawn inputs and on
  a grid of IEEE special values.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import BUILT_IN_OPS, op_inputs

import autograd as ag
from autograd import Value
from autograd.ops import BUILT_IN, OPS, Op, array_rules, data

# Per op: its forward in numpy, and d f / d x_i by hand. Independent of autograd/ops.py on purpose.
Oracle = tuple[Callable[..., float], Callable[..., tuple[float, ...]]]


def _sigmoid(a: float) -> float:
    return float(1.0 / (1.0 + np.exp(-a)))


def _dot(*xs: float) -> float:
    """w . x + b with numpy, for operands (w_1..w_n, x_1..x_n) and an optional trailing b."""
    n = len(xs) // 2
    bias = xs[-1] if len(xs) % 2 else 0.0
    return float(np.multiply(xs[:n], xs[n : 2 * n]).sum()) + bias


def _dot_derivative(*xs: float) -> tuple[float, ...]:
    n = len(xs) // 2
    return (*xs[n : 2 * n], *xs[:n]) + ((1.0,) if len(xs) % 2 else ())


def _clip_derivative(x: float, lo: float, hi: float) -> tuple[float, float, float]:
    # With lo < hi (the domain draws them so): x passes between the bounds, else a bound does.
    return (float(lo < x < hi), float(x < lo), float(x > hi))


ORACLES: dict[str, Oracle] = {
    "add": (lambda a, b: np.add(a, b), lambda a, b: (1.0, 1.0)),
    "sub": (lambda a, b: np.subtract(a, b), lambda a, b: (1.0, -1.0)),
    "mul": (lambda a, b: np.multiply(a, b), lambda a, b: (b, a)),
    "div": (lambda a, b: np.divide(a, b), lambda a, b: (1.0 / b, -a / b**2)),
    "neg": (lambda a: np.negative(a), lambda a: (-1.0,)),
    "pow": (
        lambda a, b: np.power(a, b),
        lambda a, b: (b * np.power(a, b - 1.0), np.power(a, b) * np.log(a)),
    ),
    "exp": (lambda a: np.exp(a), lambda a: (np.exp(a),)),
    "log": (lambda a: np.log(a), lambda a: (1.0 / a,)),
    "tanh": (lambda a: np.tanh(a), lambda a: (1.0 / np.cosh(a) ** 2,)),
    "sigmoid": (_sigmoid, lambda a: (_sigmoid(a) * (1.0 - _sigmoid(a)),)),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (1.0 if a > 0 else 0.0,)),
    "square": (lambda a: np.square(a), lambda a: (2.0 * a,)),
    "clip": (lambda x, lo, hi: np.clip(x, lo, hi), _clip_derivative),
    "sum": (lambda *xs: np.sum(xs), lambda *xs: (1.0,) * len(xs)),
    "dot": (_dot, _dot_derivative),
    # trigonometric functions and roots
    "sin": (np.sin, lambda a: (np.cos(a),)),
    "cos": (np.cos, lambda a: (-np.sin(a),)),
    "tan": (np.tan, lambda a: (1.0 / np.cos(a) ** 2,)),
    "arcsin": (np.arcsin, lambda a: (1.0 / np.sqrt(1.0 - a * a),)),
    "arccos": (np.arccos, lambda a: (-1.0 / np.sqrt(1.0 - a * a),)),
    "arctan": (np.arctan, lambda a: (1.0 / (1.0 + a * a),)),
    "sqrt": (np.sqrt, lambda a: (0.5 / np.sqrt(a),)),
    "cbrt": (np.cbrt, lambda a: (np.cbrt(a) / (3.0 * a),)),
    # hyperbolic functions
    "sinh": (np.sinh, lambda a: (np.cosh(a),)),
    "cosh": (np.cosh, lambda a: (np.sinh(a),)),
    "arcsinh": (np.arcsinh, lambda a: (1.0 / np.hypot(a, 1.0),)),
    "arccosh": (np.arccosh, lambda a: (1.0 / np.sqrt((a - 1.0) * (a + 1.0)),)),
    "arctanh": (np.arctanh, lambda a: (0.5 / (1.0 + a) + 0.5 / (1.0 - a),)),
    # logarithms and exponentials in other bases, and near 0
    "log2": (np.log2, lambda a: (np.log2(np.e) / a,)),
    "log10": (np.log10, lambda a: (np.log10(np.e) / a,)),
    "log1p": (np.log1p, lambda a: (1.0 / (1.0 + a),)),
    "expm1": (np.expm1, lambda a: (np.exp(a),)),
    "exp2": (np.exp2, lambda a: (np.exp2(a) * np.log(2.0),)),
    # piecewise functions
    "abs": (np.abs, lambda a: (np.sign(a),)),
    "sign": (np.sign, lambda a: (0.0,)),
    "floor": (np.floor, lambda a: (0.0,)),
    "ceil": (np.ceil, lambda a: (0.0,)),
    "leaky_relu": (
        lambda x, s: np.where(x > 0, x, s * x),
        lambda x, s: (1.0, 0.0) if x > 0 else (s, x),
    ),
    "elu": (
        lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
        lambda x, a: (1.0, 0.0) if x > 0 else (a * np.exp(x), np.expm1(x)),
    ),
    "softplus": (lambda a: np.logaddexp(0.0, a), lambda a: (_sigmoid(a),)),
    # functions of two numbers
    "arctan2": (
        np.arctan2,
        lambda y, x: (x / (x * x + y * y), -y / (x * x + y * y)),
    ),
    "hypot": (np.hypot, lambda a, b: (a / np.hypot(a, b), b / np.hypot(a, b))),
    # the domain keeps a and b apart, so that one of them is the larger
    "maximum": (np.maximum, lambda a, b: (float(a > b), float(b > a))),
    "minimum": (np.minimum, lambda a, b: (float(a < b), float(b < a))),
    "mod": (np.mod, lambda a, b: (1.0, -np.floor(a / b))),
}


def test_every_built_in_op_has_an_oracle_and_nn_adds_none() -> None:
    # A fresh interpreter sees exactly the built-in table, whatever other tests registered here.
    code = "import autograd, nn; print(' '.join(sorted(autograd.OPS)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == sorted(ORACLES) == sorted(BUILT_IN) == list(BUILT_IN_OPS)


def _central(f: Callable[..., float], xs: Sequence[float], i: int, eps: float = 1e-6) -> float:
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / ((xs[i] + eps) - (xs[i] - eps))


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_op_matches_its_oracle_and_central_differences(name: str) -> None:
    op = OPS[name]
    forward, derivative = ORACLES[name]
    count = []

    @settings(max_examples=80)
    @given(op_inputs(name))
    def check(xs: tuple[float, ...]) -> None:
        count.append(xs)
        out = op.f(*xs)
        assert out == pytest.approx(float(forward(*xs)), rel=1e-12, abs=1e-300)
        local = op.df(out, *xs)
        expected = derivative(*xs)
        assert len(local) == len(xs)
        for i, (d, e) in enumerate(zip(local, expected)):
            assert d == pytest.approx(float(e), rel=1e-9, abs=1e-12)
            assert d == pytest.approx(_central(op.f, xs, i), rel=1e-5, abs=1e-6)
        # The same numbers through the engine: one node, backward into its leaves.
        leaves = [Value(x) for x in xs]
        node = ag.apply(op, *leaves)
        assert node.op == name and node.data == out
        node.backward()
        # A leaf used twice (sum of the same value) would sum its entries; these are all distinct.
        assert [v.grad for v in leaves] == pytest.approx([float(d) for d in local], rel=1e-12)

    check()
    assert len(count) == 80


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_op_second_derivatives_match_differences_of_its_oracle(name: str) -> None:
    # ag.hessian runs the rule on Values (create_graph); the oracle's derivatives are numpy.
    op = OPS[name]
    _, derivative = ORACLES[name]
    count = []

    @settings(max_examples=30)
    @given(op_inputs(name))
    def check(xs: tuple[float, ...]) -> None:
        count.append(xs)
        h = ag.hessian(lambda *v: ag.apply(op, *v), list(xs))
        for i, j in itertools.product(range(len(xs)), repeat=2):
            expected = _central(lambda *p, i=i: float(derivative(*p)[i]), xs, j)
            assert h[i, j] == pytest.approx(expected, rel=1e-5, abs=1e-6), (i, j)

    check()
    assert len(count) == 30


# ---- the array form: what replay runs over a batch ----

# 0.5 and 1.5: x ** 0.5 is a square root, and so is the derivative of x ** 1.5.
SPECIAL = [-math.inf, -1e300, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 1.5, 3.0, 1e300, math.inf, math.nan]


def _same(got: float, want: float) -> bool:
    """Equal with the same sign of zero, both nan, or within 4 ulp.

    4 ulp, not 0: numpy's exp, log and tanh are its own (SIMD) code and may round differently
    from Python's math on some CPUs.
    """
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if got == want:
        return math.copysign(1.0, got) == math.copysign(1.0, want) or got != 0.0
    return math.isfinite(want) and abs(got - want) <= 4 * math.ulp(want)


def _check_array_form(name: str, rows: list[tuple[float, ...]]) -> None:
    op = OPS[name]
    columns = [np.array(c, dtype=np.float64) for c in zip(*rows)]
    _check_array_rows(op, rows, columns, "every operand a column")
    # Replay hands a shared operand (a constant exponent, a weight) to the array form as one
    # number for the whole batch: an array of shape (1,) that numpy broadcasts (a group of one
    # node), or a stride-0 view (several nodes sharing it). numpy's loops special-case such an
    # operand: np.power takes sqrt for a broadcast exponent of 0.5, which a full column never
    # reaches. So each operand is also tried both ways, once per value it takes in `rows`.
    for i, column in enumerate(columns):
        for v in dict.fromkeys(float(c).hex() for c in column):  # -0.0 apart from 0.0
            pick = [k for k, xs in enumerate(rows) if xs[i].hex() == v]
            cols = [c[pick] for c in columns]
            one = np.array([float.fromhex(v)])
            for how, cols[i] in [("(1,)", one), ("stride-0", np.broadcast_to(one, (len(pick),)))]:
                _check_array_rows(
                    op, [rows[k] for k in pick], cols, f"operand {i} a {how} constant"
                )


def _check_array_rows(op: Op, rows: list[tuple[float, ...]], columns: list[Any], how: str) -> None:
    """The array form on `columns` (the operands of `rows`) against the scalar rule, row by row."""
    rules = array_rules(op)
    assert rules is not None, f"{op.name} has no array form"
    array_f, array_df = rules
    with np.errstate(all="ignore"):
        out = np.broadcast_to(array_f(*columns), (len(rows),))
        local = [np.broadcast_to(d, (len(rows),)) for d in array_df(out, *columns)]
    assert out.dtype == np.float64 and len(local) == len(columns)
    for k, xs in enumerate(rows):
        y = float(out[k])
        assert _same(y, op.f(*xs)), (op.name, how, xs, y, op.f(*xs))
        # Given the same output: tanh' = 1 - f^2 turns f's one ulp at x = 9 into 4e-9 relative.
        for i, d in enumerate(op.df(y, *xs)):
            assert _same(float(local[i][k]), d), (op.name, how, xs, i, float(local[i][k]), d)


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_array_form_gives_the_scalar_rules_numbers_at_ieee_special_values(name: str) -> None:
    arity = OPS[name].arity
    for n in [arity] if arity >= 0 else [1, 2, 3]:
        _check_array_form(name, list(itertools.product(SPECIAL, repeat=n)))


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_array_form_gives_the_scalar_rules_numbers_inside_the_domain(name: str) -> None:
    @settings(max_examples=20)
    @given(op_inputs(name))
    def check(xs: tuple[float, ...]) -> None:
        _check_array_form(name, [xs, tuple(-x for x in xs), tuple(2.0 * x for x in xs)])

    check()


# ---- dot: a neuron's w . x + b as one node; its rule in both backward loops ----


def test_dot_is_one_node_with_the_hand_derived_gradients() -> None:
    w = [Value(0.2), Value(0.8), Value(-0.5)]
    x = [Value(1.0), Value(2.0), Value(3.0)]
    b = Value(2.0)
    z = ag.dot(w, x, b)
    # The seed's cell 5 neuron: 0.2*1 + 0.8*2 - 0.5*3 + 2 = 2.3.
    assert z.op == "dot" and z.data == pytest.approx(2.3, abs=1e-15)
    assert z.parents == (*w, *x, b)
    z.backward()
    assert [v.grad for v in w] == [1.0, 2.0, 3.0]  # dz/dw_k = x_k
    assert [v.grad for v in x] == [0.2, 0.8, -0.5]  # dz/dx_k = w_k
    assert b.grad == 1.0


def test_dot_without_bias_and_with_constants() -> None:
    w = [Value(3.0), 2]  # a number is a constant operand, as in `x * 2`
    x = [1.5, Value(-4.0)]
    z = ag.dot(w, x)
    assert z.data == 3.0 * 1.5 + 2.0 * -4.0 and len(z.parents) == 4
    assert [p.data for p in z.parents] == [3.0, 2.0, 1.5, -4.0]
    z.backward()
    assert w[0].grad == 1.5 and x[1].grad == 2.0
    assert ag.dot([], [], 5.0).data == 5.0
    empty = ag.dot([], [])  # like the empty sum: the constant 0, a leaf, not a node
    assert empty.data == 0.0 and empty.is_leaf and empty.op == ""


def test_dot_is_summed_in_operand_order_like_sum_of_products() -> None:
    ws = [Value(v) for v in (0.1, 0.2, 0.3, 1e16, -1e16)]
    xs = [Value(v) for v in (0.7, 0.6, 0.9, 1.0, 1.0)]
    expected = ag.sum([a * c for a, c in zip(ws, xs)] + [Value(0.25)]).data
    assert ag.dot(ws, xs, 0.25).data == expected


def test_dot_follows_ieee_like_numpy() -> None:
    assert math.isnan(ag.dot([Value(math.inf)], [Value(0.0)]).data)  # inf * 0
    assert ag.dot([Value(1e308), Value(1e308)], [10.0, 10.0]).data == math.inf
    # A sum of negative zeros is -0.0, as np.dot([-0.0], [1.0]) and np.sum([-0.0]) give.
    for z in (ag.dot([Value(-0.0)], [Value(1.0)]), ag.sum([Value(-0.0), Value(-0.0)])):
        assert z.data == 0.0 and math.copysign(1.0, z.data) == -1.0
    assert math.copysign(1.0, ag.dot([Value(-0.0)], [Value(1.0)], 0.0).data) == 1.0


def test_dot_is_recognised_by_name_so_a_copy_of_its_op_records_no_bare_float() -> None:
    import copy

    w, x = Value(2.0), Value(5.0)
    z = ag.apply(copy.deepcopy(ag.OPS["dot"]), w, 3.0, 4.0, x)
    z.backward()
    assert z.data == 2.0 * 4.0 + 3.0 * 5.0 and (w.grad, x.grad) == (4.0, 3.0)


def test_dot_second_derivatives_come_from_the_same_rule() -> None:
    # f(w, x) = (w . x)^2: d2f/dw0 dx0 = 2 (x0 w0 + w . x), d2f/dw0^2 = 2 x0^2.
    def f(w0: Value, w1: Value, x0: Value, x1: Value) -> Value:
        return ag.dot([w0, w1], [x0, x1]).square()

    H = ag.hessian(f, [1.0, 2.0, 3.0, -1.0])
    s = 1.0 * 3.0 + 2.0 * -1.0
    assert H[0][0] == pytest.approx(2 * 3.0**2)
    assert H[0][2] == pytest.approx(2 * (3.0 * 1.0 + s))
    assert H[1][3] == pytest.approx(2 * (-1.0 * 2.0 + s))
    assert H[0][3] == pytest.approx(2 * 3.0 * 2.0)


def test_dot_backward_with_constants_in_every_position_matches_the_generic_rule() -> None:
    def build() -> tuple[Value, list[Value]]:
        w0, x1, x2, w2, b = (Value(v) for v in (0.5, -2.0, 4.0, 1.5, 0.25))
        # pairs: (Value, constant), (constant, Value), (Value, Value); then a Value bias
        z = ag.dot([w0, 3.0, w2], [7.0, x1, x2], b)
        return (z * z), [w0, x1, x2, w2, b]

    loss, leaves = build()
    loss.backward()
    fast = [v.grad for v in leaves]
    s = 0.5 * 7.0 + 3.0 * -2.0 + 1.5 * 4.0 + 0.25
    assert fast == [2 * s * 7.0, 2 * s * 3.0, 2 * s * 1.5, 2 * s * 4.0, 2 * s]
    # detect_anomaly takes the generic path of the backward loop: it must agree to the bit.
    with ag.detect_anomaly():
        loss, leaves = build()
        loss.backward()
    assert [v.grad for v in leaves] == fast
    # apply() with numbers records the same node: numbers are constants, in no node of the graph.
    w, x = Value(2.0), Value(5.0)
    z = ag.apply("dot", w, 3, 4.0, x, 1)
    assert z.data == 2.0 * 4.0 + 3.0 * 5.0 + 1.0
    assert [p.data for p in z.parents] == [2.0, 3.0, 4.0, 5.0, 1.0]
    assert ag.topological_order(z) == [x, w, z]
    z.backward()
    assert (w.grad, x.grad) == (4.0, 3.0)


def test_an_op_sharing_dots_rule_under_another_name_takes_the_general_backward() -> None:
    dot = ag.OPS["dot"]
    ag.defop("affine_alias", dot.f, dot.df, arity=-1)
    try:
        w, x = Value(2.0), Value(5.0)
        z = ag.apply("affine_alias", w, 3.0, 4.0, x)  # floats stay constants here, as in `x * 2`
        assert z.op == "affine_alias" and ag.topological_order(z) == [x, w, z]
        z.backward()
        assert (w.grad, x.grad) == (4.0, 3.0)
    finally:
        ag.unregister("affine_alias")


def test_dot_fed_with_data_keeps_its_inputs_as_constants_and_backpropagates_into_weights() -> None:
    def build() -> tuple[Value, list[Value]]:
        w0, w1, b = Value(0.5), Value(-1.5), Value(0.25)
        z = ag.dot([w0, w1], [2.0, 3], b)  # a first layer: the inputs are numbers
        return z * z, [w0, w1, b]

    loss, leaves = build()
    z = loss.parents[0]
    assert len(ag.topological_order(loss)) == 5  # w0, w1, b, z and loss: the inputs are no nodes
    loss.backward()
    s = 0.5 * 2.0 - 1.5 * 3.0 + 0.25
    assert [v.grad for v in leaves] == [2 * s * 2.0, 2 * s * 3.0, 2 * s]
    with ag.detect_anomaly():  # the generic path of the backward loop agrees to the bit
        loss2, leaves2 = build()
        loss2.backward()
    assert [v.grad for v in leaves2] == [v.grad for v in leaves]
    # Reading parents shows the numbers as constant leaves, and backward still works after it.
    assert [p.data for p in z.parents] == [0.5, -1.5, 2.0, 3.0, 0.25]
    loss.backward()
    assert [v.grad for v in leaves] == [4 * s * 2.0, 4 * s * 3.0, 4 * s]


def test_dot_with_a_value_subclass_among_numeric_inputs_keeps_the_numbers_constants() -> None:
    class Tagged(Value):
        __slots__ = ()

    w0, w1, x0 = Value(2.0), Value(3.0), Tagged(5.0)
    z = ag.dot([w0, w1], [x0, 4.0])
    assert ag.topological_order(z) == [x0, w1, w0, z]  # the 4.0 is a constant, as in x * 4.0
    z.backward()
    assert (w0.grad, w1.grad, x0.grad) == (5.0, 4.0, 2.0)


# ---- the helpers the rules share ----


def test_data_is_the_number_in_a_float_or_a_value() -> None:
    x = Value(2.5)
    cases = [
        (x, 2.5),
        (1.5, 1.5),
        (3, 3.0),
        (True, 1.0),
        (np.float32(0.5), 0.5),
        (np.bool_(1), 1.0),
    ]
    for x, number in cases:
        got = data(x)
        assert type(got) is float and got == number, x
    assert math.isnan(data(Value(math.nan))) and data(-0.0).hex() == "-0x0.0p+0"
    with pytest.raises(TypeError, match="expected a number or a Value, got str"):
        data("2.5")


# ---- clip: a built-in op ----


def test_clip_is_a_built_in_op_with_its_function() -> None:
    x = Value(0.5, "x")
    y = ag.clip(x, 0.0, 1.0)
    assert (y.op, y.data, y.rule) == ("clip", 0.5, OPS["clip"])
    assert ag.grad(y, x) == 1.0
    assert ag.grad(ag.clip(x, 0.6, 1.0), x) == 0.0
    assert ag.clip(Value(2.0), 0.0, 1.0).data == 1.0
    # Crossed bounds: np.clip's order, max then min, so hi wins and carries the gradient.
    lo, hi = Value(1.0), Value(0.0)
    z = ag.clip(x, lo, hi)
    assert z.data == float(np.clip(0.5, 1.0, 0.0)) == 0.0
    assert ag.grad(z, [x, lo, hi]) == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="'clip' is a built-in op"):
        ag.unregister("clip")
    assert "register" not in ag.__all__ and not hasattr(ag, "register")


# ---- the math ops as Value methods ----

METHODS = [name for name in BUILT_IN_OPS if OPS[name].arity == 1 and name != "neg"]


@pytest.mark.parametrize("name", METHODS)
def test_every_one_input_op_is_a_value_method_that_records_its_node(name: str) -> None:
    a = 1.3 if name == "arccosh" else 0.6  # inside every op's domain
    x = Value(a, "x")
    y = getattr(x, name)()
    assert (y.op, y.parents, y.data) == (name, (x,), OPS[name].f(a))
    assert getattr(Value, name).__doc__


def test_abs_of_a_value_is_the_abs_op_with_pytorchs_zero_derivative() -> None:
    x = Value(-2.0)
    y = abs(x)
    assert (y.op, y.data, ag.grad(y, x)) == ("abs", 2.0, -1.0)
    assert ag.grad(abs(Value(0.0)), Value(0.0)) == 0.0
    zero = Value(-0.0)
    assert ag.grad(abs(zero), zero) == 0.0  # sign(±0) = 0, as torch's abs backward
    assert [v.data for v in np.abs(np.array([Value(-1.5), Value(2.0)], dtype=object))] == [1.5, 2.0]


def test_leaky_relu_and_elu_keep_their_parameter_as_a_constant_operand() -> None:
    x = Value(-2.0, "x")
    y = x.leaky_relu()  # PyTorch's default slope
    assert (y.op, y.data, ag.grad(y, x)) == ("leaky_relu", -0.02, 0.01)
    assert [p.data for p in y.parents] == [-2.0, 0.01]
    assert x.leaky_relu(0.2).data == pytest.approx(-0.4)
    z = x.elu()  # alpha = 1.0, as PyTorch
    assert (z.op, z.data) == ("elu", math.expm1(-2.0))
    assert ag.grad(z, x) == pytest.approx(math.exp(-2.0), rel=1e-15)
    assert x.elu(2.0).data == 2.0 * math.expm1(-2.0)


def test_a_value_slope_is_learned_as_prelu() -> None:
    x, slope = Value(-3.0), Value(0.25)
    y = x.leaky_relu(slope)
    assert ag.grad(y, [x, slope]) == [0.25, -3.0]
    assert ag.grad(Value(3.0).leaky_relu(slope), slope) == 0.0
    alpha = Value(1.5)
    assert ag.grad(x.elu(alpha), alpha) == math.expm1(-3.0)
    # d2 f / dx d slope = 1 on the negative side: the rule returns the slope itself
    (dx,) = [ag.grad(y, x, create_graph=True)]
    assert ag.grad(dx, slope) == 1.0


def test_a_parameter_that_is_no_number_is_refused_naming_the_op() -> None:
    with pytest.raises(TypeError, match=r"leaky_relu\(\) operand 1 needs a Value or a real number"):
        Value(1.0).leaky_relu("0.1")
    with pytest.raises(TypeError, match=r"elu\(\) operand 1 needs a Value or a real number"):
        Value(1.0).elu(None)


# ---- the functions of two numbers, and % ----


def test_mod_is_pythons_and_numpys_with_the_sign_of_the_divisor() -> None:
    a, b = Value(5.0), Value(-3.0)
    y = a % b
    assert (
        (y.op, y.data) == ("mod", 5.0 % -3.0) == ("mod", float(np.mod(5.0, -3.0))) == ("mod", -1.0)
    )
    assert ag.grad(y, [a, b]) == [1.0, -(5.0 // -3.0)] == [1.0, 2.0]  # d/db = -floor(a / b)
    assert (7.5 % Value(2.0)).data == 1.5 and (Value(-7.5) % 2.0).data == 0.5
    assert isinstance(np.float64(7.5) % Value(2.0), Value)  # numpy's scalar hands it over
    assert math.isnan((Value(1.0) % 0.0).data)  # numpy's nan, not Python's ZeroDivisionError
    # create_graph: -floor(a / b) is piecewise constant, so the second derivatives are 0
    assert ag.hessian(lambda p, q: p % q, [5.0, -3.0]).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_maximum_and_minimum_split_a_tie_as_pytorch_does() -> None:
    a, b = Value(2.0), Value(2.0)
    assert ag.grad(ag.maximum(a, b), [a, b]) == [0.5, 0.5]
    assert ag.grad(ag.minimum(a, b), [a, b]) == [0.5, 0.5]
    c = Value(1.0)
    assert ag.grad(ag.maximum(a, c), [a, c]) == [1.0, 0.0]
    assert ag.grad(ag.minimum(a, c), [a, c]) == [0.0, 1.0]
    assert math.isnan(ag.maximum(Value(math.nan), 1.0).data)  # numpy's: nan wins
    assert ag.maximum(a, 3).op == "maximum" and ag.maximum(a, 3).data == 3.0


def test_arctan2_and_hypot_are_functions_of_the_table() -> None:
    y, x = Value(1.0), Value(-1.0)
    t = ag.arctan2(y, x)
    assert (t.op, t.data) == ("arctan2", math.atan2(1.0, -1.0))
    assert ag.grad(t, [y, x]) == [-0.5, -0.5]
    h = ag.hypot(Value(3.0), 4.0)
    assert (h.op, h.data) == ("hypot", 5.0)
    # tiny operands: x^2 + y^2 underflows to 0, the scaled rule still gives x / (x^2 + y^2)
    ys, xs = Value(1e-200), Value(1e-200)
    assert ag.grad(ag.arctan2(ys, xs), [ys, xs]) == pytest.approx([0.5e200, -0.5e200], rel=1e-15)
    zeros = [Value(0.0), Value(0.0)]
    assert ag.grad(ag.arctan2(*zeros), zeros) == [0.0, 0.0]  # the origin: 0, as PyTorch


def test_numpy_functions_on_object_arrays_of_values_record_the_ops() -> None:
    # HIPS's habit, np.sin(x) and the like, with plain numpy: its object loops call the methods.
    a = np.array([Value(0.5), Value(-0.75)], dtype=object)
    b = np.array([Value(2.0), Value(3.0)], dtype=object)
    for fn, op in [(np.sin, "sin"), (np.abs, "abs"), (np.floor, "floor"), (np.log1p, "log1p")]:
        assert [v.op for v in fn(a)] == [op, op]
    for fn2, op in [(np.arctan2, "arctan2"), (np.hypot, "hypot"), (np.mod, "mod")]:
        out = fn2(a, b)
        assert [v.op for v in out] == [op, op]
        assert [v.data for v in out] == [float(fn2(0.5, 2.0)), float(fn2(-0.75, 3.0))]


# Each op at one of its kinks, jumps or domain ends. The central difference straddles the kink
# there, so gradcheck either agrees with a one-sided slope (a KinkWarning) or says it cannot
# tell (a KinkError); never a plain GradcheckError calling the derivative wrong.
AT_KINKS = [
    ("abs", [0.0]),
    ("sign", [0.0]),
    ("floor", [2.0]),
    ("ceil", [-2.0]),
    ("leaky_relu", [0.0, 0.01]),
    ("elu", [0.0, 2.0]),
    ("maximum", [1.0, 1.0]),
    ("minimum", [1.0, 1.0]),
    ("mod", [6.0, 3.0]),
    ("mod", [6.0, 2.4]),
    ("sqrt", [0.0]),
    ("cbrt", [0.0]),
    ("hypot", [0.0, 0.0]),
    ("arctan2", [0.0, -1.0]),
    ("arctan2", [0.0, 0.0]),
    ("tan", [math.pi / 2]),
    ("arcsin", [1.0]),
    ("arccos", [-1.0]),
    ("arccosh", [1.0]),
    ("arctanh", [-1.0]),
    ("log2", [0.0]),
    ("log10", [0.0]),
    ("log1p", [-1.0]),
    ("clip", [1.0, 1.0, 2.0]),
]


@pytest.mark.parametrize(("name", "xs"), AT_KINKS)
def test_gradcheck_at_a_declared_kink_is_never_a_plain_mismatch(name: str, xs: list[float]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ag.KinkWarning)
            ag.gradcheck(lambda *v: ag.apply(name, *v), xs)
    except ag.KinkError:
        pass
