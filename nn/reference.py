"""The hand-derived numpy layers of the nnfs book, under the book's names, for side-by-side checks.

`nn` gets every gradient from the engine's chain rule, one scalar node at a time. This module
gets the same gradients from matrix calculus, derived by hand, as the book does: for example
dweights = inputs.T @ dvalues. The tests require the two to agree to 1e-10, and whole training
runs of `nn` to follow these classes epoch by epoch (tests/test_nn_book_runs.py).

The interface is the book's: a layer's forward(inputs) stores self.output, its backward(dvalues)
stores self.dinputs (and self.dweights, self.dbiases); a loss's forward(y_pred, y_true) returns
the sample losses and calculate() their mean; an optimiser has pre_update_params,
update_params(layer) and post_update_params. The chapter 18 to 22 pieces (the `training` flag,
`predictions`, accumulated losses, `Model`) are here too.

Everything here computes in float64, also in a process where `nnfs.init()` ran (the book's first
cell calls it). That call replaces np.dot with a version that returns float32 (and fails on
plain lists), and makes np.zeros, np.eye and np.random.randn default to float32. So where the
book writes np.dot(a, b) this module writes a @ b, and every new array gets an explicit dtype.
The initial weights are the book's own draw, 0.01 * np.random.randn(...), widened to float64
(exactly, so after nnfs.init() they are the book's weights to the bit); `rng=` draws them from a
Generator instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

F64 = np.float64


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=F64)


# ---- layers and activations: forward stores what backward needs ----


class Layer_Dense:  # noqa: N801 - the book's name, kept for side-by-side reading
    """Fully connected layer: output = inputs @ weights + biases, with optional L1/L2 penalties."""

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        weight_regularizer_l1: float = 0,
        weight_regularizer_l2: float = 0,
        bias_regularizer_l1: float = 0,
        bias_regularizer_l2: float = 0,
        *,
        rng: np.random.Generator | int | None = None,
        scale: float = 0.01,
    ) -> None:
        # W ~ 0.01 N(0, 1) (chapter 17 uses scale 0.1), laid out (n_inputs, n_neurons) so that
        # forward needs no transpose
        if rng is None:
            draws = np.random.randn(n_inputs, n_neurons)  # the book's call, numpy's global state
        else:
            gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
            draws = gen.standard_normal((n_inputs, n_neurons))
        self.weights = (scale * draws).astype(F64)
        # b = 0, one row that broadcasts over the batch
        self.biases = np.zeros((1, n_neurons), dtype=F64)
        # lambda for each penalty: L1 adds lambda sum |w|, L2 adds lambda sum w^2 to the loss
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = inputs @ weights + biases; inputs are kept for backward."""
        # X, kept because dL/dW needs it
        self.inputs = _f64(inputs)
        # Z = X W + b; the book writes np.dot(inputs, weights), but after nnfs.init() np.dot
        # returns float32, so every product in this module is written with @ (float64 here)
        self.output = self.inputs @ self.weights + self.biases

    def backward(self, dvalues: np.ndarray) -> None:
        """dweights = inputs.T @ dvalues, dbiases = sum_s dvalues, dinputs = dvalues @ weights.T."""
        # dL/dW = X^T dL/dZ: w_ij meets input i in every sample, so sum x_si dL/dz_sj over s
        self.dweights = self.inputs.T @ dvalues
        # dL/db = sum over samples of dL/dZ, because dz_sj/db_j = 1
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        # d(lambda sum |w|)/dw = lambda sign(w), taken as +1 at w = 0
        if self.weight_regularizer_l1 > 0:
            dL1 = np.where(self.weights < 0, -1.0, 1.0)
            self.dweights = self.dweights + self.weight_regularizer_l1 * dL1
        # d(lambda sum w^2)/dw = 2 lambda w
        if self.weight_regularizer_l2 > 0:
            self.dweights = self.dweights + 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            dL1 = np.where(self.biases < 0, -1.0, 1.0)
            self.dbiases = self.dbiases + self.bias_regularizer_l1 * dL1
        if self.bias_regularizer_l2 > 0:
            self.dbiases = self.dbiases + 2 * self.bias_regularizer_l2 * self.biases
        # dL/dX = dL/dZ W^T, because dz_sj/dx_si = w_ij
        self.dinputs = dvalues @ self.weights.T


class Layer_Dropout:  # noqa: N801
    """In training, output = inputs * mask / (1 - rate), mask ~ Bernoulli(1 - rate); else inputs."""

    def __init__(self, rate: float, *, rng: np.random.Generator | int | None = None) -> None:
        # the book stores the fraction kept, not the fraction dropped
        self.rate = 1 - rate
        self.rng = None if rng is None else np.random.default_rng(rng)

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = inputs * mask / (1 - rate), mask ~ Bernoulli(1 - rate); in training only."""
        self.inputs = _f64(inputs)
        if not training:
            self.output = self.inputs.copy()
            return
        draw = np.random.binomial if self.rng is None else self.rng.binomial
        # 1 with probability rate (kept), 0 otherwise, scaled so the expected output is the input
        self.binary_mask = draw(1, self.rate, size=self.inputs.shape) / self.rate
        self.output = self.inputs * self.binary_mask

    def backward(self, dvalues: np.ndarray) -> None:
        """dinputs = dvalues * mask / (1 - rate), the same scaled mask as forward."""
        # d output / d input = mask
        self.dinputs = dvalues * self.binary_mask


class Layer_Input:  # noqa: N801
    """The model's first 'layer': it passes the data on, so every layer has a predecessor."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = inputs, as float64."""
        self.output = _f64(inputs)


class Activation_ReLU:  # noqa: N801
    """a = max(0, z)."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = max(0, inputs)."""
        # z, kept to know where the gradient passes
        self.inputs = _f64(inputs)
        # a = max(0, z)
        self.output = np.maximum(0, self.inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        """dinputs = dvalues where inputs > 0, else 0."""
        # da/dz = 1 where z > 0, so dL/dz = dL/da there (as a float64 copy, whatever came in) ...
        self.dinputs = _f64(dvalues).copy()
        # ... and 0 where z <= 0
        self.dinputs[self.inputs <= 0] = 0

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """The outputs themselves (a ReLU output layer regresses)."""
        return outputs


class Activation_Sigmoid:  # noqa: N801
    """a = 1 / (1 + e^-z)."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = 1 / (1 + e^-inputs)."""
        self.inputs = _f64(inputs)
        # a = 1 / (1 + e^-z)
        self.output = 1 / (1 + np.exp(-self.inputs))

    def backward(self, dvalues: np.ndarray) -> None:
        """dinputs = dvalues * (1 - output) * output."""
        # da/dz = a (1 - a), so dL/dz = dL/da * (1 - a) * a
        self.dinputs = dvalues * (1 - self.output) * self.output

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """Class 1 where output > 0.5, else 0."""
        # class 1 where p > 0.5
        return (outputs > 0.5) * 1


class Activation_Tanh:  # noqa: N801 - not in the book; written in its style
    """a = tanh z."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = tanh(inputs)."""
        self.inputs = _f64(inputs)
        # a = tanh z
        self.output = np.tanh(self.inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        """dinputs = dvalues * (1 - output^2)."""
        # da/dz = 1 - a^2
        self.dinputs = dvalues * (1 - self.output**2)


class Activation_Softmax:  # noqa: N801
    """p_j = e^(z_j - max z) / sum_k e^(z_k - max z), row by row."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = e^(z - max z) / sum_k e^(z_k - max z), row by row."""
        self.inputs = _f64(inputs)
        # e^(z - max z): the shift cancels in the ratio and keeps every exponent <= 0
        exp_values = np.exp(self.inputs - np.max(self.inputs, axis=1, keepdims=True))
        # p = e / sum e, per row
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues: np.ndarray) -> None:
        """dinputs = (diag(p) - p p^T) @ dvalues for each sample's row p of output."""
        self.dinputs = np.empty_like(dvalues, dtype=F64)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            # p as a column vector
            single_output = single_output.reshape(-1, 1)
            # dp_j/dz_k = p_j (delta_jk - p_k): the Jacobian is diag(p) - p p^T
            jacobian_matrix = np.diagflat(single_output) - single_output @ single_output.T
            # dL/dz = J^T dL/dp (J is symmetric)
            self.dinputs[index] = jacobian_matrix @ single_dvalues

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """The most probable class: argmax of each row."""
        # the most probable class
        return np.argmax(outputs, axis=1)


class Activation_Linear:  # noqa: N801
    """a = z, for regression outputs."""

    def forward(self, inputs: Any, training: bool = True) -> None:
        """output = inputs."""
        self.inputs = _f64(inputs)
        self.output = self.inputs

    def backward(self, dvalues: np.ndarray) -> None:
        """dinputs = dvalues."""
        # da/dz = 1
        self.dinputs = _f64(dvalues).copy()

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """The outputs themselves."""
        return outputs


# ---- losses: forward returns the per-sample losses; calculate averages them ----


class Loss:
    """The shared part: the data loss is the mean of the sample losses; the regularisation loss
    adds every layer's penalties."""

    def forward(self, output: np.ndarray, y: Any) -> np.ndarray:
        """The sample losses L_s, one per row: each loss class defines them."""
        raise NotImplementedError

    def regularization_loss(self, layer: Any = None) -> float:
        """l1 sum |w| + l2 sum w^2 (and for biases) over a layer or every trainable layer."""
        # one layer's penalties (the book's chapters 14 to 17), or those of every trainable
        # layer that a Model handed over (chapters 18 and later)
        layers = [layer] if layer is not None else self.trainable_layers
        regularization_loss = 0.0
        for layer in layers:
            # L1: lambda sum |w|
            if layer.weight_regularizer_l1 > 0:
                regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
            # L2: lambda sum w^2
            if layer.weight_regularizer_l2 > 0:
                regularization_loss += layer.weight_regularizer_l2 * np.sum(
                    layer.weights * layer.weights
                )
            if layer.bias_regularizer_l1 > 0:
                regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
            if layer.bias_regularizer_l2 > 0:
                regularization_loss += layer.bias_regularizer_l2 * np.sum(
                    layer.biases * layer.biases
                )
        return float(regularization_loss)

    def remember_trainable_layers(self, trainable_layers: list[Any]) -> None:
        """Keep the layers whose penalties regularization_loss() adds up."""
        self.trainable_layers = trainable_layers

    def calculate(self, output: Any, y: Any, *, include_regularization: bool = False) -> Any:
        """L = mean_s L_s (and the regularisation loss if asked), also kept for the epoch."""
        # L = mean_s L_s, returned as np.mean gives it, as the book does: no float(), so that
        # check_backward can run this on Values and keep the graph
        sample_losses = self.forward(_f64(output), y)
        data_loss = np.mean(sample_losses)
        # kept for the mean over a whole epoch of batches
        self.accumulated_sum = getattr(self, "accumulated_sum", 0.0) + np.sum(sample_losses)
        self.accumulated_count = getattr(self, "accumulated_count", 0) + len(sample_losses)
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def calculate_accumulated(self, *, include_regularization: bool = False) -> Any:
        """L = the mean of every L_s since new_pass() (and the regularisation loss)."""
        # the mean of every sample loss since new_pass()
        data_loss = float(self.accumulated_sum / self.accumulated_count)
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def new_pass(self) -> None:
        """Start a new epoch's running mean."""
        self.accumulated_sum = 0.0
        self.accumulated_count = 0


class Loss_CategoricalCrossentropy(Loss):  # noqa: N801
    """L_s = -log p_s,c for the correct class c (indices) or -log sum_k p_sk y_sk (one-hot)."""

    def forward(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        """L_s = -log p_s,c, with p clipped to [1e-7, 1 - 1e-7]."""
        y_true = np.asarray(y_true)
        samples = len(y_pred)
        # keep p in [1e-7, 1 - 1e-7] so that log p is finite
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            # class indices: pick p_s,c for each sample s
            correct_confidences = y_pred_clipped[range(samples), y_true]
        else:
            # one-hot: sum_k p_sk y_sk keeps only the correct class
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        # L_s = -log p_s,c
        return -np.log(correct_confidences)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        """dinputs = -y / p / samples, with y one-hot."""
        y_true = np.asarray(y_true)
        samples = len(dvalues)
        labels = len(dvalues[0])
        if len(y_true.shape) == 1:
            # indices to one-hot rows (explicit dtype: nnfs.init() makes np.eye float32)
            y_true = np.eye(labels, dtype=F64)[y_true]
        # dL_s/dp_sk = -y_sk / p_sk (the clip is ignored, as in the book); float64 even when
        # both come in as float32, as np.eye's one-hot rows do after nnfs.init()
        self.dinputs = -_f64(y_true) / dvalues
        # L is the mean over samples, so each sample's gradient carries 1 / samples
        self.dinputs = self.dinputs / samples


class Activation_Softmax_Loss_CategoricalCrossentropy:  # noqa: N801
    """Softmax followed by cross-entropy, with the short combined backward dL/dz = (p - y) / n."""

    def __init__(self) -> None:
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs: Any, y_true: Any) -> float:
        """p = softmax(inputs), stored as output; returns the mean cross-entropy of p."""
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        """dinputs = (p - y) / samples, y one-hot: the softmax Jacobian times -y / p."""
        y_true = np.asarray(y_true)
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            # one-hot rows to class indices
            y_true = np.argmax(y_true, axis=1)
        # the softmax Jacobian times -y/p collapses to p - y ...
        self.dinputs = _f64(dvalues).copy()
        self.dinputs[range(samples), y_true] -= 1
        # ... divided by the number of samples, for the mean
        self.dinputs = self.dinputs / samples


class Loss_BinaryCrossentropy(Loss):  # noqa: N801
    """L_s = mean_j -(y log p + (1 - y) log(1 - p))."""

    def forward(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        """L_s = mean_j -(y log p + (1 - y) log(1 - p)), with p clipped to [1e-7, 1 - 1e-7]."""
        y_true = _f64(y_true)
        # keep p in [1e-7, 1 - 1e-7] so that both logs are finite
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        # per output: -(y log p + (1 - y) log(1 - p))
        sample_losses = -(
            y_true * np.log(y_pred_clipped) + (1 - y_true) * np.log(1 - y_pred_clipped)
        )
        # mean over the outputs of each sample
        return np.mean(sample_losses, axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        """dinputs = -(y / p - (1 - y) / (1 - p)) / outputs / samples."""
        y_true = _f64(y_true)
        samples = len(dvalues)
        outputs = len(dvalues[0])
        clipped_dvalues = np.clip(dvalues, 1e-7, 1 - 1e-7)
        # dL_s/dp = -(y / p - (1 - y) / (1 - p)) / outputs
        self.dinputs = -(y_true / clipped_dvalues - (1 - y_true) / (1 - clipped_dvalues)) / outputs
        # mean over samples
        self.dinputs = self.dinputs / samples


class Loss_MeanSquaredError(Loss):  # noqa: N801
    """L_s = mean_j (y - y_hat)^2."""

    def forward(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        """L_s = mean_j (y - y_hat)^2."""
        # mean over the outputs of each sample of the squared difference
        return np.mean((_f64(y_true) - y_pred) ** 2, axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        """dinputs = -2 (y - y_hat) / outputs / samples."""
        samples = len(dvalues)
        outputs = len(dvalues[0])
        # dL_s/dy_hat = -2 (y - y_hat) / outputs
        self.dinputs = -2 * (_f64(y_true) - dvalues) / outputs
        # mean over samples
        self.dinputs = self.dinputs / samples


class Loss_MeanAbsoluteError(Loss):  # noqa: N801
    """L_s = mean_j |y - y_hat|."""

    def forward(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        """L_s = mean_j |y - y_hat|."""
        return np.mean(np.abs(_f64(y_true) - y_pred), axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        """dinputs = -sign(y - y_hat) / outputs / samples."""
        samples = len(dvalues)
        outputs = len(dvalues[0])
        # dL_s/dy_hat = -sign(y - y_hat) / outputs (0 where equal). The book's code prints
        # np.sign(y_true - dvalues) without the minus, the gradient of -|y - y_hat|: a slip that
        # would climb the loss. This twin keeps the derivative of its own forward.
        self.dinputs = -np.sign(_f64(y_true) - dvalues) / outputs
        self.dinputs = self.dinputs / samples


class Loss_Hinge(Loss):  # noqa: N801 - not in the book; written in its style (micrograd's loss)
    """L_s = mean_j max(0, 1 - y s), labels y in {-1, +1}, scores s."""

    def forward(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        """L_s = mean_j max(0, 1 - y s)."""
        y_true = _f64(y_true).reshape(y_pred.shape)
        # a margin of at least 1 on the right side costs nothing
        return np.mean(np.maximum(0, 1 - y_true * y_pred), axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        """dinputs = -y / outputs / samples where 1 - y s > 0, else 0."""
        y_true = _f64(y_true).reshape(dvalues.shape)
        samples = len(dvalues)
        outputs = len(dvalues[0])
        # dL_s/ds = -y where 1 - y s > 0, else 0
        self.dinputs = np.where(1 - y_true * dvalues > 0, -y_true, 0.0) / outputs
        self.dinputs = self.dinputs / samples


# ---- accuracy: the share of right predictions, also accumulated over batches ----


class Accuracy:
    """The shared part: the mean of the comparisons, and its running version over an epoch."""

    def compare(self, predictions: np.ndarray, y: Any) -> np.ndarray:
        """One bool per prediction: right or not; each accuracy class defines it."""
        raise NotImplementedError

    def calculate(self, predictions: np.ndarray, y: Any) -> float:
        """accuracy = mean of compare(predictions, y); it also counts towards the epoch's mean."""
        comparisons = self.compare(predictions, y)
        self.accumulated_sum = getattr(self, "accumulated_sum", 0) + np.sum(comparisons)
        self.accumulated_count = getattr(self, "accumulated_count", 0) + len(comparisons)
        return float(np.mean(comparisons))

    def calculate_accumulated(self) -> float:
        """The mean of every comparison since new_pass()."""
        return float(self.accumulated_sum / self.accumulated_count)

    def new_pass(self) -> None:
        """Start a new epoch's running mean."""
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Accuracy_Categorical(Accuracy):  # noqa: N801
    """prediction == class; `binary` for 0/1 columns compared as they are."""

    def __init__(self, *, binary: bool = False) -> None:
        self.binary = binary

    def init(self, y: Any) -> None:
        """Nothing to learn from y (the regression accuracy takes its precision there)."""
        pass

    def compare(self, predictions: np.ndarray, y: Any) -> np.ndarray:
        """prediction == class, with one-hot rows turned into class indices unless binary."""
        y = np.asarray(y)
        if not self.binary and len(y.shape) == 2:
            # one-hot rows to class indices
            y = np.argmax(y, axis=1)
        return predictions == y


class Accuracy_Regression(Accuracy):  # noqa: N801
    """|prediction - y| < precision, with precision = std(y) / 250 from the first targets seen."""

    def __init__(self) -> None:
        self.precision: float | None = None

    def init(self, y: Any, reinit: bool = False) -> None:
        """precision = std(y) / 250, from the first targets (or again with reinit)."""
        if self.precision is None or reinit:
            self.precision = float(np.std(_f64(y)) / 250)

    def compare(self, predictions: np.ndarray, y: Any) -> np.ndarray:
        """|prediction - y| < precision."""
        return np.absolute(predictions - _f64(y)) < self.precision


# ---- optimisers: pre_update_params, update_params per layer, post_update_params ----


class Optimizer_SGD:  # noqa: N801
    """w <- w + v, v = momentum v - lr_t dw (v = -lr_t dw without momentum)."""

    def __init__(
        self, learning_rate: float = 1.0, decay: float = 0.0, momentum: float = 0.0
    ) -> None:
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.momentum = momentum

    def pre_update_params(self) -> None:
        """lr_t = lr / (1 + decay t) when decay is set."""
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
        """v = momentum v - lr_t dw (v = -lr_t dw without momentum); w <- w + v."""
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                # momenta start at 0 (zeros_like keeps float64; nnfs.init() leaves it alone)
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            # v = momentum v - lr_t dw
            weight_updates = (
                self.momentum * layer.weight_momentums - self.current_learning_rate * layer.dweights
            )
            layer.weight_momentums = weight_updates
            bias_updates = (
                self.momentum * layer.bias_momentums - self.current_learning_rate * layer.dbiases
            )
            layer.bias_momentums = bias_updates
        else:
            # v = -lr_t dw
            weight_updates = -self.current_learning_rate * layer.dweights
            bias_updates = -self.current_learning_rate * layer.dbiases
        # w <- w + v
        layer.weights += weight_updates
        layer.biases += bias_updates

    def post_update_params(self) -> None:
        """t <- t + 1."""
        self.iterations += 1


class Optimizer_Adagrad:  # noqa: N801
    """cache <- cache + dw^2; w <- w - lr_t dw / (sqrt(cache) + epsilon)."""

    def __init__(
        self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7
    ) -> None:
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon

    def pre_update_params(self) -> None:
        """lr_t = lr / (1 + decay t) when decay is set."""
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
        """cache <- cache + dw^2; w <- w - lr_t dw / (sqrt(cache) + epsilon)."""
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        # cache = sum of all squared gradients so far
        layer.weight_cache += layer.dweights * layer.dweights
        layer.bias_cache += layer.dbiases * layer.dbiases
        # w <- w - lr_t dw / (sqrt(cache) + epsilon)
        layer.weights += (
            -self.current_learning_rate
            * layer.dweights
            / (np.sqrt(layer.weight_cache) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        )

    def post_update_params(self) -> None:
        """t <- t + 1."""
        self.iterations += 1


class Optimizer_RMSprop:  # noqa: N801
    """cache <- rho cache + (1 - rho) dw^2; w <- w - lr_t dw / (sqrt(cache) + epsilon)."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ) -> None:
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.rho = rho

    def pre_update_params(self) -> None:
        """lr_t = lr / (1 + decay t) when decay is set."""
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
        """cache <- rho cache + (1 - rho) dw^2; w <- w - lr_t dw / (sqrt(cache) + eps)."""
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        # cache = moving average of squared gradients
        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * (
            layer.dweights * layer.dweights
        )
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * (
            layer.dbiases * layer.dbiases
        )
        # w <- w - lr_t dw / (sqrt(cache) + epsilon)
        layer.weights += (
            -self.current_learning_rate
            * layer.dweights
            / (np.sqrt(layer.weight_cache) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        )

    def post_update_params(self) -> None:
        """t <- t + 1."""
        self.iterations += 1


class Optimizer_Adam:  # noqa: N801
    """RMSprop plus momentum, both moving averages bias-corrected by 1 / (1 - beta^(t+1))."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def pre_update_params(self) -> None:
        """lr_t = lr / (1 + decay t) when decay is set."""
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
        """w <- w - lr_t m_hat / (sqrt(c_hat) + eps): m, c moving averages of dw, dw^2."""
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        # m = beta_1 m + (1 - beta_1) dw
        layer.weight_momentums = (
            self.beta_1 * layer.weight_momentums + (1 - self.beta_1) * layer.dweights
        )
        layer.bias_momentums = (
            self.beta_1 * layer.bias_momentums + (1 - self.beta_1) * layer.dbiases
        )
        # m_hat = m / (1 - beta_1^(t+1)): m starts at 0, and this undoes that pull towards 0
        weight_momentums_corrected = layer.weight_momentums / (
            1 - self.beta_1 ** (self.iterations + 1)
        )
        bias_momentums_corrected = layer.bias_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        # c = beta_2 c + (1 - beta_2) dw^2
        layer.weight_cache = self.beta_2 * layer.weight_cache + (1 - self.beta_2) * (
            layer.dweights * layer.dweights
        )
        layer.bias_cache = self.beta_2 * layer.bias_cache + (1 - self.beta_2) * (
            layer.dbiases * layer.dbiases
        )
        # c_hat = c / (1 - beta_2^(t+1))
        weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
        bias_cache_corrected = layer.bias_cache / (1 - self.beta_2 ** (self.iterations + 1))
        # w <- w - lr_t m_hat / (sqrt(c_hat) + epsilon)
        layer.weights += (
            -self.current_learning_rate
            * weight_momentums_corrected
            / (np.sqrt(weight_cache_corrected) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate
            * bias_momentums_corrected
            / (np.sqrt(bias_cache_corrected) + self.epsilon)
        )

    def post_update_params(self) -> None:
        """t <- t + 1."""
        self.iterations += 1


# ---- the model of chapters 18 to 22: layers in a list, trained with batches and validation ----


class Model:
    """add() layers, set() a loss, an optimiser and an accuracy, finalize(), then train()."""

    def __init__(self) -> None:
        self.layers: list[Any] = []
        self.softmax_classifier_output: Any = None
        self.lines: list[str] = []  # every line train() and evaluate() printed, for tests

    def add(self, layer: Any) -> None:
        """Append a layer or activation; they run in the order added."""
        self.layers.append(layer)

    def set(self, *, loss: Any = None, optimizer: Any = None, accuracy: Any = None) -> None:
        """Choose the loss, the optimiser and the accuracy (any of them)."""
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if accuracy is not None:
            self.accuracy = accuracy

    def finalize(self) -> None:
        """Link every layer to its neighbours; use softmax + cross-entropy's short backward."""
        # each layer learns its neighbours: forward reads prev.output, backward next.dinputs
        self.input_layer = Layer_Input()
        chain = [self.input_layer, *self.layers, self.loss]
        for prev, layer, nxt in zip(chain, chain[1:], chain[2:]):
            layer.prev, layer.next = prev, nxt
        self.output_layer_activation = self.layers[-1]
        self.trainable_layers = [layer for layer in self.layers if hasattr(layer, "weights")]
        self.loss.remember_trainable_layers(self.trainable_layers)
        # softmax followed by cross-entropy: use the combined, shorter backward (p - y)/n
        if isinstance(self.layers[-1], Activation_Softmax) and isinstance(
            self.loss, Loss_CategoricalCrossentropy
        ):
            self.softmax_classifier_output = Activation_Softmax_Loss_CategoricalCrossentropy()

    def _say(self, line: str) -> None:
        self.lines.append(line)
        if self.verbose:
            print(line)

    def train(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        print_every: int = 1,
        validation_data: tuple[Any, Any] | None = None,
        verbose: bool = True,
    ) -> None:
        """Per epoch and batch: forward, loss, accuracy, backward, one optimiser step."""
        self.verbose = verbose
        self.accuracy.init(y)
        # the last batch may be smaller: ceil(len(X) / batch_size) steps
        train_steps = 1 if batch_size is None else -(-len(X) // batch_size)
        for epoch in range(1, epochs + 1):
            self._say(f"epoch: {epoch}")
            self.loss.new_pass()
            self.accuracy.new_pass()
            for step in range(train_steps):
                if batch_size is None:
                    batch_X, batch_y = X, y
                else:
                    batch_X = X[step * batch_size : (step + 1) * batch_size]
                    batch_y = y[step * batch_size : (step + 1) * batch_size]
                output = self.forward(batch_X, training=True)
                data_loss, regularization_loss = self.loss.calculate(
                    output, batch_y, include_regularization=True
                )
                loss = data_loss + regularization_loss
                predictions = self.output_layer_activation.predictions(output)
                accuracy = self.accuracy.calculate(predictions, batch_y)
                self.backward(output, batch_y)
                self.optimizer.pre_update_params()
                for layer in self.trainable_layers:
                    self.optimizer.update_params(layer)
                self.optimizer.post_update_params()
                if not step % print_every or step == train_steps - 1:
                    self._say(
                        f"step: {step}, acc: {accuracy:.3f}, loss: {loss:.3f} ("
                        f"data_loss: {data_loss:.3f}, reg_loss: {regularization_loss:.3f}), "
                        f"lr: {self.optimizer.current_learning_rate}"
                    )
            epoch_data_loss, epoch_regularization_loss = self.loss.calculate_accumulated(
                include_regularization=True
            )
            epoch_loss = epoch_data_loss + epoch_regularization_loss
            self._say(
                f"training, acc: {self.accuracy.calculate_accumulated():.3f}, "
                f"loss: {epoch_loss:.3f} (data_loss: {epoch_data_loss:.3f}, "
                f"reg_loss: {epoch_regularization_loss:.3f}), "
                f"lr: {self.optimizer.current_learning_rate}"
            )
            if validation_data is not None:
                self.evaluate(*validation_data, batch_size=batch_size)

    def evaluate(self, X_val: Any, y_val: Any, *, batch_size: int | None = None) -> None:
        """The mean loss and accuracy on validation data, without training: self.validation."""
        steps = 1 if batch_size is None else -(-len(X_val) // batch_size)
        self.loss.new_pass()
        self.accuracy.new_pass()
        for step in range(steps):
            if batch_size is None:
                batch_X, batch_y = X_val, y_val
            else:
                batch_X = X_val[step * batch_size : (step + 1) * batch_size]
                batch_y = y_val[step * batch_size : (step + 1) * batch_size]
            output = self.forward(batch_X, training=False)
            self.loss.calculate(output, batch_y)
            self.accuracy.calculate(self.output_layer_activation.predictions(output), batch_y)
        self.validation = (self.loss.calculate_accumulated(), self.accuracy.calculate_accumulated())
        self._say(f"validation, acc: {self.validation[1]:.3f}, loss: {self.validation[0]:.3f}")

    def predict(self, X: Any, *, batch_size: int | None = None) -> np.ndarray:
        """The output layer's outputs for X, batch by batch, stacked."""
        steps = 1 if batch_size is None else -(-len(X) // batch_size)
        output = []
        for step in range(steps):
            batch_X = X if batch_size is None else X[step * batch_size : (step + 1) * batch_size]
            output.append(self.forward(batch_X, training=False))
        return np.vstack(output)

    def forward(self, X: Any, training: bool) -> np.ndarray:
        """Each layer's forward on its predecessor's output; returns the last layer's output."""
        self.input_layer.forward(X, training)
        for layer in self.layers:
            layer.forward(layer.prev.output, training)
        return self.layers[-1].output

    def backward(self, output: np.ndarray, y: Any) -> None:
        """The loss's backward, then each layer's on its successor's dinputs, last first."""
        if self.softmax_classifier_output is not None:
            # the combined backward gives the last layer's dinputs directly
            self.softmax_classifier_output.backward(output, y)
            self.layers[-1].dinputs = self.softmax_classifier_output.dinputs
            for layer in reversed(self.layers[:-1]):
                layer.backward(layer.next.dinputs)
            return
        self.loss.backward(output, y)
        for layer in reversed(self.layers):
            layer.backward(layer.next.dinputs)
