"""What is drawn as what: which nodes show, which fold into a box per scope, which are highlighted.

`build_scene` reads the graph once and decides everything the DOT writer and the legend need,
without writing any DOT. A node is drawn as itself (a box, and an ellipse for its op), folded
into the summary box of its scope (`collapse=`), or left out (outside the `focus=`
neighbourhood). The scene never changes after it is built, so one scene can be written many
times, for example once per step of a backward pass, with different marks on its nodes.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from autograd import Scope, Value
from autograd.names import node_name
from autograd.ops import data
from autograd.reals import shown as quoted  # `shown` here is the list of nodes drawn

from .options import DrawOptions
from .style import GradScale
from .walk import Graph, as_roots, count_nodes, finite_max_abs, reaching, walk


class GraphTooLarge(ValueError):
    """The graph has more nodes than `dot` lays out quickly; the message names the ways out."""


@dataclass
class Group:
    """A summary box: the nodes of one scope (or the leaves that feed the same places)."""

    title: str
    scope: Scope | None  # the scope whose nodes these are; None for a box of leaves
    container: Scope | None  # the scope frame this box sits inside
    repeat: int = 1  # 2 for the second box of the same scope path, and so on
    members: int = 0
    ops: Counter[str] = field(default_factory=Counter)
    leaves: int = 0
    outputs: int = 0  # members used by some node outside the box
    top_grad: float = 0.0
    highlighted: bool = False  # holds a node on a highlighted path
    lo: float = float("inf")
    hi: float = float("-inf")


@dataclass(frozen=True)
class Scene:
    """The drawing's content, decided before any DOT is written."""

    graph: Graph
    shown: list[bool]  # node i is drawn, as itself or in a box (False: outside the focus)
    highlight: int | None  # the highlighted node
    highlighted: list[bool] | None  # node i lies on a path from a root down to the highlight
    focus: int | None  # the node at the centre of a focus= neighbourhood
    collapse: str | int | None  # the level the scopes are folded at, if they are
    group_of: list[int]  # the box node i is folded into, or -1 when it is drawn as itself
    groups: list[Group]
    scale: GradScale  # the gradient colours, over the nodes shown
    # Sibling boxes (a layer's neurons) drawn as one column, each listed in label order.
    columns: tuple[tuple[int, ...], ...] = ()
    # folded scopes drawn as a frame around their box, because a node kept as itself (a root,
    # the highlight) belongs to them: the loss value sits inside the loss's frame
    framed: frozenset[Scope] = frozenset()

    def is_highlighted(self, i: int) -> bool:
        """Node i lies on a path from a root down to the highlighted node."""
        return self.highlighted is not None and self.highlighted[i]

    def frame(self, i: int) -> Scope | None:
        """The scope frame node i is drawn in (None: outside every frame).

        A computed node sits in its own scope; a leaf in the innermost scope shared by its
        drawn users, so that a neuron's weight sits in that neuron's frame and a layer's shared
        input in the layer's, but never outside the scope the leaf was made in. When folded,
        a node kept as itself sits in a frame around the box its scope was folded into.
        """
        g = self.graph
        s = g.nodes[i].scope
        if not g.parents[i]:
            common = self._users_scope(i)
            if s is None or any(c is s for c in scope_chain(common)):
                s = common
        if s is None or self.collapse is None:
            return s
        box = at_level(s, self.collapse)
        return box if box in self.framed else box.parent

    def _users_scope(self, i: int) -> Scope | None:
        common: list[Scope] | None = None
        for u in self.graph.users[i]:
            if not self.shown[u]:
                continue
            chain = scope_chain(self.graph.nodes[u].scope)
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


def build_scene(root: Value | Iterable[Value], options: DrawOptions) -> Scene:
    """Walk the graph from `root` and decide what each node is drawn as, or refuse the graph.

    Without collapse= or focus=, a graph of more than max_nodes Values is refused after
    counting max_nodes + 1 of them, before the walk, so the refusal is quick whatever the size.
    """
    max_nodes, who = options.max_nodes, options.entry
    try:
        roots = as_roots(root)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{who}(): {e}") from None
    if (
        options.collapse is None
        and options.focus is None
        and count_nodes(roots, max_nodes) > max_nodes
    ):
        raise GraphTooLarge(
            f"{who}(): the graph has more than max_nodes={max_nodes} nodes, which Graphviz cannot lay "
            f"out in a few seconds. Fold it with collapse='layer' or collapse='neuron' (one box "
            f"per autograd.scope), or draw a neighbourhood with focus=<a Value>, depth=<k>; or "
            f"raise max_nodes"
        )
    g = walk(roots)
    highlight = _member(g, options.highlight, f"{who}(): highlight")
    focus = _member(g, options.focus, f"{who}(): focus")
    if focus is not None:
        shown = _neighbourhood(g, focus, options.depth, options.fan)
        count = sum(shown)
        if count > max_nodes:
            raise GraphTooLarge(
                f"{who}(): focus={node_name(g.nodes[focus])!r} with depth={quoted(options.depth)} still "
                f"reaches {count} nodes, more than max_nodes={max_nodes}: use a smaller depth, "
                f"collapse='layer' or collapse='neuron', or raise max_nodes"
            )
    else:
        shown = [True] * len(g)
    highlighted = reaching(g, highlight) if highlight is not None else None
    scale = GradScale(finite_max_abs(data(g.nodes[i].grad) for i in range(len(g)) if shown[i]))
    group_of = [-1] * len(g)
    groups: list[Group] = []
    columns: tuple[tuple[int, ...], ...] = ()
    framed: frozenset[Scope] = frozenset()
    if options.collapse is not None:
        keep = {g.index[r] for r in g.roots} | ({highlight} if highlight is not None else set())
        group_of, groups, framed = _fold(g, options.collapse, keep, highlighted, max_nodes, who)
        columns = _columns(g, group_of, groups)
    return Scene(
        g,
        shown,
        highlight,
        highlighted,
        focus,
        options.collapse,
        group_of,
        groups,
        scale,
        columns,
        framed,
    )


def label_order(label: str, number: int) -> tuple[tuple[tuple[int, str], ...], int]:
    """A sort key that puts x2 before x10 (and neuron 2 before neuron 10): digit runs compare
    as numbers; `number` breaks ties."""
    runs = re.findall(r"\d+|\D+", label)
    return tuple((int(r), "") if r.isdigit() else (-1, r) for r in runs), number


def _member(g: Graph, v: Value | None, what: str) -> int | None:
    if v is None:
        return None
    i = g.index.get(v)
    if i is None:
        raise ValueError(f"{what}={v!r} is not a node of the graph being drawn")
    return i


def _neighbourhood(g: Graph, focus: int, depth: int, fan: int) -> list[bool]:
    """Nodes within `depth` steps of `focus`, stepping along edges either way.

    From each node at most `fan` operands and `fan` users are followed, the first ones in
    operand and creation order: a weight used by 300 samples would otherwise stand in one
    column 300 boxes tall, too tall to read. The writer counts the rest in a stub.
    """
    shown = [False] * len(g)
    shown[focus] = True
    frontier = deque([(focus, 0)])
    users = g.users
    while frontier:
        i, k = frontier.popleft()
        if k == depth:
            continue
        for side in (g.parents[i], users[i]):
            for j in list(dict.fromkeys(side))[:fan]:
                if not shown[j]:
                    shown[j] = True
                    frontier.append((j, k + 1))
    return shown


# ---- folding: one box per scope -------------------------------------------------------------


def _fold(
    g: Graph,
    collapse: str | int,
    keep: set[int],
    highlighted: list[bool] | None,
    max_nodes: int,
    who: str,
) -> tuple[list[int], list[Group], frozenset[Scope]]:
    """Put every computed node into the box of its scope at level `collapse`; leaves follow
    their users. The nodes in `keep` (the roots and the highlighted node) stay as themselves,
    in a frame with the box their scope folds into (returned: the scopes so framed).
    A refusal names `who`, the function the user called.
    """
    group_of = [-1] * len(g)
    groups: list[Group] = []
    box_scope: dict[Scope, Scope] = {}
    group_at: dict[Scope, int] = {}
    titles: Counter[str] = Counter()

    def group(a: Scope) -> int:
        k = group_at.get(a)
        if k is None:
            k = group_at[a] = len(groups)
            title = scope_title(a)
            titles[title] += 1  # a module run twice in one graph gets "#2" on its 2nd box
            groups.append(Group(title, a, a.parent, repeat=titles[title]))
        return k

    def box_of(s: Scope) -> Scope:
        a = box_scope.get(s)
        if a is None:
            a = box_scope[s] = at_level(s, collapse)
        return a

    for i, v in enumerate(g.nodes):
        if v.scope is not None and g.parents[i] and i not in keep:
            group_of[i] = group(box_of(v.scope))
    # A leaf (a weight, an input, a constant) joins the one box that uses it. Else it stays
    # in its own scope's box, or, with no scope, shares a box with the leaves that feed the
    # same places: "the inputs of layer 1".
    users = g.users
    leaf_group: dict[tuple[int, ...], int] = {}
    for i, v in enumerate(g.nodes):
        if g.parents[i] or i in keep:
            continue
        targets = sorted({group_of[u] if group_of[u] >= 0 else -2 - u for u in users[i]})
        if len(targets) == 1 and targets[0] >= 0:
            group_of[i] = targets[0]
        elif v.scope is not None:
            group_of[i] = group(box_of(v.scope))
        elif len(targets) > 1:
            key = tuple(targets)
            k = leaf_group.get(key)
            if k is None:
                k = leaf_group[key] = len(groups)
                groups.append(Group("", None, None))
            group_of[i] = k
    framed = set()
    for i in keep:
        s = g.nodes[i].scope
        k = None if s is None else group_at.get(box_of(s))
        b = None if k is None else groups[k]
        if b is not None and b.scope is not None:  # the box and the kept node, in one frame
            b.container = b.scope
            framed.add(b.scope)
    group_of, groups = _summarise(g, group_of, groups, highlighted)
    units = sum(1 for k in group_of if k < 0) + len(groups)
    if units > max_nodes:
        unscoped = sum(1 for v in g.nodes if v.scope is None and v.op)
        raise GraphTooLarge(
            f"{who}(): collapse={quoted(collapse)} still draws {units} boxes and nodes, more than "
            f"max_nodes={max_nodes} ({unscoped} computed nodes have no autograd.scope): "
            f"collapse at a coarser level such as collapse='layer', or draw a neighbourhood "
            f"with focus=<a Value>, depth=<k>"
        )
    return group_of, groups, frozenset(framed)


def _columns(g: Graph, group_of: list[int], groups: list[Group]) -> tuple[tuple[int, ...], ...]:
    """The boxes that stand side by side in one column, such as the neurons of one layer.

    Boxes sit in one column when they share a frame, their first computed nodes lie equally
    deep in the graph, and none of them feeds another. Graphviz would order them by crossing
    count, which is the same for every order of a fully connected layer, so it shuffles them
    (neuron 2, 3, 0, 1); the writer keeps each column in the order given here, label order.
    """
    depth = [0] * len(g)
    first: dict[int, int] = {}  # box -> depth of its shallowest computed node
    for i, ps in enumerate(g.parents):
        if not ps:
            continue
        depth[i] = d = 1 + max(depth[p] for p in ps)
        k = group_of[i]
        if k >= 0 and groups[k].scope is not None and d < first.get(k, d + 1):
            first[k] = d
    found: dict[tuple[Scope | None, int], list[int]] = {}
    for k, d in first.items():
        found.setdefault((groups[k].container, d), []).append(k)
    candidates = [ks for ks in found.values() if len(ks) > 1]
    if not candidates:
        return ()
    # A box that feeds its neighbour cannot share its column: bit k of reach[i] says that
    # node i depends on box k. One pass in topological order, linear in the graph.
    bit: dict[int, int] = {}
    mask: dict[int, int] = {}  # box -> the bits of its column
    column_of: dict[int, int] = {}
    for c, ks in enumerate(candidates):
        column = 0
        for k in ks:
            bit[k] = 1 << len(bit)
            column |= bit[k]
            column_of[k] = c
        for k in ks:
            mask[k] = column
    reach = [0] * len(g)
    broken: set[int] = set()
    for i, ps in enumerate(g.parents):
        above = 0
        for p in ps:
            above |= reach[p]
        k = group_of[i]
        own = bit.get(k, 0)
        if own and above & mask[k] & ~own:
            broken.add(column_of[k])
        reach[i] = above | own
    return tuple(
        tuple(sorted(ks, key=lambda k: label_order(groups[k].title, k)))
        for c, ks in enumerate(candidates)
        if c not in broken
    )


def _summarise(
    g: Graph, group_of: list[int], groups: list[Group], highlighted: list[bool] | None
) -> tuple[list[int], list[Group]]:
    """Count each box's members, ops, leaves and outputs; a box of one leaf becomes a node again."""
    for i, k in enumerate(group_of):
        if k < 0:
            continue
        b = groups[k]
        v = g.nodes[i]
        b.members += 1
        if v.op:
            b.ops[v.op] += 1
        else:
            b.leaves += 1
        grad = data(v.grad)
        if highlighted is not None and highlighted[i]:
            b.highlighted = True
        if abs(grad) > b.top_grad:
            b.top_grad = abs(grad)
        b.lo = min(b.lo, v.data)
        b.hi = max(b.hi, v.data)
    users = g.users
    for i, k in enumerate(group_of):
        if k >= 0 and any(group_of[u] != k for u in users[i]):
            groups[k].outputs += 1
    # A leaf box with a single member says less than the leaf itself.
    singles = {k for k, b in enumerate(groups) if b.scope is None and b.members == 1}
    if not singles:
        return group_of, groups
    renumber: dict[int, int] = {}
    kept: list[Group] = []
    for k, b in enumerate(groups):
        if k not in singles:
            renumber[k] = len(kept)
            kept.append(b)
    return [renumber.get(k, -1) for k in group_of], kept


# ---- scopes ---------------------------------------------------------------------------------


def at_level(s: Scope, collapse: str | int) -> Scope:
    """The scope whose box holds the nodes made in `s`, when folding at level `collapse`.

    "neuron" is the innermost scope itself; "layer" is the innermost scope with an owner (the
    module that made the node: nn passes owner=self, and a neuron's scope has none), or the
    outermost scope when none has an owner; an int k is the scope k deep, or `s` if shallower.
    """
    chain = scope_chain(s)
    if collapse == "neuron":
        return chain[-1]
    if collapse == "layer":
        owned = [c for c in chain if c.owner is not None]
        return owned[-1] if owned else chain[0]
    assert isinstance(collapse, int)
    return chain[min(collapse, len(chain)) - 1]


def scope_chain(s: Scope | None) -> list[Scope]:
    """The scopes from the outermost down to `s`."""
    chain = []
    while s is not None:
        chain.append(s)
        s = s.parent
    chain.reverse()
    return chain


def cluster_title(s: Scope) -> str:
    """The scope's own name, and the type of the module that owns it."""
    return s.name + ("" if s.owner is None else f" ({type(s.owner).__name__})")


def scope_title(s: Scope) -> str:
    """The scope's whole path, for a box that sits outside its parents' frames."""
    return " / ".join((*s.path[:-1], cluster_title(s)))
