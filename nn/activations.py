"""Activations: elementwise ReLU, Sigmoid, Tanh and Identity, and the row-wise Softmax."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag
from autograd import Value

from .batch import as_batch
from .module import Module

if TYPE_CHECKING:
    from .replay import Recorder


def row_max(*zs: Any) -> Any:
    """max(z_1, ..., z_k) entry by entry, as Python's max(): the first entry, replaced by every
    later one that is greater (so a nan after the first is passed over, as max() does)."""
    m = zs[0]
    for z in zs[1:]:
        m = np.where(z > m, z, m)
    return m


def softmax_max(row: list[Value], tape: Recorder) -> Value:
    """The row's max as a derived leaf: per sample, and a constant for the chain rule."""
    return tape.derived_leaf("max", row_max, row)


class ReLU(Module):
    """a = max(0, z), elementwise; da/dz = 1 if z > 0 else 0."""

    prefix = "relu"
    replayable = True

    def forward(self, Z: Any) -> list[list[Value]]:
        """max(0, z) for every entry."""
        return [list(map(Value.relu, row)) for row in as_batch(Z, self.name, wrap=True)]


class Sigmoid(Module):
    """a = 1 / (1 + e^-z), elementwise; da/dz = a (1 - a)."""

    prefix = "sigmoid"
    replayable = True

    def forward(self, Z: Any) -> list[list[Value]]:
        """1 / (1 + e^-z) for every entry."""
        return [list(map(Value.sigmoid, row)) for row in as_batch(Z, self.name, wrap=True)]


class Tanh(Module):
    """a = tanh z, elementwise; da/dz = 1 - a^2."""

    prefix = "tanh"
    replayable = True

    def forward(self, Z: Any) -> list[list[Value]]:
        """tanh z for every entry."""
        return [list(map(Value.tanh, row)) for row in as_batch(Z, self.name, wrap=True)]


class Softmax(Module):
    """p_ij = e^(z_ij - m_i) / sum_k e^(z_ik - m_i), with m_i the row's max taken as a constant.

    Subtracting m_i changes nothing mathematically (it cancels between numerator and
    denominator) but keeps every exponent <= 0, so e^x cannot overflow. m_i enters the graph
    as a plain number: its own derivative would cancel anyway, and a constant costs no node.
    """

    prefix = "softmax"
    replayable = True

    def forward(self, Z: Any) -> list[list[Value]]:
        """Each row's exponentials, shifted by the row max, divided by their sum."""
        out = []
        for row in as_batch(Z, self.name, wrap=True):
            m = max(v.data for v in row)
            exps = [(v - m).exp() for v in row]
            total = ag.sum(exps)
            out.append([e / total for e in exps])
        return out

    def forward_sample(self, row: list[Value], tape: Recorder) -> list[Value]:
        """One sample's softmax, its max m a derived leaf rather than a number of its own."""
        m = softmax_max(row, tape)
        exps = [(v - m).exp() for v in row]
        total = ag.sum(exps)
        return [e / total for e in exps]


class Identity(Module):
    """a = z, elementwise; da/dz = 1. The book's Activation_Linear, for regression outputs.

    Named as PyTorch names the same module (`nn.Linear` is PyTorch's dense layer, here `Dense`).
    It adds no node: the outputs are the inputs' own Values.
    """

    prefix = "identity"
    replayable = True

    def forward(self, Z: Any) -> list[list[Value]]:
        """z itself, for every entry."""
        return as_batch(Z, self.name, wrap=True)
