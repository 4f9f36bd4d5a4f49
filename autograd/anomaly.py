"""Error reports for `detect_anomaly()`: which op made the first inf or nan, from what, and where.

Nothing here runs unless anomaly detection is on and a number has already gone non-finite, so
these reports may walk the graph freely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .graph import topological_order
from .names import node_name
from .ops import data

if TYPE_CHECKING:  # read through attributes: value.py imports this module to report anomalies
    from .value import Value


class AnomalyError(FloatingPointError):
    """The first non-finite number produced in forward or in backward, with the op that made it.

    Besides the message it carries where that happened, for a drawing to show:
    `phase` ("forward" or "backward"), `op` (the op's name), `operands` (its operands, Values and
    floats, in order) and `value` (the non-finite number). In backward also `node` (the node
    whose op passed the gradient), `slot` (which of its operands received it) and `path` (the
    nodes from the root down to that operand, as the message lists them). A forward anomaly
    has no node: the op raised before its result was recorded; `inputs` are its Value operands.
    """

    def __init__(
        self,
        message: str = "",
        *,
        phase: str = "",
        op: str = "",
        operands: Sequence[Any] = (),
        value: float = math.nan,
        node: Value | None = None,
        slot: int | None = None,
        path: Sequence[Value] = (),
    ) -> None:
        super().__init__(message)
        self.phase = phase
        self.op = op
        self.operands = tuple(operands)
        self.value = value
        self.node = node
        self.slot = slot
        self.path = tuple(path)

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The operands that are Values: the graph that leads into the op."""
        return tuple(a for a in self.operands if type(a) is not float)


def _operand(a: Any) -> str:
    """An operand as `label=value`, or the bare value for a constant or an unlabelled leaf."""
    if type(a) is not float and (a.label or a.op):
        return f"{node_name(a)}={a.data!r}"
    return repr(data(a))


SHOWN_OPERANDS = 8  # a neuron's dot has dozens: more than this are shortened


def call_text(op: str, args: Sequence[Any]) -> str:
    """An op applied to its operands as one line, for example `log(h=0.0)` or `mul(x=2.0, 3.0)`.

    With more than SHOWN_OPERANDS operands, the line keeps the first few and every non-finite one.
    """
    if len(args) <= SHOWN_OPERANDS:
        return f"{op}({', '.join(_operand(a) for a in args)})"
    keep = [i for i, a in enumerate(args) if i < 3 or not math.isfinite(data(a))]
    keep = keep[:SHOWN_OPERANDS]
    parts, last = [], -1
    for i in keep:
        if i > last + 1:
            parts.append("…")
        parts.append(f"[{i}] {_operand(args[i])}")
        last = i
    if last < len(args) - 1:
        parts.append("…")
    return f"{op}({', '.join(parts)}; {len(args)} operands)"


def _values(args: Sequence[Any]) -> str:
    if len(args) > SHOWN_OPERANDS:
        return "the operands above"
    return f"input values {', '.join(repr(data(a)) for a in args)}"


def _labels_into(args: Sequence[Any], limit: int = 12) -> list[str]:
    """Labels of the labelled nodes that feed `args`, operands before the nodes that use them."""
    roots = [a for a in args if type(a) is not float]
    labels = [v.label for v in topological_order(*roots) if v.label]
    return labels[-limit:]


def _path(roots: Sequence[Value], target: Value) -> list[Value]:
    """One path from a root down to `target`, by breadth-first search over operands."""
    came_from: dict[Value, Value | None] = dict.fromkeys(roots)
    frontier = list(roots)
    while frontier and target not in came_from:
        nxt = []
        for v in frontier:
            for a in v._inputs:
                if type(a) is not float and a not in came_from:
                    came_from[a] = v
                    nxt.append(a)
        frontier = nxt
    path: list[Value] = []
    node: Value | None = target
    while node is not None:
        path.append(node)
        node = came_from.get(node)
    return list(reversed(path))


def _already(args: Sequence[Any]) -> str:
    """A hint when an operand was non-finite before this op: it came from outside the checks."""
    bad = [_operand(a) for a in args if not math.isfinite(data(a))]
    if not bad:
        return ""
    return (
        f" Operand {', '.join(bad)} was already non-finite: it is a leaf, a constant, or was made "
        f"outside detect_anomaly()."
    )


def forward_anomaly(op: str, data: float, args: Sequence[Any]) -> None:
    """Raise for an op whose forward result `data` is inf or nan."""
    labels = ", ".join(_labels_into(args)) or "(none)"
    raise AnomalyError(
        f"forward: {call_text(op, args)} = {data!r} is the first non-finite value, made by op "
        f"{op!r} from {_values(args)}. "
        f"Labelled nodes along the path into it (inputs first): {labels}.{_already(args)}",
        phase="forward",
        op=op,
        operands=args,
        value=data,
    )


def backward_anomaly(v: Value, g: Any, local: Sequence[Any], roots: Sequence[Value]) -> None:
    """Raise if a gradient contribution leaving node `v` is inf or nan."""
    for i, (a, d) in enumerate(zip(v._inputs, local)):
        if type(a) is float:
            continue
        c = data(g) * data(d)
        if math.isfinite(c):
            continue
        nodes = [*_path(roots, v), a]
        path = " -> ".join(node_name(n) for n in nodes)
        seed = "" if math.isfinite(data(g)) else " The incoming gradient was already non-finite."
        raise AnomalyError(
            f"backward: {call_text(v.op, v._inputs)} passed gradient {c!r} to its operand {i} "
            f"({_operand(a)}): incoming grad {data(g)!r} times the local derivative "
            f"d {v.op} / d operand{i} = {data(d)!r}. It is the first non-finite gradient, made "
            f"by op {v.op!r}; path from the root: {path}.{seed}",
            phase="backward",
            op=v.op,
            operands=v._inputs,
            value=c,
            node=v,
            slot=i,
            path=nodes,
        )
