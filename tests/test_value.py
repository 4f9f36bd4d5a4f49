"""The `Value` API: construction, the op each operator records, bad input and IEEE-754 edges."""

from __future__ import annotations

import math
import re
import sys
from fractions import Fraction

import numpy as np
import pytest

import autograd as ag
from autograd import Value, no_grad


def test_fields_and_repr() -> None:
    x = Value(2, label="x")
    assert (x.data, x.grad, x.label, x.op, x.parents) == (2.0, 0.0, "x", "", ())
    assert type(x.data) is float
    assert repr(x) == "Value(label='x', data=2.0, grad=0.0)"
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0.0)"


@pytest.mark.parametrize(
    "number", [3, 2.5, np.float64(2.5), np.float32(2.5), np.int64(3), Fraction(1, 4), True]
)
def test_accepts_real_numbers(number: object) -> None:
    assert Value(number).data == float(number)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "name"),
    [
        ("3", "str"),
        (None, "NoneType"),
        ([1], "list"),
        (1j, "complex"),
        (np.array([1.0]), "ndarray"),
    ],
)
def test_rejects_non_real_with_the_type_named(bad: object, name: str) -> None:
    with pytest.raises(TypeError, match=rf"Value\(\) needs a real number, got {name}"):
        Value(bad)


def test_rejects_value_in_value_and_bad_label() -> None:
    with pytest.raises(TypeError, match="got Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label must be a str, got int"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_operand_of_wrong_type_names_the_operator_and_the_side() -> None:
    with pytest.raises(
        TypeError, match="the right operand of \\+ needs a Value or a real number, got str"
    ):
        Value(1) + "a"  # type: ignore[operator]
    with pytest.raises(
        TypeError, match="the left operand of - needs a Value or a real number, got str"
    ):
        "a" - Value(1)  # type: ignore[operator]
    # Not "can't multiply sequence by non-int", Python's message for a sequence times an object.
    with pytest.raises(TypeError, match="the right operand of \\* needs a Value .*, got list"):
        Value(1) * [1.0]  # type: ignore[operator]
    with pytest.raises(
        TypeError, match="sum\\(\\) operand 1 needs a Value or a real number, got str"
    ):
        ag.sum([Value(1.0), "a"])


def test_an_object_of_an_unknown_class_gets_its_own_turn_at_the_operator() -> None:
    class Meters:
        def __radd__(self, other: object) -> str:
            return "handled by Meters"

    assert Value(1.0) + Meters() == "handled by Meters"  # type: ignore[operator,comparison-overlap]
    with pytest.raises(
        TypeError, match="unsupported operand type\\(s\\) for \\*: 'Value' and 'object'"
    ):
        Value(1.0) * object()  # type: ignore[operator]


# The ten operator forms, a number on either side of a Value, named as the error names the side.
OPERATOR_FORMS = [
    ("+", "right", lambda v, n: v + n),
    ("-", "right", lambda v, n: v - n),
    ("*", "right", lambda v, n: v * n),
    ("/", "right", lambda v, n: v / n),
    ("**", "right", lambda v, n: v**n),
    ("+", "left", lambda v, n: n + v),
    ("-", "left", lambda v, n: n - v),
    ("*", "left", lambda v, n: n * v),
    ("/", "left", lambda v, n: n / v),
    ("**", "left", lambda v, n: n**v),
]

# Python 3.11's Fraction.__pow__ calls float() on itself before a Value on its right gets a turn.
_FRACTION_POW_FIRST = sys.version_info < (3, 12)


def _huge_numbers() -> list[object]:
    huge: list[object] = [10**400, -(10**400), Fraction(10**400, 3)]
    if np.finfo(np.longdouble).max > np.finfo(np.float64).max:  # 80-bit long double on x86-64
        huge.append(np.longdouble("1e400"))
    return huge


@pytest.mark.parametrize("huge", _huge_numbers(), ids=lambda x: type(x).__name__)
def test_a_number_too_large_for_a_float_is_an_overflow_error_naming_the_entry_point(
    huge: object,
) -> None:
    kind = type(huge).__name__
    too_large = f"got an? {kind} too large for a float"
    with pytest.raises(OverflowError, match=rf"^Value\(\) {too_large} \(about -?10\*\*(399|400);"):
        Value(huge)
    for sym, side, form in OPERATOR_FORMS:
        if isinstance(huge, Fraction) and sym == "**" and side == "left" and _FRACTION_POW_FIRST:
            continue
        with pytest.raises(
            OverflowError, match=rf"^the {side} operand of {re.escape(sym)} {too_large}"
        ):
            form(Value(2.0), huge)
    with pytest.raises(OverflowError, match=rf"^sum\(\) operand 1 {too_large}"):
        ag.sum([Value(1.0), huge])
    for where, call in [
        ("weights\\[1\\]", lambda: ag.dot([Value(1.0), huge], [Value(1.0), Value(2.0)])),
        ("inputs\\[0\\]", lambda: ag.dot([Value(1.0)], [huge])),
        ("bias", lambda: ag.dot([Value(1.0)], [Value(1.0)], huge)),
    ]:
        with pytest.raises(OverflowError, match=rf"^dot\(\) {where} {too_large}"):
            call()
    with pytest.raises(OverflowError, match=rf"^add\(\) operand 0 {too_large}"):
        ag.apply("add", huge, Value(1.0))


@pytest.mark.parametrize(
    ("when", "hint"),
    [(np.timedelta64(5), "a time span"), (np.datetime64("2020-01-01"), "a date")],
    ids=["timedelta64", "datetime64"],
)
def test_numpy_times_are_not_numbers_anywhere(when: object, hint: str) -> None:
    kind = type(when).__name__
    with pytest.raises(TypeError, match=rf"^Value\(\) needs a real number, got {kind} \({hint}"):
        Value(when)
    for sym, side, form in OPERATOR_FORMS:  # numpy's own operator hands over the timedelta64 as is
        with pytest.raises(
            TypeError, match=rf"^the {side} operand of {re.escape(sym)} needs .*got {kind}"
        ):
            form(Value(2.0), when)
    with pytest.raises(TypeError, match=rf"^sum\(\) operand 0 needs .*got {kind}"):
        ag.sum([when])
    with pytest.raises(TypeError, match=rf"^dot\(\) inputs\[0\] needs .*got {kind}"):
        ag.dot([Value(1.0)], [when])
    with pytest.raises(TypeError, match=rf"^exp\(\) operand 0 needs .*got {kind}"):
        ag.apply("exp", when)


@pytest.mark.parametrize("flag", [True, False, np.True_, np.False_], ids=repr)
def test_booleans_python_and_numpy_are_zero_and_one_everywhere(flag: object) -> None:
    one = 1.0 if flag else 0.0
    v = Value(flag)
    assert type(v.data) is float and v.data == one
    x = Value(2.0)
    results = [form(x, flag) for _, _, form in OPERATOR_FORMS]
    expected = [2 + one, 2 - one, 2 * one, ag.ops.fdiv(2.0, one), 2**one]
    expected += [one + 2, one - 2, one * 2, one / 2, one**2]
    assert [r.data for r in results] == expected
    assert all(isinstance(r, Value) and type(r.data) is float for r in results)
    assert ag.sum([x, flag]).data == 2 + one
    assert ag.dot([x], [flag], flag).data == 2 * one + one
    assert ag.apply("mul", flag, x).data == one * 2


def test_arrays_and_values_still_combine_elementwise() -> None:
    x = Value(3.0, "x")
    for out in (np.array([1.0, 2.0]) * x, x * np.array([1.0, 2.0])):
        assert out.dtype == object and [v.data for v in out] == [3.0, 6.0]
        assert all(v.op == "mul" and x in v.parents for v in out)
    y = np.exp(x)  # numpy's loop over objects calls the method of the same name
    assert isinstance(y, Value) and y.op == "exp" and y.data == math.exp(3.0)
    z = np.add(np.float32(0.5), x)  # a numpy scalar reaches the operator as itself
    assert isinstance(z, Value) and z.data == 3.5 and z.op == "add"


a, b = 3.0, -2.0
CASES = [
    # (expression, op, expected data, operand datas)
    (lambda x, y: x + y, "add", a + b, (a, b)),
    (lambda x, y: x - y, "sub", a - b, (a, b)),
    (lambda x, y: x * y, "mul", a * b, (a, b)),
    (lambda x, y: x / y, "div", a / b, (a, b)),
    (lambda x, y: x**y, "pow", a**b, (a, b)),
    (lambda x, y: -x, "neg", -a, (a,)),
    (lambda x, y: x**2, "pow", a**2, (a, 2.0)),
    (lambda x, y: 2**x, "pow", 2**a, (2.0, a)),
    (lambda x, y: 3 - x, "sub", 3 - a, (3.0, a)),
    (lambda x, y: 1 / x, "div", 1 / a, (1.0, a)),
    (lambda x, y: 5 + x, "add", 5 + a, (5.0, a)),
    (lambda x, y: 4 * x, "mul", 4 * a, (4.0, a)),
    (lambda x, y: x.exp(), "exp", math.exp(a), (a,)),
    (lambda x, y: x.log(), "log", math.log(a), (a,)),
    (lambda x, y: x.tanh(), "tanh", math.tanh(a), (a,)),
    (lambda x, y: x.sigmoid(), "sigmoid", 1 / (1 + math.exp(-a)), (a,)),
    (lambda x, y: y.relu(), "relu", 0.0, (b,)),
    (lambda x, y: x.square(), "square", a * a, (a,)),
    (lambda x, y: ag.sum([x, y, x, 1.5]), "sum", a + b + a + 1.5, (a, b, a, 1.5)),
]


@pytest.mark.parametrize(("expr", "op", "expected", "operands"), CASES)
def test_each_operator_is_one_node_of_its_own_op(expr, op, expected, operands) -> None:  # type: ignore[no-untyped-def]
    x, y = Value(a, "x"), Value(b, "y")
    out = expr(x, y)
    assert out.op == op
    assert out.data == pytest.approx(expected, rel=1e-15)
    assert tuple(p.data for p in out.parents) == operands
    # Every parent is a Value; the Values we passed in appear as themselves.
    assert all(isinstance(p, Value) for p in out.parents)
    for p in out.parents:
        if p.label:
            assert p is (x if p.label == "x" else y)


def test_parents_show_a_constant_as_a_new_leaf_and_change_nothing() -> None:
    x = Value(2.0)
    y = x * 3
    first = y.parents
    assert first[0] is x and first[1].op == "" and first[1].data == 3.0
    assert first[1].scope is None and first[1].grad == 0.0
    second = y.parents
    assert second[0] is x and second[1] is not first[1]  # made on each read, never kept
    assert ag.topological_order(y) == [x, y]  # the constant is no node of the graph
    y.backward()
    assert x.grad == 3.0
    # Constants are not differentiated: read before or after backward, a constant shows 0.
    assert first[1].grad == 0.0 and y.parents[1].grad == 0.0


def test_numpy_scalar_on_the_left() -> None:
    x = Value(2.0)
    out = np.float64(3.0) * x
    assert isinstance(out, Value) and out.op == "mul" and out.data == 6.0


IEEE = [
    (lambda: Value(0.0).log(), -math.inf),
    (lambda: Value(-1.0).log(), math.nan),
    (lambda: Value(-8.0) ** (1 / 3), math.nan),
    (lambda: Value(1000.0).exp(), math.inf),
    (lambda: 1 / Value(0.0), math.inf),
    (lambda: -1 / Value(0.0), -math.inf),
    (lambda: Value(0.0) / 0, math.nan),
    (lambda: Value(0.0) ** -1, math.inf),
    (lambda: Value(10.0) ** 400, math.inf),
    (lambda: Value(-10.0) ** 401, -math.inf),
    (lambda: Value(-1000.0).sigmoid(), 0.0),
    (lambda: Value(math.nan).relu(), math.nan),
    (lambda: Value(math.inf) - math.inf, math.nan),
]


@pytest.mark.parametrize(("make", "expected"), IEEE)
def test_domain_edges_follow_ieee_like_numpy(make, expected) -> None:  # type: ignore[no-untyped-def]
    out = make()
    assert type(out.data) is float  # never a complex number
    if math.isnan(expected):
        assert math.isnan(out.data)
    else:
        assert out.data == expected


def test_domain_edges_in_backward() -> None:
    x = Value(0.0)
    x.log().backward()
    assert x.grad == math.inf  # d log x / dx = 1/x at 0
    y = Value(0.0)
    (1 / y).backward()
    assert y.grad == -math.inf  # d(1/y)/dy = -1/y^2, and -1/0 is -inf in numpy
    z = Value(-8.0)
    (z ** (1 / 3)).backward()
    assert math.isnan(z.grad)  # (1/3) * (-8)^(-2/3) is not real
    w = Value(0.0)
    (w**0.5).backward()
    assert w.grad == math.inf  # 0.5 * 0^-0.5


def test_detach_cuts_the_graph() -> None:
    x = Value(3.0, "x")
    y = x * x
    d = y.detach()
    assert (d.data, d.op, d.parents, d.label) == (9.0, "", (), "")
    (d * x).backward()
    assert x.grad == 9.0 and y.grad == 0.0


def test_empty_sum_is_the_constant_zero() -> None:
    s = ag.sum([])
    assert (s.data, s.op, s.parents) == (0.0, "", ())


def test_zero_exponent_has_zero_derivative_at_zero() -> None:
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0  # a ** 0 = 1 for every a; the formula 0 * 0^-1 would give nan
    y = Value(0.0)
    e = Value(0.0)
    (y**e).backward()
    assert y.grad == 0.0 and e.grad == 0.0


# ---- ag.dot: its operands checked (its rule: test_ops.py) ----


def test_dot_names_bad_operands() -> None:
    with pytest.raises(ValueError, match="as many weights as inputs, got 2 and 1"):
        ag.dot([Value(1.0), Value(2.0)], [Value(1.0)])
    with pytest.raises(
        TypeError, match=r"dot\(\) inputs\[1\] needs a Value or a real number, got str"
    ):
        ag.dot([Value(1.0), Value(2.0)], [Value(1.0), "2"])
    with pytest.raises(TypeError, match=r"dot\(\) weights\[0\] needs .*, got list"):
        ag.dot([[1.0]], [Value(1.0)])
    with pytest.raises(TypeError, match=r"dot\(\) bias needs .*, got str"):
        ag.dot([Value(1.0)], [Value(1.0)], "b")
    with pytest.raises(TypeError, match="sequences of weights and inputs, got NoneType"):
        ag.dot(None, [Value(1.0)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequences of weights and inputs, got float"):
        ag.dot([Value(1.0)], 2.0)  # type: ignore[arg-type]
    # Through apply, a None is no more a bias than it is any other operand.
    with pytest.raises(TypeError, match=r"dot\(\) operand 2 needs .*, got NoneType"):
        ag.apply("dot", Value(1.0), Value(2.0), None)


def test_dot_in_no_grad_is_a_leaf() -> None:
    with no_grad():
        z = ag.dot([Value(2.0)], [Value(3.0)], Value(1.0))
    assert z.data == 7.0 and z.is_leaf and z.op == ""


def test_sum_of_something_that_is_no_iterable_names_sum() -> None:
    with pytest.raises(
        TypeError, match=r"^sum\(\) needs an iterable of Values or numbers, got int$"
    ):
        ag.sum(5)
    with pytest.raises(TypeError, match=r"got Value$"):
        ag.sum(Value(1.0))
    assert ag.sum(iter([Value(1.0), 2.0])).data == 3.0  # any iterable, as before


@pytest.mark.parametrize("bad", [None, "0", [0.0]])
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_grad_set_by_hand_to_no_number_is_named_by_backward(
    bad: object, create_graph: bool
) -> None:
    w, b = Value(2.0, "w"), Value(0.5)
    y = (w * 3.0 + b).tanh()
    b.grad = bad
    kind = type(bad).__name__
    with pytest.raises(TypeError) as caught:
        y.backward(create_graph=create_graph)
    message = str(caught.value)
    assert message.startswith(f"backward(): the grad of the unlabelled leaf 0.5 is {kind}"), message
    assert "a grad must be a float" in message and "zero_grad()" in message
    b.label = "b"
    w.grad = 0.0
    with pytest.raises(TypeError, match=rf"^backward\(\): the grad of leaf 'b' is {kind}"):
        y.backward(create_graph=create_graph)
    # Set right, it works: d tanh(3w + b)/d b = 1 - tanh(6.5)^2.
    w.grad, b.grad = 0.0, 0.0
    y.backward()
    assert b.grad == 1.0 - math.tanh(6.5) ** 2
    assert w.grad == 3.0 * (1.0 - math.tanh(6.5) ** 2)


def test_a_leaf_root_with_a_grad_of_none_is_named_by_backward() -> None:
    x = Value(1.5, "x")
    x.grad = None
    with pytest.raises(TypeError, match=r"^backward\(\): the grad of leaf 'x' is NoneType"):
        x.backward()


def test_a_type_error_from_a_rule_is_not_blamed_on_a_grad() -> None:
    # A custom op whose derivative is broken raises its own TypeError, unchanged.
    fn = ag.defop("broken_df_for_test", lambda a: a, lambda out, a: (None + a,))  # type: ignore[operator]
    try:
        y = fn(Value(1.0))
        with pytest.raises(TypeError, match="unsupported operand"):
            y.backward()
    finally:
        ag.unregister("broken_df_for_test")
