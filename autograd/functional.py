"""Derivatives as return values: `grad` of Values already computed, and of functions of Values
(`derivative`, `gradient`, `hessian`), n-th derivatives included.

Nothing here has derivative rules of its own. `grad(..., create_graph=True)` runs the rule table
on Values, so a gradient is itself a graph, and differentiating that graph again gives the
second derivative; repeating gives the third, and so on.

`f` may return a plain number: a constant, whose every derivative is 0, as in HIPS autograd.
A `grad` nested inside `f` is a constant too unless it is taken with `create_graph=True`:
without it, `grad` returns floats, so d/dx of `grad(x ** 3, x)` is 0, not 6x. That is PyTorch's
rule as well (its inner gradient does not require grad); pass `create_graph=True` to
differentiate through the inner gradient.

`fresh_leaves` and `call` are the one home of "f and its inputs as fresh leaves": `gradcheck` and
`autograd.testing` run f through them too.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import graph
from .context import enable_grad
from .reals import count, real
from .value import Value, anomaly_check


def backward(root: Value, grad: float = 1.0, create_graph: bool = False) -> None:
    """`root.backward(grad, create_graph)`: set v.grad = d root / d v for every v in root's graph."""
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {type(root).__name__}")
    root.backward(grad, create_graph)


def grad(
    outputs: Value | float | Sequence[Value | float],
    inputs: Value | Sequence[Value] | None = None,
    create_graph: bool = False,
) -> Any:
    """d sum(outputs) / d input for each input, returned without touching any `.grad`.

    An input that the outputs do not depend on gets 0. A plain number among the outputs is a
    constant and adds nothing, so a lone number gives 0 for every input, as in HIPS autograd.
    With create_graph=True every gradient is a Value (a constant becomes a leaf), ready to be
    differentiated again. Without it the gradients are floats, so a `grad` taken inside a
    function that is differentiated again is a constant there, as in PyTorch.
    """
    # `inputs` defaults to None only so that HIPS's grad(f), with no inputs, reaches this hint
    # instead of Python's bare "missing 1 required positional argument".
    if callable(outputs):
        raise TypeError(
            "grad(outputs, inputs) differentiates Values already computed; for HIPS's "
            "grad(f)(x) use ag.derivative(f, x), or ag.gradient(f, [x, ...]) for several inputs"
        )
    given: list[Any] = (
        [outputs] if isinstance(outputs, (Value, float, numbers.Real)) else list(outputs)
    )
    outs = [y for y in given if not isinstance(y, numbers.Real)]  # constants add nothing
    if isinstance(inputs, Value):
        ins = [inputs]
    elif inputs is None:
        raise TypeError("grad(outputs, inputs) needs inputs: the Values to differentiate by")
    else:
        ins = list(inputs)
    for x in (*outs, *ins):
        if not isinstance(x, Value):
            raise TypeError(f"grad() needs Values, got {type(x).__name__}")
    with graph.PASS_LOCK:
        result = graph.gradients(outs, ins, create_graph, anomaly_check(tuple(outs)))
    if create_graph:
        result = [g if isinstance(g, Value) else Value(g) for g in result]
    return result[0] if isinstance(inputs, Value) else result


def fresh_leaves(inputs: Any, who: str) -> list[Value]:
    """Fresh leaf Values holding f's inputs: numbers, or Values (only their data and label are used).

    Each leaf is labelled like its input, else x0, x1, ...; f runs on these, so that its graph is
    new and no input's .grad is touched. Errors name the entry point `who`.
    """
    if isinstance(inputs, (Value, str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"{who} needs a list of numbers or Values, got {type(inputs).__name__}")
    out = [
        Value(x.data, x.label or f"x{i}")
        if isinstance(x, Value)
        else Value(real(x, f"{who} input {i}"), f"x{i}")
        for i, x in enumerate(inputs)
    ]
    if not out:
        raise ValueError(f"{who} needs at least one input")
    return out


def call(f: Callable[..., Any], args: Sequence[Value], who: str, constants: bool = True) -> Value:
    """f(*args) as a Value; with `constants`, a plain number is a constant (every derivative 0)."""
    if not callable(f):
        raise TypeError(f"{who} needs a callable f, got {type(f).__name__}")
    y = f(*args)
    if isinstance(y, Value):
        return y
    if constants and isinstance(y, numbers.Real):
        return Value(y)  # a leaf that no input reaches
    want = "a Value or a number" if constants else "a Value"
    raise TypeError(f"{who}: f must return {want}, got {type(y).__name__}")


def derivative(f: Callable[[Value], Value | float], x: Any, order: int = 1) -> float:
    """d^n f/dx^n at x, by differentiating the derivative's own graph n - 1 times."""
    order = count(order, "derivative() order", 0)
    (leaf,) = fresh_leaves([x], "derivative()")
    with enable_grad():  # inside no_grad() the derivatives' own graphs would not be recorded
        y = call(f, [leaf], "derivative()")
        for _ in range(order):
            y = grad(y, leaf, create_graph=True)
    return y.data


def hessian(f: Callable[..., Value | float], inputs: Any) -> np.ndarray:
    """H[i, j] = d²f/dx_i dx_j: the gradient of each entry of f's gradient, taken as a graph.

    `f` takes one Value per input and returns a Value (or a number, a constant); `inputs` are
    numbers or Values (only their .data is used, and no .grad is touched). Returns an n x n
    float array. H is not symmetrised: its symmetry is a property of the rules, and tests
    check it.
    """
    xs = fresh_leaves(inputs, "hessian()")
    h = np.empty((len(xs), len(xs)))
    with enable_grad():  # as in derivative(): the gradient must be recorded as a graph
        first = grad(call(f, xs, "hessian()"), xs, create_graph=True)
        for i, g in enumerate(first):
            h[i] = grad(g, xs)
    return h


def gradient(f: Callable[..., Value | float], inputs: Any) -> np.ndarray:
    """g[i] = df/dx_i as a float array, the first-order companion of `hessian`."""
    xs = fresh_leaves(inputs, "gradient()")
    with enable_grad():
        return np.array(grad(call(f, xs, "gradient()"), xs), dtype=float)
