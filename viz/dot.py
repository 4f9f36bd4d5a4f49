"""Graph -> DOT text: a pure function, testable without Graphviz installed.

A Value is a box (label, data, grad); the op that made it is an ellipse in front of it, and
arrows run forward, from each operand to the op, in operand order. The number on an arrow is
the local derivative d out / d in: backward multiplies the incoming gradient by it.

Graphviz's `dot` needs about a second for 1,000 drawn nodes and grows much faster than
linearly, so graphs above `max_nodes` Values must be folded (`collapse=`) or cut down to a
neighbourhood (`focus=`). Everything here is linear in the size of the graph, and a graph
that is neither is refused after counting max_nodes + 1 of its nodes, so a refusal comes back
at once whatever the graph's size.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from autograd import Scope, Value, explain
from autograd.explain import count_text

from .style import (
    GROUP_FILL,
    HIGHLIGHT,
    MUTED,
    NEGATIVE,
    NOT_A_NUMBER,
    OP_FILL,
    POSITIVE,
    ZERO,
    Formatter,
    GradScale,
    html_text,
    number_formatter,
)
from .walk import Graph, as_float, as_roots, count_nodes, finite_max_abs, reaching, walk

# Measured with Graphviz 2.43 on a shared 2-core machine (dot -Tsvg, scoped ReLU networks):
# 865 Values (1,336 drawn nodes with the op ellipses) lay out in 0.6 s, 1,469 in 3.5 s, 2,053
# in 7.6 s and 2,689 in 13 s. So 1,000 Values is about what dot draws in a second or two.
DEFAULT_MAX_NODES = 1000
DEFAULT_FORMAT = "{:.4g}"
RANKDIRS = ("LR", "RL", "TB", "BT")
# Up to this many root-to-highlight paths are written out factor by factor in the legend;
# more are summed up in one line (the count and the total).
MAX_LISTED_PATHS = 4
GRAPH_NAME = "chainrule"


class GraphTooLarge(ValueError):
    """The graph has more nodes than `dot` lays out quickly; the message names the ways out."""


@dataclass
class _Group:
    """A summary box: the nodes of one scope (or the leaves that feed the same places)."""

    title: str
    scope: Scope | None  # the scope whose nodes these are; None for a box of leaves
    container: Scope | None  # the scope box this summary sits inside
    repeat: int = 1  # 2 for the second box of the same scope path, and so on
    members: int = 0
    ops: Counter[str] = field(default_factory=Counter)
    leaves: int = 0
    outputs: int = 0  # members used by some node outside the box
    top_grad: float = 0.0
    lit: bool = False  # holds a node on a highlighted path
    lo: float = float("inf")
    hi: float = float("-inf")


def to_dot(root: Value | Iterable[Value], **options: Any) -> str:
    """The DOT text of the graph that ends at `root`; the options are `draw_graph`'s."""
    return f"digraph {GRAPH_NAME} {{\n" + "".join(dot_lines(root, **options)) + "}\n"


def dot_lines(
    root: Value | Iterable[Value],
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    fmt: str | Formatter = DEFAULT_FORMAT,
    edge_labels: bool = True,
    flow: bool = False,
    highlight: Value | None = None,
    color_by_grad: bool = True,
    legend: bool = True,
    clusters: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    collapse: str | int | None = None,
    focus: Value | None = None,
    depth: int = 2,
) -> list[str]:
    """The body of `to_dot`: one statement per line, each starting with a tab."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    if focus is not None and collapse is not None:
        raise ValueError("use either collapse= or focus=, not both")
    level = _collapse_level(collapse)
    number = number_formatter(fmt)
    roots = as_roots(root)
    if level is None and focus is None and count_nodes(roots, max_nodes) > max_nodes:
        raise GraphTooLarge(
            f"the graph has more than max_nodes={max_nodes} nodes, which Graphviz cannot lay "
            f"out in a few seconds. Fold it with collapse='layer' or collapse='neuron' (one box "
            f"per autograd.scope), or draw a neighbourhood with focus=<a Value>, depth=<k>; or "
            f"raise max_nodes"
        )
    g = walk(roots)
    target = _member(g, highlight, "highlight")
    centre = _member(g, focus, "focus")
    if centre is not None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ValueError(f"depth must be an int >= 0, got {depth!r}")
        shown = _neighbourhood(g, centre, depth)
        count = sum(shown)
        if count > max_nodes:
            raise GraphTooLarge(
                f"focus={_name(g.nodes[centre])!r} with depth={depth} still reaches {count} "
                f"nodes, more than max_nodes={max_nodes}: use a smaller depth, "
                f"collapse='layer' or collapse='neuron', or raise max_nodes"
            )
    else:
        shown = [True] * len(g)
    on = reaching(g, target) if target is not None else None
    d = _Drawing(g, shown, on, number, show_data, show_grad, edge_labels, flow, color_by_grad)
    if level is not None:
        keep = {g.index[r] for r in g.roots} | ({target} if target is not None else set())
        d.fold(level, collapse, max_nodes, keep)
    lines = d.lines(rankdir, target, centre, depth, legend, clusters, collapse)
    # Arrows between summary boxes are the expensive part of a folded drawing: layers are
    # often fully connected, and dot spends ~1 s on 1,000 such arrows and ~10 s on 2,500.
    if level is not None and d.arrows > max_nodes:
        raise GraphTooLarge(
            f"collapse={collapse!r} draws {d.arrows} arrows between its boxes, more than "
            f"max_nodes={max_nodes}, which Graphviz cannot lay out in a few seconds: collapse "
            f"at a coarser level such as collapse='layer', or draw a neighbourhood with "
            f"focus=<a Value>, depth=<k>"
        )
    return lines


def _collapse_level(collapse: str | int | None) -> str | int | None:
    bad = f"collapse must be 'layer', 'neuron' or a scope depth >= 1; got {collapse!r}"
    if collapse is None:
        return None
    if isinstance(collapse, str):
        if collapse not in ("layer", "neuron"):
            raise ValueError(bad)
        return collapse
    if isinstance(collapse, bool) or not isinstance(collapse, int) or collapse < 1:
        raise ValueError(bad)
    return collapse


def _at_level(s: Scope, level: str | int) -> Scope:
    """The scope whose box holds the nodes made in `s`, when folding at `level`.

    "neuron" is the innermost scope itself; "layer" is the innermost scope with an owner (the
    module that made the node: nn passes owner=self, and a neuron's scope has none), or the
    outermost scope when none has an owner; an int k is the scope k deep, or `s` if shallower.
    """
    chain = _chain(s)
    if level == "neuron":
        return chain[-1]
    if level == "layer":
        owned = [c for c in chain if c.owner is not None]
        return owned[-1] if owned else chain[0]
    assert isinstance(level, int)
    return chain[min(level, len(chain)) - 1]


def _member(g: Graph, v: Value | None, what: str) -> int | None:
    if v is None:
        return None
    if not isinstance(v, Value):
        raise TypeError(f"{what}= must be a Value of the graph, got {type(v).__name__}")
    i = g.index.get(v)
    if i is None:
        raise ValueError(f"{what}={v!r} is not a node of the graph being drawn")
    return i


def _name(v: Value) -> str:
    return v.label or v.op or "leaf"


def _neighbourhood(g: Graph, centre: int, depth: int) -> list[bool]:
    """Nodes within `depth` steps of `centre`, stepping along edges either way."""
    shown = [False] * len(g)
    shown[centre] = True
    frontier = deque([(centre, 0)])
    users = g.users
    while frontier:
        i, k = frontier.popleft()
        if k == depth:
            continue
        for j in (*g.parents[i], *users[i]):
            if not shown[j]:
                shown[j] = True
                frontier.append((j, k + 1))
    return shown


def _scope_title(s: Scope) -> str:
    """The scope's whole path, for a box that sits outside its parents' frames."""
    return " / ".join((*s.path[:-1], _cluster_title(s)))


class _Drawing:
    """Decides what each node becomes (a box of its own or part of a summary) and writes DOT."""

    def __init__(
        self,
        g: Graph,
        shown: list[bool],
        on: list[bool] | None,
        number: Formatter,
        show_data: bool,
        show_grad: bool,
        edge_labels: bool,
        flow: bool,
        color_by_grad: bool,
    ) -> None:
        self.g = g
        self.shown = shown
        self.on = on
        self.number = number
        self.show_data = show_data
        self.show_grad = show_grad
        self.edge_labels = edge_labels
        self.flow = flow
        self.color_by_grad = color_by_grad and show_grad
        self.group_of: list[int] = [-1] * len(g)
        self.groups: list[_Group] = []
        grads = (as_float(g.nodes[i].grad) for i in range(len(g)) if shown[i])
        self.scale = GradScale(finite_max_abs(grads))
        self.arrows = 0  # edge statements written, known once `lines` has run
        self.clusters = True
        self.level: str | int | None = None  # set when the drawing is folded

    # ---- collapse ----------------------------------------------------------------------------

    def fold(
        self, level: str | int, collapse: str | int | None, max_nodes: int, keep: set[int]
    ) -> None:
        """Put every computed node into the box of its scope at `level`; leaves follow their users.

        The nodes in `keep` (the roots and the highlighted node) stay visible as themselves.
        """
        g = self.g
        box_scope: dict[Scope, Scope] = {}
        group_at: dict[Scope, int] = {}
        titles: Counter[str] = Counter()

        def group(a: Scope) -> int:
            k = group_at.get(a)
            if k is None:
                k = group_at[a] = len(self.groups)
                title = _scope_title(a)
                titles[title] += 1  # a module run twice in one graph gets "#2" on its 2nd box
                self.groups.append(_Group(title, a, a.parent, repeat=titles[title]))
            return k

        def box_of(s: Scope) -> Scope:
            a = box_scope.get(s)
            if a is None:
                a = box_scope[s] = _at_level(s, level)
            return a

        self.level = level

        for i, v in enumerate(g.nodes):
            if v.scope is not None and g.parents[i] and i not in keep:
                self.group_of[i] = group(box_of(v.scope))
        # A leaf (a weight, an input, a constant) joins the one box that uses it. Else it stays
        # in its own scope's box, or, with no scope, shares a box with the leaves that feed the
        # same places: "the inputs of layer 1".
        users = g.users
        leaf_group: dict[tuple[int, ...], int] = {}
        for i, v in enumerate(g.nodes):
            if g.parents[i] or i in keep:
                continue
            targets = sorted(
                {self.group_of[u] if self.group_of[u] >= 0 else -2 - u for u in users[i]}
            )
            if len(targets) == 1 and targets[0] >= 0:
                self.group_of[i] = targets[0]
            elif v.scope is not None:
                self.group_of[i] = group(box_of(v.scope))
            elif len(targets) > 1:
                key = tuple(targets)
                k = leaf_group.get(key)
                if k is None:
                    k = leaf_group[key] = len(self.groups)
                    self.groups.append(_Group("", None, None))
                self.group_of[i] = k
        self._summarise()
        units = sum(1 for k in self.group_of if k < 0) + len(self.groups)
        if units > max_nodes:
            unscoped = sum(1 for v in g.nodes if v.scope is None and v.op)
            raise GraphTooLarge(
                f"collapse={collapse!r} still draws {units} boxes and nodes, more than "
                f"max_nodes={max_nodes} ({unscoped} computed nodes have no autograd.scope): "
                f"collapse at a coarser level such as collapse='layer', or draw a neighbourhood "
                f"with focus=<a Value>, depth=<k>"
            )

    def _summarise(self) -> None:
        """Count each box's members, ops, leaves and outputs; a box of one becomes a node again."""
        g, groups = self.g, self.groups
        for i, k in enumerate(self.group_of):
            if k < 0:
                continue
            b = groups[k]
            v = g.nodes[i]
            b.members += 1
            if v.op:
                b.ops[v.op] += 1
            else:
                b.leaves += 1
            grad = as_float(v.grad)
            if self.on is not None and self.on[i]:
                b.lit = True
            if abs(grad) > b.top_grad:
                b.top_grad = abs(grad)
            b.lo = min(b.lo, v.data)
            b.hi = max(b.hi, v.data)
        users = g.users
        for i, k in enumerate(self.group_of):
            if k >= 0 and any(self.group_of[u] != k for u in users[i]):
                groups[k].outputs += 1
        # A leaf box with a single member says less than the leaf itself.
        singles = {k for k, b in enumerate(groups) if b.scope is None and b.members == 1}
        if singles:
            renumber: dict[int, int] = {}
            kept: list[_Group] = []
            for k, b in enumerate(groups):
                if k not in singles:
                    renumber[k] = len(kept)
                    kept.append(b)
            self.group_of = [renumber.get(k, -1) for k in self.group_of]
            self.groups = kept

    # ---- writing -----------------------------------------------------------------------------

    def unit(self, i: int) -> str:
        """The DOT id that stands for node i: its own box, or the summary it is folded into."""
        k = self.group_of[i]
        return f"v{i}" if k < 0 else f"g{k}"

    def lines(
        self,
        rankdir: str,
        target: int | None,
        centre: int | None,
        depth: int,
        legend: bool,
        clusters: bool,
        collapse: str | int | None,
    ) -> list[str]:
        """Every DOT statement: settings, nodes (inside their scope clusters), edges, legend."""
        g, shown, on = self.g, self.shown, self.on
        self.clusters = clusters
        out = [
            f'\tgraph [rankdir={rankdir} fontname="Helvetica" fontsize=11 nodesep=0.2 '
            f"ranksep=0.35 newrank=true ordering=in]\n",
            '\tnode [fontname="Helvetica" fontsize=11 margin="0.08,0.03" penwidth=1]\n',
            '\tedge [fontname="Helvetica" fontsize=10 arrowsize=0.7 color="#525252"]\n',
        ]
        # Node statements, each filed under the scope it belongs in (None: top level).
        placed: dict[Scope | None, list[str]] = {None: []}
        edges: list[str] = []
        for k, b in enumerate(self.groups):
            self._place(placed, b.container, self._group_node(k, b))
        aggregated: dict[tuple[str, str], list[int]] = {}
        for i, v in enumerate(g.nodes):
            if not shown[i]:
                continue
            k = self.group_of[i]
            if k < 0:
                lit = on is not None and on[i]
                home = self.frame(v.scope if g.parents[i] else self._leaf_home(i, v.scope))
                self._place(placed, home, self._value_node(i, v, lit, i == centre))
                if g.parents[i]:
                    self._place(placed, home, self._op_node(i, v, lit))
                    edges.append(f"\tv{i}_op -> v{i}{f' [{_lit_edge()}]' if lit else ''}\n")
            self._operand_edges(i, edges, aggregated)
            if centre is not None:
                hidden_users = sum(1 for u in g.users[i] if not shown[u])
                if hidden_users:
                    edges.append(self._stub(f"v{i}_out", f"v{i} -> v{i}_out", hidden_users, "user"))
        for (tail, head), (n, any_lit) in aggregated.items():
            label = f" label=<{n} edges>" if n > 1 else ""
            extra = f" {_lit_edge()}" if any_lit else ""
            edges.append(f"\t{tail} -> {head} [style=bold{label}{extra}]\n")
        out.extend(self._clusters(placed, clusters))
        self.arrows = len(edges)
        out.extend(edges)
        if legend:
            out.append(self._legend(target, centre, depth, collapse))
        return out

    def _operand_edges(
        self, i: int, edges: list[str], aggregated: dict[tuple[str, str], list[int]]
    ) -> None:
        """Node i's incoming arrows: one per operand slot between two visible nodes, each with
        its local derivative; arrows between boxes only counted into `aggregated`; hidden
        operands summed up in one stub."""
        g, on, k = self.g, self.on, self.group_of[i]
        head = f"v{i}_op" if k < 0 else f"g{k}"
        local: list[float] | None = None
        hidden = 0
        for slot, p in enumerate(g.parents[i]):
            if not self.shown[p]:
                hidden += 1
                continue
            lit = on is not None and on[p]
            tail = self.unit(p)
            if k < 0 and self.group_of[p] < 0:
                if local is None:
                    local = g.local_derivatives(i)
                edges.append(self._edge(tail, head, i, slot, local, lit))
            elif self.group_of[p] != k:
                agg = aggregated.setdefault((tail, head), [0, 0])
                agg[0] += 1
                agg[1] |= lit
        if hidden:
            edges.append(self._stub(f"v{i}_in", f"v{i}_in -> {head}", hidden, "operand"))

    def frame(self, s: Scope | None) -> Scope | None:
        """The frame a node of scope `s` is drawn in: its scope, or when folded, the frame
        around the box its scope was folded into (a root made in a folded scope sits beside
        that box)."""
        if s is None or self.level is None:
            return s
        return _at_level(s, self.level).parent

    def _leaf_home(self, i: int, own: Scope | None) -> Scope | None:
        """The frame for leaf i: the innermost scope shared by its drawn users, so that a
        neuron's weight sits in that neuron's frame and a layer's shared input in the layer's;
        but never outside the scope the leaf was made in."""
        common = self._users_scope(i)
        if own is None or any(c is own for c in _chain(common)):
            return common
        return own

    def _users_scope(self, i: int) -> Scope | None:
        common: list[Scope] | None = None
        for u in self.g.users[i]:
            if not self.shown[u]:
                continue
            chain = _chain(self.g.nodes[u].scope)
            if common is None:
                common = chain
            else:
                n = 0
                while n < min(len(common), len(chain)) and common[n] is chain[n]:
                    n += 1
                common = common[:n]
            if not common:
                return None
        return common[-1] if common else None

    @staticmethod
    def _place(placed: dict[Scope | None, list[str]], s: Scope | None, line: str) -> None:
        placed.setdefault(s, []).append(line)

    def _clusters(self, placed: dict[Scope | None, list[str]], clusters: bool) -> list[str]:
        """Top-level statements, then one nested `subgraph cluster_N` per scope, in first-use order."""
        top = placed.pop(None)
        if not clusters:
            return top + [line for lines in placed.values() for line in lines]
        # Every ancestor of a used scope needs a cluster too, even if it holds no node itself.
        children: dict[Scope | None, list[Scope]] = {}
        known: set[Scope] = set()
        for s in list(placed):
            chain: list[Scope] = []
            a: Scope | None = s
            while a is not None and a not in known:
                chain.append(a)
                a = a.parent
            for c in reversed(chain):
                known.add(c)
                children.setdefault(c.parent, []).append(c)
        out = list(top)
        number = 0
        # Depth-first over the (small) scope tree with an explicit stack of open clusters.
        stack: list[tuple[Scope | None, int]] = [(None, 0)]
        while stack:
            s, next_child = stack.pop()
            kids = children.get(s, [])
            if next_child < len(kids):
                stack.append((s, next_child + 1))
                c = kids[next_child]
                indent = "\t" * (len(stack))
                out.append(f"{indent}subgraph cluster_{number} {{\n")
                number += 1
                out.append(
                    f'{indent}\tgraph [label=<{html_text(_cluster_title(c))}> style="rounded,dashed" '
                    f'color="{MUTED}" fontcolor="{MUTED}"]\n'
                )
                out.extend(indent + line for line in placed.get(c, []))
                stack.append((c, 0))
            elif s is not None:
                out.append("\t" * len(stack) + "}\n")
        return out

    def _value_node(self, i: int, v: Value, lit: bool, centre: bool) -> str:
        rows = []
        if v.label:
            rows.append(f"<B>{html_text(v.label)}</B>")
        if self.show_data:
            rows.append(f"data {html_text(self.number(v.data))}")
        grad = as_float(v.grad)
        if self.show_grad:
            rows.append(f"grad {html_text(self.number(grad))}")
        if not rows:
            rows.append(" ")
        cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        fill = self.scale.colour(grad) if self.color_by_grad else ZERO
        attrs = f'fillcolor="{fill}"'
        if lit:
            attrs += f' color="{HIGHLIGHT}" penwidth=3'
        if centre:
            attrs += " peripheries=2"
        return (
            f'\tv{i} [shape=box style="rounded,filled" {attrs} label=<<TABLE BORDER="0" '
            f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>]\n'
        )

    def _op_node(self, i: int, v: Value, lit: bool) -> str:
        attrs = f' color="{HIGHLIGHT}" penwidth=2' if lit else ""
        return (
            f'\tv{i}_op [shape=ellipse style=filled fillcolor="{OP_FILL}" height=0.3 '
            f"label=<{html_text(v.op)}>{attrs}]\n"
        )

    def _edge(
        self, tail: str, head: str, i: int, slot: int, local: list[float] | None, lit: bool
    ) -> str:
        parts = []
        if local is not None and (self.edge_labels or lit):
            parts.append(f"&#215;{html_text(self.number(local[slot]))}")
        if local is not None and self.flow:
            passed = as_float(self.g.nodes[i].grad) * local[slot]
            parts.append(f"({html_text(self.number(passed))})")
        attrs = []
        if parts:
            text = " ".join(parts)
            attrs.append(f"label=<<B>{text}</B>>" if lit else f"label=<{text}>")
        if lit:
            attrs.append(_lit_edge())
        return f"\t{tail} -> {head}{f' [{chr(32).join(attrs)}]' if attrs else ''}\n"

    def _stub(self, node: str, edge: str, n: int, what: str) -> str:
        text = f"&#8230; {n} more {what}{'s' if n > 1 else ''}"
        return (
            f'\t{node} [shape=plaintext fontcolor="{MUTED}" label=<{text}>]\n'
            f'\t{edge} [style=dashed color="{MUTED}"]\n'
        )

    def _group_node(self, k: int, b: _Group) -> str:
        number = self.number
        if b.scope is None:
            rows = [f"<B>{b.members} leaves</B>", "(inputs, weights or constants)"]
        else:
            # One text run, cut as a whole: many long custom op names must not overflow it.
            ops = html_text(
                " · ".join(
                    f"{n} {op}" for op, n in sorted(b.ops.items(), key=lambda t: (-t[1], t[0]))
                )
            )
            # Inside its parent's frame a box needs only its own name.
            title = _cluster_title(b.scope) if self.clusters and b.container else b.title
            if b.repeat > 1:
                title += f" #{b.repeat}"
            rows = [f"<B>{html_text(title)}</B>", f"{b.members} nodes: {ops or '-'}"]
            if b.leaves:
                rows.append(f"{b.leaves} leaves (weights, constants)")
            rows.append(f"{b.outputs} output{'s' if b.outputs != 1 else ''}")
        if self.show_data and b.members:
            rows.append(f"data {html_text(number(b.lo))} .. {html_text(number(b.hi))}")
        if self.show_grad:
            rows.append(f"max |grad| {html_text(number(b.top_grad))}")
        cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        attrs = f' color="{HIGHLIGHT}" penwidth=3' if b.lit else ""
        return (
            f'\tg{k} [shape=box3d style=filled fillcolor="{GROUP_FILL}"{attrs} label=<<TABLE '
            f'BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>]\n'
        )

    # ---- legend ------------------------------------------------------------------------------

    def _legend(
        self, target: int | None, centre: int | None, depth: int, collapse: str | int | None
    ) -> str:
        g = self.g
        root = html_text(_root_name(g))
        rows = [
            "<B>How to read this drawing</B>",
            f"box: a Value with its label, data and grad = &#8706;{root}/&#8706;value",
            "ellipse: the op that made the value; arrows run forward, from operands to op",
        ]
        if self.edge_labels:
            rows.append(
                "&#215;k on an arrow: the local derivative &#8706;out/&#8706;in; "
                "backward multiplies the gradient by k there"
            )
        if self.flow:
            rows.append("(g) on an arrow: the gradient passed back along it, out.grad &#215; k")
        if self.groups:
            level = collapse if isinstance(collapse, str) else f"depth {collapse}"
            rows.append(
                f"3-D box: the nodes of one autograd.scope, folded at the {html_text(str(level))} "
                f"level, with counts; bold arrows carry the edges between boxes"
            )
        if centre is not None:
            rows.append(
                f"showing the {sum(self.shown)} of {len(g)} nodes within {depth} steps of "
                f"{html_text(_name(g.nodes[centre]))} (double border); "
                f"&#8230; marks neighbours left out"
            )
        if self.show_grad and self.scale.top == 0.0:
            rows.append("every grad here is 0: call backward() on the root first")
        text = "".join(f'<TR><TD ALIGN="LEFT" COLSPAN="9">{r}</TD></TR>' for r in rows)
        if self.color_by_grad and self.scale.top > 0.0:
            text += self._swatches()
        if target is not None:
            text += self._chains(target)
        return (
            f'\tlegend [shape=plain label=<<TABLE BORDER="1" COLOR="{MUTED}" CELLBORDER="0" '
            f'CELLSPACING="0" CELLPADDING="3">{text}</TABLE>>]\n'
        )

    def _swatches(self) -> str:
        scale, number = self.scale, self.number
        n = len(POSITIVE)
        caption = (
            '<TR><TD ALIGN="LEFT" COLSPAN="9">fill: the sign and size of grad, '
            "in bands up to the number shown</TD></TR>"
        )
        cells = []
        for s in range(n, 0, -1):
            cells.append((NEGATIVE[s - 1], number(-scale.bounds(s)[1])))
        cells.append((ZERO, number(0.0)))
        for s in range(1, n + 1):
            cells.append((POSITIVE[s - 1], number(scale.bounds(s)[1])))
        # A nested table keeps the swatches equally wide whatever the rows above hold.
        row = "".join(
            f'<TD BGCOLOR="{c}" BORDER="1" COLOR="#bdbdbd" WIDTH="34">{html_text(t)}</TD>'
            for c, t in cells
        )
        row = (
            '<TD ALIGN="LEFT" COLSPAN="9"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="2"><TR>{row}</TR></TABLE></TD>'
        )
        extra = ""
        if any(_isnan(self.g.nodes[i].grad) for i in range(len(self.g)) if self.shown[i]):
            extra = (
                f'<TR><TD BGCOLOR="{NOT_A_NUMBER}" BORDER="1" COLOR="#bdbdbd">nan</TD>'
                '<TD ALIGN="LEFT" COLSPAN="8">grad is not a number</TD></TR>'
            )
        return caption + f"<TR>{row}</TR>" + extra

    def _chains(self, target: int) -> str:
        """The seed's chain rule for the highlighted node, from `autograd.explain`: every path
        from each root, as the product of the local derivatives on its edges."""
        g, number = self.g, self.number
        t = g.nodes[target]
        rows = [
            f'<FONT COLOR="{HIGHLIGHT}"><B>purple: every path from {html_text(_root_name(g))} '
            f"to {html_text(_name(t))}</B></FONT>"
        ]
        for r in dict.fromkeys(g.roots):
            e = explain(r, t, max_paths=MAX_LISTED_PATHS)
            d = f"&#8706;{html_text(e.name(r))}/&#8706;{html_text(e.name(t))}"
            total = html_text(number(e.total))
            if e.count == 0:
                rows.append(f"no path leads from {html_text(e.name(r))} to {html_text(e.name(t))}")
                continue
            if e.paths is None:
                paths = "path" if e.count == 1 else "paths"
                rows.append(
                    f"{d} = {total}: the sum over {html_text(count_text(e.count))} {paths} of the "
                    f"product of the &#215;k factors on each (too many or too long to list)"
                )
                continue
            products = [
                (" &#215; ".join(_factor_text(f.shown) for f in p.factors) or "1")
                + f" = {html_text(number(p.product))}"
                for p in e.paths
            ]
            if len(products) == 1:
                rows.append(f"{d} = {products[0]}")
            else:
                rows.append(f"{d} = the sum over {len(products)} paths:")
                rows.extend(f"&#160;&#160;{p}" for p in products)
                rows.append(f"&#160;&#160;total {total}")
        if self.show_grad:
            rows.append(
                f"grad shown on {html_text(_name(t))}: {html_text(number(as_float(t.grad)))}"
            )
        return "".join(f'<TR><TD ALIGN="LEFT" COLSPAN="9">{r}</TD></TR>' for r in rows)


def _factor_text(shown: str) -> str:
    """One factor of a product; a sum such as tanh's "1 - 0.99²" goes in parentheses."""
    return html_text(f"({shown})" if " " in shown else shown)


def _root_name(g: Graph) -> str:
    if len(g.roots) > 1:
        return "roots"
    r = g.roots[0]
    return r.label or "root"


def _chain(s: Scope | None) -> list[Scope]:
    """The scopes from the outermost down to `s`."""
    chain = []
    while s is not None:
        chain.append(s)
        s = s.parent
    chain.reverse()
    return chain


def _isnan(x: object) -> bool:
    return math.isnan(as_float(x))


def _cluster_title(s: Scope) -> str:
    """The scope's own name, and the type of the module that owns it."""
    return s.name + ("" if s.owner is None else f" ({type(s.owner).__name__})")


def _lit_edge() -> str:
    return f'color="{HIGHLIGHT}" fontcolor="{HIGHLIGHT}" penwidth=2.5'
