"""`draw_graph` (a `graphviz.Digraph`, shown inline by Jupyter) and `render` (image files)."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import graphviz

from autograd import Value

from .dot import GRAPH_NAME, dot_lines
from .options import DrawOptions

FORMATS = ("svg", "png", "pdf")
PNG_MAX_INCHES = 40
# dot crashes (SIGSEGV) or draws nonsense for dpi <= 0. 600 dpi is print quality, and 40 inches
# at 600 dpi is 24,000 px, inside cairo's 32,767-px limit, past which dot rescales on its own.
MAX_DPI = 600


def draw_graph(root: Value | Iterable[Value], **options: Any) -> graphviz.Digraph:
    """The computation graph that ends at `root`, as a `graphviz.Digraph`.

    Each Value is a box with its label, data and grad (= d root / d value after
    `root.backward()`); the op that made it is an ellipse, with arrows from its operands in
    operand order, each labelled with the local derivative d out / d in. Box fills are red for
    a positive grad and blue for a negative one, darker for a larger |grad|; a legend says so.

    Options (all keyword-only):
      rankdir="LR"        direction of the arrows: "LR", "RL", "TB" or "BT".
      show_data=True,
      show_grad=True      which numbers the boxes show.
      fmt="{:.4g}"        a format string or a callable float -> str for every number.
      edge_labels=True    label each arrow with its local derivative as "x k".
      flow=False          also label each arrow with the gradient it passes back, out.grad * k.
      highlight=None      a Value: every path from the root to it is drawn in purple, each
                          arrow on it labelled with its factor, and the legend writes out the
                          chain rule, path by path.
      color_by_grad=True,
      legend=True         the gradient colours and the legend that explains them.
      clusters=True       draw each autograd.scope (a layer, a neuron) as a dashed frame.
      max_nodes=1000      above this many Values, refuse (GraphTooLarge) unless collapse= or
                          focus= is given: dot lays out 1,000 Values in a second or two and
                          tens of seconds for a few thousand. A folded drawing is also refused
                          when its boxes need more than max_nodes arrows between them.
      collapse=None       fold the nodes of each autograd.scope into one summary box, at the
                          level "neuron" (each node's innermost scope), "layer" (the innermost
                          scope with an owner, i.e. the nn module; else the outermost scope)
                          or an int k (the scope k deep). Leaves join the box that uses them.
      focus=None, depth=2 draw only the nodes within `depth` steps of the Value `focus`.

    The options are checked before the graph is walked (`viz.options.DrawOptions`): a bad one
    raises a TypeError or ValueError that names draw_graph() and the option.
    """
    return _digraph(root, DrawOptions.parse("draw_graph", options))


def render(
    graph: Value | Iterable[Value] | graphviz.Digraph,
    path: str | Path,
    formats: Sequence[str] = ("svg", "png"),
    dpi: int = 144,
    **options: Any,
) -> list[Path]:
    """Write the drawing to `path` + ".svg", ".png" and/or ".pdf"; return the files written.

    `graph` is a root Value (drawn with `draw_graph(graph, **options)`) or a ready Digraph.
    `dpi` (1 to 600) sets the resolution of the PNG only.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real):
        raise TypeError(f"render() needs a number as dpi, got {type(dpi).__name__}")
    if not 1 <= dpi <= MAX_DPI:  # also False for nan
        raise ValueError(f"render() needs a dpi from 1 to {MAX_DPI}, got {dpi!r}")
    if isinstance(formats, str):
        formats = (formats,)
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"render() writes {', '.join(FORMATS)}; got format {f!r}")
    if isinstance(graph, graphviz.Digraph):
        if options:
            raise TypeError(f"drawing options {sorted(options)} need a Value, not a Digraph")
        g = graph
    else:
        g = _digraph(graph, DrawOptions.parse("render", options))
    base = Path(path)
    if base.suffix.lstrip(".") in FORMATS:
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for f in formats:
        source = g.copy()
        if f == "png":
            # A root-graph attribute set last applies to the whole drawing. The size cap (in
            # inches) scales a huge drawing down: cairo's time and memory grow with its pixels.
            source.body.append(
                f'\tgraph [dpi={float(dpi):g} size="{PNG_MAX_INCHES},{PNG_MAX_INCHES}"]\n'
            )
        out = base.parent / f"{base.name}.{f}"
        out.write_bytes(source.pipe(format=f))
        written.append(out)
    return written


def _digraph(root: Value | Iterable[Value], options: DrawOptions) -> graphviz.Digraph:
    return graphviz.Digraph(GRAPH_NAME, body=dot_lines(root, options), format="svg")
