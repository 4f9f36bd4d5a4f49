"""The math ops of the rule table against PyTorch in float64: values, first and second derivatives.

For every built-in op (bar the few in `NOT_SWEPT`, each with its reason), at random points
across its domain and at its IEEE edges (±0, ±inf, nan, subnormals, the ends of its domain,
its kinks):
- the value is numpy's, the engine's IEEE rule (and torch's too wherever torch agrees with numpy);
- each first derivative, from the rule on floats (what backward uses) and on Values (what
  create_graph uses), is torch's;
- each second derivative, from the rule run on Values and differentiated again, is torch's.
"Is" means: both nan, or equal with the same sign of zero, or within a few ulp (torch's kernels
and Python's math library may round the last bits differently).

Where we differ from torch on purpose, `DIFFERENCES` says where and why, and the test checks that
the difference shows up and that nothing else differs. torch is a dev dependency; CI sets
CHAINRULE_REQUIRE_TORCH=1 so that a missing torch fails there instead of skipping.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import Value
from autograd.ops import BUILT_IN, OPS

if os.environ.get("CHAINRULE_REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")
F = torch.nn.functional

INF, NAN = math.inf, math.nan
TINY = 5e-324  # the smallest subnormal
# Every op is tried at these points (every pair of them for a binary op), plus its own edges.
EDGES = [-INF, -1e300, -1e10, -2.5, -1.0, -0.5, -1e-300, -TINY, -0.0]
EDGES += [0.0, TINY, 1e-300, 0.5, 1.0, 2.5, 1e10, 1e300, INF, NAN]
RANDOM_IN_DOMAIN = 150  # uniform in the op's testing domain (|x| <= 10)
RANDOM_WIDE = 100  # log-uniform magnitudes from 1e-300 to 1e300, either sign


@dataclass(frozen=True)
class Derivatives:
    """f, its gradient and its Hessian at one point."""

    value: float
    first: tuple[float, ...]
    second: tuple[tuple[float, ...], ...]


def _torch(fn: Callable[..., Any], xs: Sequence[float]) -> Derivatives:
    """`fn` on float64 tensors at xs, differentiated twice by torch's autograd."""
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    y = fn(*ts)
    grads = torch.autograd.grad(y, ts, create_graph=True, allow_unused=True)
    first = tuple(0.0 if g is None else g.item() for g in grads)
    second = []
    for g in grads:
        if g is None or not g.requires_grad:  # a derivative that is a constant (sign's 0)
            second.append((0.0,) * len(xs))
            continue
        row = torch.autograd.grad(g, ts, allow_unused=True, retain_graph=True)
        second.append(tuple(0.0 if h is None else h.item() for h in row))
    return Derivatives(y.item(), first, tuple(second))


def _ours(name: str, xs: Sequence[float]) -> tuple[Derivatives, tuple[float, ...]]:
    """The engine's f, gradient (from the rule on Values) and Hessian, and the rule on floats."""
    op = OPS[name]
    leaves = [Value(x) for x in xs]
    y = ag.apply(op, *leaves)
    grads = ag.grad(y, leaves, create_graph=True)
    second = tuple(tuple(ag.grad(g, leaves)) for g in grads)
    on_floats = tuple(float(d) for d in op.df(y.data, *xs))
    return Derivatives(y.data, tuple(g.data for g in grads), second), on_floats


@dataclass(frozen=True)
class Reference:
    """An op's oracles: torch for derivatives, numpy for values, and the op's own edge points."""

    torch_fn: Callable[..., Any] | None  # on 0-d float64 tensors, one per operand
    numpy_fn: Callable[..., Any]  # the value the engine must give (its IEEE rule)
    edges: tuple[float, ...] = ()  # tried in every operand slot, with EDGES
    # The whole torch side at one point, for an op that torch_fn cannot cover alone.
    derivatives: Callable[[Sequence[float]], Derivatives] | None = None
    extra_points: tuple[tuple[float, ...], ...] = field(default=())
    # How far first and second derivatives may be from torch's, in ulp: the last bits of
    # libm's and torch's kernels differ, and a second derivative adds up several roundings.
    ulps: tuple[float, float] = (8, 64)
    # The size of the terms a second derivative adds up, where they cancel: ulps count in its
    # units (hypot'' = 1/f - a^2/f^3 is far smaller than its terms when |a| >> |b|).
    terms: Callable[[Sequence[float]], float] | None = None

    def torch_at(self, xs: Sequence[float]) -> Derivatives:
        if self.derivatives is not None:
            return self.derivatives(xs)
        assert self.torch_fn is not None
        return _torch(self.torch_fn, xs)


def _cbrt(xs: Sequence[float]) -> Derivatives:
    # torch has no cbrt: sign(x) |x|^(1/3) is its real cube root, but at ±0 the product rule
    # makes that 0 · inf = nan, so there the reference is x^(1/3), torch's pow on the zero.
    (x,) = xs
    if x == 0.0:
        return _torch(lambda t: t.pow(1.0 / 3.0), xs)
    return _torch(lambda t: t.sign() * t.abs().pow(1.0 / 3.0), xs)


def _parameter_on_the_negative_side(
    fn: Callable[[Any, float], Any], negative: Callable[[float], bool]
) -> Callable[[Sequence[float]], Derivatives]:
    """torch's derivatives of fn(x, p), an activation whose parameter p torch takes as a number.

    torch gives the derivatives in x. In p it gives none, but on the side where `negative(x)`
    (torch's own branch test) fn is linear in p: fn(x, p) = p fn(x, 1), so d/dp = fn(x, 1),
    d2/dp dx = torch's d/dx fn(x, 1) and d2/dp2 = 0; on the other side all three are 0.
    """

    def derivatives(xs: Sequence[float]) -> Derivatives:
        x, p = xs
        in_x = _torch(lambda t: fn(t, p), [x])
        unit = _torch(lambda t: fn(t, 1.0), [x])
        dp, dpx = (unit.value, unit.first[0]) if negative(x) else (0.0, 0.0)
        return Derivatives(in_x.value, (in_x.first[0], dp), ((in_x.second[0][0], dpx), (dpx, 0.0)))

    return derivatives


NEAR_ONE = (math.nextafter(1.0, 0.0), math.nextafter(1.0, 2.0))
REFERENCES: dict[str, Reference] = {
    # the seed's ops: numbers on both sides of every edge, and where exp and its kin overflow
    "add": Reference(torch.add, np.add),
    "sub": Reference(torch.sub, np.subtract),
    "mul": Reference(torch.mul, np.multiply),
    "div": Reference(torch.div, np.divide),
    "neg": Reference(torch.neg, np.negative),
    "square": Reference(torch.square, np.square, (1e154, 1e155)),
    "exp": Reference(torch.exp, np.exp, (709.0, 710.0, -745.0, -746.0)),
    "log": Reference(torch.log, np.log, (1e-320, math.e)),
    # a ** b is IEEE 754's pow (math.pow's, C's): np.power takes a shortcut for a scalar
    # exponent 0.5, sqrt, which gives nan at -inf and -0.0 at -0.0, where pow gives +inf and
    # +0.0 (as np.power does with an array exponent, and np.float_power always)
    "pow": Reference(torch.pow, np.float_power, (1e-310, -1e-310, 3.0, -3.0, 0.25)),
    "relu": Reference(torch.relu, lambda a: np.maximum(a, 0.0)),
    "tanh": Reference(torch.tanh, np.tanh, (2.0, 3.1, 9.7, -9.7, 19.06, 19.07, -19.07)),
    # sigmoid's value is the stable form: e^a / (1 + e^a) below 0 keeps e^a's subnormals
    "sigmoid": Reference(
        torch.sigmoid,
        lambda a: 1.0 / (1.0 + np.exp(-a)) if a >= 0 else np.exp(a) / (1.0 + np.exp(a)),
        (40.0, -40.0, -710.0, -745.0),
    ),
    "sin": Reference(torch.sin, np.sin, (math.pi, -math.pi, 1e22)),
    "cos": Reference(torch.cos, np.cos, (math.pi / 2, -math.pi / 2, 1e22)),
    "tan": Reference(torch.tan, np.tan, (math.pi / 2, -math.pi / 2, 1.2, 1e22)),
    "arcsin": Reference(torch.asin, np.arcsin, NEAR_ONE + (-NEAR_ONE[0], -NEAR_ONE[1])),
    "arccos": Reference(torch.acos, np.arccos, NEAR_ONE + (-NEAR_ONE[0], -NEAR_ONE[1])),
    "arctan": Reference(torch.atan, np.arctan, (1e154, 1e155)),  # where 1 + a^2 overflows
    "sqrt": Reference(torch.sqrt, np.sqrt, (4.0, 1e-320)),
    # pow(x, 1/3) raises x to 1/3 rounded to a double: |ln x| ulp off, 900 ulp at 1e-320.
    "cbrt": Reference(None, np.cbrt, (-8.0, 27.0, 1e-320), derivatives=_cbrt, ulps=(1024, 1024)),
    # 710 and 711: where cosh and sinh overflow
    "sinh": Reference(torch.sinh, np.sinh, (710.0, -710.0, 711.0, -711.0)),
    "cosh": Reference(torch.cosh, np.cosh, (710.0, -710.0, 711.0, -711.0)),
    "arcsinh": Reference(torch.asinh, np.arcsinh, (1e105, -1e110, 1e154, -1e155)),
    "arccosh": Reference(torch.acosh, np.arccosh, NEAR_ONE + (-NEAR_ONE[1], 2.0, 1e105, 1e155)),
    "arctanh": Reference(torch.atanh, np.arctanh, NEAR_ONE + (-NEAR_ONE[0], -NEAR_ONE[1])),
    "log2": Reference(torch.log2, np.log2, (2.0, 1024.0, 0.125)),
    "log10": Reference(torch.log10, np.log10, (10.0, 1e-5)),
    "log1p": Reference(torch.log1p, np.log1p, (-NEAR_ONE[0], -NEAR_ONE[1], 1e-17, -1e-17)),
    "expm1": Reference(torch.expm1, np.expm1, (709.0, 710.0, 1e-17, -1e-17, -40.0)),
    "exp2": Reference(torch.exp2, np.exp2, (1023.0, 1024.0, -1074.0, -1075.0, 0.25)),
    "abs": Reference(torch.abs, np.abs),
    "sign": Reference(torch.sign, np.sign),  # torch.sign(nan) is 0, numpy's (ours) nan
    "floor": Reference(torch.floor, np.floor, (-3.0, 3.0, 2.0**52 + 0.5, 4.5e15 + 0.5)),
    "ceil": Reference(torch.ceil, np.ceil, (-3.0, 3.0, -(2.0**52) - 0.5, -0.25)),
    # the parameter (slope, alpha) sits in every slot of the edge grid too, nan and inf included
    "leaky_relu": Reference(
        None,
        lambda x, s: np.where(x > 0, x, x * s),
        (0.01, 0.2),
        derivatives=_parameter_on_the_negative_side(F.leaky_relu, lambda x: not x > 0),
    ),
    "elu": Reference(
        None,
        lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
        (2.0, 0.1, -40.0),
        derivatives=_parameter_on_the_negative_side(F.elu, lambda x: x <= 0),
    ),
    # torch's threshold: linear from 20 on
    "softplus": Reference(F.softplus, lambda a: np.logaddexp(0.0, a), (20.0, 20.5, 30.0, 40.0)),
    # functions of two numbers: every pair of edges, so ties, ±0 against ±0 and inf against inf
    "arctan2": Reference(
        torch.atan2,
        np.arctan2,
        (1e-160, -1e-170, 1e160),
        terms=lambda xs: (
            1.0 / (math.hypot(*xs) * math.hypot(*xs) or INF)
        ),  # y^2 - x^2 cancels in d2/dy dx
    ),
    "hypot": Reference(
        torch.hypot,
        np.hypot,
        (1e-160, 1e160, 3.0, 4.0),
        terms=lambda xs: 1.0 / (math.hypot(*xs) or INF),
    ),
    "maximum": Reference(torch.maximum, np.maximum),
    "minimum": Reference(torch.minimum, np.minimum),
    "mod": Reference(torch.remainder, np.mod, (3.0, -3.0, 7.5, 0.1)),
    # a 19^3 grid: every order of x, lo and hi, ties, crossed bounds and nan bounds
    "clip": Reference(torch.clamp, np.clip),
}


@dataclass(frozen=True)
class Difference:
    """Where the engine's derivatives differ from torch's on purpose, and why."""

    order: str  # "first" or "second"
    where: Callable[[Sequence[float]], bool]
    why: str
    # The second derivatives that may differ, as (i, j) for d/dx_j (df/dx_i); None: all of them.
    entries: frozenset[tuple[int, int]] | None = None

    def allows(self, order: str, xs: Sequence[float], entry: tuple[int, int]) -> bool:
        """This difference covers the derivative `entry` of this order at xs."""
        if self.order != order or not self.where(xs):
            return False
        return order == "first" or self.entries is None or entry in self.entries


# Each listed difference must show up at some tested point (so that the list cannot go stale),
# and no other point or derivative may differ.
SUBNORMAL_CUBE = (
    "torch's rsqrt backward cubes rsqrt(a^2 ± 1), a subnormal number for |a| >= 1e104 (0 from "
    "1e108 on), and loses the digits; ours divides by a^2 ± 1 and its root, both normal"
)
EXPM1 = (
    "ours is e^a; torch's result + 1 cancels for a < 0, off by 2^-53 / e^a relative (0 instead "
    "of e^a from a = -37 on)"
)


NORMAL = 2.2250738585072014e-308  # the smallest normal float


def _leaves_the_normal_range(xs: Sequence[float], order: int) -> bool:
    """True where torch's arctan2 derivative of this order over- or underflows on the way: where
    r = y^2 + x^2 (first order), or r^2 or an operand over r^2 (second order), is no normal
    float; for finite y and x, not both 0."""
    y, x = xs
    if not (math.isfinite(y) and math.isfinite(x)) or y == x == 0.0:
        return False
    r = y * y + x * x
    if order == 1:
        return not NORMAL <= r < INF
    r2 = r * r
    if not NORMAL <= r2 < INF:
        return True
    return any(0.0 < abs(a) / r2 < NORMAL for a in xs)


ARCTAN2 = (
    "ours divides y and x by the larger of |y|, |x| before it squares them; torch's 1 / (y^2 + "
    "x^2) (its square, at second order) gives 0, inf or lost digits once y^2 + x^2 leaves the "
    "normal range: 0 instead of 5e153 at y = x = 1e-154"
)
SOFTPLUS = (
    "ours is ln(1 + e^a) and its sigmoid everywhere (as numpy's logaddexp); torch's softplus "
    "switches to a and 1 above a = 20, an error of e^-a (the value alone follows numpy there)"
)
SIGMOID = (
    "ours is e^a / (1 + e^a) below 0, subnormal down to a = -745; torch's 1 / (1 + e^-a) is 0 "
    "once e^-a overflows (a < -709.78), and so is its derivative y (1 - y)"
)
TANH = (
    "both take tanh' = 1 - f^2 from the rounded f, whose rounding (2^-53 relative) becomes about "
    "e^(2|a|) 2^-54 relative in 1 - f^2 (1.5e-8 at |a| = 9.7; 0 from |a| = 19.07, where f "
    "rounds to ±1). Torch's kernel rounds 1 - f^2 once, ours rounds f^2 first: they differ by "
    "up to 2^-54, more than 8 ulp of 1 - f^2 = sech^2 a once sech^2 a < 1/15 (|a| > 2.03), and "
    "more than 64 ulp of tanh'' = -2 f (1 - f^2) once sech^2 a < 1/128 (|a| > 3.12). Neither "
    "is more accurate: the rounding of f dominates both"
)


def _tiny(a: float) -> bool:
    """a is a subnormal so small that 1/a overflows (0 < |a| <= 2^-1024)."""
    return a != 0.0 and math.isinf(1.0 / a)


DIFFERENCES: dict[str, list[Difference]] = {
    "sigmoid": [
        Difference("first", lambda xs: -745.2 < xs[0] < -709.78, SIGMOID),
        Difference("second", lambda xs: -745.2 < xs[0] < -709.78, SIGMOID),
    ],
    "relu": [
        Difference(
            "first",
            lambda xs: math.isnan(xs[0]),
            "relu'(nan) is 0 here (nan > 0 is false, as abs'(nan) is 0); torch's relu passes "
            "the gradient on, as its test is result <= 0",
        )
    ],
    "cbrt": [
        Difference(
            "second",
            lambda xs: xs[0] == 0.0 and math.copysign(1.0, xs[0]) < 0,
            "at -0.0 the second derivative -2/(9 a^(5/3)) is +inf, the limit from the left; "
            "torch's pow(-0.0, 1/3) is +0.0 and its second derivative -inf, the limit from the right",
        )
    ],
    "expm1": [
        Difference("first", lambda xs: xs[0] < -1.0, EXPM1),
        Difference("second", lambda xs: xs[0] < -1.0, EXPM1),
    ],
    "softplus": [
        Difference("first", lambda xs: xs[0] > 20.0, SOFTPLUS),
        Difference("second", lambda xs: xs[0] >= 20.0, SOFTPLUS),  # its double backward: >=
    ],
    "elu": [
        Difference(
            "second",
            lambda xs: xs[0] == 0.0,
            "at x = ±0 ours takes the exponential piece for both orders (elu' = alpha, elu'' = "
            "alpha); torch's backward takes it too (alpha), but its double backward the linear "
            "piece (0)",
        )
    ],
    "arctan2": [
        Difference("first", lambda xs: _leaves_the_normal_range(xs, 1), ARCTAN2),
        Difference("second", lambda xs: _leaves_the_normal_range(xs, 2), ARCTAN2),
        Difference(
            "second",
            lambda xs: xs[0] == xs[1] == 0.0,
            "at the origin ours is 0 at both orders (its mask is a constant); torch's masked "
            "1 / (y^2 + x^2) gives 0 at first order and nan at second",
        ),
    ],
    "clip": [
        Difference(
            "first",
            lambda xs: xs[0] < xs[1] == xs[2],
            "for x < lo = hi the output is lo's value (and hi's): ours gives lo the 1, torch's "
            "clamp gives it to no operand",
        )
    ],
    "arcsinh": [Difference("second", lambda xs: 1e104 <= abs(xs[0]) < 1e154, SUBNORMAL_CUBE)],
    "tanh": [
        Difference("first", lambda xs: abs(xs[0]) > 2.03, TANH),
        Difference("second", lambda xs: abs(xs[0]) > 3.12, TANH),
    ],
    # f = a^b: f_a = b a^(b-1), f_b = a^b ln a, f_aa = b (b-1) a^(b-2), f_bb = a^b (ln a)^2 and
    # f_ab = f_ba = a^(b-1) (1 + b ln a). At first order ours and torch's agree everywhere
    # (the masks: f_a = 0 at b = 0, f_b = 0 at a = 0 <= b). At second order they differ where
    # b = ±0 or a = ±0, the masks' places, and where a subnormal a makes 1/a overflow.
    # Entries (i, j) are d/dx_j (df/dx_i): (0, 1) is d/db of f_a, (1, 0) is d/da of f_b.
    "pow": [
        Difference(
            "second",
            lambda xs: xs[1] == 0.0 and 0.0 < xs[0] < INF and not _tiny(xs[0]),
            "b = ±0, a > 0: d/db of f_a is f_ab = a^(b-1) (1 + b ln a) = 1/a, which is ours (2 at "
            "a = 0.5); torch's is 0: its mask f_a = 0 at b = 0 is a constant to its double "
            "backward. Torch's own d/da of f_b is 1/a: ours is symmetric, torch's is not",
            frozenset({(0, 1)}),
        ),
        Difference(
            "second",
            lambda xs: xs[1] == 0.0 and xs[0] < 0.0,
            "b = ±0, a < 0: f_b = a^b ln a is nan (no real ln a; both give nan at first order), "
            "so its derivative in a is nan: ours, (d a^b/da) ln a + a^b/a = 0 nan + 1/a. Torch's "
            "where-mask drops the 0 nan term and gives 1/a (-2 at a = -0.5, 0 at a = -inf)",
            frozenset({(1, 0)}),
        ),
        Difference(
            "second",
            lambda xs: xs[1] == 0.0 and xs[0] == INF,
            "b = ±0, a = inf: here torch is right: d/da of f_b = ln a is 1/a, 0 in the limit; "
            "ours takes the product rule's (d a^b/da) ln a = 0 inf = nan",
            frozenset({(1, 0)}),
        ),
        Difference(
            "second",
            lambda xs: xs[1] == 0.0 and _tiny(xs[0]),
            "b = ±0, 1/a overflows: b a^(b-1) = 0 inf = nan, so f_a is masked to the constant "
            "0 (at first order as torch's), and ours differentiates that constant: f_aa = b (b-1) "
            "a^(b-2) = 0 is right; f_ab = 1/a = ±inf after overflow, ours 0; torch nan for both",
            frozenset({(0, 0), (0, 1)}),
        ),
        Difference(
            "second",
            lambda xs: xs[0] == 0.0 and xs[1] == 0.0,
            "a = b = 0: a^b has no limit there (along a = e^(-1/t), b = t it is 1/e), so no "
            "derivative exists; both masks make the first derivatives the constant 0, and ours "
            "differentiates those constants: 0; torch's are nan",
        ),
        Difference(
            "second",
            lambda xs: xs[1] == 0.0 and math.isnan(xs[0]),
            "b = ±0, a = nan: f(a, 0) = 1 for every a (pow(nan, 0) = 1), so f_a = 0 (both, the "
            "mask) and f_aa = 0 (ours; torch nan); f_ab = 1/a is nan (torch's), ours 0, the "
            "derivative of its constant mask",
            frozenset({(0, 0), (0, 1)}),
        ),
        Difference(
            "second",
            lambda xs: xs[0] == 0.0 and xs[1] > 0.0,
            "a = ±0, b > 0: f(0, b) = 0, so f_b = 0 (both, the mask) and f_bb = 0 (ours; torch "
            "nan); f_ba = lim a^(b-1) (1 + b ln a) as a -> 0+ is 0 for b > 1 (ours) but -inf for "
            "0 < b <= 1, where ours is 0 (its mask is a constant) and torch's nan",
            frozenset({(1, 0), (1, 1)}),
        ),
        Difference(
            "second",
            lambda xs: _tiny(xs[0]) and xs[0] > 0.0 and 0.0 < xs[1] < INF,
            "0 < a <= 2^-1024, b > 0: here torch is right. f_ba = (d a^b/da) ln a + a^b / a; ours "
            "multiplies a^b by ln's derivative 1/a, which overflows to inf, where torch divides "
            "a^b by a: at (5e-324, 1) torch's 1 + ln a = -743.44, ours inf (nan where a^b "
            "underflows to 0: 0 inf). Ours f_ab, d/db of f_a, is right there",
            frozenset({(1, 0)}),
        ),
    ],
    "arccosh": [Difference("second", lambda xs: 1e104 <= abs(xs[0]) < 1e154, SUBNORMAL_CUBE)],
}


def _same(
    ours: float, theirs: float, ulps: float, signed_zero: bool = True, terms: float = 0.0
) -> bool:
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if ours == theirs:
        same_sign = math.copysign(1.0, ours) == math.copysign(1.0, theirs)
        return ours != 0.0 or same_sign or not signed_zero
    scale = max(abs(ours), abs(theirs), terms)
    return math.isfinite(scale) and abs(ours - theirs) <= ulps * math.ulp(scale)


def _points(name: str, ref: Reference, rng: np.random.Generator) -> list[tuple[float, ...]]:
    """The op's edge grid, then random points in its testing domain and across all magnitudes."""
    op = OPS[name]
    n = op.arity
    edges = EDGES + list(ref.edges)
    grid = [tuple(p) for p in np.array(np.meshgrid(*[edges] * n)).reshape(n, -1).T.tolist()]
    points = grid + list(ref.extra_points)
    for _ in range(RANDOM_IN_DOMAIN):
        xs = []
        for j in range(n):
            slot = op.domain[min(j, len(op.domain) - 1)]
            lo, hi = slot[rng.integers(len(slot))]
            xs.append(float(rng.uniform(-10.0 if lo is None else lo, 10.0 if hi is None else hi)))
        points.append(tuple(xs))
    for _ in range(RANDOM_WIDE):
        signs = rng.choice([-1.0, 1.0], n)
        points.append(tuple(float(s * 10.0 ** rng.uniform(-300, 300)) for s in signs))
    return points


def _compare(name: str, xs: Sequence[float], ref: Reference) -> tuple[list[str], set[int]]:
    """Every way the engine differs from its oracles at xs (lines naming op, point and numbers),
    and which of the op's DIFFERENCES (their indices) cover a derivative that differs here."""
    (ours, on_floats), theirs = _ours(name, xs), ref.torch_at(xs)
    with np.errstate(all="ignore"):
        want = float(ref.numpy_fn(*xs))
    where = f"{name}{tuple(xs)}"
    first, second = ref.ulps
    terms = ref.terms(xs) if ref.terms is not None else 0.0
    bad = []
    if not _same(ours.value, want, 4):
        bad.append(f"{where}: value {ours.value!r}, numpy's {want!r}")
    elif _same(theirs.value, want, 4) and not _same(ours.value, theirs.value, max(4, first)):
        bad.append(f"{where}: value {ours.value!r}, torch's {theirs.value!r}")
    differences = DIFFERENCES.get(name, [])
    shown: set[int] = set()

    def listed(order: str, entry: tuple[int, int]) -> bool:
        covering = {k for k, d in enumerate(differences) if d.allows(order, xs, entry)}
        shown.update(covering)
        return bool(covering)

    # The sign of a zero is checked in the value and in the rule's own number. A gradient that
    # the engine accumulates starts at +0.0, and -0.0 + 0.0 is +0.0 in IEEE arithmetic, so a
    # lone -0.0 contribution reads +0.0 there, where torch hands the first one over as it is.
    for i in range(len(xs)):
        for what, mine, other, signed in (
            ("first", ours.first[i], theirs.first[i], False),
            ("first on floats", on_floats[i], theirs.first[i], True),
        ):
            if not _same(mine, other, first, signed) and not listed("first", (i, i)):
                bad.append(f"{where}: d/dx{i} ({what}) {mine!r}, torch's {other!r}")
        for j in range(len(xs)):
            mine, other = ours.second[i][j], theirs.second[i][j]
            agree = _same(mine, other, second, signed_zero=False, terms=terms)
            if not agree and not listed("second", (i, j)):
                bad.append(f"{where}: d/dx{j} (df/dx{i}) {mine!r}, torch's {other!r}")
    return bad, shown


# The built-in ops that the sweep leaves out, and why. Any other op must have a reference.
NOT_SWEPT = {
    "sum": "n-ary: its rule is 1 per operand (tests/test_ops.py)",
    "dot": "n-ary: its rule is an operand's partner (tests/test_ops.py)",
}


def test_every_built_in_op_is_swept_against_torch_or_says_why_not() -> None:
    assert set(REFERENCES) | set(NOT_SWEPT) == BUILT_IN
    assert not set(REFERENCES) & set(NOT_SWEPT)
    assert set(DIFFERENCES) <= set(REFERENCES)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_op_matches_torch_float64_at_edges_and_random_points(name: str) -> None:
    ref = REFERENCES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    points = _points(name, ref, rng)
    bad: list[str] = []
    shown: set[int] = set()
    for xs in points:
        lines, covering = _compare(name, xs, ref)
        bad += lines
        shown |= covering
    assert not bad, f"{len(bad)} mismatches in {len(points)} points:\n" + "\n".join(bad[:40])
    gone = [d.why for k, d in enumerate(DIFFERENCES.get(name, [])) if k not in shown]
    assert not gone, f"listed differences that no point shows: {gone}"
    assert len(points) >= len(EDGES) ** OPS[name].arity + RANDOM_IN_DOMAIN + RANDOM_WIDE


LN_TINY = math.log(5e-324)  # -744.44
F_BB_TINY = 5e-324 * LN_TINY * LN_TINY  # f_bb = (a^b ln a) ln a at a = 5e-324, b = 1: subnormal
# (a, b): ours and torch's Hessians of a^b, H[i][j] = d/dx_j (df/dx_i), as DIFFERENCES derives.
POW_HESSIANS = {
    (0.5, 0.0): ([[0.0, 2.0], [2.0, math.log(0.5) ** 2]], [[0.0, 0.0], [2.0, math.log(0.5) ** 2]]),
    (-0.5, 0.0): ([[0.0, NAN], [NAN, NAN]], [[0.0, NAN], [-2.0, NAN]]),
    (INF, 0.0): ([[0.0, NAN], [NAN, INF]], [[0.0, NAN], [0.0, INF]]),
    (5e-324, 0.0): ([[0.0, 0.0], [INF, LN_TINY**2]], [[NAN, NAN], [INF, LN_TINY**2]]),
    (0.0, 0.0): ([[0.0, 0.0], [0.0, 0.0]], [[NAN, NAN], [NAN, NAN]]),
    (0.0, 2.5): ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [NAN, NAN]]),
    (0.0, 0.5): ([[-INF, NAN], [0.0, 0.0]], [[-INF, NAN], [NAN, NAN]]),
    (5e-324, 1.0): (
        [[0.0, 1.0 + LN_TINY], [INF, F_BB_TINY]],
        [[0.0, 1.0 + LN_TINY], [1.0 + LN_TINY, F_BB_TINY]],
    ),
}


@pytest.mark.parametrize("point", POW_HESSIANS, ids=repr)
def test_pow_second_derivatives_where_torch_masks_are_the_derived_numbers(
    point: tuple[float, float],
) -> None:
    for got, want in zip(
        (_ours("pow", point)[0].second, _torch(torch.pow, point).second), POW_HESSIANS[point]
    ):
        same = [[_same(g, w, 4, False) for g, w in zip(*rows)] for rows in zip(got, want)]
        assert all(map(all, same)), (got, want)
