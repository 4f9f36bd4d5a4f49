"""Replay: record a graph of scalar Values once, then run it over a whole batch with numpy.

A model built from `Value`s records the same graph for every sample; only the numbers differ.
`Replay` takes one such graph (one sample's), whose leaves are marked as per-sample inputs or
shared parameters, and runs forward and backward for a batch at once:

- a per-sample node holds an array of shape (batch,), one number per sample;
- a node that depends on parameters and constants only (a regulariser) is computed once;
- a parameter's gradient is the sum over the batch of its per-sample gradients;
- siblings are grouped, as DyNet's autobatching groups them: nodes of one op at one depth (the
  longest path from a leaf), whose operands are alike, run as one numpy operation on a
  (batch, group) array; a layer's `dot` nodes, which share their inputs, become one matrix
  product X @ W + b.

Every number comes from the rule table: each op's array form (`Op.array`), which gives the
scalar rule's numbers to a few ulp. An op without one still replays, element by element through
its scalar rule, and `Replay` says so once, with a warning. Matrix products and sums over the
batch add up in numpy's order, not left to right, so replayed numbers equal the scalar engine's
to rounding, not bit for bit. The scalar graph stays the truth: `sample(i)` hands back sample
i's graph as ordinary Values, for drawing, explaining and checking.

Leaves that are neither inputs nor parameters are constants. A `Derived` leaf is a per-sample
number computed from other nodes during the forward pass and held constant by the chain rule,
as a softmax's row maximum is.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .ops import OPS, Op, array_rules
from .value import Value, apply

__all__ = ["Derived", "NotReplayable", "Replay"]

Array = np.ndarray
DOT = OPS["dot"]
SUM = OPS["sum"]


class NotReplayable(ValueError):
    """The samples of a batch need graphs of different shapes, so one replay cannot run them."""


@dataclass(frozen=True)
class Derived:
    """A per-sample leaf computed in the forward pass from other nodes, constant for the chain rule.

    `fn(*arrays)` gets one array (batch,) per source (a 0-d array for a shared source) and returns
    the leaf's numbers, shape (batch,). It may raise `NotReplayable` for a batch in which some
    sample needs a graph of another shape.
    """

    fn: Callable[..., Any]
    sources: tuple[Value, ...]


# ---- where the numbers live ----

# Every node lives in a block, at a column. Block 0 holds the inputs (batch, n_inputs), block 1
# the parameters (n_params,), block 2 the constants (n_constants,); then comes one block per
# group of siblings (a derived leaf is a group of one). A per-sample block is (batch, width), a
# shared one (width,).
INPUTS, PARAMS, CONSTANTS = 0, 1, 2
Loc = tuple[int, int]


class _Gather:
    """Several nodes' numbers as one array, and the way back for their gradients.

    `locs` lists (block, column) per entry, laid out in `shape`. All entries are per-sample or
    all are shared: `get` returns (batch, *shape) or `shape`. The layout is worked out once, so
    that a gather is a view where it can be: a whole block, a slice, one column broadcast.
    """

    def __init__(
        self, locs: Sequence[Loc], shape: tuple[int, ...], per_sample: bool, widths: list[int]
    ) -> None:
        self.shape, self.per_sample = shape, per_sample
        self.blocks = sorted({b for b, _ in locs})
        self.block = self.blocks[0]
        cols = np.array([c for _, c in locs], dtype=np.intp)
        one_block, flat = len(self.blocks) == 1, len(shape) == 1
        if one_block and (cols == cols[0]).all():
            self.mode = "one"  # the same node in every entry
            self.col = int(cols[0])
        elif one_block and flat and widths[self.block] == len(cols) and _counting(cols):
            self.mode = "whole"
        elif one_block and flat and _counting(cols - cols[0]):
            self.mode = "slice"
            self.lo, self.hi = int(cols[0]), int(cols[-1]) + 1
        elif one_block:
            self.mode = "take"
            self.idx = cols.reshape(shape)
            self.unique = len(set(cols.tolist())) == len(cols)
        else:
            self.mode = "pieces"
            in_block = np.array([b for b, _ in locs], dtype=np.intp)
            self.pieces = []
            for b in self.blocks:
                pos = np.flatnonzero(in_block == b)
                part = cols[pos]
                self.pieces.append((b, pos, part, len(set(part.tolist())) == len(part)))

    def get(self, V: list[Any]) -> Array:
        """The entries' numbers: (batch, *shape) per sample, `shape` when shared."""
        block, mode = V[self.block], self.mode
        lead = block.shape[:1] if self.per_sample else ()
        if mode == "whole":
            return block  # type: ignore[no-any-return]
        if mode == "one":
            col = block[..., self.col].reshape(lead + (1,) * len(self.shape))
            return np.broadcast_to(col, lead + self.shape)
        if mode == "slice":
            return block[..., self.lo : self.hi]  # type: ignore[no-any-return]
        if mode == "take":
            return block[..., self.idx]  # type: ignore[no-any-return]
        out = np.empty(lead + (int(np.prod(self.shape)),), dtype=np.float64)
        for b, pos, cols, _ in self.pieces:
            out[..., pos] = V[b][..., cols]
        return out.reshape(lead + self.shape)

    def add(self, G: _Grads, contrib: Array, from_batch: bool) -> None:
        """Add `contrib`, the gradient of every entry, to the entries' gradients in G.

        `from_batch` says that contrib has a batch axis: it is summed away for shared entries (a
        parameter's gradient is the sum over the batch). Blocks that keep no gradient
        (constants, derived leaves, inputs unless asked for) get nothing.
        """
        if from_batch and not self.per_sample:
            contrib = contrib.sum(axis=0)
        lead = contrib.shape[:1] if self.per_sample else ()
        if self.mode == "pieces":
            flat = contrib.reshape(lead + (-1,))
            for b, pos, cols, unique in self.pieces:
                if G.wanted[b]:
                    _scatter(G.block(b), cols, flat[..., pos], unique)
            return
        if not G.wanted[self.block]:
            return
        g = G.block(self.block)
        if self.mode == "whole":
            g += contrib
        elif self.mode == "one":
            g[..., self.col] += contrib.reshape(lead + (-1,)).sum(axis=-1)
        elif self.mode == "slice":
            g[..., self.lo : self.hi] += contrib
        else:
            _scatter(g, self.idx.ravel(), contrib.reshape(lead + (-1,)), self.unique)


def _counting(cols: Array) -> bool:
    """True when cols is 0, 1, 2, ... in order."""
    return bool((cols == np.arange(len(cols))).all())


def _scatter(g: Array, cols: Array, values: Array, unique: bool) -> None:
    """g[..., cols] += values, adding a repeated column as often as it occurs."""
    if unique:
        g[..., cols] += values
    else:
        np.add.at(g, (Ellipsis, cols), values)  # type: ignore[arg-type]


class _Grads:
    """Every block's gradient, allocated (as zeros) when something first adds to it."""

    def __init__(
        self, wanted: list[bool], per_sample: list[bool], widths: list[int], batch: int
    ) -> None:
        self.wanted, self.per_sample, self.widths, self.batch = wanted, per_sample, widths, batch
        self.arrays: list[Any] = [None] * len(widths)

    def block(self, b: int) -> Array:
        """Block b's gradient, (batch, width) or (width,)."""
        g = self.arrays[b]
        if g is None:
            shape = (self.batch, self.widths[b]) if self.per_sample[b] else (self.widths[b],)
            g = self.arrays[b] = np.zeros(shape, dtype=np.float64)
        return g  # type: ignore[no-any-return]


# ---- groups of siblings, one numpy operation each ----


class Group:
    """Sibling nodes run as one operation, their numbers one block: (batch, size) or (size,).

    `op` is the op's name, `kind` how it runs ("matmul", "stacked", "elementwise",
    "per-element" or "derived"), `depth` the longest path from a leaf, `members` the recorded
    nodes in column order, `block` where its numbers live and `reads` the blocks its operands
    come from (0 the inputs, 1 the parameters, 2 the constants, then the groups' blocks).
    """

    op: str
    kind: str
    block: int
    depth: int
    per_sample: bool
    members: list[Value]
    reads: tuple[int, ...]

    @property
    def size(self) -> int:
        """How many nodes the group holds."""
        return len(self.members)

    def forward(self, V: list[Any], batch: int) -> Array:
        """The members' numbers, from the blocks before this one."""
        raise NotImplementedError

    def backward(self, V: list[Any], G: _Grads, g: Array) -> None:
        """Add g * d member / d operand to every operand's gradient."""
        raise NotImplementedError

    def _full(self, out: Any, batch: int) -> Array:
        """`out` as a float64 array of exactly the group's shape (a rule may return a number)."""
        shape = (batch, self.size) if self.per_sample else (self.size,)
        out = np.asarray(out, dtype=np.float64)
        return out if out.shape == shape else np.array(np.broadcast_to(out, shape))

    def __repr__(self) -> str:
        where = "per sample" if self.per_sample else "shared"
        return f"<{self.size} {self.op} at depth {self.depth}, {self.kind}, {where}>"


class _Elementwise(Group):
    """Any op, one operand array per slot: out = f(*slots), d out / d slot_i = df(out, *slots)[i]."""

    def __init__(self, rules: tuple[Callable[..., Any], Callable[..., Any]], slots: list[_Gather]):
        self.f, self.df = rules
        self.slots = slots

    def forward(self, V: list[Any], batch: int) -> Array:
        return self._full(self.f(*[s.get(V) for s in self.slots]), batch)

    def backward(self, V: list[Any], G: _Grads, g: Array) -> None:
        local = self.df(V[self.block], *[s.get(V) for s in self.slots])
        for slot, d in zip(self.slots, local):
            if any(G.wanted[b] for b in slot.blocks):
                contrib = g if type(d) is float and d == 1.0 else g * d
                if contrib.shape != g.shape:  # a derivative given as one number
                    contrib = np.broadcast_to(contrib, g.shape)
                slot.add(G, contrib, self.per_sample)


class _Stacked(Group):
    """`sum` or `dot` nodes with their operands gathered as (group, operands) grids.

    sum: out = the sum of each row of every grid; dot: out = sum_k w_k x_k (+ b), the w's one
    grid and the x's another.
    """

    def __init__(self, grids: list[_Gather], bias: _Gather | None) -> None:
        self.grids, self.bias = grids, bias

    def forward(self, V: list[Any], batch: int) -> Array:
        if self.op == "sum":
            out: Any = sum(grid.get(V).sum(axis=-1) for grid in self.grids)
        else:
            w, x = (grid.get(V) for grid in self.grids)
            out = (w * x).sum(axis=-1)
        if self.bias is not None:
            out = out + self.bias.get(V)
        return self._full(out, batch)

    def backward(self, V: list[Any], G: _Grads, g: Array) -> None:
        col = g[..., None]
        if self.op == "sum":  # d sum / d x_i = 1
            for grid in self.grids:
                grid.add(G, np.broadcast_to(col, g.shape + grid.shape[-1:]), self.per_sample)
        else:  # d dot / d w_k = x_k, d dot / d x_k = w_k
            w_grid, x_grid = self.grids
            w, x = w_grid.get(V), x_grid.get(V)
            w_grid.add(G, col * x, self.per_sample)
            x_grid.add(G, col * w, self.per_sample)
        if self.bias is not None:
            self.bias.add(G, g, self.per_sample)


class _MatMul(Group):
    """A layer's `dot` nodes: the same per-sample inputs x (batch, n) for every node, each with
    shared weights of its own, the columns of W (n, size), and a shared bias: x @ W + b."""

    def __init__(self, x: _Gather, w: _Gather, bias: _Gather | None) -> None:
        self.x, self.w, self.bias = x, w, bias

    def forward(self, V: list[Any], batch: int) -> Array:
        out = self.x.get(V) @ self.w.get(V)
        if self.bias is not None:
            out += self.bias.get(V)
        return out  # type: ignore[no-any-return]

    def backward(self, V: list[Any], G: _Grads, g: Array) -> None:
        if any(G.wanted[b] for b in self.x.blocks):
            self.x.add(G, g @ self.w.get(V).T, True)  # d/dx_k = w_k
        if any(G.wanted[b] for b in self.w.blocks):
            self.w.add(G, self.x.get(V).T @ g, False)  # d/dw_k = x_k, summed over the batch
        if self.bias is not None:
            self.bias.add(G, g, True)


class _DerivedLeaf(Group):
    """A `Derived` leaf: its numbers from its sources' by its function, and no gradient."""

    def __init__(self, derived: Derived, sources: list[_Gather]) -> None:
        self.derived, self.sources = derived, sources

    def forward(self, V: list[Any], batch: int) -> Array:
        out = np.asarray(self.derived.fn(*[s.get(V) for s in self.sources]), dtype=np.float64)
        if self.per_sample:
            return np.array(np.broadcast_to(out, (batch,))).reshape(batch, 1)
        return np.array(np.broadcast_to(out, ())).reshape(1)

    def backward(self, V: list[Any], G: _Grads, g: Array) -> None:
        pass  # a constant for the chain rule


def _per_element(op: Op) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """`op`'s scalar rules applied to every entry of arrays: the same numbers, at Python speed."""

    def f(*arrays: Any) -> Array:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
        cols = [np.broadcast_to(a, shape).ravel().tolist() for a in arrays]
        return np.array([op.f(*xs) for xs in zip(*cols)], dtype=np.float64).reshape(shape)

    def df(out: Array, *arrays: Any) -> list[Array]:
        shape = np.broadcast_shapes(np.shape(out), *(np.shape(a) for a in arrays))
        cols = [np.broadcast_to(a, shape).ravel().tolist() for a in arrays]
        outs = np.broadcast_to(out, shape).ravel().tolist()
        local = np.array(
            [[float(d) for d in op.df(y, *xs)] for y, *xs in zip(outs, *cols)], dtype=np.float64
        ).reshape(-1, len(arrays))
        return [local[:, i].reshape(shape) for i in range(len(arrays))]

    return f, df


# ---- the replay ----


class Replay:
    """One sample's graph, run over batches: numbers per sample, parameter gradients summed.

    - `outputs`: the nodes wanted (a loss, a model's outputs); everything they depend on runs.
    - `inputs`: the per-sample leaves, in the order of the columns of the batch that `forward`
      takes (features, targets, dropout masks...).
    - `params`: the shared leaves that get gradients, summed over the batch. Their numbers are
      read from the Values at every `forward`, so an optimiser that writes `.data` is seen.
    - `derived`: per-sample leaves computed from other nodes (see `Derived`).
    - `input_grads`: also keep d/d input for every sample (`grad(input)`).
    Every other leaf is a constant, also read from its Value at every forward.
    """

    def __init__(
        self,
        outputs: Sequence[Value],
        inputs: Sequence[Value],
        params: Sequence[Value] = (),
        derived: Mapping[Value, Derived] | None = None,
        input_grads: bool = False,
    ) -> None:
        self.outputs, self.inputs, self.params = list(outputs), list(inputs), list(params)
        self.derived = dict(derived or {})
        _check_marks(self.outputs, self.inputs, self.params, self.derived)
        roots = [*self.outputs, *(s for d in self.derived.values() for s in d.sources)]
        self.order, self._operands = _order(roots, self.derived)
        self._compile(input_grads)
        self._values: list[Any] | None = None
        self._grads: _Grads | None = None
        self.batch = 0

    def _compile(self, input_grads: bool) -> None:
        """Place every node, group the siblings, and plan each group's numpy operation."""
        where: dict[Value, Loc] = {}
        per_sample: dict[Value, bool] = {}
        depth: dict[Value, int] = {}
        for block, leaves, kind in ((INPUTS, self.inputs, True), (PARAMS, self.params, False)):
            for i, v in enumerate(leaves):
                where[v], per_sample[v], depth[v] = (block, i), kind, 0
        self.constants: list[Value] = []
        groups: dict[tuple[int, tuple[Any, ...]], list[Value]] = {}
        for v in self.order:
            if v in where:
                continue
            if v.is_leaf and v not in self.derived:
                where[v], per_sample[v], depth[v] = (CONSTANTS, len(self.constants)), False, 0
                self.constants.append(v)
                continue
            ps = self._operands[v]
            if any(p not in depth for p in ps):  # only a derived leaf's sources can loop back
                raise ValueError(f"Replay(): {v!r} and a derived leaf it uses depend on each other")
            per_sample[v] = any(per_sample[p] for p in ps)
            depth[v] = 1 + max((depth[p] for p in ps), default=0)
            # Siblings: the same op at the same depth, each operand slot per-sample for all of
            # them or shared for all of them. A derived leaf runs alone.
            same: tuple[Any, ...] = (
                (v,) if v in self.derived else (v.rule, *map(per_sample.get, ps))
            )
            groups.setdefault((depth[v], same), []).append(v)
        widths = [len(self.inputs), len(self.params), len(self.constants)]
        self.groups: list[Group] = []
        slow: set[str] = set()
        for key in sorted(groups, key=lambda k: k[0]):  # stable: topological within a depth
            members = groups[key]
            group = self._plan(members, where, per_sample, widths)
            group.block, group.depth, group.members = len(widths), key[0], members
            group.per_sample = per_sample[members[0]]
            group.reads = tuple(sorted({where[p][0] for v in members for p in self._operands[v]}))
            if group.kind == "per-element":
                slow.add(group.op)
            for j, v in enumerate(members):
                where[v] = (group.block, j)
            widths.append(len(members))
            self.groups.append(group)
        self.where, self.widths, self._per_sample = where, widths, per_sample
        self._wanted = [input_grads, True, False] + [g.kind != "derived" for g in self.groups]
        self._block_per_sample = [True, False, False] + [g.per_sample for g in self.groups]
        if slow:
            warnings.warn(
                f"replay: op(s) {', '.join(sorted(slow))} have no array form (Op.array), so they "
                "are replayed element by element through their scalar rules: the same numbers, "
                "at Python speed",
                stacklevel=3,
            )

    def _plan(
        self,
        members: list[Value],
        where: dict[Value, Loc],
        per_sample: dict[Value, bool],
        widths: list[int],
    ) -> Group:
        """The numpy operation that computes `members`, siblings of one op."""
        first = members[0]
        operands = [self._operands[v] for v in members]
        kinds = [per_sample[p] for p in operands[0]]

        def slot_of_each(s: int) -> _Gather:  # operand s of every member: (members,)
            locs = [where[ops[s]] for ops in operands]
            return _Gather(locs, (len(members),), kinds[s], widths)

        def grid(slots: Sequence[int]) -> _Gather:  # slots of every member: (members, slots)
            locs = [where[ops[s]] for ops in operands for s in slots]
            return _Gather(locs, (len(members), len(slots)), kinds[slots[0]], widths)

        group: Group
        if first in self.derived:
            sources = [_Gather([where[p]], (), per_sample[p], widths) for p in operands[0]]
            group, op_name, kind = _DerivedLeaf(self.derived[first], sources), "derived", "derived"
        elif first.rule is DOT and len(kinds) >= 2:
            group, kind = self._dot_plan(operands, kinds, where, widths, slot_of_each, grid)
            op_name = "dot"
        elif first.rule is SUM and kinds:
            # Per-sample operands in one grid, shared ones in another.
            by_kind = [[s for s, k in enumerate(kinds) if k is want] for want in (True, False)]
            group = _Stacked([grid(slots) for slots in by_kind if slots], None)
            op_name, kind = "sum", "stacked"
        else:
            op = first.rule
            assert op is not None
            rules = array_rules(op)
            kind = "elementwise" if rules is not None else "per-element"
            group = _Elementwise(
                rules or _per_element(op), [slot_of_each(s) for s in range(len(kinds))]
            )
            op_name = op.name
        group.op, group.kind = op_name, kind
        return group

    def _dot_plan(
        self,
        operands: list[tuple[Value, ...]],
        kinds: list[bool],
        where: dict[Value, Loc],
        widths: list[int],
        slot_of_each: Callable[[int], _Gather],
        grid: Callable[[Sequence[int]], _Gather],
    ) -> tuple[Group, str]:
        """A matrix product for a layer's dots, stacked grids for other dots."""
        n = len(kinds) // 2
        bias = slot_of_each(2 * n) if len(kinds) % 2 else None
        ws, xs = list(range(n)), list(range(n, 2 * n))
        for vec, mat in ((xs, ws), (ws, xs)):  # w . x and x . w alike: dot is symmetric
            # A layer: one vector of per-sample operands, the same for every member, against
            # shared weights of each member's own, and a shared bias.
            if (
                all(kinds[s] for s in vec)
                and not any(kinds[s] for s in mat)
                and (bias is None or not kinds[-1])
                and all(ops[s] is operands[0][s] for ops in operands for s in vec)
            ):
                x = _Gather([where[operands[0][s]] for s in vec], (n,), True, widths)
                w_locs = [where[ops[s]] for s in mat for ops in operands]
                w = _Gather(w_locs, (n, len(operands)), False, widths)
                return _MatMul(x, w, bias), "matmul"
        if len({kinds[s] for s in ws}) == 1 and len({kinds[s] for s in xs}) == 1:
            return _Stacked([grid(ws), grid(xs)], bias), "stacked"
        rules = array_rules(DOT)
        assert rules is not None
        return _Elementwise(rules, [slot_of_each(s) for s in range(len(kinds))]), "elementwise"

    # ---- running ----

    def forward(self, X: Any) -> Replay:
        """Compute every node for the batch X, shape (batch, n_inputs): one row per sample."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.inputs) or X.shape[0] == 0:
            raise ValueError(
                f"Replay.forward needs a batch of shape (batch >= 1, {len(self.inputs)}), "
                f"got {X.shape}"
            )
        self.batch = batch = X.shape[0]
        V: list[Any] = [
            X,
            np.array([p.data for p in self.params], dtype=np.float64),
            np.array([c.data for c in self.constants], dtype=np.float64),
        ]
        self._values, self._grads = None, None
        with np.errstate(all="ignore"):  # IEEE-754 as the scalar rules: inf and nan, quietly
            for group in self.groups:
                V.append(group.forward(V, batch))
        self._values = V
        return self

    def backward(self, seeds: Mapping[Value, Any] | None = None) -> Array:
        """Push gradients back from the outputs; returns d/d params, summed over the batch.

        `seeds` maps outputs to their gradients: for a per-sample output a number (the same for
        every sample) or an array (batch,); for a shared output one number. By default every
        output is seeded with 1.
        """
        V = self._need_values()
        G = _Grads(self._wanted, self._block_per_sample, self.widths, self.batch)
        G.block(PARAMS)  # zeros, also for a parameter that nothing reaches
        for v, seed in (seeds if seeds is not None else dict.fromkeys(self.outputs, 1.0)).items():
            b, c = self._where(v)
            if b > CONSTANTS:  # a leaf passes nothing on
                if self._per_sample[v]:
                    G.block(b)[:, c] += seed
                else:
                    G.block(b)[c] += float(seed)
        with np.errstate(all="ignore"):
            for group in reversed(self.groups):  # every user of a node lies deeper than it
                g = G.arrays[group.block]
                if g is not None:
                    group.backward(V, G, g)
        self._grads = G
        return G.arrays[PARAMS]  # type: ignore[no-any-return]

    def value(self, v: Value) -> Any:
        """v's numbers from the last forward: an array (batch,) per sample, else a float."""
        V = self._need_values()
        b, c = self._where(v)
        return V[b][:, c] if self._per_sample[v] else float(V[b][c])

    def values(self, nodes: Sequence[Value]) -> Array:
        """The numbers of per-sample `nodes` as one array (batch, len(nodes))."""
        V = self._need_values()
        locs = [self._where(v) for v in nodes]
        if not all(self._per_sample[v] for v in nodes):
            raise ValueError("Replay.values takes per-sample nodes; use value() for a shared one")
        return _Gather(locs, (len(locs),), True, self.widths).get(V)

    def grad(self, v: Value) -> Any:
        """v's gradient from the last backward: per sample (batch,), or summed for a shared node."""
        if self._grads is None:
            raise RuntimeError("Replay: call backward() after forward() first")
        b, c = self._where(v)
        if not self._wanted[b]:
            raise ValueError(
                f"Replay.grad: no gradient is kept for {v!r} (a constant, a derived leaf, or an "
                "input without input_grads=True)"
            )
        g = self._grads.arrays[b]
        if g is None:  # nothing reached it
            return np.zeros(self.batch) if self._block_per_sample[b] else 0.0
        return g[:, c] if self._block_per_sample[b] else float(g[c])

    def operands(self, v: Value) -> tuple[Value, ...]:
        """What v is computed from, as this replay read it once (`parents`, or a derived leaf's
        sources): a constant is the same leaf Value at every call."""
        self._where(v)
        return self._operands[v]

    def is_per_sample(self, v: Value) -> bool:
        """True when v's number differs per sample, False when it is shared by the batch."""
        self._where(v)
        return self._per_sample[v]

    def _need_values(self) -> list[Any]:
        if self._values is None:
            raise RuntimeError("Replay: call forward(X) first")
        return self._values

    def _where(self, v: Value) -> Loc:
        try:
            return self.where[v]
        except (KeyError, TypeError):
            raise ValueError(f"Replay: {v!r} is not a node of the replayed graph") from None

    # ---- one sample as a scalar graph ----

    def sample(self, i: int, nodes: Sequence[Value] | None = None) -> list[Value]:
        """Sample i of the last forward as ordinary Values: the graph the scalar engine builds.

        Inputs and derived leaves become new leaves holding sample i's numbers; parameters and
        constants are the recorded Values themselves; every op node is rebuilt by its rule,
        keeping its label and scope. Returns the rebuilt `nodes` (default: the outputs).
        """
        V = self._need_values()
        if not -self.batch <= i < self.batch:
            raise IndexError(f"Replay.sample: no sample {i} in a batch of {self.batch}")
        i %= self.batch
        built: dict[Value, Value] = {}
        for v in self.order:
            b, c = self.where[v]
            if b in (PARAMS, CONSTANTS):
                new = v
            elif b == INPUTS or v in self.derived:
                new = Value(float(V[b][i, c]), v.label)
                new.scope = v.scope
            else:
                new = apply(v.rule, *[built[p] for p in self._operands[v]])  # type: ignore[arg-type]
                new.label, new.scope = v.label, v.scope
            built[v] = new
        return [built[v] for v in (self.outputs if nodes is None else nodes)]

    def __repr__(self) -> str:
        return (
            f"Replay({len(self.order)} nodes in {len(self.groups)} groups; {len(self.inputs)} "
            f"inputs, {len(self.params)} parameters, {len(self.constants)} constants)"
        )


def _check_marks(
    outputs: list[Value], inputs: list[Value], params: list[Value], derived: dict[Value, Derived]
) -> None:
    """Values everywhere, leaves for inputs and parameters, and no leaf marked twice."""
    marked: dict[Value, str] = {}
    for what, vs in (("outputs", outputs), ("inputs", inputs), ("params", params)):
        for i, v in enumerate(vs):
            if not isinstance(v, Value):
                raise TypeError(f"Replay() {what} must be Values, got {type(v).__name__} at {i}")
            if what != "outputs" and not v.is_leaf:
                raise ValueError(
                    f"Replay() {what} must be leaves; {what}[{i}] was made by {v.op!r}"
                )
    for what, vs in (("inputs", inputs), ("params", params), ("derived", list(derived))):
        for v in vs:
            if v in marked:
                raise ValueError(f"Replay(): {v!r} is marked twice, in {marked[v]} and in {what}")
            marked[v] = what
    for d in derived.values():
        if not isinstance(d, Derived) or not all(isinstance(s, Value) for s in d.sources):
            raise TypeError(f"Replay() derived must map leaves to Derived(fn, sources), got {d!r}")


def _order(
    roots: Sequence[Value], derived: Mapping[Value, Derived]
) -> tuple[list[Value], dict[Value, tuple[Value, ...]]]:
    """Every node reachable from roots through operands (and derived leaves' sources), each
    after what it is computed from, and those operands per node. An explicit stack: no recursion."""
    order: list[Value] = []
    operands: dict[Value, tuple[Value, ...]] = {}
    stack: list[tuple[Value, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif v not in operands:
            d = derived.get(v)
            # `parents` is read once per node: a constant appears as one leaf Value from here on.
            operands[v] = ps = d.sources if d is not None else v.parents
            stack.append((v, True))
            stack.extend((p, False) for p in reversed(ps) if p not in operands)
    return order, operands
