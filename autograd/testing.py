"""Property-test gradients: hypothesis strategies for inputs and random graphs, and a ready property.

    from hypothesis import given
    from autograd.testing import assert_gradients_match, graphs

    @given(graphs())
    def test_gradients(graph):
        f, inputs = graph
        assert_gradients_match(f, inputs)

Everything here is built on the rule table, `autograd.OPS`: `graphs()` draws its ops from the
table as it stands when the test runs, so an op registered with `autograd.defop` is exercised
too. This module needs hypothesis; `import autograd` itself never imports it.

Domains. An op is only fed numbers where it is finite, differentiable and well-conditioned: each
table entry's `domain` says, per operand, which intervals are safe (log and pow's base positive,
a denominator away from 0, relu's input away from its kink, exp's input small enough not to
overflow). An op whose domain is "anywhere" (the default) is then only used where its forward
and local derivatives are finite and every declared kink is at least `margin` away. Give a
custom op a domain of its own with `defop(..., domain=...)`.

The pieces: `values()` draws numbers, `op_inputs(op)` draws one op's inputs, `expressions()`
draws a random graph as an `Expression` (callable on Values, `.floats` on plain floats, `str()`
a readable listing), `graphs()` draws (f, inputs) pairs, and `assert_gradients_match(f, inputs)`
is the property.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "autograd.testing needs hypothesis (pip install hypothesis); autograd itself does not"
    ) from e

from .context import enable_grad, no_grad
from .functional import call, fresh_leaves
from .gradcheck import GradcheckError, gradcheck
from .ops import MARGIN, OPS, Op, data
from .value import Value, apply

__all__ = [
    "BOUND",
    "MARGIN",
    "Expression",
    "Step",
    "assert_gradients_match",
    "expressions",
    "graphs",
    "op_inputs",
    "usable",
    "values",
]

BOUND = 100.0  # random graphs keep every intermediate value within [-BOUND, BOUND]


# ---- numbers ----


def values(
    min_value: float = -10.0,
    max_value: float = 10.0,
    *,
    positive: bool = False,
    negative: bool = False,
    away_from: Iterable[float] = (),
    margin: float = MARGIN,
) -> SearchStrategy[float]:
    """Finite floats in [min_value, max_value], optionally of one sign and `margin` away from points.

    `away_from=(0.0,)` keeps clear of relu's kink; `positive=True` means >= margin (a log's input).
    """
    lo, hi = float(min_value), float(max_value)
    holes = [float(k) for k in away_from]
    if positive:
        lo = max(lo, margin)
    if negative:
        hi = min(hi, -margin)
    if lo > hi:
        sign = " of that sign" if positive or negative else ""
        raise ValueError(f"values({min_value}, {max_value}): no numbers{sign} lie in [{lo}, {hi}]")
    return _floats(_cut(((lo, hi),), holes, margin), f"values({min_value}, {max_value})")


def _cut(
    intervals: Iterable[tuple[float, float]], holes: Sequence[float], margin: float
) -> list[tuple[float, float]]:
    """`intervals` minus (k - margin, k + margin) around every hole k."""
    parts = [(lo, hi) for lo, hi in intervals if lo <= hi]
    for k in holes:
        cut = []
        for lo, hi in parts:
            cut += [(lo, min(hi, k - margin)), (max(lo, k + margin), hi)]
        parts = [(lo, hi) for lo, hi in cut if lo <= hi]
    return parts


def _floats(parts: Sequence[tuple[float, float]], what: str) -> SearchStrategy[float]:
    if not parts:
        raise ValueError(f"{what}: no numbers are left once the excluded points are removed")
    return st.one_of([st.floats(lo, hi, allow_subnormal=False) for lo, hi in parts])


def _slot(op: Op, j: int, bound: float) -> list[tuple[float, float]]:
    """Operand j's safe intervals for `op` (its entry's domain), with None resolved to the bound."""
    slot = op.domain[min(j, len(op.domain) - 1)]
    return [
        (-bound if lo is None else max(lo, -bound), bound if hi is None else min(hi, bound))
        for lo, hi in slot
    ]


def _in_slot(x: float, parts: Sequence[tuple[float, float]]) -> bool:
    return any(lo <= x <= hi for lo, hi in parts)


def usable(op: Op, xs: Sequence[float], margin: float = MARGIN) -> bool:
    """True when `op` at `xs` has finite output and local derivatives, and no kink within `margin`."""
    y = op.f(*xs)
    if not math.isfinite(y):
        return False
    with no_grad():
        ds = op.df(y, *xs)
    if not all(math.isfinite(data(d)) for d in ds):
        return False
    if op.kinks is not None:
        for x, points in zip(xs, op.kinks(*xs)):
            if any(abs(x - k) < margin for k in points):
                return False
    return True


def op_inputs(
    op: Op | str, *, bound: float = 10.0, margin: float = MARGIN
) -> SearchStrategy[tuple[float, ...]]:
    """Tuples of inputs for `op` inside its domain: finite, differentiable, `margin` from kinks.

    n-ary ops (`sum`) get between 1 and 5 inputs.
    """
    op = OPS[op] if isinstance(op, str) else op
    if op.arity >= 0:
        arity: SearchStrategy[int] = st.just(op.arity)
    else:
        arity = st.integers(1, 5)

    def inputs(n: int) -> SearchStrategy[tuple[float, ...]]:
        parts = [_slot(op, j, bound) for j in range(n)]
        return st.tuples(*(_floats(p, f"{op.name} operand {j}") for j, p in enumerate(parts)))

    return arity.flatmap(inputs).filter(lambda xs: usable(op, xs, margin))


# ---- random expressions ----


@dataclass(frozen=True)
class Step:
    """One node of an expression: `op` applied to earlier slots (int) and constants (float)."""

    op: str
    operands: tuple[int | float, ...]


@dataclass(frozen=True)
class Expression:
    """A random computation graph as a little program over the op table.

    Slots 0 .. n_inputs - 1 are the inputs; step k writes slot n_inputs + k, and the last slot is
    the output. Calling the expression on Values records one node per step; `floats` runs the
    same steps on plain floats with each op's forward, the graph-free twin.
    """

    n_inputs: int
    steps: tuple[Step, ...]
    inputs: tuple[float, ...]

    def __call__(self, *xs: Any) -> Value:
        """The output Value, recording one node per step (labelled v<slot>)."""
        slots = self._check(xs)
        for k, step in enumerate(self.steps):
            args = [slots[a] if type(a) is int else a for a in step.operands]
            v = apply(step.op, *args)
            v.label = f"v{self.n_inputs + k}"
            slots.append(v)
        out = slots[-1]
        if not isinstance(out, Value):
            raise TypeError("an Expression with no steps needs Values as inputs")
        return out

    def floats(self, *xs: float) -> float:
        """The output as a plain float: each step's op forward on floats, no graph."""
        slots: list[Any] = self._check(xs)
        for step in self.steps:
            args = [slots[a] if type(a) is int else a for a in step.operands]
            slots.append(OPS[step.op].f(*args))
        return float(slots[-1])

    def _check(self, xs: Sequence[Any]) -> list[Any]:
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} input(s), got {len(xs)}")
        return list(xs)

    @property
    def uses(self) -> list[int]:
        """How many operands read each slot; a step slot read twice or more is a shared subexpression."""
        uses = [0] * (self.n_inputs + len(self.steps))
        for step in self.steps:
            for a in step.operands:
                if type(a) is int:
                    uses[a] += 1
        return uses

    @property
    def shared(self) -> int:
        """The number of step results used more than once."""
        return sum(1 for u in self.uses[self.n_inputs :] if u > 1)

    @property
    def constants(self) -> int:
        """The number of constant operands."""
        return sum(1 for s in self.steps for a in s.operands if type(a) is not int)

    @property
    def ops(self) -> list[str]:
        """The op of every step, in order."""
        return [s.op for s in self.steps]

    def _name(self, a: int | float) -> str:
        if type(a) is not int:
            return repr(a)
        return f"x{a}" if a < self.n_inputs else f"v{a}"

    def __str__(self) -> str:
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"{', '.join(names)} = {', '.join(repr(x) for x in self.inputs)}"]
        for k, step in enumerate(self.steps):
            args = ", ".join(self._name(a) for a in step.operands)
            lines.append(f"v{self.n_inputs + k} = {step.op}({args})")
        return "\n".join(lines)


@st.composite
def expressions(
    draw: Callable[[SearchStrategy[Any]], Any],
    max_inputs: int = 3,
    max_steps: int = 8,
    ops: Iterable[str] | None = None,
    constants: bool = True,
    bound: float = BOUND,
    margin: float = MARGIN,
) -> Expression:
    """Random graphs drawn from the op table, with shared subexpressions and constants.

    Each step picks an op from `ops` (default: every op in `OPS` at draw time) and operands among
    all earlier results, inputs and fresh constants, so one node often feeds several others. An
    operand outside the op's domain is first moved into it by an `add` of a constant (as one
    writes relu(a + 5.5) to stay off relu's kink); a result beyond `bound` is scaled back by a
    `mul` with a constant. Results that no later step uses are added up by a final `sum`, so
    every node reaches the output.
    """
    names = sorted(OPS if ops is None else ops)
    for name in names:
        if name not in OPS:
            raise ValueError(f"expressions(): no op named {name!r} is registered")
    n = draw(st.integers(1, max_inputs))
    xs = [draw(values(-3.0, 3.0)) for _ in range(n)]
    vals: list[float] = list(xs)
    steps: list[Step] = []
    usable_slots = list(range(n))  # slots later steps may read: all but a result beyond the bound
    add, mul = OPS["add"], OPS["mul"]

    def append(op: str, operands: tuple[int | float, ...], y: float) -> int:
        steps.append(Step(op, operands))
        vals.append(y)
        usable_slots.append(len(vals) - 1)
        return len(vals) - 1

    for _ in range(draw(st.integers(1, max_steps))):
        op = OPS[draw(st.sampled_from(names))]
        arity = op.arity if op.arity >= 0 else draw(st.integers(1, 4))
        operands: list[int | float] = []
        datas: list[float] = []
        for j in range(arity):
            parts = _slot(op, j, bound)
            if constants and draw(st.integers(0, 5)) == 5:  # shrinks towards no constant
                c = draw(_floats(parts, op.name))
                operands.append(c)
                datas.append(c)
                continue
            ref = usable_slots[draw(st.integers(0, len(usable_slots) - 1))]
            if not _in_slot(vals[ref], parts):
                shift = draw(_floats(parts, op.name)) - vals[ref]
                ref = append("add", (ref, shift), add.f(vals[ref], shift))
            operands.append(ref)
            datas.append(vals[ref])
        if not usable(op, datas, margin):
            continue  # an op with no DOMAINS entry, fed numbers outside its domain: skip it
        ref = append(op.name, tuple(operands), op.f(*datas))
        if abs(vals[ref]) > bound:
            scale = draw(values(-10.0, 10.0, away_from=(0.0,))) / vals[ref]
            usable_slots.remove(ref)
            append("mul", (ref, scale), mul.f(vals[ref], scale))

    used = Expression(n, tuple(steps), tuple(xs)).uses
    sinks = tuple(i for i in range(n, len(vals)) if used[i] == 0)
    if not sinks:
        sinks = tuple(range(n))
    if len(sinks) > 1 or not steps:
        steps.append(Step("sum", sinks))
    return Expression(n, tuple(steps), tuple(xs))


def graphs(**kwargs: Any) -> SearchStrategy[tuple[Expression, list[float]]]:
    """(f, inputs) pairs ready for `gradcheck(f, inputs)`: an `expressions()` draw and its inputs."""
    return expressions(**kwargs).map(lambda e: (e, list(e.inputs)))


# ---- the property ----

_ULP = 2.0**-52


def assert_gradients_match(
    f: Callable[..., Value],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    reference: Callable[..., float] | None = None,
) -> None:
    """Assert that f's gradients equal central differences, and f's value its float twin's.

    The tolerance is gradcheck's, plus the rounding error of the central difference itself
    (a few ulp of |f| divided by eps), which matters once |f| is large. A mismatch is tried
    again at eps / 10, where the difference's own truncation error is 100 times smaller. `reference` (by default
    an `Expression`'s `floats`) computes f on plain floats; f's value must match it to 1e-12.
    """
    args = fresh_leaves(inputs, "assert_gradients_match()")
    xs = [x.data for x in args]
    # Recording stays on: a function that differentiates inside (grad(..., create_graph=True))
    # needs its graph, and would return 0 under no_grad(), as gradcheck's own evaluations know.
    with enable_grad():
        y = call(f, args, "assert_gradients_match()", constants=False)
    if reference is None and isinstance(f, Expression):
        reference = f.floats
    if reference is not None:
        expected = reference(*xs)
        assert abs(y.data - expected) <= 1e-12 * (1.0 + abs(expected)), (
            f"f(inputs) = {y.data!r} on Values but {expected!r} on floats"
        )
    try:
        gradcheck(f, inputs, eps=eps, atol=atol + 8.0 * _ULP * abs(y.data) / eps, rtol=rtol)
    except GradcheckError as e:
        # A central difference is also off by about eps^2 / 6 times f's third derivative, which a
        # steep composition (a slope of 1e5 on the way into arcsin, say) makes larger than rtol.
        # At eps / 10 that error is 100 times smaller: a right derivative passes there, and a
        # wrong one fails at both steps.
        small = eps / 10.0
        try:
            gradcheck(f, inputs, eps=small, atol=atol + 8.0 * _ULP * abs(y.data) / small, rtol=rtol)
        except GradcheckError:
            raise e from None
