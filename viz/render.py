"""`draw_graph` (a `graphviz.Digraph`, shown inline by Jupyter) and `render` (image files)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import graphviz

from autograd import Value
from autograd.reals import real, shown

from .dot import GRAPH_NAME, dot_lines
from .options import DrawOptions
from .scene import GraphTooLarge

FORMATS = ("svg", "png", "pdf")
# A PNG is drawn at the dpi asked for, and never scaled down so far that its text cannot be read:
# at 96 dpi the boxes' 11-point text is 15 px tall. Cairo needs about 4 bytes per pixel: a
# 4,155 x 9,784 drawing (40 Mpx) took 3.2 s and 178 MB here. A drawing too big for
# PNG_MAX_PIXELS even at READABLE_DPI is refused with the sizes, pointing to SVG and PDF,
# which keep every label sharp at any size.
PNG_MAX_PIXELS = 50_000_000
PNG_MAX_SIDE = 16_384
READABLE_DPI = 96
# dot crashes (SIGSEGV) or draws nonsense for dpi <= 0. 600 dpi is print quality, and 40 inches
# at 600 dpi is 24,000 px, inside cairo's 32,767-px limit, past which dot rescales on its own.
MAX_DPI = 600


def draw_graph(
    root: Value | Iterable[Value], *, format: str = "svg", **options: Any
) -> graphviz.Digraph:
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
                          focus= is given: dot lays out 1,000 Values in a few seconds and
                          tens of seconds for a few thousand. A folded drawing is also refused
                          when its boxes need more than max_nodes arrows between them.
      collapse=None       fold the nodes of each autograd.scope into one summary box, at the
                          level "neuron" (each node's innermost scope), "layer" (the innermost
                          scope with an owner, i.e. the nn module; else the outermost scope)
                          or an int k (the scope k deep). Leaves join the box that uses them.
      focus=None, depth=2 draw only the nodes within `depth` steps of the Value `focus`.
      fan=24              with focus=, follow at most this many operands and this many users
                          of each node; "… 276 more users" counts the rest.
      check=False         run a gradient check through the graph (autograd.graphcheck): fill
                          each box by how far backward's grad is from a central difference,
                          and draw the first wrong rule backward meets in red.
      anomaly=None        the AnomalyError that detect_anomaly() raised: draw where the first
                          inf or nan was made, and its path from the root, in orange. For a
                          forward error draw err.inputs, the graph that led into the op.

    `format` is the Digraph's own output format, the one its `.render(path)` writes (any of
    Graphviz's, e.g. "png"); Jupyter shows the drawing as SVG whatever it is. With `rankdir`,
    this gives micrograd's call `draw_dot(root, format="svg", rankdir="LR")` its meaning.

    The options are checked before the graph is walked (`viz.options.DrawOptions`): a bad one
    raises a TypeError or ValueError that names draw_graph() and the option.
    """
    if not isinstance(format, str) or format not in graphviz.FORMATS:
        shown = ", ".join(f for f in FORMATS) + ", jpg, gif, ..."
        raise ValueError(
            f"draw_graph(): format must be one of Graphviz's output formats ({shown}), "
            f"got {format!r}"
        )
    return _digraph(root, DrawOptions.parse("draw_graph", options), format)


def render(
    graph: Value | Iterable[Value] | graphviz.Digraph,
    path: str | Path,
    formats: Sequence[str] = ("svg", "png"),
    dpi: int = 144,
    **options: Any,
) -> list[Path]:
    """Write the drawing to `path` + ".svg", ".png" and/or ".pdf"; return the files written.

    `graph` is a root Value (drawn with `draw_graph(graph, **options)`) or a ready Digraph.
    `dpi` (1 to 600) sets the resolution of the PNG only. A PNG is never scaled below
    READABLE_DPI to fit: a drawing too big for a PNG with readable text is refused, before any
    file is written, with its size and the advice to write SVG or PDF.
    """
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"render() needs a path (str, bytes or os.PathLike), got {type(path).__name__}"
        ) from None
    if not text or "\x00" in text:  # no file has either name; the OS would say it its own way
        raise ValueError(f"render() needs a file name, got {path!r:.60}")
    base = Path(text)
    resolution = real(dpi, "render() dpi")
    if not 1 <= resolution <= MAX_DPI:  # also False for nan
        raise ValueError(f"render() needs a dpi from 1 to {MAX_DPI}, got {shown(dpi)}")
    if "format" in options:
        raise TypeError(
            f"render() takes formats= (some of {', '.join(FORMATS)}), e.g. "
            f"formats=({options['format']!r},), not format="
        )
    if isinstance(formats, str):
        formats = (formats,)
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"render() writes {', '.join(FORMATS)}; got format {f!r}")
    if isinstance(graph, graphviz.Digraph):
        if options:
            raise TypeError(
                f"render(): drawing options {sorted(options)} need a Value, not a Digraph"
            )
        g = graph
    else:
        g = _digraph(graph, DrawOptions.parse("render", options))
    if base.suffix.lstrip(".") in FORMATS:
        base = base.with_suffix("")
    # The SVG is laid out first: it says how big the drawing is, before any file is written.
    svg = g.pipe(format="svg") if "svg" in formats or "png" in formats else b""
    png_dpi = png_resolution(svg, resolution) if "png" in formats else resolution
    written = []
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        for f in formats:
            out = base.parent / f"{base.name}.{f}"
            if f == "svg":
                out.write_bytes(svg)
            else:
                source = g.copy()
                if f == "png":
                    # A root-graph attribute set last applies to the whole drawing.
                    source.body.append(f"\tgraph [dpi={png_dpi:g}]\n")
                out.write_bytes(source.pipe(format=f))
            written.append(out)
    except OSError as e:  # a name too long, a folder where a file should be, no permission
        if e.errno is None:
            raise OSError(f"render() could not write {text!r}: {e}") from e
        raise type(e)(
            e.errno, f"render() could not write the drawing: {e.strerror}", e.filename
        ) from e
    return written


def png_resolution(svg: bytes, dpi: float) -> float:
    """The dpi to draw a PNG at: `dpi`, or less for a huge drawing, never below READABLE_DPI.

    Raises GraphTooLarge, naming the drawing's size, when even READABLE_DPI is too many pixels.
    """
    m = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if m is None:
        return dpi
    width, height = float(m[1]) / 72, float(m[2]) / 72  # inches
    fits = min(
        dpi,
        math.sqrt(PNG_MAX_PIXELS / (width * height)) if width * height else dpi,
        PNG_MAX_SIDE / max(width, height, 1e-9),
    )
    if fits >= min(dpi, READABLE_DPI):
        return fits
    at = READABLE_DPI
    raise GraphTooLarge(
        f"render(): the drawing is {width:,.0f} x {height:,.0f} inches; as a PNG with readable "
        f"text ({at} dpi) it would be {width * at:,.0f} x {height * at:,.0f} px, more than "
        f"PNG_MAX_PIXELS={PNG_MAX_PIXELS:,} or {PNG_MAX_SIDE:,} px a side. Write SVG or PDF "
        f"instead (formats=('svg',) or ('pdf',)), which keep every label sharp at any size, or "
        f"draw less: focus=<a Value> with a smaller depth, or collapse='layer'"
    )


def _digraph(
    root: Value | Iterable[Value], options: DrawOptions, format: str = "svg"
) -> graphviz.Digraph:
    return graphviz.Digraph(GRAPH_NAME, body=dot_lines(root, options), format=format)
