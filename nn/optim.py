"""Optimisers with the nnfs book's update rules and defaults, applied to `Value.data` in place.

Every optimiser decays its learning rate as the book does, lr_t = lr / (1 + decay * t), where t
counts the steps taken so far, and keeps its per-parameter state (momenta, caches) in lists of
floats aligned with its parameter list.

Two promises beyond the book's code:
- every hyperparameter is checked where it is set (in the constructor or by a later
  assignment such as `opt.learning_rate = 0.1`), so a bad value fails there, naming the
  optimiser and the parameter, and never half-way through a step;
- a step either completes or changes nothing: it computes every new number first and only then
  writes them into the parameters and the optimiser's state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from autograd import Value
from autograd.ops import data
from autograd.reals import real, real_array, shown

from .module import Module, unique


class Range(NamedTuple):
    """The allowed values of a hyperparameter: finite, lo <= x (lo < x if lo_open), x < hi."""

    lo: float
    lo_open: bool
    hi: float  # always excluded: inf for "no upper bound", 1 for the averaging factors
    why: str

    def describe(self) -> str:
        """The range in words, for error messages: 'a finite number >= 0 and < 1'."""
        low = f"> {self.lo:g}" if self.lo_open else f">= {self.lo:g}"
        return f"a finite number {low}" + ("" if self.hi == math.inf else f" and < {self.hi:g}")


# What a step computes: the parameters' new values, and the optimiser's new state by attribute.
Updates = tuple[np.ndarray, dict[str, np.ndarray]]

_RATE = Range(0.0, False, math.inf, "")
_FACTOR = Range(0.0, False, 1.0, "at 1 the average never forgets its start")


def _learning_rate(lr: float | None, learning_rate: float | None, default: float) -> float:
    """`lr` (our name) or `learning_rate` (the book's), not both; the default if neither."""
    if lr is not None and learning_rate is not None:
        raise TypeError("pass the learning rate once, as lr= or as learning_rate=, not both")
    if learning_rate is not None:
        return learning_rate
    return default if lr is None else lr


class Optimizer:
    """The shared part: the parameter list, the step counter, the learning-rate decay, the checks."""

    # Each hyperparameter's range, checked on every assignment (see __setattr__).
    ranges: ClassVar[dict[str, Range]] = {"learning_rate": _RATE, "decay": _RATE}

    def __init__(
        self, params: Iterable[Value] | Module, learning_rate: float, decay: float
    ) -> None:
        who = type(self).__name__
        if isinstance(params, Module):
            params = params.parameters()
        if isinstance(params, Value) or not isinstance(params, Iterable):
            what = "one Value" if isinstance(params, Value) else type(params).__name__
            raise TypeError(f"{who} needs a list of parameters or a Module, got {what}")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{who} parameters must be Values, got {type(p).__name__} at position {i}"
                )
        if not params:
            raise ValueError(f"{who} got no parameters to optimise")
        # A Value listed twice (a shared layer) must move once per step, not twice.
        self.params = unique(params)
        self.learning_rate = learning_rate
        self.current_learning_rate = self.learning_rate
        self.decay = decay
        self.iterations = 0

    @property
    def lr(self) -> float:
        """The learning rate, `learning_rate`, under the constructors' short name `lr`."""
        return float(self.learning_rate)

    @lr.setter
    def lr(self, value: float) -> None:
        # Without this, `opt.lr = 0.1` would make a new attribute that no step reads.
        self.learning_rate = value

    def __setattr__(self, name: str, value: Any) -> None:
        allowed = self.ranges.get(name)
        if allowed is not None:
            value = self._check(name, value, allowed)
        object.__setattr__(self, name, value)

    def _check(self, name: str, x: Any, allowed: Range) -> float:
        """`x` as a float inside `allowed`, or an error naming this optimiser and `name`."""
        who = f"{type(self).__name__} {name}"
        v = real(x, who)  # Value()'s rule: True is 1, too large for a float an OverflowError
        low_ok = v > allowed.lo if allowed.lo_open else v >= allowed.lo
        if not (math.isfinite(v) and low_ok and v < allowed.hi):
            why = f" ({allowed.why})" if allowed.why else ""
            raise ValueError(f"{who} must be {allowed.describe()}, got {shown(x)}{why}")
        return v

    def step(self, grads: Any = None) -> None:
        """One update of every parameter from its current grad (or from `grads`), all or nothing.

        `grads`, when given, holds d loss / d p for every parameter in `params` order (an array,
        as a replayed backward gives it); by default each parameter's own `.grad` is read.
        """
        # lr_t = lr / (1 + decay * t), written as the book writes it. Computed at every step,
        # with or without decay, so that a new `learning_rate` always takes effect.
        lr = self.learning_rate * (1.0 / (1.0 + self.decay * self.iterations))
        g = self._own_grads() if grads is None else self._given_grads(grads)
        now = np.array([p.data for p in self.params], dtype=np.float64)
        # Whole arrays at once: numpy's +, -, *, / and sqrt round each entry exactly as the
        # same float expression in Python does, so this is the per-parameter formula to the bit.
        with np.errstate(all="ignore"):
            new_data, new_state = self._updates(lr, g, now)
        # Nothing above wrote anything; from here on only assignments remain.
        for p, x in zip(self.params, new_data.tolist()):
            p.data = x
        for name, values in new_state.items():
            setattr(self, name, values.tolist())
        self.current_learning_rate = lr
        self.iterations += 1

    def _own_grads(self) -> np.ndarray:
        """Every parameter's `.grad` as a float, by Value()'s rule, or an error naming it."""
        who = f"{type(self).__name__}.step()"
        out = []
        for i, p in enumerate(self.params):
            g = p.grad
            if type(g) is not float:
                # After backward(create_graph=True) a grad is a Value; else one set by hand.
                g = (
                    data(g)
                    if isinstance(g, Value)
                    else real(g, f"{who}: the grad of parameter {i}")
                )
            out.append(g)
        return np.array(out, dtype=np.float64)

    def _given_grads(self, grads: Any) -> np.ndarray:
        """`grads`, one real number per parameter, as float64, or an error naming step(grads)."""
        who = f"{type(self).__name__}.step(grads)"
        a = real_array(grads, who)  # no silent cast of complex, str or dates to a float
        if a.shape != (len(self.params),):
            raise ValueError(f"{who} needs {len(self.params)} gradients, got shape {a.shape}")
        return a

    def _updates(self, lr: float, grads: np.ndarray, data: np.ndarray) -> Updates:
        """The parameters' new values and the new per-parameter state, computed without writing."""
        raise NotImplementedError(f"{type(self).__name__} does not define _updates()")

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates into leaves)."""
        for p in self.params:
            p.grad = 0.0

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={getattr(self, name)}" for name in self.ranges)
        return (
            f"{type(self).__name__}({settings}, {len(self.params)} parameters, "
            f"{self.iterations} steps taken)"
        )


class SGD(Optimizer):
    """Gradient descent: v <- momentum * v - lr_t * g, then p <- p + v (v = -lr_t * g without momentum)."""

    ranges = {**Optimizer.ranges, "momentum": Range(0.0, False, 1.0, "at 1 a step never fades")}

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | None = None,
        decay: float = 0.0,
        momentum: float = 0.0,
        *,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(params, _learning_rate(lr, learning_rate, 1.0), decay)
        self.momentum = momentum
        self.momentums = [0.0] * len(self.params)

    def _updates(self, lr: float, grads: np.ndarray, data: np.ndarray) -> Updates:
        mu = self.momentum
        if mu:
            # the step keeps a fraction of the previous step: v = mu v - lr g
            velocity = mu * np.array(self.momentums) - lr * grads
            return data + velocity, {"momentums": velocity}
        return data + -lr * grads, {}


class Adagrad(Optimizer):
    """cache <- cache + g^2, then p <- p - lr_t * g / (sqrt(cache) + epsilon)."""

    ranges = {
        **Optimizer.ranges,
        "epsilon": Range(0.0, True, math.inf, "it keeps sqrt(cache) + epsilon above 0"),
    }

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | None = None,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        *,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(params, _learning_rate(lr, learning_rate, 1.0), decay)
        self.epsilon = epsilon
        self.cache = [0.0] * len(self.params)

    def _updates(self, lr: float, grads: np.ndarray, data: np.ndarray) -> Updates:
        eps = self.epsilon
        # the sum of all squared gradients so far: often-moved parameters slow down
        cache = np.array(self.cache) + grads * grads
        return data + -lr * grads / (np.sqrt(cache) + eps), {"cache": cache}


class RMSprop(Optimizer):
    """cache <- rho cache + (1 - rho) g^2, then p <- p - lr_t * g / (sqrt(cache) + epsilon)."""

    ranges = {**Adagrad.ranges, "rho": _FACTOR}

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | None = None,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
        *,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(params, _learning_rate(lr, learning_rate, 0.001), decay)
        self.epsilon = epsilon
        self.rho = rho
        self.cache = [0.0] * len(self.params)

    def _updates(self, lr: float, grads: np.ndarray, data: np.ndarray) -> Updates:
        eps, rho = self.epsilon, self.rho
        # a moving average of squared gradients, instead of Adagrad's ever-growing sum
        cache = rho * np.array(self.cache) + (1 - rho) * (grads * grads)
        return data + -lr * grads / (np.sqrt(cache) + eps), {"cache": cache}


class Adam(Optimizer):
    """RMSprop with momentum, both averages bias-corrected by 1 / (1 - beta^(t+1)).

    m <- b1 m + (1 - b1) g;  c <- b2 c + (1 - b2) g^2
    p <- p - lr_t * (m / (1 - b1^(t+1))) / (sqrt(c / (1 - b2^(t+1))) + epsilon)
    """

    ranges = {**Adagrad.ranges, "beta_1": _FACTOR, "beta_2": _FACTOR}

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | None = None,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        *,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(params, _learning_rate(lr, learning_rate, 0.001), decay)
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.momentums = [0.0] * len(self.params)
        self.cache = [0.0] * len(self.params)

    def _updates(self, lr: float, grads: np.ndarray, data: np.ndarray) -> Updates:
        eps, b1, b2 = self.epsilon, self.beta_1, self.beta_2
        # Both averages start at 0, so early on they are biased towards 0; dividing by
        # 1 - beta^(t+1) undoes exactly that bias (t counts the steps taken before this one).
        m_scale = 1 - b1 ** (self.iterations + 1)
        c_scale = 1 - b2 ** (self.iterations + 1)
        m = b1 * np.array(self.momentums) + (1 - b1) * grads
        c = b2 * np.array(self.cache) + (1 - b2) * (grads * grads)
        return data + -lr * (m / m_scale) / (np.sqrt(c / c_scale) + eps), {
            "momentums": m,
            "cache": c,
        }
