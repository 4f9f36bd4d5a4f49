"""Graphviz drawings of `autograd` computation graphs, with data, gradients and the chain rule.

`to_dot` is pure (graph -> DOT text, no Graphviz needed); `draw_graph` wraps it in a
`graphviz.Digraph`, which Jupyter shows inline as SVG; `render` writes svg, png and pdf files;
`step_through` makes a page that steps through backward one node at a time; `draw_replay`
draws what a replay (autograd.replay) runs, one box per group of sibling nodes.
"""

from .dot import DEFAULT_MAX_NODES, GraphTooLarge, to_dot
from .render import FORMATS, draw_graph, render
from .replay import draw_replay
from .step import StepThrough, step_through

draw_dot = draw_graph  # micrograd's name for the same drawing

__all__ = [
    "DEFAULT_MAX_NODES",
    "FORMATS",
    "GraphTooLarge",
    "StepThrough",
    "draw_dot",
    "draw_graph",
    "draw_replay",
    "render",
    "step_through",
    "to_dot",
]
