"""The hand-derived numpy layers of the nnfs book, under the book's names, for side-by-side checks.

`nn` gets every gradient from the engine's chain rule, one scalar node at a time. This module
gets the same gradients from matrix calculus, derived by hand, as the book does: for example
dweights = inputs.T @ dvalues. The tests require the two to agree to 1e-10.

Everything here computes in float64, also in a process where `nnfs.init()` ran (the seed's first
cell calls it). That call replaces np.dot with a version that returns float32 (and fails on
plain lists), and makes np.zeros, np.eye and np.random.randn default to float32. So where the
book writes np.dot(a, b) this module writes a @ b, and every new array gets an explicit dtype.
The book's random initialisation is replaced by a seedable numpy Generator, for the same reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np

F64 = np.float64


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=F64)


# ---- layers and activations: forward stores what backward needs ----


class Layer_Dense:  # noqa: N801 - the book's name, kept for side-by-side reading
    """Fully connected layer: output = inputs @ weights + biases."""

    def __init__(
        self, n_inputs: int, n_neurons: int, rng: np.random.Generator | int | None = None
    ) -> None:
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        # W ~ 0.01 N(0, 1), laid out (n_inputs, n_neurons) so that forward needs no transpose
        self.weights = 0.01 * rng.standard_normal((n_inputs, n_neurons))
        # b = 0, one row that broadcasts over the batch
        self.biases = np.zeros((1, n_neurons), dtype=F64)

    def forward(self, inputs: Any) -> None:
        # X, kept because dL/dW needs it
        self.inputs = _f64(inputs)
        # Z = X W + b; the book writes np.dot(inputs, weights), but after nnfs.init() np.dot
        # returns float32, so every product in this module is written with @ (float64 here)
        self.output = self.inputs @ self.weights + self.biases

    def backward(self, dvalues: np.ndarray) -> None:
        # dL/dW = X^T dL/dZ: w_ij meets input i in every sample, so sum x_si dL/dz_sj over s
        self.dweights = self.inputs.T @ dvalues
        # dL/db = sum over samples of dL/dZ, because dz_sj/db_j = 1
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        # dL/dX = dL/dZ W^T, because dz_sj/dx_si = w_ij
        self.dinputs = dvalues @ self.weights.T


class Activation_ReLU:  # noqa: N801
    """a = max(0, z)."""

    def forward(self, inputs: Any) -> None:
        # z, kept to know where the gradient passes
        self.inputs = _f64(inputs)
        # a = max(0, z)
        self.output = np.maximum(0, self.inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        # da/dz = 1 where z > 0, so dL/dz = dL/da there (as a float64 copy, whatever came in) ...
        self.dinputs = _f64(dvalues).copy()
        # ... and 0 where z <= 0
        self.dinputs[self.inputs <= 0] = 0


class Activation_Sigmoid:  # noqa: N801
    """a = 1 / (1 + e^-z)."""

    def forward(self, inputs: Any) -> None:
        self.inputs = _f64(inputs)
        # a = 1 / (1 + e^-z)
        self.output = 1 / (1 + np.exp(-self.inputs))

    def backward(self, dvalues: np.ndarray) -> None:
        # da/dz = a (1 - a), so dL/dz = dL/da * (1 - a) * a
        self.dinputs = dvalues * (1 - self.output) * self.output


class Activation_Tanh:  # noqa: N801 - not in the book; written in its style
    """a = tanh z."""

    def forward(self, inputs: Any) -> None:
        self.inputs = _f64(inputs)
        # a = tanh z
        self.output = np.tanh(self.inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        # da/dz = 1 - a^2
        self.dinputs = dvalues * (1 - self.output**2)


class Activation_Softmax:  # noqa: N801
    """p_j = e^(z_j - max z) / sum_k e^(z_k - max z), row by row."""

    def forward(self, inputs: Any) -> None:
        self.inputs = _f64(inputs)
        # e^(z - max z): the shift cancels in the ratio and keeps every exponent <= 0
        exp_values = np.exp(self.inputs - np.max(self.inputs, axis=1, keepdims=True))
        # p = e / sum e, per row
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues: np.ndarray) -> None:
        self.dinputs = np.empty_like(dvalues, dtype=F64)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            # p as a column vector
            single_output = single_output.reshape(-1, 1)
            # dp_j/dz_k = p_j (delta_jk - p_k): the Jacobian is diag(p) - p p^T
            jacobian_matrix = np.diagflat(single_output) - single_output @ single_output.T
            # dL/dz = J^T dL/dp (J is symmetric)
            self.dinputs[index] = jacobian_matrix @ single_dvalues


# ---- losses: forward returns the per-sample losses; calculate averages them ----


class Loss:
    """The shared part: the data loss is the mean of the per-sample losses."""

    def forward(self, output: np.ndarray, y: Any) -> np.ndarray:
        raise NotImplementedError

    def calculate(self, output: Any, y: Any) -> float:
        # L = mean_s L_s
        sample_losses = self.forward(_f64(output), y)
        return float(np.mean(sample_losses))


class Loss_CategoricalCrossentropy(Loss):  # noqa: N801
    """L_s = -log p_s,c for the correct class c (indices) or -log sum_k p_sk y_sk (one-hot)."""

    def forward(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
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
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
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
        # mean over the outputs of each sample of the squared difference
        return np.mean((_f64(y_true) - y_pred) ** 2, axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: Any) -> None:
        samples = len(dvalues)
        outputs = len(dvalues[0])
        # dL_s/dy_hat = -2 (y - y_hat) / outputs
        self.dinputs = -2 * (_f64(y_true) - dvalues) / outputs
        # mean over samples
        self.dinputs = self.dinputs / samples


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
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
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
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
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
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
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
        if self.decay:
            # lr_t = lr / (1 + decay t)
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
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
        self.iterations += 1
