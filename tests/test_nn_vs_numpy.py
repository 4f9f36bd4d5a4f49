"""The engine's chain rule against the book's hand-derived matrix gradients (`nn.reference`).

For every network here the Value graph and the numpy layers compute the same loss, and the
gradients `dweights`, `dbiases` and `dinputs` agree to 1e-10 relative: the chain rule applied one
scalar node at a time and the matrix calculus derived by hand are the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nn
from nn import reference as R

RTOL = 1e-10


def rel_err(actual: Any, expected: Any, floor: float = 0.0) -> float:
    """max |a - e| / max(max |e|, floor): the error relative to the size of the expected array.

    `floor` is the size of the gradient flowing in from the loss. A gradient that cancels to
    about 0 (a softmax row's gradients sum to 0, for one) carries rounding noise of the size of
    the terms that cancelled, not of the result, so it is measured against those terms instead.
    A real mistake (a wrong sign, a missing factor) is an error of the terms' size and still fails.
    """
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    scale = max(float(np.max(np.abs(e))), floor)
    diff = float(np.max(np.abs(a - e)))
    return diff / scale if scale > 0 else diff


def assert_same(actual: Any, expected: Any, what: str, floor: float = 0.0) -> None:
    err = rel_err(actual, expected, floor)
    assert err <= RTOL, (
        f"{what}: relative error {err:.3g}\nengine:\n{actual}\nreference:\n{expected}"
    )


# Values in [-1, 1] and at most 4 inputs keep every pre-activation within [-5, 5], so a softmax
# probability never falls below 1e-5 and the losses' clipping to [1e-7, 1 - 1e-7] never acts.
# (The book's backward ignores the clip; the engine differentiates it. Inside the range they agree.)
unit = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)


@st.composite
def dense_problems(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 5))
    n_in = draw(st.integers(1, 4))
    n_out = draw(st.integers(1, 4))
    return {
        "X": draw(arrays(np.float64, (n, n_in), elements=unit)),
        "W": draw(arrays(np.float64, (n_in, n_out), elements=unit)),
        "b": draw(arrays(np.float64, (n_out,), elements=unit)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


ACTIVATIONS = {
    "relu": (nn.ReLU, R.Activation_ReLU),
    "sigmoid": (nn.Sigmoid, R.Activation_Sigmoid),
    "tanh": (nn.Tanh, R.Activation_Tanh),
    "softmax": (nn.Softmax, R.Activation_Softmax),
}


def targets(loss: str, n: int, k: int, rng: np.random.Generator, one_hot: bool) -> np.ndarray:
    if loss == "mse":
        return rng.uniform(-1, 1, (n, k))
    if loss == "bce":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    classes = rng.integers(0, k, n)
    return np.eye(k, dtype=np.float64)[classes] if one_hot else classes


LOSSES = {
    "mse": (nn.MSE, R.Loss_MeanSquaredError),
    "cce": (nn.CategoricalCrossEntropy, R.Loss_CategoricalCrossentropy),
    "bce": (nn.BinaryCrossEntropy, R.Loss_BinaryCrossentropy),
}

# Cross-entropies need outputs in (0, 1): they follow Sigmoid or Softmax, MSE follows anything.
COMBOS = [("mse", a) for a in ACTIVATIONS] + [
    (loss, a) for loss in ("cce", "bce") for a in ("sigmoid", "softmax")
]


def engine_run(p: dict[str, Any], act: str, loss: str, y: Any) -> tuple[float, nn.Dense, Any]:
    """Dense -> activation -> loss on Values; returns the loss, the layer and the input Values."""
    layer = nn.Dense(*p["W"].shape)
    layer.load(p["W"], p["b"])
    X = nn.to_values(p["X"])
    out = ACTIVATIONS[act][0]()(layer(X))
    L = LOSSES[loss][0]()(out, y)
    L.backward()
    return L.data, layer, X


def reference_run(
    p: dict[str, Any], act: str, loss: str, y: Any
) -> tuple[float, R.Layer_Dense, float]:
    """The same network with the book's numpy layers and hand-derived backward passes."""
    dense = R.Layer_Dense(*p["W"].shape)
    dense.weights, dense.biases = p["W"].copy(), p["b"].reshape(1, -1).copy()
    activation = ACTIVATIONS[act][1]()
    loss_fn = LOSSES[loss][1]()
    dense.forward(p["X"])
    activation.forward(dense.output)
    L = loss_fn.calculate(activation.output, y)
    loss_fn.backward(activation.output, y)
    activation.backward(loss_fn.dinputs)
    dense.backward(activation.dinputs)
    return L, dense, float(np.max(np.abs(loss_fn.dinputs)))


@pytest.mark.parametrize(("loss", "act"), COMBOS)
@settings(max_examples=40)
@given(p=dense_problems(), one_hot=st.booleans())
def test_dense_activation_loss_gradients_equal_the_numpy_reference(
    loss: str, act: str, p: dict[str, Any], one_hot: bool
) -> None:
    n, k = p["X"].shape[0], p["W"].shape[1]
    y = targets(loss, n, k, np.random.default_rng(p["seed"]), one_hot)
    L, layer, X = engine_run(p, act, loss, y)
    L_ref, dense, floor = reference_run(p, act, loss, y)
    assert abs(L - L_ref) <= RTOL * max(1.0, abs(L_ref))
    dW, db = layer.grads()
    assert_same(dW, dense.dweights, "dweights", floor)
    assert_same(db, dense.dbiases, "dbiases", floor)
    assert_same(nn.grad_array(X), dense.dinputs, "dinputs", floor)


def central_differences(f: Any, A: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """dL/dA by (f(A + h e_k) - f(A - h e_k)) / 2h for every entry k."""
    grad = np.zeros_like(A, dtype=np.float64)
    for k in np.ndindex(A.shape):
        old = A[k]
        A[k] = old + h
        up = f()
        A[k] = old - h
        down = f()
        A[k] = old
        grad[k] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize(("loss", "act"), COMBOS)
def test_the_reference_itself_matches_central_differences(loss: str, act: str) -> None:
    """The hand-derived backward passes are right on their own, not only equal to the engine."""
    rng = np.random.default_rng(5)
    p = {
        "X": rng.uniform(-1, 1, (4, 3)),
        "W": rng.uniform(-1, 1, (3, 3)),
        "b": rng.uniform(-1, 1, 3),
    }
    y = targets(loss, 4, 3, rng, one_hot=False)
    _, dense, _ = reference_run(p, act, loss, y)
    for key, analytic in (("W", dense.dweights), ("b", dense.dbiases[0]), ("X", dense.dinputs)):
        numeric = central_differences(lambda: reference_run(p, act, loss, y)[0], p[key])
        assert rel_err(analytic, numeric) < 1e-7, f"{loss} after {act}: d{key}"


@settings(max_examples=60)
@given(p=dense_problems(), one_hot=st.booleans())
def test_softmax_cce_equals_the_combined_backward(p: dict[str, Any], one_hot: bool) -> None:
    """The engine, knowing nothing of the shortcut, lands on the book's dL/dz = (p - y) / n."""
    n, k = p["X"].shape[0], p["W"].shape[1]
    y = targets("cce", n, k, np.random.default_rng(p["seed"]), one_hot)
    L, layer, X = engine_run(p, "softmax", "cce", y)
    dense = R.Layer_Dense(*p["W"].shape)
    dense.weights, dense.biases = p["W"].copy(), p["b"].reshape(1, -1).copy()
    combined = R.Activation_Softmax_Loss_CategoricalCrossentropy()
    dense.forward(p["X"])
    L_ref = combined.forward(dense.output, y)
    combined.backward(combined.output, y)
    dense.backward(combined.dinputs)
    floor = 1.0 / n  # every entry of (p - y) / n lies within [-1/n, 1/n]
    assert abs(L - L_ref) <= RTOL * max(1.0, abs(L_ref))
    dW, db = layer.grads()
    assert_same(dW, dense.dweights, "dweights", floor)
    assert_same(db, dense.dbiases, "dbiases", floor)
    assert_same(nn.grad_array(X), dense.dinputs, "dinputs", floor)


# ---- the book's chapter-9 network, with the book's random draws ----

BOOK_CH9_LOSS = 1.0986104  # printed by the book for this network, data and seed
BOOK_CH9_ACCURACY = 0.34


def test_chapter_9_network_reproduces_the_book(nnfs_init: None) -> None:
    """Dense(2, 3), ReLU, Dense(3, 3), Softmax, CCE on spiral_data(100, 3), drawn as the book does."""
    from nnfs.datasets import spiral_data

    X, y = spiral_data(samples=100, classes=3)
    assert X.dtype == np.float32  # nnfs.init() is in force, as in the seed's first cell
    # The book's Layer_Dense draws its weights in this order, right after the data.
    w1 = 0.01 * np.random.randn(2, 3)
    w2 = 0.01 * np.random.randn(3, 3)

    dense1, dense2 = nn.Dense(2, 3), nn.Dense(3, 3)
    dense1.load(w1, np.zeros(3))
    dense2.load(w2, np.zeros(3))
    model = nn.Sequential([dense1, nn.ReLU(), dense2, nn.Softmax()])
    out = model(X)
    loss = nn.CategoricalCrossEntropy()(out, y)
    assert abs(loss.data - BOOK_CH9_LOSS) <= 1e-6
    assert nn.accuracy(out, y) == BOOK_CH9_ACCURACY
    loss.backward()

    ref1, relu, ref2 = R.Layer_Dense(2, 3), R.Activation_ReLU(), R.Layer_Dense(3, 3)
    ref1.weights, ref2.weights = w1.astype(np.float64), w2.astype(np.float64)
    head = R.Activation_Softmax_Loss_CategoricalCrossentropy()
    ref1.forward(X)
    relu.forward(ref1.output)
    ref2.forward(relu.output)
    ref_loss = head.forward(ref2.output, y)
    head.backward(head.output, y)
    ref2.backward(head.dinputs)
    relu.backward(ref2.dinputs)
    ref1.backward(relu.dinputs)

    assert ref1.dweights.dtype == np.float64  # the reference stays float64 under nnfs.init()
    assert abs(loss.data - ref_loss) <= 1e-12
    np.testing.assert_allclose(nn.data_array(out), head.output, rtol=1e-12)
    for layer, ref in ((dense1, ref1), (dense2, ref2)):
        dW, db = layer.grads()
        assert_same(dW, ref.dweights, f"{layer.name} dweights")
        # dense2's biases get (p - y) summed over a balanced batch, which nearly cancels;
        # measure against the size of the summed terms (1 / n each)
        assert_same(db, ref.dbiases, f"{layer.name} dbiases", floor=1.0 / len(X))


# ---- ten optimiser steps against the book's update rules ----

OPTIMISERS = {
    # the hyper-parameters the book uses when it introduces each optimiser
    "sgd": (
        lambda ps: nn.SGD(ps, lr=1.0, decay=1e-3, momentum=0.9),
        lambda: R.Optimizer_SGD(1.0, 1e-3, 0.9),
    ),
    "sgd-plain": (lambda ps: nn.SGD(ps), lambda: R.Optimizer_SGD()),
    "adagrad": (lambda ps: nn.Adagrad(ps, decay=1e-4), lambda: R.Optimizer_Adagrad(decay=1e-4)),
    "rmsprop": (
        lambda ps: nn.RMSprop(ps, lr=0.02, decay=1e-5, rho=0.999),
        lambda: R.Optimizer_RMSprop(learning_rate=0.02, decay=1e-5, rho=0.999),
    ),
    "adam": (lambda ps: nn.Adam(ps, lr=0.05, decay=5e-7), lambda: R.Optimizer_Adam(0.05, 5e-7)),
    "adam-default": (lambda ps: nn.Adam(ps), lambda: R.Optimizer_Adam()),
}


@pytest.mark.parametrize("name", OPTIMISERS)
def test_ten_optimiser_steps_equal_the_reference_updates(name: str) -> None:
    """Both optimisers get the engine's gradients at each step; the parameters stay equal."""
    make, make_ref = OPTIMISERS[name]
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (12, 2))
    y = rng.integers(0, 3, 12)
    dense1, dense2 = nn.Dense(2, 4, rng), nn.Dense(4, 3, rng)
    # Nonzero biases, so that their updates are exercised from the first step.
    dense1.load(dense1.numpy()[0], rng.uniform(-0.1, 0.1, 4))
    model = nn.Sequential([dense1, nn.Tanh(), dense2, nn.Softmax()])
    loss_fn = nn.CategoricalCrossEntropy()
    optimizer = make(model.parameters())
    refs = [R.Layer_Dense(2, 4), R.Layer_Dense(4, 3)]
    for layer, ref in zip((dense1, dense2), refs):
        ref.weights, ref.biases = layer.numpy()
    ref_optimizer = make_ref()
    start = [layer.numpy()[0] for layer in (dense1, dense2)]

    for step in range(10):
        model.zero_grad()
        loss_fn(model(X), y).backward()
        for layer, ref in zip((dense1, dense2), refs):
            ref.dweights, ref.dbiases = layer.grads()
        optimizer.step()
        ref_optimizer.pre_update_params()
        for ref in refs:
            ref_optimizer.update_params(ref)
        ref_optimizer.post_update_params()

        assert optimizer.iterations == ref_optimizer.iterations == step + 1
        assert optimizer.current_learning_rate == pytest.approx(
            ref_optimizer.current_learning_rate, rel=1e-15
        )
        for layer, ref in zip((dense1, dense2), refs):
            W, b = layer.numpy()
            assert_same(W, ref.weights, f"{name} step {step + 1} weights")
            assert_same(b, ref.biases, f"{name} step {step + 1} biases")
    # The parameters moved: the comparisons above were not between two unchanged copies.
    for layer, W0 in zip((dense1, dense2), start):
        assert np.max(np.abs(layer.numpy()[0] - W0)) > 1e-4


def test_optimiser_defaults_are_the_books() -> None:
    p = [nn.Dense(1, 1).parameters()[0]]
    sgd, adagrad, rmsprop, adam = nn.SGD(p), nn.Adagrad(p), nn.RMSprop(p), nn.Adam(p)
    assert (sgd.learning_rate, sgd.decay, sgd.momentum) == (1.0, 0.0, 0.0)
    assert (adagrad.learning_rate, adagrad.decay, adagrad.epsilon) == (1.0, 0.0, 1e-7)
    assert (rmsprop.learning_rate, rmsprop.decay, rmsprop.epsilon, rmsprop.rho) == (
        0.001,
        0.0,
        1e-7,
        0.9,
    )
    assert (adam.learning_rate, adam.decay, adam.epsilon, adam.beta_1, adam.beta_2) == (
        0.001,
        0.0,
        1e-7,
        0.9,
        0.999,
    )


def test_learning_rate_decay_follows_the_book() -> None:
    """lr_t = lr / (1 + decay * t): with lr = 1 and decay = 0.1, steps use 1, 1/1.1, 1/1.2, ..."""
    w = nn.Dense(1, 1).parameters()[0]
    opt = nn.SGD([w], lr=1.0, decay=0.1)
    used = []
    for _ in range(4):
        w.grad = 1.0
        before = w.data
        opt.step()
        used.append(before - w.data)
    np.testing.assert_allclose(used, [1.0, 1 / 1.1, 1 / 1.2, 1 / 1.3], rtol=1e-15)
