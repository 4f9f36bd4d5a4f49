"""Chain-rule explanations, the rendering: an `Explanation` as text (str) and as LaTeX (Jupyter).

The model (`autograd.explain`) holds the paths and factors and imports nothing from here; this
module writes them, and registers itself with the model on import (`explain.use_renderer`), which
is how `str()`, `repr()` and Jupyter's `_repr_markdown_` of an explanation reach it. Each
factor's formula comes from its op's entry in the rule table (`Op.formula`, `Op.note`), written
through `autograd.notation`, in plain text or in LaTeX.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from . import explain as model
from .names import count_text
from .names import number_text as _num
from .notation import LATEX, repeated_operand, rule_strings
from .ops import data

if TYPE_CHECKING:
    from .explain import Explanation, Factor, Group
    from .value import Value

MAX_TERMS = 10  # a sum with more terms than this is printed as its total only


# ---- one factor as a line of text ----


def factor_line(f: Factor, width: int = 0) -> str:
    """`d out/d operand = formula = numbers = value  (note)`, the name padded to `width`."""
    parts = [f.name.ljust(width)]
    for part in (f.formula, f.numbers, _num(f.value)):
        if part and part != parts[-1]:
            parts.append(part)
    line = " = ".join(parts)
    return f"{line}  ({f.note})" if f.note else line


# ---- a whole explanation as text ----


def text(e: Explanation) -> str:
    """What str() of an explanation prints: every path factor by factor, or the paths grouped."""
    return "\n".join(_text_lines(e))


def summary(e: Explanation) -> str:
    """What repr() shows: `<Explanation d y/d x = 12 over 2 paths>`."""
    return f"<Explanation {_d(e, e.root, e.wrt)} = {_num(e.total)} over {plural(e.count, 'path')}>"


def _d(e: Explanation, top: Value, bottom: Value) -> str:
    return f"d {e.names[top]}/d {e.names[bottom]}"


def _text_lines(e: Explanation) -> Iterator[str]:
    d_total = _d(e, e.root, e.wrt)
    paths = e.paths
    if e.count == 0:
        yield f"{d_total} = 0: no path leads from {e.names[e.root]} down to {e.names[e.wrt]}"
    elif paths is not None:
        yield f"{d_total} = {_num(e.total)}, the sum over {plural(e.count, 'path')}:"
        for k, path in enumerate(paths, 1):
            yield ""
            chain = " ← ".join(e.names[v] for v in path.nodes)
            yield f"path {k} of {e.count}: {chain}"
            if not path.factors:
                yield f"  {d_total} = 1 (the root itself)"
                continue
            width = max(len(f.name) for f in path.factors)
            for f in path.factors:
                yield "  " + factor_line(f, width)
            shown = " · ".join(wrap_factor(f.shown, i) for i, f in enumerate(path.factors))
            yield f"  product: {shown} = {_num(path.product)}"
        if e.count > 1:
            yield ""
            yield f"sum over {e.count} paths: {d_total} = {_terms(e, [p.product for p in paths])}"
    else:
        yield from _grouped_lines(e, d_total)
    note = _grad_note(e)
    if note:
        yield ""
        yield note


def _grouped_lines(e: Explanation, d_total: str) -> Iterator[str]:
    root, wrt = e.names[e.root], e.names[e.wrt]
    why = (
        f"too many to list (more than {e.max_paths})"
        if e.count > e.max_paths
        else f"too long to list (up to {e.longest:,} edges)"
    )
    yield f"{d_total} = {_num(e.total)}, the sum over {plural(e.count, 'path')}, {why}."
    yield f"They are grouped by their last edge v → {wrt}: {d_total} = Σ d {root}/d v · d v/d {wrt},"
    yield f"where d {root}/d v is itself the sum over the paths from {root} down to v."
    yield ""
    shown, rest = _shown_groups(e)
    if rest:
        yield f"The {len(shown)} largest of {len(e.groups):,} edges into {wrt}:"
    for g in shown:
        f = g.factor
        yield (
            f"  via {e.names[f.out]} ({plural(g.count, 'path')}):"
            f" {_d(e, e.root, f.out)} · {f.name} = {wrap_factor(_num(g.upstream), 0)}"
            f" · {wrap_factor(f.shown, 1)} = {_num(g.subtotal)}"
        )
    if rest:
        n = sum(g.count for g in rest)
        s = math.fsum(g.subtotal for g in rest)
        yield (
            f"  ... and {plural(len(rest), 'more edge')} into {wrt}"
            f" ({plural(n, 'path')}), together {_num(s)}"
        )
    if len(e.groups) > 1:
        yield ""
        yield f"sum over {len(e.groups):,} edges: {d_total} = {_terms(e, [g.subtotal for g in e.groups])}"


def _shown_groups(e: Explanation) -> tuple[Sequence[Group], Sequence[Group]]:
    """The groups to print: all of them, or the max_paths largest and the rest."""
    if len(e.groups) <= e.max_paths:
        return e.groups, []
    # Largest contributions first; nan sorts first so that a broken edge is never hidden.
    ranked = sorted(
        e.groups, key=lambda g: -math.inf if math.isnan(g.subtotal) else -abs(g.subtotal)
    )
    return ranked[: e.max_paths], ranked[e.max_paths :]


def _terms(e: Explanation, terms: Sequence[float]) -> str:
    """`3 + 3 - 1 = 5`, or just the total when there are too many terms to read."""
    if len(terms) > MAX_TERMS:
        return _num(e.total)
    return f"{sum_terms(terms)} = {_num(e.total)}"


def _grad_note(e: Explanation) -> str:
    """A line when wrt.grad holds a different number, which must come from elsewhere."""
    g = data(e.wrt.grad)
    if g == 0.0 or _close(g, e.total):
        return ""
    return (
        f"note: {e.names[e.wrt]}.grad is {_num(g)}, not {_num(e.total)}: it was set by a"
        " backward() from another root, or has accumulated over several passes."
    )


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# ---- a whole explanation as LaTeX, for Jupyter ----


def markdown(e: Explanation) -> str:
    """Jupyter's rendering: the paths as math, one aligned block of factors per path."""
    tex = {v: LATEX.name(n) for v, n in e.names.items()}
    d_total = _tex_d(tex[e.root], tex[e.wrt])
    out: list[str] = []
    if e.count == 0:
        out.append(f"$${d_total} = 0$$ (no path leads from root to this input)")
    elif e.paths is not None:
        out.append(f"$${d_total} = {_num(e.total)}$$ the sum over {plural(e.count, 'path')}:")
        for k, path in enumerate(e.paths, 1):
            chain = " \\leftarrow ".join(tex[v] for v in path.nodes)
            out.append(f"**path {k} of {e.count}:** ${chain}$")
            if not path.factors:
                continue
            rows = []
            products: list[str] = []
            for f in path.factors:
                sym, num, note = rule_strings(f.out, f.index, e.names, LATEX)
                parts = [p for p in dict.fromkeys((sym, num, _num(f.value))) if p]
                d = _tex_d(tex[f.out], tex[f.operand])
                if repeated_operand(f.out, f.operand):
                    d += f"\\,\\text{{(operand {f.index + 1})}}"
                rows.append(f"{d} &= {' = '.join(parts)}" + (f"\\quad ({note})" if note else ""))
                products.append(_wrap_tex_factor(num or _num(f.value), len(products)))
            product = " \\cdot ".join(products)
            rows.append(f"\\text{{product}} &= {product} = {_num(path.product)}")
            out.append("$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$")
        if e.count > 1:
            out.append(f"$${d_total} = {_terms(e, [p.product for p in e.paths])}$$")
    else:
        out.append(
            f"$${d_total} = {_num(e.total)}$$ the sum over {plural(e.count, 'path')},"
            " grouped by their last edge:"
        )
        out.append("| via | paths | upstream | local derivative | subtotal |")
        out.append("|---|---:|---:|---|---:|")
        shown, rest = _shown_groups(e)
        for g in shown:
            f = g.factor
            out.append(
                f"| ${tex[f.out]}$ | {count_text(g.count)} | {_num(g.upstream)} |"
                f" ${_tex_d(tex[f.out], tex[f.operand])} = {_num(f.value)}$ | {_num(g.subtotal)} |"
            )
        if rest:
            n, subtotal = sum(g.count for g in rest), math.fsum(g.subtotal for g in rest)
            out.append(f"| {len(rest):,} more edges | {count_text(n)} | | | {_num(subtotal)} |")
    note = _grad_note(e)
    if note:
        out.append(f"*{note}*")
    return "\n\n".join(out)


# ---- small text helpers, shared with backward_check ----


def plural(n: int, word: str) -> str:
    """`1 path`, `3 paths`, with the count written by `count_text`."""
    return f"{count_text(n)} {word}" if n == 1 else f"{count_text(n)} {word}s"


def wrap_factor(s: str, position: int) -> str:
    """A factor inside a product: parenthesised when it is a difference or (after the first) negative."""
    if " " in s or (position > 0 and s.startswith("-")):
        return f"({s})"
    return s


def _wrap_tex_factor(s: str, position: int) -> str:
    if " - " in s or " + " in s or (position > 0 and s.startswith("-")):
        return f"\\left({s}\\right)"
    return s


def sum_terms(terms: Sequence[float]) -> str:
    """3 + 3 - 1.5: the terms of a sum, each later negative one written as a subtraction."""
    out = _num(terms[0]) if terms else "0"
    for t in terms[1:]:
        out += f" - {_num(-t)}" if t < 0 else f" + {_num(t)}"
    return out


def _tex_d(top: str, bottom: str) -> str:
    return f"\\frac{{\\partial {top}}}{{\\partial {bottom}}}"


model.use_renderer(model.Renderer(factor_line, text, summary, markdown))
