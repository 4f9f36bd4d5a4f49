"""Graph -> DOT text: a pure function, testable without Graphviz installed.

A Value is a box (label, data, grad); the op that made it is an ellipse in front of it, and
arrows run forward, from each operand to the op, in operand order. The number on an arrow is
the local derivative d out / d in: backward multiplies the incoming gradient by it. A constant
(the 2 in x * 2) is a small box with its number only: backward gives it no gradient.

A drawing is made in three steps, each a module with one entry point: `build_scene`
(scene.py) decides what each node is drawn as, `write` (here) turns the scene into DOT
statements, and `legend` (legend.py) explains what the drawing shows. The options are one
`DrawOptions` (options.py), checked before anything is walked.

Graphviz's `dot` needs a second or a few for 1,000 drawn Values (0.6 s to 2.9 s for 865 to 891
Values of ReLU networks, by their shape; see options.py) and grows much faster than linearly, so graphs above `max_nodes` Values must be folded (`collapse=`) or cut down to a
neighbourhood (`focus=`). Everything here is linear in the size of the graph, and a graph
that is neither is refused after counting max_nodes + 1 of its nodes, so a refusal comes back
at once whatever the graph's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autograd import Scope, Value
from autograd.ops import data
from autograd.reals import shown

from .legend import legend
from .marks import NO_MARKS, Marks
from .options import DEFAULT_MAX_NODES, DrawOptions
from .overlay import overlay
from .scene import GraphTooLarge, Group, Scene, build_scene, cluster_title, label_order
from .style import CONSTANT_FILL, GROUP_FILL, HIGHLIGHT, MUTED, OP_FILL, ZERO, html_text

__all__ = ["DEFAULT_MAX_NODES", "GRAPH_NAME", "GraphTooLarge", "dot_lines", "to_dot", "write"]

GRAPH_NAME = "chainrule"
_HIGHLIGHTED_EDGE = f'color="{HIGHLIGHT}" fontcolor="{HIGHLIGHT}" penwidth=2.5'
# From this many operand arrows on, an op's factors are drawn as text nodes, one per arrow...
SPREAD_OPERANDS = 5
# ...in a drawing of at most this many Values. Each text node is one more node for dot to place,
# and an unfolded MLP has nearly one per Value: 2-16-16-1 on 4, 6 and 8 samples (615, 753 and 891
# Values) took dot 1.9, 4.4 and 8.7 s with them against 0.68, 1.5 and 2.9 s without, and 477
# Values 0.54 s against 0.21 s (dot -Tsvg 2.43, medians of 3). A larger drawing is an overview:
# its factors stay labels on the arrows, and focus= or collapse= bring them back.
SPREAD_MAX_VALUES = 500


def to_dot(root: Value | Iterable[Value], **options: Any) -> str:
    """The DOT text of the graph that ends at `root`; the options are `draw_graph`'s."""
    body = dot_lines(root, DrawOptions.parse("to_dot", options))
    return f"digraph {GRAPH_NAME} {{\n" + "".join(body) + "}\n"


def dot_lines(root: Value | Iterable[Value], options: DrawOptions) -> list[str]:
    """The body of `to_dot`: one statement per line, each starting with a tab."""
    scene = build_scene(root, options)
    return write(scene, options, overlay(scene, options))


def write(scene: Scene, options: DrawOptions, marks: Marks = NO_MARKS) -> list[str]:
    """Every DOT statement of `scene`: settings, nodes inside their scope frames, edges, legend.

    `marks` add colours and notes (a gradient check, an anomaly) or ids (a step-through page).
    A folded drawing whose boxes need more than max_nodes arrows is refused here, where the
    arrows are known.
    """
    lines, arrows = _Writer(scene, options, marks).lines()
    # Arrows between summary boxes are the expensive part of a folded drawing: layers are
    # often fully connected, and dot spends ~1 s on 1,000 such arrows and ~10 s on 2,500.
    if scene.collapse is not None and arrows > options.max_nodes:
        raise GraphTooLarge(
            f"{options.entry}(): collapse={shown(scene.collapse)} draws {arrows} arrows between its boxes, more than "
            f"max_nodes={options.max_nodes}, which Graphviz cannot lay out in a few seconds: "
            f"collapse at a coarser level such as collapse='layer', or draw a neighbourhood "
            f"with focus=<a Value>, depth=<k>"
        )
    return lines


def _coloured(colour: str) -> str:
    """An arrow drawn bold in `colour`, its label too."""
    return f'color="{colour}" fontcolor="{colour}" penwidth=2.5'


class _Writer:
    """The DOT statements for one scene; it reads the scene and never changes it."""

    def __init__(self, scene: Scene, options: DrawOptions, marks: Marks) -> None:
        self.scene = scene
        self.options = options
        self.marks = marks
        self.g = scene.graph
        self.scale = marks.scale or scene.scale
        # The frame each node drawn as itself sits in, worked out once.
        self.frames: list[Scope | None] = [
            scene.frame(i) if scene.shown[i] and scene.group_of[i] < 0 else None
            for i in range(len(self.g))
        ]
        self.placed: dict[Scope | None, list[str]] = {None: []}
        self.through_text = 0  # arrows drawn as two edges, through their factor's text node
        self.may_spread = scene.collapse is not None or sum(scene.shown) <= SPREAD_MAX_VALUES

    def lines(self) -> tuple[list[str], int]:
        """Every statement, and how many arrows they draw."""
        scene, g, shown = self.scene, self.g, self.scene.shown
        # Graphviz's second crossing minimisation, over the whole graph, ignores the order
        # that the columns of sibling boxes fix inside their frames; the first one keeps it.
        again = " remincross=false" if scene.columns else ""
        out = [
            f'\tgraph [rankdir={self.options.rankdir} fontname="Helvetica" fontsize=11 '
            f"nodesep=0.2 ranksep=0.35 newrank=true ordering=in{again}]\n",
            '\tnode [fontname="Helvetica" fontsize=11 margin="0.08,0.03" penwidth=1]\n',
            '\tedge [fontname="Helvetica" fontsize=10 arrowsize=0.7 color="#525252"]\n',
        ]
        # Node statements, each filed under the scope frame it belongs in (None: top level).
        placed = self.placed
        edges: list[str] = []
        for k, b in enumerate(scene.groups):
            placed.setdefault(b.container, []).append(self._group_node(k, b))
        between_boxes: dict[tuple[str, str], list[int]] = {}
        for i, v in enumerate(g.nodes):
            if not shown[i]:
                continue
            if scene.group_of[i] < 0:
                highlighted = scene.is_highlighted(i)
                home = placed.setdefault(scene.frame(i), [])
                home.append(self._value_node(i, v, highlighted))
                if g.parents[i]:
                    home.append(self._op_node(i, v, highlighted))
                    style = [_HIGHLIGHTED_EDGE] if highlighted else []
                    if i in self.marks.op_border:
                        style = [_coloured(self.marks.op_border[i])]
                    edges.append(f"\tv{i}_op -> v{i}{self._attrs(style, f'v{i}_res')}\n")
            self._operand_edges(i, edges, between_boxes)
            if scene.focus is not None:
                hidden_users = sum(1 for u in g.users[i] if not shown[u])
                if hidden_users:
                    edges.append(
                        self._stub(i, f"v{i}_out", f"v{i} -> v{i}_out", hidden_users, "user")
                    )
        for frame, column in self._shared_leaves().items():
            placed.setdefault(frame, []).append(column)
        for boxes in scene.columns:
            container = scene.groups[boxes[0]].container
            placed.setdefault(container, []).append(self._column(boxes, container))
        for (tail, head), (n, any_highlighted) in between_boxes.items():
            style = ["style=bold"]
            if n > 1:
                style.append(f"label=<{n} edges>")
            if any_highlighted:
                style.append(_HIGHLIGHTED_EDGE)
            edges.append(f"\t{tail} -> {head}{self._attrs(style, f'{tail}_{head}')}\n")
        out.extend(self._frames(placed))
        out.extend(edges)
        out.extend(self.marks.extra)
        if self.options.legend:
            # Boxes filled by a check's verdicts leave no gradient colours to explain.
            scale = None if self.marks.fill else self.scale
            out.append(legend(scene, self.options, scale, self.marks.legend))
        return out, len(edges) - self.through_text

    def _attrs(self, attrs: list[str], ident: str) -> str:
        """A statement's attribute list, with its SVG id when the marks ask for ids."""
        if self.marks.ids:
            attrs = [*attrs, f'id="{ident}"']
        return f" [{' '.join(attrs)}]" if attrs else ""

    def _grad(self, i: int) -> float:
        grads = self.marks.grads
        return data(self.g.nodes[i].grad) if grads is None else grads[i]

    def _unit(self, i: int) -> str:
        """The DOT id that stands for node i: its own box, or the summary it is folded into."""
        k = self.scene.group_of[i]
        return f"v{i}" if k < 0 else f"g{k}"

    def _operand_edges(
        self, i: int, edges: list[str], between_boxes: dict[tuple[str, str], list[int]]
    ) -> None:
        """Node i's incoming arrows: one per operand slot between two visible nodes, each with
        its local derivative; arrows between boxes only counted into `between_boxes`; hidden
        operands summed up in one stub."""
        scene, g = self.scene, self.g
        k = scene.group_of[i]
        head = f"v{i}_op" if k < 0 else f"g{k}"
        local: list[float] | None = None
        hidden = 0
        factors: list[str] = []
        # Five or more arrows into one ellipse (an nn.Dense neuron's dot, a layer's sum) leave
        # no room by it for their labels; a folded drawing keeps few nodes, often such a dot.
        drawn = sum(1 for p in g.parents[i] if scene.shown[p] and scene.group_of[p] < 0)
        spread = (
            k < 0 and self.may_spread and (drawn >= SPREAD_OPERANDS or scene.collapse is not None)
        )
        for slot, p in enumerate(g.parents[i]):
            if not scene.shown[p]:
                hidden += 1
                continue
            highlighted = scene.is_highlighted(p)
            tail = self._unit(p)
            if k < 0 and scene.group_of[p] < 0:
                if local is None:
                    local = g.local_derivatives(i)
                edges.extend(self._edge(p, i, slot, local, highlighted, factors, spread))
            elif scene.group_of[p] != k:
                count = between_boxes.setdefault((tail, head), [0, 0])
                count[0] += 1
                count[1] |= highlighted
        if hidden:
            edges.append(self._stub(i, f"v{i}_in", f"v{i}_in -> {head}", hidden, "operand"))
        if len(factors) > 1 and spread:
            # One rank, in operand order: left alone, Graphviz lays a dot's nine factors out
            # bottom to top inside a frame (w[3] above w[2]), and its operands follow them.
            self.placed.setdefault(self.frames[i], []).append(self._chain(factors, self.frames[i]))

    def _frames(self, placed: dict[Scope | None, list[str]]) -> list[str]:
        """Top-level statements, then one nested `subgraph cluster_N` per scope, in first-use order."""
        top = placed.pop(None)
        if not self.options.clusters:
            return top + [line for lines in placed.values() for line in lines]
        # Every ancestor of a used scope needs a cluster too, even if it holds no node itself.
        children: dict[Scope | None, list[Scope]] = {}
        known: set[Scope] = set()
        for s in list(placed):
            chain: list[Scope] = []
            a: Scope | None = s
            while a is not None and a not in known:
                chain.append(a)
                a = a.parent
            for c in reversed(chain):
                known.add(c)
                children.setdefault(c.parent, []).append(c)
        out = list(top)
        number = 0
        # Depth-first over the (small) scope tree with an explicit stack of open clusters.
        stack: list[tuple[Scope | None, int]] = [(None, 0)]
        while stack:
            s, next_child = stack.pop()
            kids = children.get(s, [])
            if next_child < len(kids):
                stack.append((s, next_child + 1))
                c = kids[next_child]
                indent = "\t" * (len(stack))
                out.append(f"{indent}subgraph cluster_{number} {{\n")
                number += 1
                out.append(
                    f'{indent}\tgraph [label=<{html_text(cluster_title(c))}> style="rounded,dashed" '
                    f'color="{MUTED}" fontcolor="{MUTED}"]\n'
                )
                out.extend(indent + line for line in placed.get(c, []))
                stack.append((c, 0))
            elif s is not None:
                out.append("\t" * len(stack) + "}\n")
        return out

    def _value_node(self, i: int, v: Value, highlighted: bool) -> str:
        options, number, marks = self.options, self.options.number, self.marks
        if self.g.is_constant(i):
            ident = f' id="v{i}"' if marks.ids else ""
            return (
                f'\tv{i} [shape=box style="rounded,filled" fillcolor="{CONSTANT_FILL}" '
                f'color="{MUTED}" fontsize=10 width=0 height=0 margin="0.05,0.02"{ident} '
                f"label=<{html_text(number(v.data))}>]\n"
            )
        rows = []
        if v.label:
            rows.append(f"<B>{html_text(v.label)}</B>")
        if options.show_data:
            rows.append(f"data {html_text(number(v.data))}")
        grad = self._grad(i)
        if options.show_grad:
            rows.append(f"grad {html_text(number(grad))}")
        rows.extend(html_text(r) for r in marks.rows.get(i, ()))
        if not rows:
            rows.append(" ")
        cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        fill = self.scale.colour(grad) if options.fill_by_grad else ZERO
        attrs = f'fillcolor="{marks.fill.get(i, fill)}"'
        if i in marks.border:
            attrs += f' color="{marks.border[i]}" penwidth=3'
        elif highlighted:
            attrs += f' color="{HIGHLIGHT}" penwidth=3'
        if i == self.scene.focus:
            attrs += " peripheries=2"
        if marks.ids:
            attrs += f' id="v{i}"'
        return (
            f'\tv{i} [shape=box style="rounded,filled" {attrs} label=<<TABLE BORDER="0" '
            f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>]\n'
        )

    def _op_node(self, i: int, v: Value, highlighted: bool) -> str:
        marks = self.marks
        attrs = f' color="{HIGHLIGHT}" penwidth=2' if highlighted else ""
        if i in marks.op_border:
            attrs = f' color="{marks.op_border[i]}" penwidth=2'
        if marks.ids:
            attrs += f' id="v{i}_op"'
        return (
            f'\tv{i}_op [shape=ellipse style=filled fillcolor="{marks.op_fill.get(i, OP_FILL)}" '
            f"height=0.3 label=<{html_text(v.op)}>{attrs}]\n"
        )

    def _edge(
        self,
        p: int,
        i: int,
        slot: int,
        local: list[float] | None,
        highlighted: bool,
        factors: list[str],
        spread: bool,
    ) -> list[str]:
        """The arrow from operand p into node i's op, labelled with its factor.

        A leaf drawn outside node i's frame (a layer's input, shared by its neurons) sends its
        arrows across other arrows, where a label in the middle of the arrow could belong to
        any of them. Its factor is drawn as a small text node inside node i's frame that the
        arrow passes through, so each label sits on its own arrow. With `spread` every factor
        of node i is drawn so: an op of many operands (one nn.Dense neuron's `dot` has nine)
        would otherwise pile their labels up by its ellipse. Such text nodes are appended to
        `factors`.
        """
        options, number, marks = self.options, self.options.number, self.marks
        parts = []
        if self.g.is_constant(p):
            local = None  # backward passes nothing into a constant: no factor, no flow
        if local is not None and (options.edge_labels or highlighted):
            parts.append(f"&#215;{html_text(number(local[slot]))}")
        if local is not None and options.flow:
            passed = self._grad(i) * local[slot]
            parts.append(f"({html_text(number(passed))})")
        if (i, slot) in marks.edge_note:
            parts.append(html_text(marks.edge_note[i, slot]))
        text = " ".join(parts)
        if highlighted and text:
            text = f"<B>{text}</B>"
        colour = marks.edge.get((i, slot))
        style = [_coloured(colour)] if colour else [_HIGHLIGHTED_EDGE] if highlighted else []
        font = colour or (HIGHLIGHT if highlighted else None)
        tail, head, ident = f"v{p}", f"v{i}_op", f"v{i}_in{slot}"
        if text and (spread or self._enters_frame(p, i)):
            factor = f"v{i}_x{slot}"
            factors.append(factor)
            self.through_text += 1
            font_colour = f' fontcolor="{font}"' if font else ""
            if marks.ids:
                font_colour += f' id="{factor}"'
            self.placed.setdefault(self.frames[i], []).append(
                f"\t{factor} [shape=plaintext fontsize=10 width=0 height=0 margin=0.02"
                f"{font_colour} label=<{text}>]\n"
            )
            return [
                f"\t{tail} -> {factor}{self._attrs(['arrowhead=none', *style], ident + 'a')}\n",
                f"\t{factor} -> {head}{self._attrs(style, ident)}\n",
            ]
        if text:
            style.insert(0, f"label=<{text}>")
        return [f"\t{tail} -> {head}{self._attrs(style, ident)}\n"]

    def _enters_frame(self, p: int, i: int) -> bool:
        """Operand p is a leaf drawn in another frame than node i, which uses it."""
        return not self.g.parents[p] and self.frames[p] is not self.frames[i]

    def _shared_leaves(self) -> dict[Scope | None, str]:
        """Per frame, one column of the leaves that feed other frames, in label order.

        A layer's inputs would otherwise sit wherever crossing arrows pull them, between the
        neurons' frames. Held in one rank they form one column on the inputs' side, listed in
        label order (Graphviz decides the final order; with each factor drawn on its own arrow
        it keeps x1 above x2 above x3 and each neuron's weights in order).
        """
        g, scene = self.g, self.scene
        shared: dict[Scope | None, list[int]] = {}
        for p in range(len(g)):
            if g.parents[p] or not scene.shown[p] or scene.group_of[p] >= 0:
                continue
            if any(
                scene.shown[u] and scene.group_of[u] < 0 and self._enters_frame(p, u)
                for u in g.users[p]
            ):
                shared.setdefault(self.frames[p], []).append(p)
        columns = {}
        for frame, leaves in shared.items():
            if len(leaves) < 2:
                continue
            leaves.sort(key=lambda p: label_order(g.nodes[p].label, p))
            columns[frame] = f"\t{{rank=same; {' '.join(f'v{p}' for p in leaves)}}}\n"
        return columns

    def _column(self, boxes: tuple[int, ...], container: Scope | None) -> str:
        """One rank holding `boxes`, chained by invisible arrows so that they keep their order.

        Within one rank, a chain a -> b puts a first: above b when the arrows run across
        (rankdir LR or RL), left of it when they run down. Inside a frame, Graphviz 2.43
        lays a chain out the other way round when the arrows run across (a cluster does not
        inherit the turned layout), so there the chain is written from the last box to the
        first; tests check the order `dot` gives.
        """
        return self._chain([f"g{k}" for k in boxes], container)

    def _chain(self, ids: list[str], container: Scope | None) -> str:
        """One rank holding the nodes `ids` in this order, see `_column`."""
        turned = self.options.rankdir in ("LR", "RL")
        if turned and self.options.clusters and container is not None:
            ids = ids[::-1]
        return f"\t{{rank=same; {' -> '.join(ids)} [style=invis]}}\n"

    def _stub(self, i: int, node: str, edge: str, n: int, what: str) -> str:
        """A "… n more users" text beside node i, in its frame; returns the dashed arrow to it."""
        text = f"&#8230; {n} more {what}{'s' if n > 1 else ''}"
        self.placed.setdefault(self.frames[i], []).append(
            f'\t{node} [shape=plaintext fontcolor="{MUTED}" label=<{text}>]\n'
        )
        return f'\t{edge} [style=dashed color="{MUTED}"]\n'

    def _group_node(self, k: int, b: Group) -> str:
        options, number = self.options, self.options.number
        if b.scope is None:
            rows = [f"<B>{b.members} leaves</B>", "(inputs, weights or constants)"]
        else:
            # One text run, cut as a whole: many long custom op names must not overflow it.
            ops = html_text(
                " · ".join(
                    f"{n} {op}" for op, n in sorted(b.ops.items(), key=lambda t: (-t[1], t[0]))
                )
            )
            # Inside its parent's frame a box needs only its own name; inside its own frame
            # (beside the loss value it folds away from), none.
            title = cluster_title(b.scope) if options.clusters and b.container else b.title
            if b.repeat > 1:
                title += f" #{b.repeat}"
            rows = [f"<B>{html_text(title)}</B>", f"{b.members} nodes: {ops or '-'}"]
            if options.clusters and b.container is b.scope:
                rows = [f"<B>{b.members} nodes</B>: {ops or '-'}"]
            if b.leaves:
                rows.append(f"{b.leaves} leaves (weights, constants)")
            rows.append(f"{b.outputs} output{'s' if b.outputs != 1 else ''}")
        if options.show_data and b.members:
            rows.append(f"data {html_text(number(b.lo))} .. {html_text(number(b.hi))}")
        if options.show_grad:
            rows.append(f"max |grad| {html_text(number(b.top_grad))}")
        cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        attrs = f' color="{HIGHLIGHT}" penwidth=3' if b.highlighted else ""
        if self.marks.ids:
            attrs += f' id="g{k}"'
        return (
            f'\tg{k} [shape=box3d style=filled fillcolor="{GROUP_FILL}"{attrs} label=<<TABLE '
            f'BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>]\n'
        )
