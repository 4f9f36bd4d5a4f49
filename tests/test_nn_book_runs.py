"""Whole training runs: `nn` from the book's data and initial weights follows the book's own code
run in float64 (`nn.reference`, driven by tests/book_runs.py), epoch by epoch, in every setting
of chapters 10 to 17.

"Follows" means: the loss to 1e-9 relative, the accuracy and the printed learning rate exactly.
Not bit for bit, and not forever: the book's code multiplies matrices with BLAS, whose kernels
add up in an order of their own, and `nn` adds left to right. Rounding differences of that kind
grow during training until the runs part. How soon is measured by running the book's code
against itself, under other OpenBLAS kernels, with left-to-right sums, and with its loss gradient
rounded one ulp differently (`python tests/book_runs.py EPOCHS NN_EPOCHS`): from 111 epochs
(chapter 14; 127 between kernels alone) and 173 (chapter 10's Adam) up to more than 600
(chapter 10's SGD and Adagrad, chapter 16), measured here on 2026-11-29. These tests run 50
epochs of each setting (20 of chapters 15 and 17), well inside every horizon; the long
comparisons are the script's.
"""

from __future__ import annotations

import numpy as np
import pytest
from book_runs import SETTINGS, book_data, book_numpy, first_divergence, nn_run, reference_run

import nn
from nn import reference as R

# fit replays: an epoch of nn and of the book's loop on the 300-point spirals takes about 1.5 ms
# together (chapter 17's three layers: 20 ms; chapter 15's 3,000 points with dropout: 55 ms),
# so the suite runs 50 and 20 epochs, under half of the shortest horizon measured (111 epochs,
# chapter 14).
EPOCHS = {name: (20 if name.startswith(("ch15", "ch17")) else 50) for name in SETTINGS}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_nn_follows_the_books_float64_code_epoch_by_epoch(name: str) -> None:
    epochs = EPOCHS[name]
    book = reference_run(SETTINGS[name], epochs)
    ours = nn_run(SETTINGS[name], epochs)
    assert first_divergence(book, ours, rtol=1e-9) == epochs, (book, ours)
    assert ours["lr"] == book["lr"]  # the same numbers, computed by the same formula


def test_the_first_printed_line_is_the_books(capsys: pytest.CaptureFixture[str]) -> None:
    s = SETTINGS["ch10 Adam(learning_rate=0.05, decay=5e-7)"]
    with book_numpy():
        X, y = book_data(s)
        model = nn.Sequential([nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3)])
        optimizer = nn.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
        nn.fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, 2, print_every=100)
    assert capsys.readouterr().out == "epoch: 0, acc: 0.360, loss: 1.099, lr: 0.05\n"


def test_a_regularised_run_prints_the_books_longer_line(capsys: pytest.CaptureFixture[str]) -> None:
    s = SETTINGS["ch14 L2 5e-4"]
    with book_numpy():
        X, y = book_data(s)
        dense1 = nn.Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)
        model = nn.Sequential([dense1, nn.ReLU(), nn.Dense(64, 3)])
        optimizer = nn.Adam(model.parameters(), learning_rate=0.02, decay=5e-7)
        history = nn.fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, 2, print_every=1)
    lines = capsys.readouterr().out.splitlines()
    # The book's chapter 14 prints this first line for its run (loss 1.099, reg_loss 0.000).
    assert lines[0] == (
        "epoch: 0, acc: 0.360, loss: 1.099 (data_loss: 1.099, reg_loss: 0.000), lr: 0.02"
    )
    assert lines[1].startswith("epoch: 1, ") and lines[1].endswith("lr: 0.02")
    assert history["loss"][0] == history["data_loss"][0] + history["reg_loss"][0]


def test_softmax_then_cross_entropy_follows_the_book_through_saturated_samples() -> None:
    # With Adagrad(decay=1e-4) the book's own run pushes 193 of 300 correct-class probabilities
    # below the clip at 1e-7 by epoch 3 (the smallest about 1e-92). Separate Softmax and
    # CategoricalCrossEntropy modules must still give the book's (p - y)/n there.
    s = SETTINGS["ch10 Adagrad(decay=1e-4)"]
    book = reference_run(s, 5)
    with book_numpy():
        X, y = book_data(s)
        model = nn.Sequential([nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3), nn.Softmax()])
        optimizer = nn.Adagrad(model.parameters(), decay=1e-4)
        probs = model.predict(X)
        ours = nn.fit(model, nn.CategoricalCrossEntropy(), optimizer, X, y, 5, progress=False)
    assert probs.min() > 0.33  # saturation comes from training, not from the start
    assert first_divergence(book, ours, rtol=1e-9) == 5
    assert book["loss"][3] > 10  # the saturated epochs: mean loss near -log(1e-7) = 16.1


def test_dense_book_init_gives_the_books_weights_bit_for_bit() -> None:
    with book_numpy():
        X, _ = book_data(SETTINGS["ch10 SGD()"])
        # The book's Layer_Dense draws 0.01 * np.random.randn(...): float32 after nnfs.init().
        state = np.random.get_state()
        book_w1 = 0.01 * np.random.randn(2, 64)
        book_w2 = 0.01 * np.random.randn(64, 3)
        assert book_w1.dtype == np.float32
        np.random.set_state(state)
        dense1, dense2 = nn.Dense(2, 64), nn.Dense(64, 3)
        np.random.set_state(state)
        ref1, ref2 = R.Layer_Dense(2, 64), R.Layer_Dense(64, 3)
    for ours, ref, book in ((dense1, ref1, book_w1), (dense2, ref2, book_w2)):
        W, b = ours.numpy()
        assert W.dtype == np.float64 and np.array_equal(W, book.astype(np.float64))
        assert np.array_equal(ref.weights, W) and not b.any()


def test_batches_in_order_follow_the_books_model_train() -> None:
    """Chapter 19's Model.train with batch_size and validation data, against fit's batches."""
    with book_numpy():
        X, y = book_data(SETTINGS["ch10 SGD()"])
        X_val, y_val = book_data(SETTINGS["ch10 SGD()"])
        state = np.random.get_state()
        model = R.Model()
        model.add(R.Layer_Dense(2, 64))
        model.add(R.Activation_ReLU())
        model.add(R.Layer_Dense(64, 3))
        model.add(R.Activation_Softmax())
        model.set(
            loss=R.Loss_CategoricalCrossentropy(),
            optimizer=R.Optimizer_Adam(learning_rate=0.05, decay=5e-7),
            accuracy=R.Accuracy_Categorical(),
        )
        model.finalize()
        model.train(X, y, epochs=2, batch_size=64, validation_data=(X_val, y_val), verbose=False)
        np.random.set_state(state)
        ours = nn.Sequential([nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3), nn.Softmax()])
        optimizer = nn.Adam(ours.parameters(), learning_rate=0.05, decay=5e-7)
        history = nn.fit(
            ours,
            nn.CategoricalCrossEntropy(),
            optimizer,
            X,
            y,
            2,
            batch_size=64,
            validation_data=(X_val, y_val),
            progress=False,
        )
    assert optimizer.iterations == model.optimizer.iterations == 10  # 5 batches a pass, the last 44
    for dense, ref in ((ours[0], model.layers[0]), (ours[2], model.layers[2])):
        assert isinstance(dense, nn.Dense)
        np.testing.assert_allclose(dense.numpy()[0], ref.weights, rtol=1e-9, atol=1e-15)
    # The book's "training, acc: ..., loss: ..." line, from the accumulated epoch numbers.
    training = [line for line in model.lines if line.startswith("training")][-1]
    assert training.startswith(f"training, acc: {history['accuracy'][-1]:.3f}, ")
    assert f"loss: {history['loss'][-1]:.3f} " in training
    val_loss, val_accuracy = model.validation
    assert history["val_accuracy"][-1] == val_accuracy
    assert history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-9)
    np.testing.assert_allclose(ours.predict(X_val), model.predict(X_val), rtol=1e-9, atol=1e-15)
