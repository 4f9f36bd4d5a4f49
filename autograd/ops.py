"""The rule table: one entry per op, holding every fact about it.

An entry (`Op`) holds the op's forward `f` and its local derivatives `df`, its formula doc and
its kinks, and what the rest of the package needs to know about it: how `explain` writes its
derivatives (`formula`, `note`), where `autograd.testing` draws its inputs (`domain`), and its
forward and derivatives over numpy arrays (`array`). Adding an op means adding one entry here
(built-ins) or calling `autograd.defop` with the same facts (your own).

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
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

INF = math.inf
NAN = math.nan

# `Any` below means "a float or a Value": the rules are duck-typed on purpose.
Scalar = Any


# ---- what an entry holds ----


class Notation(Protocol):
    """How `explain` writes a derivative: plain text for str(), LaTeX for Jupyter.

    An entry's `formula` and `note` build their strings with these, so that one function serves
    both renderings. `value(k)` and `constant(k)` tell them about operand k, for the few rules
    whose form depends on it (a piecewise rule's branch, a constant exponent).
    """

    @property
    def le(self) -> str:
        """The sign ≤ (\\le in LaTeX)."""

    def mul(self, a: str, b: str) -> str:
        """a · b, parenthesised where needed."""

    def div(self, a: str, b: str) -> str:
        """a / b."""

    def pow(self, a: str, e: str) -> str:
        """a to the power e (a² for e = 2, a itself for e = 1)."""

    def ln(self, a: str) -> str:
        """The natural logarithm of a."""

    def fn(self, name: str, a: str) -> str:
        """A named function of a: cos(a), sqrt(a), |a| (\\cos, \\sqrt{}, |a| in LaTeX)."""

    def num(self, x: float) -> str:
        """A number as explain shows it: 12, 0.5, -0.333333."""

    def value(self, k: int) -> float:
        """The number of operand k."""

    def constant(self, k: int) -> bool:
        """True when operand k is a constant (the 2 in x * 2), not a node."""


# formula(s, x, out, i) writes d out/d x_i, with x the operands' texts (their names, or their
# numbers) and out the output's: "2·relu" for square, and with numbers put in, "2·6".
Formula = Callable[[Notation, Sequence[str], str, int], str]

# Testing domains: per operand, the intervals where the op is finite, differentiable and
# well-conditioned (autograd.testing draws its inputs there). An end of None stands for the
# bound in force; the last slot repeats for an n-ary op.
Interval = tuple[float | None, float | None]
Slot = tuple[Interval, ...]
MARGIN = 0.1  # how far a domain keeps an operand from a pole or a kink
ANY: Slot = ((None, None),)
NONZERO: Slot = ((None, -MARGIN), (MARGIN, None))
POSITIVE: Slot = ((MARGIN, None),)


@dataclass(frozen=True)
class ArrayForm:
    """The op over numpy arrays, elementwise: `f(*arrays)` and `df(out, *arrays)`, as in `Op`.

    This is what a replay over a batch runs: each operand a float64 array (all broadcastable),
    called under `np.errstate(all="ignore")` and giving the scalar rule's numbers, IEEE edges
    included. To a few ulp only: numpy's exp, log and tanh round differently from Python's math
    (np.tanh differs in the last bit for about 1 input in 5), and a derivative written in terms
    of the output inherits that (tanh' = 1 - f^2 makes it 4e-9 relative at x = 9). A derivative
    may be a plain number (add's 1.0), to be broadcast. `None` means the scalar rule already works
    on arrays as written: `ArrayForm()` says so for both.
    """

    f: Callable[..., Any] | None = None
    df: Callable[..., Sequence[Any]] | None = None


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


def array_rules(op: Op) -> tuple[Callable[..., Any], Callable[..., Sequence[Any]]] | None:
    """`op`'s forward and derivatives over numpy arrays (see `ArrayForm`), or None without them."""
    if op.array is None:
        return None
    return op.array.f or op.f, op.array.df or op.df


def _register(op: Op) -> Op:
    """Add `op` to the table; names are unique, so a clash is an error rather than a silent swap.

    Internal: the built-ins below, and `autograd.defop`, the public way to add an op.
    """
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


def fmaximum(a: float, b: float) -> float:
    """numpy's maximum: the larger, nan when either is nan, and b at a tie (max(-0.0, 0.0) = 0.0)."""
    return a if a > b or a != a else b


def fminimum(a: float, b: float) -> float:
    """numpy's minimum: the smaller, nan when either is nan, and b at a tie (min(0.0, -0.0) = -0.0)."""
    return a if a < b or a != a else b


def _ieee(fn: Callable[[float], float], ufunc: Any) -> Callable[[float], float]:
    """`fn` from Python's math where it answers, numpy's `ufunc` where math raises instead.

    math raises ValueError for sin(inf) or sqrt(-1) and OverflowError for sinh(1000), where numpy
    returns nan and inf as IEEE-754 says. Only those rare inputs pay for the slower fallback.
    """

    def f(a: float) -> float:
        try:
            return fn(a)
        except (ValueError, OverflowError):
            return _np_fallback(ufunc, a)

    f.__name__ = f.__qualname__ = f"f{ufunc.__name__}"
    f.__doc__ = (
        f"numpy.{ufunc.__name__} on one float: math.{fn.__name__}, inf or nan where it raises."
    )
    return f


fsin, fcos, ftan = _ieee(math.sin, np.sin), _ieee(math.cos, np.cos), _ieee(math.tan, np.tan)
farcsin, farccos = _ieee(math.asin, np.arcsin), _ieee(math.acos, np.arccos)
farctan = math.atan  # never raises: atan(±inf) = ±pi/2
fsqrt = _ieee(math.sqrt, np.sqrt)  # sqrt(-0.0) = -0.0, as numpy
fsinh, fcosh = _ieee(math.sinh, np.sinh), _ieee(math.cosh, np.cosh)
farcsinh = math.asinh  # never raises
farccosh, farctanh = _ieee(math.acosh, np.arccosh), _ieee(math.atanh, np.arctanh)
flog2, flog10 = _ieee(math.log2, np.log2), _ieee(math.log10, np.log10)
flog1p, fexpm1 = _ieee(math.log1p, np.log1p), _ieee(math.expm1, np.expm1)


def _pow2(a: float) -> float:
    return math.pow(2.0, a)


fexp2 = _ieee(_pow2, np.exp2)  # math.exp2 is Python 3.11's; pow(2, a) is the same number

if sys.version_info >= (3, 11):
    fcbrt = math.cbrt
else:  # pragma: no cover - Python 3.10

    def fcbrt(a: float) -> float:
        return float(np.cbrt(a))


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


def _either(method: str, ffn: Callable[[float], float], ufunc: Any) -> Callable[[Scalar], Scalar]:
    """A helper for rules: `ffn` on a float, the method `method` on a Value, `ufunc` on an array.

    With it a rule is written once for backward (floats), create_graph (Values) and the array
    form (numpy arrays): `lambda out, a: (cos(a),)` is sin's derivative in all three.
    """

    def g(a: Scalar) -> Scalar:
        if type(a) is float:
            return ffn(a)
        if isinstance(a, np.ndarray):
            return ufunc(a)
        return getattr(a, method)()

    g.__name__ = g.__qualname__ = method
    g.__doc__ = f"{method}(a) on a float, a Value or a numpy array."
    return g


sin, cos = _either("sin", fsin, np.sin), _either("cos", fcos, np.cos)
sqrt = _either("sqrt", fsqrt, np.sqrt)
sinh, cosh = _either("sinh", fsinh, np.sinh), _either("cosh", fcosh, np.cosh)
exp = _either("exp", fexp, np.exp)


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
    # 0 * inf = nan at a = 0 and nan at a = nan. A Value exponent keeps its graph wherever the
    # formula already gives 0 (a finite or infinite, not 0 or nan), so that d2/da db stays 1/a.
    masked = bd == 0.0 and (type(b) is float or ad == 0.0 or ad != ad)
    return (0.0 if masked else b * pow_(a, b - 1.0)), db


def _pow_df_array(out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    # _pow_df's masks, on float operands.
    da = np.where(b == 0.0, 0.0, b * np.power(a, b - 1.0))
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
        array=ArrayForm(np.power, _pow_df_array),
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
        "f(a) = tanh a; df/da = 1 - f^2",
        1,
        formula=lambda s, x, out, i: f"1 - {s.pow(out, '2')}",
        array=ArrayForm(np.tanh),
    )
)


def _sigmoid_array(a: Any) -> Any:
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
        array=ArrayForm(_sigmoid_array),
    )
)


def _relu_note(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    z = s.value(0)
    return f"{x[0]} = {s.num(z)} {'>' if z > 0 else s.le} 0"


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
        note=_relu_note,
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


def fclip(x: float, lo: float, hi: float) -> float:
    """min(max(x, lo), hi) in that order, as np.clip does on a number: hi wins when lo > hi, x
    at a tie (its own zero), and a nan anywhere gives nan."""
    m = lo if x < lo or lo != lo else x
    return hi if m > hi or hi != hi else m


def _clip_df(out: Scalar, x: Scalar, lo: Scalar, hi: Scalar) -> tuple[float, float, float]:
    # Piecewise constant, so floats even for Value inputs (their derivative is 0 a.e.). PyTorch's
    # clamp masks, but for x < lo = hi: there the output is lo's (and hi's) value, and lo gets
    # the 1 where PyTorch gives it to no one.
    xv, lv, hv = data(x), data(lo), data(hi)
    return (
        1.0 if lv <= xv <= hv else 0.0,
        1.0 if xv < lv <= hv else 0.0,
        1.0 if xv > hv or lv > hv else 0.0,
    )


def _clip_array(x: Any, lo: Any, hi: Any) -> Any:
    m = np.where((x < lo) | (lo != lo), lo, x)  # fclip, comparison for comparison
    return np.where((m > hi) | (hi != hi), hi, m)


def _clip_df_array(out: Any, x: Any, lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    return (
        np.where((lo <= x) & (x <= hi), 1.0, 0.0),
        np.where((x < lo) & (lo <= hi), 1.0, 0.0),
        np.where((x > hi) | (lo > hi), 1.0, 0.0),
    )


def _said(s: Notation, x: Sequence[str], k: int) -> str:
    """Operand k with its number, `lo = 0.1`, for a note; a constant is its number already."""
    return x[k] if s.constant(k) else f"{x[k]} = {s.num(s.value(k))}"


def _clip_note(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    """Which bound is in force, the same for all three operands: `x = 2 > hi = 1`."""

    def said(k: int) -> str:
        return _said(s, x, k)

    v, lo, hi = s.value(0), s.value(1), s.value(2)
    if lo <= v <= hi:
        return f"{said(1)} {s.le} {said(0)} {s.le} {said(2)}"
    if v < lo <= hi:
        return f"{said(0)} < {said(1)} {s.le} {said(2)}"
    if v < lo:
        return f"{said(0)} < {said(1)}, {x[1]} > {said(2)}"
    return f"{said(0)} > {said(2)}" if v > hi else ""  # "" for a nan x


_register(
    Op(
        "clip",
        fclip,
        _clip_df,
        "f(x, lo, hi) = min(max(x, lo), hi); df/dx = 1 if lo <= x <= hi else 0, "
        "df/dlo = 1 if x < lo <= hi else 0, df/dhi = 1 if max(x, lo) > hi else 0",
        3,
        # max(x, lo) switches where x meets lo, and min(., hi) where max(x, lo) meets hi:
        # so lo kinks at hi too (bounds crossing), and hi at x and at lo.
        kinks=lambda x, lo, hi: ((lo, hi), (x, hi), (x, lo)),
        note=_clip_note,
        # Ordered bounds around 0, so that x moves between them; crossed bounds (clip is then
        # just hi) and their kink are tested on their own.
        domain=(ANY, ((-2.0, -MARGIN),), ((MARGIN, 2.0),)),
        array=ArrayForm(_clip_array, _clip_df_array),
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


# ---- trigonometric functions and roots ----
#
# Values follow numpy (sin(inf) = nan, sqrt(-1) = nan, cbrt(-8) = -2), and derivatives PyTorch's
# formulas in float64, IEEE edges included: sqrt'(0) = inf, arcsin'(1) = inf, arctan'(inf) = 0.


def _tan_kinks(a: float) -> tuple[tuple[float, ...]]:
    # The poles pi/2 + k pi on either side of a.
    if not math.isfinite(a):
        return ((),)
    k = math.floor((a - math.pi / 2) / math.pi)
    return ((math.pi / 2 + k * math.pi, math.pi / 2 + (k + 1) * math.pi),)


def _inverse_sqrt_formula(inside: str, sign: str = "") -> Formula:
    """1 / sqrt(inside), written with the operand: 1/sqrt(1 - a²) for arcsin."""
    return lambda s, x, out, i: sign + s.div("1", s.fn("sqrt", inside.format(s.pow(x[0], "2"))))


_register(
    Op(
        "sin",
        fsin,
        lambda out, a: (cos(a),),
        "f(a) = sin a; df/da = cos a",
        1,
        formula=lambda s, x, out, i: s.fn("cos", x[0]),
        array=ArrayForm(np.sin),
    )
)
_register(
    Op(
        "cos",
        fcos,
        lambda out, a: (-sin(a),),
        "f(a) = cos a; df/da = -sin a",
        1,
        formula=lambda s, x, out, i: "-" + s.fn("sin", x[0]),
        array=ArrayForm(np.cos),
    )
)
_register(
    Op(
        "tan",
        ftan,
        lambda out, a: (1.0 + out * out,),
        "f(a) = tan a; df/da = 1 + tan^2 a = 1 + f^2",
        1,
        kinks=_tan_kinks,
        formula=lambda s, x, out, i: f"1 + {s.pow(out, '2')}",
        domain=(((-1.2, 1.2),),),  # tan' <= 8 there, poles at +-1.57
        array=ArrayForm(np.tan),
    )
)
_register(
    Op(
        "arcsin",
        farcsin,
        lambda out, a: (div(1.0, sqrt(1.0 - a * a)),),
        "f(a) = arcsin a; df/da = 1 / sqrt(1 - a^2)",
        1,
        kinks=lambda a: ((-1.0, 1.0),),
        formula=_inverse_sqrt_formula("1 - {}"),
        domain=(((-0.9, 0.9),),),
        array=ArrayForm(np.arcsin),
    )
)
_register(
    Op(
        "arccos",
        farccos,
        lambda out, a: (-div(1.0, sqrt(1.0 - a * a)),),
        "f(a) = arccos a; df/da = -1 / sqrt(1 - a^2)",
        1,
        kinks=lambda a: ((-1.0, 1.0),),
        formula=_inverse_sqrt_formula("1 - {}", sign="-"),
        domain=(((-0.9, 0.9),),),
        array=ArrayForm(np.arccos),
    )
)
_register(
    Op(
        "arctan",
        farctan,
        lambda out, a: (div(1.0, 1.0 + a * a),),
        "f(a) = arctan a; df/da = 1 / (1 + a^2)",
        1,
        formula=lambda s, x, out, i: s.div("1", f"1 + {s.pow(x[0], '2')}"),
        array=ArrayForm(np.arctan),
    )
)
_register(
    Op(
        "sqrt",
        fsqrt,
        lambda out, a: (div(0.5, out),),
        "f(a) = sqrt a; df/da = 1 / (2 sqrt a) = 1 / (2 f)",
        1,
        kinks=lambda a: ((0.0,),),
        formula=lambda s, x, out, i: s.div("1", s.mul("2", out)),
        domain=(POSITIVE,),
        array=ArrayForm(np.sqrt),
    )
)
_register(
    Op(
        "cbrt",
        fcbrt,
        # f^-2 / 3 rather than 1 / (3 f f): at a = +0 the second derivative is then pow's
        # -inf, as PyTorch's a ** (1/3) gives, where the product would give 0 * inf = nan.
        lambda out, a: (pow_(out, -2.0) / 3.0,),
        "f(a) = cbrt a (the real cube root); df/da = 1 / (3 cbrt(a)^2) = 1 / (3 f^2)",
        1,
        kinks=lambda a: ((0.0,),),  # a vertical tangent
        formula=lambda s, x, out, i: s.div("1", s.mul("3", s.pow(out, "2"))),
        domain=(NONZERO,),
        array=ArrayForm(np.cbrt),
    )
)


# ---- hyperbolic functions ----

_register(
    Op(
        "sinh",
        fsinh,
        lambda out, a: (cosh(a),),
        "f(a) = sinh a; df/da = cosh a",
        1,
        formula=lambda s, x, out, i: s.fn("cosh", x[0]),
        domain=(((-5.0, 5.0),),),  # cosh 5 ~ 74
        array=ArrayForm(np.sinh),
    )
)
_register(
    Op(
        "cosh",
        fcosh,
        lambda out, a: (sinh(a),),
        "f(a) = cosh a; df/da = sinh a",
        1,
        formula=lambda s, x, out, i: s.fn("sinh", x[0]),
        domain=(((-5.0, 5.0),),),
        array=ArrayForm(np.cosh),
    )
)
_register(
    Op(
        "arcsinh",
        farcsinh,
        lambda out, a: (div(1.0, sqrt(a * a + 1.0)),),
        "f(a) = arcsinh a; df/da = 1 / sqrt(a^2 + 1)",
        1,
        formula=_inverse_sqrt_formula("{} + 1"),
        array=ArrayForm(np.arcsinh),
    )
)
_register(
    Op(
        "arccosh",
        farccosh,
        # PyTorch's formula, which is finite below -1 too, where f itself is nan.
        lambda out, a: (div(1.0, sqrt(a * a - 1.0)),),
        "f(a) = arccosh a (a >= 1); df/da = 1 / sqrt(a^2 - 1)",
        1,
        kinks=lambda a: ((1.0,),),
        formula=_inverse_sqrt_formula("{} - 1"),
        domain=(((1.0 + MARGIN, None),),),
        array=ArrayForm(np.arccosh),
    )
)
_register(
    Op(
        "arctanh",
        farctanh,
        lambda out, a: (div(1.0, 1.0 - a * a),),
        "f(a) = arctanh a; df/da = 1 / (1 - a^2)",
        1,
        kinks=lambda a: ((-1.0, 1.0),),
        formula=lambda s, x, out, i: s.div("1", f"1 - {s.pow(x[0], '2')}"),
        domain=(((-0.9, 0.9),),),
        array=ArrayForm(np.arctanh),
    )
)


# ---- logarithms and exponentials in other bases, and near 0 ----

LN2, LN10 = math.log(2.0), math.log(10.0)

_register(
    Op(
        "log2",
        flog2,
        lambda out, a: (div(1.0, a * LN2),),
        "f(a) = log2 a; df/da = 1 / (a ln 2)",
        1,
        kinks=lambda a: ((0.0,),),
        formula=lambda s, x, out, i: s.div("1", s.mul(x[0], s.ln("2"))),
        domain=(POSITIVE,),
        array=ArrayForm(np.log2),
    )
)
_register(
    Op(
        "log10",
        flog10,
        lambda out, a: (div(1.0, a * LN10),),
        "f(a) = log10 a; df/da = 1 / (a ln 10)",
        1,
        kinks=lambda a: ((0.0,),),
        formula=lambda s, x, out, i: s.div("1", s.mul(x[0], s.ln("10"))),
        domain=(POSITIVE,),
        array=ArrayForm(np.log10),
    )
)
_register(
    Op(
        "log1p",
        flog1p,
        lambda out, a: (div(1.0, a + 1.0),),
        "f(a) = ln(1 + a), exact for tiny a; df/da = 1 / (1 + a)",
        1,
        kinks=lambda a: ((-1.0,),),
        formula=lambda s, x, out, i: s.div("1", f"1 + {x[0]}"),
        domain=(((-1.0 + MARGIN, None),),),
        array=ArrayForm(np.log1p),
    )
)
_register(
    Op(
        "expm1",
        fexpm1,
        # e^a, not PyTorch's f + 1: that cancels for a < 0 (0 instead of e^a from a = -37 on).
        lambda out, a: (exp(a),),
        "f(a) = e^a - 1, exact for tiny a; df/da = e^a",
        1,
        formula=lambda s, x, out, i: s.fn("exp", x[0]),
        domain=(((None, 5.0),),),
        array=ArrayForm(np.expm1),
    )
)
_register(
    Op(
        "exp2",
        fexp2,
        lambda out, a: (out * LN2,),
        "f(a) = 2^a; df/da = 2^a ln 2 = f ln 2",
        1,
        formula=lambda s, x, out, i: s.mul(out, s.ln("2")),
        domain=(((None, 7.0),),),  # 2^7 = 128
        array=ArrayForm(np.exp2),
    )
)


# ---- piecewise functions ----
#
# Where a piece ends, the derivative is PyTorch's: abs'(0) = 0 (torch's sign(0) = 0), floor' =
# ceil' = sign' = 0 everywhere. Piecewise constant derivatives are floats even for Value inputs:
# their own derivative is 0 almost everywhere, which is what second order needs.


def _sign_of(a: Scalar) -> float:
    """-1, 0 or 1 as PyTorch's sign: 0 at ±0 and at nan, so that abs'(nan) is 0 as in torch."""
    v = data(a)
    return 1.0 if v > 0 else -1.0 if v < 0 else 0.0


def fsign(a: float) -> float:
    """numpy's sign: -1.0, 0.0 or 1.0, and nan for nan (+0.0 for -0.0)."""
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0 if a == 0 else a


def ffloor(a: float) -> float:
    """numpy's floor: a float, inf and nan passed through, the sign of a kept (floor(-0.0) = -0.0)."""
    if a - a != 0.0:  # inf or nan
        return a
    return math.copysign(float(math.floor(a)), a)


def fceil(a: float) -> float:
    """numpy's ceil: a float, inf and nan passed through, the sign of a kept (ceil(-0.5) = -0.0)."""
    if a - a != 0.0:
        return a
    return math.copysign(float(math.ceil(a)), a)


def _steps(first: Callable[[float], float]) -> Callable[[float], tuple[tuple[float, ...]]]:
    """The kinks of floor or ceil: the two integers around a, where the value jumps."""

    def kinks(a: float) -> tuple[tuple[float, ...]]:
        if a - a != 0.0:
            return ((),)
        k = first(a)
        return ((k, k + 1.0),)

    return kinks


_register(
    Op(
        "abs",
        abs,
        lambda out, a: (_sign_of(a),),
        "f(a) = |a|; df/da = sign(a) (0 at a = 0, as PyTorch)",
        1,
        kinks=lambda a: ((0.0,),),
        formula=lambda s, x, out, i: s.fn("sign", x[0]),
        domain=(NONZERO,),
        array=ArrayForm(
            np.abs, lambda out, a: (np.where(a > 0.0, 1.0, np.where(a < 0.0, -1.0, 0.0)),)
        ),
    )
)
_register(
    Op(
        "sign",
        fsign,
        lambda out, a: (0.0,),
        "f(a) = sign(a), -1, 0 or 1; df/da = 0 (a jump at 0)",
        1,
        kinks=lambda a: ((0.0,),),
        formula=lambda s, x, out, i: "0",
        domain=(NONZERO,),
        array=ArrayForm(np.sign),
    )
)
_register(
    Op(
        "floor",
        ffloor,
        lambda out, a: (0.0,),
        "f(a) = floor(a), the largest integer <= a; df/da = 0 (a jump at each integer)",
        1,
        kinks=_steps(ffloor),
        formula=lambda s, x, out, i: "0",
        array=ArrayForm(np.floor),
    )
)
_register(
    Op(
        "ceil",
        fceil,
        lambda out, a: (0.0,),
        "f(a) = ceil(a), the smallest integer >= a; df/da = 0 (a jump at each integer)",
        1,
        kinks=_steps(lambda a: fceil(a) - 1.0),
        formula=lambda s, x, out, i: "0",
        array=ArrayForm(np.ceil),
    )
)


# leaky_relu and elu take a parameter (the slope, alpha). It is their second operand: a constant
# (a float kept in the node, as the 2 in x ** 2) or a Value, so one table entry serves every
# slope, the drawing and explain show it, and a learnable slope (PReLU) gets its gradient.


def _branch_note(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    """Which piece a piecewise rule took: `x = 6 > 0` or `x = -1 ≤ 0`."""
    z = s.value(0)
    return f"{x[0]} = {s.num(z)} {'>' if z > 0 else s.le} 0"


def _leaky_relu_df(out: Scalar, x: Scalar, slope: Scalar) -> tuple[Scalar, Scalar]:
    # PyTorch's test (x > 0 takes the identity), so that nan takes the slope as in torch.
    if data(x) > 0:
        return 1.0, 0.0
    return slope, x


_register(
    Op(
        "leaky_relu",
        lambda x, slope: x if x > 0 else x * slope,
        _leaky_relu_df,
        "f(x, s) = x if x > 0 else s x; df/dx = 1 if x > 0 else s, df/ds = 0 if x > 0 else x",
        2,
        kinks=lambda x, slope: ((0.0,), ()),
        formula=lambda s, x, out, i: ("1", "0")[i] if s.value(0) > 0 else (x[1], x[0])[i],
        note=_branch_note,
        domain=(NONZERO, ((0.0, 1.0),)),
        array=ArrayForm(
            lambda x, slope: np.where(x > 0.0, x, x * slope),
            lambda out, x, slope: (np.where(x > 0.0, 1.0, slope), np.where(x > 0.0, 0.0, x)),
        ),
    )
)

expm1 = _either("expm1", fexpm1, np.expm1)


def _elu_df(out: Scalar, x: Scalar, alpha: Scalar) -> tuple[Scalar, Scalar]:
    # PyTorch's test (x <= 0 takes the exponential), so that nan takes the identity's 1 as in torch.
    if data(x) <= 0:
        return alpha * exp(x), expm1(x)
    return 1.0, 0.0


def _elu_formula(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    if not s.value(0) <= 0:
        return ("1", "0")[i]
    e = s.fn("exp", x[0])
    return s.mul(x[1], e) if i == 0 else f"{e} - 1"


_register(
    Op(
        "elu",
        lambda x, alpha: x if x > 0 else alpha * fexpm1(x),
        _elu_df,
        "f(x, alpha) = x if x > 0 else alpha (e^x - 1); df/dx = 1 if x > 0 else alpha e^x, "
        "df/dalpha = 0 if x > 0 else e^x - 1",
        2,
        kinks=lambda x, alpha: ((0.0,), ()),
        formula=_elu_formula,
        note=_branch_note,
        domain=(NONZERO, ((0.1, 2.0),)),
        array=ArrayForm(
            lambda x, alpha: np.where(x > 0.0, x, alpha * np.expm1(x)),
            lambda out, x, alpha: (
                np.where(x <= 0.0, alpha * np.exp(x), 1.0),
                np.where(x <= 0.0, np.expm1(x), 0.0),
            ),
        ),
    )
)


def fsoftplus(a: float) -> float:
    """ln(1 + e^a) as max(a, 0) + ln(1 + e^-|a|), which cannot overflow (numpy's logaddexp(0, a))."""
    return (a if a > 0 else 0.0) + math.log1p(fexp(-abs(a)))


sigmoid = _either("sigmoid", fsigmoid, _sigmoid_array)

_register(
    Op(
        "softplus",
        fsoftplus,
        lambda out, a: (sigmoid(a),),
        "f(a) = ln(1 + e^a); df/da = sigmoid(a) = 1 / (1 + e^-a)",
        1,
        formula=lambda s, x, out, i: s.fn("sigmoid", x[0]),
        array=ArrayForm(
            lambda a: np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a))),
            lambda out, a: (_sigmoid_array(a),),
        ),
    )
)


# ---- functions of two numbers ----


def _arctan2_df(out: Scalar, y: Scalar, x: Scalar) -> tuple[Scalar, Scalar]:
    # d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2), with both operands first divided by the
    # larger magnitude s: a float, so a constant of the graph, and x^2 + y^2 then neither
    # underflows nor overflows. PyTorch's unscaled form gives 0 where x^2 + y^2 leaves the
    # float range (|x|, |y| below 1e-154, where the gradient is above 1e154). At the origin the
    # gradient is 0, as PyTorch's; an infinite or nan operand takes the unscaled form.
    s = fmaximum(abs(data(y)), abs(data(x)))
    if not 0.0 < s < INF:
        s = 1.0
    ys, xs = y / s, x / s
    r2 = ys * ys + xs * xs
    if data(r2) == 0.0:
        return xs * 0.0, -(ys * 0.0)
    return div(xs, r2) / s, -div(ys, r2) / s


def _arctan2_df_array(out: Any, y: Any, x: Any) -> tuple[Any, Any]:
    # _arctan2_df on arrays, operation for operation.
    s = np.maximum(np.abs(y), np.abs(x))
    s = np.where((s > 0.0) & (s < INF), s, 1.0)
    ys, xs = y / s, x / s
    r2 = ys * ys + xs * xs
    origin = r2 == 0.0
    return np.where(origin, xs * 0.0, xs / r2 / s), np.where(origin, -(ys * 0.0), -(ys / r2) / s)


def _squares(s: Notation, x: Sequence[str]) -> str:
    return f"{s.pow(x[0], '2')} + {s.pow(x[1], '2')}"


_register(
    Op(
        "arctan2",
        math.atan2,  # IEEE already: atan2(±0, -0) = ±pi, atan2(inf, inf) = pi/4
        _arctan2_df,
        "f(y, x) = the angle of the point (x, y), in (-pi, pi]; df/dy = x / (x^2 + y^2), "
        "df/dx = -y / (x^2 + y^2)",
        2,
        # Not differentiable at the origin, and a jump of 2 pi across y = 0 where x < 0.
        kinks=lambda y, x: ((0.0,), (0.0,)),
        formula=lambda s, x, out, i: (
            s.div(x[1], _squares(s, x)) if i == 0 else "-" + s.div(x[0], _squares(s, x))
        ),
        domain=(ANY, ANY),
        array=ArrayForm(np.arctan2, _arctan2_df_array),
    )
)
_register(
    Op(
        "hypot",
        math.hypot,  # IEEE already: hypot(inf, nan) = inf
        lambda out, a, b: (div(a, out), div(b, out)),
        "f(a, b) = sqrt(a^2 + b^2), without overflow; df/da = a / f, df/db = b / f "
        "(nan at the origin, as PyTorch)",
        2,
        kinks=lambda a, b: ((0.0,), (0.0,)),  # a cone at the origin
        formula=lambda s, x, out, i: s.div(x[i], out),
        domain=(ANY, ANY),
        array=ArrayForm(np.hypot),
    )
)


def _shares(a: float, b: float, larger: bool) -> tuple[float, float]:
    """How maximum (larger) or minimum passes the gradient: PyTorch's, halves at a tie, and all to
    both operands when one is nan (neither a < b nor a > b)."""
    if a == b:
        return 0.5, 0.5
    a_wins, b_wins = (a > b, a < b) if larger else (a < b, a > b)
    return (0.0 if b_wins else 1.0), (0.0 if a_wins else 1.0)


def _shares_array(a: Any, b: Any, larger: bool) -> tuple[Any, Any]:
    a_wins, b_wins = (a > b, a < b) if larger else (a < b, a > b)
    tie = a == b
    return np.where(tie, 0.5, np.where(b_wins, 0.0, 1.0)), np.where(
        tie, 0.5, np.where(a_wins, 0.0, 1.0)
    )


def _order_note(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    """Why maximum or minimum passed the gradient on as it did: `a = 2 > b = 1`, or a tie."""
    a, b = s.value(0), s.value(1)
    if a == b:
        return f"{_said(s, x, 0)} = {_said(s, x, 1)}: a tie, half each"
    if a != a or b != b:
        return ""  # nan: both get it whole
    return f"{_said(s, x, 0)} {'>' if a > b else '<'} {_said(s, x, 1)}"


_register(
    Op(
        "maximum",
        fmaximum,
        lambda out, a, b: _shares(data(a), data(b), larger=True),
        "f(a, b) = the larger of a and b (nan if either is); df/da = 1 if a > b, 0 if a < b, "
        "1/2 at a tie (PyTorch's); df/db likewise",
        2,
        kinks=lambda a, b: ((b,), (a,)),
        formula=lambda s, x, out, i: s.num(_shares(s.value(0), s.value(1), larger=True)[i]),
        note=_order_note,
        domain=(ANY, ANY),
        array=ArrayForm(np.maximum, lambda out, a, b: _shares_array(a, b, larger=True)),
    )
)
_register(
    Op(
        "minimum",
        fminimum,
        lambda out, a, b: _shares(data(a), data(b), larger=False),
        "f(a, b) = the smaller of a and b (nan if either is); df/da = 1 if a < b, 0 if a > b, "
        "1/2 at a tie (PyTorch's); df/db likewise",
        2,
        kinks=lambda a, b: ((b,), (a,)),
        formula=lambda s, x, out, i: s.num(_shares(s.value(0), s.value(1), larger=False)[i]),
        note=_order_note,
        domain=(ANY, ANY),
        array=ArrayForm(np.minimum, lambda out, a, b: _shares_array(a, b, larger=False)),
    )
)


def fremainder(a: float, b: float) -> float:
    """a mod b with the sign of b, as numpy's remainder and Python's %: 5 % -3 = -1, x % 0 = nan."""
    try:
        return a % b
    except ZeroDivisionError:
        return _np_fallback(np.remainder, a, b)


def ffloor_divide(a: float, b: float) -> float:
    """floor(a / b) as numpy's floor_divide and Python's //, with x // 0 = ±inf or nan."""
    try:
        return a // b
    except ZeroDivisionError:
        return _np_fallback(np.floor_divide, a, b)


def _mod_kinks(a: float, b: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    # The value jumps where a / b crosses an integer n: at a = n b, and at b = a / n.
    q = ffloor_divide(a, b)
    if not math.isfinite(q) or b == 0:
        return (), (0.0,)
    return (q * b, (q + 1.0) * b), (0.0, *(a / n for n in (q, q + 1.0) if n != 0))


_register(
    Op(
        "mod",
        fremainder,
        # -floor(a / b) is piecewise constant: a float even for Values (0 a.e. as it should be).
        lambda out, a, b: (1.0, -ffloor_divide(data(a), data(b))),
        "f(a, b) = a mod b = a - b floor(a / b), with the sign of b (Python's %, numpy's mod); "
        "df/da = 1, df/db = -floor(a / b) (jumps where a / b is an integer)",
        2,
        kinks=_mod_kinks,
        formula=lambda s, x, out, i: "-" + s.fn("floor", s.div(x[0], x[1])) if i else "1",
        # |a| <= 10 and 1 <= |b| <= 5, so that the jumps (|b| apart in a, near b^2 / |a| apart
        # in b) leave room between them for inputs a margin away.
        domain=(((-10.0, 10.0),), ((-5.0, -1.0), (1.0, 5.0))),
        array=ArrayForm(np.remainder, lambda out, a, b: (1.0, -np.floor_divide(a, b))),
    )
)

# The ops defined here; `autograd.defop` adds others, which alone can be removed again.
BUILT_IN = frozenset(OPS)
