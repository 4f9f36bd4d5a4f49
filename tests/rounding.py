"""How much rounding a number carries: the scales that replay-vs-scalar comparisons are relative to.

Two engines that add the same terms in different orders (the scalar engine left to right, numpy
in its own blocks) agree to a few ulp of the terms, not of the sum: where terms cancel, the sum
is known only that well by either engine. So "equal to 1e-12 relative" is measured against

- forward, per node: |v| + sum over operands of |d v / d operand| * scale(operand), the first-
  order size of what v was computed from;
- backward, per node: the gradient computed with the absolute value of every contribution,
  sum over users of |scale(user) * d user / d v|.

Where nothing cancels these are |v| and |grad|, and the comparison is plain relative difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import autograd as ag
from autograd import Value
from autograd.ops import data

RTOL = 1e-12


def close(a: float, b: float, scale: float = 0.0, rtol: float = RTOL) -> bool:
    """a and b equal to rtol relative to max(|a|, |b|, scale); nan equals nan."""
    if a == b or (a != a and b != b):
        return True
    return abs(a - b) <= rtol * max(abs(a), abs(b), scale)


def difference(a: float, b: float, scale: float = 0.0) -> float:
    """|a - b| relative to max(|a|, |b|, scale): what `close` compares with rtol (0 for equal)."""
    if a == b or (a != a and b != b):
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), scale)


def forward_scales(*roots: Value) -> dict[Value, float]:
    """Per node of the roots' graph: |v| + sum |d v / d operand| * scale(operand)."""
    scale: dict[Value, float] = {}
    for v in ag.topological_order(*roots):
        ps = v.parents
        if not ps:
            scale[v] = abs(v.data)
            continue
        local = v.rule.df(v.data, *[p.data for p in ps])  # type: ignore[union-attr]
        scale[v] = abs(v.data) + sum(
            abs(data(d)) * scale.get(p, abs(p.data)) for p, d in zip(ps, local)
        )
    return scale


def backward_scales(
    root: Value,
    operands: Callable[[Value], Sequence[Value]] | None = None,
    number: Callable[[Value], float] | None = None,
    order: Sequence[Value] | None = None,
) -> tuple[dict[Value, float], dict[Value, float]]:
    """d root / d v by the chain rule, and its scale, for every v of root's graph.

    By default on the graph's own numbers; `operands`, `number` and `order` (operands first)
    run the same chain rule on another engine's numbers for the same nodes.
    """
    operands = operands or (lambda v: v.parents)
    number = number or (lambda v: v.data)
    grad: dict[Value, float] = {root: 1.0}
    scale: dict[Value, float] = {root: 1.0}
    for v in reversed(order if order is not None else ag.topological_order(root)):
        ps = operands(v)
        if v not in grad or not ps or v.rule is None:
            continue
        local = v.rule.df(number(v), *[number(p) for p in ps])
        for p, d in zip(ps, local):
            grad[p] = grad.get(p, 0.0) + grad[v] * data(d)
            scale[p] = scale.get(p, 0.0) + abs(scale[v] * data(d))
    return grad, scale
