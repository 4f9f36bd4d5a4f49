"""The rule table: one entry per op, holding every fact about it.

An entry (`Op`) holds the op's forward `f` and its local derivatives `df`, and the rest of what
the package needs to know about it: its kinks, how `explain` writes it, where tests draw its
inputs and its form over numpy arrays (see facts.py). This module holds the entry type, the
table, and the ops a learner meets first; ops_math.py and ops_piecewise.py add the others.
Adding an op means one entry (built-ins) or a call to `autograd.defop` with the same facts.

Every rule is written with operations that work on plain floats *and* on `Value`s. Backward
calls the rules on floats to get numbers; `grad(..., create_graph=True)` calls the very same
rules on `Value`s, so the derivatives themselves become graphs that can be differentiated again.

Floats follow IEEE-754 as numpy does: log(0) = -inf, log(-1) = nan, exp(1000) = inf,
1/0 = inf, 0/0 = nan and (-8) ** (1/3) = nan. No rule raises a math-domain error.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .facts import ANY, MARGIN, NONZERO, POSITIVE, ArrayForm, Formula, Notation, Slot, branch_note
from .facts import array_rules as array_rules  # replay and tests find it here

INF = math.inf
NAN = math.nan

# `Any` below means "a float or a Value": the rules are duck-typed on purpose.
Scalar = Any


@dataclass(frozen=True)
class Op:
    """Every fact about one op: its rule, its doc and kinks, and how explain, tests and replay see it.

    - `f(*inputs)` computes the output from input floats; `df(out, *inputs)` returns one entry
      per input, d out / d input_i. It receives the output too, because several derivatives are
      cheapest in terms of it (exp' = exp, tanh' = 1 - tanh^2).
    - `doc` states f and its derivatives; `arity` is the number of inputs (-1: any number).
    - `kinks(*inputs)` lists, per input, the points where the op is not differentiable, so that
      a gradient check can tell a kink from a wrong derivative.
    - `formula` writes d out / d input_i for `explain` (see `Formula`); without one, explain
      shows the factor's number. `note` says why a piecewise rule took its branch ("z = 6 > 0").
    - `domain` is one `Slot` per input: where random tests draw it (see `autograd.testing`).
    - `array` is the op over numpy arrays (see `ArrayForm`); None: only the scalar rule exists.
    """

    name: str
    f: Callable[..., float]
    df: Callable[..., Sequence[Scalar]]
    doc: str
    arity: int  # -1 means any number of inputs
    kinks: Callable[..., Sequence[Sequence[float]]] | None = None
    formula: Formula | None = None
    note: Formula | None = None
    domain: tuple[Slot, ...] = field(default=(ANY,))
    array: ArrayForm | None = None


OPS: dict[str, Op] = {}
# The names of chainrule's own ops: this module's, ops_math.py's and ops_piecewise.py's.
BUILT_IN: set[str] = set()


def _register(op: Op, built_in: bool = True) -> Op:
    """Add `op` to the table; names are unique, so a clash is an error rather than a silent swap.

    Internal: the built-ins, and `autograd.defop` (built_in=False), the public way to add an op.
    """
    if op.name in OPS:
        raise ValueError(f"an op named {op.name!r} is already registered")
    OPS[op.name] = op
    if built_in:
        BUILT_IN.add(op.name)
    return op


# ---- IEEE-754 float helpers: Python's math raises where numpy returns inf or nan ----


def np_fallback(fn: Callable[..., Any], *args: float) -> float:
    """numpy's `fn` on floats, as a float, without warnings: for the inputs where math raises."""
    with np.errstate(all="ignore"):
        return float(fn(*(np.float64(a) for a in args)))


def fdiv(a: float, b: float) -> float:
    """a / b with 1/0 = inf and 0/0 = nan."""
    try:
        return a / b
    except ZeroDivisionError:
        return np_fallback(np.divide, a, b)


def fpow(a: float, b: float) -> float:
    """a ** b, real-valued: a negative base with a fractional exponent gives nan, not a complex."""
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError, ZeroDivisionError):
        return np_fallback(np.power, a, b)


def fexp(a: float) -> float:
    """e ** a, overflowing to inf."""
    try:
        return math.exp(a)
    except OverflowError:
        return INF


def flog(a: float) -> float:
    """Natural log: log(0) = -inf, log(negative) = nan."""
    if a > 0:
        return math.log(a)
    return -INF if a == 0 else NAN


def fsigmoid(a: float) -> float:
    """1 / (1 + e^-a), in the form that cannot overflow for either sign of a."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = fexp(a)
    return e / (1.0 + e)


def frelu(a: float) -> float:
    """max(0, a), passing nan through as numpy.maximum does."""
    return 0.0 if a <= 0 else a


# ---- helpers the rules use, valid for floats and Values alike ----


def div(a: Scalar, b: Scalar) -> Scalar:
    """a / b on floats (IEEE) or Values (a graph node)."""
    if type(a) is float and type(b) is float:
        return fdiv(a, b)
    return a / b


def log(a: Scalar) -> Scalar:
    """log(a) on a float or a Value."""
    return flog(a) if type(a) is float else a.log()


def pow_(a: Scalar, b: Scalar) -> Scalar:
    """a ** b on floats (IEEE, real-valued) or Values."""
    if type(a) is float and type(b) is float:
        return fpow(a, b)
    return a**b


def data(a: Scalar) -> float:
    """The number in a float-or-Value: a Value's data, else the number itself as a float.

    The one home of that idea: rules use it where they are piecewise constant, and reports use it
    where a number may be a Value (a gradient after create_graph, an operand).
    """
    if type(a) is float:
        return a
    if isinstance(a, (numbers.Real, np.bool_)):
        return float(a)  # an int, a bool or a numpy scalar
    try:
        return a.data  # type: ignore[no-any-return]  # a Value
    except AttributeError:
        raise TypeError(f"expected a number or a Value, got {type(a).__name__}") from None


# ---- the table ----

_register(
    Op(
        "add",
        operator.add,
        lambda out, a, b: (1.0, 1.0),
        "f(a, b) = a + b; df/da = 1, df/db = 1",
        2,
        formula=lambda s, x, out, i: "1",
        array=ArrayForm(),
    )
)
_register(
    Op(
        "sub",
        operator.sub,
        lambda out, a, b: (1.0, -1.0),
        "f(a, b) = a - b; df/da = 1, df/db = -1",
        2,
        formula=lambda s, x, out, i: "-1" if i else "1",
        array=ArrayForm(),
    )
)
_register(
    Op(
        "mul",
        operator.mul,
        lambda out, a, b: (b, a),
        "f(a, b) = a * b; df/da = b, df/db = a",
        2,
        formula=lambda s, x, out, i: x[1 - i],
        array=ArrayForm(),
    )
)
_register(
    Op(
        "div",
        fdiv,
        lambda out, a, b: (div(1.0, b), -div(out, b)),
        "f(a, b) = a / b; df/da = 1 / b, df/db = -a / b^2 = -f / b",
        2,
        kinks=lambda a, b: ((), (0.0,)),
        formula=lambda s, x, out, i: (
            s.div("1", x[1]) if i == 0 else "-" + s.div(x[0], s.pow(x[1], "2"))
        ),
        domain=(ANY, NONZERO),
        array=ArrayForm(),  # fdiv and div divide arrays with numpy's `/`
    )
)
_register(
    Op(
        "neg",
        operator.neg,
        lambda out, a: (-1.0,),
        "f(a) = -a; df/da = -1",
        1,
        formula=lambda s, x, out, i: "-1",
        array=ArrayForm(),
    )
)


def _pow_df(out: Scalar, a: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
    # The masks are PyTorch's (float64), and they give one number whether the operands are floats
    # (backward) or Values (create_graph). d/db = a^b ln a is 0 * -inf = nan at a = 0, where the
    # limit is 0 for b >= 0; for b < 0 the formula stands (inf * -inf = -inf), as for b = nan.
    ad, bd = data(a), data(b)
    db = 0.0 if ad == 0.0 and bd >= 0.0 else out * log(a)
    # d/da = b a^(b - 1) is 0 at b = 0 for every a (a ** 0 is 1), where the formula gives
    # 0 * inf = nan at a = 0, at a subnormal a whose 1/a overflows (|a| <= 2^-1024) and at
    # a = nan. A Value exponent keeps its graph wherever the formula already gives 0, so
    # that d2/da db stays 1/a.
    masked = bd == 0.0 and (type(b) is float or ad == 0.0 or ad != ad or math.isinf(1.0 / ad))
    return (0.0 if masked else b * pow_(a, b - 1.0)), db


def pow_array(a: Any, b: Any) -> Any:
    """a ** b entry by entry, as fpow: numpy's power, with pow's numbers where it takes sqrt."""
    out = np.asarray(np.power(a, b))
    half = np.asarray(b) == 0.5
    if half.any():
        # numpy's loop computes a broadcast exponent of 0.5 (a constant in replay) as sqrt,
        # which differs from pow at two inputs: sqrt(-0) = -0 and sqrt(-inf) = nan, where
        # pow(-0, 0.5) = +0 and pow(-inf, 0.5) = +inf (C99 Annex F, as math.pow). pow's square
        # root is never -0, so adding +0 fixes the zero's sign and nothing else. In place, on
        # 0.5 only: 1.5x np.power's time for x ** 0.5 over 1e5 samples, 1.0x for other exponents,
        # where np.float_power (no sqrt shortcut) takes 4.5-6x for every exponent.
        np.add(out, 0.0, out=out, where=half)
        np.copyto(out, np.inf, where=half & (np.asarray(a) == -np.inf))
    return out


def _pow_df_array(out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    # _pow_df's masks, on float operands.
    da = np.where(b == 0.0, 0.0, b * pow_array(a, b - 1.0))  # b = 1.5 needs a ** 0.5
    db = np.where((a == 0.0) & (b >= 0.0), 0.0, out * np.log(a))
    return da, db


def _pow_formula(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    a, b = x
    if i == 1:
        return s.mul(s.pow(a, b), s.ln(a))
    if s.constant(1):  # a constant exponent is shown already lowered: 3·x² rather than 3·x^(3 - 1)
        return s.mul(b, s.pow(a, s.num(s.value(1) - 1.0)))
    return s.mul(b, s.pow(a, f"{b} - 1"))


_register(
    Op(
        "pow",
        fpow,
        _pow_df,
        "f(a, b) = a ** b; df/da = b * a^(b - 1), df/db = a^b * log(a)",
        2,
        kinks=lambda a, b: ((0.0,), ()),
        formula=_pow_formula,
        domain=(((MARGIN, 10.0),), ((-3.0, 3.0),)),  # at most 10^3 = 1000 either way
        array=ArrayForm(pow_array, _pow_df_array),
    )
)
_register(
    Op(
        "exp",
        fexp,
        lambda out, a: (out,),
        "f(a) = e^a; df/da = e^a = f",
        1,
        formula=lambda s, x, out, i: out,
        domain=(((None, 5.0),),),  # e^5 ~ 148: no overflow, and no huge factor down the chain
        array=ArrayForm(np.exp),
    )
)
_register(
    Op(
        "log",
        flog,
        lambda out, a: (div(1.0, a),),
        "f(a) = ln a; df/da = 1 / a",
        1,
        kinks=lambda a: ((0.0,),),
        formula=lambda s, x, out, i: s.div("1", x[0]),
        domain=(POSITIVE,),
        array=ArrayForm(np.log),
    )
)
_register(
    Op(
        "tanh",
        math.tanh,
        lambda out, a: (1.0 - out * out,),
        "f(a) = tanh a; df/da = 1 - f^2. From the rounded f, 1 - f^2 is off by about "
        "e^(2|a|) 2^-54 relative (1.5e-8 at |a| = 9.7) and is 0 from |a| = 19.07, where f "
        "rounds to ±1; PyTorch's tanh' is the same formula, off by as much",
        1,
        formula=lambda s, x, out, i: f"1 - {s.pow(out, '2')}",
        array=ArrayForm(np.tanh),
    )
)


def sigmoid_array(a: Any) -> Any:
    """1 / (1 + e^-a) entry by entry, as e^a / (1 + e^a) below 0."""
    # fsigmoid's two forms, picked per entry: e^-|a| never overflows.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_register(
    Op(
        "sigmoid",
        fsigmoid,
        lambda out, a: (out * (1.0 - out),),
        "f(a) = 1 / (1 + e^-a); df/da = f (1 - f)",
        1,
        formula=lambda s, x, out, i: s.mul(out, f"1 - {out}"),
        array=ArrayForm(sigmoid_array),
    )
)


_register(
    Op(
        "relu",
        frelu,
        # The step is piecewise constant, so it is a float even when `a` is a Value: its own
        # derivative is 0 almost everywhere, which is exactly what second order needs.
        lambda out, a: (1.0 if data(a) > 0 else 0.0,),
        "f(a) = max(0, a); df/da = 1 if a > 0 else 0",
        1,
        kinks=lambda a: ((0.0,),),
        note=branch_note,
        domain=(NONZERO,),
        array=ArrayForm(
            lambda a: np.where(a <= 0.0, 0.0, a), lambda out, a: (np.where(a > 0.0, 1.0, 0.0),)
        ),
    )
)
_register(
    Op(
        "square",
        lambda a: a * a,
        lambda out, a: (2.0 * a,),
        "f(a) = a^2; df/da = 2a",
        1,
        formula=lambda s, x, out, i: s.mul("2", x[0]),
        array=ArrayForm(),
    )
)


# `dot` takes its operands as (w_1, ..., w_n, x_1, ..., x_n) with an optional trailing bias b,
# so any number of operands is a valid call (an even count has no bias).
def dot_partner(i: int, count: int) -> int | None:
    """The operand that multiplies operand i of a `count`-operand dot, or None for the bias."""
    n = count // 2
    if i >= 2 * n:
        return None
    return i + n if i < n else i - n


@functools.lru_cache(maxsize=256)
def dot_order(count: int) -> tuple[int, ...]:
    """The order in which backward adds a `count`-operand dot's contributions: w_1, x_1, w_2, x_2, ..., b.

    It is the order of the products w_k x_k. Every walk that adds up gradients (backward's fast
    and general paths, explain) follows it, so that an operand that fills several slots of one
    dot gets its contributions added in one order, and so to the same last bit.
    """
    n = count // 2
    pairs = [i for k in range(n) for i in (k, k + n)]
    return (*pairs, *range(2 * n, count))


# Sums start from -0.0, the identity of IEEE addition (0.0 + -0.0 is 0.0), so that a sum of
# negative zeros stays -0.0 as it does in numpy.
def _dot(*xs: float) -> float:
    n = len(xs) // 2
    total = sum(map(operator.mul, xs[:n], xs[n : 2 * n]), -0.0)
    return total + xs[-1] if len(xs) % 2 else total


def _dot_df(out: Scalar, *xs: Scalar) -> tuple[Scalar, ...]:
    n = len(xs) // 2
    ws, ins = xs[:n], xs[n : 2 * n]
    return (*ins, *ws, 1.0) if len(xs) % 2 else (*ins, *ws)


_register(
    Op(
        "dot",
        _dot,
        _dot_df,
        "f(w_1..w_n, x_1..x_n, b) = w_1 x_1 + ... + w_n x_n + b; df/dw_k = x_k, df/dx_k = w_k, df/db = 1",
        -1,
        formula=lambda s, x, out, i: "1" if (k := dot_partner(i, len(x))) is None else x[k],
        array=ArrayForm(),  # products and sums, left to right, work on arrays as written
    )
)
_register(
    Op(
        "sum",
        lambda *xs: sum(xs, -0.0),
        lambda out, *xs: (1.0,) * len(xs),
        "f(x_1, ..., x_n) = x_1 + ... + x_n; df/dx_i = 1",
        -1,
        formula=lambda s, x, out, i: "1",
        array=ArrayForm(),
    )
)
