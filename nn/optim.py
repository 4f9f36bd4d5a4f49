"""Optimisers with the nnfs book's update rules and defaults, applied to `Value.data` in place.

Every optimiser decays its learning rate as the book does, lr_t = lr / (1 + decay * t), where t
counts the steps taken so far, and keeps its per-parameter state (momenta, caches) in lists of
floats aligned with its parameter list.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from autograd import Value

from .batch import grad_number
from .module import Module, unique


def _hyper(
    name: str, x: Any, lo: float = 0.0, hi: float = math.inf, hi_open: bool = False
) -> float:
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    x = float(x)
    if not (lo <= x and (x < hi if hi_open else x <= hi)):
        upper = f"{hi})" if hi_open else f"{hi}]"
        raise ValueError(f"{name} must lie in [{lo}, {upper}, got {x}")
    return x


class Optimizer:
    """The shared part: the parameter list, the step counter and the learning-rate decay."""

    def __init__(self, params: Iterable[Value] | Module, lr: float, decay: float) -> None:
        if isinstance(params, Module):
            params = params.parameters()
        if isinstance(params, Value):
            raise TypeError(f"{type(self).__name__} needs a list of parameters, got one Value")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__} parameters must be Values, got "
                    f"{type(p).__name__} at position {i}"
                )
        if not params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimise")
        # A Value listed twice (a shared layer) must move once per step, not twice.
        self.params = unique(params)
        self.learning_rate = _hyper("lr", lr)
        self.current_learning_rate = self.learning_rate
        self.decay = _hyper("decay", decay)
        self.iterations = 0

    def step(self) -> None:
        """One update of every parameter from its current grad."""
        if self.decay:
            # lr_t = lr / (1 + decay * t), written as the book writes it
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )
        self._update()
        self.iterations += 1

    def _update(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define _update()")

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates into leaves)."""
        for p in self.params:
            p.grad = 0.0

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(lr={self.learning_rate}, decay={self.decay}, "
            f"{len(self.params)} parameters, {self.iterations} steps taken)"
        )


class SGD(Optimizer):
    """Gradient descent: v <- momentum * v - lr_t * g, then p <- p + v (v = -lr_t * g without momentum)."""

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float = 1.0,
        decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(params, lr, decay)
        self.momentum = _hyper("momentum", momentum)
        self.momentums = [0.0] * len(self.params)

    def _update(self) -> None:
        lr, mu, velocity = self.current_learning_rate, self.momentum, self.momentums
        for k, p in enumerate(self.params):
            g = grad_number(p)
            if mu:
                # the step keeps a fraction of the previous step: v = mu v - lr g
                update = mu * velocity[k] - lr * g
                velocity[k] = update
            else:
                update = -lr * g
            p.data += update


class Adagrad(Optimizer):
    """cache <- cache + g^2, then p <- p - lr_t * g / (sqrt(cache) + epsilon)."""

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float = 1.0,
        decay: float = 0.0,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(params, lr, decay)
        self.epsilon = _hyper("epsilon", epsilon)
        self.cache = [0.0] * len(self.params)

    def _update(self) -> None:
        lr, eps, cache = self.current_learning_rate, self.epsilon, self.cache
        for k, p in enumerate(self.params):
            g = grad_number(p)
            # the sum of all squared gradients so far: often-moved parameters slow down
            cache[k] += g * g
            p.data += -lr * g / (math.sqrt(cache[k]) + eps)


class RMSprop(Optimizer):
    """cache <- rho cache + (1 - rho) g^2, then p <- p - lr_t * g / (sqrt(cache) + epsilon)."""

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ) -> None:
        super().__init__(params, lr, decay)
        self.epsilon = _hyper("epsilon", epsilon)
        self.rho = _hyper("rho", rho, 0.0, 1.0)
        self.cache = [0.0] * len(self.params)

    def _update(self) -> None:
        lr, eps, rho, cache = self.current_learning_rate, self.epsilon, self.rho, self.cache
        for k, p in enumerate(self.params):
            g = grad_number(p)
            # a moving average of squared gradients, instead of Adagrad's ever-growing sum
            cache[k] = rho * cache[k] + (1 - rho) * (g * g)
            p.data += -lr * g / (math.sqrt(cache[k]) + eps)


class Adam(Optimizer):
    """RMSprop with momentum, both averages bias-corrected by 1 / (1 - beta^(t+1)).

    m <- b1 m + (1 - b1) g;  c <- b2 c + (1 - b2) g^2
    p <- p - lr_t * (m / (1 - b1^(t+1))) / (sqrt(c / (1 - b2^(t+1))) + epsilon)
    """

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        super().__init__(params, lr, decay)
        self.epsilon = _hyper("epsilon", epsilon)
        self.beta_1 = _hyper("beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _hyper("beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.momentums = [0.0] * len(self.params)
        self.cache = [0.0] * len(self.params)

    def _update(self) -> None:
        lr, eps, b1, b2 = self.current_learning_rate, self.epsilon, self.beta_1, self.beta_2
        m, c = self.momentums, self.cache
        # Both averages start at 0, so early on they are biased towards 0; dividing by
        # 1 - beta^(t+1) undoes exactly that bias (t counts the steps taken before this one).
        m_scale = 1 - b1 ** (self.iterations + 1)
        c_scale = 1 - b2 ** (self.iterations + 1)
        for k, p in enumerate(self.params):
            g = grad_number(p)
            m[k] = b1 * m[k] + (1 - b1) * g
            c[k] = b2 * c[k] + (1 - b2) * (g * g)
            p.data += -lr * (m[k] / m_scale) / (math.sqrt(c[k] / c_scale) + eps)
