"""micrograd's network API on chainrule's engine: `Neuron`, `Layer` and `MLP`, one sample per call.

    model = MLP(2, [16, 16, 1])          # two ReLU layers of 16, then one linear output
    score = model([Value(0.5), -1.2])    # one sample in, one Value out
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= 0.1 * p.grad

`Dense` takes a batch (n_samples, n_features) and returns a grid; these take one sample (a
sequence of numbers or Values) and return a Value, or a list of Values for a layer wider than
one. Each neuron is one `dot` node, w . x + b, then a `relu` unless it is linear.

Weights start uniform on [-1, 1] and biases at 0. With `rng=None` they are drawn from Python's
global `random` module, neuron by neuron and weight by weight, so that `random.seed(1337)`
followed by `MLP(2, [16, 16, 1])` starts from the same numbers as micrograd's demo. `rng` may
instead be a seed (a private `random.Random`), a `random.Random` or a numpy `Generator`.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd as ag
from autograd import Value
from autograd.reals import count, shown

from .module import Module

Rng = random.Random | np.random.Generator | int | None
_dot = ag.dot
_scope = ag.scope


def generator(rng: Rng) -> random.Random | np.random.Generator | None:
    """`rng` ready to share between modules: a seed becomes a `random.Random`; None stays None."""
    if rng is None or isinstance(rng, (random.Random, np.random.Generator)):
        return rng
    if isinstance(rng, (int, np.integer, np.bool_)) and not isinstance(rng, np.timedelta64):
        return random.Random(int(rng))  # a seed is a count, True is 1, as everywhere
    raise TypeError(
        f"rng must be None, a seed, a random.Random or a numpy Generator, got {type(rng).__name__}"
    )


def uniform(rng: random.Random | np.random.Generator | None) -> float:
    """One draw uniform on [-1, 1] from `rng`, or from Python's global `random` when None."""
    if rng is None:
        return random.uniform(-1.0, 1.0)
    return float(rng.uniform(-1.0, 1.0))


def _count(n: Any, what: str, who: str) -> int:
    """A layer size by the engine's rule for counts: an int >= 1 (True is 1, as everywhere)."""
    return count(n, f"{who} {what}", 1)


def sample(x: Any, n: int, who: str) -> list[Any]:
    """One sample as a list of n Values and floats; a TypeError or ValueError names `who`."""
    if isinstance(x, (Value, numbers.Real, str, bytes)) or not hasattr(x, "__iter__"):
        raise TypeError(
            f"{who} takes one sample, a sequence of {n} numbers or Values, got {type(x).__name__}"
        )
    xs = list(x)
    if len(xs) != n:
        raise ValueError(f"{who} takes {n} inputs per sample, got {len(xs)}")
    for k, e in enumerate(xs):
        if type(e) is Value or type(e) is float or isinstance(e, Value):
            continue
        if isinstance(e, numbers.Real):
            xs[k] = float(e)
        elif hasattr(e, "__iter__") and not isinstance(e, (str, bytes)):
            raise TypeError(
                f"{who} takes one sample at a time, but input {k} is a sequence; for a batch, "
                f"call it once per row ([model(x) for x in X]) or use nn.Dense"
            )
        else:
            raise TypeError(f"{who} needs numbers or Values, got {type(e).__name__} as input {k}")
    return xs


class Neuron(Module):
    """relu(w . x + b) for one sample x, or w . x + b when `nonlin` is False."""

    prefix = "neuron"

    def __init__(
        self, nin: int, nonlin: bool = True, rng: Rng = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.nin = _count(nin, "nin", "Neuron")
        self.nonlin = bool(nonlin)
        gen = generator(rng)
        self.w = [Value(uniform(gen), f"{self.name}.w[{i}]") for i in range(self.nin)]
        self.b = Value(0.0, f"{self.name}.b")

    def forward(self, x: Any) -> Value:
        """relu(w_1 x_1 + ... + w_n x_n + b), or the sum alone for a linear neuron."""
        return self._fire(sample(x, self.nin, repr(self)))

    def _fire(self, xs: list[Any]) -> Value:
        z = _dot(self.w, xs, self.b)
        return z.relu() if self.nonlin else z

    def parameters(self) -> list[Value]:
        """The weights w_1..w_n, then the bias b."""
        return [*self.w, self.b]

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        return {"w": ((self.nin,), list(self.w)), "b": ((), [self.b])}

    def __repr__(self) -> str:
        linear = "" if self.nonlin else ", nonlin=False"
        return f"Neuron({self.nin}{linear}, name={self.name!r})"


class Layer(Module):
    """`nout` neurons reading the same sample; returns their outputs as a list (a Value if one)."""

    prefix = "layer"

    def __init__(
        self, nin: int, nout: int, nonlin: bool = True, rng: Rng = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.nin = _count(nin, "nin", "Layer")
        self.nout = _count(nout, "nout", "Layer")
        self.nonlin = bool(nonlin)
        gen = generator(rng)  # one stream for the whole layer, neuron after neuron
        self.neurons = [
            Neuron(self.nin, self.nonlin, rng=gen, name=f"{self.name}.n{j}")
            for j in range(self.nout)
        ]

    def forward(self, x: Any) -> Value | list[Value]:
        """[neuron_1(x), ..., neuron_nout(x)], or the single Value when nout is 1."""
        out = self._fire(sample(x, self.nin, repr(self)))
        return out[0] if len(out) == 1 else out

    def _fire(self, xs: list[Any]) -> list[Value]:
        # A neuron scope without an owner, as in Dense: drawings fold the layer as one module.
        out = []
        for j, n in enumerate(self.neurons):
            with _scope(f"neuron {j}"):
                out.append(n._fire(xs))
        return out

    def parameters(self) -> list[Value]:
        """Each neuron's parameters in turn: its weights, then its bias."""
        return [p for n in self.neurons for p in n.parameters()]

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        return {
            "w": ((self.nout, self.nin), [w for n in self.neurons for w in n.w]),
            "b": ((self.nout,), [n.b for n in self.neurons]),
        }

    def __repr__(self) -> str:
        linear = "" if self.nonlin else ", nonlin=False"
        return f"Layer({self.nin}, {self.nout}{linear}, name={self.name!r})"


class MLP(Module):
    """Layers of sizes nouts after nin inputs: ReLU on every layer but the last, which is linear."""

    prefix = "mlp"

    def __init__(
        self, nin: int, nouts: Sequence[int], rng: Rng = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        if isinstance(nouts, (int, np.integer)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(
                f"MLP nouts must be a non-empty list of layer sizes, got {shown(nouts)}"
            )
        sizes = [_count(nin, "nin", "MLP")] + [_count(n, "layer size", "MLP") for n in nouts]
        gen = generator(rng)
        last = len(sizes) - 2
        self.layers = [
            Layer(
                sizes[k],
                sizes[k + 1],
                nonlin=k != last,
                rng=gen,
                name=f"{self.name}.layer{k}",
            )
            for k in range(len(sizes) - 1)
        ]

    def forward(self, x: Any) -> Value | list[Value]:
        """The last layer's output for one sample: a Value, or a list when it is wider than one."""
        xs = sample(x, self.layers[0].nin, repr(self))
        for layer in self.layers:
            # Every layer keeps its list form inside, so a layer of one can feed the next.
            with _scope(layer.name, owner=layer):
                xs = layer._fire(xs)
        return xs[0] if len(xs) == 1 else xs

    def parameters(self) -> list[Value]:
        """Every layer's parameters, first layer first."""
        return [p for layer in self.layers for p in layer.parameters()]

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        return {
            f"{k}.{key}": slot
            for k, layer in enumerate(self.layers)
            for key, slot in layer._arrays().items()
        }

    def __repr__(self) -> str:
        sizes = [layer.nout for layer in self.layers]
        return f"MLP({self.layers[0].nin}, {sizes}, name={self.name!r})"
