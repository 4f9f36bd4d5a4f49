"""The rule table's piecewise functions: abs, sign, floor, ceil, leaky_relu, elu, softplus, clip,
maximum, minimum and mod. They register into `ops.OPS` at import.

Where a piece ends, the derivative is PyTorch's: abs'(0) = 0 (torch's sign(0) = 0), floor' =
ceil' = sign' = 0 everywhere, maximum and minimum split a tie half and half. Piecewise constant
derivatives are floats even for Value inputs: their own derivative is 0 almost everywhere, which
is what second order needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .facts import ANY, MARGIN, NONZERO, ArrayForm, Notation, branch_note
from .ops import Op, Scalar, _register, data, fexp, fsigmoid, np_fallback, sigmoid_array
from .ops_math import either, exp, fexpm1, fmaximum, fminimum

# ---- steps: abs, sign, floor, ceil ----


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


# ---- activations: leaky_relu, elu, softplus ----
#
# leaky_relu and elu take a parameter (the slope, alpha). It is their second operand: a constant
# (a float kept in the node, as the 2 in x ** 2) or a Value, so one table entry serves every
# slope, the drawing and explain show it, and a learnable slope (PReLU) gets its gradient.


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
        note=branch_note,
        domain=(NONZERO, ((0.0, 1.0),)),
        array=ArrayForm(
            lambda x, slope: np.where(x > 0.0, x, x * slope),
            lambda out, x, slope: (np.where(x > 0.0, 1.0, slope), np.where(x > 0.0, 0.0, x)),
        ),
    )
)

expm1 = either("expm1", fexpm1, np.expm1)


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
        note=branch_note,
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


sigmoid = either("sigmoid", fsigmoid, sigmoid_array)

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
            lambda out, a: (sigmoid_array(a),),
        ),
    )
)


# ---- clip, maximum, minimum and mod ----


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
        return np_fallback(np.remainder, a, b)


def ffloor_divide(a: float, b: float) -> float:
    """floor(a / b) as numpy's floor_divide and Python's //, with x // 0 = ±inf or nan."""
    try:
        return a // b
    except ZeroDivisionError:
        return np_fallback(np.floor_divide, a, b)


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
