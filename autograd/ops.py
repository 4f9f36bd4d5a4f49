"""The derivative-rule table: one entry per op, holding its forward and its local derivatives.

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
from dataclasses import dataclass
from typing import Any

import numpy as np

INF = math.inf
NAN = math.nan

# `Any` below means "a float or a Value": the rules are duck-typed on purpose.
Scalar = Any


@dataclass(frozen=True)
class Op:
    """One rule: `f` computes the output from input floats, `df(out, *inputs)` the local derivatives.

    `df` returns one entry per input: d out / d input_i. It receives the output too, because
    several derivatives are cheapest in terms of it (exp' = exp, tanh' = 1 - tanh^2).
    `kinks(*inputs)` lists, per input, the points where the op is not differentiable, so that a
    gradient check can tell a kink from a wrong derivative.
    """

    name: str
    f: Callable[..., float]
    df: Callable[..., Sequence[Scalar]]
    doc: str
    arity: int  # -1 means any number of inputs
    kinks: Callable[..., Sequence[Sequence[float]]] | None = None


OPS: dict[str, Op] = {}


def kink_points(op: Op, xs: Sequence[float]) -> list[list[float]]:
    """`op.kinks(*xs)` checked: per input, the points (floats) where the op is not differentiable."""
    if op.kinks is None:
        return [[] for _ in xs]
    raw = op.kinks(*xs)
    need = f"kinks of op {op.name!r} must return one sequence of points per input ({len(xs)})"
    if not isinstance(raw, (tuple, list)) or len(raw) != len(xs):
        raise TypeError(f"{need}, got {raw!r:.80}")
    points = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, (tuple, list)):
            raise TypeError(f"{need}; for input {i} it gave {type(entry).__name__} {entry!r:.40}")
        for p in entry:
            if not isinstance(p, numbers.Real) or isinstance(p, bool):
                raise TypeError(f"{need}; for input {i} it gave the point {p!r:.40}, not a number")
        points.append([float(p) for p in entry])
    return points


def register(op: Op) -> Op:
    """Add `op` to the table; names are unique, so a clash is an error rather than a silent swap."""
    if op.name in OPS:
        raise ValueError(f"an op named {op.name!r} is already registered")
    OPS[op.name] = op
    return op


# ---- IEEE-754 float helpers: Python's math raises where numpy returns inf or nan ----


def _np_fallback(fn: Callable[..., Any], *args: float) -> float:
    with np.errstate(all="ignore"):
        return float(fn(*(np.float64(a) for a in args)))


def fdiv(a: float, b: float) -> float:
    """a / b with 1/0 = inf and 0/0 = nan."""
    try:
        return a / b
    except ZeroDivisionError:
        return _np_fallback(np.divide, a, b)


def fpow(a: float, b: float) -> float:
    """a ** b, real-valued: a negative base with a fractional exponent gives nan, not a complex."""
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError, ZeroDivisionError):
        return _np_fallback(np.power, a, b)


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
    """The number inside a Value, or the float itself; used where a rule is piecewise constant."""
    return a if type(a) is float else a.data


# ---- the table ----

register(
    Op(
        "add",
        operator.add,
        lambda out, a, b: (1.0, 1.0),
        "f(a, b) = a + b; df/da = 1, df/db = 1",
        2,
    )
)
register(
    Op(
        "sub",
        operator.sub,
        lambda out, a, b: (1.0, -1.0),
        "f(a, b) = a - b; df/da = 1, df/db = -1",
        2,
    )
)
register(
    Op("mul", operator.mul, lambda out, a, b: (b, a), "f(a, b) = a * b; df/da = b, df/db = a", 2)
)
register(
    Op(
        "div",
        fdiv,
        lambda out, a, b: (div(1.0, b), -div(out, b)),
        "f(a, b) = a / b; df/da = 1 / b, df/db = -a / b^2 = -f / b",
        2,
        kinks=lambda a, b: ((), (0.0,)),
    )
)
register(Op("neg", operator.neg, lambda out, a: (-1.0,), "f(a) = -a; df/da = -1", 1))


def _pow_df(out: Scalar, a: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
    # The masks are PyTorch's (float64), and they give one number whether the operands are floats
    # (backward) or Values (create_graph). d/db = a^b ln a is 0 * -inf = nan at a = 0, where the
    # limit is 0 for b >= 0; for b < 0 the formula stands (inf * -inf = -inf), as for b = nan.
    ad, bd = data(a), data(b)
    db = 0.0 if ad == 0.0 and bd >= 0.0 else out * log(a)
    # d/da = b a^(b - 1) is 0 at b = 0 for every a (a ** 0 is 1), where the formula gives
    # 0 * inf = nan at a = 0 and nan at a = nan. A Value exponent keeps its graph wherever the
    # formula already gives 0 (a finite or infinite, not 0 or nan), so that d2/da db stays 1/a.
    masked = bd == 0.0 and (type(b) is float or ad == 0.0 or ad != ad)
    return (0.0 if masked else b * pow_(a, b - 1.0)), db


register(
    Op(
        "pow",
        fpow,
        _pow_df,
        "f(a, b) = a ** b; df/da = b * a^(b - 1), df/db = a^b * log(a)",
        2,
        kinks=lambda a, b: ((0.0,), ()),
    )
)
register(Op("exp", fexp, lambda out, a: (out,), "f(a) = e^a; df/da = e^a = f", 1))
register(
    Op(
        "log",
        flog,
        lambda out, a: (div(1.0, a),),
        "f(a) = ln a; df/da = 1 / a",
        1,
        kinks=lambda a: ((0.0,),),
    )
)
register(
    Op("tanh", math.tanh, lambda out, a: (1.0 - out * out,), "f(a) = tanh a; df/da = 1 - f^2", 1)
)
register(
    Op(
        "sigmoid",
        fsigmoid,
        lambda out, a: (out * (1.0 - out),),
        "f(a) = 1 / (1 + e^-a); df/da = f (1 - f)",
        1,
    )
)
register(
    Op(
        "relu",
        frelu,
        # The step is piecewise constant, so it is a float even when `a` is a Value: its own
        # derivative is 0 almost everywhere, which is exactly what second order needs.
        lambda out, a: (1.0 if data(a) > 0 else 0.0,),
        "f(a) = max(0, a); df/da = 1 if a > 0 else 0",
        1,
        kinks=lambda a: ((0.0,),),
    )
)
register(Op("square", lambda a: a * a, lambda out, a: (2.0 * a,), "f(a) = a^2; df/da = 2a", 1))


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


register(
    Op(
        "dot",
        _dot,
        _dot_df,
        "f(w_1..w_n, x_1..x_n, b) = w_1 x_1 + ... + w_n x_n + b; df/dw_k = x_k, df/dx_k = w_k, df/db = 1",
        -1,
    )
)
register(
    Op(
        "sum",
        lambda *xs: sum(xs, -0.0),
        lambda out, *xs: (1.0,) * len(xs),
        "f(x_1, ..., x_n) = x_1 + ... + x_n; df/dx_i = 1",
        -1,
    )
)
