"""The legend: how to read the drawing, the gradient colours, and the highlighted chain rule.

`legend` writes one DOT node, a table of rows that explain only what this drawing shows: the
arrow labels it has, the boxes it folded, the neighbourhood it cut out, and for `highlight=`
the seed's chain rule written out path by path, from `autograd.explain`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd import explain
from autograd.names import count_text, node_name
from autograd.ops import data
from autograd.reals import shown

from .options import DrawOptions
from .scene import Scene
from .style import HIGHLIGHT, MUTED, NEGATIVE, NOT_A_NUMBER, POSITIVE, ZERO, GradScale, html_text
from .walk import Graph

# Up to this many root-to-highlight paths are written out factor by factor in the legend;
# more are summed up in one line (the count and the total).
MAX_LISTED_PATHS = 4


def legend(
    scene: Scene, options: DrawOptions, scale: GradScale | None = None, extra: Sequence[str] = ()
) -> str:
    """The legend node's DOT statement; `scale` colours the grads (None: boxes are filled by
    something else, `extra` says what), `extra` adds rows of text."""
    swatches = scale is not None
    scale = scale or scene.scale
    g = scene.graph
    root = html_text(_root_name(g))
    rows = [
        "<B>How to read this drawing</B>",
        f"box: a Value with its label, data and grad = &#8706;{root}/&#8706;value",
        "ellipse: the op that made the value; arrows run forward, from operands to op",
    ]
    if any(scene.shown[i] and scene.group_of[i] < 0 for i in g.constants):
        rows.append(
            "small grey box: a constant, the 2 in x * 2: a number inside its op, which backward "
            "does not differentiate"
        )
    if options.edge_labels:
        rows.append(
            "&#215;k on an arrow: the local derivative &#8706;out/&#8706;in; "
            "backward multiplies the gradient by k there"
        )
    if options.flow:
        rows.append("(g) on an arrow: the gradient passed back along it, out.grad &#215; k")
    if scene.groups:
        collapse = options.collapse
        level = collapse if isinstance(collapse, str) else f"depth {shown(collapse)}"
        rows.append(
            f"3-D box: the nodes of one autograd.scope, folded at the {html_text(str(level))} "
            f"level, with counts; bold arrows carry the edges between boxes"
        )
    if scene.focus is not None:
        rows.append(
            f"showing the {sum(scene.shown):,} of {len(g):,} nodes within {shown(options.depth)} "
            f"step{'' if options.depth == 1 else 's'} of "
            f"{html_text(node_name(g.nodes[scene.focus]))} (double border), at most "
            f"{shown(options.fan)} operands and {shown(options.fan)} users of each; "
            f"&#8230; marks neighbours left out"
        )
    # After an anomaly, backward did run (or the forward pass never made a root): no such advice.
    if options.show_grad and scale.top == 0.0 and options.anomaly is None:
        rows.append("every grad here is 0: call backward() on the root first")
    rows.extend(html_text(r) for r in extra)
    text = _rows(rows)
    if swatches and options.fill_by_grad and scale.top > 0.0:
        text += _swatches(scene, options, scale)
    if scene.highlight is not None:
        text += _chains(scene, options, scene.highlight)
    return (
        f'\tlegend [shape=plain label=<<TABLE BORDER="1" COLOR="{MUTED}" CELLBORDER="0" '
        f'CELLSPACING="0" CELLPADDING="3">{text}</TABLE>>]\n'
    )


def _swatches(scene: Scene, options: DrawOptions, scale: GradScale) -> str:
    """The colour scale: four bands of negative grads, zero, four of positive, and nan if any."""
    number = options.number
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
    g = scene.graph
    if any(math.isnan(data(g.nodes[i].grad)) for i in range(len(g)) if scene.shown[i]):
        extra = (
            f'<TR><TD BGCOLOR="{NOT_A_NUMBER}" BORDER="1" COLOR="#bdbdbd">nan</TD>'
            '<TD ALIGN="LEFT" COLSPAN="8">grad is not a number</TD></TR>'
        )
    return caption + f"<TR>{row}</TR>" + extra


def _chains(scene: Scene, options: DrawOptions, highlight: int) -> str:
    """The seed's chain rule for the highlighted node, from `autograd.explain`: every path
    from each root, as the product of the local derivatives on its edges."""
    g, number = scene.graph, options.number
    t = g.nodes[highlight]
    rows = [
        f'<FONT COLOR="{HIGHLIGHT}"><B>purple: every path from {html_text(_root_name(g))} '
        f"to {html_text(node_name(t))}</B></FONT>"
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
    if options.show_grad:
        rows.append(f"grad shown on {html_text(node_name(t))}: {html_text(number(data(t.grad)))}")
    return _rows(rows)


def _rows(rows: list[str]) -> str:
    return "".join(f'<TR><TD ALIGN="LEFT" COLSPAN="9">{r}</TD></TR>' for r in rows)


def _factor_text(shown: str) -> str:
    """One factor of a product; a sum such as tanh's "1 - 0.99²" goes in parentheses."""
    return html_text(f"({shown})" if " " in shown else shown)


def _root_name(g: Graph) -> str:
    """The root as the legend's ∂root/∂value calls it: its label, "root", or "roots"."""
    if len(g.roots) > 1:
        return "roots"
    return g.roots[0].label or "root"
