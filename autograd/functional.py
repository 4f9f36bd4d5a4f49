"""Higher-order derivatives of functions of Values: n-th derivatives and Hessians.

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

from .context import enable_grad
from .reals import real
from .value import Value, grad


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
    if type(order) is not int or order < 0:
        raise ValueError(f"derivative() order must be an int >= 0, got {order!r}")
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
