"""`Dense`, a fully connected layer (z_j = sum_i x_i w_ij + b_j, one `dot` node per output), and
`Dropout`; the initialisations a Dense layer can start from.

Which initialisation suits which activation:
- "book": 0.01 * N(0, 1), the nnfs book's. Small weights keep a shallow ReLU or softmax network
  near its linear regime at the start, which is what the book's chapters train; deeper networks
  start with vanishing signals and learn slowly.
- "he": N(0, 2 / n_inputs), for ReLU layers: it keeps the variance of the activations the same
  from layer to layer, with half the units switched off.
- "glorot": U(-a, a) with a = sqrt(6 / (n_inputs + n_neurons)), for tanh, sigmoid and linear
  layers, whose outputs keep both signs.
- "uniform": U(-1, 1), micrograd's, for its small demos (a few inputs and neurons per layer).
- a callable (shape, rng) -> array of that shape, for anything else.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag
from autograd import Value
from autograd.reals import count, real, real_array, shown

from .batch import as_batch, grad_array
from .module import Module, check_array

if TYPE_CHECKING:
    from .replay import Recorder

_dot = ag.dot

# Where random numbers come from: a numpy Generator made from `rng=`, or, without one, the module
# np.random itself, numpy's global state, which the book draws from and nnfs.init() seeds.
Random = np.random.Generator | ModuleType
Init = Callable[[tuple[int, int], Random], Any]


def _book(shape: tuple[int, int], rng: Random) -> Any:
    # Without a Generator this is the book's very call, np.random.randn: after nnfs.init() it
    # returns float32 draws, and widening them to float64 later keeps every bit of the book's.
    draws = rng.randn(*shape) if rng is np.random else rng.standard_normal(shape)
    return 0.01 * draws


INITS: dict[str, Init] = {
    "book": _book,
    "he": lambda shape, rng: math.sqrt(2.0 / shape[0]) * rng.standard_normal(shape),
    "glorot": lambda shape, rng: rng.uniform(
        -math.sqrt(6.0 / sum(shape)), math.sqrt(6.0 / sum(shape)), shape
    ),
    "uniform": lambda shape, rng: rng.uniform(-1.0, 1.0, shape),
}


def random_source(rng: np.random.Generator | int | None, who: str) -> Random:
    """A Generator for `rng` (a seed or a Generator), or np.random (the global state) for None."""
    if rng is None:
        return np.random
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        seed = count(rng, f"{who} rng", 0)  # numpy's seeds are ints >= 0, of any size
    except TypeError:
        raise TypeError(
            f"{who} rng must be a seed (int), a numpy Generator or None, got {type(rng).__name__}"
        ) from None
    return np.random.default_rng(seed)


def _strength(name: str, value: Any) -> float:
    """A regulariser's strength as a float, finite and >= 0, or an error naming it."""
    x = real(value, f"Dense {name}")
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"Dense {name} must be a finite number >= 0, got {shown(value)}")
    return x


class Dense(Module):
    """z = X W + b for a batch X (n_samples, n_inputs); W is (n_inputs, n_neurons) as in the book.

    The weights start from `init` (default "book": 0.01 * N(0, 1) drawn with np.random.randn, as
    the book's Layer_Dense does, so that after nnfs.init() the book's layers built in the book's
    order get the book's weights), drawn from `rng` (a seed or a Generator) when given, else from
    numpy's global state. The biases start at 0. Each output z_ij is ONE `dot` node,
    w_j . x_i + b_j, with operands (w_0j, ..., w_(n-1)j, x_i0, ..., x_i(n-1), b_j), inside a scope
    "neuron j" nested in the layer's scope.

    The regularisers add lambda_1 * sum |w| and lambda_2 * sum w^2 (and the same for the biases)
    to the loss that `fit` minimises, as the book's chapter 14 does; see `regularization_loss`.
    """

    prefix = "dense"
    replayable = True

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        rng: np.random.Generator | int | None = None,
        name: str | None = None,
        *,
        init: str | Init = "book",
        weight_regularizer_l1: float = 0.0,
        weight_regularizer_l2: float = 0.0,
        bias_regularizer_l1: float = 0.0,
        bias_regularizer_l2: float = 0.0,
    ) -> None:
        super().__init__(name)
        self.n_inputs = count(n_inputs, "Dense n_inputs", 1)
        self.n_neurons = count(n_neurons, "Dense n_neurons", 1)
        if self.n_inputs * self.n_neurons > sys.maxsize:  # numpy's and Python's limit on a length
            raise ValueError(
                f"Dense({shown(n_inputs)}, {shown(n_neurons)}) would hold more weights than an "
                f"array can index ({sys.maxsize:,})"
            )
        self.weight_regularizer_l1 = _strength("weight_regularizer_l1", weight_regularizer_l1)
        self.weight_regularizer_l2 = _strength("weight_regularizer_l2", weight_regularizer_l2)
        self.bias_regularizer_l1 = _strength("bias_regularizer_l1", bias_regularizer_l1)
        self.bias_regularizer_l2 = _strength("bias_regularizer_l2", bias_regularizer_l2)
        w = self._initial_weights(init, random_source(rng, "Dense"))
        # Stored by neuron (column), because the forward loop walks one neuron's weights at a
        # time; `weights` below presents the same Value objects in the book's (in, out) layout.
        self._columns = [
            [Value(float(w[i, j]), f"{self.name}.w[{i},{j}]") for i in range(self.n_inputs)]
            for j in range(self.n_neurons)
        ]
        self.biases = [Value(0.0, f"{self.name}.b[{j}]") for j in range(self.n_neurons)]

    def _initial_weights(self, init: str | Init, rng: Random) -> np.ndarray:
        shape = (self.n_inputs, self.n_neurons)
        if isinstance(init, str):
            if init not in INITS:
                raise ValueError(
                    f"Dense init must be one of {sorted(INITS)} or a callable, got {shown(init)}"
                )
            draw = INITS[init]
        elif callable(init):
            draw = init
        else:
            raise TypeError(f"Dense init must be a name or a callable, got {type(init).__name__}")
        # float32 -> float64 is exact: the draws keep every bit.
        w = real_array(draw(shape, rng), f"Dense init {shown(init)}")
        if w.shape != shape:
            raise ValueError(f"Dense init {shown(init)} gave shape {w.shape}, expected {shape}")
        return w

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

    def regularization_loss(self) -> Value | None:
        """l1_w sum|w| + l2_w sum w^2 + l1_b sum|b| + l2_b sum b^2, or None without regularisers.

        |x| is written x + 2 relu(-x): its derivative at x = 0 is +1, the sign the book's
        backward gives there (it sets dL1 = 1 and then -1 where x < 0), and the biases start at 0.
        """
        flat_w = [w for column in self._columns for w in column]
        terms = []
        for params, l1, l2 in (
            (flat_w, self.weight_regularizer_l1, self.weight_regularizer_l2),
            (self.biases, self.bias_regularizer_l1, self.bias_regularizer_l2),
        ):
            if l1 > 0:
                terms.append(ag.sum([p + (-p).relu() * 2.0 for p in params]) * l1)
            if l2 > 0:
                terms.append(ag.sum([p.square() for p in params]) * l2)
        if not terms:
            return None
        with ag.scope(self.name):
            return terms[0] if len(terms) == 1 else ag.sum(terms)

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        flat_w = [w for row in self.weights for w in row]
        return {
            "weights": ((self.n_inputs, self.n_neurons), flat_w),
            "biases": ((1, self.n_neurons), list(self.biases)),
        }

    def load(self, weights: Any, biases: Any) -> None:
        """Set W (n_inputs, n_neurons) and b ((n_neurons,) or (1, n_neurons)); check both first."""
        who = f"{self.name}.load()"
        b = real_array(biases, f"{who} biases")
        if b.shape not in ((self.n_neurons,), (1, self.n_neurons)):
            raise ValueError(
                f"{who} biases have shape {b.shape}, expected ({self.n_neurons},) or "
                f"(1, {self.n_neurons})"
            )
        w = check_array(weights, (self.n_inputs, self.n_neurons), f"{who} weights")
        self.load_state_dict({"weights": w, "biases": b.reshape(1, -1)})

    def numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) as float64 arrays shaped (n_inputs, n_neurons) and (1, n_neurons), as the book's."""
        state = self.state_dict()
        return state["weights"], state["biases"]

    def grads(self) -> tuple[np.ndarray, np.ndarray]:
        """(dL/dW, dL/db) as float64 arrays, the same shapes as `numpy()` (the book's dweights, dbiases)."""
        return grad_array(self.weights), grad_array([self.biases])

    def __repr__(self) -> str:
        return f"Dense({self.n_inputs}, {self.n_neurons}, name={self.name!r})"


class Dropout(Module):
    """In training, a_ij = x_ij * m_ij / (1 - rate) with m_ij ~ Bernoulli(1 - rate); else a = x.

    The mask is drawn as the book's Layer_Dropout draws it, np.random.binomial(1, 1 - rate,
    size) / (1 - rate), from numpy's global state (or from `rng`, a seed or a Generator, when
    given), one draw per forward pass in training mode. Dividing by 1 - rate keeps the expected
    output equal to the input, so nothing needs rescaling when dropout is off. da/dx = m / (1 - rate).
    """

    prefix = "dropout"
    replayable = True

    def __init__(
        self, rate: float, rng: np.random.Generator | int | None = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        x = real(rate, "Dropout rate")
        if not 0.0 <= x < 1.0:
            raise ValueError(f"Dropout rate is the fraction dropped, in [0, 1), got {shown(rate)}")
        self.rate = x
        self.rng = random_source(rng, "Dropout")

    def forward(self, X: Any) -> list[list[Value]]:
        """x * mask / (1 - rate) in training mode; x itself otherwise."""
        rows = as_batch(X, self.name, wrap=True)
        if not self.training:
            return rows
        keep = 1 - self.rate
        # Drawn even at rate 0, as the book does, so the random stream stays in step with it.
        mask = self.rng.binomial(1, keep, size=(len(rows), len(rows[0]))) / keep
        return [[x * m for x, m in zip(row, ms)] for row, ms in zip(rows, mask.tolist())]

    def forward_sample(self, row: list[Value], tape: Recorder) -> list[Value]:
        """In training, x * m with the mask m per-sample input leaves, drawn each step as forward
        draws them (one binomial draw over the whole batch); otherwise x itself."""
        if not self.training:
            return row
        keep, width = 1 - self.rate, len(row)
        masks = tape.inputs_from(
            [f"{self.name}.mask[{j}]" for j in range(width)],
            lambda step: self.rng.binomial(1, keep, size=(step.n, width)) / keep,
        )
        return [x * m for x, m in zip(row, masks)]

    def __repr__(self) -> str:
        return f"Dropout({self.rate}, name={self.name!r})"
