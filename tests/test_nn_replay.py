"""nn on replay: every layer and loss gives the scalar path's numbers, and the engine switch.

One step from the same weights runs on the scalar path and by replay. The loss, the outputs and
every parameter's gradient must agree to 1e-12 relative to their rounding scale (tests/rounding.py:
plain relative difference where no terms cancel; numpy's matrix products add in another order
than the scalar engine's left-to-right sums, so a sum of cancelling terms agrees to the size of
its terms).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rounding import RTOL, backward_scales, close, forward_scales

import autograd as ag
import nn
from autograd import Value
from nn import replay

Case = Callable[[np.random.Generator, int], tuple[nn.Module, Any, np.ndarray, Any]]


def _mlp(rng: np.random.Generator, n_out: int, *middle: nn.Module, **reg: float) -> list[nn.Module]:
    return [
        nn.Dense(3, 5, rng=rng, init="he", **reg),
        *middle,
        nn.Dense(5, n_out, rng=rng, init="he"),
    ]


def _classes(rng: np.random.Generator, n: int, k: int = 3) -> np.ndarray:
    return rng.integers(0, k, n)


CASES: dict[str, Case] = {
    "relu + softmax cross-entropy, indices": lambda rng, n: (
        nn.Sequential(_mlp(rng, 3, nn.ReLU())),
        nn.SoftmaxCrossEntropy(),
        rng.normal(size=(n, 3)),
        _classes(rng, n),
    ),
    "softmax + categorical cross-entropy, one-hot": lambda rng, n: (
        nn.Sequential([*_mlp(rng, 3, nn.Tanh()), nn.Softmax()]),
        nn.CategoricalCrossEntropy(),
        rng.normal(size=(n, 3)),
        np.eye(3)[_classes(rng, n)],
    ),
    "sigmoid + binary cross-entropy": lambda rng, n: (
        nn.Sequential([*_mlp(rng, 2, nn.ReLU()), nn.Sigmoid()]),
        nn.BinaryCrossEntropy(),
        rng.normal(size=(n, 3)),
        rng.choice([0.0, 1.0, 0.25], size=(n, 2)),
    ),
    "tanh + mse": lambda rng, n: (
        nn.Sequential(_mlp(rng, 2, nn.Tanh())),
        nn.MSE(),
        rng.normal(size=(n, 3)),
        rng.normal(size=(n, 2)),
    ),
    "identity + mae": lambda rng, n: (
        nn.Sequential([*_mlp(rng, 1, nn.Sigmoid()), nn.Identity()]),
        nn.MAE(),
        rng.normal(size=(n, 3)),
        rng.normal(size=n),
    ),
    "hinge": lambda rng, n: (
        nn.Sequential(_mlp(rng, 1, nn.ReLU())),
        nn.Hinge(),
        rng.normal(size=(n, 3)),
        rng.choice([-1.0, 1.0], size=n),
    ),
    "dropout + L1/L2 regularisers": lambda rng, n: (
        nn.Sequential(
            _mlp(
                rng,
                3,
                nn.ReLU(),
                nn.Dropout(0.3, rng=5),
                weight_regularizer_l1=1e-3,
                weight_regularizer_l2=2e-3,
                bias_regularizer_l1=3e-3,
                bias_regularizer_l2=4e-3,
            )
        ),
        nn.SoftmaxCrossEntropy(),
        rng.normal(size=(n, 3)),
        _classes(rng, n),
    ),
}


def _reseed_dropout(model: nn.Module, seed: int) -> None:
    for m in replay._modules(model):
        if isinstance(m, nn.Dropout):
            m.rng = np.random.default_rng(seed)


def _step(model: nn.Module, loss_fn: Any, X: np.ndarray, y: Any, engine: str) -> dict[str, Any]:
    """One step with lr = 0 (the parameters stay), and what it left: loss, outputs, gradients."""
    _reseed_dropout(model, 11)  # both engines draw the same masks, in the same order
    optimizer = nn.SGD(model.parameters(), lr=0.0)
    loss, output = nn.train_step(model, loss_fn, optimizer, X, y, engine=engine)
    return {"loss": loss, "output": output, "grads": [p.grad for p in model.parameters()]}


def _scalar_graph(model: nn.Module, loss_fn: Any, X: np.ndarray, y: Any) -> tuple[Value, Any]:
    """The scalar path's loss and outputs as Values, backward done: what train_step builds."""
    _reseed_dropout(model, 11)
    out = model(X)
    penalty = model.regularization_loss()
    loss = loss_fn(out, y) if penalty is None else loss_fn(out, y) + penalty
    model.zero_grad()
    loss.backward()
    return loss, out


def _normwise(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| over max |b|: 0 when both are all zeros."""
    top = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / top) if top else float(np.max(np.abs(a)))


@pytest.mark.parametrize("case", list(CASES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12))
def test_every_layer_and_loss_replays_the_scalar_paths_numbers(
    case: str, seed: int, n: int
) -> None:
    model, loss_fn, X, y = CASES[case](np.random.default_rng(seed), n)
    loss, out = _scalar_graph(model, loss_fn, X, y)
    fwd = forward_scales(loss, *[v for row in out for v in row])
    _, bwd = backward_scales(loss)
    grads = [p.grad for p in model.parameters()]
    replayed = _step(model, loss_fn, X, y, "replay")
    assert close(replayed["loss"], loss.data, fwd[loss])
    for i, row in enumerate(out):
        for j, v in enumerate(row):
            assert close(replayed["output"][i, j], v.data, fwd[v]), (i, j)
    for p, ours, truth in zip(model.parameters(), replayed["grads"], grads):
        assert close(ours, truth, bwd.get(p, 0.0)), p.label


def test_dropout_draws_the_books_masks_from_the_same_stream() -> None:
    rng = np.random.default_rng(3)
    model, loss_fn, X, y = CASES["dropout + L1/L2 regularisers"](rng, 40)
    scalar = _step(model, loss_fn, X, y, "scalar")
    replayed = _step(model, loss_fn, X, y, "replay")
    assert math.isclose(replayed["loss"], scalar["loss"], rel_tol=RTOL)
    assert _normwise(np.array(replayed["grads"]), np.array(scalar["grads"])) <= RTOL
    # Another stream gives another step: the masks are the book's draws, not fixed ones.
    for m in replay._modules(model):
        if isinstance(m, nn.Dropout):
            m.rng = np.random.default_rng(12)
    other, _ = nn.train_step(model, loss_fn, nn.SGD(model.parameters(), lr=0.0), X, y)
    assert other != replayed["loss"]


def test_fit_with_batches_validation_and_a_schedule_follows_the_scalar_path() -> None:
    def run(engine: str) -> tuple[dict[str, list[float]], list[float]]:
        rng = np.random.default_rng(1)
        model, loss_fn, X, y = CASES["relu + softmax cross-entropy, indices"](rng, 90)
        optimizer = nn.Adam(model.parameters(), learning_rate=0.01)
        history = nn.fit(
            model,
            loss_fn,
            optimizer,
            X,
            y,
            3,
            batch_size=32,
            rng=7,
            schedule=lambda k: 0.01 / (1 + k),
            validation_data=(X[:20], y[:20]),
            progress=False,
            engine=engine,
        )
        return history, [p.data for p in model.parameters()]

    scalar, scalar_params = run("scalar")
    replayed, replayed_params = run("replay")
    assert scalar.keys() == replayed.keys()
    for key in scalar:
        np.testing.assert_allclose(replayed[key], scalar[key], rtol=1e-11)
    assert replayed["accuracy"] == scalar["accuracy"]
    # After 9 Adam steps the parameters still agree: the gradients they came from did.
    np.testing.assert_allclose(replayed_params, scalar_params, rtol=1e-9)


def test_mini_batches_reuse_the_recorded_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[replay.Program] = []
    original = replay.Program.__init__

    def counting(self: replay.Program, *args: Any) -> None:
        built.append(self)
        original(self, *args)

    monkeypatch.setattr(replay.Program, "__init__", counting)
    rng = np.random.default_rng(2)
    model, loss_fn, X, y = CASES["dropout + L1/L2 regularisers"](rng, 50)
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    nn.fit(
        model, loss_fn, optimizer, X, y, 4, batch_size=16, validation_data=(X, y), progress=False
    )
    # One program for training (dropout on), one for validation (dropout off): 4 epochs of 4
    # batches and 4 validations later, still two.
    assert len(built) == 2
    assert {len(p.tape.inputs) for p in built} == {3 + 5 + 3, 3 + 3}  # x, masks, targets


def test_predict_replays_in_chunks_and_gives_the_scalar_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(4)
    model, _, X, _ = CASES["softmax + categorical cross-entropy, one-hot"](rng, 23)
    monkeypatch.setattr(replay, "CHUNK", 5)
    ours = model.predict(X)
    assert ours.shape == (23, 3)
    assert _normwise(ours, model.predict(X, engine="scalar")) <= RTOL
    assert model.training  # predict ran in evaluation mode and put the mode back


def test_the_optimiser_takes_replayed_gradients_as_an_array() -> None:
    for cls in (nn.SGD, nn.Adagrad, nn.RMSprop, nn.Adam):
        a, b = nn.Dense(2, 3, rng=0), nn.Dense(2, 3, rng=0)
        opt_a, opt_b = cls(a.parameters()), cls(b.parameters())
        grads = np.linspace(-1.0, 1.0, len(opt_a.params))
        for p, g in zip(opt_a.params, grads.tolist()):
            p.grad = g
        for _ in range(3):
            opt_a.step()
            opt_b.step(grads)
        assert [p.data for p in opt_a.params] == [p.data for p in opt_b.params]
    with pytest.raises(ValueError, match=r"step\(grads\) needs 9 gradients"):
        opt_a.step(np.zeros(4))


def test_a_gradient_lands_in_grad_as_the_scalar_step_leaves_it() -> None:
    rng = np.random.default_rng(5)
    model, loss_fn, X, y = CASES["tanh + mse"](rng, 8)
    outside = Value(0.5, "not in the model")
    optimizer = nn.SGD([*model.parameters(), outside], lr=0.1)
    outside.grad = 3.0
    nn.train_step(model, loss_fn, optimizer, X, y, engine="replay")
    assert outside.grad == 0.0  # zeroed by the optimiser, reached by nothing, as on the scalar path
    assert outside.data == 0.5


class Doubler(nn.Module):
    """A module of one's own: not replayable unless it says so."""

    def forward(self, X: Any) -> Any:
        return [[2.0 * v for v in row] for row in nn.as_batch(X, self.name, wrap=True)]


def test_auto_falls_back_to_scalar_and_replay_says_why_not() -> None:
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    model = nn.Sequential([nn.Dense(3, 1, rng=0), Doubler()])
    assert "Doubler" in (replay.why_not(model) or "")
    opt = nn.SGD(model.parameters(), lr=0.0)
    with pytest.warns(nn.ScalarPathWarning, match="Doubler"):
        loss, output = nn.train_step(model, nn.MSE(), opt, X, y)  # auto: the scalar path
    assert isinstance(output[0][0], Value)
    with pytest.raises(ValueError, match=r"train_step\(\) engine='replay' cannot run: Doubler"):
        nn.train_step(model, nn.MSE(), opt, X, y, engine="replay")
    Doubler.replayable = True  # its forward takes no branch on a number: it may say so
    try:
        replayed, _ = nn.train_step(model, nn.MSE(), opt, X, y, engine="replay")
        assert math.isclose(replayed, loss, rel_tol=RTOL)
    finally:
        Doubler.replayable = False
    plain = nn.Sequential([nn.Dense(3, 1, rng=0)])

    def my_loss(out: Any, target: Any) -> Value:
        return nn.MSE()(out, target)

    assert "not one of nn's losses" in (replay.why_not(plain, my_loss) or "")
    with pytest.warns(nn.ScalarPathWarning, match="use an nn loss"):
        _, output = nn.train_step(plain, my_loss, nn.SGD(plain.parameters()), X, y)
    assert isinstance(output[0][0], Value)
    with ag.detect_anomaly():
        assert "detect_anomaly" in (replay.why_not(plain) or "")
    with pytest.raises(
        ValueError, match=r"fit\(\) engine must be one of 'auto', 'replay', 'scalar'"
    ):
        nn.fit(plain, nn.MSE(), nn.SGD(plain.parameters()), X, y, 1, engine="numpy")


def test_auto_says_once_per_model_why_it_runs_on_the_scalar_path_and_how_to_replay() -> None:
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    model = nn.Sequential([nn.Dense(3, 1, rng=0), Doubler(name="twice")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # so that only our own once-per-model rule holds
        nn.fit(model, nn.MSE(), nn.SGD(model.parameters()), X, y, 3, progress=False)
        nn.train_step(model, nn.MSE(), nn.SGD(model.parameters()), X, y)
        model.predict(X)
    assert [w.category for w in caught] == [nn.ScalarPathWarning]
    assert caught[0].filename == __file__  # it points at the call of fit, not into nn
    assert str(caught[0].message) == (
        "fit() runs on the scalar path, building every sample's graph of Values, because Doubler"
        " 'twice' has no per-sample form. To replay instead (one recorded graph run over the whole"
        " batch as arrays): if Doubler.forward takes no branch on a number, so that its graph has"
        " the same shape for every sample, set replayable = True on Doubler. Pass engine='scalar'"
        " to choose the scalar path without this warning."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other = nn.Sequential([nn.Dense(3, 1, rng=0), Doubler()])
        other.predict(X, engine="scalar")  # chosen: nothing to say
        with ag.detect_anomaly():  # the scalar graph is what detect_anomaly() checks
            plain = nn.Sequential([nn.Dense(3, 1, rng=0)])
            nn.train_step(plain, nn.MSE(), nn.SGD(plain.parameters()), X, y)
        with pytest.raises(nn.ScalarPathWarning, match="predict\\(\\) runs on the scalar"):
            other.predict(X)  # another model: said again


def test_a_batch_replay_cannot_run_falls_back_with_a_warning() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(5, 3))
    soft = np.full((5, 3), 1 / 3)  # soft targets: a term per class, a graph of its own shape
    model = nn.Sequential([nn.Dense(3, 3, rng=0), nn.Softmax()])
    opt = nn.SGD(model.parameters(), lr=0.0)
    with pytest.warns(UserWarning, match="runs on the scalar path: .*soft targets"):
        loss, output = nn.train_step(model, nn.CategoricalCrossEntropy(), opt, X, soft)
    assert isinstance(output[0][0], Value)
    with pytest.raises(ValueError, match="engine='replay' cannot run this batch: .*soft targets"):
        nn.train_step(model, nn.CategoricalCrossEntropy(), opt, X, soft, engine="replay")
    # A probability of exactly 0 is a constant in the scalar graph: the same fallback.
    model[0].load(np.array([[2000.0, 0, 0], [0, 0, 0], [0, 0, 0]]), np.zeros(3))
    with pytest.warns(UserWarning, match="exactly 0"):
        nn.train_step(model, nn.CategoricalCrossEntropy(), opt, np.ones((2, 3)), np.array([1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a replayable batch warns nothing
        nn.train_step(model, nn.CategoricalCrossEntropy(), opt, -np.ones((2, 3)), np.array([1, 2]))


def test_the_loss_of_a_batch_checks_its_targets_as_the_scalar_path_does() -> None:
    model = nn.Sequential([nn.Dense(3, 3, rng=0)])
    opt = nn.SGD(model.parameters())
    X = np.zeros((4, 3))
    for engine in ("scalar", "replay"):
        with pytest.raises(ValueError, match="class index 3 at sample 1 is outside 0..2"):
            nn.train_step(model, nn.SoftmaxCrossEntropy(), opt, X, np.array([0, 3, 1, 1]), engine)
        with pytest.raises(ValueError, match=r"predictions have shape \(4, 3\) but targets"):
            nn.train_step(model, nn.MSE(), opt, X, np.zeros((4, 2)), engine)


def test_one_sample_comes_back_as_its_scalar_graph() -> None:
    from viz import draw_graph

    rng = np.random.default_rng(8)
    model, loss_fn, X, y = CASES["relu + softmax cross-entropy, indices"](rng, 10)
    root = nn.sample_graph(model, loss_fn, X, y, i=3)
    per_sample = loss_fn(model(X[3:4]), y[3:4])  # the scalar path on that sample alone
    assert math.isclose(root.data, per_sample.data, rel_tol=RTOL)
    assert set(model.parameters()) <= set(ag.topological_order(root))
    w = model[0].weights[0][0]
    assert math.isclose(ag.explain(root, w).total, ag.grad(per_sample, w), rel_tol=RTOL)
    g = draw_graph(root, collapse="layer")
    assert all(m.name in g.source for m in (model[0], model[1], model[2], loss_fn))


def test_a_samples_graph_ends_at_its_loss_named_and_drawn_inside_the_losss_frame() -> None:
    import re

    from viz import to_dot

    model = nn.Sequential(
        [nn.Dense(3, 4, rng=0, name="hidden"), nn.ReLU(name="relu"), nn.Dense(4, 3, rng=1)],
        name="net",
    )
    loss_fn = nn.SoftmaxCrossEntropy(name="xent")
    X = np.random.default_rng(0).standard_normal((6, 3))
    y = np.array([0, 1, 2, 0, 1, 2])
    root = nn.sample_graph(model, loss_fn, X, y, i=0)
    # the book's clip shift is the last op (nll + shift), but the node is the sample's loss
    assert root.op == "add" and root.label == "xent" and root.scope.owner is loss_fn
    w = model[0].weights[0][0]
    assert str(ag.explain(root, w)).startswith("d xent/d ")
    root.backward()
    dot = to_dot(root, collapse="layer", legend=False)
    # The loss's frame holds its folded box (untitled: the frame says whose it is) and the
    # loss value itself; the model's layers sit in the model's frame.
    frames = dict(re.findall(r"graph \[label=<([^>]*)>[^\n]*\n((?:\t\t[^\n]*\n)*)", dot))
    assert set(frames) == {"net (Sequential)", "xent (SoftmaxCrossEntropy)"}
    inside = frames["xent (SoftmaxCrossEntropy)"]
    assert "<B>xent</B>" in inside and f"data {root.data:.4g}" in inside and "label=<add>" in inside
    assert "<B>15 nodes</B>: 4 sub" in inside and "SoftmaxCrossEntropy)</B>" not in dot
    assert "<B>xent</B>" not in frames["net (Sequential)"]


def test_a_models_recorded_programs_go_with_it() -> None:
    import gc
    import weakref

    model = nn.Sequential([nn.Dense(3, 2, rng=0)])
    model.predict(np.zeros((4, 3)))
    assert len(model.__dict__["_replay_programs"]) == 1
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None  # no cache elsewhere keeps the model (or its programs) alive
