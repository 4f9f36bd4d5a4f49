"""A read-only view of a computation graph, built from public attributes only.

The visualiser never touches engine internals: it reads `data`, `grad`, `label`, `op`,
`rule`, `parents` and `scope`, and `autograd.topological_order`, as a user could; reading them
changes nothing. Every walk is
iterative and keys on identity, so a graph of a million nodes needs no deeper Python stack than a
graph of three.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from autograd import Value, topological_order
from autograd.ops import data


@dataclass
class Graph:
    """The nodes reachable from `roots`, numbered in a stable topological order (operands first).

    `parents[i]` lists the numbers of node i's operands in operand order (a repeated operand,
    as in x * x, appears twice). Numbers depend only on the graph's shape and operand order,
    never on `id()`, so two identically built graphs get identical numbers. `constants` are
    the numbers that nodes keep as floats (the 2 in x * 2), which `parents` shows as leaves:
    they are no nodes of the engine's graph, and backward gives them no gradient.
    """

    roots: list[Value]
    nodes: list[Value]
    index: dict[Value, int]
    parents: list[tuple[int, ...]]
    constants: frozenset[int] = frozenset()
    _users: list[list[int]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.nodes)

    def is_constant(self, i: int) -> bool:
        """Node i is a constant of its user's op (the 2 in x * 2), not a node of the graph."""
        return i in self.constants

    @property
    def users(self) -> list[list[int]]:
        """`users[i]` lists the nodes that take node i as an operand (once per operand slot)."""
        if self._users is None:
            users: list[list[int]] = [[] for _ in self.nodes]
            for i, ps in enumerate(self.parents):
                for p in ps:
                    users[p].append(i)
            self._users = users
        return self._users

    def local_derivatives(self, i: int) -> list[float] | None:
        """d node_i / d operand_j for each operand slot j, from the rule the node was made with."""
        v = self.nodes[i]
        rule = v.rule  # not OPS[v.op]: an op may have been redefined since, as backward knows
        if rule is None or not self.parents[i]:
            return None
        local = rule.df(v.data, *[self.nodes[p].data for p in self.parents[i]])
        return [data(d) for d in local]  # a Value after create_graph shows its data


def as_roots(roots: Value | Iterable[Value]) -> list[Value]:
    """The roots of a drawing as a non-empty list, or a TypeError/ValueError saying what is wrong."""
    if isinstance(roots, Value):
        root_list = [roots]
    elif isinstance(roots, Iterable):
        root_list = list(roots)
    else:
        raise TypeError(f"the graph's root must be an autograd.Value, got {type(roots).__name__}")
    if not root_list:
        raise ValueError("draw a graph from at least one Value; got no roots")
    for r in root_list:
        if not isinstance(r, Value):
            raise TypeError(f"the graph's root must be an autograd.Value, got {type(r).__name__}")
    return root_list


def count_nodes(roots: list[Value], limit: int) -> int:
    """How many nodes `walk(roots)` returns, counted only up to limit + 1: enough to refuse.

    It stops as soon as the count passes `limit`, so refusing a huge graph costs no more than
    counting `limit` nodes. Each constant is counted as the leaf `parents` shows it as.
    """
    seen: set[Value] = set()
    stack = list(roots)
    count = 0
    while stack and count <= limit:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        count += 1
        stack.extend(p for p in v.parents if p not in seen)
    return count


def walk(roots: Value | Iterable[Value]) -> Graph:
    """Every node reachable from `roots` over `parents`, in depth-first post-order."""
    root_list = as_roots(roots)
    nodes: list[Value] = []
    index: dict[Value, int] = {}
    operands: dict[Value, tuple[Value, ...]] = {}
    # (node, expanded): a node is numbered once all of its operands are, which gives a
    # topological order; operands are pushed in reverse so the first operand is visited first.
    stack: list[tuple[Value, bool]] = [(r, False) for r in reversed(root_list)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            if v not in index:
                index[v] = len(nodes)
                nodes.append(v)
            continue
        if v in operands:
            continue
        ps = v.parents
        operands[v] = ps
        stack.append((v, True))
        for p in reversed(ps):
            if p not in operands:
                stack.append((p, False))
    parents = [tuple(index[p] for p in operands[v]) for v in nodes]
    # The engine's own order lists every node but the constants, which `parents` makes anew.
    in_graph = set(topological_order(*root_list))
    constants = frozenset(i for i, v in enumerate(nodes) if v not in in_graph)
    return Graph(root_list, nodes, index, parents, constants)


def reaching(g: Graph, target: int) -> list[bool]:
    """on[i] is True when some path from a root down through operands ends at `target`."""
    on = [False] * len(g)
    on[target] = True
    # Operands come first in the order, so one forward sweep settles every node.
    for i in range(target + 1, len(g)):
        on[i] = any(on[p] for p in g.parents[i])
    return on


def finite_max_abs(xs: Iterable[float]) -> float:
    """The largest finite |x|, or 0.0 when there is none."""
    best = 0.0
    for x in xs:
        if math.isfinite(x) and abs(x) > best:
            best = abs(x)
    return best
