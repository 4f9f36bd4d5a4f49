"""Batches: 2-D grids (n_samples, n_features) held as plain Python lists of rows.

Layers run their hot loops over Python lists, not numpy object arrays: indexing a list of
`Value`s costs a fraction of indexing an object array. Every public entry point converts its
input once, here, and checks it, so the loops themselves can stay free of checks.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from autograd import Value
from autograd.ops import data
from autograd.reals import real, real_array, refusal

Batch = list[list[Any]]  # rows of Values (or floats, for constants fed into a first layer)


def _shape_of(X: Any) -> str:
    try:
        return str(np.shape(X))
    except ValueError:  # a ragged nesting has no shape
        return "a ragged nesting"


def _input(x: float) -> Value:
    """A leaf for a number fed into a module: data from outside, so it belongs to no scope."""
    v = Value(x)
    v.scope = None
    return v


def _entry(e: Any, who: str, where: str) -> float:
    """A batch entry that is not a float or a Value, as a float, by the engine's one rule for
    numbers (`autograd.reals.real`), or the error that rule gives, naming `who` and the entry."""
    what = f"{who}: the entry at {where}"
    try:
        return real(e, what)
    except TypeError:
        raise refusal(e, what, "a real number or a Value") from None


def _row(r: Any, i: int, who: str) -> list[Any]:
    """Row `i` as a list of floats and Values; other real numbers become floats."""
    if isinstance(r, (Value, numbers.Real, str, bytes)) or not hasattr(r, "__iter__"):
        raise ValueError(
            f"{who} expects a 2-D batch (n_samples, n_features), but row {i} is a "
            f"{type(r).__name__}, not a sequence; wrap a single sample as [x]"
        )
    row = list(r)
    for k, e in enumerate(row):
        t = type(e)
        if t is not float and t is not Value:
            row[k] = _entry(e, who, f"[{i}][{k}]")
    return row


def as_batch(X: Any, who: str, width: int | None = None, wrap: bool = False) -> Batch:
    """`X` (a 2-D array-like of numbers or Values) as a list of equal-length rows.

    With `wrap`, numbers become leaf Values, for modules that call Value methods on every entry.
    """
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 2:
            raise ValueError(
                f"{who} expects a 2-D batch (n_samples, n_features), got shape {X.shape}"
                + ("; use X.reshape(1, -1) for one sample" if X.ndim == 1 else "")
            )
        # One exact conversion to Python floats (float32 and ints widen without rounding).
        rows: Batch = real_array(X, who).tolist()
    else:
        if isinstance(X, np.ndarray) and X.ndim != 2:
            raise ValueError(
                f"{who} expects a 2-D batch (n_samples, n_features), got shape {X.shape}"
            )
        if isinstance(X, (Value, numbers.Real, str, bytes)) or not hasattr(X, "__iter__"):
            raise TypeError(
                f"{who} expects a 2-D batch (n_samples, n_features), got {type(X).__name__}"
            )
        src = X.tolist() if isinstance(X, np.ndarray) else X
        rows = [_row(r, i, who) for i, r in enumerate(src)]
    if not rows:
        raise ValueError(f"{who} got an empty batch (0 samples)")
    m = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != m:
            raise ValueError(
                f"{who} expects a rectangular batch, but row 0 has {m} entries and row {i} has "
                f"{len(r)}"
            )
    if m == 0:
        raise ValueError(f"{who} got samples with 0 features (shape {_shape_of(X)})")
    if width is not None and m != width:
        raise ValueError(
            f"{who} expects {width} features per sample, got a batch of shape ({len(rows)}, {m})"
        )
    if wrap:
        rows = [[e if type(e) is Value else _input(e) for e in r] for r in rows]
    return rows


def to_values(X: Any, label: str = "x") -> list[list[Value]]:
    """Leaf Values for a 2-D array of numbers, labelled `x[i,j]`, whose grads backward fills."""
    rows = as_batch(X, "to_values()")
    return [
        [Value(e.data if type(e) is Value else e, f"{label}[{i},{j}]") for j, e in enumerate(r)]
        for i, r in enumerate(rows)
    ]


def data_array(batch: Any) -> np.ndarray:
    """The numbers of a batch of Values (or numbers) as a float64 array of the same shape."""
    if isinstance(batch, Value):
        return np.array(batch.data, dtype=np.float64)
    return np.array(_map_nested(batch, _data), dtype=np.float64)


def grad_array(batch: Any) -> np.ndarray:
    """The gradients of a batch of Values as a float64 array of the same shape."""
    if isinstance(batch, Value):
        return np.array(_grad(batch), dtype=np.float64)
    return np.array(_map_nested(batch, _grad), dtype=np.float64)


def _data(v: Any) -> float:
    if type(v) is Value:
        return v.data
    return v if type(v) is float else _entry(v, "data_array()", "an entry")


def _grad(v: Any) -> float:
    if type(v) is not Value:
        raise TypeError(f"only Values have gradients, got {type(v).__name__}")
    return data(v.grad)  # a Value after backward(create_graph=True)


def _map_nested(x: Any, f: Any) -> Any:
    if isinstance(x, (Value, numbers.Real, np.generic, str, bytes)):  # str: no endless descent
        return f(x)
    return [_map_nested(e, f) for e in x]
