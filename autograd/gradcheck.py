"""`gradcheck`: compare the engine's gradients with central differences, input by input.

The analytic gradient comes from one backward pass over the recorded graph. The numeric one is
the central difference (f(x + eps) - f(x - eps)) / 2 eps, computed on fresh plain Values, one
input at a time. The division is by the step actually taken, (x + eps) - (x - eps): at x = 1e10
floats are 2e-6 apart, so x ± eps rounds and the step is not 2 eps. They must agree within |analytic - numeric| <= atol + rtol |numeric|
(PyTorch's defaults: eps 1e-6, atol 1e-5, rtol 1e-3).

Kinks. A central difference that straddles a point where an op is not differentiable (relu at 0)
averages the two one-sided slopes, so it disagrees with every correct derivative. When an input
disagrees, gradcheck asks the graph whether that input can reach a kink: it carries the input's
tangent (d node / d input) forward through the recorded graph, and for every node whose op
declares kinks it tests whether an eps step of the input moves the node's operand onto the kink.
If one can, it compares the analytic gradient with both one-sided slopes,
(f(x) - f(x - eps)) / eps and (f(x + eps) - f(x)) / eps:

- it matches one side: the derivative is right and has picked a side (relu'(0) = 0 is the left
  slope). gradcheck returns True and warns with a `KinkWarning` that names the kink;
- it matches neither: the check is inconclusive there, and gradcheck raises `KinkError` (a
  `GradcheckError`) that names the kink instead of calling the derivative wrong.

An input that disagrees with no kink in reach raises a plain `GradcheckError`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .anomaly import call_text
from .context import enable_grad, no_grad
from .facts import kink_points
from .functional import call, fresh_leaves, grad
from .graph import topological_order
from .ops import data
from .reals import real
from .value import Value

# An eps step of an input moves a node's operand by about |tangent| * eps; twice that leaves room
# for the curvature the linear estimate ignores.
_REACH = 2.0


@dataclass(frozen=True)
class Kink:
    """A node whose operand lies within an eps step of one of its op's non-differentiable points."""

    node: str  # the node as a report shows it, for example "relu(h=0.0)"
    op: str
    operand: int  # which operand of the node sits near the kink
    point: float  # where the op is not differentiable in that operand
    at: float  # the operand's value

    def __str__(self) -> str:
        where = f" in its operand {self.operand}" if self.operand else ""
        return f"{self.op}'s kink at {self.point:g}{where} (node {self.node})"


@dataclass
class Row:
    """One input of the check: its value, both gradients, and the verdict."""

    name: str
    value: float
    analytic: float
    numeric: float
    atol: float
    rtol: float
    kinks: list[Kink] = field(default_factory=list)
    left: float = math.nan  # (f(x) - f(x - eps)) / eps, measured only near a kink
    right: float = math.nan  # (f(x + eps) - f(x)) / eps, measured only near a kink

    @property
    def difference(self) -> float:
        """|analytic - numeric|."""
        return abs(self.analytic - self.numeric)

    @property
    def allowed(self) -> float:
        """atol + rtol * |numeric|: the largest difference that still passes."""
        return self.atol + self.rtol * abs(self.numeric)

    def matches(self, numeric: float) -> bool:
        """|analytic - numeric| <= atol + rtol * |numeric|, with both finite."""
        a = self.analytic
        if not (math.isfinite(a) and math.isfinite(numeric)):
            return False  # an infinite slope is a pole or a cusp: nothing a difference can confirm
        return abs(a - numeric) <= self.atol + self.rtol * abs(numeric)

    @property
    def side(self) -> str:
        """Near a kink: 'left' or 'right' when the analytic gradient equals that one-sided slope."""
        if self.kinks and self.matches(self.left):
            return "left"
        if self.kinks and self.matches(self.right):
            return "right"
        return ""

    @property
    def status(self) -> str:
        """'ok', 'kink, left slope' / 'kink, right slope', 'kink, inconclusive' or 'MISMATCH'."""
        if self.matches(self.numeric):
            return "ok"
        if self.kinks:
            return f"kink, {self.side} slope" if self.side else "kink, inconclusive"
        return "MISMATCH"

    @property
    def passed(self) -> bool:
        """Agrees with the central difference, or with one one-sided slope at a kink."""
        return self.status == "ok" or bool(self.side)


@dataclass
class GradcheckReport:
    """Every input's analytic and numeric gradient; `str()` is the table gradcheck prints."""

    output: float
    rows: list[Row]
    eps: float
    atol: float
    rtol: float

    @property
    def passed(self) -> bool:
        """True when every row passed."""
        return all(r.passed for r in self.rows)

    @property
    def at_kink(self) -> bool:
        """True when every disagreement is explained by a kink within reach."""
        return all(r.status == "ok" or r.kinks for r in self.rows)

    def notes(self) -> list[str]:
        """One sentence per input that sits near a kink and disagrees with the central difference."""
        notes = []
        if not math.isfinite(self.output):
            notes.append(f"f = {self.output!r} at these inputs: there is no gradient to check.")
        for r in self.rows:
            if r.status == "ok" or not r.kinks:
                continue
            kinks = "; ".join(str(k) for k in r.kinks)
            slopes = f"left slope {r.left:.6g}, right slope {r.right:.6g}"
            if r.side:
                verdict = f"the analytic gradient {r.analytic:.6g} is the {r.side} slope"
            else:
                verdict = (
                    f"the analytic gradient {r.analytic:.6g} matches neither side, so the check "
                    f"is inconclusive here: move {r.name} away from the kink to test the derivative"
                )
            notes.append(
                f"input {r.name} = {r.value!r} sits within eps of {kinks}: the derivative is "
                f"one-sided there ({slopes}); {verdict}."
            )
        return notes

    def __str__(self) -> str:
        failed = sum(not r.passed for r in self.rows)
        verdict = f"failed for {failed} of" if failed else "passed for all"
        head = (
            f"gradcheck {verdict} {len(self.rows)} input(s) at f = {self.output!r} "
            f"(eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g});\n"
            f"a row passes when |analytic - numeric| <= atol + rtol * |numeric|"
        )
        header = ("input", "value", "analytic", "numeric", "|difference|", "allowed", "status")
        table = [header] + [
            (
                r.name,
                f"{r.value:.6g}",
                f"{r.analytic:.10g}",
                f"{r.numeric:.10g}",
                f"{r.difference:.3g}",
                f"{r.allowed:.3g}",
                r.status,
            )
            for r in self.rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
        return "\n".join([head, *lines, *self.notes()])


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message is a table with one row per input."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


class KinkError(GradcheckError):
    """Inconclusive: a disagreeing input sits within eps of a point where an op is not differentiable."""


class KinkWarning(UserWarning):
    """gradcheck passed on a one-sided derivative because an input sits within eps of a kink."""


def gradcheck(
    f: Callable[..., Value],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True when d f / d x_i matches (f(x + eps e_i) - f(x - eps e_i)) / 2 eps for every input i.

    `f` takes one Value per input and returns a Value; `inputs` are numbers or Values (only their
    `.data` is used, and their `.grad` is left alone). Raises `GradcheckError` with a table of
    both gradients per input, or `KinkError` when the disagreement sits at a kink and cannot be
    settled there; warns with `KinkWarning` when it passes on a one-sided derivative at a kink.
    """
    report = gradcheck_report(f, inputs, eps=eps, atol=atol, rtol=rtol)
    if not report.passed:
        raise (KinkError if report.at_kink else GradcheckError)(report)
    notes = report.notes()
    if notes:
        warnings.warn(KinkWarning("\n".join(notes)), stacklevel=2)
    return True


def gradcheck_report(
    f: Callable[..., Value],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> GradcheckReport:
    """The numbers gradcheck judges by, without raising: one `Row` per input."""
    args = _inputs(inputs)
    xs, names = [x.data for x in args], [x.label for x in args]
    eps, atol, rtol = (
        _tolerance("eps", eps, True),
        _tolerance("atol", atol),
        _tolerance("rtol", rtol),
    )
    with enable_grad():
        out = call(f, args, "gradcheck", constants=False)
        analytic = [float(g) for g in grad(out, args)]

    rows = []
    for i, x in enumerate(xs):
        if x + eps == x - eps:
            raise ValueError(
                f"gradcheck eps={eps:g} is below the spacing of floats at input {names[i]} = "
                f"{x!r}, so x + eps == x - eps; use an eps of at least {math.ulp(x):.3g}"
            )
        plus = _evaluate(f, xs, i, x + eps)
        minus = _evaluate(f, xs, i, x - eps)
        numeric = (plus - minus) / ((x + eps) - (x - eps))  # the step taken, not 2 eps (see top)
        rows.append(Row(names[i], x, analytic[i], numeric, atol, rtol))

    report = GradcheckReport(out.data, rows, eps, atol, rtol)
    if all(r.status == "ok" for r in rows):
        return report

    # Only a disagreement pays for the kink search and the one-sided slopes.
    disagree = [i for i, r in enumerate(rows) if r.status != "ok"]
    reachable = kinks_in_reach(out, args, eps, disagree)
    for i, r in enumerate(rows):
        if r.status == "ok" or not reachable[i]:
            continue
        r.kinks = reachable[i]
        x = xs[i]
        r.left = _slope(out.data - _evaluate(f, xs, i, x - eps), x - (x - eps))
        r.right = _slope(_evaluate(f, xs, i, x + eps) - out.data, (x + eps) - x)
    return report


def kinks_in_reach(
    out: Value, leaves: Sequence[Value], eps: float, which: Iterable[int] | None = None
) -> list[list[Kink]]:
    """Per leaf, the kinks of `out`'s graph that an eps step of that leaf can reach.

    An operand u of a kinked op reaches kink k along leaf i when |u - k| <= 2 eps |d u / d leaf_i|.
    Only the leaves numbered in `which` (default: all) are searched. The work is bounded whatever
    the number of inputs, where one tangent of every leaf per node would hold 1,000 floats per
    node for 1,000 inputs:

    1. one sweep carries B(v) = sum_j |d v / d operand_j| B(operand_j), an upper bound on
       |d v / d leaf_i| for every i (one float per node), and keeps as candidates the operands
       within 2 eps B of a kink: in most graphs none at all;
    2. the exact d u / d leaf_i of the candidates come from one reverse pass per candidate operand
       or one forward pass per leaf searched, whichever is fewer. A pass holds one float per node
       and costs about one evaluation of f: never more passes than the central differences,
       which evaluated f twice per input, already took.
    """
    searched = list(range(len(leaves)) if which is None else which)
    found: list[list[Kink]] = [[] for _ in leaves]
    order = topological_order(out)
    bound: dict[Value, float] = dict.fromkeys(leaves, 1.0)
    local: dict[Value, list[float]] = {}  # d v / d operand_j, for the forward passes of step 2
    candidates: list[tuple[Value, int, float]] = []  # (node, operand index, kink point)
    for v in order:
        if v in bound or not v._inputs:
            continue
        op = v._rule
        assert op is not None  # a node with operands has its rule
        args = v._inputs
        datas = list(map(data, args))
        with no_grad():
            d = local[v] = list(map(data, op.df(v.data, *datas)))
        b = 0.0
        for a, dj in zip(args, d):
            ba = 0.0 if type(a) is float else bound.get(a, 0.0)
            if ba != 0.0:  # an operand that no leaf moves adds nothing, even when dj is inf
                b += abs(dj) * ba
        bound[v] = b
        if op.kinks is None:
            continue
        for j, points in enumerate(kink_points(op, datas)):
            a = args[j]
            ba = 0.0 if type(a) is float else bound.get(a, 0.0)
            if ba != 0.0:  # an operand that no leaf moves reaches nothing, even sitting on a kink
                candidates += [(v, j, k) for k in points if abs(datas[j] - k) <= _REACH * eps * ba]
    if not candidates or not searched:
        return found

    # hits[c]: the searched leaves that reach candidate c, filled in by either kind of pass.
    hits: list[list[int]] = [[] for _ in candidates]

    def reaches(c: int, slope: float) -> bool:
        v, j, k = candidates[c]
        step = _REACH * eps * abs(slope)
        return step > 0.0 and abs(data(v._inputs[j]) - k) <= step

    operands = list(dict.fromkeys(v._inputs[j] for v, j, _ in candidates))
    if len(operands) <= len(searched):
        for u in operands:
            slopes = grad(u, list(leaves))  # d u / d leaf_i for every leaf, by one reverse pass
            for c, (v, j, _) in enumerate(candidates):
                if v._inputs[j] is u:
                    hits[c] += [i for i in searched if reaches(c, slopes[i])]
    else:
        for i in searched:
            t = _tangents(order, local, leaves[i])
            for c, (v, j, _) in enumerate(candidates):
                if reaches(c, t.get(v._inputs[j], 0.0)):
                    hits[c].append(i)
    for c, (v, j, k) in enumerate(candidates):  # in graph order, as the report lists them
        for i in hits[c]:
            found[i].append(Kink(describe(v), v.op, j, k, data(v._inputs[j])))
    return found


def _tangents(
    order: list[Value], local: dict[Value, list[float]], leaf: Value
) -> dict[Value, float]:
    """d v / d leaf for every node v of `order` (forward mode, one float per node; zeros left out)."""
    t = {leaf: 1.0}
    for v in order:
        d = local.get(v)
        if d is None:
            continue
        s = 0.0
        for a, dj in zip(v._inputs, d):
            ta = 0.0 if type(a) is float else t.get(a, 0.0)
            if ta != 0.0:  # so that a node the leaf does not move stays 0 when dj is inf
                s += dj * ta
        if s != 0.0:
            t[v] = s
    return t


def describe(v: Value) -> str:
    """A node as one line: its label or op, applied to its operands' labels and values."""
    if not v._inputs:
        return v.label or repr(v.data)
    call = call_text(v.op, v._inputs)
    return f"{v.label} = {call}" if v.label else call


# ---- helpers ----


def _inputs(inputs: Any) -> list[Value]:
    """Fresh leaves for the inputs, labelled like them (else x0, x1, ...); one number needs no list."""
    if isinstance(inputs, (Value, numbers.Number, np.generic)):  # one number: `real` judges it
        inputs = [inputs]
    args = fresh_leaves(inputs, "gradcheck")
    for x in args:
        if not math.isfinite(x.data):
            raise ValueError(f"gradcheck input {x.label} is {x.data!r}; inputs must be finite")
    return args


def _tolerance(name: str, x: Any, positive: bool = False) -> float:
    value = real(x, f"gradcheck {name}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "a finite number > 0" if positive else "a finite number >= 0"
        raise ValueError(f"gradcheck {name} must be {need}, got {value!r}")
    return value


def _evaluate(f: Callable[..., Value], xs: list[float], i: int, xi: float) -> float:
    """f at xs with input i replaced by xi, on fresh plain Values.

    Recording stays on, as for the analytic pass: a function that differentiates inside
    (`grad(..., create_graph=True)`) needs its graph, and would return 0 under `no_grad()`. The
    graph is dropped as soon as the number is read.
    """
    with enable_grad():
        args = fresh_leaves([xi if j == i else x for j, x in enumerate(xs)], "gradcheck")
        return call(f, args, "gradcheck", constants=False).data


def _slope(rise: float, run: float) -> float:
    """rise / run, or nan when rounding left no step on this side (x - eps == x at large x)."""
    return rise / run if run else math.nan
