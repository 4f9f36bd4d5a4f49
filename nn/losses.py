"""Losses: each maps (predictions, targets) to the mean loss over the batch, as one `Value`."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd import Op, Value
from autograd.ops import data

from .batch import Batch, as_batch
from .module import Module

# The book clips probabilities to [1e-7, 1 - 1e-7] before taking logs, so that log(0) = -inf
# cannot happen and one confident mistake cannot dominate the mean.
EPSILON = 1e-7


def _clip(x: float, lo: float, hi: float) -> float:
    # min(max(x, lo), hi) in that order, as np.clip does, so hi wins when lo > hi; comparisons
    # let nan pass through.
    m = lo if x < lo else x
    return hi if m > hi else m


def _clip_df(out: Any, x: Any, lo: Any, hi: Any) -> tuple[float, float, float]:
    # Piecewise constant, so floats even for Value inputs (their derivative is 0 a.e.).
    xv, lv, hv = data(x), data(lo), data(hi)
    m = lv if xv < lv else xv
    return (
        1.0 if lv <= xv <= hv else 0.0,
        1.0 if xv < lv <= hv else 0.0,
        1.0 if m > hv else 0.0,
    )


# Registered by nn because the losses need it; the rule table is the engine's extension point.
CLIP: Op = (
    ag.OPS["clip"]
    if "clip" in ag.OPS
    else ag.register(
        Op(
            "clip",
            _clip,
            _clip_df,
            "f(x, lo, hi) = min(max(x, lo), hi); df/dx = 1 if lo <= x <= hi else 0, "
            "df/dlo = 1 if x < lo <= hi else 0, df/dhi = 1 if max(x, lo) > hi else 0",
            3,
            # max(x, lo) switches where x meets lo, and min(., hi) where max(x, lo) meets hi:
            # so lo kinks at hi too (bounds crossing), and hi at x and at lo.
            kinks=lambda x, lo, hi: ((lo, hi), (x, hi), (x, lo)),
        )
    )
)


def clip(x: Any, lo: float = EPSILON, hi: float = 1.0 - EPSILON) -> Value:
    """min(max(x, lo), hi) as one `clip` node; the gradient is 0 where the bound is in force."""
    return ag.apply(CLIP, x, lo, hi)


def _targets_like(y: Any, rows: Batch, who: str) -> Batch:
    """Targets shaped like the predictions; a 1-D target fits predictions with one column."""
    try:
        ndim = np.ndim(y)
    except ValueError:  # ragged: as_batch below names the problem
        ndim = 2
    if ndim == 1 and len(rows[0]) == 1:
        y = [[t] for t in (y.tolist() if isinstance(y, np.ndarray) else y)]
    target = as_batch(y, f"{who} targets")
    if (len(target), len(target[0])) != (len(rows), len(rows[0])):
        raise ValueError(
            f"{who}: predictions have shape ({len(rows)}, {len(rows[0])}) but targets have "
            f"shape ({len(target)}, {len(target[0])})"
        )
    return target


class MSE(Module):
    """L = mean over all entries of (y_hat - y)^2; dL/dy_hat = 2 (y_hat - y) / N."""

    prefix = "mse"

    def forward(self, pred: Any, target: Any) -> Value:
        """The mean squared difference between predictions and targets."""
        rows = as_batch(pred, self.name, wrap=True)
        target_rows = _targets_like(target, rows, self.name)
        squares = [
            (p - t).square() for row, trow in zip(rows, target_rows) for p, t in zip(row, trow)
        ]
        return ag.sum(squares) / len(squares)


def _class_weights(y: Any, n: int, k: int, who: str) -> list[list[tuple[int, float]]]:
    """Per sample, the (class, target probability) pairs with a nonzero target."""
    arr = np.asarray(y)
    if arr.ndim == 1:
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{who}: class indices must be integers, got dtype {arr.dtype}")
        if arr.shape[0] != n:
            raise ValueError(f"{who}: {n} predictions but {arr.shape[0]} class indices")
        bad = (arr < 0) | (arr >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{who}: class index {arr[i]} at sample {i} is outside 0..{k - 1} ({k} classes)"
            )
        return [[(int(c), 1.0)] for c in arr.tolist()]
    if arr.ndim == 2:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{who}: one-hot targets must be numbers, got dtype {arr.dtype}")
        if arr.shape != (n, k):
            raise ValueError(
                f"{who}: predictions have shape ({n}, {k}) but one-hot targets have {arr.shape}"
            )
        arr = arr.astype(np.float64)
        with np.errstate(invalid="ignore"):  # inf + -inf: the row is refused below anyway
            sums = arr.sum(axis=1)
        # Written so that nan fails: every comparison with nan is False.
        ok = (arr >= 0).all(axis=1) & np.isfinite(arr).all(axis=1) & (np.abs(sums - 1.0) <= 1e-6)
        bad = ~ok
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{who}: target row {i} is not a probability distribution: {arr[i].tolist()}"
            )
        return [[(c, t) for c, t in enumerate(row) if t != 0.0] for row in arr.tolist()]
    raise ValueError(
        f"{who}: targets must be class indices (n,) or one-hot (n, k), got shape {arr.shape}"
    )


class CategoricalCrossEntropy(Module):
    """L = mean_i -sum_k y_ik log clip(p_ik); dL/dp_ik = -y_ik / p_ik / n inside the clip range.

    Targets are class indices (n,) or one-hot rows (n, k). For one-hot rows this is the book's
    -log(sum_k p_ik y_ik); only the terms with y_ik != 0 enter the graph, so indices and one-hot
    targets build the same graph. Where the clip is in force the gradient is 0, the clip's own
    derivative; the book's hand-derived backward ignores the clip and uses -y / p there too.
    """

    prefix = "cce"

    def forward(self, probs: Any, y: Any) -> Value:
        """The mean negative log-probability of the correct classes."""
        rows = as_batch(probs, self.name, wrap=True)
        targets = _class_weights(y, len(rows), len(rows[0]), self.name)
        sample_losses = []
        for row, pairs in zip(rows, targets):
            logs = [clip(row[c]).log() if t == 1.0 else t * clip(row[c]).log() for c, t in pairs]
            sample_losses.append(-(logs[0] if len(logs) == 1 else ag.sum(logs)))
        return ag.sum(sample_losses) / len(sample_losses)


class BinaryCrossEntropy(Module):
    """L = mean -(y log clip(p) + (1 - y) log(1 - clip(p))); dL/dp = -(y/p - (1-y)/(1-p)) / N."""

    prefix = "bce"

    def forward(self, pred: Any, target: Any) -> Value:
        """The mean binary cross-entropy over all entries."""
        rows = as_batch(pred, self.name, wrap=True)
        target_rows = _targets_like(target, rows, self.name)
        terms = []
        for row, trow in zip(rows, target_rows):
            for p, t in zip(row, trow):
                pc = clip(p)
                terms.append(-(t * pc.log() + (1.0 - t) * (1.0 - pc).log()))
        return ag.sum(terms) / len(terms)
