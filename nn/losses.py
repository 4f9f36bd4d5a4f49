"""Losses: each maps (predictions, targets) to the mean loss over the batch, as one `Value`.

The book clips probabilities to [1e-7, 1 - 1e-7] before taking logs, so that log(0) = -inf
cannot happen and one confident mistake cannot dominate the mean. It clips the value only: its
hand-derived backward passes are those of the unclipped formulas (-y/p for the categorical
cross-entropy, which the softmax turns into (p - y)/n). The losses here compute the book's
clipped value and the book's gradient with ordinary ops: where the clip is in force, a term is
the unclipped graph plus a constant shift (`_shifted`), so its value is the clipped one and its
derivative that of the unclipped formula. A constant has no derivative, so no rule in the op
table states a derivative its function does not have.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag
from autograd import Value
from autograd.ops import data
from autograd.ops_piecewise import fclip
from autograd.reals import count, real_array
from autograd.replay import NotReplayable

from .activations import softmax_max
from .batch import Batch, as_batch
from .module import Module

if TYPE_CHECKING:
    from .replay import Recorder, StepData

# The book's clip: probabilities are kept in [EPSILON, 1 - EPSILON] before logs are taken.
EPSILON = 1e-7


def clip(x: Any, lo: float = EPSILON, hi: float = 1.0 - EPSILON) -> Value:
    """min(max(x, lo), hi) as one `clip` node (`ag.clip`), by default the book's bounds."""
    return ag.clip(x, lo, hi)


def _shifted(v: Value, value: float) -> Value:
    """v moved by a constant to `value`: the data is `value` (to rounding), the derivative v's."""
    return v + (value - v.data)


def _log_clipped(p: Value) -> Value:
    """log clip(p) as the book's forward computes it, with the derivative of log p, 1/p.

    That is the book's backward: -y/p with the clip ignored. Through a softmax it becomes
    (p - y)/n even for a sample whose p fell below 1e-7. When p is exactly 0 (its exponential
    underflowed) or infinite there is no finite log p to shift, and the term is the constant
    log clip(p): no chain rule through the softmax carries a gradient past an exact 0 (the
    book's separate backward gives nan there); SoftmaxCrossEntropy, on logits, has no such limit.
    """
    c = fclip(p.data, EPSILON, 1.0 - EPSILON)
    if c == p.data or c != c:  # inside the range, or nan (which passes through)
        return p.log()
    if 0.0 < p.data < math.inf:
        return _shifted(p.log(), math.log(c))
    return Value(math.log(c))


def _straight_through_clip(p: Value) -> Value:
    """clip(p) in value, with derivative 1: the book's binary cross-entropy backward uses the
    clipped p in y/p - (1 - y)/(1 - p), as if the clip were not there."""
    c = fclip(p.data, EPSILON, 1.0 - EPSILON)
    if c == p.data or c != c:  # inside the range, or nan (which passes through)
        return p
    return _shifted(p, c) if math.isfinite(p.data) else Value(c)


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


def _classes(y: Any, n: int, k: int, who: str) -> np.ndarray:
    """The targets checked: class indices (n,) as ints, or probability rows (n, k) as floats.

    Indices are counts by the engine's rule (ints, numpy integers, booleans as 0 and 1); the
    entries of a row are real numbers by Value()'s rule.
    """
    try:
        arr = np.asarray(y)
    except ValueError as e:  # ragged
        raise ValueError(f"{who}: the targets are not an array: {e}") from None
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise ValueError(f"{who}: {n} predictions but {arr.shape[0]} class indices")
        if arr.dtype.kind == "O":  # ints too large for numpy, or no ints at all
            return np.array(
                [
                    count(c, f"{who}: class index at sample {i}", 0, k - 1)
                    for i, c in enumerate(arr)
                ],
                dtype=np.int64,
            )
        if arr.dtype.kind not in "biu":
            raise TypeError(f"{who}: class indices must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64) if arr.dtype.kind == "b" else arr  # True is class 1, no mask
        bad = (arr < 0) | (arr >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{who}: class index {arr[i]} at sample {i} is outside 0..{k - 1} ({k} classes)"
            )
        return arr
    if arr.ndim == 2:
        arr = real_array(arr, f"{who} one-hot targets")
        if arr.shape != (n, k):
            raise ValueError(
                f"{who}: predictions have shape ({n}, {k}) but one-hot targets have {arr.shape}"
            )
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
        return arr
    raise ValueError(
        f"{who}: targets must be class indices (n,) or one-hot (n, k), got shape {arr.shape}"
    )


def _class_weights(y: Any, n: int, k: int, who: str) -> list[list[tuple[int, float]]]:
    """Per sample, the (class, target probability) pairs with a nonzero target."""
    arr = _classes(y, n, k, who)
    if arr.ndim == 1:
        return [[(int(c), 1.0)] for c in arr.tolist()]
    return [[(c, t) for c, t in enumerate(row) if t != 0.0] for row in arr.tolist()]


def _one_hot(y: Any, n: int, k: int, who: str) -> np.ndarray:
    """The targets as one-hot rows (n, k); soft targets (several nonzero entries) cannot replay."""
    arr = _classes(y, n, k, who)
    if arr.ndim == 1:
        out = np.zeros((n, k), dtype=np.float64)
        out[np.arange(n), arr] = 1.0
        return out
    if not ((arr == 1.0).sum(axis=1) == 1).all():
        raise NotReplayable(
            f"{who}: soft targets (rows with several nonzero entries) give each sample a graph "
            "of its own shape (one term per nonzero entry)"
        )
    return arr


def _numbers_like(y: Any, n: int, k: int, who: str) -> np.ndarray:
    """Targets shaped like the predictions (n, k), as `_targets_like` takes them, as floats."""
    arr = real_array(y, f"{who} targets")
    if arr.ndim == 1 and k == 1:
        arr = arr.reshape(-1, 1)
    if arr.shape != (n, k):
        raise ValueError(
            f"{who}: predictions have shape ({n}, {k}) but targets have shape {arr.shape}"
        )
    return arr


class Loss(Module):
    """A loss module: forward(predictions, targets) -> the mean loss, and its per-sample form.

    `sample_loss(row, tape)` builds one sample's sum of terms from its predictions (a row of
    Values), with its targets as per-sample input leaves, in a form whose shape is the same for
    every sample; it returns that sum and the number of terms. nn.replay runs it over a batch:
    the loss is the sum over samples divided by the number of terms of the batch.
    """

    replayable = True

    def record_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """`sample_loss` inside this loss's scope, as nn.replay records it, labelled with the
        loss's name: a sample's graph ends there, and `explain` reads d loss/d w."""
        with ag.scope(self.name, owner=self):
            total, terms = self.sample_loss(row, tape)
        if not total.label:
            total.label = self.name
        return total, terms

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """One sample's sum of terms and how many terms there are (see the class docstring)."""
        raise NotImplementedError(f"{type(self).__name__} has no per-sample form")

    def _numbers(self, tape: Recorder, k: int) -> list[Value]:
        """Target leaves for k numbers per sample."""

        def source(step: StepData) -> np.ndarray:
            return self._checked(_numbers_like(step.y, step.n, k, self.name))

        return tape.inputs_from([f"y[{j}]" for j in range(k)], source)

    def _checked(self, targets: np.ndarray) -> np.ndarray:
        """The targets (n, k) as floats, once this loss has checked what it needs of them."""
        return targets

    def _one_hot(self, tape: Recorder, k: int) -> list[Value]:
        """Target leaves for a one-hot row of k classes."""

        def source(step: StepData) -> np.ndarray:
            return _one_hot(step.y, step.n, k, self.name)

        return tape.inputs_from([f"y[{j}]" for j in range(k)], source)


def _sum(terms: list[Value]) -> Value:
    """One term itself, several as one `sum` node."""
    return terms[0] if len(terms) == 1 else ag.sum(terms)


def _clip_array(p: Any) -> Any:
    """fclip(p, EPSILON, 1 - EPSILON) entry by entry."""
    m = np.where(p < EPSILON, EPSILON, p)
    return np.where(m > 1.0 - EPSILON, 1.0 - EPSILON, m)


def _log_clip_shift(p: Any, log_p: Any) -> Any:
    """`_log_clipped`'s constant, per sample: log clip(p) - log p where the clip is in force."""
    c = _clip_array(p)
    clipped = (c != p) & (c == c)
    if (clipped & ~((p > 0.0) & (p < np.inf))).any():
        raise NotReplayable(
            "a probability of exactly 0 (or not in (0, inf)) has the constant log(1e-7) in the "
            "scalar graph, with no gradient, where other samples have log p"
        )
    return np.where(clipped, np.log(c) - log_p, 0.0)


def _straight_clip_shift(p: Any) -> Any:
    """`_straight_through_clip`'s constant, per sample: clip(p) - p where the clip is in force."""
    c = _clip_array(p)
    clipped = (c != p) & (c == c)
    if (clipped & ~np.isfinite(p)).any():
        raise NotReplayable(
            "an infinite prediction has the constant clip(p) in the scalar graph, with no "
            "gradient, where other samples have p"
        )
    return np.where(clipped, c - p, 0.0)


def _nll_clip_shift(nll: Any, total: Any, *exps_and_ys: Any) -> Any:
    """SoftmaxCrossEntropy's constant, per sample: -log clip(p_c) - nll where the clip is in
    force and nll is finite; p_c = e_c / total, the one-hot row picking e_c."""
    k = len(exps_and_ys) // 2
    picked: Any = -0.0
    for e, y in zip(exps_and_ys[:k], exps_and_ys[k:]):
        picked = picked + y * e
    p = picked / total
    c = _clip_array(p)
    return np.where((c != p) & np.isfinite(nll), -np.log(c) - nll, 0.0)


class MSE(Loss):
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

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """sum_j (y_hat_j - y_j)^2 over the sample's outputs, the targets input leaves."""
        targets = self._numbers(tape, len(row))
        return _sum([(p - t).square() for p, t in zip(row, targets)]), len(row)


class CategoricalCrossEntropy(Loss):
    """L = mean_i -sum_k y_ik log clip(p_ik); dL/dp_ik = -y_ik / p_ik / n, the book's, everywhere.

    Targets are class indices (n,) or one-hot rows (n, k). For one-hot rows this is the book's
    -log(sum_k clip(p_ik) y_ik); only the terms with y_ik != 0 enter the graph, so indices and
    one-hot targets build the same graph. The value is clipped as the book's forward clips it;
    the derivative is the book's backward, -y/p, also where the clip is in force, so that after
    a Softmax the gradient is the book's (p - y)/n at saturated samples too (see `_log_clipped`).
    """

    prefix = "cce"

    def forward(self, probs: Any, y: Any) -> Value:
        """The mean negative log-probability of the correct classes."""
        rows = as_batch(probs, self.name, wrap=True)
        targets = _class_weights(y, len(rows), len(rows[0]), self.name)
        sample_losses = []
        for row, pairs in zip(rows, targets):
            logs = [
                _log_clipped(row[c]) if t == 1.0 else t * _log_clipped(row[c]) for c, t in pairs
            ]
            sample_losses.append(-(logs[0] if len(logs) == 1 else ag.sum(logs)))
        return ag.sum(sample_losses) / len(sample_losses)

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """-log clip(p_c), with p_c = dot(y, p) for the one-hot target row y (input leaves).

        The pick is exact: the other products are 0 * p_k = 0. The clip is a derived shift,
        0 where it is not in force (see `_log_clipped`).
        """
        ys = self._one_hot(tape, len(row))
        p = ag.dot(ys, row)
        log_p = p.log()
        shift = tape.derived_leaf("clip", _log_clip_shift, [p, log_p])
        return -(log_p + shift), 1


class SoftmaxCrossEntropy(Loss):
    """Softmax and categorical cross-entropy in one, on logits z: the book's
    Activation_Softmax_Loss_CategoricalCrossentropy. L = mean_i -log clip(p_i,c), dL/dz = (p - y)/n.

    Each sample's loss is built as log sum_k e^(z_k - m) - (z_c - m), with m the row's max taken
    as a constant: that is -log p_c, and the chain rule through it gives p_k - y_k for every
    logit, with nothing to divide by p. No probability underflows into the way, so the gradient
    is (p - y)/n however saturated a sample is. The value is clipped as the book clips it.
    Targets are class indices (n,) or one-hot rows (n, k) (or any probability rows).
    """

    prefix = "softmax_cce"

    def forward(self, logits: Any, y: Any) -> Value:
        """The mean over samples of -log softmax(z)_c, clipped to at most -log(1e-7)."""
        rows = as_batch(logits, self.name, wrap=True)
        targets = _class_weights(y, len(rows), len(rows[0]), self.name)
        sample_losses = []
        for row, pairs in zip(rows, targets):
            m = max(v.data for v in row)
            shifted = [v - m for v in row]
            exps = [s.exp() for s in shifted]
            total = ag.sum(exps)
            log_total = total.log()
            terms = []
            for c, t in pairs:
                nll = log_total - shifted[c]  # -log p_c = log sum e^(z - m) - (z_c - m)
                p = exps[c].data / total.data
                clipped = fclip(p, EPSILON, 1.0 - EPSILON)
                if clipped != p and math.isfinite(nll.data):
                    nll = _shifted(nll, -math.log(clipped))
                terms.append(nll if t == 1.0 else t * nll)
            sample_losses.append(terms[0] if len(terms) == 1 else ag.sum(terms))
        return ag.sum(sample_losses) / len(sample_losses)

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """log sum_k e^(z_k - m) - dot(y, z - m) for the one-hot target row y (input leaves).

        m is the row's max (a derived leaf); dot(y, z - m) picks z_c - m exactly. The book's
        clip is a derived shift, 0 where it is not in force.
        """
        m = softmax_max(row, tape)
        shifted = [v - m for v in row]
        exps = [s.exp() for s in shifted]
        total = ag.sum(exps)
        ys = self._one_hot(tape, len(row))
        nll = total.log() - ag.dot(ys, shifted)
        shift = tape.derived_leaf("clip", _nll_clip_shift, [nll, total, *exps, *ys])
        return nll + shift, 1


class BinaryCrossEntropy(Loss):
    """L = mean -(y log clip(p) + (1 - y) log(1 - clip(p))); dL/dp = -(y/c - (1-y)/(1-c)) / N, c = clip(p).

    The book's formulas for both: its backward clips p too and then differentiates as if the clip
    were not there, so a confident mistake still gets a gradient.
    """

    prefix = "bce"

    def forward(self, pred: Any, target: Any) -> Value:
        """The mean binary cross-entropy over all entries."""
        rows = as_batch(pred, self.name, wrap=True)
        target_rows = _targets_like(target, rows, self.name)
        terms = []
        for row, trow in zip(rows, target_rows):
            for p, t in zip(row, trow):
                c = _straight_through_clip(p)
                if type(t) is float and t == 1.0:
                    terms.append(-c.log())
                elif type(t) is float and t == 0.0:
                    terms.append(-(1.0 - c).log())
                else:
                    terms.append(-(t * c.log() + (1.0 - t) * (1.0 - c).log()))
        return ag.sum(terms) / len(terms)

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """sum_j -(y log c + (1 - y) log(1 - c)), c = p + a derived clip shift, y input leaves.

        For y = 1 this is -log c to the bit (1 log c + 0 log(1 - c), with log(1 - c) finite as c
        is clipped), and likewise for y = 0: the scalar graph's two special cases.
        """
        targets = self._numbers(tape, len(row))
        terms = []
        for p, t in zip(row, targets):
            c = p + tape.derived_leaf("clip", _straight_clip_shift, [p])
            terms.append(-(t * c.log() + (1.0 - t) * (1.0 - c).log()))
        return _sum(terms), len(row)


class MAE(Loss):
    """L = mean over all entries of |y_hat - y|; dL/dy_hat = sign(y_hat - y) / N (0 where equal).

    |d| is written relu(d) + relu(-d), whose derivative at d = 0 is 0, as the book's np.sign.
    """

    prefix = "mae"

    def forward(self, pred: Any, target: Any) -> Value:
        """The mean absolute difference between predictions and targets."""
        rows = as_batch(pred, self.name, wrap=True)
        target_rows = _targets_like(target, rows, self.name)
        terms = []
        for row, trow in zip(rows, target_rows):
            for p, t in zip(row, trow):
                d = p - t
                terms.append(d.relu() + (-d).relu())
        return ag.sum(terms) / len(terms)

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """sum_j |y_hat_j - y_j|, written as in forward, the targets input leaves."""
        targets = self._numbers(tape, len(row))
        terms = []
        for p, t in zip(row, targets):
            d = p - t
            terms.append(d.relu() + (-d).relu())
        return _sum(terms), len(row)


class Hinge(Loss):
    """L = mean over all entries of max(0, 1 - y * s), for labels y in {-1, +1} and scores s.

    The max-margin loss of micrograd's demo: a sample costs nothing once its score is on the
    right side with margin 1. dL/ds = -y / N where y s < 1, else 0.
    """

    prefix = "hinge"

    def forward(self, scores: Any, target: Any) -> Value:
        """The mean hinge loss."""
        rows = as_batch(scores, self.name, wrap=True)
        target_rows = _targets_like(target, rows, self.name)
        self._checked(np.array([[data(t) for t in trow] for trow in target_rows]))
        terms = [
            (1.0 - s * t).relu() for row, trow in zip(rows, target_rows) for s, t in zip(row, trow)
        ]
        return ag.sum(terms) / len(terms)

    def _checked(self, targets: np.ndarray) -> np.ndarray:
        """The labels, each -1 or +1: a 0/1 label would cost a constant 1 and teach nothing."""
        bad = (targets != 1.0) & (targets != -1.0)
        if bad.any():
            i = np.unravel_index(int(np.argmax(bad)), bad.shape)
            hint = " (for 0/1 labels pass 2 * y - 1)" if np.isin(targets, (0.0, 1.0)).all() else ""
            raise ValueError(
                f"{self.name}: labels must be -1 or +1, got {targets[i]:g} at sample {i[0]}{hint}"
            )
        return targets

    def sample_loss(self, row: list[Value], tape: Recorder) -> tuple[Value, int]:
        """sum_j max(0, 1 - y_j s_j), the labels input leaves."""
        targets = self._numbers(tape, len(row))
        return _sum([(1.0 - s * t).relu() for s, t in zip(row, targets)]), len(row)
