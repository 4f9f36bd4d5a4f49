"""Checks drawn on the graph: a gradient check's verdicts (`check=True`) and an anomaly's path.

`check=True` runs `autograd.graphcheck.check_graph` on the drawn graph and fills every box by
how far backward's gradient is from a central difference; the op whose rule disagrees with its
own central difference first, in backward's order, gets a red ellipse and a red arrow that
says both numbers. `anomaly=err` (an `AnomalyError` from `detect_anomaly()`) draws where the
first inf or nan was made, and the path to it from the root, in orange.
"""

from __future__ import annotations

import math
import textwrap

from autograd import AnomalyError
from autograd.anomaly import call_text
from autograd.graphcheck import GraphCheck, NodeCheck, check_graph
from autograd.names import node_name, number_text

from .marks import NO_MARKS, Marks
from .options import DrawOptions
from .scene import Scene
from .style import html_text

# Check verdicts, light enough for black text (after ColorBrewer's Greens, YlOrRd).
AGREES = "#c7e9c0"
AT_KINK = "#ffffb2"
OFF = "#fdae6b"  # up to FAR times the tolerance off
FAR_OFF = "#fb6a4a"
FAR = 10.0
WRONG_RULE = "#cb181d"
ANOMALY = "#e6550d"
ANOMALY_FILL = "#fdd0a2"


def overlay(scene: Scene, options: DrawOptions) -> Marks:
    """The marks that `check=` and `anomaly=` ask for (none when neither is given)."""
    if not options.check and options.anomaly is None:
        return NO_MARKS
    marks = Marks()
    if options.check:
        marks = check_marks(scene, graph_check(scene))
    if options.anomaly is not None:
        marks = merge(marks, anomaly_marks(scene, options.anomaly))
    return marks


def graph_check(scene: Scene) -> GraphCheck:
    """The gradient check of the drawn graph, which must have one root."""
    roots = scene.graph.roots
    if len(roots) != 1:
        raise ValueError(f"check=True checks the gradients of one root, got {len(roots)} roots")
    return check_graph(roots[0])


def verdict_colour(c: NodeCheck) -> str:
    """A box's fill for its check: green agrees, yellow at a kink, orange or red when off."""
    if c.status == "ok":
        return AGREES
    if c.status == "kink":
        return AT_KINK
    return OFF if c.ratio <= FAR else FAR_OFF


def check_marks(scene: Scene, check: GraphCheck) -> Marks:
    """Boxes filled by their verdicts; the first wrong rule in red with both of its numbers."""
    g = scene.graph
    fill: dict[int, str] = {}
    rows: dict[int, list[str]] = {}
    for v, c in check.nodes.items():
        i = g.index.get(v)
        if i is None:
            continue
        fill[i] = verdict_colour(c)
        if c.status != "ok":
            rows[i] = [f"numeric {number_text(c.numeric)}"]
    off = sum(1 for c in check.nodes.values() if c.status == "MISMATCH")
    legend = [
        f"check: fill = how far backward's grad is from a central difference (eps {check.eps:g}): "
        f"green agrees, yellow at a kink (inconclusive), orange off by up to {FAR:g}x the "
        f"tolerance, red more; {off} of {len(check.nodes)} nodes are off",
    ]
    border: dict[int, str] = {}
    op_border: dict[int, str] = {}
    op_fill: dict[int, str] = {}
    edge: dict[tuple[int, int], str] = {}
    note: dict[tuple[int, int], str] = {}
    for k, e in enumerate(check.wrong_rules):
        i = g.index.get(e.node)
        if i is None:
            continue
        border[i] = WRONG_RULE
        op_border[i] = WRONG_RULE
        op_fill[i] = FAR_OFF
        edge[i, e.slot] = WRONG_RULE
        note[i, e.slot] = f"(rule; numeric ×{number_text(e.numeric)})"
        if k == 0:
            legend.append(
                f"red ellipse: the first wrong rule backward meets. {node_name(e.node)} "
                f"({e.node.op}): d/d operand {e.slot} is {number_text(e.rule)} by its rule, "
                f"{number_text(e.numeric)} by a central difference of {e.node.op} itself"
            )
    if not check.wrong_rules:
        legend.append("every op's rule agrees with a central difference of the op itself")
    return Marks(
        fill=fill, rows=rows, border=border, op_border=op_border, op_fill=op_fill, edge=edge,
        edge_note=note, legend=wrapped(legend),
    )  # fmt: skip


def anomaly_marks(scene: Scene, err: AnomalyError) -> Marks:
    """The op that made the first inf or nan, and the path to it, in orange."""
    g = scene.graph
    first = str(err).split(". ")[0]
    legend = [f"orange: where the first non-finite number was made. {first}"]
    if err.phase == "backward" and err.node is not None:
        i = g.index.get(err.node)
        if i is None:
            raise ValueError(
                "anomaly=: the node that made the error is not in the graph drawn; draw from "
                "the root that backward() started at"
            )
        path = [g.index[v] for v in err.path if v in g.index]
        border = dict.fromkeys(path, ANOMALY)
        edge: dict[tuple[int, int], str] = {}
        for user, operand in zip(path, path[1:]):
            for slot, p in enumerate(g.parents[user]):
                if p == operand:
                    edge[user, slot] = ANOMALY
        assert err.slot is not None
        note = {(i, err.slot): f"passes {_number(err.value)}"}
        # Every node on the path passes the gradient on through its op, but the last, the
        # operand that received the first non-finite gradient.
        ops = dict.fromkeys(path[:-1], ANOMALY)
        return Marks(
            border=border,
            op_border=ops,
            op_fill={i: ANOMALY_FILL},
            edge=edge,
            edge_note=note,
            legend=wrapped(legend),
        )
    inputs = [g.index[v] for v in err.inputs if v in g.index]
    if not inputs:
        raise ValueError(
            "anomaly=: none of the failing op's operands is in the graph drawn; draw "
            "err.inputs, the graph that leads into it"
        )
    # The op never made a node: it is drawn as a stand-in, fed by its operands.
    call = html_text(call_text(err.op, err.operands))
    extra = [
        f'\tanomaly_op [shape=ellipse style=filled fillcolor="{ANOMALY_FILL}" color="{ANOMALY}" '
        f"penwidth=2 height=0.3 label=<{html_text(err.op)}>]\n",
        f'\tanomaly_out [shape=box style="rounded,filled" fillcolor="{ANOMALY_FILL}" '
        f'color="{ANOMALY}" penwidth=3 label=<{call}<BR/>= {html_text(_number(err.value))}>]\n',
        f'\tanomaly_op -> anomaly_out [color="{ANOMALY}" penwidth=2.5]\n',
    ]
    for i in dict.fromkeys(inputs):
        unit = f"v{i}" if scene.group_of[i] < 0 else f"g{scene.group_of[i]}"
        extra.append(f'\t{unit} -> anomaly_op [color="{ANOMALY}" penwidth=2.5]\n')
    return Marks(border=dict.fromkeys(inputs, ANOMALY), legend=wrapped(legend), extra=extra)


def wrapped(rows: list[str], width: int = 100) -> list[str]:
    """Legend rows cut into lines of at most `width` characters, so they do not widen the drawing."""
    return [line for row in rows for line in textwrap.wrap(row, width)]


def merge(a: Marks, b: Marks) -> Marks:
    """Both sets of marks; where they overlap, b's (the anomaly's) win."""
    return Marks(
        ids=a.ids or b.ids,
        grads=b.grads if b.grads is not None else a.grads,
        scale=b.scale or a.scale,
        fill={**a.fill, **b.fill},
        border={**a.border, **b.border},
        op_border={**a.op_border, **b.op_border},
        op_fill={**a.op_fill, **b.op_fill},
        rows={**a.rows, **b.rows},
        edge={**a.edge, **b.edge},
        edge_note={**a.edge_note, **b.edge_note},
        legend=[*a.legend, *b.legend],
        extra=[*a.extra, *b.extra],
    )


def _number(x: float) -> str:
    return repr(x) if not math.isfinite(x) else number_text(x)
