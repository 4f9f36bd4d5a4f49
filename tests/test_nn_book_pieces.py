"""The book's later pieces in `nn` (regularisers, dropout, binary and regression outputs, MAE,
a hinge loss), each against its hand-derived numpy twin in `nn.reference`; initialisations;
`predict`; and `fit`'s schedule, callbacks, batches and validation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from nn import reference as R

RTOL = 1e-10


def close(actual: Any, expected: Any) -> None:
    # The engine adds left to right and numpy pairwise or by BLAS: a few ulp apart, so a
    # relative tolerance, measured against the size of the expected array.
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape
    scale = max(float(np.max(np.abs(e))), 1e-300)
    assert float(np.max(np.abs(a - e))) <= RTOL * scale, f"\n{a}\n!=\n{e}"


def problem(seed: int, n: int = 6, n_in: int = 3, n_out: int = 4) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=(1, n_out))


# ---- regularisers ----


@pytest.mark.parametrize(
    "strengths",
    [(1e-2, 0, 0, 0), (0, 5e-4, 0, 0), (0, 0, 3e-3, 0), (0, 0, 0, 5e-4), (1e-3, 2e-3, 3e-3, 4e-3)],
)
def test_regularisation_loss_and_gradients_match_the_book(strengths: tuple[float, ...]) -> None:
    X, W, b = problem(0)
    b[0, 1] = 0.0  # a bias at exactly 0: the book's L1 derivative there is +1
    W[2, 0] = 0.0
    keys = ("weight_regularizer_l1", "weight_regularizer_l2")
    keys += ("bias_regularizer_l1", "bias_regularizer_l2")
    settings = dict(zip(keys, strengths))
    dense = nn.Dense(3, 4, **settings)
    dense.load(W, b)
    ref = R.Layer_Dense(3, 4, *strengths, rng=0)
    ref.weights, ref.biases = W.copy(), b.copy()
    out = dense(X)
    data = ag.sum([v for row in out for v in row]) / 7.0
    penalty = dense.regularization_loss()
    assert penalty is not None
    (data + penalty).backward()
    ref.forward(X)
    ref.backward(np.full((6, 4), 1 / 7))
    assert penalty.data == pytest.approx(R.Loss().regularization_loss(ref), rel=1e-14)
    dW, db = dense.grads()
    close(dW, ref.dweights)
    close(db, ref.dbiases)


def test_no_regulariser_no_penalty_and_negative_strengths_are_refused() -> None:
    assert nn.Dense(2, 2).regularization_loss() is None
    model = nn.Sequential([nn.Dense(2, 2, bias_regularizer_l2=1.0), nn.ReLU(), nn.Dense(2, 1)])
    penalty = model.regularization_loss()
    assert penalty is not None and penalty.data == 0.0  # biases start at 0
    with pytest.raises(
        ValueError, match="Dense weight_regularizer_l2 must be a finite number >= 0"
    ):
        nn.Dense(2, 2, weight_regularizer_l2=-1.0)
    with pytest.raises(ValueError, match="bias_regularizer_l1 .* got inf"):
        nn.Dense(2, 2, bias_regularizer_l1=math.inf)


# ---- dropout ----


def test_dropout_draws_the_books_mask_and_passes_the_books_gradient() -> None:
    X = np.random.default_rng(1).normal(size=(5, 8))
    np.random.seed(7)
    ref = R.Layer_Dropout(0.3)
    ref.forward(X)
    ref.backward(np.arange(40.0).reshape(5, 8))
    np.random.seed(7)
    x = nn.to_values(X)
    out = nn.Dropout(0.3)(x)
    assert np.array_equal(nn.data_array(out), ref.output)
    ag.sum([v * float(k) for k, v in enumerate(v for row in out for v in row)]).backward()
    assert np.array_equal(nn.grad_array(x), ref.dinputs)
    assert set(np.unique(ref.binary_mask)) <= {0.0, 1 / 0.7}


def test_dropout_is_off_in_evaluation_mode_and_in_predict() -> None:
    model = nn.Sequential([nn.Identity(), nn.Dropout(0.5, rng=0)])
    X = np.ones((4, 6))
    assert (nn.data_array(model(X)) == 0.0).any()
    np.testing.assert_array_equal(model.predict(X), X)
    assert model.training and model[1].training  # predict restores the mode it found
    model.eval()
    assert not model[1].training
    np.testing.assert_array_equal(nn.data_array(model(X)), X)
    with pytest.raises(ValueError, match=r"fraction dropped, in \[0, 1\), got 1.0"):
        nn.Dropout(1.0)


# ---- outputs and losses ----


def run_loss(
    module: nn.Module, loss: nn.Module, ref_act: Any, ref_loss: Any, Z: np.ndarray, y: np.ndarray
) -> None:
    """Forward and backward through `module` then `loss`, against the book's pair."""
    z = nn.to_values(Z)
    L = loss(module(z), y)
    L.backward()
    ref_act.forward(Z)
    expected = ref_loss.calculate(ref_act.output, y)
    assert L.data == pytest.approx(expected, rel=1e-13)
    ref_loss.backward(ref_act.output, y)
    ref_act.backward(ref_loss.dinputs)
    close(nn.grad_array(z), ref_act.dinputs)


def test_sigmoid_and_binary_cross_entropy_match_the_book_also_where_it_clips() -> None:
    Z = np.array([[2.0, -1.0], [40.0, -0.5], [-40.0, 3.0], [0.3, 17.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    # sigmoid(40) = 1 - 4e-18 and sigmoid(-40) = 4e-18 are clipped: the book's backward still
    # gives them a gradient, -(y/c - (1 - y)/(1 - c)) with c the clipped p.
    run_loss(
        nn.Sigmoid(),
        nn.BinaryCrossEntropy(),
        R.Activation_Sigmoid(),
        R.Loss_BinaryCrossentropy(),
        Z,
        y,
    )


def test_linear_with_mse_and_mae_match_the_book() -> None:
    Z = np.array([[0.5, -1.0], [2.0, 2.0], [-0.25, 4.0]])
    y = np.array([[1.0, -1.0], [0.0, 3.0], [-0.25, 1.0]])  # two entries equal: MAE's sign(0) = 0
    run_loss(nn.Identity(), nn.MSE(), R.Activation_Linear(), R.Loss_MeanSquaredError(), Z, y)
    run_loss(nn.Identity(), nn.MAE(), R.Activation_Linear(), R.Loss_MeanAbsoluteError(), Z, y)


def test_hinge_loss_matches_its_numpy_twin() -> None:
    Z = np.array([[0.3], [-2.0], [1.5], [0.9], [-0.1]])
    y = np.array([1.0, 1.0, 1.0, -1.0, -1.0])
    run_loss(nn.Identity(), nn.Hinge(), R.Activation_Linear(), R.Loss_Hinge(), Z, y)
    # max(0, 1 - y s): 0.7 + 3 + 0 + 1.9 + 0.9, over 5
    assert nn.Hinge()(Z, y).data == pytest.approx(6.5 / 5, rel=1e-15)


@pytest.mark.parametrize("engine", ["scalar", "replay"])
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 1, 1], r"got 0 at sample 0 \(for 0/1 labels pass 2 \* y - 1\)"),
        ([1, -1, 0.5], r"got 0.5 at sample 2$"),
    ],
)
def test_hinge_refuses_labels_other_than_minus_one_and_one(
    engine: str, labels: list[float], message: str
) -> None:
    # 0/1 labels (what make_moons gives) would train silently: a 0 label's term is the constant
    # max(0, 1 - 0 s) = 1, with no gradient, so half the data would teach nothing.
    model = nn.Sequential([nn.Dense(2, 1, rng=0)])
    X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.5, 1.0]])
    before = [p.data for p in model.parameters()]
    optimizer = nn.SGD(model.parameters())
    with pytest.raises(ValueError, match=r"hinge\d*: labels must be -1 or \+1, " + message):
        nn.fit(model, nn.Hinge(), optimizer, X, labels, 1, engine=engine, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_regression_accuracy_is_the_books() -> None:
    y = np.linspace(-1, 1, 11).reshape(-1, 1)
    pred = y + np.array([0, 1e-3, -1e-3, 0.1, 0, 0, 0, 0, 0, 0, 0.0]).reshape(-1, 1)
    metric = nn.RegressionAccuracy()
    ref = R.Accuracy_Regression()
    ref.init(y)
    assert metric(pred, y) == ref.calculate(pred, y)
    assert metric.precision == ref.precision == np.std(y) / 250
    assert metric(pred, y.ravel()) == pytest.approx(10 / 11)


# ---- initialisation ----


def test_inits_draw_their_distributions_from_the_given_generator() -> None:
    shape = (100, 120)
    for init, check in [
        ("he", lambda W: abs(W.std() - math.sqrt(2 / 100)) < 0.005),
        ("glorot", lambda W: np.abs(W).max() <= math.sqrt(6 / 220) and W.std() > 0.08),
        ("uniform", lambda W: -1 <= W.min() < -0.99 and 0.99 < W.max() <= 1),
        ("book", lambda W: abs(W.std() - 0.01) < 0.0003),
    ]:
        W = nn.Dense(*shape, rng=5, init=init).numpy()[0]
        assert check(W), init
        assert np.array_equal(
            nn.Dense(*shape, rng=np.random.default_rng(5), init=init).numpy()[0], W
        )
    uniform = nn.Dense(2, 3, rng=4, init="uniform").numpy()[0]
    assert np.array_equal(uniform, np.random.default_rng(4).uniform(-1, 1, (2, 3)))


def test_init_book_without_rng_uses_numpys_global_state() -> None:
    np.random.seed(11)
    W = nn.Dense(3, 2).numpy()[0]
    np.random.seed(11)
    assert np.array_equal(W, 0.01 * np.random.randn(3, 2))
    np.random.seed(11)
    assert np.array_equal(R.Layer_Dense(3, 2).weights, W)


def test_a_callable_init_gets_the_shape_and_the_generator() -> None:
    seen = []

    def ones(shape: tuple[int, int], rng: Any) -> np.ndarray:
        seen.append((shape, rng))
        return np.ones(shape)

    gen = np.random.default_rng(0)
    assert (nn.Dense(2, 3, rng=gen, init=ones).numpy()[0] == 1.0).all()
    nn.Dense(4, 1, init=ones)
    assert seen == [((2, 3), gen), ((4, 1), np.random)]
    with pytest.raises(ValueError, match=r"gave shape \(3, 2\), expected \(2, 3\)$"):
        nn.Dense(2, 3, init=lambda shape, rng: np.ones(shape[::-1]))
    with pytest.raises(ValueError, match="init must be one of"):
        nn.Dense(2, 3, init="xavier")
    with pytest.raises(TypeError, match="rng must be a seed"):
        nn.Dense(2, 3, rng="0")  # type: ignore[arg-type]


# ---- predict ----


class Spy(nn.Module):
    """Passes its input on and keeps it, to see what the layers before it built."""

    def forward(self, X: Any) -> Any:
        self.seen = X
        return X


def test_predict_returns_numbers_and_keeps_no_graph() -> None:
    spy = Spy()
    model = nn.Sequential([nn.Dense(2, 3, rng=0), nn.ReLU(), nn.Dense(3, 2, rng=1), spy])
    X = np.random.default_rng(0).normal(size=(5, 2))
    out = model.predict(X, engine="scalar")  # the Spy sees what the scalar path feeds it
    assert isinstance(out, np.ndarray) and out.shape == (5, 2) and out.dtype == np.float64
    assert all(v.is_leaf and v.op == "" for row in spy.seen for v in row)  # no graph behind
    np.testing.assert_array_equal(out, nn.data_array(model(X)))
    assert not spy.seen[0][0].is_leaf  # a plain call does record one


# ---- fit ----


def spiral() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def small_model(seed: int = 0) -> nn.Sequential:
    return nn.Sequential(
        [nn.Dense(2, 8, rng=seed, init="he"), nn.ReLU(), nn.Dense(8, 2, rng=seed + 1)]
    )


def test_fit_history_lr_is_what_the_book_prints() -> None:
    X, y = spiral()
    model = small_model()
    opt = nn.SGD(model.parameters(), lr=1.0, decay=0.5)
    history = nn.fit(model, nn.SoftmaxCrossEntropy(), opt, X, y, 3, progress=False)
    # The book prints current_learning_rate before the epoch's update: the rate of the step
    # before, 1 / (1 + 0.5 t) for t = epoch - 1, and the initial rate at epoch 0.
    assert history["lr"] == [1.0, 1.0, 1.0 / 1.5]
    assert opt.current_learning_rate == 1.0 / 2.0


def test_a_schedule_sets_the_rate_of_every_step() -> None:
    X, y = spiral()
    model = small_model()
    opt = nn.SGD(model.parameters(), lr=1.0)
    rates = []
    history = nn.fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        X,
        y,
        4,
        schedule=lambda k: 1.0 - 0.9 * k / 100,
        callbacks=[lambda epoch, logs: rates.append(opt.current_learning_rate)],
        progress=False,
    )
    assert rates == [1.0 - 0.9 * k / 100 for k in range(4)]
    assert history["lr"] == [1.0] + rates[:-1]


def test_a_callback_sees_each_epochs_numbers_and_can_stop_training() -> None:
    X, y = spiral()
    seen: list[tuple[int, dict[str, float]]] = []

    def stop_after_two(epoch: int, logs: dict[str, float]) -> bool:
        seen.append((epoch, logs))
        return epoch == 1

    history = nn.fit(
        small_model(),
        nn.SoftmaxCrossEntropy(),
        nn.Adam(small_model().parameters()),
        X,
        y,
        10,
        callbacks=[stop_after_two],
        progress=False,
    )
    assert [e for e, _ in seen] == [0, 1] and len(history["loss"]) == 2
    assert seen[1][1]["loss"] == history["loss"][1] and set(seen[0][1]) == set(history)


def test_mini_batches_shuffle_with_the_given_rng_and_cover_every_sample() -> None:
    X, y = spiral()
    runs = []
    for _ in range(2):
        model = small_model()
        opt = nn.Adam(model.parameters(), lr=0.01)
        history = nn.fit(
            model, nn.SoftmaxCrossEntropy(), opt, X, y, 2, batch_size=10, rng=3, progress=False
        )
        runs.append((history, model.predict(X)))
        assert opt.iterations == 6  # 10 + 10 + 4 samples per pass
    np.testing.assert_array_equal(runs[0][1], runs[1][1])  # the same seed, the same run
    assert runs[0][0] == runs[1][0]
    in_order = small_model()
    nn.fit(
        in_order,
        nn.SoftmaxCrossEntropy(),
        nn.Adam(in_order.parameters(), lr=0.01),
        X,
        y,
        2,
        batch_size=10,
        progress=False,
    )
    assert not np.array_equal(in_order.predict(X), runs[0][1])


def test_validation_data_is_scored_every_epoch_without_dropout_or_training() -> None:
    X, y = spiral()
    model = nn.Sequential(
        [nn.Dense(2, 8, rng=0, init="he"), nn.ReLU(), nn.Dropout(0.5, rng=1), nn.Dense(8, 2, rng=2)]
    )
    history = nn.fit(
        model,
        nn.SoftmaxCrossEntropy(),
        nn.SGD(model.parameters(), lr=0.0),
        X,
        y,
        2,
        validation_data=(X[:6], y[:6]),
        progress=False,
    )
    # lr 0: nothing moves, so both validation scores are the same, and they are the
    # dropout-free model's.
    assert history["val_loss"][0] == history["val_loss"][1]
    expected = nn.SoftmaxCrossEntropy()(model.predict(X[:6]), y[:6]).data
    assert history["val_loss"][0] == expected
    assert history["val_accuracy"][0] == nn.accuracy(model.predict(X[:6]), y[:6])


def test_fit_prints_the_validation_line_after_the_books_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    X, y = spiral()
    model = small_model()
    nn.fit(
        model,
        nn.SoftmaxCrossEntropy(),
        nn.SGD(model.parameters()),
        X,
        y,
        3,
        print_every=2,
        validation_data=(X, y),
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "epoch: 0",
        "validation",
        "epoch: 2",
        "validation",
    ]
    assert lines[0].endswith(", lr: 1.0") and lines[1].startswith("validation, acc: ")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
        ({"print_every": 2.5}, TypeError, "print_every needs an int, got float$"),
        ({"print_every": 2.0}, TypeError, r"print_every needs an int, got float; use int\(x\)$"),
        ({"schedule": 0.1}, TypeError, "schedule must be a callable of the step"),
        ({"callbacks": [3]}, TypeError, "callbacks must be callables, got int"),
        ({"validation_data": [1, 2]}, TypeError, "validation_data must be a pair"),
        ({"rng": "x"}, TypeError, "fit.. rng must be a seed"),
    ],
)
def test_fit_refuses_bad_options_clearly(kwargs: dict[str, Any], error: type, message: str) -> None:
    X, y = spiral()
    model = small_model()
    with pytest.raises(error, match=message):
        nn.fit(
            model,
            nn.SoftmaxCrossEntropy(),
            nn.SGD(model.parameters()),
            X,
            y,
            1,
            progress=False,
            **kwargs,
        )
    with pytest.raises(ValueError, match="24 samples in X but 3 targets"):
        nn.fit(
            model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters()), X, y[:3], 1, progress=False
        )


def test_a_schedule_that_gives_a_bad_rate_stops_fit_before_the_step() -> None:
    X, y = spiral()
    model = small_model()
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="SGD learning_rate must be a finite number >= 0, got -1"):
        nn.fit(
            model,
            nn.SoftmaxCrossEntropy(),
            nn.SGD(model.parameters()),
            X,
            y,
            3,
            schedule=lambda k: -1,
            progress=False,
        )
    assert [p.data for p in model.parameters()] == before


# ---- micrograd's moons demo, written with nn ----


def test_micrograds_moons_demo_with_nn_reaches_full_accuracy() -> None:
    """MLP 2-16-16-1, hinge loss plus 1e-4 L2 on every parameter, SGD at 1.0 - 0.9 k / 100 for
    100 steps, U(-1, 1) initial weights: micrograd's demo.ipynb recipe, on its data."""
    from test_micrograd import demo_moons  # scikit-learn's make_moons, seeded as the demo is

    X, y = demo_moons()
    y = y * 2 - 1  # labels -1 and +1
    l2 = {"weight_regularizer_l2": 1e-4, "bias_regularizer_l2": 1e-4}
    model = nn.Sequential(
        [
            nn.Dense(2, 16, rng=1337, init="uniform", **l2),
            nn.ReLU(),
            nn.Dense(16, 16, rng=1338, init="uniform", **l2),
            nn.ReLU(),
            nn.Dense(16, 1, rng=1339, init="uniform", **l2),
        ]
    )
    assert len(model.parameters()) == 337  # micrograd's count for MLP(2, [16, 16, 1])
    scores = model.predict(X)[:, 0]
    params = np.array([p.data for p in model.parameters()])
    # micrograd's loss: mean(relu(1 - y s)) + 1e-4 * sum(p^2), over every weight and bias
    start = np.mean(np.maximum(0, 1 - y * scores)) + 1e-4 * np.sum(params * params)
    history = nn.fit(
        model,
        nn.Hinge(),
        nn.SGD(model.parameters(), lr=1.0),
        X,
        y,
        100,
        schedule=lambda k: 1.0 - 0.9 * k / 100,
        metric=lambda p, t: nn.accuracy(p, t, threshold=0.0),  # (s > 0) == (y > 0)
        progress=False,
    )
    assert history["loss"][0] == pytest.approx(start, rel=1e-12)
    assert history["accuracy"][0] < 0.7
    assert history["accuracy"][-1] == 1.0
    assert nn.accuracy(model.predict(X), y, threshold=0.0) == 1.0
