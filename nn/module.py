"""The module base (`parameters()`, `zero_grad()`, a named scope around `forward`) and `Sequential`."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag
from autograd import Value
from autograd.reals import real_array

from . import replay

if TYPE_CHECKING:
    from .replay import Recorder


# One counter per kind of module, so that names read "dense1", "dense2", "relu1" in a graph.
_counters: dict[str, Iterator[int]] = {}


def _next_name(prefix: str) -> str:
    counter = _counters.setdefault(prefix, itertools.count(1))
    return f"{prefix}{next(counter)}"


class Module:
    """A piece of a network: it owns parameters (possibly none) and maps inputs to Values.

    Calling a module runs its `forward` inside `autograd.scope(self.name, owner=self)`, so every
    node it creates records which module made it, and a graph drawing can fold a layer into a box.
    """

    prefix = "module"  # the stem of the automatic name, e.g. "dense" -> "dense1"
    # True when the module's graph has the same shape for every sample, so that nn.replay can
    # record it once and run it over whole batches (see `forward_sample`). A subclass of your
    # own says so only if its forward takes no branch on a number.
    replayable = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"a module name must be a non-empty str, got {name!r}")
        self.name = name if name is not None else _next_name(self.prefix)
        # Training mode: Dropout drops. `predict` and validation switch it off (the book's
        # `training` argument, kept on the module as PyTorch keeps it).
        self.training = True

    def forward(self, *args: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any) -> Any:
        """`forward(*args)`, every node it makes tagged with this module's scope."""
        with ag.scope(self.name, owner=self):
            return self.forward(*args)

    def record(self, row: list[Value], tape: Recorder) -> list[Value]:
        """This module on one sample (a row of Values), as nn.replay records it for every sample."""
        with ag.scope(self.name, owner=self):
            return self.forward_sample(row, tape)

    def forward_sample(self, row: list[Value], tape: Recorder) -> list[Value]:
        """`forward` on one sample, in a form that has the same shape for every sample.

        By default forward on a batch of one row; a module whose graph would depend on the
        sample's numbers records them as leaves with `tape` instead (Softmax, Dropout).
        """
        return list(self.forward([row])[0])

    def parameters(self) -> list[Value]:
        """The trainable leaf Values, each listed once."""
        return unique([p for child in self.children() for p in child.parameters()])

    def children(self) -> list[Module]:
        """The modules this one is made of (none for a single layer)."""
        return []

    def train(self, mode: bool = True) -> Module:
        """Set training mode (True) or evaluation mode (False) here and in every child; returns self."""
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: the same as train(False)."""
        return self.train(False)

    def regularization_loss(self) -> Value | None:
        """The sum of the children's regularisation penalties, or None when there are none."""
        terms = [t for child in self.children() if (t := child.regularization_loss()) is not None]
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else ag.sum(terms)

    def predict(self, X: Any, engine: str = "auto") -> np.ndarray:
        """The outputs for X as a float64 array, in evaluation mode and with no graph kept.

        `engine`: "replay" runs one sample's recorded graph over all of X as arrays, "scalar"
        builds the graph of Values sample by sample, "auto" replays when the model allows
        (see nn.replay).
        """
        if engine != "scalar" and replay.why_not(self) is None:
            # Checked here, so that a bad entry names predict(); a Value stands for its number,
            # as no graph is kept.
            X = replay.as_inputs(X, "predict() X")
        if replay.resolve(engine, self, None, X, "predict()"):
            return replay.predict(self, replay.as_inputs(X, "predict() X"))
        was_training = self.training
        self.eval()
        try:
            with ag.no_grad():
                out = self(X)
        finally:
            self.train(was_training)
        return np.array(_numbers(out), dtype=np.float64)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0 (backward accumulates into leaves)."""
        for p in self.parameters():
            p.grad = 0.0

    # ---- parameters as named numpy arrays, for saving and loading ----

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        """Each parameter array's name, its shape and its Values in row-major order."""
        return {}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter array by name, as float64 copies."""
        return {
            key: np.array([v.data for v in values], dtype=np.float64).reshape(shape)
            for key, (shape, values) in self._arrays().items()
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set every parameter from `state`; check everything first, so a bad state changes nothing."""
        slots = self._arrays()
        check_names(slots, list(state), f"{self.name}: the parameter names do not match")
        checked = [
            (check_array(state[key], shape, f"{self.name} parameter {key!r}"), values)
            for key, (shape, values) in slots.items()
        ]
        for array, values in checked:
            for v, x in zip(values, array.ravel().tolist()):
                v.data = x

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _numbers(x: Any) -> Any:
    """The numbers of a Value, or of nested lists of them, as nested lists of floats."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (list, tuple)):
        return [_numbers(e) for e in x]
    return x


def check_names(expected: Collection[str], found: Sequence[str], what: str) -> None:
    """Nothing if `found` holds exactly the `expected` names, else a ValueError listing the odd ones."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing or unexpected:
        raise ValueError(f"{what}; missing {missing}, unexpected {unexpected}")


def check_array(x: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """`x` as a float64 array of exactly `shape`, or an error naming `what`.

    Every entry is a real number by Value()'s rule (`real_array`); a wrong shape names both.
    """
    array = real_array(x, what)
    if array.shape != shape:
        raise ValueError(f"{what} has shape {array.shape}, expected {shape}")
    return array


def unique(values: Sequence[Value]) -> list[Value]:
    """`values` with repeats removed (by identity), keeping first occurrences in order."""
    return list({id(v): v for v in values}.values())


class Sequential(Module):
    """Modules applied in order: model(X) = layers[-1](... layers[0](X))."""

    prefix = "sequential"
    replayable = True

    def __init__(self, layers: Sequence[Module], name: str | None = None) -> None:
        super().__init__(name)
        if not isinstance(layers, Iterable):
            raise TypeError(f"Sequential needs a list of Modules, got {type(layers).__name__}")
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential needs Modules, got {type(layer).__name__} at position {i}"
                )
        self.layers = layers

    def forward(self, X: Any) -> Any:
        """Feed the output of each layer into the next."""
        for layer in self.layers:
            X = layer(X)
        return X

    def forward_sample(self, row: list[Value], tape: Recorder) -> list[Value]:
        """Each layer's per-sample form, in order."""
        for layer in self.layers:
            row = layer.record(row, tape)
        return row

    def children(self) -> list[Module]:
        """The layers, in order."""
        return list(self.layers)

    def _arrays(self) -> dict[str, tuple[tuple[int, ...], list[Value]]]:
        # Keys by position ("0.weights"), not by name: names depend on how many modules the
        # process created before, and a saved file must load into a freshly built model.
        return {
            f"{i}.{key}": slot
            for i, layer in enumerate(self.layers)
            for key, slot in layer._arrays().items()
        }

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], name={self.name!r})"
