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
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .graph import reverse_topological_order
from .names import node_name
from .names import number_text as _num
from .ops import OPS, data, dot_order
from .value import Value

DOT = OPS["dot"]
MAX_PATHS = 50  # more paths than this are grouped rather than listed
MAX_LENGTH = 50  # so are paths with more edges than this
MAX_TERMS = 10  # a sum with more terms than this is printed as its total only


@dataclass(frozen=True, eq=False)
class Factor:
    """One local derivative d out/d operand on an edge of the graph, named and valued."""

    out: Value
    operand: Value
    index: int  # position of `operand` among out's operands (x * x has two edges to x)
    value: float
    name: str  # "d loss/d relu(z)"
    formula: str  # "2·relu(z)": the rule in terms of names ("" for an op without a template)
    numbers: str  # "2·6": the same rule with the numbers put in
    note: str = ""  # "z = 6 > 0": why a piecewise rule took the branch it took

    @property
    def shown(self) -> str:
        """The factor as it appears in a product: its formula with numbers, else its value."""
        return self.numbers or _num(self.value)

    def line(self, width: int = 0) -> str:
        """`d out/d operand = formula = numbers = value  (note)`, the name padded to `width`."""
        parts = [self.name.ljust(width)]
        for part in (self.formula, self.numbers, _num(self.value)):
            if part and part != parts[-1]:
                parts.append(part)
        line = " = ".join(parts)
        return f"{line}  ({self.note})" if self.note else line

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


class Explanation:
    """d root/d wrt as a sum over paths of products of local derivatives; str() prints it."""

    def __init__(
        self,
        root: Value,
        wrt: Value,
        count: int,
        longest: int,
        total: float,
        paths: list[Path] | None,
        groups: list[Group],
        names: dict[Value, str],
        max_paths: int,
        nodes: list[Value],
    ) -> None:
        self.root = root
        self.wrt = wrt
        self.count = count  # the number of paths from root to wrt, exact
        self.longest = longest  # edges on the longest path (-1 when there is no path)
        self.total = total  # d root/d wrt, the sum over all paths
        self.paths = paths  # every path when they are few (count <= max_paths), else None
        self.groups = groups  # the paths grouped by their last edge into wrt, always
        self._names = names
        self._max_paths = max_paths
        self.nodes = nodes  # every node on some path, root first (reverse topological order)

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
            for i, a in enumerate(v._args):
                if type(a) is not float and a in on:
                    out.append(_factor(v, i, d[i], self._names))
        return out

    def name(self, v: Value) -> str:
        """The name a node goes by in this explanation: its label, else its op (mul#2), else its number."""
        return self._names.get(v) or node_name(v)

    def _d(self, top: Value, bottom: Value) -> str:
        return f"d {self._names[top]}/d {self._names[bottom]}"

    def __str__(self) -> str:
        return "\n".join(self._text_lines())

    def __repr__(self) -> str:
        return f"<Explanation {self._d(self.root, self.wrt)} = {_num(self.total)} over {_plural(self.count, 'path')}>"

    def _text_lines(self) -> Iterator[str]:
        d_total = self._d(self.root, self.wrt)
        paths = self.paths
        if self.count == 0:
            yield f"{d_total} = 0: no path leads from {self._names[self.root]} down to {self._names[self.wrt]}"
        elif paths is not None:
            yield f"{d_total} = {_num(self.total)}, the sum over {_plural(self.count, 'path')}:"
            for k, path in enumerate(paths, 1):
                yield ""
                chain = " ← ".join(self._names[v] for v in path.nodes)
                yield f"path {k} of {self.count}: {chain}"
                if not path.factors:
                    yield f"  {d_total} = 1 (the root itself)"
                    continue
                width = max(len(f.name) for f in path.factors)
                for f in path.factors:
                    yield "  " + f.line(width)
                shown = " · ".join(_wrap_factor(f.shown, i) for i, f in enumerate(path.factors))
                yield f"  product: {shown} = {_num(path.product)}"
            if self.count > 1:
                yield ""
                yield f"sum over {self.count} paths: {d_total} = {self._terms([p.product for p in paths])}"
        else:
            yield from self._grouped_lines(d_total)
        note = self._grad_note()
        if note:
            yield ""
            yield note

    def _grouped_lines(self, d_total: str) -> Iterator[str]:
        root, wrt = self._names[self.root], self._names[self.wrt]
        why = (
            f"too many to list (more than {self._max_paths})"
            if self.count > self._max_paths
            else f"too long to list (up to {self.longest:,} edges)"
        )
        yield f"{d_total} = {_num(self.total)}, the sum over {_plural(self.count, 'path')}, {why}."
        yield f"They are grouped by their last edge v → {wrt}: {d_total} = Σ d {root}/d v · d v/d {wrt},"
        yield f"where d {root}/d v is itself the sum over the paths from {root} down to v."
        yield ""
        shown, rest = self._shown_groups()
        if rest:
            yield f"The {len(shown)} largest of {len(self.groups):,} edges into {wrt}:"
        for g in shown:
            f = g.factor
            yield (
                f"  via {self._names[f.out]} ({_plural(g.count, 'path')}):"
                f" {self._d(self.root, f.out)} · {f.name} = {_wrap_factor(_num(g.upstream), 0)}"
                f" · {_wrap_factor(f.shown, 1)} = {_num(g.subtotal)}"
            )
        if rest:
            n = sum(g.count for g in rest)
            s = math.fsum(g.subtotal for g in rest)
            yield (
                f"  ... and {_plural(len(rest), 'more edge')} into {wrt}"
                f" ({_plural(n, 'path')}), together {_num(s)}"
            )
        if len(self.groups) > 1:
            yield ""
            yield f"sum over {len(self.groups):,} edges: {d_total} = {self._terms([g.subtotal for g in self.groups])}"

    def _shown_groups(self) -> tuple[list[Group], list[Group]]:
        """The groups to print: all of them, or the max_paths largest and the rest."""
        if len(self.groups) <= self._max_paths:
            return self.groups, []
        # Largest contributions first; nan sorts first so that a broken edge is never hidden.
        ranked = sorted(
            self.groups,
            key=lambda g: -math.inf if math.isnan(g.subtotal) else -abs(g.subtotal),
        )
        return ranked[: self._max_paths], ranked[self._max_paths :]

    def _terms(self, terms: Sequence[float]) -> str:
        """`3 + 3 - 1 = 5`, or just the total when there are too many terms to read."""
        if len(terms) > MAX_TERMS:
            return _num(self.total)
        return f"{_sum_terms(terms)} = {_num(self.total)}"

    def _grad_note(self) -> str:
        """A line when wrt.grad holds a different number, which must come from elsewhere."""
        g = self.wrt.grad
        g = g.data if isinstance(g, Value) else g
        if g == 0.0 or _close(g, self.total):
            return ""
        return (
            f"note: {self._names[self.wrt]}.grad is {_num(g)}, not {_num(self.total)}: it was set by a"
            " backward() from another root, or has accumulated over several passes."
        )

    def _repr_markdown_(self) -> str:
        """Jupyter's rendering: the paths as math, one aligned block of factors per path."""
        tex = self._tex_names()
        d_total = _tex_d(tex[self.root], tex[self.wrt])
        out: list[str] = []
        if self.count == 0:
            out.append(f"$${d_total} = 0$$ (no path leads from root to this input)")
        elif self.paths is not None:
            out.append(
                f"$${d_total} = {_num(self.total)}$$ the sum over {_plural(self.count, 'path')}:"
            )
            for k, path in enumerate(self.paths, 1):
                chain = " \\leftarrow ".join(tex[v] for v in path.nodes)
                out.append(f"**path {k} of {self.count}:** ${chain}$")
                if not path.factors:
                    continue
                rows = []
                for f in path.factors:
                    sym, num = _rule_strings(f, _LATEX, self._names)
                    parts = [p for p in dict.fromkeys((sym, num, _num(f.value))) if p]
                    note = f"\\quad ({_note(f, _LATEX, self._names)})" if f.note else ""
                    d = _tex_d(tex[f.out], tex[f.operand])
                    if _repeated_operand(f.out, f.operand):
                        d += f"\\,\\text{{(operand {f.index + 1})}}"
                    rows.append(f"{d} &= {' = '.join(parts)}{note}")
                product = " \\cdot ".join(
                    _wrap_tex_factor(_rule_strings(f, _LATEX, self._names)[1] or _num(f.value), i)
                    for i, f in enumerate(path.factors)
                )
                rows.append(f"\\text{{product}} &= {product} = {_num(path.product)}")
                out.append("$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$")
            if self.count > 1:
                out.append(f"$${d_total} = {self._terms([p.product for p in self.paths])}$$")
        else:
            out.append(
                f"$${d_total} = {_num(self.total)}$$ the sum over {_plural(self.count, 'path')},"
                " grouped by their last edge:"
            )
            out.append("| via | paths | upstream | local derivative | subtotal |")
            out.append("|---|---:|---:|---|---:|")
            shown, rest = self._shown_groups()
            for g in shown:
                f = g.factor
                out.append(
                    f"| ${tex[f.out]}$ | {count_text(g.count)} | {_num(g.upstream)} |"
                    f" ${_tex_d(tex[f.out], tex[f.operand])} = {_num(f.value)}$ | {_num(g.subtotal)} |"
                )
            if rest:
                n, subtotal = sum(g.count for g in rest), math.fsum(g.subtotal for g in rest)
                out.append(f"| {len(rest):,} more edges | {count_text(n)} | | | {_num(subtotal)} |")
        note = self._grad_note()
        if note:
            out.append(f"*{note}*")
        return "\n\n".join(out)

    def _tex_names(self) -> dict[Value, str]:
        return {v: _LATEX.name(n) for v, n in self._names.items()}


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
        for a in v._args:
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
        return Explanation(root, wrt, 0, -1, 0.0, [], [], names, max_paths, [])
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
        args = v._args
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
        root, wrt, count, longest[root], total, paths, groups, names, max_paths, on_paths
    )


def _local_derivatives(v: Value) -> Sequence[float]:
    """d v/d operand_i for every operand, from the rule table on plain numbers."""
    return v._rule.df(v.data, *map(data, v._args))  # type: ignore[union-attr]


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
    stack: list[Iterator[tuple[int, Any]]] = [iter(enumerate(root._args))]
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
            stack.append(iter(enumerate(a._args)))
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
        for a in v._args:
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


def _operand_name(a: Any, names: dict[Value, str]) -> str:
    if type(a) is float:
        return _num(a)
    return names.get(a) or node_name(a)


# ---- the rules as text: each op's local derivative written with its operands' names ----


@dataclass(frozen=True)
class _Style:
    """How a formula is written (plain text for str(), LaTeX for Jupyter): an `ops.Notation`.

    `values` and `constants` describe the operands of the factor being written.
    """

    latex: bool
    values: tuple[float, ...] = ()
    constants: tuple[bool, ...] = ()

    @property
    def le(self) -> str:
        return "\\le" if self.latex else "≤"

    def name(self, raw: str) -> str:
        """A node's name as it appears inside a formula."""
        return _tex_text(raw) if self.latex else raw

    def atom(self, s: str, base: bool = False) -> str:
        """`s` in parentheses when it would bind wrongly as a factor (or, with base, as a power's base)."""
        binds_loosely = s.startswith("-") or " + " in s or " - " in s
        if self.latex:
            if base and ("^" in s or "\\cdot" in s):
                binds_loosely = True
            return f"\\left({s}\\right)" if binds_loosely else s
        if any(c in s for c in " +-*/·") or (base and ("^" in s or "²" in s)):
            binds_loosely = True
        return f"({s})" if binds_loosely else s

    def mul(self, a: str, b: str) -> str:
        a = self.atom(a)
        return f"{a} \\cdot {self.atom(b)}" if self.latex else f"{a}·{self.atom(b)}"

    def div(self, a: str, b: str) -> str:
        return f"\\frac{{{a}}}{{{b}}}" if self.latex else f"{self.atom(a)}/{self.atom(b)}"

    def pow(self, a: str, e: str) -> str:
        if e == "1":
            return a
        a = self.atom(a, base=True)
        if self.latex:
            return f"{a}^{{{e}}}"
        return f"{a}²" if e == "2" else f"{a}^{self.atom(e)}"

    def ln(self, a: str) -> str:
        return f"\\ln {self.atom(a)}" if self.latex else f"ln({a})"

    def fn(self, name: str, a: str) -> str:
        if not self.latex:
            return f"|{a}|" if name == "abs" else f"{name}({a})"
        if name == "sqrt":
            return f"\\sqrt{{{a}}}"
        if name == "abs":
            return f"\\left|{a}\\right|"
        macro = f"\\{name}" if name in _LATEX_FUNCTIONS else f"\\operatorname{{{name}}}"
        return f"{macro}\\left({a}\\right)"

    def num(self, x: float) -> str:
        return _num(x)

    def value(self, k: int) -> float:
        return self.values[k]

    def constant(self, k: int) -> bool:
        return self.constants[k]


# Functions LaTeX has a macro for (\cos); any other name is set as \operatorname{name}.
_LATEX_FUNCTIONS = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "exp",
        "log",
        "ln",
        "sgn",
    ]
)
_TEXT = _Style(latex=False)
_LATEX = _Style(latex=True)


def _for_operands(style: _Style, args: Sequence[Any]) -> _Style:
    """`style`, told the numbers of `args` and which of them are constants."""
    return _Style(style.latex, tuple(map(data, args)), tuple(type(a) is float for a in args))


def _rule_strings(f: Factor, style: _Style, names: dict[Value, str]) -> tuple[str, str]:
    """(formula with names, formula with numbers) for factor `f`, or ("", "") without a formula."""
    v = f.out
    formula = v._rule.formula  # type: ignore[union-attr]  # the rule the node was built with
    if formula is None:
        return "", ""
    args = v._args
    s = _for_operands(style, args)
    sym_x = [_num(a) if type(a) is float else s.name(_operand_name(a, names)) for a in args]
    num_x = [_num(data(a)) for a in args]
    sym = formula(s, sym_x, s.name(_operand_name(v, names)), f.index)
    num = formula(s, num_x, _num(v.data), f.index)
    return sym, num


def _note(f: Factor, style: _Style, names: dict[Value, str]) -> str:
    """Why a piecewise rule took its branch (`z = 6 > 0`), or "" for a rule without a note."""
    v = f.out
    note = v._rule.note  # type: ignore[union-attr]
    if note is None:
        return ""
    args = v._args
    s = _for_operands(style, args)
    x = [_num(a) if type(a) is float else s.name(_operand_name(a, names)) for a in args]
    return note(s, x, s.name(_operand_name(v, names)), f.index)


def _factor(v: Value, i: int, value: float, names: dict[Value, str]) -> Factor:
    operand = v._args[i]
    name = f"d {names[v]}/d {names[operand]}"
    if _repeated_operand(v, operand):
        name += f" (operand {i + 1})"  # x * x: two edges, two factors, two paths
    f = Factor(v, operand, i, float(value), name, "", "")
    sym, num = _rule_strings(f, _TEXT, names)
    note = _note(f, _TEXT, names)
    if sym == num:
        sym = ""  # a rule with no operand in it (add, sum): the number says it all
    return Factor(v, operand, i, f.value, f.name, sym, num, note)


def _repeated_operand(v: Value, operand: Value) -> bool:
    return sum(a is operand for a in v._args) > 1


# ---- numbers and small text helpers ----


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# Counts with more digits than this are shown by their size alone: Python refuses to print an
# int of more than 4,300 digits, and a reader gets nothing from a hundred digits anyway.
MAX_COUNT_DIGITS = 100


def count_text(n: int) -> str:
    """A path count as a reader takes it in: `4,800`; `1,606,…,376 (about 1.6e+60)` from 13 digits on.

    From MAX_COUNT_DIGITS digits on only the size is shown: `2^15000 (about 2.8e+4515)` for a
    power of two (a graph of repeated x + x doubles its paths at every level), else `about 2.8e+4515`.
    """
    if n < 10**12:
        return f"{n:,}"
    # Exponent and first three digits from integer arithmetic, never from str(n).
    e = int((n.bit_length() - 1) * math.log10(2))
    while 10 ** (e + 1) <= n:
        e += 1
    while 10**e > n:
        e -= 1
    digits = e + 1
    lead = (n // 10 ** (e - 2) + 5) // 10  # the first two digits, rounded
    if lead == 100:
        lead, e = 10, e + 1
    size = f"about {lead // 10}.{lead % 10}e+{e}"
    if digits <= MAX_COUNT_DIGITS:
        return f"{n:,} ({size})"
    if n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1} ({size})"
    return size


def _plural(n: int, word: str) -> str:
    """`1 path`, `3 paths`, with the count written by `count_text`."""
    return f"{count_text(n)} {word}" if n == 1 else f"{count_text(n)} {word}s"


def _wrap_factor(s: str, position: int) -> str:
    """A factor inside a product: parenthesised when it is a difference or (after the first) negative."""
    if " " in s or (position > 0 and s.startswith("-")):
        return f"({s})"
    return s


def _wrap_tex_factor(s: str, position: int) -> str:
    if " - " in s or " + " in s or (position > 0 and s.startswith("-")):
        return f"\\left({s}\\right)"
    return s


def _sum_terms(terms: Sequence[float]) -> str:
    """3 + 3 - 1.5: the terms of a sum, each later negative one written as a subtraction."""
    out = _num(terms[0]) if terms else "0"
    for t in terms[1:]:
        out += f" - {_num(-t)}" if t < 0 else f" + {_num(t)}"
    return out


# Characters that would end the math ($), start a macro (\\), unbalance a group, comment out
# the rest of the line (%) or split an aligned row (&), inside \\text{...}.
_TEX_SAFE = str.maketrans(
    {"$": "S", "\\": "/", "{": "(", "}": ")", "#": "No.", "%": "pct", "&": "and"}
)


def _tex_text(name: str) -> str:
    """A node name as LaTeX: mul#2 becomes a subscript, and TeX's special characters are replaced."""
    stem, _, k = name.rpartition("#")
    if not (stem and k.isdigit()):
        stem, k = name, ""
    safe = stem.translate(_TEX_SAFE)
    return f"\\text{{{safe}}}" + (f"_{{{k}}}" if k else "")


def _tex_d(top: str, bottom: str) -> str:
    return f"\\frac{{\\partial {top}}}{{\\partial {bottom}}}"
