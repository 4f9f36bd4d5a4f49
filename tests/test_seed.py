"""The seed notebook's two worked examples, rebuilt with Values, against its printed numbers."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import Value

# ---- cell 3: one ReLU neuron, loss = relu(w . x + b)^2, 200 steps of lr 0.001 ----

CELL3_PRINTED_LOSSES = {
    1: 36.0,
    2: 33.872397424621624,
    10: 20.806246424284897,
    100: 0.0865178816583512,
    200: 0.00019563773612380077,
}
CELL3_PRINTED_WEIGHTS = [-3.3990955, -0.20180899, 0.80271349]
CELL3_PRINTED_BIAS = 0.6009044964517248


def train_neuron() -> tuple[list[float], float, list[float], list[float]]:
    w = [Value(-3.0, "w0"), Value(-1.0, "w1"), Value(2.0, "w2")]
    b = Value(1.0, "b")
    x = [1.0, -2.0, 3.0]
    losses, first_grads = [], []
    for step in range(200):
        loss = ag.sum([*(wi * xi for wi, xi in zip(w, x)), b]).relu().square()
        for p in (*w, b):
            p.grad = 0.0
        loss.backward()
        if step == 0:
            first_grads = [p.grad for p in (*w, b)]
        losses.append(loss.data)
        for p in (*w, b):
            p.data -= 0.001 * p.grad
    return [p.data for p in w], b.data, losses, first_grads


def numpy_cell3_float64() -> tuple[np.ndarray, float, list[float]]:
    """The seed's hand-derived numpy loop, verbatim in float64."""
    weights = np.array([-3.0, -1.0, 2.0])
    bias = 1.0
    inputs = np.array([1.0, -2.0, 3.0])
    losses = []
    for _ in range(200):
        linear = float(weights @ inputs) + bias
        out = max(linear, 0.0)
        losses.append(out**2)
        dlinear = 2 * out * (1.0 if linear > 0 else 0.0)
        weights = weights - 0.001 * dlinear * inputs
        bias -= 0.001 * dlinear
    return weights, bias, losses


def test_cell3_first_gradients_are_the_hand_derived_ones() -> None:
    *_, first_grads = train_neuron()
    assert first_grads == [12.0, -24.0, 36.0, 12.0]


def test_cell3_reproduces_float64() -> None:
    weights, bias, losses, _ = train_neuron()
    assert weights == pytest.approx([-3.3990955, -0.20180899, 0.80271349], abs=1e-8)
    assert bias == pytest.approx(0.6009044964039991, abs=1e-12)
    ref_w, ref_b, ref_losses = numpy_cell3_float64()
    np.testing.assert_allclose(weights, ref_w, rtol=1e-12)
    assert bias == pytest.approx(ref_b, abs=1e-12)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)


def test_cell3_matches_the_seeds_printout_within_float32() -> None:
    # The seed ran after nnfs.init(), whose np.dot returns float32: its numbers carry float32
    # rounding (relative error ~6e-8 per step), so they agree with ours to about 1e-7, not 1e-12.
    weights, bias, losses, _ = train_neuron()
    np.testing.assert_allclose(weights, CELL3_PRINTED_WEIGHTS, rtol=1e-7)
    assert bias == pytest.approx(CELL3_PRINTED_BIAS, rel=1e-7)
    for iteration, printed in CELL3_PRINTED_LOSSES.items():
        assert losses[iteration - 1] == pytest.approx(printed, rel=1e-5)


# ---- cell 13: one dense layer of 3 ReLU neurons, loss = (sum of relu(W x + B))^2 ----

CELL13_PRINTED_LOSSES = {
    0: 466.56000000000006,
    20: 5.32959636083938,
    40: 0.41191523404899866,
    60: 0.031836212079467595,
    80: 0.002460565465389601,
    100: 0.000190172825660145,
    120: 1.4698126966451542e-05,
    140: 1.1359926717815175e-06,
    160: 8.779889800154524e-08,
    180: 6.7858241357822796e-09,
}
CELL13_FINAL_W = [
    [-0.00698895, -0.01397789, -0.02096684, -0.02795579],
    [0.25975286, 0.11950572, -0.02074143, -0.16098857],
    [0.53548461, 0.27096922, 0.00645383, -0.25806156],
]
CELL13_FINAL_B = [-0.00698895, -0.04024714, -0.06451539]


def train_layer() -> tuple[list[list[float]], list[float], list[float]]:
    X = [1.0, 2.0, 3.0, 4.0]
    W = [[Value(0.1 * (4 * i + j + 1)) for j in range(4)] for i in range(3)]
    B = [Value(b) for b in (0.1, 0.2, 0.3)]
    params = [w for row in W for w in row] + B
    losses = []
    for _ in range(200):
        Z = [ag.sum([*(w * x for w, x in zip(row, X)), b]) for row, b in zip(W, B)]
        loss = ag.sum([z.relu() for z in Z]).square()
        for p in params:
            p.grad = 0.0
        loss.backward()
        losses.append(loss.data)
        for p in params:
            p.data -= 0.001 * p.grad
    return [[w.data for w in row] for row in W], [b.data for b in B], losses


def numpy_cell13() -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The seed's In [13] loop, verbatim in float64 numpy."""
    X = np.array([1, 2, 3, 4])
    W = np.arange(1, 13, dtype=np.float64).reshape(3, 4) / 10
    B = np.array([0.1, 0.2, 0.3])
    losses = []
    for _ in range(200):
        Z = W @ X + B
        y = np.maximum(0, Z).sum()
        losses.append(float(y**2))
        dl_dZ = 2 * y * np.ones_like(Z) * np.where(Z > 0, 1, 0)
        W -= 0.001 * np.outer(X.T, dl_dZ).T
        B -= 0.001 * dl_dZ
    return W, B, losses


def test_cell13_equals_the_seeds_float64_loop() -> None:
    W, B, losses = train_layer()
    ref_W, ref_B, ref_losses = numpy_cell13()
    np.testing.assert_allclose(W, ref_W, rtol=1e-9)
    np.testing.assert_allclose(B, ref_B, rtol=1e-9)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)


def test_cell13_reproduces_every_printed_number() -> None:
    W, B, losses = train_layer()
    for iteration, printed in CELL13_PRINTED_LOSSES.items():
        assert losses[iteration] == pytest.approx(printed, rel=1e-9)
    # The seed prints its final matrices with 8 decimals.
    np.testing.assert_allclose(W, CELL13_FINAL_W, atol=5e-9)
    np.testing.assert_allclose(B, CELL13_FINAL_B, atol=5e-9)


def test_cell13_gradient_is_the_outer_product() -> None:
    X = np.array([1.0, 2.0, 3.0, 4.0])
    Wn = np.arange(1, 13, dtype=np.float64).reshape(3, 4) / 10
    Bn = np.array([0.1, 0.2, 0.3])
    W = [[Value(float(w)) for w in row] for row in Wn]
    B = [Value(float(b)) for b in Bn]
    Z = [ag.sum([*(w * x for w, x in zip(row, X)), b]) for row, b in zip(W, B)]
    loss = ag.sum([z.relu() for z in Z]).square()
    loss.backward()
    # The seed's derivation: dl/dZ = 2y * relu'(Z), dL/dW = outer(X, dl/dZ).T, dL/dB = dl/dZ
    Zn = Wn @ X + Bn
    y = np.maximum(Zn, 0).sum()
    dl_dZ = 2 * y * (Zn > 0)
    np.testing.assert_allclose(
        [[w.grad for w in row] for row in W], np.outer(X, dl_dZ).T, rtol=1e-14
    )
    np.testing.assert_allclose([b.grad for b in B], dl_dZ, rtol=1e-14)
