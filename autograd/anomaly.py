"""Error reports for `detect_anomaly()`: which op made the first inf or nan, from what, and where.

Nothing here runs unless anomaly detection is on, so these reports may walk the graph freely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .value import Value


class AnomalyError(FloatingPointError):
    """The first non-finite number produced in forward or in backward, with the op that made it."""


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _name(v: Value) -> str:
    return v.label or (v.op or "leaf")


def _labels_into(args: Sequence[Any], limit: int = 12) -> list[str]:
    """Labels of the labelled nodes that feed `args`, outermost first (a bounded, iterative walk)."""
    seen: set[int] = set()
    found: list[str] = []
    stack = [a for a in args if isinstance(a, Value)]
    while stack and len(found) < 10 * limit:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.label:
            found.append(v.label)
        stack.extend(a for a in v._args if isinstance(a, Value))
    return list(reversed(found))[-limit:]


def _path(roots: Sequence[Value], target: Value) -> list[Value]:
    """One path from a root down to `target`, by breadth-first search over operands."""
    came_from: dict[Value, Value | None] = dict.fromkeys(roots)
    frontier = list(roots)
    while frontier and target not in came_from:
        nxt = []
        for v in frontier:
            for a in v._args:
                if isinstance(a, Value) and a not in came_from:
                    came_from[a] = v
                    nxt.append(a)
        frontier = nxt
    path: list[Value] = []
    node: Value | None = target
    while node is not None:
        path.append(node)
        node = came_from.get(node)
    return list(reversed(path))


def forward_anomaly(op: str, data: float, args: Sequence[Any]) -> None:
    """Raise for an op whose forward result `data` is inf or nan."""
    inputs = ", ".join(repr(_data(a)) for a in args)
    labels = " -> ".join(_labels_into(args)) or "(no labelled nodes)"
    raise AnomalyError(
        f"forward: {op}({inputs}) = {data!r}, the first non-finite value. "
        f"Labels along the path into it: {labels}"
    )


def backward_anomaly(v: Value, g: Any, local: Sequence[Any], roots: Sequence[Value]) -> None:
    """Raise if a gradient contribution leaving node `v` is inf or nan."""
    for i, (a, d) in enumerate(zip(v._args, local)):
        if isinstance(a, float):
            continue
        c = _data(g) * _data(d)
        if math.isfinite(c):
            continue
        inputs = ", ".join(repr(_data(x)) for x in v._args)
        path = " -> ".join(_name(n) for n in _path(roots, v))
        raise AnomalyError(
            f"backward: {v.op}({inputs}) passed gradient {c!r} to input {i}: "
            f"incoming grad {_data(g)!r} times local derivative d {v.op} / d input{i} = "
            f"{_data(d)!r}, the first non-finite gradient. Path from the root: {path}"
        )
