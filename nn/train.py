"""Training: `accuracy`, one full-batch `train_step`, and `fit` with a tqdm progress bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Value, enable_grad

from .batch import as_batch, data_array
from .module import Module, gc_paused
from .optim import Optimizer


def accuracy(pred: Any, y: Any) -> float:
    """The fraction of samples classified correctly.

    Several columns: the predicted class is the row's argmax, and `y` holds class indices (n,)
    or one-hot rows (n, k). One column: a binary prediction, p > 0.5 means class 1, and `y`
    holds 0/1 labels shaped (n,) or (n, 1).
    """
    p = data_array(as_batch(pred, "accuracy()"))
    target = np.asarray(y)
    n, k = p.shape
    if k == 1:
        if target.size != n:
            raise ValueError(f"accuracy(): {n} predictions but {target.size} binary labels")
        return float(np.mean((p[:, 0] > 0.5) == (target.reshape(n) > 0.5)))
    if target.ndim == 2:
        if target.shape != (n, k):
            raise ValueError(
                f"accuracy(): predictions {p.shape} but one-hot targets {target.shape}"
            )
        target = np.argmax(target, axis=1)
    if target.shape != (n,):
        raise ValueError(f"accuracy(): predictions {p.shape} but targets {target.shape}")
    return float(np.mean(np.argmax(p, axis=1) == target))


def train_step(
    model: Module,
    loss_fn: Callable[[Any, Any], Value],
    optimizer: Optimizer,
    X: Any,
    y: Any,
) -> tuple[float, Any]:
    """One full-batch step: forward, loss, zero the grads, backward, update. Returns (loss, output)."""
    # Recording on, even inside no_grad(): there it would build no graph, and the step would
    # silently leave every parameter where it was.
    with enable_grad():
        output = model(X)
        loss = loss_fn(output, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data, output


def fit(
    model: Module,
    loss_fn: Callable[[Any, Any], Value],
    optimizer: Optimizer,
    X: Any,
    y: Any,
    epochs: int,
    *,
    metric: Callable[[Any, Any], float] | None = accuracy,
    progress: bool = True,
    desc: str = "training",
) -> dict[str, list[float]]:
    """Train for `epochs` full-batch steps and return the history of loss (and metric) per step.

    The loss and the metric are those of the forward pass of each step, before its update, as
    the book reports them. `progress` shows a tqdm bar with the latest numbers; `metric=None`
    skips the accuracy (for regression).
    """
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit() epochs must be a non-negative int, got {epochs!r}")
    # Convert the inputs once, rather than in every step.
    X = as_batch(X, "fit() X")
    history: dict[str, list[float]] = {"loss": [], "lr": []}
    if metric is not None:
        history["accuracy"] = []
    steps: Any = range(int(epochs))
    if progress:
        try:
            from tqdm import tqdm
        except ImportError as e:
            raise ImportError(
                "fit(progress=True) draws its bar with tqdm: pip install tqdm, "
                "or pass progress=False"
            ) from e
        steps = tqdm(steps, desc=desc, unit="step")
    # Modules pause the collector while they build nodes; pausing it for the whole loop also
    # saves the one scan of each step's graph that would follow each pause.
    with gc_paused():
        for _ in steps:
            loss, output = train_step(model, loss_fn, optimizer, X, y)
            history["loss"].append(loss)
            history["lr"].append(optimizer.current_learning_rate)  # the rate this step used
            postfix = {"loss": f"{loss:.4f}"}
            if metric is not None:
                acc = metric(output, y)
                history["accuracy"].append(acc)
                postfix["acc"] = f"{acc:.3f}"
            if progress:
                steps.set_postfix(postfix, refresh=False)
            del output  # free this step's graph now, not after the next one is built
    return history
