"""The book's training runs, chapter by chapter, in two forms: its own loop over `nn.reference`
(the book's code in float64) and the same run with `nn`, from the same data and initial weights.

Both start with `book_numpy()`, which does what the book's first cell does, nnfs.init(): it
seeds numpy's global generator with 0 and makes np.random.randn, np.zeros and np.dot return
float32. The data and the initial weights are then the book's to the bit, whichever side draws
them (nn's Dense(init="book") makes the book's very call, 0.01 * np.random.randn(...)). Training
itself runs in float64 on both sides.

Each run returns, per epoch, what the book prints: the loss (data loss plus regularisation), the
accuracy, and the learning rate as printed (current_learning_rate before the epoch's update).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import nn
from nn import reference as R


@contextmanager
def book_numpy() -> Iterator[None]:
    """nnfs.init() for the block, undone afterwards (it patches numpy for the whole process)."""
    import nnfs

    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    originals = [getattr(mod, name) for mod, name in patched]
    nnfs.init()
    try:
        yield
    finally:
        for (mod, name), fn in zip(patched, originals):
            setattr(mod, name, fn)


@dataclass(frozen=True)
class Setting:
    """One of the book's training set-ups: data, layers, loss and optimiser."""

    name: str
    data: str  # "spiral" or "sine"
    samples: int = 100
    classes: int = 3
    hidden: tuple[int, ...] = (64,)
    l2: float = 0.0  # weight and bias L2 on the first layer, as chapters 14 to 16
    dropout: float | None = None
    output: str = "softmax"  # "softmax", "sigmoid" or "linear"
    scale: float = 0.01  # the initial weights' scale (chapter 17 uses 0.1)
    optimizer: tuple[str, dict[str, float]] = ("Adam", {})
    extra: dict[str, Any] = field(default_factory=dict)


SETTINGS = {
    s.name: s
    for s in [
        Setting("ch10 SGD()", "spiral", optimizer=("SGD", {})),
        Setting(
            "ch10 SGD(decay=1e-3, momentum=0.9)",
            "spiral",
            optimizer=("SGD", {"decay": 1e-3, "momentum": 0.9}),
        ),
        Setting("ch10 Adagrad(decay=1e-4)", "spiral", optimizer=("Adagrad", {"decay": 1e-4})),
        Setting(
            "ch10 RMSprop(learning_rate=0.02, decay=1e-5, rho=0.999)",
            "spiral",
            optimizer=("RMSprop", {"learning_rate": 0.02, "decay": 1e-5, "rho": 0.999}),
        ),
        Setting(
            "ch10 Adam(learning_rate=0.05, decay=5e-7)",
            "spiral",
            optimizer=("Adam", {"learning_rate": 0.05, "decay": 5e-7}),
        ),
        Setting(
            "ch14 L2 5e-4",
            "spiral",
            l2=5e-4,
            optimizer=("Adam", {"learning_rate": 0.02, "decay": 5e-7}),
        ),
        Setting(
            "ch15 dropout 0.1",
            "spiral",
            samples=1000,
            l2=5e-4,
            dropout=0.1,
            optimizer=("Adam", {"learning_rate": 0.05, "decay": 5e-5}),
        ),
        Setting(
            "ch16 binary",
            "spiral",
            classes=2,
            l2=5e-4,
            output="sigmoid",
            optimizer=("Adam", {"decay": 5e-7}),
        ),
        Setting(
            "ch17 regression",
            "sine",
            samples=1000,
            hidden=(64, 64),
            output="linear",
            scale=0.1,
            optimizer=("Adam", {"learning_rate": 0.005, "decay": 1e-3}),
        ),
    ]
}


def book_data(s: Setting) -> tuple[np.ndarray, np.ndarray]:
    """The book's data set, drawn from the global generator as the book draws it."""
    from nnfs.datasets import sine_data, spiral_data

    if s.data == "sine":
        return sine_data(samples=s.samples)
    X, y = spiral_data(samples=s.samples, classes=s.classes)
    return X, (y.reshape(-1, 1) if s.output == "sigmoid" else y)


def _sizes(s: Setting) -> list[int]:
    n_in = 1 if s.data == "sine" else 2
    n_out = 1 if s.output != "softmax" else s.classes
    return [n_in, *s.hidden, n_out]


# ---- the book's loop over nn.reference ----


class LoopDense(R.Layer_Dense):
    """The book's dense layer with every sum taken left to right, as `nn` takes its sums: an
    equally valid order for the control runs, next to BLAS's kernels."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        self.inputs = np.asarray(inputs, dtype=np.float64)
        acc = self.inputs[:, [0]] * self.weights[0]
        for k in range(1, len(self.weights)):
            acc = acc + self.inputs[:, [k]] * self.weights[k]
        self.output = acc + self.biases

    def backward(self, dvalues: np.ndarray) -> None:
        x = self.inputs
        dweights = np.outer(x[0], dvalues[0])
        dbiases = dvalues[[0]].copy()
        for s in range(1, len(x)):
            dweights = dweights + np.outer(x[s], dvalues[s])
            dbiases = dbiases + dvalues[[s]]
        if self.weight_regularizer_l2 > 0:
            dweights = dweights + 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l2 > 0:
            dbiases = dbiases + 2 * self.bias_regularizer_l2 * self.biases
        self.dweights, self.dbiases = dweights, dbiases
        acc = dvalues[:, [0]] * self.weights[:, 0]
        for j in range(1, self.weights.shape[1]):
            acc = acc + dvalues[:, [j]] * self.weights[:, j]
        self.dinputs = acc


PENALTY = R.Loss()  # every loss of the book has regularization_loss(layer); any one will do


def reference_run(s: Setting, epochs: int, dense: type = R.Layer_Dense) -> dict[str, list[float]]:
    """The book's training loop (chapters 10 to 17) in float64, epoch by epoch."""
    with book_numpy():
        X, y = book_data(s)
        sizes = _sizes(s)
        denses = []
        for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            l2 = s.l2 if k == 0 else 0.0
            denses.append(
                dense(n_in, n_out, weight_regularizer_l2=l2, bias_regularizer_l2=l2, scale=s.scale)
            )
        relus = [R.Activation_ReLU() for _ in s.hidden]
        dropout = None if s.dropout is None else R.Layer_Dropout(s.dropout)
        if s.output == "softmax":
            loss_activation: Any = R.Activation_Softmax_Loss_CategoricalCrossentropy()
        else:
            activation = R.Activation_Sigmoid() if s.output == "sigmoid" else R.Activation_Linear()
            loss_function: Any = (
                R.Loss_BinaryCrossentropy() if s.output == "sigmoid" else R.Loss_MeanSquaredError()
            )
        name, kwargs = s.optimizer
        optimizer = getattr(R, f"Optimizer_{name}")(**kwargs)
        precision = np.std(y) / 250
        history: dict[str, list[float]] = {"loss": [], "accuracy": [], "lr": []}
        for _ in range(epochs):
            out: Any = X
            for k, dense in enumerate(denses):
                dense.forward(out)
                out = dense.output
                if k < len(relus):
                    relus[k].forward(out)
                    out = relus[k].output
                    if k == 0 and dropout is not None:
                        dropout.forward(out)
                        out = dropout.output
            reg = sum(PENALTY.regularization_loss(d) for d in denses)
            if s.output == "softmax":
                data_loss = loss_activation.forward(out, y)
                predictions = np.argmax(loss_activation.output, axis=1)
                accuracy = np.mean(predictions == y)
            else:
                activation.forward(out)
                data_loss = loss_function.calculate(activation.output, y)
                if s.output == "sigmoid":
                    accuracy = np.mean((activation.output > 0.5) * 1 == y)
                else:
                    accuracy = np.mean(np.absolute(activation.output - y) < precision)
            history["loss"].append(float(data_loss + reg))
            history["accuracy"].append(float(accuracy))
            history["lr"].append(optimizer.current_learning_rate)
            if s.output == "softmax":
                loss_activation.backward(loss_activation.output, y)
                grad = loss_activation.dinputs
            else:
                loss_function.backward(activation.output, y)
                activation.backward(loss_function.dinputs)
                grad = activation.dinputs
            for k in reversed(range(len(denses))):
                denses[k].backward(grad)
                grad = denses[k].dinputs
                if k > 0:
                    if k == 1 and dropout is not None:
                        dropout.backward(grad)
                        grad = dropout.dinputs
                    relus[k - 1].backward(grad)
                    grad = relus[k - 1].dinputs
            optimizer.pre_update_params()
            for dense in denses:
                optimizer.update_params(dense)
            optimizer.post_update_params()
        return history


# ---- the same run with nn ----


def _scaled_book(scale: float) -> Callable[[tuple[int, int], Any], Any]:
    # Chapter 17's layer: scale * np.random.randn(...), the book's call with a larger scale.
    return lambda shape, rng: scale * rng.randn(*shape)


def nn_model(s: Setting) -> tuple[nn.Sequential, nn.Module, Any]:
    """The setting's network, its loss and its accuracy, built in the book's order."""
    sizes = _sizes(s)
    init: Any = "book" if s.scale == 0.01 else _scaled_book(s.scale)
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        l2 = s.l2 if k == 0 else 0.0
        layers.append(
            nn.Dense(n_in, n_out, init=init, weight_regularizer_l2=l2, bias_regularizer_l2=l2)
        )
        if k < len(s.hidden):
            layers.append(nn.ReLU())
            if k == 0 and s.dropout is not None:
                layers.append(nn.Dropout(s.dropout))
    if s.output == "softmax":
        return nn.Sequential(layers), nn.SoftmaxCrossEntropy(), nn.accuracy
    if s.output == "sigmoid":
        return nn.Sequential([*layers, nn.Sigmoid()]), nn.BinaryCrossEntropy(), nn.accuracy
    return nn.Sequential([*layers, nn.Identity()]), nn.MSE(), nn.RegressionAccuracy()


def nn_run(s: Setting, epochs: int) -> dict[str, list[float]]:
    """The setting trained with nn.fit from the book's data and initial weights."""
    with book_numpy():
        X, y = book_data(s)
        model, loss, metric = nn_model(s)
        name, kwargs = s.optimizer
        optimizer = getattr(nn, name)(model.parameters(), **kwargs)
        return nn.fit(model, loss, optimizer, X, y, epochs, metric=metric, progress=False)


def first_divergence(a: dict[str, list[float]], b: dict[str, list[float]], rtol: float) -> int:
    """The first epoch where the losses differ by more than rtol relative, or the accuracies at
    all; the number of epochs compared when they never do."""
    n = min(len(a["loss"]), len(b["loss"]))
    for e in range(n):
        la, lb = a["loss"][e], b["loss"][e]
        if abs(la - lb) > rtol * abs(lb) or a["accuracy"][e] != b["accuracy"][e]:
            return e
    return n


# ---- the horizon: how long the book's own code agrees with itself ----

# OpenBLAS picks a kernel per CPU, and each adds up a matrix product in its own order. Runs of
# the same book code under different kernels are equally valid; where they part, rounding order
# alone has decided, and no comparison of two implementations can be held to more.
# "ulp0".."ulp2": the default kernel, with each entry of the loss's gradient moved by at most
# one unit in the last place (at random, seeded): another rounding of the same formula.
KERNELS = ("default", "Haswell", "SkylakeX", "Zen", "Sandybridge", "loop", "ulp0", "ulp1", "ulp2")


def rounded_otherwise(run: Callable[..., Any], seed: int, *args: Any) -> Any:
    """`run(*args)` with every loss gradient of the book's classes scaled by 1 + k 2^-53, k
    drawn from {-1, 0, 1}: a one-ulp change, as another order of the same sums might make."""
    rng = np.random.default_rng(seed)
    patched = []
    for cls in (
        R.Activation_Softmax_Loss_CategoricalCrossentropy,
        R.Loss_BinaryCrossentropy,
        R.Loss_MeanSquaredError,
    ):
        original = cls.backward

        def backward(self: Any, dvalues: Any, y_true: Any, original: Any = original) -> None:
            original(self, dvalues, y_true)
            self.dinputs = self.dinputs * (1 + rng.integers(-1, 2, self.dinputs.shape) * 2.0**-53)

        patched.append((cls, original))
        cls.backward = backward  # type: ignore[method-assign]
    try:
        return run(*args)
    finally:
        for cls, original in patched:
            cls.backward = original  # type: ignore[method-assign]


def _reference_in(kernel: str, name: str, epochs: int) -> dict[str, list[float]]:
    """reference_run in a fresh process whose OpenBLAS uses `kernel` (chosen at load time), or
    with left-to-right sums for "loop"."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if kernel in ("Haswell", "SkylakeX", "Zen", "Sandybridge"):
        env["OPENBLAS_CORETYPE"] = kernel
    dense = "B.LoopDense" if kernel == "loop" else "B.R.Layer_Dense"
    seed = int(kernel[3:]) if kernel.startswith("ulp") else None
    run = (
        "B.reference_run"
        if seed is None
        else f"lambda *a: B.rounded_otherwise(B.reference_run, {seed}, *a)"
    )
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import book_runs as B; "
        f"f = {run}; print(json.dumps(f(B.SETTINGS[sys.argv[2]], int(sys.argv[3]), {dense})))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run(
        [sys.executable, "-c", code, here, name, str(epochs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def measure(name: str, epochs: int, nn_epochs: int) -> dict[str, Any]:
    """The horizon of a setting over `epochs`, and nn against the book up to it (at most nn_epochs)."""
    refs = {k: _reference_in(k, name, epochs) for k in KERNELS}
    horizon = min(
        first_divergence(refs[a], refs[b], 1e-9) for a in KERNELS for b in KERNELS if a < b
    )
    book = refs["default"]
    ours = nn_run(SETTINGS[name], min(horizon, nn_epochs))
    agree = first_divergence(book, ours, 1e-9)
    rel = [abs(a - b) / abs(b) for a, b in zip(ours["loss"][:agree], book["loss"][:agree])]
    return {
        "setting": name,
        "horizon": horizon,
        "pairs": {
            f"{a}/{b}": first_divergence(refs[a], refs[b], 1e-9)
            for a in KERNELS
            for b in KERNELS
            if a < b
        },
        "compared": agree,
        "nn_ran": len(ours["loss"]),
        "max_rel": max(rel, default=0.0),
        "accuracy": book["accuracy"][agree - 1] if agree else None,
        "lr_equal": ours["lr"][:agree] == book["lr"][:agree],
    }


if __name__ == "__main__":
    import sys

    # python tests/book_runs.py EPOCHS NN_EPOCHS [setting ...]: the closing note's table.
    epochs, nn_epochs = int(sys.argv[1]), int(sys.argv[2])
    for name in sys.argv[3:] or list(SETTINGS):
        r = measure(name, epochs, nn_epochs)
        print(
            f"| {r['setting']} | {r['horizon']} | {r['compared']} (of {r['nn_ran']} run) | "
            f"{r['max_rel']:.1e} | {r['accuracy']} | lr equal: {r['lr_equal']} |",
            flush=True,
        )
        print("   control pairs:", r["pairs"], flush=True)
