"""Training: accuracy metrics, one `train_step`, and `fit`, the book's training loop.

`fit` runs the loop of the book's chapters 10 to 17 (forward, loss, print, backward, update; one
full-batch step per epoch) and the parts of chapter 19's `Model.train` that the earlier chapters
lack: mini-batches, validation data, and a learning-rate schedule and callbacks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import Value, enable_grad, no_grad
from autograd.reals import count

from . import replay
from .batch import as_batch, data_array
from .layers import random_source
from .module import Module
from .optim import Optimizer

Metric = Callable[[Any, Any], float]
Callback = Callable[[int, dict[str, float]], Any]


def accuracy(pred: Any, y: Any, threshold: float = 0.5) -> float:
    """The fraction of samples classified correctly.

    Several columns: the predicted class is the row's argmax, and `y` holds class indices (n,)
    or one-hot rows (n, k). One column: a binary prediction, pred > threshold means the positive
    class, and so does y > threshold; 0.5 suits sigmoid outputs and 0/1 labels, 0 suits the
    scores and -1/+1 labels of a hinge loss.
    """
    p = _numbers(pred, "accuracy()")
    target = np.asarray(y)
    n, k = p.shape
    if k == 1:
        if target.size != n:
            raise ValueError(f"accuracy(): {n} predictions but {target.size} binary labels")
        return float(np.mean((p[:, 0] > threshold) == (target.reshape(n) > threshold)))
    if target.ndim == 2:
        if target.shape != (n, k):
            raise ValueError(
                f"accuracy(): predictions {p.shape} but one-hot targets {target.shape}"
            )
        target = np.argmax(target, axis=1)
    if target.shape != (n,):
        raise ValueError(f"accuracy(): predictions {p.shape} but targets {target.shape}")
    return float(np.mean(np.argmax(p, axis=1) == target))


def _numbers(pred: Any, who: str) -> np.ndarray:
    """Predictions as a float array (n, k): a replayed float array as it is, else via as_batch."""
    if isinstance(pred, np.ndarray) and pred.dtype == np.float64 and pred.ndim == 2 and pred.size:
        return pred
    return data_array(as_batch(pred, who))


class RegressionAccuracy:
    """The fraction of predictions within `precision` of their targets: |y_hat - y| < precision.

    The book's Accuracy_Regression: without a given precision, the first call sets it to
    std(y) / 250 from its targets (the training targets, in `fit`), and keeps it for validation.
    """

    def __init__(self, precision: float | None = None) -> None:
        self.precision = precision

    def __call__(self, pred: Any, y: Any) -> float:
        """mean(|y_hat - y| < precision)."""
        p = _numbers(pred, "RegressionAccuracy")
        target = np.asarray(y, dtype=np.float64).reshape(p.shape)
        if self.precision is None:
            self.precision = float(np.std(target) / 250)
        return float(np.mean(np.absolute(p - target) < self.precision))


def train_step(
    model: Module,
    loss_fn: Callable[[Any, Any], Value],
    optimizer: Optimizer,
    X: Any,
    y: Any,
    engine: str = "auto",
) -> tuple[float, Any]:
    """One step: forward, loss (plus the model's regularisation), zero grads, backward, update.

    Returns (the loss before the update, the model's output): Values from the scalar path, a
    float array (n_samples, n_outputs) from replay. `engine` is "replay", "scalar" or "auto"
    (replay when the model and loss allow; see nn.replay)."""
    _check_parts(model, loss_fn, optimizer, "train_step()")
    if replay.resolve(engine, model, loss_fn, X, "train_step()"):
        Xa = replay.as_inputs(X, "train_step() X")
        try:
            loss, _, _, output = replay.program(model, loss_fn, Xa.shape[1]).step(Xa, y, optimizer)
            return loss, output
        except replay.NotReplayable as e:
            if engine == "replay":
                raise ValueError(f"train_step() engine='replay' cannot run this batch: {e}") from e
            _fallback_warning(e)
    loss, _, _, output = _step(model, loss_fn, optimizer, X, y)
    return loss, output


def _check_parts(model: Any, loss_fn: Any, optimizer: Any, who: str) -> None:
    """A TypeError naming `who` for a model, loss or optimiser of the wrong kind."""
    if not isinstance(model, Module):
        raise TypeError(f"{who} needs an nn Module as the model, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(
            f"{who} needs a loss, a callable of (predictions, targets), got {type(loss_fn).__name__}"
        )
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{who} needs an nn optimiser (nn.SGD, nn.Adam, ...), got {type(optimizer).__name__}"
        )


def _fallback_warning(e: Exception) -> None:
    warnings.warn(
        f"replay cannot run this batch, so it runs on the scalar path: {e}",
        replay.ScalarPathWarning,
        stacklevel=3,
    )


def _step(
    model: Module, loss_fn: Callable[[Any, Any], Value], optimizer: Optimizer, X: Any, y: Any
) -> tuple[float, float, float | None, Any]:
    """train_step on the scalar path, also returning the data loss and the regularisation loss
    (None if none)."""
    # Recording on, even inside no_grad(): there it would build no graph, and the step would
    # silently leave every parameter where it was.
    with enable_grad():
        output = model(X)
        data_loss = loss_fn(output, y)
        penalty = model.regularization_loss()
        loss = data_loss if penalty is None else data_loss + penalty
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data, data_loss.data, None if penalty is None else penalty.data, output


def _rows(X: Any, index: np.ndarray) -> Any:
    return [X[i] for i in index.tolist()]


def _book_line(epoch: int, logs: dict[str, float]) -> str:
    """The line the book prints every `print_every` epochs, in its format."""
    acc = f"acc: {logs['accuracy']:.3f}, " if "accuracy" in logs else ""
    loss = f"loss: {logs['loss']:.3f}"
    if "reg_loss" in logs:  # the book's chapters 14 to 17, which regularise
        loss += f" (data_loss: {logs['data_loss']:.3f}, reg_loss: {logs['reg_loss']:.3f})"
    return f"epoch: {epoch}, {acc}{loss}, lr: {logs['lr']}"


def fit(
    model: Module,
    loss_fn: Callable[[Any, Any], Value],
    optimizer: Optimizer,
    X: Any,
    y: Any,
    epochs: int,
    *,
    batch_size: int | None = None,
    rng: np.random.Generator | int | None = None,
    schedule: Callable[[int], float] | None = None,
    callbacks: Iterable[Callback] = (),
    validation_data: tuple[Any, Any] | None = None,
    metric: Metric | None = accuracy,
    print_every: int | None = None,
    progress: bool | None = None,
    desc: str = "training",
    engine: str = "auto",
) -> dict[str, list[float]]:
    """Train for `epochs` passes over (X, y) and return the history of each number per epoch.

    - One step per epoch over the whole batch, as the book's chapters 10 to 17; or, with
      `batch_size`, a step per batch, the batches taken in order or, with `rng` (a seed or a
      Generator), from a fresh shuffle each epoch.
    - The loss is the data loss plus the model's `regularization_loss()`; the numbers of an epoch
      are those of its forward passes, before their updates, as the book reports them (with
      batches: each batch's numbers, weighted by its size).
    - `schedule(step)` sets the optimiser's learning rate before each step (step counts the
      optimiser's steps), e.g. micrograd's lambda k: 1.0 - 0.9 * k / 100.
    - history["lr"][e] is the optimiser's current_learning_rate as epoch e starts: what the book
      prints on its line for epoch e (the rate of the step before; the initial rate at epoch 0).
    - `validation_data` (X_val, y_val) is scored after every epoch in evaluation mode, with no
      graph: history["val_loss"] (data loss) and history["val_accuracy"].
    - `callbacks`: each is called as cb(epoch, logs) after every epoch, logs holding that epoch's
      numbers; returning True stops training.
    - `print_every`: print the book's line ("epoch: 0, acc: 0.360, loss: 1.099, lr: 0.05") at
      every epoch divisible by it, and the validation line after it.
    - `progress` shows a tqdm bar (default: when nothing is printed); `metric=None` skips accuracy.
    - `engine`: "replay" records one sample's graph once and runs it over every batch as
      arrays, "scalar" builds every sample's graph of Values, "auto" (default) replays when the
      model and loss allow and falls back otherwise (see nn.replay); the numbers agree to
      rounding.
    """
    _check_parts(model, loss_fn, optimizer, "fit()")
    epochs = count(epochs, "fit() epochs", 0)
    if batch_size is not None:
        batch_size = count(batch_size, "fit() batch_size", 1)
    if print_every is not None:
        print_every = count(print_every, "fit() print_every", 1)
    if schedule is not None and not callable(schedule):
        raise TypeError(
            f"fit() schedule must be a callable of the step, got {type(schedule).__name__}"
        )
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"fit() callbacks must be callables, got {type(cb).__name__}")
    use_replay = replay.resolve(engine, model, loss_fn, X, "fit()")
    # Convert the inputs once, rather than in every step.
    X = replay.as_inputs(X, "fit() X") if use_replay else as_batch(X, "fit() X")
    y_all = np.asarray(y)
    if len(y_all) != len(X):
        raise ValueError(f"fit(): {len(X)} samples in X but {len(y_all)} targets in y")
    shuffle = None if rng is None else random_source(rng, "fit()")
    if validation_data is not None:
        if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
            raise TypeError("fit() validation_data must be a pair (X_val, y_val)")
        X_val: Any
        if use_replay:
            X_val = replay.as_inputs(validation_data[0], "fit() validation X")
        else:
            X_val = as_batch(validation_data[0], "fit() validation X")
        y_val = validation_data[1]
    n = len(X)
    size = n if batch_size is None else min(int(batch_size), n)
    history: dict[str, list[float]] = {}
    epoch_range: Any = range(int(epochs))
    if progress is None:
        progress = print_every is None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError as e:
            raise ImportError(
                "fit(progress=True) draws its bar with tqdm: pip install tqdm, "
                "or pass progress=False"
            ) from e
        epoch_range = tqdm(epoch_range, desc=desc, unit="epoch")
    warned = False  # about a batch that replay could not run
    model.train()
    for epoch in epoch_range:
        logs: dict[str, float] = {"lr": optimizer.current_learning_rate}
        order = np.arange(n) if shuffle is None else shuffle.permutation(n)
        steps: list[Any] = []  # per step: (samples, loss, data loss, regularisation or None)
        outputs = []
        for start in range(0, n, size):
            index = order[start : start + size]
            whole = len(index) == n and shuffle is None
            if schedule is not None:
                optimizer.learning_rate = schedule(optimizer.iterations)
            if use_replay:
                Xb = X if whole else X[index]
                try:
                    program = replay.program(model, loss_fn, Xb.shape[1])
                    *losses, output = program.step(Xb, y_all[index], optimizer)
                except replay.NotReplayable as e:
                    if engine == "replay":
                        raise ValueError(
                            f"fit() engine='replay' cannot run a batch of epoch {epoch}: {e}"
                        ) from e
                    if not warned:
                        _fallback_warning(e)
                        warned = True
                    *losses, output = _step(model, loss_fn, optimizer, Xb, y_all[index])
            else:
                Xb = X if whole else _rows(X, index)
                *losses, output = _step(model, loss_fn, optimizer, Xb, y_all[index])
            steps.append((len(index), *losses))
            if metric is not None:
                outputs.append(_numbers(output, "fit()"))
            del output  # free this step's graph now, not after the next one is built
        names = ["loss", "data_loss"] + ([] if steps[0][3] is None else ["reg_loss"])
        for k, name in enumerate(names, start=1):
            # One step: its own number, exactly; several: the mean weighted by batch size.
            logs[name] = steps[0][k] if len(steps) == 1 else sum(s[0] * s[k] for s in steps) / n
        if len(names) == 2:
            del logs["data_loss"]
        if metric is not None:
            logs["accuracy"] = metric(np.concatenate(outputs), y_all[order])
        if validation_data is not None and use_replay:
            logs["val_loss"], out = replay.evaluate(model, loss_fn, X_val, y_val)
            if metric is not None:
                logs["val_accuracy"] = metric(out, y_val)
        elif validation_data is not None:
            out = model.predict(X_val, engine="scalar")
            with no_grad():
                logs["val_loss"] = loss_fn(out, y_val).data
            if metric is not None:
                logs["val_accuracy"] = metric(out, y_val)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        if print_every is not None and epoch % print_every == 0:
            print(_book_line(epoch, logs))
            if validation_data is not None:
                acc = f"acc: {logs['val_accuracy']:.3f}, " if metric is not None else ""
                print(f"validation, {acc}loss: {logs['val_loss']:.3f}")
        if progress:
            shown = {"loss": f"{logs['loss']:.4f}"}
            if "accuracy" in logs:
                shown["acc"] = f"{logs['accuracy']:.3f}"
            epoch_range.set_postfix(shown, refresh=False)
        if any([cb(epoch, dict(logs)) is True for cb in callbacks]):
            break
    return history
