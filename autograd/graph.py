"""Walking a graph without recursion, and the chain rule over it.

Every walk here uses an explicit stack, so a chain of a million nodes needs no deeper Python
stack than a chain of three. Graph walks key on identity: `Value` never defines `__eq__`.

Threads. The recording modes (`no_grad`, `scope`, `detect_anomaly`) are per thread and per
asyncio task. `backward`, `grad` and `zero_grad` each hold one lock for their whole pass, so
passes from several threads run one after another and never lose an update to a leaf that
their graphs share (`a.grad += ...` is a read and a write). Building graphs in several threads
from shared leaves needs no lock: a forward op reads its operands and writes only the node it
creates. Not synchronised: writing `.data` or `.grad` yourself (an optimiser's step, an
`nn` module's `zero_grad`) while another thread's pass runs over the same nodes.
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from . import context
from .context import enable_grad
from .ops import OPS, dot_order
from .value import Value, real

DOT = OPS["dot"]
# Reentrant, so that a rule that differentiates inside (a custom op's df calling grad) still can.
_PASS_LOCK = threading.RLock()


def topological_order(*roots: Value) -> list[Value]:
    """Every node reachable from `roots`, each one listed after all of its operands."""
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
            for a in v._args:
                # The set test first: most operands of a layer's nodes are weights already seen.
                if a not in seen and type(a) is not float:
                    stack.append(a)
    return order


def reverse_topological_order(*roots: Value) -> list[Value]:
    """Every node reachable from `roots`, each one listed before all of its operands."""
    order = topological_order(*roots)
    order.reverse()
    return order


def zero_grad(*roots: Value) -> None:
    """Set grad = 0 on every node of the graphs of `roots`."""
    with _PASS_LOCK:
        for v in reverse_topological_order(*roots):
            v.grad = 0.0


def _propagate(order: list[Value], roots: Sequence[Value], create_graph: bool) -> None:
    """The chain rule: push each node's grad to its operands, from the root down.

    `order` is topological (operands first). Expects every intermediate grad to be 0 and the
    roots' grads to hold their seeds; leaves accumulate into whatever grad they already had.
    With create_graph the local derivatives come from the same rules applied to Values, so
    every gradient becomes a differentiable Value.
    """
    check = context.current().anomaly
    fast = not (create_graph or check)
    for v in reversed(order):
        args = v._args
        if not args:
            continue
        g = v.grad
        df = v._rule.df  # type: ignore[union-attr]  # a node with operands has its rule
        if fast and len(args) == 2:
            # Binary ops are the bulk of every graph, so their case is spelled out. A float
            # operand is a constant: it needs its data for the rule, and no gradient.
            a, b = args
            if type(a) is float:
                if type(b) is not float:
                    b.grad += g * df(v.data, a, b.data)[1]
            elif type(b) is float:
                a.grad += g * df(v.data, a.data, b)[0]
            else:
                da, db = df(v.data, a.data, b.data)
                a.grad += g * da
                b.grad += g * db
        elif fast and len(args) == 1 and type(args[0]) is not float:
            a = args[0]
            a.grad += g * df(v.data, a.data)[0]
        elif fast and v._rule is DOT:
            # A neuron's dot has dozens of operands, so its rule (d/dw_k = x_k, d/dx_k = w_k,
            # d/db = 1) is spelled out too. ag.dot leaves two shapes: every operand a Value,
            # or every input a bare float (data) and the rest Values.
            n = len(args) // 2
            if n and type(args[n]) is float:
                for w, x in zip(args[:n], args[n:]):
                    w.grad += g * x
            else:
                for w, x in zip(args[:n], args[n:]):
                    w.grad += g * x.data
                    x.grad += g * w.data
            if len(args) % 2:
                args[-1].grad += g
        else:
            if create_graph:
                local = df(v, *args)
            else:
                local = df(v.data, *[a if type(a) is float else a.data for a in args])
            if check:
                from .anomaly import backward_anomaly

                backward_anomaly(v, g, local, roots)
            slots = dot_order(len(args)) if v._rule is DOT else range(len(args))
            for i in slots:  # a dot adds w_1, x_1, w_2, ... as the fast path above does
                a, d = args[i], local[i]
                if type(a) is float:
                    continue
                if create_graph and type(a.grad) is float and a.grad == 0.0:
                    a.grad = g * d  # start from the contribution itself, not from a `0 + ...` node
                else:
                    a.grad += g * d


def backward(root: Value, grad: float = 1.0, create_graph: bool = False) -> None:
    """Set v.grad = d root / d v for every v in root's graph.

    Intermediate nodes show this pass's gradient; leaves accumulate across passes until zeroed.
    With create_graph every grad becomes a Value that can be differentiated again. Passes from
    several threads run one at a time (see "Threads" at the top of this module).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {type(root).__name__}")
    if type(grad) is not float:
        # The seed follows Value()'s rule: an np.float32 seed would make every gradient float32.
        grad = real(grad, "backward(grad=...)")
    with _PASS_LOCK:  # one pass at a time: see "Threads" above
        order = topological_order(root)
        for v in order:
            if v._args:
                v.grad = 0.0
        if root._args:
            root.grad = grad
        else:
            root.grad += grad
        if create_graph:
            # As in PyTorch, create_graph records the backward pass even inside no_grad().
            with enable_grad():
                _propagate(order, (root,), True)
        else:
            _propagate(order, (root,), False)
        if create_graph:
            # A constant derivative (of x / 3, say) comes out of the rules as a float; as a Value
            # it can be differentiated again like every other gradient, giving 0.
            for v in order:
                if type(v.grad) is float:
                    v.grad = Value(v.grad)


def grad(
    outputs: Value | float | Sequence[Value | float],
    inputs: Value | Sequence[Value],
    create_graph: bool = False,
) -> Any:
    """d sum(outputs) / d input for each input, returned without touching any `.grad`.

    An input that the outputs do not depend on gets 0. A plain number among the outputs is a
    constant and adds nothing, so a lone number gives 0 for every input, as in HIPS autograd.
    With create_graph=True every gradient is a Value (a constant becomes a leaf), ready to be
    differentiated again. Without it the gradients are floats, so a `grad` taken inside a
    function that is differentiated again is a constant there, as in PyTorch.
    """
    if callable(outputs):
        raise TypeError(
            "grad(outputs, inputs) differentiates Values already computed; for HIPS's "
            "grad(f)(x) use ag.derivative(f, x), or ag.gradient(f, [x, ...]) for several inputs"
        )
    given: list[Any] = (
        [outputs] if isinstance(outputs, (Value, float, numbers.Real)) else list(outputs)
    )
    outs = [y for y in given if not isinstance(y, numbers.Real)]  # constants add nothing
    ins = [inputs] if isinstance(inputs, Value) else list(inputs)
    for x in (*outs, *ins):
        if not isinstance(x, Value):
            raise TypeError(f"grad() needs Values, got {type(x).__name__}")
    with _PASS_LOCK:
        order = topological_order(*outs)
        # Run the one chain-rule loop on borrowed .grad slots, then give every node its grad
        # back.
        saved = [v.grad for v in order]
        try:
            for v in order:
                v.grad = 0.0
            for r in outs:
                r.grad += 1.0
            with enable_grad() if create_graph else nullcontext():
                _propagate(order, outs, create_graph)
            in_graph = set(order)
            result = [x.grad if x in in_graph else 0.0 for x in ins]
        finally:
            for v, g in zip(order, saved):
                v.grad = g
    if create_graph:
        result = [g if isinstance(g, Value) else Value(g) for g in result]
    return result[0] if isinstance(inputs, Value) else result
