"""Every public entry point against numbers of every kind: a correct float, or an error naming it.

The rule under test (`autograd.reals.real`): a real number is an int, a float, a Fraction or a
numpy integer or floating scalar, and booleans (Python's and numpy's) are 0 and 1. One too large
for a float is an OverflowError; anything else (complex, Decimal, str, numpy's datetime64 and
timedelta64, None, a list...) a TypeError. `kinds.expected` states that rule on its own, and
every entry point must agree with it: the exact float its own rule gives, or the error kind the
rule says, with a message that names the entry point.

Run with `-s` to see the counts: inputs tried per kind, and outcomes per entry point.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
import sys
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from kinds import EDGES, KINDS, Tally, anything, expected, same

import autograd as ag
from autograd import Value, derivative, gradcheck, hessian
from autograd.functional import gradient
from autograd.ops import OPS

# ---- bookkeeping: what was tried and what came out ----

TALLY = Tally()
TRIED, OUTCOMES = TALLY.tried, TALLY.outcomes


@pytest.fixture(scope="module", autouse=True)
def _print_counts() -> Iterator[None]:
    yield
    if TRIED:
        print(TALLY.report())


def check(entry: str, names: str, want: float | type[Exception], call: Callable[[], float]) -> None:
    """call() must give `want` (nan-aware), or raise `want` with a message containing `names`."""
    try:
        got = call()
    except (TypeError, OverflowError, ValueError) as e:
        OUTCOMES[entry, type(e).__name__] += 1
        assert names in str(e), f"{entry}: {type(e).__name__}: {e} does not name {names!r}"
        # A huge number is quoted by its size ("about 10**400"), never by its hundreds of digits.
        assert not re.search(r"\d{30}", str(e)), f"{entry}: {type(e).__name__}: {str(e)[:300]}"
        if entry == "gradcheck" and type(e) is ValueError and isinstance(want, float):
            # No central difference exists at nan or inf, nor where x ± eps rounds to x (1e300).
            assert not math.isfinite(want) or math.ulp(want) >= 2e-6, e
            return
        assert isinstance(want, type), f"{entry}: raised {e!r}, but the rule gives {want!r}"
        assert isinstance(e, want), (
            f"{entry}: {type(e).__name__}: {e}, the rule says {want.__name__}"
        )
        return
    OUTCOMES[entry, "float"] += 1
    assert not isinstance(want, type), f"{entry}: gave {got!r}, the rule says {want.__name__}"
    assert type(got) is float and same(got, want), f"{entry}: {got!r} instead of {want!r}"


# ---- the entry points ----

C = 1.5  # the Value on the other side of every operator
OPERATORS = [
    ("+", "add", operator.add),
    ("-", "sub", operator.sub),
    ("*", "mul", operator.mul),
    ("/", "div", operator.truediv),
    ("**", "pow", operator.pow),
    ("%", "mod", operator.mod),
]
UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "square"]
# Python 3.11's Fraction.__pow__ calls float() on itself before a Value on its right gets a turn,
# so a huge Fraction ** Value raises fractions.py's own OverflowError: Python's, not ours.
_FRACTION_POW_FIRST = sys.version_info < (3, 12)


def _data(out: Any) -> float:
    assert isinstance(out, Value), f"expected a Value, got {type(out).__name__}"
    return out.data


def check_operators(x: Any, want: float | type[Exception]) -> None:
    for sym, name, op in OPERATORS:
        rule = OPS[name].f
        for side in ("right", "left"):
            entry = f"Value {sym} x" if side == "right" else f"x {sym} Value"
            if isinstance(x, np.ndarray):  # numpy's elementwise loop: a Value per element
                out = op(Value(C), x) if side == "right" else op(x, Value(C))
                for elem, v in zip(np.asarray(x).flat, np.asarray(out, dtype=object).flat):
                    f = expected(elem)
                    assert isinstance(f, float)
                    assert same(_data(v), rule(C, f) if side == "right" else rule(f, C))
                OUTCOMES[entry, "float"] += 1
                continue
            if (
                side == "left"
                and name == "pow"
                and isinstance(x, Fraction)
                and want is OverflowError
                and _FRACTION_POW_FIRST
            ):
                OUTCOMES[entry, "skipped"] += 1
                continue
            if side == "left" and name == "mod" and isinstance(x, (str, bytes, bytearray)):
                # "..." % v is the string's own printf-style formatting: a Value gets no turn.
                OUTCOMES[entry, "skipped"] += 1
                continue
            if isinstance(want, float):
                result = rule(C, want) if side == "right" else rule(want, C)
            else:
                result = want
            # Python names the operator itself when an unknown object declines too.
            names = f"{side} operand of {sym}"
            if type(x) is object and side == "right":
                names = f"for {sym}"
            check(
                entry,
                names,
                result,
                (lambda op=op: _data(op(Value(C), x)))
                if side == "right"
                else (lambda op=op: _data(op(x, Value(C)))),
            )


@pytest.fixture(scope="module")
def twice_plus_one() -> Iterator[ag.OpFunction]:
    fn = ag.defop("inputs_twice_plus_one", lambda a: 2.0 * a + 1.0, lambda out, a: (2.0,))
    yield fn
    ag.unregister(fn.op.name)


def check_everything(x: Any, custom: ag.OpFunction) -> None:
    want = expected(x)
    check("Value()", "Value()", want, lambda: Value(x).data)
    if isinstance(want, float):
        for m in UNARY:
            rule = OPS[m].f
            check(f"Value(x).{m}()", m, rule(want), lambda m=m: _data(ag.apply(m, Value(x))))
    check_operators(x, want)

    def n_ary(rule: str, *args: float) -> float | type[Exception]:
        return OPS[rule].f(*args) if isinstance(want, float) else want

    w = want if isinstance(want, float) else 0.0
    check("sum()", "sum() operand 1", n_ary("sum", 1.0, w), lambda: ag.sum([Value(1.0), x]).data)
    check(
        "dot() weights",
        "dot() weights[0]",
        n_ary("dot", w, 2.0, 3.0, 4.0),
        lambda: ag.dot([x, Value(2.0)], [Value(3.0), Value(4.0)]).data,
    )
    check(
        "dot() inputs",
        "dot() inputs[0]",
        n_ary("dot", 2.0, w),
        lambda: ag.dot([Value(2.0)], [x]).data,
    )
    check(
        "dot() bias",
        "dot() bias",
        6.0 if x is None else n_ary("dot", 2.0, 3.0, w),  # bias=None is no bias, as by default
        lambda: ag.dot([Value(2.0)], [Value(3.0)], x).data,
    )
    check("apply()", "mul() operand 0", n_ary("mul", w, 2.0), lambda: ag.apply("mul", x, 2.0).data)
    check(
        "leaky_relu(slope)",
        "leaky_relu() operand 1",
        n_ary("leaky_relu", -2.0, w),
        lambda: Value(-2.0).leaky_relu(x).data,
    )
    check(
        "a defop'd op",
        f"{custom.op.name}() operand 0",
        2.0 * w + 1.0 if isinstance(want, float) else want,
        lambda: custom(x).data,
    )

    def seeded() -> float:
        leaf = Value(2.0)
        (leaf * 3.0).backward(grad=x)
        return leaf.grad  # type: ignore[no-any-return]

    check(
        "backward(grad=)",
        "backward(grad=...)",
        w * 3.0 if isinstance(want, float) else want,
        seeded,
    )

    def checked() -> float:
        assert gradcheck(lambda v: v, [x]) is True
        return want if isinstance(want, float) else math.nan

    check("gradcheck", "gradcheck", want, checked)
    if isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, (str, bytes)):

        def bare() -> float:  # gradcheck(f, 2.5): one number needs no list
            assert gradcheck(lambda v: v, x) is True
            return want if isinstance(want, float) else math.nan

        check("gradcheck", "gradcheck", want, bare)
    square = lambda v: v * v  # noqa: E731
    check("derivative()", "derivative()", n_ary("add", w, w), lambda: derivative(square, x))
    check(
        "hessian()",
        "hessian()",
        2.0 if isinstance(want, float) else want,
        lambda: float(hessian(square, [x])[0, 0]),
    )
    check("gradient()", "gradient()", n_ary("add", w, w), lambda: float(gradient(square, [x])[0]))
    try:
        ag.scope(x)
        scope_outcome = "float"
    except TypeError as e:
        assert str(e).startswith("scope() needs a str name"), e
        scope_outcome = "TypeError"
    assert (scope_outcome == "float") == isinstance(x, str)
    OUTCOMES["scope()", scope_outcome] += 1


@settings(max_examples=300)
@given(anything())
def test_every_entry_point_gives_the_rules_float_or_an_error_naming_itself(
    twice_plus_one: ag.OpFunction, drawn: tuple[str, Any]
) -> None:
    kind, x = drawn
    TRIED[kind] += 1
    check_everything(x, twice_plus_one)


def test_the_edge_examples_cover_every_kind() -> None:
    assert sorted(EDGES) == sorted(KINDS)


@pytest.mark.parametrize("kind", sorted(EDGES))
def test_every_kind_of_input_at_its_edges(twice_plus_one: ag.OpFunction, kind: str) -> None:
    for x in EDGES[kind]:
        TRIED[kind] += 1
        check_everything(x, twice_plus_one)
