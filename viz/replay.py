"""A drawing of what a replay runs: one box per group of sibling nodes, each one numpy operation.

`draw_replay(r)` draws an `autograd.replay.Replay`: the inputs, parameters and constants it reads,
and every group of siblings as a box that says which module made them (the scope with an owner),
how many nodes of which op it holds, how it runs, and the shape of its array. Arrows run from
the blocks a group reads to the group.
"""

from __future__ import annotations

from html import escape

import graphviz

from autograd import Value
from autograd.context import Scope
from autograd.replay import CONSTANTS, INPUTS, PARAMS, Group, Replay

# How each kind of group runs, in a few words.
HOW = {
    "matmul": "one matrix product x @ W + b",
    "stacked": "one array op over (group, operands)",
    "elementwise": "entry by entry, the op's array form",
    "per-element": "element by element, its scalar rule (slow)",
    "derived": "computed per sample, no gradient",
}


def _module(group: Group) -> str:
    """The name of the module that made the group's first node: its innermost scope with an owner."""
    scope: Scope | None = group.members[0].scope
    while scope is not None and scope.owner is None:
        scope = scope.parent
    return scope.name if scope is not None else ""


def _kinds(leaves: list[Value]) -> str:
    """Leaves counted by the stem of their labels: "x[0], x[1], y[0]" -> "2 x, 1 y"."""
    counts: dict[str, int] = {}
    for v in leaves:
        stem = v.label.split("[")[0] or "unlabelled"
        counts[stem] = counts.get(stem, 0) + 1
    return ", ".join(f"{n} {stem}" for stem, n in counts.items())


def _box(title: str, *lines: str, fill: str = "white") -> dict[str, str]:
    rows = "".join(f"<TR><TD>{escape(line)}</TD></TR>" for line in lines)
    label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1"><TR><TD><B>{escape(title)}</B></TD></TR>{rows}</TABLE>>'
    return {"label": label, "shape": "box", "style": "rounded,filled", "fillcolor": fill}


def draw_replay(r: Replay, batch: int | None = None, rankdir: str = "TB") -> graphviz.Digraph:
    """The groups of replay `r`, one box each, with the shapes of their arrays for `batch` samples.

    `batch` defaults to the last forward's size (or "batch" before any forward).
    """
    if not isinstance(r, Replay):
        raise TypeError(f"draw_replay() needs an autograd.replay.Replay, got {type(r).__name__}")
    n = str(batch if batch is not None else r.batch or "batch")
    g = graphviz.Digraph("replay", graph_attr={"rankdir": rankdir, "nodesep": "0.25"})
    g.attr("node", fontname="Helvetica", fontsize="11")
    g.attr("edge", color="#555555")
    leaves = {
        INPUTS: _box(
            "inputs", f"per sample: {_kinds(r.inputs)}", f"({n}, {len(r.inputs)})", fill="#e8f0fe"
        ),
        PARAMS: _box(
            "parameters",
            f"{len(r.params)} shared",
            "gradients summed over the batch",
            fill="#fdeede",
        ),
        CONSTANTS: _box("constants", f"{len(r.constants)} shared", fill="#f1f1f1"),
    }
    read = {b for group in r.groups for b in group.reads}
    for block, attrs in leaves.items():
        if block in read:
            g.node(f"b{block}", **attrs)
    for group in r.groups:
        shape = f"({n}, {group.size})" if group.per_sample else f"({group.size},) once per batch"
        title = _module(group) or group.op
        fill = "#fff4c2" if group.kind == "matmul" else "#fffbe6" if group.per_sample else "#eef7ee"
        what = f"{group.size} {group.op} node{'s' * (group.size > 1)}"
        if group.kind == "derived":
            what = f"derived leaf: {', '.join(v.label for v in group.members)}"
        g.node(f"b{group.block}", **_box(title, what, HOW[group.kind], shape, fill=fill))
        for b in group.reads:
            g.edge(f"b{b}", f"b{group.block}")
    return g
