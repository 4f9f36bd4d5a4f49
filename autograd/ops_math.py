"""The rule table's mathematical functions: trigonometric, hyperbolic, logarithms and exponentials
in other bases, roots, and arctan2 and hypot. They register into `ops.OPS` at import.

Values follow numpy (sin(inf) = nan, sqrt(-1) = nan, cbrt(-8) = -2), and derivatives PyTorch's
formulas in float64, IEEE edges included: sqrt'(0) = inf, arcsin'(1) = inf, arctan'(inf) = 0.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .facts import ANY, MARGIN, NONZERO, POSITIVE, ArrayForm, Formula, Notation
from .ops import INF, Op, Scalar, _register, data, div, fexp, np_fallback, pow_

# ---- IEEE-754 float functions, as numpy's: math raises where numpy returns inf or nan ----


def _ieee(fn: Callable[[float], float], ufunc: Any) -> Callable[[float], float]:
    """`fn` from Python's math where it answers, numpy's `ufunc` where math raises instead.

    math raises ValueError for sin(inf) or sqrt(-1) and OverflowError for sinh(1000), where numpy
    returns nan and inf as IEEE-754 says. Only those rare inputs pay for the slower fallback.
    """

    def f(a: float) -> float:
        try:
            return fn(a)
        except (ValueError, OverflowError):
            return np_fallback(ufunc, a)

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


def fmaximum(a: float, b: float) -> float:
    """numpy's maximum: the larger, nan when either is nan, and b at a tie (max(-0.0, 0.0) = 0.0)."""
    return a if a > b or a != a else b


def fminimum(a: float, b: float) -> float:
    """numpy's minimum: the smaller, nan when either is nan, and b at a tie (min(0.0, -0.0) = -0.0)."""
    return a if a < b or a != a else b


# ---- helpers for rules, valid for floats, Values and arrays alike ----


def either(method: str, ffn: Callable[[float], float], ufunc: Any) -> Callable[[Scalar], Scalar]:
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


exp = either("exp", fexp, np.exp)
sin, cos = either("sin", fsin, np.sin), either("cos", fcos, np.cos)
sqrt = either("sqrt", fsqrt, np.sqrt)
sinh, cosh = either("sinh", fsinh, np.sinh), either("cosh", fcosh, np.cosh)

# ---- trigonometric functions and roots ----


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
