"""What a drawing adds on top of its scene: colours from a check or an anomaly, ids for a page.

A `Scene` says what is drawn as what; `Marks` say how some of it is coloured or annotated this
time. The DOT writer takes both, so one scene can be written several ways: plain, with a
gradient check's verdicts, with the path of a nan, or with ids that a step-through page uses
to grey and mark nodes as backward reaches them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .style import GradScale


@dataclass(frozen=True)
class Marks:
    """Per-node and per-arrow additions to a drawing; nodes are numbered as in `Scene.graph`."""

    ids: bool = False  # give every node and arrow an SVG id (v3, v3_op, v3_in0, ...)
    grads: Sequence[float] | None = None  # the gradients to show, instead of each node's .grad
    scale: GradScale | None = None  # the colour scale for those gradients
    fill: Mapping[int, str] = field(default_factory=dict)  # a box's fill, over the grad colour
    border: Mapping[int, str] = field(default_factory=dict)  # a thick border on the box
    op_border: Mapping[int, str] = field(default_factory=dict)  # on its op and the op's arrow
    op_fill: Mapping[int, str] = field(default_factory=dict)  # the op ellipse's fill
    rows: Mapping[int, Sequence[str]] = field(default_factory=dict)  # text lines under the grad
    edge: Mapping[tuple[int, int], str] = field(default_factory=dict)  # (node, slot) -> colour
    edge_note: Mapping[tuple[int, int], str] = field(default_factory=dict)  # more arrow text
    legend: Sequence[str] = ()  # rows added to the legend, plain text
    extra: Sequence[str] = ()  # whole DOT statements added to the drawing


NO_MARKS = Marks()
