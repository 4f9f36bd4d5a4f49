"""Chain-rule explanations: every path from a root down to one input, factor by factor.

The chain rule says that d root/d x is a sum over the paths from `root` down to `x`: each path
contributes the product of the local derivatives d out/d operand along its edges. `explain`
lists those paths with every factor named and valued, as the seed notebook does by hand:

    d Loss/d w0 = d Loss/d ReLU · d ReLU/d sum · d sum/d mul · d mul/d w0 = 2·6 · 1 · 1 · 1 = 12

Every factor comes from the rule each node was made with (`v.rule.df`), applied to the nodes'
numbers, so an explanation needs no backward pass and never disagrees with one: its total is
accumulated in the same order as `backward()` accumulates `wrt.grad` (nodes root first, a
node's operands in order, a dot's pair by pair as `ops.dot_order` says), so the two are equal
to the last bit (when `wrt.grad` started from 0).

Paths are counted, never chased one by one, unless they are few: the number of paths through a
node is a dynamic programme over the topological order (Python ints, so the count is exact even
when it has hundreds of digits). When there are too many paths to print, the explanation
groups them by the last edge into `wrt`: d root/d wrt = Σ over edges v → wrt of
d root/d v · d v/d wrt, each group with its number of paths and its subtotal.

This module is the model: the paths, factors and groups as frozen dataclasses. How they read as
text and as LaTeX is `autograd.explain_render`'s job; it imports this module, never the other
way round, and hands its functions to `use_renderer` when it is imported (as `import autograd`
does), so that str(), repr() and Jupyter's rendering of an explanation reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .graph import reverse_topological_order
from .names import node_name
from .names import number_text as _num
from .notation import repeated_operand, rule_strings
from .ops import OPS, data, dot_order
from .value import Value

DOT = OPS["dot"]
MAX_PATHS = 50  # more paths than this are grouped rather than listed
MAX_LENGTH = 50  # so are paths with more edges than this


@dataclass(frozen=True, eq=False)
class Factor:
    """One local derivative d out/d operand on an edge of the graph, named and valued."""

    out: Value
    operand: Value
    index: int  # position of `operand` among out's operands (x * x has two edges to x)
    value: float
    name: str  # "d loss/d relu(z)"
    formula: str  # "2·relu(z)": the rule in terms of names ("" for an op without a formula)
    numbers: str  # "2·6": the same rule with the numbers put in
    note: str = ""  # "z = 6 > 0": why a piecewise rule took the branch it took

    @property
    def shown(self) -> str:
        """The factor as it appears in a product: its formula with numbers, else its value."""
        return self.numbers or _num(self.value)

    def line(self, width: int = 0) -> str:
        """`d out/d operand = formula = numbers = value  (note)`, the name padded to `width`."""
        return _renderer().factor_line(self, width)

    def __str__(self) -> str:
        return self.line()


@dataclass(frozen=True, eq=False)
class Path:
    """One path from root down to wrt: its nodes (root first) and the factors on its edges."""

    nodes: tuple[Value, ...]
    factors: tuple[Factor, ...]
    product: float  # the factors multiplied in order, root side first


@dataclass(frozen=True, eq=False)
class Group:
    """All the paths whose last edge is `factor.out` → wrt, summarised by their count and sum."""

    factor: Factor  # d out/d wrt on the last edge
    count: int  # how many paths from root reach `factor.out`
    upstream: float  # d root/d out: the sum over those paths of their products so far
    subtotal: float  # upstream · factor.value: these paths' share of d root/d wrt


@dataclass(frozen=True, eq=False, kw_only=True)
class Explanation:
    """d root/d wrt as a sum over paths of products of local derivatives; str() prints it."""

    root: Value
    wrt: Value
    count: int  # the number of paths from root to wrt, exact
    longest: int  # edges on the longest path (-1 when there is no path)
    total: float  # d root/d wrt, the sum over all paths
    paths: tuple[Path, ...] | None  # every path when they are few (see `grouped`), else None
    groups: tuple[Group, ...]  # the paths grouped by their last edge into wrt, always
    nodes: tuple[Value, ...]  # every node on some path, root first (reverse topological order)
    names: dict[Value, str]  # a distinct name per node on the paths: mul#1, mul#2, x
    max_paths: int  # the most paths listed one by one

    @property
    def grouped(self) -> bool:
        """True when the paths are too many or too long to list, so str() shows groups."""
        return self.paths is None

    def edges(self) -> list[Factor]:
        """Every edge on some path root → wrt, as a named and valued factor (what a drawing lights up)."""
        on = set(self.nodes)
        out = []
        for v in self.nodes:
            if v is self.wrt:
                break
            d = _local_derivatives(v)
            for i, a in enumerate(v._inputs):
                if type(a) is not float and a in on:
                    out.append(_factor(v, i, d[i], self.names))
        return out

    def name(self, v: Value) -> str:
        """The name a node goes by in this explanation: its label, else its op (mul#2), else its number."""
        return self.names.get(v) or node_name(v)

    def __str__(self) -> str:
        return _renderer().text(self)

    def __repr__(self) -> str:
        return _renderer().summary(self)

    def _repr_markdown_(self) -> str:
        """Jupyter's rendering: the paths as math, one aligned block of factors per path."""
        return _renderer().markdown(self)


# ---- the hook through which the renderer writes the model ----


class Renderer(NamedTuple):
    """How a factor and an explanation are written; `autograd.explain_render` provides them."""

    factor_line: Callable[[Factor, int], str]  # Factor.line()
    text: Callable[[Explanation], str]  # str()
    summary: Callable[[Explanation], str]  # repr()
    markdown: Callable[[Explanation], str]  # Jupyter's _repr_markdown_()


_RENDERERS: list[Renderer] = []  # the one registered, when its module has been imported


def use_renderer(renderer: Renderer) -> None:
    """Write explanations with `renderer` from now on (explain_render calls this on import)."""
    _RENDERERS[:] = [renderer]


def _renderer() -> Renderer:
    if not _RENDERERS:  # only if autograd/__init__.py stopped importing explain_render
        raise RuntimeError("no renderer for explanations: import autograd.explain_render")
    return _RENDERERS[0]


def explain(
    root: Value, wrt: Value, *, max_paths: int = MAX_PATHS, max_length: int = MAX_LENGTH
) -> Explanation:
    """d root/d wrt = Σ over paths root → wrt of Π local derivatives d out/d operand on the path.

    Lists every path when there are at most `max_paths` of at most `max_length` edges; otherwise
    groups the paths by their last edge into `wrt`. Needs no backward pass and changes no `.grad`.
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        bad = root if not isinstance(root, Value) else wrt
        raise TypeError(f"explain() needs Values, got {type(bad).__name__}")
    if max_paths < 1 or max_length < 1:
        raise ValueError(f"max_paths and max_length must be >= 1, got {max_paths} and {max_length}")
    order = reverse_topological_order(root)  # root first, as backward() walks it

    # Paths from each node down to wrt, and the longest one's length, operands before users.
    # A node that cannot reach wrt gets no entry: it lies on no path.
    down: dict[Value, int] = {}
    longest: dict[Value, int] = {}
    for v in reversed(order):
        if v is wrt:
            down[v], longest[v] = 1, 0
            continue
        n, deepest = 0, -1
        for a in v._inputs:
            if type(a) is not float and a in down:
                n += down[a]
                deepest = max(deepest, longest[a])
        if n:
            down[v], longest[v] = n, deepest + 1
    on_paths = [v for v in order if v in down]

    count = down.get(root, 0)
    if count == 0:
        names = {root: node_name(root), wrt: node_name(wrt)}
        if names[root] == names[wrt]:
            names = {root: names[root] + "#1", wrt: names[wrt] + "#2"}
        return Explanation(
            root=root,
            wrt=wrt,
            count=0,
            longest=-1,
            total=0.0,
            paths=(),
            groups=(),
            nodes=(),
            names=names,
            max_paths=max_paths,
        )
    names = _names(root, down)

    # The chain rule over the nodes on paths, in backward()'s order and with its arithmetic, so
    # that `total` is bit for bit the wrt.grad that backward() would produce from zero.
    listing = count <= max_paths and longest[root] <= max_length
    local: dict[Value, Sequence[float]] = {}  # kept only when the paths will be listed
    upstream: dict[Value, float] = {root: 1.0}
    reach: dict[Value, int] = {root: 1}  # paths from root down to each node
    groups: list[Group] = []
    for v in on_paths:
        if v is wrt:
            break  # operands of wrt lie below it, on no path; wrt is last among on_paths
        g, n = upstream[v], reach[v]
        d = _local_derivatives(v)
        if listing:
            local[v] = d
        args = v._inputs
        for i in dot_order(len(args)) if v._rule is DOT else range(len(args)):
            a = args[i]
            if type(a) is float or a not in down:
                continue
            contribution = g * d[i]
            upstream[a] = upstream.get(a, 0.0) + contribution
            reach[a] = reach.get(a, 0) + n
            if a is wrt:
                groups.append(Group(_factor(v, i, d[i], names), n, g, contribution))
    total = upstream[wrt] if wrt is not root else 1.0

    paths = _enumerate_paths(root, wrt, down, local, names) if listing else None
    return Explanation(
        root=root,
        wrt=wrt,
        count=count,
        longest=longest[root],
        total=total,
        paths=None if paths is None else tuple(paths),
        groups=tuple(groups),
        nodes=tuple(on_paths),
        names=names,
        max_paths=max_paths,
    )


def _local_derivatives(v: Value) -> Sequence[float]:
    """d v/d operand_i for every operand, from the rule table on plain numbers."""
    return v._rule.df(v.data, *map(data, v._inputs))  # type: ignore[union-attr]


def _enumerate_paths(
    root: Value,
    wrt: Value,
    down: dict[Value, int],
    local: dict[Value, Sequence[float]],
    names: dict[Value, str],
) -> list[Path]:
    """Every path root → wrt, depth first with an explicit stack, in operand order."""
    paths: list[Path] = []
    nodes: list[Value] = [root]
    factors: list[Factor] = []
    stack: list[Iterator[tuple[int, Any]]] = [iter(enumerate(root._inputs))]
    if root is wrt:
        return [Path((root,), (), 1.0)]
    while stack:
        v = nodes[-1]
        for i, a in stack[-1]:
            if type(a) is float or a not in down:
                continue
            factors.append(_factor(v, i, local[v][i], names))
            nodes.append(a)
            if a is wrt:
                product = 1.0
                for f in factors:
                    product *= f.value
                paths.append(Path(tuple(nodes), tuple(factors), product))
                nodes.pop()
                factors.pop()
                continue
            stack.append(iter(enumerate(a._inputs)))
            break
        else:
            stack.pop()
            nodes.pop()
            if factors:
                factors.pop()
    return paths


# ---- names: a label where there is one, else the op's name, else the number ----


def _names(root: Value, down: dict[Value, int]) -> dict[Value, str]:
    """A distinct name per node on the paths: two unlabelled `mul`s become mul#1 and mul#2.

    Numbers go in breadth-first order from the root, operands left to right, so that in
    (x * 2) * (x * 3) the root is mul#1, x * 2 is mul#2 and x * 3 is mul#3.
    """
    order = [root]
    seen = {root}
    for v in order:  # the list grows while we walk it: a queue without pops
        for a in v._inputs:
            if type(a) is not float and a in down and a not in seen:
                seen.add(a)
                order.append(a)
    base = [node_name(v) for v in order]
    counts: dict[str, int] = {}
    for name in base:
        counts[name] = counts.get(name, 0) + 1
    taken: dict[str, int] = {}
    names: dict[Value, str] = {}
    for v, name in zip(order, base):
        if counts[name] > 1:
            taken[name] = k = taken.get(name, 0) + 1
            name = f"{name}#{k}"
        names[v] = name
    return names


def _factor(v: Value, i: int, value: float, names: dict[Value, str]) -> Factor:
    """The factor d v/d operand_i, named after the nodes and written with v's rule."""
    operand = v._inputs[i]
    name = f"d {names[v]}/d {names[operand]}"
    if repeated_operand(v, operand):
        name += f" (operand {i + 1})"  # x * x: two edges, two factors, two paths
    formula, numbers, note = rule_strings(v, i, names)
    if formula == numbers:
        formula = ""  # a rule with no operand in it (add, sum): the number says it all
    return Factor(v, operand, i, float(value), name, formula, numbers, note)
