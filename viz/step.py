"""`step_through`: backward on your own graph, one node at a time, as a page.

The page shows the graph as `draw_graph` draws it, laid out once by `dot`, and steps through
backward in the engine's own order (`autograd.reverse_topological_order`, the order
`backward()` walks). At each step the node being processed is marked, the nodes backward has
not reached yet are grey, and a panel says what the chain rule does there:
`w0.grad += 12 × 1 = 12`, one line per operand. Clicking a box shows its whole chain rule,
what `explain(root, node)` prints, with the sum over the node's users written out.

Every number on the page is computed here, in Python, by the engine's rules in the engine's
order, and embedded as JSON: the page's script only shows the texts of the step asked for.
Before anything is written, the running sums are checked against the engine's own backward
(`autograd.grad`), bit for bit.

The page is one self-contained HTML file: the SVG, the data, the script and the style are all
inline, so it works from file:// with no network. In Jupyter the same page shows inline, in an
iframe of its own.
"""

from __future__ import annotations

import heapq
import html
import json
import math
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import graphviz

from autograd import OPS, AnomalyError, Value, explain, grad, reverse_topological_order
from autograd.explain import Explanation, Factor
from autograd.graphcheck import GraphCheck, NodeCheck
from autograd.names import node_name
from autograd.ops import data, dot_order
from autograd.reals import count

from .dot import GRAPH_NAME, write
from .marks import Marks
from .options import DrawOptions
from .overlay import graph_check, merge, overlay, verdict_colour
from .scene import Scene, build_scene, scope_title
from .style import NOT_A_NUMBER, ZERO, GradScale
from .walk import finite_max_abs

# Clicking a box shows explain(root, box): one walk of the graph per drawn node. Past this many
# drawn nodes the page would take long to build, and a click shows how to ask explain instead.
MAX_EXPLAINED = 400
MAX_LINES = 12  # operand lines shown per step; a neuron's dot has dozens
DEFAULT_HEIGHT = 720  # pixels, for the page shown inline in Jupyter

UNREACHED, PARTIAL, CURRENT, DONE = "unreached", "partial", "current", "done"
UNKNOWN = "?"  # the grad of a node backward has not reached yet
SVG_NS = "http://www.w3.org/2000/svg"


def numbered(phase: str, k: int, total: int) -> tuple[str, str]:
    """Step k of `total` in a phase: (the panel's title, the toolbar's counter), one numbering.

    The title starts "Backward (4 of 6)" and the toolbar says "backward 4 of 6". Each phase
    counts the nodes it computes or processes, from 1; the page before the first and after
    the last are states, not steps, and carry no number.
    """
    return f"{phase.capitalize()} ({k} of {total})", f"{phase} {k} of {total}"


@dataclass
class Step:
    """One step of the page: what is processed, what the panel says, what lights up."""

    phase: str  # "start", "forward", "backward" or "end"
    title: str
    caption: str
    counter: str  # the toolbar's words for where this step is: "backward 4 of 6"
    unit: str | None = None  # the box or summary processed at this step
    lines: list[dict[str, str]] = field(default_factory=list)  # {"text", "why"} per operand
    targets: list[str] = field(default_factory=list)  # the units receiving a gradient

    def as_json(self) -> dict[str, Any]:
        """The step as the page's script reads it."""
        return {
            "phase": self.phase,
            "title": self.title,
            "counter": self.counter,
            "caption": self.caption,
            "unit": self.unit,
            "lines": self.lines,
            "targets": self.targets,
        }


class StepThrough:
    """A step-through page: shows inline in Jupyter, `save(path)` writes it as one HTML file."""

    def __init__(self, document: str, steps: list[Step], data: dict[str, Any], height: int):
        self.html = document  # the whole page, self-contained
        self.steps = steps
        self.data = data  # what the page's script reads: steps, elements, explanations
        self.height = height

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<StepThrough: {len(self.steps)} steps; .save('backward.html') writes the page>"

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (".html" is added when it has no suffix); return the path."""
        out = Path(path)
        if not out.suffix:
            out = out.with_suffix(".html")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.html, encoding="utf-8")
        return out

    def _repr_html_(self) -> str:
        """Jupyter's view: the same page in an iframe, so its keys and styles stay its own."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #bdbdbd" '
            f'title="backward, step by step"></iframe>'
        )


def step_through(
    root: Value, *, forward: bool = False, height: int = DEFAULT_HEIGHT, **options: Any
) -> StepThrough:
    """Backward on `root`'s graph, one node at a time: a page to step through.

    forward=True first steps through the forward pass, computing each box's data. The other
    options are `draw_graph`'s: max_nodes, collapse= (a folded box steps as one unit), focus=,
    highlight=, check=True (the gradient check's verdicts) and anomaly=err (where a nan came
    from). `height` is the inline view's height in pixels. The page does not call backward()
    and changes no .grad: it computes each step's numbers from the graph.
    """
    if not isinstance(root, Value):
        raise TypeError(f"step_through() needs a Value, got {type(root).__name__}")
    if not isinstance(forward, bool):
        raise TypeError(f"step_through(): forward must be True or False, got {forward!r}")
    height = count(height, "step_through(): height", 100)  # in pixels
    opts = DrawOptions.parse("step_through", options)
    scene = build_scene(root, opts)
    book = _Book(scene, root, opts, forward)
    return book.page(height)


# ---- the backward pass, replayed ----------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """`operand.grad += node.grad × local`: one arrow of the chain rule."""

    node: int
    slot: int
    operand: int
    upstream: float  # node.grad
    local: float  # d node / d operand
    amount: float  # upstream × local
    total: float  # operand.grad after the addition


def replay(scene: Scene, root: Value) -> tuple[list[Value], list[list[Contribution]], list[float]]:
    """Backward's order, each node's contributions in the order backward adds them, and the
    final gradients, computed with each node's rule as backward computes them.

    Checked against the engine's own backward (`autograd.grad`) to the last bit.
    """
    g = scene.graph
    order = reverse_topological_order(root)  # the order backward() walks
    in_order = set(order)  # not the constants, which `parents` shows as leaves of their own
    grads = [0.0] * len(g)
    grads[g.index[root]] = 1.0
    dot = OPS["dot"]
    steps: list[list[Contribution]] = []
    for v in order:
        i = g.index[v]
        ps = g.parents[i]
        made: list[Contribution] = []
        if ps:
            local = g.local_derivatives(i)
            assert local is not None
            # A dot adds its contributions pair by pair, as backward does (ops.dot_order).
            for j in dot_order(len(ps)) if v.rule is dot else range(len(ps)):
                p = ps[j]
                if g.nodes[p] not in in_order:
                    continue  # a constant: backward differentiates no constant
                amount = grads[i] * local[j]
                grads[p] += amount
                made.append(Contribution(i, j, p, grads[i], local[j], amount, grads[p]))
        steps.append(made)
    engine = [data(x) for x in grad(root, g.nodes)]
    for v, mine, theirs in zip(g.nodes, grads, engine):
        if _bits(mine) != _bits(theirs):
            raise RuntimeError(
                f"step_through(): the replayed gradient of {node_name(v)} is {mine!r}, the "
                f"engine's backward gives {theirs!r}; please report this"
            )
    return order, steps, grads


# ---- the page ---------------------------------------------------------------------------


class _Book:
    """Everything the page shows, worked out step by step."""

    def __init__(self, scene: Scene, root: Value, options: DrawOptions, forward: bool):
        self.scene, self.root, self.options = scene, root, options
        self.g = g = scene.graph
        self.number = options.number
        self.order, contributions, self.grads = replay(scene, root)
        self.made: dict[int, list[Contribution]] = {}  # node -> what it passes on
        self.received: dict[int, list[Contribution]] = {}  # node -> what its users passed it
        for v, made in zip(self.order, contributions):
            self.made[g.index[v]] = made
            for c in made:
                self.received.setdefault(c.operand, []).append(c)
        self.factors: dict[tuple[int, int], Factor] = {}  # (node, slot) -> its factor, named
        self.scale = GradScale(
            finite_max_abs(self.grads[i] for i in range(len(g)) if scene.shown[i])
        )
        self.check: GraphCheck | None = graph_check(scene) if options.check else None
        self.anomaly: AnomalyError | None = options.anomaly
        self.steps: list[Step] = []
        # SVG element id -> [[step, state, data text, grad text, fill, exact grad], ...]
        self.events: dict[str, list[list[Any]]] = {}
        self.names = [node_name(v) for v in g.nodes]
        self.explanations = self._explanations()
        self._start(forward)
        if forward:
            self._forward()
        self._backward()
        self._end()

    # -- units: what stands for a node in the drawing ------------------------------------

    def unit(self, i: int) -> str | None:
        """The drawn box that stands for node i: its own, its folded summary, or None (hidden,
        or a constant: its box only shows its number, and the page never steps into it)."""
        if not self.scene.shown[i]:
            return None
        k = self.scene.group_of[i]
        if k < 0:
            return None if self.g.is_constant(i) else f"v{i}"
        return f"g{k}"

    def unit_name(self, unit: str) -> str:
        if unit.startswith("g"):
            b = self.scene.groups[int(unit[1:])]
            return scope_title(b.scope) if b.scope is not None else f"{b.members} leaves"
        return self.names[int(unit[1:])]

    def members(self, unit: str) -> list[int]:
        if unit.startswith("v"):
            return [int(unit[1:])]
        k = int(unit[1:])
        return [i for i, b in enumerate(self.scene.group_of) if b == k]

    def _fill(self, i: int, grad: float) -> str:
        if self.check is not None and self.g.nodes[i] in self.check.nodes:
            return verdict_colour(self.check.nodes[self.g.nodes[i]])
        if not self.options.fill_by_grad:
            return ZERO
        return self.scale.colour(grad) if not math.isnan(grad) else NOT_A_NUMBER

    def _event(self, element: str, step: int, state: str, **texts: Any) -> None:
        row = [
            step,
            state,
            texts.get("data"),
            texts.get("grad"),
            texts.get("fill"),
            texts.get("exact"),
        ]
        while row[-1] is None:
            row.pop()
        self.events.setdefault(element, []).append(row)

    def _elements(self, unit: str) -> list[str]:
        """The SVG ids that grey and light up with a unit: its box, its op, its factor labels."""
        if unit.startswith("g"):
            return [unit]
        i = int(unit[1:])
        ids = [unit]
        if self.g.parents[i]:
            ids.append(f"{unit}_op")
        return ids

    def _arrows(self, unit: str) -> list[str]:
        """The SVG ids of the arrows into a unit's op (and of the factor labels on them)."""
        if unit.startswith("g"):
            k = unit
            return [
                f"{self.unit(p)}_{k}"
                for i in self.members(unit)
                for p in self.g.parents[i]
                if self.unit(p) not in (None, k)
            ]
        i = int(unit[1:])
        ids = [f"{unit}_res"]
        for slot, p in enumerate(self.g.parents[i]):
            ids += [f"{unit}_in{slot}", f"{unit}_in{slot}a", f"{unit}_x{slot}"]
            tail = self.unit(p)
            if tail is not None and tail.startswith("g"):
                ids.append(f"{tail}_{unit}_op")  # an arrow from a folded box
        return ids

    # -- text ------------------------------------------------------------------------------

    def num(self, x: float) -> str:
        return self.number(x)

    def grad_text(self, unit: str, grads: Sequence[float] | None) -> str:
        """What a box's grad line says: `grad 12`, `grad ?` before backward reaches it."""
        if unit.startswith("g"):
            if grads is None:
                return f"max |grad| {UNKNOWN}"
            members = self.members(unit)
            top = max((abs(grads[i]) for i in members), default=0.0)
            return f"max |grad| {self.num(top)}"
        if grads is None:
            return f"grad {UNKNOWN}"
        return f"grad {self.num(grads[int(unit[1:])])}"

    # -- the steps -------------------------------------------------------------------------

    def _units(self) -> list[str]:
        seen = dict.fromkeys(u for u in map(self.unit, range(len(self.g))) if u is not None)
        return list(seen)

    def _start(self, forward: bool) -> None:
        root = self.names[self.g.index[self.root]]
        if forward:
            caption = (
                "The inputs and the parameters: the leaves hold their data from the start. "
                "Forward computes every other box from its operands, in the order the engine "
                "recorded them; then backward runs the chain rule from "
                f"{root} down to every leaf."
            )
        else:
            caption = (
                f"The graph after the forward pass: every box shows its data. Backward has not "
                f"started, so every grad is still unknown (grey). It will start at {root} with "
                f"∂{root}/∂{root} = 1 and visit each node once, in the engine's order. Step with "
                f"→ or the buttons; click a box for its whole chain rule."
            )
        before = "before forward" if forward else "before backward"
        self.steps.append(Step("start", before.capitalize(), caption, before))
        for unit in self._units():
            leaf = unit.startswith("v") and not self.g.parents[int(unit[1:])]
            data = None
            if forward and not leaf:
                data = "data " + UNKNOWN if unit.startswith("v") else None
            state = DONE if forward and leaf else UNREACHED
            for e in self._elements(unit):
                self._event(e, 0, state, data=data, **(self._unknown(unit) if e == unit else {}))
            for e in self._arrows(unit):
                self._event(e, 0, UNREACHED)

    def _forward(self) -> None:
        g = self.g
        firsts: dict[str, int] = {}  # each unit at its first computed node
        for v in reversed(self.order):  # operands first, as the engine computed them
            i = g.index[v]
            unit = self.unit(i)
            if g.parents[i] and unit is not None and unit not in firsts:
                firsts[unit] = i
        for k, (unit, i) in enumerate(firsts.items(), start=1):
            s = len(self.steps)
            title, counter = numbered("forward", k, len(firsts))
            if unit.startswith("g"):
                b = self.scene.groups[int(unit[1:])]
                title += f": {self.unit_name(unit)}"
                caption = (
                    f"Forward computes the {b.members} nodes folded into {self.unit_name(unit)} "
                    f"at once; their data run from {self.num(b.lo)} to {self.num(b.hi)}."
                )
            else:
                title += f": {self.names[i]}"
                caption = "Forward: " + self._forward_text(i) + "."
            self.steps.append(Step("forward", title, caption, counter, unit))
            for e in self._elements(unit):
                self._event(e, s, CURRENT, data=self._data_text(unit) if e == unit else None)
                self._event(e, s + 1, DONE)
            for e in self._arrows(unit):
                self._event(e, s, CURRENT)
                self._event(e, s + 1, DONE)
        # Backward greys everything again, keeping the data.
        s = len(self.steps)
        for unit in self._units():
            for e in self._elements(unit) + self._arrows(unit):
                self._event(e, s, UNREACHED, **(self._unknown(unit) if e == unit else {}))

    def _unknown(self, unit: str) -> dict[str, Any]:
        """A box's texts before backward reaches it: `grad ?`, and white."""
        texts: dict[str, Any] = {"grad": self.grad_text(unit, None)}
        if unit.startswith("v"):
            texts["fill"] = ZERO
            texts["exact"] = ""
        return texts

    def _data_text(self, unit: str) -> str | None:
        if not unit.startswith("v"):
            return None
        return f"data {self.num(self.g.nodes[int(unit[1:])].data)}"

    def _forward_text(self, i: int) -> str:
        """`z = w0*x0 + b = -3 + 1 = -2`: a node's op on its operands' names and numbers."""
        g, v = self.g, self.g.nodes[i]
        ps = g.parents[i]
        names = [self.names[p] for p in ps]
        values = [self.num(g.nodes[p].data) for p in ps]
        infix = {"add": " + ", "sub": " - ", "mul": " × ", "div": " / ", "sum": " + "}
        if v.op in infix and len(ps) <= 8:
            sep = infix[v.op]
            by_name, by_number = sep.join(names), sep.join(values)
        else:
            shown = ", ".join(names[:8]) + (", …" if len(ps) > 8 else "")
            numbers = ", ".join(values[:8]) + (", …" if len(ps) > 8 else "")
            by_name, by_number = f"{v.op}({shown})", f"{v.op}({numbers})"
        return f"{self.names[i]} = {by_name} = {by_number} = {self.num(v.data)}"

    def _backward(self) -> None:
        """One step per drawn unit as backward reaches it (see `_batches`)."""
        g = self.g
        batches = self._batches()
        last_batch = {unit: k for k, (unit, _) in enumerate(batches)}
        running = [0.0] * len(g)
        running[g.index[self.root]] = 1.0
        processed: set[int] = set()
        last_received: dict[str, int] = {}
        first = len(self.steps)
        for k, (unit, nodes) in enumerate(batches):
            s = first + k
            processed.update(nodes)
            made = [c for i in nodes for c in self.made[i]]
            for p in dict.fromkeys(c.operand for c in made):
                running[p] = self._received_so_far(p, processed)
            self.steps.append(self._step(k + 1, len(batches), unit, nodes, made, running))
            if unit is not None:
                again = last_batch[unit] > k
                for e in self._elements(unit):
                    texts = self._grad_texts(unit, running) if e == unit else {}
                    self._event(e, s, CURRENT, **texts)
                    self._event(e, s + 1, PARTIAL if again else DONE)
                for e in self._arrows(unit):
                    self._event(e, s, CURRENT)
                    self._event(e, s + 1, DONE)
            for target in dict.fromkeys(self.unit(c.operand) for c in made):
                if target is None or target == unit:
                    continue
                last_received[target] = s
                for e in self._elements(target):
                    texts = self._grad_texts(target, running) if e == target else {}
                    self._event(e, s, PARTIAL, **texts)
        self._leaves_done(last_received, first + len(batches))

    def _received_so_far(self, p: int, processed: set[int]) -> float:
        """p's gradient from the users processed so far, added in backward's order: once all
        are processed, the engine's gradient to the last bit."""
        total = 0.0
        for c in self.received.get(p, ()):
            if c.node in processed:
                total += c.amount
        return total

    def _batches(self) -> list[tuple[str | None, list[int]]]:
        """The steps: (the unit processed, its nodes in backward's order).

        Unfolded, each drawn node is a step, in backward's order, and the nodes outside a
        focus= neighbourhood that backward runs through in a row make one step. Folded, each
        box is one step, taken once every box that uses it is done; backward's order decides
        between boxes that are ready together. Should boxes depend on each other both ways,
        they step in backward's order, a box once per run of its nodes.
        """
        g = self.g
        runs: list[tuple[str | None, list[int]]] = []
        for v in self.order:
            i = g.index[v]
            if not g.parents[i]:
                continue  # a leaf passes nothing on
            unit = self.unit(i)
            if runs and runs[-1][0] == unit and (unit is None or unit.startswith("g")):
                runs[-1][1].append(i)
            else:
                runs.append((unit, [i]))
        if self.scene.collapse is None:
            return runs
        members: dict[str | None, list[int]] = {}
        for unit, nodes in runs:
            members.setdefault(unit, []).extend(nodes)
        # unit -> the units whose nodes it passes gradients to, and how many wait on each.
        feeds: dict[str | None, set[str | None]] = {u: set() for u in members}
        waiting = dict.fromkeys(members, 0)
        for unit, nodes in members.items():
            for i in nodes:
                for p in g.parents[i]:
                    target = self.unit(p)
                    if target != unit and target in members and target not in feeds[unit]:
                        feeds[unit].add(target)
                        waiting[target] += 1
        rank = {unit: k for k, unit in enumerate(members)}  # backward's order of first nodes
        ready = [(rank[u], u) for u, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        ordered: list[tuple[str | None, list[int]]] = []
        while ready:
            _, unit = heapq.heappop(ready)
            ordered.append((unit, members[unit]))
            for target in feeds[unit]:
                waiting[target] -= 1
                if waiting[target] == 0:
                    heapq.heappush(ready, (rank[target], target))
        return ordered if len(ordered) == len(members) else runs

    def _leaves_done(self, last: dict[str, int], end: int) -> None:
        """A leaf (or a box of leaves) is done after the last gradient that reaches it."""
        for unit, s in last.items():
            members = self.members(unit)
            if any(self.g.parents[i] for i in members):
                continue
            for e in self._elements(unit):
                self._event(e, min(s + 1, end), DONE)

    def _grad_texts(self, unit: str, running: Sequence[float]) -> dict[str, Any]:
        texts: dict[str, Any] = {"grad": self.grad_text(unit, running)}
        if unit.startswith("v"):
            i = int(unit[1:])
            texts["fill"] = self._fill(i, running[i])
            texts["exact"] = repr(running[i])
        return texts

    def _step(
        self,
        k: int,
        total: int,
        unit: str | None,
        nodes: list[int],
        made: list[Contribution],
        running: Sequence[float],
    ) -> Step:
        title, counter = numbered("backward", k, total)
        title += ": "
        targets = [u for u in dict.fromkeys(self.unit(c.operand) for c in made) if u and u != unit]
        if unit is None:
            return Step(
                "backward",
                title + "outside the drawing",
                f"{len(nodes)} node{'s' if len(nodes) != 1 else ''} outside the drawn "
                f"neighbourhood pass their gradients on.",
                counter,
                None,
                self._lines(made, running, outside=True),
                targets,
            )
        if unit.startswith("g"):
            b = self.scene.groups[int(unit[1:])]
            name = self.unit_name(unit)
            lines = self._box_lines(unit, made)
            caption = (
                f"Backward runs through the {len(nodes)} computed node"
                f"{'s' if len(nodes) != 1 else ''} folded into {name} as one unit, each in the "
                f"engine's order."
            )
            if lines:
                caption += " What leaves the box:"
            elif b.leaves:
                caption += f" Nothing leaves it: its gradients end in the {b.leaves} leaves inside."
            return Step("backward", title + name, caption, counter, unit, lines, targets)
        (i,) = nodes
        return Step(
            "backward",
            title + self.names[i],
            self._caption(i, made) + self._warnings(i),
            counter,
            unit,
            self._lines(made, running),
            targets,
        )

    def _caption(self, i: int, made: list[Contribution]) -> str:
        """What the chain rule does at node i, in the words of the seed's derivation."""
        g, root = self.g, self.names[self.g.index[self.root]]
        name = self.names[i]
        d = f"∂{root}/∂{name}"
        if g.nodes[i] is self.root:
            return (
                f"Backward starts at {root} with {d} = 1. {self._forward_text(i)}: each operand "
                f"gets 1 × the local derivative of {g.nodes[i].op}, ∂{root}/∂operand."
            )
        users = [u for u in g.users[i]]
        if len(users) == 1:
            why = f"{name} feeds one node, {self.names[users[0]]}, which has passed it back"
        else:
            shares = [c.amount for c in self.received.get(i, [])]
            terms = " + ".join(self.num(x) for x in shares[:8]) + (
                " + …" if len(shares) > 8 else ""
            )
            why = (
                f"{name} feeds {len(users)} nodes, so, as the seed says of a layer's inputs, its "
                f"gradient is the sum of what each passed back: {terms}"
            )
        return (
            f"{d} = {self.num(self.grads[i])} is complete: {why}. It is the common term of every "
            f"path below {name}: each operand gets {self.num(self.grads[i])} × its local "
            f"derivative ∂{name}/∂operand."
        )

    def _warnings(self, i: int) -> str:
        v = self.g.nodes[i]
        notes = ""
        if self.check is not None:
            for e in self.check.wrong_rules:
                if e.node is v:
                    notes += (
                        f" ⚠ The check finds {v.op}'s rule wrong here: d/d operand {e.slot} is "
                        f"{self.num(e.rule)} by the rule, {self.num(e.numeric)} by a central "
                        f"difference of {v.op}; every gradient below inherits the error."
                    )
        err = self.anomaly
        if err is not None and err.node is v:
            notes += f" ⚠ Here the first non-finite gradient appears: {str(err).split('. ')[0]}."
        return notes

    def _lines(
        self, made: list[Contribution], running: Sequence[float], outside: bool = False
    ) -> list[dict[str, str]]:
        """`w0.grad += 12 × 1 = 12` per operand, with the factor's formula as the reason."""
        lines = []
        shown = [c for c in made if self.unit(c.operand) is not None] if outside else made
        last = {c.operand: c for c in made}  # the operand's last line shows its running total
        for c in shown[:MAX_LINES]:
            a = self.names[c.operand]
            text = (
                f"{a}.grad += {self.num(c.upstream)} × {self.num(c.local)} = {self.num(c.amount)}"
            )
            if _bits(c.total) != _bits(c.amount):
                text += f", now {self.num(running[c.operand] if c is last[c.operand] else c.total)}"
            lines.append({"text": text, "why": self._why(c)})
        if len(shown) > MAX_LINES:
            lines.append(
                {
                    "text": f"… and {len(shown) - MAX_LINES} more operands (their grads show in the boxes)",
                    "why": "",
                }
            )
        return lines

    def _why(self, c: Contribution) -> str:
        f = self.factors.get((c.node, c.slot))
        if f is None:
            return f"∂{self.names[c.node]}/∂{self.names[c.operand]} = {self.num(c.local)}"
        return f.line()

    def _box_lines(self, unit: str, made: list[Contribution]) -> list[dict[str, str]]:
        out: dict[str, list[Contribution]] = {}
        for c in made:
            target = self.unit(c.operand)
            if target is not None and target != unit:
                out.setdefault(target, []).append(c)
        lines = []
        for target, cs in list(out.items())[:MAX_LINES]:
            amount = math.fsum(c.amount for c in cs)
            arrows = f"{len(cs)} arrow{'s' if len(cs) != 1 else ''}"
            lines.append(
                {
                    "text": f"into {self.unit_name(target)}: {self.num(amount)} over {arrows}",
                    "why": "",
                }
            )
        if len(out) > MAX_LINES:
            lines.append({"text": f"… and {len(out) - MAX_LINES} more boxes", "why": ""})
        return lines

    def _end(self) -> None:
        s = len(self.steps)
        root = self.names[self.g.index[self.root]]
        self.steps.append(
            Step(
                "end",
                "Backward is done",
                f"Every box now holds ∂{root}/∂node, what {root}.backward() leaves in .grad: "
                f"each node's gradient is the sum over its users of their gradient times the "
                f"local derivative. Click any box for its chain rule written out.",
                "backward done",
            )
        )
        for unit in self._units():
            texts = self._grad_texts(unit, self.grads)
            for e in self._elements(unit):
                self._event(e, s, DONE, **(texts if e == unit else {}))
            for e in self._arrows(unit):
                self._event(e, s, DONE)

    # -- clicking a box ----------------------------------------------------------------------

    def _explanations(self) -> dict[str, str]:
        """Per drawn box, its chain rule: explain(root, node), with the sum over its users."""
        g = self.g
        drawn = [i for i in range(len(g)) if self.unit(i) == f"v{i}"]
        out: dict[str, str] = {}
        if len(drawn) > MAX_EXPLAINED:
            for i in drawn:
                out[f"v{i}"] = (
                    f"{len(drawn)} boxes are drawn, more than the {MAX_EXPLAINED} this page "
                    f"explains; ask the engine for this one: ag.explain(root, node)"
                )
        else:
            for i in drawn:
                e = explain(self.root, g.nodes[i])
                for group in e.groups:
                    f = group.factor
                    self.factors[g.index[f.out], f.index] = f
                out[f"v{i}"] = str(e) + self._users_sum(i, e) + self._check_text(i)
        for k, b in enumerate(self.scene.groups):
            name = self.unit_name(f"g{k}")
            ops = ", ".join(f"{n} {op}" for op, n in b.ops.most_common())
            out[f"g{k}"] = (
                f"{name}: {b.members} nodes folded into one box ({ops or 'leaves only'}). "
                f"Draw it unfolded, or with focus= on one of its nodes, to see each node's chain "
                f"rule."
            )
        return out

    def _users_sum(self, i: int, e: Explanation) -> str:
        """The node's gradient as the sum over its users: Σ ∂root/∂u · ∂u/∂node."""
        if not e.groups:
            return ""
        name = e.name(e.wrt)
        root = e.name(e.root)
        terms = " + ".join(
            f"∂{root}/∂{e.name(gr.factor.out)} · {gr.factor.name}" for gr in e.groups
        )
        numbers = " + ".join(
            f"{self.num(gr.upstream)} × {self.num(gr.factor.value)}" for gr in e.groups
        )
        users = len(e.groups)
        return (
            f"\n\nthe sum over the {users} edge{'s' if users != 1 else ''} from {name}'s users:\n"
            f"  ∂{root}/∂{name} = {terms}\n"
            f"  = {numbers}\n"
            f"  = {self.num(e.total)}"
        )

    def _check_text(self, i: int) -> str:
        if self.check is None:
            return ""
        c: NodeCheck | None = self.check.nodes.get(self.g.nodes[i])
        if c is None:
            return ""
        return (
            f"\n\ngradient check: backward {self.num(c.analytic)}, central difference "
            f"{self.num(c.numeric)} (allowed difference {c.allowed:.3g}): {c.status}"
        )

    # -- the page --------------------------------------------------------------------------

    def svg(self) -> str:
        """The drawing as `dot` lays it out once, with ids on every box and arrow."""
        marks = merge(
            overlay(self.scene, self.options), Marks(ids=True, grads=self.grads, scale=self.scale)
        )
        body = write(self.scene, self.options, marks)
        raw = graphviz.Digraph(GRAPH_NAME, body=body).pipe(format="svg").decode("utf-8")
        return tag_svg(raw)

    def page(self, height: int) -> StepThrough:
        svg = self.svg()
        present = set(re.findall(r' id="([^"]+)"', svg))
        data = {
            "steps": [s.as_json() for s in self.steps],
            "elements": {k: v for k, v in self.events.items() if k in present},
            "explain": self.explanations,
            "root": self.names[self.g.index[self.root]],
        }
        title = f"Backward through {self.names[self.g.index[self.root]]}, step by step"
        document = _template("step.html")
        for key, value in (
            ("TITLE", html.escape(title)),
            ("STYLE", _template("step.css")),
            ("SVG", svg),
            ("DATA", json.dumps(data, ensure_ascii=False).replace("</", "<\\/")),
            ("SCRIPT", _template("step.js")),
        ):
            document = document.replace("{{" + key + "}}", value)
        return StepThrough(document, self.steps, data, height)


def tag_svg(raw: str) -> str:
    """dot's SVG, inline-ready: no XML prolog, and each box's data and grad lines classed."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.fromstring(raw)
    for node in tree.iter(f"{{{SVG_NS}}}g"):
        if node.get("class") != "node":
            continue
        for text in node.iter(f"{{{SVG_NS}}}text"):
            if text.get("font-weight") == "bold" or text.text is None:
                continue  # a label line
            if text.text.startswith(("grad ", "max |grad| ")):
                text.set("class", "grad")
            elif text.text.startswith("data "):
                text.set("class", "data")
    return ET.tostring(tree, encoding="unicode")


def _template(name: str) -> str:
    return (resources.files("viz") / "page" / name).read_text(encoding="utf-8")


def _bits(x: float) -> bytes:
    """A float's bits, with every nan the same: the replay and the engine must agree exactly."""
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


__all__ = ["Contribution", "Step", "StepThrough", "replay", "step_through"]
