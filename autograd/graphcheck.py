"""A gradient check through a whole recorded graph: every node, and every op's rule on its edges.

`gradcheck(f, inputs)` checks the inputs of a function. `check_graph(root)` checks a graph that
is already built, node by node, without calling any function again:

- for every node v, backward's d root/d v against the central difference
  (root(v + eps) - root(v - eps)) / 2 eps, where root(v ± eps) re-runs the ops downstream of v
  on plain floats with v's value replaced;
- for every op node and operand, the rule's local derivative d out/d operand against the
  central difference of the op's own forward function at the node's operands.

A wrong rule shows in both: the nodes below it get wrong gradients, and its own edges disagree
with their central differences. The first such edge in backward's order is where the error
enters. Tolerances are gradcheck's (PyTorch's): |analytic - numeric| <= atol + rtol |numeric|.
A difference whose two evaluations straddle a kink of some op (relu at 0) is inconclusive
there, as gradcheck says: status "kink".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .context import no_grad
from .facts import kink_points
from .functional import grad
from .graph import topological_order
from .ops import data
from .reals import real, shown
from .value import Value

# Every node re-runs the ops downstream of it twice: a chain of n nodes costs about n^2 op
# evaluations. Measured on a chain: 500 nodes 0.3 s, 1,000 1.3 s, 2,000 4.7 s. Larger graphs
# are refused.
MAX_CHECKED_NODES = 2000


@dataclass(frozen=True, eq=False)
class NodeCheck:
    """d root/d node from backward against the central difference through the graph."""

    node: Value
    analytic: float
    numeric: float
    allowed: float  # atol + rtol |numeric|
    status: str  # "ok", "kink" (the difference straddles a kink) or "MISMATCH"

    @property
    def ratio(self) -> float:
        """|analytic - numeric| / allowed: at most 1 passes; inf when either is not finite."""
        if not (math.isfinite(self.analytic) and math.isfinite(self.numeric)):
            return 0.0 if _same(self.analytic, self.numeric) else math.inf
        return abs(self.analytic - self.numeric) / self.allowed


@dataclass(frozen=True, eq=False)
class EdgeCheck:
    """One op's rule on one edge: d node/d operand from the rule against the op's own slope."""

    node: Value
    slot: int  # which operand of node
    operand: Value
    rule: float
    numeric: float
    allowed: float
    status: str


@dataclass(frozen=True, eq=False)
class GraphCheck:
    """Every node's and every edge's verdict; `origin` is where a wrong rule enters first."""

    root: Value
    nodes: dict[Value, NodeCheck]
    edges: list[EdgeCheck]  # in backward's order: the root's edges first
    eps: float

    @property
    def wrong_rules(self) -> list[EdgeCheck]:
        """The edges whose rule disagrees with the op's central difference, in backward's order."""
        return [e for e in self.edges if e.status == "MISMATCH"]

    @property
    def origin(self) -> EdgeCheck | None:
        """The first wrong edge that backward meets, or None when every rule checks out."""
        wrong = self.wrong_rules
        return wrong[0] if wrong else None

    @property
    def passed(self) -> bool:
        """No node and no edge disagrees (kinks are inconclusive, not failures)."""
        return not self.wrong_rules and all(c.status != "MISMATCH" for c in self.nodes.values())


def check_graph(
    root: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> GraphCheck:
    """Check d root/d v for every node v, and every op's local derivatives, against central differences."""
    if not isinstance(root, Value):
        raise TypeError(f"check_graph() needs a Value, got {type(root).__name__}")
    tolerances = []
    for name, x in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        t = real(x, f"check_graph() {name}")  # Value()'s rule: True is 1, 10**400 overflows
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"check_graph() needs a finite {name} >= 0, got {shown(x)}")
        tolerances.append(t)
    eps, atol, rtol = tolerances
    if eps == 0:
        raise ValueError("check_graph() needs eps > 0")
    order = topological_order(root)
    if len(order) > MAX_CHECKED_NODES:
        raise ValueError(
            f"check_graph() re-runs the graph below each node, about n^2 ops for n nodes; this "
            f"graph has {len(order)} nodes, more than {MAX_CHECKED_NODES}. Check a smaller "
            f"graph (fewer samples or a smaller layer), or use gradcheck(f, inputs)"
        )
    operands = [v.parents for v in order]  # read once: each read makes new constant leaves
    index = {v: i for i, v in enumerate(order)}
    args = [tuple(index.get(a, -1) for a in ps) for ps in operands]
    values = [v.data for v in order]
    analytic = [data(g) for g in grad(root, order)]

    nodes: dict[Value, NodeCheck] = {}
    for i, v in enumerate(order):
        x = values[i]
        step = _step(x, eps)
        plus, hit_plus = _rerun(order, operands, args, values, i, x + step)
        minus, hit_minus = _rerun(order, operands, args, values, i, x - step)
        numeric = (plus - minus) / ((x + step) - (x - step))
        allowed = atol + rtol * abs(numeric)
        status = _status(analytic[i], numeric, allowed, hit_plus or hit_minus)
        nodes[v] = NodeCheck(v, analytic[i], numeric, allowed, status)

    edges: list[EdgeCheck] = []
    for v, ps in zip(reversed(order), reversed(operands)):
        if not ps:
            continue
        rule = v.rule
        assert rule is not None  # a node with operands has its rule
        xs = [a.data for a in ps]
        with no_grad():
            local = [data(d) for d in rule.df(v.data, *xs)]
        kinks = kink_points(rule, xs)
        for j, a in enumerate(ps):
            step = _step(xs[j], eps)
            hi = [*xs[:j], xs[j] + step, *xs[j + 1 :]]
            lo = [*xs[:j], xs[j] - step, *xs[j + 1 :]]
            numeric = (rule.f(*hi) - rule.f(*lo)) / (hi[j] - lo[j])
            allowed = atol + rtol * abs(numeric)
            near = any(lo[j] <= k <= hi[j] for k in kinks[j])
            edges.append(
                EdgeCheck(
                    v, j, a, local[j], numeric, allowed, _status(local[j], numeric, allowed, near)
                )
            )
    return GraphCheck(root, nodes, edges, eps)


def _rerun(
    order: Sequence[Value],
    operands: Sequence[tuple[Value, ...]],
    args: Sequence[tuple[int, ...]],
    data: Sequence[float],
    start: int,
    x: float,
) -> tuple[float, bool]:
    """The root's value with node `start` set to x, re-running the ops that depend on it; and
    whether some op on the way had an operand move across one of its kinks."""
    new = {start: x}
    kinked = False
    # Operands come first in the order, so one sweep from `start` to the root settles every node.
    for i in range(start + 1, len(order)):
        slots = args[i]
        if not any(j in new for j in slots):
            continue
        rule = order[i].rule
        assert rule is not None  # a node with operands has its rule
        xs = [new.get(j, data[j]) if j >= 0 else a.data for j, a in zip(slots, operands[i])]
        if rule.kinks is not None:
            old = [data[j] if j >= 0 else a.data for j, a in zip(slots, operands[i])]
            for points, before, after in zip(kink_points(rule, xs), old, xs):
                lo, hi = min(before, after), max(before, after)
                kinked = kinked or (lo < hi and any(lo <= p <= hi for p in points))
        new[i] = rule.f(*xs)
    root = len(order) - 1
    return new.get(root, data[root]), kinked


def _step(x: float, eps: float) -> float:
    """eps, or the spacing of floats at x when eps is below it (x ± eps would round to x)."""
    return max(eps, 4 * math.ulp(x)) if math.isfinite(x) else eps


def _status(analytic: float, numeric: float, allowed: float, near_kink: bool) -> str:
    if _same(analytic, numeric) or (
        math.isfinite(analytic) and math.isfinite(numeric) and abs(analytic - numeric) <= allowed
    ):
        return "ok"
    return "kink" if near_kink else "MISMATCH"


def _same(a: float, b: float) -> bool:
    """Equal, or both nan: a nan gradient that the difference also finds is not a wrong rule."""
    return a == b or (math.isnan(a) and math.isnan(b))
