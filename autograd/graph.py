"""Walking a graph without recursion, and the chain rule over it.

A node here is a `Value` (value.py), read through four attributes: `data`, `grad`, `_rule` (the
`Op` that made it, None for a leaf) and `_inputs` (the op's inputs in order: a Value for each
operand node, a float for each constant). This module needs no more than that, so it sits below
value.py, whose `backward()` calls it.

Every walk uses an explicit stack, so a chain of a million nodes needs no deeper Python stack
than a chain of three. Walks key on identity: `Value` never defines `__eq__`.

Threads. The recording modes (`no_grad`, `scope`, `detect_anomaly`) are per thread and per
asyncio task. Every pass over `.grad` (backward, `grad`, `zero_grad`) holds `PASS_LOCK` for its
whole length, so passes from several threads run one after another and never lose an update to
a leaf that their graphs share (`a.grad += ...` is a read and a write). Building graphs in
several threads from shared leaves needs no lock: a forward op reads its operands and writes
only the node it creates. Not synchronised: writing `.data` or `.grad` yourself (an optimiser's
step, an `nn` module's `zero_grad`) while another thread's pass runs over the same nodes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import fast
from .context import enable_grad
from .ops import OPS, data, dot_order

if TYPE_CHECKING:  # nodes are read through their attributes only: see the top of this module
    from .value import Value

DOT = OPS["dot"]
# Reentrant, so that a rule that differentiates inside (a custom op's df calling grad) still can.
PASS_LOCK = threading.RLock()

# detect_anomaly's hook into the chain rule: check(node, its grad, its local derivatives).
Check = Callable[[Any, Any, Sequence[Any]], None]


def _check_roots(roots: tuple[Any, ...], who: str) -> None:
    """A TypeError naming `who` for a root that is no node (nodes are read through `_inputs`)."""
    for r in roots:
        # Not isinstance(r, Value): graph.py sits below value.py, which imports it (see the top).
        if not hasattr(r, "_inputs"):
            hint = f" (unpack it: {who[:-1]}*values))" if isinstance(r, list | tuple) else ""
            raise TypeError(f"{who} needs Values, got {type(r).__name__}{hint}")


def topological_order(*roots: Value) -> list[Value]:
    """Every node reachable from `roots`, each one listed after all of its operands."""
    _check_roots(roots, "topological_order()")
    return _order(roots)


def _order(roots: tuple[Value, ...]) -> list[Value]:
    """`topological_order` of roots already known to be nodes."""
    # Depth-first, with an explicit stack: a None pushed above a node means "its operands are
    # done once you pop me", so the node is listed right after them (postorder).
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Value | None] = list(roots)
    while stack:
        v = stack.pop()
        if v is None:
            order.append(stack.pop())  # type: ignore[arg-type]
        elif v not in seen:
            seen.add(v)
            stack.append(v)
            stack.append(None)
            for a in v._inputs:
                # The set test first: most operands of a layer's nodes are weights already seen.
                if a not in seen and type(a) is not float:
                    stack.append(a)
    return order


def reverse_topological_order(*roots: Value) -> list[Value]:
    """Every node reachable from `roots`, each one listed before all of its operands."""
    _check_roots(roots, "reverse_topological_order()")
    order = _order(roots)
    order.reverse()
    return order


def zero_grad(*roots: Value) -> None:
    """Set grad = 0 on every node of the graphs of `roots`."""
    _check_roots(roots, "zero_grad()")
    with PASS_LOCK:
        for v in _order(roots):
            v.grad = 0.0


def chain_rule(order: list[Value], create_graph: bool = False, check: Check | None = None) -> None:
    """operand.grad += node.grad * d node / d operand, for every node from the roots down.

    The reference: `fast.chain_rule` is this loop unrolled for speed, and a test holds the two
    equal to the last bit. `order` is topological (operands first). Every intermediate grad must
    be 0 and the roots' grads must hold their seeds; leaves add to whatever grad they had. With
    `create_graph` the rules run on Values, so every gradient is a graph of its own.
    """
    for node in reversed(order):
        inputs = node._inputs
        if not inputs:
            continue  # a leaf: the chain ends here
        g, rule = node.grad, node._rule
        # On floats, or with create_graph on the Values themselves: then d is a graph too.
        args = (node, *inputs) if create_graph else (node.data, *map(data, inputs))
        local = rule.df(*args)  # type: ignore[union-attr]  # a node with inputs has its rule
        if check is not None:
            check(node, g, local)
        # A dot adds w_1, x_1, w_2, x_2, ...: an operand in several slots sums in that one order.
        for i in dot_order(len(inputs)) if rule is DOT else range(len(inputs)):
            operand, d = inputs[i], local[i]
            if type(operand) is float:
                continue  # a constant: nothing to differentiate
            if create_graph and type(operand.grad) is float and operand.grad == 0.0:
                operand.grad = g * d  # start from the contribution, not from a `0 + ...` node
            else:
                operand.grad += g * d


def backward(
    root: Value,
    seed: float,
    create_graph: bool = False,
    check: Check | None = None,
    fast_path: bool = True,
) -> list[Value]:
    """Set v.grad = d root / d v * seed for every v in root's graph; returns the graph's order.

    Intermediate nodes get this pass's gradient; leaves (the root too, when it is one) add it to
    what they had. On floats (no create_graph, no check) `fast.backward` does the same work,
    unless `fast_path` is False. The caller holds `PASS_LOCK`.
    """
    if fast_path and not create_graph and check is None:
        return fast.backward(root, seed)
    order = topological_order(root)
    for v in order:
        if v._inputs:
            v.grad = 0.0
    if root._inputs:
        root.grad = seed
    else:
        root.grad += seed
    _chain_rule(order, create_graph, check, fast_path)
    return order


def _chain_rule(
    order: list[Value], create_graph: bool, check: Check | None, fast_path: bool
) -> None:
    """`chain_rule`, or `fast.chain_rule` when it can and may.

    As in PyTorch, `create_graph` records the backward pass even inside `no_grad()`.
    """
    if create_graph:
        with enable_grad():
            chain_rule(order, True, check)
    elif check is None and fast_path:
        fast.chain_rule(order)
    else:
        chain_rule(order, False, check)


def gradients(
    outputs: Sequence[Value], inputs: Sequence[Value], create_graph: bool, check: Check | None
) -> list[Any]:
    """d sum(outputs) / d x for each x in `inputs` (0.0 outside the graph), leaving every `.grad` as it was.

    The chain rule runs on borrowed `.grad` slots, which get their values back afterwards. The
    caller holds `PASS_LOCK`.
    """
    order = topological_order(*outputs)
    saved = [v.grad for v in order]
    try:
        for v in order:
            v.grad = 0.0
        for r in outputs:
            r.grad += 1.0
        _chain_rule(order, create_graph, check, True)
        in_graph = set(order)
        return [x.grad if x in in_graph else 0.0 for x in inputs]
    finally:
        for v, g in zip(order, saved):
            v.grad = g
