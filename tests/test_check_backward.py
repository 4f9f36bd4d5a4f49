"""check_backward grades a hand-written numpy backward: the right one passes, each mistake is caught.

The oracle is independent of the engine: nn.reference's hand-derived backward. For every class
there, the correct class passes, the engine's correct arrays equal the reference's to rounding,
and each deliberately broken copy (a subclass whose backward makes one mistake) is caught in
exactly the attribute and the entries where its arrays differ from the reference's.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import pathlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import Value
from autograd.backward_check import random_dvalues
from nn import check_backward
from nn import reference as R

# ---- inputs ----


def _inputs(n: int = 5, k: int = 4, seed: int = 1) -> np.ndarray:
    """Standard normal inputs with two exact zeros, where ReLU's derivative must take a side."""
    x = np.random.default_rng(seed).standard_normal((n, k))
    x[0, 1] = x[2, 3] = 0.0
    return x


def _probabilities(n: int = 5, k: int = 3, seed: int = 2) -> np.ndarray:
    """Softmax rows, well inside the book's clip [1e-7, 1 - 1e-7], which its backward ignores."""
    z = np.random.default_rng(seed).standard_normal((n, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


X = _inputs()
P = _probabilities()
Y = np.array([0, 2, 1, 1, 0])
P_BINARY = 1 / (1 + np.exp(-_inputs(seed=3)))
Y_BINARY = (np.random.default_rng(4).random((5, 4)) > 0.5).astype(np.float64)
Y_REGRESSION = np.random.default_rng(5).standard_normal((5, 4))
LOGITS_SQUARE = np.random.default_rng(6).standard_normal((3, 3))
Y_SIGNS = np.where(np.random.default_rng(7).random((5, 4)) > 0.5, 1.0, -1.0)
SCORES = np.random.default_rng(8).standard_normal((5, 4))
SCORES[0, 0], SCORES[2, 1] = Y_SIGNS[0, 0], Y_SIGNS[2, 1]  # margin exactly 0: the hinge's kink
Y_ONE_HOT = np.eye(3)[[2, 0, 2]]


# ---- the broken copies: each backward makes one mistake ----


def _dense_transpose(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dweights = dvalues.T @ self.inputs  # (n_neurons, n_inputs): the transpose


def _dense_wrong_axis(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dbiases = np.sum(dvalues, axis=1, keepdims=True)  # over the neurons, not the samples


def _dense_extra_n(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dweights = self.inputs.T @ dvalues / len(dvalues)  # a layer does not average


def _dense_sign(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dinputs = -(dvalues @ self.weights.T)


def _relu_less(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = dvalues.copy()
    self.dinputs[self.inputs < 0] = 0  # lets the gradient through at exactly 0


def _relu_sign(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = -dvalues.copy()
    self.dinputs[self.inputs <= 0] = 0


def _sigmoid_sign(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = dvalues * (self.output - 1) * self.output


def _tanh_sign(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = dvalues * (self.output**2 - 1)


def _softmax_rows(self: Any, dvalues: np.ndarray, jacobian: Callable[[np.ndarray], Any]) -> None:
    self.dinputs = np.empty_like(dvalues)
    for i, (p, d) in enumerate(zip(self.output, dvalues)):
        self.dinputs[i] = jacobian(p.reshape(-1, 1)) @ d


def _softmax_transpose(self: Any, dvalues: np.ndarray) -> None:
    # p^T p (a 1 x 1 sum of squares) where the Jacobian needs the outer product p p^T
    _softmax_rows(self, dvalues, lambda p: np.diagflat(p) - p.T @ p)


def _softmax_wrong_axis(self: Any, dvalues: np.ndarray) -> None:
    # the vectorised form p (d - sum(p d)), summed over the samples instead of each row
    p = self.output
    self.dinputs = p * (dvalues - np.sum(p * dvalues, axis=0, keepdims=True))


def _softmax_sign(self: Any, dvalues: np.ndarray) -> None:
    _softmax_rows(self, dvalues, lambda p: p @ p.T - np.diagflat(p))


def _cce_missing_n(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = -np.eye(dvalues.shape[1])[y_true] / dvalues


def _cce_sign(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = np.eye(dvalues.shape[1])[y_true] / dvalues / len(dvalues)


def _cce_wrong_axis(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    samples = dvalues.shape[1]  # counted along the classes
    self.dinputs = -np.eye(dvalues.shape[1])[y_true] / dvalues / samples


def _combined_missing_n(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = dvalues.copy()
    self.dinputs[range(len(dvalues)), np.argmax(y_true, axis=1)] -= 1


def _combined_sign(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    R.Activation_Softmax_Loss_CategoricalCrossentropy.backward(self, dvalues, y_true)
    self.dinputs = -self.dinputs


def _combined_wrong_axis(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    y_true = np.argmax(y_true, axis=0)  # one-hot columns, not rows, to indices
    self.dinputs = dvalues.copy()
    self.dinputs[range(len(dvalues)), y_true] -= 1
    self.dinputs = self.dinputs / len(dvalues)


def _binary_missing_n(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    R.Loss_BinaryCrossentropy.backward(self, dvalues, y_true)
    self.dinputs = self.dinputs * len(dvalues)


def _binary_sign(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    R.Loss_BinaryCrossentropy.backward(self, dvalues, y_true)
    self.dinputs = -self.dinputs


def _binary_wrong_axis(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    outputs = len(dvalues)  # counted along the samples
    p = np.clip(dvalues, 1e-7, 1 - 1e-7)
    self.dinputs = -(y_true / p - (1 - y_true) / (1 - p)) / outputs / len(dvalues)


def _mse_missing_n(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = -2 * (y_true - dvalues) / len(dvalues[0])


def _mse_sign(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = 2 * (y_true - dvalues) / len(dvalues[0]) / len(dvalues)


def _mse_wrong_axis(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = -2 * (y_true - dvalues) / len(dvalues) / len(dvalues)


def _regularised_transpose(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dweights = self.dweights.T


def _regularised_wrong_axis(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dbiases = np.sum(dvalues, axis=1, keepdims=True)  # and the penalty forgotten with it


def _regularised_less(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    right = np.where(self.weights < 0, -1.0, 1.0)
    wrong = np.where(self.weights <= 0, -1.0, 1.0)  # -1 at exactly 0, where the book takes +1
    self.dweights = self.dweights + self.weight_regularizer_l1 * (wrong - right)


def _dropout_unscaled(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = dvalues * self.binary_mask * self.rate  # the mask without its / rate


def _dropout_sign(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = -dvalues * self.binary_mask


def _linear_sign(self: Any, dvalues: np.ndarray) -> None:
    self.dinputs = -dvalues.copy()


def _mae_missing_n(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = -np.sign(y_true - dvalues) / len(dvalues[0])


def _mae_sign(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    # the book prints this one: np.sign(y_true - dvalues) without the minus
    self.dinputs = np.sign(y_true - dvalues) / len(dvalues[0]) / len(dvalues)


def _mae_wrong_axis(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    self.dinputs = -np.sign(y_true - dvalues) / len(dvalues) / len(dvalues)


def _hinge(self: Any, dvalues: np.ndarray, y_true: Any, sign: float, at_kink: bool, n: int) -> None:
    margin = 1 - y_true * dvalues
    active = margin >= 0 if at_kink else margin > 0
    self.dinputs = sign * np.where(active, -y_true, 0.0) / n / len(dvalues)


def _hinge_missing_n(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    _hinge(self, dvalues, y_true, 1.0, False, len(dvalues[0]))
    self.dinputs = self.dinputs * len(dvalues)


def _hinge_sign(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    _hinge(self, dvalues, y_true, -1.0, False, len(dvalues[0]))


def _hinge_less(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    _hinge(self, dvalues, y_true, 1.0, True, len(dvalues[0]))


def _hinge_wrong_axis(self: Any, dvalues: np.ndarray, y_true: Any) -> None:
    _hinge(self, dvalues, y_true, 1.0, False, len(dvalues))  # / samples where / outputs belongs


def _regularised_dense() -> Any:
    layer = R.Layer_Dense(4, 3, 0.1, 0.2, 0.1, 0.2, rng=7)
    layer.weights[0, 1] = 0.0  # the L1 derivative must take the book's side here (the biases are 0)
    return layer


@dataclass(frozen=True)
class Case:
    """One class of nn.reference, how to feed it, and which of the five mutations apply to it."""

    make: Callable[[], Any]
    inputs: np.ndarray
    y_true: Any = None
    # mutation -> (broken backward, the attribute it breaks, the mistake's name in the report)
    mutations: dict[str, tuple[Callable[..., None], str, str]] | None = None
    # mutation -> why it does not apply to this class
    not_applicable: dict[str, str] | None = None


MUTATIONS = ("transpose", "wrong axis", "/ n", "< for <=", "sign")
# classes of nn.reference with a forward and a backward that are not one layer or loss
NOT_CHECKED = {"Model": "a whole network: its layers are checked one by one"}
NO_N = "a layer or an activation does not average: no / n in its backward"
NO_COMPARISON = "no comparison in its backward"
ELEMENTWISE = "an elementwise derivative has no transpose and no axis"

CASES: dict[str, Case] = {
    "Layer_Dense": Case(
        lambda: R.Layer_Dense(4, 3, rng=7),
        X,
        mutations={
            "transpose": (_dense_transpose, "dweights", "transpose"),
            "wrong axis": (_dense_wrong_axis, "dbiases", "wrong axis"),
            # a layer does not average: its 1/5 is a factor, said plainly
            "/ n": (_dense_extra_n, "dweights", "factor"),
            "sign": (_dense_sign, "dinputs", "sign"),
        },
        not_applicable={"< for <=": NO_COMPARISON},
    ),
    "Layer_Dense with L1 and L2": Case(
        _regularised_dense,
        X,
        mutations={
            "transpose": (_regularised_transpose, "dweights", "transpose"),
            # not a plain sum of dvalues (the penalty joins it), so not named
            "wrong axis": (_regularised_wrong_axis, "dbiases", ""),
            "< for <=": (_regularised_less, "dweights", "< for <="),
            "sign": (_dense_sign, "dinputs", "sign"),
        },
        not_applicable={"/ n": NO_N},
    ),
    "Layer_Dropout": Case(
        lambda: R.Layer_Dropout(0.3, rng=5),
        X,
        mutations={
            # the mask without its / rate: yours is 0.7 times the correct array
            "/ n": (_dropout_unscaled, "dinputs", "factor"),
            "sign": (_dropout_sign, "dinputs", "sign"),
        },
        not_applicable={
            "transpose": ELEMENTWISE,
            "wrong axis": ELEMENTWISE,
            "< for <=": NO_COMPARISON,
        },
    ),
    "Activation_Linear": Case(
        R.Activation_Linear,
        X,
        mutations={"sign": (_linear_sign, "dinputs", "sign")},
        not_applicable={
            "transpose": ELEMENTWISE,
            "wrong axis": ELEMENTWISE,
            "/ n": NO_N,
            "< for <=": NO_COMPARISON,
        },
    ),
    "Activation_ReLU": Case(
        R.Activation_ReLU,
        X,
        mutations={
            "< for <=": (_relu_less, "dinputs", "< for <="),
            "sign": (_relu_sign, "dinputs", "sign"),
        },
        not_applicable={"transpose": ELEMENTWISE, "wrong axis": ELEMENTWISE, "/ n": NO_N},
    ),
    "Activation_Sigmoid": Case(
        R.Activation_Sigmoid,
        X,
        mutations={"sign": (_sigmoid_sign, "dinputs", "sign")},
        not_applicable={
            "transpose": ELEMENTWISE,
            "wrong axis": ELEMENTWISE,
            "/ n": NO_N,
            "< for <=": NO_COMPARISON,
        },
    ),
    "Activation_Tanh": Case(
        R.Activation_Tanh,
        X,
        mutations={"sign": (_tanh_sign, "dinputs", "sign")},
        not_applicable={
            "transpose": ELEMENTWISE,
            "wrong axis": ELEMENTWISE,
            "/ n": NO_N,
            "< for <=": NO_COMPARISON,
        },
    ),
    "Activation_Softmax": Case(
        R.Activation_Softmax,
        X,
        mutations={
            # neither result is a simple mutation of the correct array, so neither has a name
            "transpose": (_softmax_transpose, "dinputs", ""),
            "wrong axis": (_softmax_wrong_axis, "dinputs", ""),
            "sign": (_softmax_sign, "dinputs", "sign"),
        },
        not_applicable={"/ n": NO_N, "< for <=": NO_COMPARISON},
    ),
    "Loss_CategoricalCrossentropy": Case(
        R.Loss_CategoricalCrossentropy,
        P,
        Y,
        mutations={
            "/ n": (_cce_missing_n, "dinputs", "missing / n"),
            "sign": (_cce_sign, "dinputs", "sign"),
            # divides by the 3 classes instead of the 5 samples: yours is 5/3 times the correct,
            # named as the count along the wrong axis
            "wrong axis": (_cce_wrong_axis, "dinputs", "wrong axis"),
        },
        not_applicable={"transpose": ELEMENTWISE, "< for <=": NO_COMPARISON},
    ),
    "Activation_Softmax_Loss_CategoricalCrossentropy": Case(
        R.Activation_Softmax_Loss_CategoricalCrossentropy,
        LOGITS_SQUARE,
        Y_ONE_HOT,
        mutations={
            "/ n": (_combined_missing_n, "dinputs", "missing / n"),
            "sign": (_combined_sign, "dinputs", "sign"),
            "wrong axis": (_combined_wrong_axis, "dinputs", ""),
        },
        not_applicable={"transpose": ELEMENTWISE, "< for <=": NO_COMPARISON},
    ),
    "Loss_BinaryCrossentropy": Case(
        R.Loss_BinaryCrossentropy,
        P_BINARY,
        Y_BINARY,
        mutations={
            "/ n": (_binary_missing_n, "dinputs", "missing / n"),
            "sign": (_binary_sign, "dinputs", "sign"),
            # divides by the 5 samples instead of the 4 outputs
            "wrong axis": (_binary_wrong_axis, "dinputs", "wrong axis"),
        },
        not_applicable={"transpose": ELEMENTWISE, "< for <=": "its clip is not differentiated"},
    ),
    "Loss_MeanSquaredError": Case(
        R.Loss_MeanSquaredError,
        X,
        Y_REGRESSION,
        mutations={
            "/ n": (_mse_missing_n, "dinputs", "missing / n"),
            "sign": (_mse_sign, "dinputs", "sign"),
            "wrong axis": (_mse_wrong_axis, "dinputs", "wrong axis"),
        },
        not_applicable={"transpose": ELEMENTWISE, "< for <=": NO_COMPARISON},
    ),
}

CASES |= {
    "Loss_MeanAbsoluteError": Case(
        R.Loss_MeanAbsoluteError,
        X,
        Y_REGRESSION,
        mutations={
            "/ n": (_mae_missing_n, "dinputs", "missing / n"),
            "sign": (_mae_sign, "dinputs", "sign"),
            "wrong axis": (_mae_wrong_axis, "dinputs", "wrong axis"),
        },
        not_applicable={"transpose": ELEMENTWISE, "< for <=": "np.sign has no comparison"},
    ),
    "Loss_Hinge": Case(
        R.Loss_Hinge,
        SCORES,
        Y_SIGNS,
        mutations={
            "/ n": (_hinge_missing_n, "dinputs", "missing / n"),
            "sign": (_hinge_sign, "dinputs", "sign"),
            "< for <=": (_hinge_less, "dinputs", "< for <="),
            "wrong axis": (_hinge_wrong_axis, "dinputs", "wrong axis"),
        },
        not_applicable={"transpose": ELEMENTWISE},
    ),
}

MUTANTS = [(name, mutation) for name, case in CASES.items() for mutation in (case.mutations or {})]


def _reference_run(layer: Any, case: Case, dvalues: np.ndarray | None) -> dict[str, np.ndarray]:
    """The gradients that `layer`'s own backward stores, fed as check_backward feeds it."""
    if case.y_true is None:
        layer.forward(case.inputs)
        layer.backward(dvalues)
    else:
        layer.forward(case.inputs, case.y_true)
        received = getattr(layer, "output", case.inputs)
        layer.backward(received, case.y_true)
    return {
        k: np.asarray(v) for k, v in vars(layer).items() if k in ("dweights", "dbiases", "dinputs")
    }


def _dvalues(case: Case) -> np.ndarray | None:
    if case.y_true is not None:
        return None
    layer = case.make()
    layer.forward(case.inputs)
    return random_dvalues(np.shape(layer.output), 0)


def test_every_class_of_nn_reference_with_a_backward_is_in_the_table() -> None:
    classes = {
        name
        for name, cls in inspect.getmembers(R, inspect.isclass)
        if cls.__module__ == R.__name__ and callable(getattr(cls, "backward", None))
    }
    assert classes - set(NOT_CHECKED) == {type(case.make()).__name__ for case in CASES.values()}


def test_the_books_combined_softmax_and_loss_runs_on_the_engine_with_its_chain_of_factors() -> None:
    # Loss.calculate returns np.mean(sample_losses) as the book does: a float() around it would
    # cut the graph, and the check would fall back to central differences with no chain.
    combined = R.Activation_Softmax_Loss_CategoricalCrossentropy
    report = check_backward(combined(), LOGITS_SQUARE, y_true=Y_ONE_HOT)
    assert report.ok and report.method == "engine", str(report)
    e = np.exp(LOGITS_SQUARE - LOGITS_SQUARE.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    # the book's (p - y) / n; numpy's exp and the engine's math.exp may differ by an ulp
    np.testing.assert_allclose(report["dinputs"].correct, (p - Y_ONE_HOT) / 3, rtol=1e-13)
    signed = type("Signed", (combined,), {"backward": _combined_sign})
    text = str(check_backward(signed(), LOGITS_SQUARE, y_true=Y_ONE_HOT))
    # one path through each softmax output of row 0; the one-hot zeros give 0 on three of them,
    # which are left out; the one left is named in the book's own words
    s = e[0].sum()
    assert (
        f"    dL/dinputs[0,0] = {p[0, 0] / 3:.6g}, the sum over 4 paths from L; 3 of them pass a"
        " factor 0 and add nothing:\n"
        "      via sum(sample_losses) → sample_losses[0] → correct_confidences[0] → output[0,2] →\n"
        "          sum(exp_values[0,:]) → exp_values[0,0] → inputs[0,0] - inputs[0,1]:\n"
        "        1/3 · (-1) · 1/correct_confidences[0] · (-exp_values[0,2]/sum(exp_values[0,:])²)"
        " · exp_values[0,0]\n"
        f"        = 1/3 · (-1) · 1/{p[0, 2]:.6g} · (-{e[0, 2]:.6g}/{s:.6g}²) · {e[0, 0]:.6g}\n"
        f"        = {p[0, 0] / 3:.6g}\n"
    ) in text, text
    assert "#" not in text and "sum:" not in text, text


def test_the_books_softmax_chain_names_the_row_sum_and_the_exp_values() -> None:
    # np.sum(exp_values, axis=1, keepdims=True) on Values is a chain of additions: its last one
    # is named after the slice it adds up, and exp_values' entries after the local variable
    signed = type("Signed", (R.Activation_Softmax,), {"backward": _softmax_sign})
    chain = check_backward(signed(), X)["dinputs"].chain
    assert int(np.argmax(X[0])) == 0  # so the shift subtracts inputs[0,0] from itself
    s = np.exp(X[0] - X[0].max()).sum()
    d = random_dvalues(X.shape, 0)[0, 0]
    assert chain.splitlines()[1:5] == [
        "  via output[0,0] → exp_values[0,0] → inputs[0,0] - inputs[0,0]:",
        "    dvalues[0,0] · 1/sum(exp_values[0,:]) · exp_values[0,0]",
        f"    = {d:.6g} · 1/{s:.6g} · 1",
        f"    = {d / s:.6g}",
    ], chain
    assert "    dvalues[0,0] · (-exp_values[0,0]/sum(exp_values[0,:])²) · exp_values[0,0]" in chain
    assert "#" not in chain, chain


def test_a_chain_of_factors_names_nodes_after_your_variables_sums_and_means() -> None:
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])

    def forward(x: np.ndarray) -> np.ndarray:
        squares = x * x
        return np.mean(squares, axis=1) * np.sum(x[:, :2], axis=1)

    def backward(dvalues: np.ndarray) -> tuple[np.ndarray]:
        return (2 * x * dvalues[:, None],)  # wrong: the product rule forgotten

    report = ag.check_backward(forward, backward, x, dvalues=np.array([1.0, -2.0]))
    # dL/dx[0,0] = d0 · (2 x00 / 3 · (x00 + x01) + mean(x0²)) = 2 + 14/3: every number is short
    assert report["dx"].chain == (
        "dL/dx[0,0] = 6.66667, the sum over 3 paths from L:\n"
        "  via output[0] → mean(squares[0,:]) → sum(squares[0,:]) → squares[0,0]:\n"
        "    dvalues[0] · sum(x[0,:2]) · 1/3 · x[0,0]\n"
        "    = 1 · 3 · 1/3 · 1\n"
        "    = 1\n"
        "  via output[0] → mean(squares[0,:]) → sum(squares[0,:]) → squares[0,0]:\n"
        "    dvalues[0] · sum(x[0,:2]) · 1/3 · x[0,0]\n"
        "    = 1 · 3 · 1/3 · 1\n"
        "    = 1\n"
        "  via output[0] → sum(x[0,:2]): dvalues[0] · mean(squares[0,:]) = 1 · 4.66667 = 4.66667\n"
        "  sum: 1 + 1 + 4.66667 = 6.66667"
    )


def test_a_sum_of_entries_that_are_not_one_slice_keeps_its_ops_name() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])

    def forward(x: np.ndarray) -> np.ndarray:
        return (x[0, 0] + x[1, 1]) * x  # a diagonal is no slice

    report = ag.check_backward(forward, lambda d: (d,), x, dvalues=np.ones((2, 2)))
    chain = report["dx"].chain
    assert "dvalues[0,0] · add" in chain and "sum(" not in chain, chain


def test_check_backward_leaves_the_profiler_as_it_found_it() -> None:
    calls: list[str] = []

    def profiler(frame: Any, event: str, arg: Any) -> None:
        calls.append(event)

    sys.setprofile(profiler)
    try:
        check_backward(type("Signed", (R.Activation_ReLU,), {"backward": _relu_sign})(), X)
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)
    assert calls  # it ran before and after the check


def test_every_mutation_is_either_applied_or_said_not_to_apply() -> None:
    for name, case in CASES.items():
        covered = set(case.mutations or {}) | set(case.not_applicable or {})
        assert covered == set(MUTATIONS), name
        assert not set(case.mutations or {}) & set(case.not_applicable or {}), name


@pytest.mark.parametrize("name", list(CASES))
def test_the_reference_class_passes_and_its_gradients_are_the_engines(name: str) -> None:
    case = CASES[name]
    report = check_backward(case.make(), case.inputs, y_true=case.y_true)
    assert report.ok, str(report)
    assert bool(report) is True
    # Every book class runs on Values, so the engine gives the correct gradients: MAE's np.abs
    # calls abs(v) on each Value (the abs op), so it needs no central differences either.
    assert report.method == "engine", str(report)
    expected = _reference_run(case.make(), case, _dvalues(case))
    assert {c.name for c in report.checks} == set(expected)
    for c in report.checks:
        # the hand-derived arrays against the engine's: both are right, so they agree to rounding
        np.testing.assert_allclose(c.correct, expected[c.name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "mutation"), MUTANTS)
def test_each_mutation_is_caught_in_its_attribute_and_entries_and_named(
    name: str, mutation: str
) -> None:
    case = CASES[name]
    assert case.mutations is not None
    backward, attribute, mistake = case.mutations[mutation]
    base = type(case.make())
    broken = type(f"{base.__name__}_{mutation}", (base,), {"backward": backward})

    def make() -> Any:
        layer = case.make()
        layer.__class__ = broken
        return layer

    report = check_backward(make(), case.inputs, y_true=case.y_true)
    assert not report.ok
    assert report.wrong == [attribute], str(report)
    check = report[attribute]
    d = _dvalues(case)
    right = _reference_run(case.make(), case, d)[attribute]
    yours = _reference_run(make(), case, d)[attribute]
    if yours.shape != right.shape:
        assert check.problem == "shape"
    else:
        differs = np.abs(yours - right) > 1e-9 * np.abs(right).max()
        assert check.problem == "values"
        np.testing.assert_array_equal(check.wrong, differs)
        first = tuple(int(i) for i in np.argwhere(differs)[0])
        assert f"{attribute}[{','.join(map(str, first))}]" in str(report)
    assert check.mistake == mistake, str(report)


# ---- the report ----


class ExactDense:
    """The book's dense layer (forward and backward written as the book derives them)."""

    def __init__(self, weights: np.ndarray, biases: np.ndarray) -> None:
        self.weights, self.biases = weights, biases

    def forward(self, inputs: np.ndarray) -> None:
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues: np.ndarray) -> None:
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class TransposedDense(ExactDense):
    def backward(self, dvalues: np.ndarray) -> None:
        super().backward(dvalues)
        self.dweights = np.dot(dvalues.T, self.inputs)


class SignDense(ExactDense):
    def backward(self, dvalues: np.ndarray) -> None:
        super().backward(dvalues)
        self.dinputs = np.dot(-dvalues, self.weights.T)


# Numbers with few binary digits: every product and sum below is exact, so the report's numbers
# are the same on every machine, whatever order BLAS adds in.
W_EXACT = np.array([[0.5, -1.0, 0.25], [2.0, 0.75, -0.5]])
B_EXACT = np.array([[0.0, 0.5, -0.25]])
X_EXACT = np.array([[1.0, 2.0], [-0.5, 0.25]])
D_EXACT = np.array([[1.0, -0.5, 0.25], [0.5, 2.0, -1.0]])


def test_a_missing_transpose_gets_this_report() -> None:
    report = check_backward(TransposedDense(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    assert str(report) == (
        "TransposedDense.backward is wrong in dweights (dbiases and dinputs are right).\n"
        "\n"
        "dweights: WRONG: dweights has shape (3, 2), expected (2, 3): a missing transpose?\n"
        "  (the gradient of weights has the shape of weights)\n"
        "  Recognised: yours is the transpose of the correct dweights: a missing (or extra) transpose.\n"
        "  Where the correct dweights[0,0] comes from:\n"
        "    dL/dweights[0,0] = 0.75, the sum over 2 paths from L:\n"
        "      via output[0,0]: dvalues[0,0] · inputs[0,0] = 1 · 1 = 1\n"
        "      via output[1,0]: dvalues[1,0] · inputs[1,0] = 0.5 · (-0.5) = -0.25\n"
        "      sum: 1 - 0.25 = 0.75\n"
        "\n"
        "dbiases: OK (3 entries)\n"
        "dinputs: OK (4 entries)\n"
        "\n"
        "L = sum(output * dvalues) with your dvalues, so dL/doutput = dvalues, and backward(dvalues) must\n"
        "give dL/d of each input and parameter.\n"
        "The correct gradients are the engine's, from your forward run on Values; an entry counts as right\n"
        "within 16 ulps (float64) of the size of the terms that make it."
    )


def test_the_report_is_truthy_only_when_every_gradient_is_right() -> None:
    right = check_backward(ExactDense(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    wrong = check_backward(SignDense(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    assert right and right.ok and right.wrong == []
    assert not wrong and not wrong.ok and wrong.wrong == ["dinputs"]
    assert repr(wrong) == str(wrong)
    with pytest.raises(KeyError, match="no gradient named 'dfoo'"):
        wrong["dfoo"]


def test_the_correct_arrays_are_the_hand_derived_ones() -> None:
    report = check_backward(ExactDense(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    # every number here is exact, so the engine's sums are exact too
    np.testing.assert_array_equal(report["dweights"].correct, X_EXACT.T @ D_EXACT)
    np.testing.assert_array_equal(report["dbiases"].correct, D_EXACT.sum(axis=0, keepdims=True))
    np.testing.assert_array_equal(report["dinputs"].correct, D_EXACT @ W_EXACT.T)


def test_default_dvalues_are_standard_normal_from_the_seed() -> None:
    received = []

    class Recording(ExactDense):
        def backward(self, dvalues: np.ndarray) -> None:
            received.append(dvalues.copy())
            super().backward(dvalues)

    layer = Recording(W_EXACT, B_EXACT)
    d = np.random.default_rng(3).standard_normal((2, 3))
    for rng in (3, np.random.default_rng(3)):
        check_backward(layer, X_EXACT, rng=rng)
        # the draw itself, untouched by arithmetic: the same bits on every machine
        np.testing.assert_array_equal(received.pop(), d)
        # d has full-precision entries, and BLAS picks its order of additions per CPU kernel
        # (np.dot in the layer and @ here may use different ones): a few ulp of the terms' size,
        # not bit-equality
        terms = np.abs(d) @ np.abs(W_EXACT).T
        assert np.all(np.abs(layer.dinputs - d @ W_EXACT.T) <= 4 * np.finfo(float).eps * terms)


def test_an_entry_off_by_a_millionth_is_caught_and_rounding_is_not() -> None:
    class Off(ExactDense):
        def backward(self, dvalues: np.ndarray) -> None:
            super().backward(dvalues)
            self.dweights[1, 2] *= 1 + 1e-6
            self.dinputs = np.nextafter(self.dinputs, np.inf)  # one ulp up, everywhere

    report = check_backward(Off(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    assert report.wrong == ["dweights"]
    assert report["dweights"].n_wrong == 1 and report["dweights"].first_wrong() == (1, 2)


# ---- nnfs.init(): float32 np.dot ----


def test_after_nnfs_init_the_books_float32_layer_passes_and_np_dot_stays_patched(
    nnfs_init: None,
) -> None:
    patched = np.dot
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    layer = ExactDense(0.01 * np.random.randn(4, 3), np.zeros((1, 3)))  # float32, as the book's
    assert layer.weights.dtype == np.float32
    report = check_backward(layer, x)
    assert report.ok, str(report)
    assert report.precision == "float32"
    assert layer.dweights.dtype == np.float32  # the learner's arrays are their own float32 ones
    assert np.dot is patched
    broken = check_backward(TransposedDense(layer.weights, layer.biases), x)
    assert broken.wrong == ["dweights"] and broken["dweights"].mistake == "transpose"


def test_numpy_and_value_are_restored_even_when_the_forward_fails_on_values() -> None:
    saved = np.dot, np.asarray, np.array
    value_methods = dict(vars(Value))

    class FloatBuffer:
        def forward(self, inputs: np.ndarray) -> None:
            self.inputs = inputs
            self.output = np.zeros(inputs.shape)
            self.output[:] = inputs * 3.0  # a Value does not fit in a float array

        def backward(self, dvalues: np.ndarray) -> None:
            self.dinputs = 3.0 * dvalues

    report = check_backward(FloatBuffer(), X)
    assert report.ok and report.method == "central differences"
    # said in numpy's terms: the Value's own advice (v.data, v.exp()) is for engine users
    assert report.reason.startswith(
        "your forward turns Values into plain floats, which have no gradient: numpy does that"
        " when Values are written into a float array (one made by np.zeros,"
    )
    assert "v.data" not in str(report)
    assert (np.dot, np.asarray, np.array) == saved
    assert dict(vars(Value)) == value_methods  # the comparisons lent for the run are gone


# ---- the fallback to central differences ----


class BufferedReLU:
    """ReLU written into a float buffer, so that it cannot run on Values."""

    def forward(self, inputs: np.ndarray) -> None:
        self.inputs = inputs
        self.output = np.zeros(inputs.shape)
        np.maximum(0, inputs, out=self.output)

    def backward(self, dvalues: np.ndarray) -> None:
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


def test_the_fallback_accepts_either_side_of_a_kink_and_says_so() -> None:
    report = check_backward(BufferedReLU(), X)
    assert report.ok and report.method == "central differences"
    kinks = report["dinputs"].kinks
    assert [(k.index, k.side) for k in kinks] == [((0, 1), "left"), ((2, 3), "left")]
    assert "dinputs[0,1] sits on a kink" not in str(report)  # the note names the input
    assert "inputs[0,1] sits on a kink (left slope 0, right slope" in str(report)


def test_the_fallback_catches_a_sign_and_names_the_first_wrong_entry() -> None:
    class Wrong(BufferedReLU):
        def backward(self, dvalues: np.ndarray) -> None:
            super().backward(dvalues)
            self.dinputs = -self.dinputs

    report = check_backward(Wrong(), X)
    assert report.wrong == ["dinputs"] and report["dinputs"].mistake == "sign"
    assert "The first wrong entry is dinputs[0,0]" in str(report)
    assert "central differences of your forward on floats" in str(report)


# ---- randomness and regularisation ----


class BookDropout:
    """Dropout as the book draws it: a scaled binomial mask from numpy's global generator."""

    def __init__(self, rate: float) -> None:
        self.rate = 1 - rate

    def forward(self, inputs: np.ndarray) -> None:
        self.inputs = inputs
        self.binary_mask = np.random.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues: np.ndarray) -> None:
        self.dinputs = dvalues * self.binary_mask


def test_dropout_sees_one_mask_and_the_global_generator_moves_as_after_one_forward() -> None:
    np.random.seed(11)
    report = check_backward(BookDropout(0.5), X)
    after_check = np.random.random()
    np.random.seed(11)
    BookDropout(0.5).forward(X)
    assert report.ok and report.method == "engine"
    assert np.random.random() == after_check


class RegularisedDense(ExactDense):
    """The book's chapter 14 dense layer: the regularisers' gradients join dweights and dbiases."""

    def __init__(self, weights: np.ndarray, biases: np.ndarray, l1: float, l2: float) -> None:
        super().__init__(weights, biases)
        self.weight_regularizer_l1, self.weight_regularizer_l2 = l1, l2
        self.bias_regularizer_l1, self.bias_regularizer_l2 = l1, l2

    def backward(self, dvalues: np.ndarray) -> None:
        super().backward(dvalues)
        for param in ("weights", "biases"):
            a = getattr(self, param)
            d_l1 = np.ones_like(a)
            d_l1[a < 0] = -1  # the book's sign, with +1 at exactly 0
            extra = self.weight_regularizer_l1 * d_l1 + 2 * self.weight_regularizer_l2 * a
            setattr(self, "d" + param, getattr(self, "d" + param) + extra)


def test_the_books_regularisation_loss_joins_l_and_its_l1_side_at_zero_is_checked() -> None:
    w = W_EXACT.copy()
    w[0, 1] = 0.0  # the L1 derivative must take the book's side here
    layer = RegularisedDense(w, B_EXACT, l1=0.25, l2=0.5)
    report = check_backward(layer, X_EXACT, D_EXACT)
    assert report.ok, str(report)
    assert "regularisation loss" in str(report)
    np.testing.assert_array_equal(
        report["dweights"].correct, X_EXACT.T @ D_EXACT + 0.25 * np.where(w < 0, -1, 1) + w
    )

    class LessOrEqual(RegularisedDense):
        def backward(self, dvalues: np.ndarray) -> None:
            ExactDense.backward(self, dvalues)
            for param in ("weights", "biases"):
                a = getattr(self, param)
                d_l1 = np.ones_like(a)
                d_l1[a <= 0] = -1
                extra = self.weight_regularizer_l1 * d_l1 + 2 * self.weight_regularizer_l2 * a
                setattr(self, "d" + param, getattr(self, "d" + param) + extra)

    broken = check_backward(LessOrEqual(w, B_EXACT, 0.25, 0.5), X_EXACT, D_EXACT)
    assert broken.wrong == ["dweights", "dbiases"]  # biases has a 0 too
    assert broken["dweights"].mistake == "< for <="
    np.testing.assert_array_equal(np.argwhere(broken["dweights"].wrong), [[0, 1]])


# ---- plain functions: ag.check_backward ----


def test_plain_functions_are_graded_per_input_named_after_forwards_parameters() -> None:
    def forward(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.tanh(x @ w)

    def backward(dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dz = dout * (1 - np.tanh(X_EXACT @ W_EXACT) ** 2)
        return dz @ W_EXACT.T, X_EXACT.T @ dz

    def wrong(dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dw = backward(dout)
        return dx, dw.T[:, ::-1].T  # columns swapped

    report = ag.check_backward(forward, backward, X_EXACT, W_EXACT)
    assert report.ok and [c.name for c in report.checks] == ["dx", "dw"]
    bad = ag.check_backward(forward, wrong, X_EXACT, W_EXACT)
    assert bad.wrong == ["dw"] and bad.title == "wrong"


def test_a_single_input_function_may_return_one_array() -> None:
    report = ag.check_backward(np.exp, lambda d: d * np.exp(X), X)
    assert report.ok and [c.name for c in report.checks] == ["dx"]  # np.exp's parameter is x


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.check_backward(np.exp, lambda d: (d, d), X), TypeError, "one array per input"),
        (lambda: ag.check_backward(np.exp, np.exp), ValueError, "at least one input"),
        (
            lambda: ag.check_backward(np.exp, np.exp, "abc"),
            TypeError,
            "real numbers, got dtype <U3",
        ),
        (lambda: ag.check_backward(np.exp, np.exp, [1.0, np.nan]), ValueError, "inf or nan"),
        (
            lambda: ag.check_backward(np.exp, np.exp, X, dvalues=X[:2]),
            ValueError,
            "dvalues has shape",
        ),
        (lambda: check_backward(object(), X), TypeError, "has no forward()"),
        (
            lambda: check_backward(R.Loss_MeanSquaredError(), X),
            TypeError,
            "pass it as check_backward",
        ),
        (
            lambda: check_backward(R.Loss_MeanSquaredError(), X, X, y_true=X),
            TypeError,
            "leave dvalues out",
        ),
        (lambda: check_backward(R.Activation_ReLU(), X, X[:2]), ValueError, "dvalues has shape"),
    ],
)
def test_bad_calls_name_the_entry_point_and_the_problem(
    call: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


def test_a_forward_that_stores_no_output_is_told_so() -> None:
    class NoOutput:
        def forward(self, inputs: np.ndarray) -> np.ndarray:
            return inputs

        def backward(self, dvalues: np.ndarray) -> None:
            self.dinputs = dvalues

    with pytest.raises(TypeError, match=r"NoOutput.forward must store self.output"):
        check_backward(NoOutput(), X)


def test_a_missing_gradient_is_reported_as_missing() -> None:
    class NoBiases(ExactDense):
        def backward(self, dvalues: np.ndarray) -> None:
            self.dweights = np.dot(self.inputs.T, dvalues)
            self.dinputs = np.dot(dvalues, self.weights.T)

    report = check_backward(NoBiases(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    assert report.wrong == ["dbiases"] and report["dbiases"].problem == "missing"
    assert "dbiases: MISSING: your backward did not set it." in str(report)


def test_a_forward_that_computes_otherwise_on_values_is_checked_by_central_differences() -> None:
    class Moody:
        def forward(self, inputs: np.ndarray) -> None:
            self.output = inputs * (2.0 if inputs.dtype == object else 3.0)

        def backward(self, dvalues: np.ndarray) -> None:
            self.dinputs = 3.0 * dvalues

    report = check_backward(Moody(), X)
    assert report.ok and report.method == "central differences"
    assert report.reason == "your forward computed other numbers on Values than on floats"


@pytest.mark.parametrize("scale", [0.1, 10.0])
@pytest.mark.parametrize("n", [1, 300])
def test_correct_backwards_pass_at_any_batch_size_and_scale(n: int, scale: float) -> None:
    # Saturated sigmoids and tanhs (scale 10) and BLAS sums over 300 samples: the tolerance
    # covers rounding, whatever the order of the sums and the formula of the derivative.
    rng = np.random.default_rng(n)
    x = scale * rng.standard_normal((n, 6))
    for layer in (R.Layer_Dense(6, 5, rng=1), R.Activation_Sigmoid(), R.Activation_Tanh()):
        report = check_backward(layer, x, rng=n)
        assert report.ok and report.method == "engine", str(report)
    z = np.exp(x - x.max(axis=1, keepdims=True))
    p = np.clip(z / z.sum(axis=1, keepdims=True), 1e-6, 1 - 1e-6)  # inside the book's clip
    report = check_backward(R.Loss_CategoricalCrossentropy(), p, y_true=rng.integers(0, 6, n))
    assert report.ok and report.method == "engine", str(report)


def test_the_readme_example_prints_the_report_it_shows() -> None:
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    found = re.search(
        r"```python\n([^`]*?check_backward[^`]*?)```\s*```text\n(.*?)```", readme, re.S
    )
    assert found, "the README's check_backward example and its report"
    code, shown = found.groups()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert out.getvalue() == shown


class Margin:
    """max(0, 1 - z): a kink where z = 1, reached through an op, not at an input of 0."""

    def forward(self, inputs: np.ndarray) -> None:
        self.inputs = inputs
        self.output = np.maximum(0, 1 - inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        self.dinputs = np.where(1 - self.inputs > 0, -dvalues, 0.0)


def test_a_kink_inside_the_forward_is_found_where_its_comparison_ties() -> None:
    z = X.copy()
    z[1, 1] = z[3, 0] = 1.0  # on the kink: max(0, 0) takes 0, so the derivative there is 0
    assert check_backward(Margin(), z)

    class AtOrAbove(Margin):
        def backward(self, dvalues: np.ndarray) -> None:
            self.dinputs = np.where(1 - self.inputs >= 0, -dvalues, 0.0)

    report = check_backward(AtOrAbove(), z)
    check = report["dinputs"]
    assert check.mistake == "< for <=" and "sits on a kink (2 entries)" in check.hint
    np.testing.assert_array_equal(np.argwhere(check.wrong), [[1, 1], [3, 0]])


def test_a_forward_that_writes_into_its_inputs_changes_neither_yours_nor_the_engines() -> None:
    class Doubled:
        def forward(self, inputs: np.ndarray) -> None:
            inputs *= 2.0  # in place: the caller's array would change
            self.inputs = inputs
            self.output = inputs * inputs

        def backward(self, dvalues: np.ndarray) -> None:
            self.dinputs = 4 * self.inputs * dvalues  # d(2x)^2/dx = 8x = 4 (2x)

    x = X.copy()
    before = x.copy()
    report = check_backward(Doubled(), x)
    assert report.ok, str(report)
    np.testing.assert_array_equal(x, before)


# ---- a backward that writes into the dvalues it was given ----


class DoublesItsDvalues:
    """A linear layer (output = inputs) whose backward doubles dvalues in place: dinputs is 2x."""

    def forward(self, inputs: np.ndarray) -> None:
        self.inputs = inputs
        self.output = inputs * 1.0

    def backward(self, dvalues: np.ndarray) -> None:
        dvalues *= 2.0  # wrong (the derivative is 1), and written into the caller's array
        self.dinputs = dvalues


class ReluZeroesItsDvalues:
    """The book's ReLU with `dvalues` changed in place instead of a copy: right numbers."""

    def forward(self, inputs: np.ndarray) -> None:
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        dvalues[self.inputs <= 0] = 0
        self.dinputs = dvalues


def test_a_backward_that_changes_its_dvalues_is_graded_against_the_dvalues_drawn() -> None:
    # Graded against the doubled dvalues, the doubled dinputs would look right.
    report = check_backward(DoublesItsDvalues(), X)
    assert not report.ok
    check = report["dinputs"]
    assert check.mistake == "factor" and "yours is 2 times the correct array" in check.hint
    np.testing.assert_array_equal(check.correct, random_dvalues(X.shape, 0))
    assert "changed the dvalues it was given, in place (20 of its 20 entries)" in str(report)


def test_a_relu_that_zeroes_its_dvalues_in_place_passes_with_a_note() -> None:
    report = check_backward(ReluZeroesItsDvalues(), X)
    assert report.ok, str(report)
    # X has two exact zeros and 8 negative entries (seed 1): 10 entries zeroed in place
    assert int((X <= 0).sum()) == 10
    assert "changed the dvalues it was given, in place (10 of its 20 entries)" in str(report)
    assert "changed the dvalues" not in str(check_backward(R.Activation_ReLU(), X))


def test_a_plain_backward_that_changes_its_dvalues_is_graded_against_the_dvalues_drawn() -> None:
    def forward(x: np.ndarray) -> np.ndarray:
        return 3.0 * x

    def backward(dvalues: np.ndarray) -> np.ndarray:
        dvalues *= 2.0  # 2 d where 3 d belongs
        return dvalues

    x = np.array([0.5, -1.0, 2.0, 0.25])
    report = ag.check_backward(forward, backward, x)
    check = report["dx"]
    np.testing.assert_array_equal(check.correct, 3.0 * random_dvalues((4,), 0))
    assert "yours is 0.666667 times the correct array" in check.hint
    assert "changed the dvalues it was given, in place (4 of its 4 entries)" in str(report)


def test_a_loss_backward_that_changes_its_predictions_is_graded_on_the_inputs_given() -> None:
    class MeanSquaredError(R.Loss_MeanSquaredError):
        def backward(self, dvalues: np.ndarray, y_true: np.ndarray) -> None:
            dvalues -= y_true  # in place: the predictions the check holds would change
            self.dinputs = -2 * -dvalues / dvalues.shape[1] / len(dvalues)

    report = check_backward(MeanSquaredError(), X, y_true=Y_REGRESSION)
    assert report.ok, str(report)
    assert "changed the dvalues it was given, in place (20 of its 20 entries)" in str(report)


def test_the_combined_softmax_and_loss_report_asks_for_the_gradient_of_the_logits() -> None:
    combined = check_backward(
        R.Activation_Softmax_Loss_CategoricalCrossentropy(), LOGITS_SQUARE, y_true=Y_ONE_HOT
    )
    plain = check_backward(R.Loss_CategoricalCrossentropy(), P, y_true=Y)
    combined_text, plain_text = (" ".join(str(r).split()) for r in (combined, plain))
    assert "dinputs must be dL/dinputs, the gradient with respect to what forward took" in (
        combined_text
    )
    assert "dL/dpredictions" not in combined_text
    assert "dinputs must be dL/dpredictions" in plain_text


def test_dbiases_without_keepdims_is_named_with_its_numbers_right() -> None:
    class NoKeepdims(ExactDense):
        def backward(self, dvalues: np.ndarray) -> None:
            super().backward(dvalues)
            self.dbiases = np.sum(dvalues, axis=0)  # shape (3,): the biases are (1, 3)

    report = check_backward(NoKeepdims(W_EXACT, B_EXACT), X_EXACT, D_EXACT)
    assert report.wrong == ["dbiases"]
    check = report["dbiases"]
    assert check.problem == "shape" and check.mistake == "keepdims"
    text = " ".join(str(report).split())
    assert "dbiases: WRONG: dbiases has shape (3,), expected (1, 3) (the gradient" in text
    assert (
        "Recognised: yours holds the right numbers, in shape (3,) where biases has (1, 3)" in text
    )
    # D_EXACT's column sums: 1.5, 1.5, -0.75
    np.testing.assert_array_equal(check.yours, [1.5, 1.5, -0.75])


def test_a_losss_count_along_the_wrong_axis_is_named_with_both_counts() -> None:
    cce = type("Cce", (R.Loss_CategoricalCrossentropy,), {"backward": _cce_wrong_axis})
    mse = type("Mse", (R.Loss_MeanSquaredError,), {"backward": _mse_wrong_axis})
    by_classes = check_backward(cce(), P, y_true=Y)["dinputs"]  # 5 samples, 3 classes
    by_samples = check_backward(mse(), X, y_true=Y_REGRESSION)["dinputs"]  # 5 samples, 4 outputs
    assert by_classes.hint == (
        "the count along the wrong axis: yours divides by the 3 outputs per sample where the mean"
        " is over the 5 samples (len(dvalues[0]) for len(dvalues)?)."
    )
    assert by_samples.hint == (
        "the count along the wrong axis: yours divides by the 5 samples where the 4 outputs per"
        " sample belong (len(dvalues) for len(dvalues[0])?)."
    )
    # dividing by 3 where 5 belongs: yours is 5/3 of the correct array
    np.testing.assert_allclose(by_classes.yours, by_classes.correct * 5 / 3, rtol=1e-12)


def _dense_times_outputs(self: Any, dvalues: np.ndarray) -> None:
    R.Layer_Dense.backward(self, dvalues)
    self.dinputs = self.dinputs * dvalues.shape[1]  # 3, the layer's outputs, by accident


def test_a_layers_wrong_factor_is_said_plainly_even_when_it_equals_a_count() -> None:
    # A layer does not average, so a factor of 3 (its outputs) or 1/5 (its samples) is only a
    # factor: the '/ n' names belong to losses and to forwards that divide by a count.
    times = type("Times", (R.Layer_Dense,), {"backward": _dense_times_outputs})
    by_outputs = check_backward(times(4, 3, rng=7), X)["dinputs"]
    assert (by_outputs.mistake, by_outputs.hint) == (
        "factor",
        "yours is 3 times the correct array: a constant factor is wrong.",
    )
    divided = type("Divided", (R.Layer_Dense,), {"backward": _dense_extra_n})
    by_samples = check_backward(divided(4, 3, rng=7), X)["dweights"]
    assert (by_samples.mistake, by_samples.hint) == (
        "factor",
        "yours is 0.2 (1/5) times the correct array: a constant factor is wrong.",
    )


def test_a_forward_that_averages_gets_the_missing_count_named() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 0.25]])

    def forward(x: np.ndarray) -> np.ndarray:
        return np.mean(x, axis=1)  # divides by the 4 entries of each row

    def backward(dvalues: np.ndarray) -> np.ndarray:
        return np.repeat(dvalues[:, None], 4, axis=1)  # the / 4 forgotten

    check = ag.check_backward(forward, backward, x)["dx"]
    assert (check.mistake, check.hint) == (
        "missing / n",
        "a missing / 4: yours is 4 times the correct array, and your forward divides by 4"
        " (a mean?).",
    )


class SquareDense(R.Layer_Dense):
    def backward(self, dvalues: np.ndarray) -> None:
        super().backward(dvalues)
        self.dinputs = np.dot(dvalues, self.weights)  # .T forgotten: (3, 3) fits either way


def test_a_missing_transpose_on_square_weights_is_named_though_the_shapes_agree() -> None:
    layer = SquareDense(3, 3, rng=7)
    x = np.random.default_rng(3).standard_normal((5, 3))
    report = check_backward(layer, x)
    check = report["dinputs"]
    assert report.wrong == ["dinputs"] and check.problem == "values"
    d = random_dvalues((5, 3), 0)
    np.testing.assert_allclose(check.yours, d @ layer.weights, rtol=1e-12)
    np.testing.assert_allclose(check.correct, d @ layer.weights.T, rtol=1e-12)
    assert (check.mistake, check.hint) == (
        "transpose",
        "yours is dvalues @ weights where dinputs is dvalues @ weights.T: a missing .T (weights"
        " is square, so the shapes agree and only the numbers tell).",
    )
