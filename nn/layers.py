"""`Dense`: a fully connected layer, z_j = sum_i x_i w_ij + b_j, one `dot` node per output."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd import Value

from .batch import as_batch, grad_array
from .module import Module

_dot = ag.dot


class Dense(Module):
    """z = X W + b for a batch X (n_samples, n_inputs); W is (n_inputs, n_neurons) as in the book.

    The weights start as 0.01 * N(0, 1) draws from a numpy Generator (`rng`: a seed or a
    Generator) and the biases at 0. Each output z_ij is ONE `dot` node, w_j . x_i + b_j, with
    operands (w_0j, ..., w_(n-1)j, x_i0, ..., x_i(n-1), b_j), inside a scope "neuron j" nested in
    the layer's scope. One node where n products and a `sum` would make n + 1, and backward
    does the same arithmetic: d z/d w_kj = x_ik, d z/d x_ik = w_kj.
    """

    prefix = "dense"

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        rng: np.random.Generator | int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        for what, n in (("n_inputs", n_inputs), ("n_neurons", n_neurons)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Dense {what} must be a positive int, got {n!r}")
        self.n_inputs = int(n_inputs)
        self.n_neurons = int(n_neurons)
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        # A Generator, not np.random.randn: nnfs.init() makes randn return float32.
        w = 0.01 * gen.standard_normal((self.n_inputs, self.n_neurons))
        # Stored by neuron (column), because the forward loop walks one neuron's weights at a
        # time; `weights` below presents the same Value objects in the book's (in, out) layout.
        self._columns = [
            [Value(float(w[i, j]), f"{self.name}.w[{i},{j}]") for i in range(self.n_inputs)]
            for j in range(self.n_neurons)
        ]
        self.biases = [Value(0.0, f"{self.name}.b[{j}]") for j in range(self.n_neurons)]

    @property
    def weights(self) -> list[list[Value]]:
        """The weight Values as rows: weights[i][j] connects input i to neuron j."""
        return [list(row) for row in zip(*self._columns)]

    def forward(self, X: Any) -> list[list[Value]]:
        """z_ij = sum_k x_ik w_kj + b_j for every sample i and neuron j."""
        # Numbers become leaves once per row here: every dot below then sees only Values,
        # its cheapest case, instead of checking the same numbers once per neuron.
        rows = as_batch(X, self.name, self.n_inputs, wrap=True)
        by_neuron = []
        # Neurons in the outer loop: one scope switch per neuron rather than one per output.
        for j, (column, b) in enumerate(zip(self._columns, self.biases)):
            with ag.scope(f"neuron {j}"):
                by_neuron.append([_dot(column, row, b) for row in rows])
        return [list(z) for z in zip(*by_neuron)]

    def parameters(self) -> list[Value]:
        """The weights in row-major (input, neuron) order, then the biases."""
        return [w for row in self.weights for w in row] + self.biases

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        flat_w = [w for row in self.weights for w in row]
        return {
            "weights": ((self.n_inputs, self.n_neurons), flat_w),
            "biases": ((1, self.n_neurons), list(self.biases)),
        }

    def load(self, weights: Any, biases: Any) -> None:
        """Set W (n_inputs, n_neurons) and b ((n_neurons,) or (1, n_neurons)); check both first."""
        b = np.asarray(biases)
        if b.shape not in ((self.n_neurons,), (1, self.n_neurons)):
            raise ValueError(
                f"{self.name} biases have shape {b.shape}, expected ({self.n_neurons},) or "
                f"(1, {self.n_neurons})"
            )
        self.load_state_dict({"weights": weights, "biases": b.reshape(1, -1)})

    def numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) as float64 arrays shaped (n_inputs, n_neurons) and (1, n_neurons), as the book's."""
        state = self.state_dict()
        return state["weights"], state["biases"]

    def grads(self) -> tuple[np.ndarray, np.ndarray]:
        """(dL/dW, dL/db) as float64 arrays, the same shapes as `numpy()` (the book's dweights, dbiases)."""
        return grad_array(self.weights), grad_array([self.biases])

    def __repr__(self) -> str:
        return f"Dense({self.n_inputs}, {self.n_neurons}, name={self.name!r})"
