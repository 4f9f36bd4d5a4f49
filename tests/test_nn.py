"""nn's modules as a user meets them: shapes, graphs, scopes, errors, saving, training."""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value
from nn import reference as R

# ---- Dense ----


def test_dense_layout_and_initialisation() -> None:
    layer = nn.Dense(50, 40, rng=np.random.default_rng(3))
    W, b = layer.numpy()
    assert W.shape == (50, 40) and W.dtype == np.float64
    assert b.shape == (1, 40) and np.all(b == 0.0)
    # 0.01 * N(0, 1): 2000 draws put the sample std within a few percent of 0.01
    assert abs(W.std() - 0.01) < 0.001 and abs(W.mean()) < 0.001
    np.testing.assert_array_equal(W, 0.01 * np.random.default_rng(3).standard_normal((50, 40)))
    assert np.array_equal(nn.Dense(50, 40, rng=3).numpy()[0], W)  # an int seed works too
    assert len(layer.parameters()) == 50 * 40 + 40
    assert layer.weights[2][5] is layer.parameters()[2 * 40 + 5]  # row-major, then biases
    assert layer.parameters()[-1] is layer.biases[-1]


def test_dense_forward_is_x_at_w_plus_b_with_one_dot_node_per_output() -> None:
    rng = np.random.default_rng(0)
    layer = nn.Dense(3, 2, name="hidden")
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    layer.load(W, b)
    X = rng.normal(size=(4, 3))
    out = layer(X)
    assert len(out) == 4 and all(len(row) == 2 for row in out)
    # X @ W adds in the CPU's BLAS kernel's order, not the dot rule's: equal to rounding only.
    np.testing.assert_allclose(nn.data_array(out), X @ W + b, rtol=1e-14)
    z = out[1][0]
    # One node: (w_00, w_10, w_20, x_10, x_11, x_12, b_0), the numbers in as constants.
    assert z.op == "dot" and len(z.parents) == 7
    assert list(z.parents[:3]) == [layer.weights[i][0] for i in range(3)]
    assert [x.data for x in z.parents[3:6]] == X[1].tolist()
    assert z.parents[6] is layer.biases[0]
    # Summed in operand order, exactly as the `dot` rule does.
    assert z.data == sum((W[i, 0] * X[1, i] for i in range(3)), 0.0) + b[0]


def test_dense_scopes_name_the_layer_and_the_neuron() -> None:
    dense, relu = nn.Dense(2, 3), nn.ReLU()
    model = nn.Sequential([dense, relu])
    out = model([[1.0, 2.0]])
    z = out[0][2].parents[0]
    assert z.scope is not None
    assert z.scope.path == (model.name, dense.name, "neuron 2")
    assert z.scope.parent is not None and z.scope.parent.owner is dense
    assert z.parents[0].scope is None  # the neuron's weight is a leaf made outside any call
    # The numbers fed in become leaves with no scope either: data from outside the model.
    assert z.parents[2].data == 1.0 and z.parents[2].is_leaf and z.parents[2].scope is None
    assert out[0][2].scope is not None and out[0][2].scope.owner is relu
    assert out[0][2].scope.path == (model.name, relu.name)


def test_module_names_are_unique_readable_and_overridable() -> None:
    a, b = nn.Dense(1, 1), nn.Dense(1, 1)
    assert a.name.startswith("dense") and b.name.startswith("dense") and a.name != b.name
    assert int(b.name[5:]) == int(a.name[5:]) + 1
    assert nn.ReLU().name.startswith("relu")
    assert nn.CategoricalCrossEntropy().name.startswith("cce")
    assert nn.Dense(1, 1, name="encoder").name == "encoder"
    assert a.parameters()[0].label == f"{a.name}.w[0,0]"


def test_dense_takes_values_lists_and_float32_and_gives_input_gradients() -> None:
    layer = nn.Dense(2, 1)
    layer.load([[2.0], [-3.0]], [0.5])
    x = [Value(1.0), Value(4.0)]
    (z,) = layer([x])[0]
    z.backward()
    assert z.data == 2.0 - 12.0 + 0.5
    assert (x[0].grad, x[1].grad) == (2.0, -3.0)
    as_objects = np.array([[Value(1.0), 4]], dtype=object)
    for X in ([[1, 4]], [(1.0, 4.0)], np.array([[1, 4]], dtype=np.float32), as_objects):
        assert layer(X)[0][0].data == z.data


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (np.zeros(3), ValueError, r"2-D batch .* shape \(3,\); use X.reshape\(1, -1\)"),
        ([1.0, 2.0, 3.0], ValueError, "row 0 is a float"),
        (
            np.zeros((2, 4)),
            ValueError,
            r"expects 3 features per sample, got a batch of shape \(2, 4\)",
        ),
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], ValueError, "row 0 has 3 entries and row 1 has 2"),
        (
            [[1.0, "a", 3.0]],
            TypeError,
            r"entry at \[0\]\[1\] needs a real number or a Value, got str",
        ),
        (np.zeros((2, 3), dtype=complex), TypeError, "dtype complex128"),
        (np.zeros((0, 3)), ValueError, "empty batch"),
        (Value(1.0), TypeError, "got Value"),
    ],
)
def test_dense_rejects_bad_batches_clearly(X: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nn.Dense(3, 2, name="d")(X)


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        (10**400, OverflowError, r"d: the entry at \[1\]\[0\] got an int too large for a float"),
        (-(10**400), OverflowError, r"the entry at \[1\]\[0\] got an int too large"),
        (Fraction(10**400, 3), OverflowError, r"\[1\]\[0\] got a Fraction too large for a float"),
        (
            np.timedelta64(5),
            TypeError,
            r"\[1\]\[0\] needs a real number or a Value, got timedelta64",
        ),
        (np.datetime64("2020"), TypeError, "got datetime64"),
        (1 + 2j, TypeError, "got complex"),
        (Decimal("1.5"), TypeError, "got Decimal"),
        (None, TypeError, "got NoneType"),
    ],
)
def test_dense_names_itself_and_the_entry_when_a_batch_entry_is_no_float(
    entry: object, error: type, message: str
) -> None:
    X = [[1.0, 2.0, 3.0], [entry, 2.0, 3.0]]
    with pytest.raises(error, match=message):
        nn.Dense(3, 2, name="d")(X)
    with pytest.raises(error, match=message.replace("d: ", "")):
        nn.Dense(3, 2, name="d")(np.array(X, dtype=object))


def test_batches_take_bools_and_numpy_scalars_as_numpy_does() -> None:
    layer = nn.Dense(3, 1)
    layer.load([[1.0], [2.0], [4.0]], [0.0])
    expected = nn.data_array(layer([[1.0, 0.0, 3.0]]))
    for row in (
        [True, False, 3],
        [np.bool_(True), np.False_, np.float32(3.0)],
        [np.int8(1), Fraction(0), np.uint64(3)],
    ):
        assert np.array_equal(nn.data_array(layer([row])), expected)
    assert np.array_equal(nn.data_array(layer(np.array([[True, False, True]]))), [[5.0]])


def test_data_array_names_itself_for_entries_that_are_no_numbers() -> None:
    with pytest.raises(TypeError, match="data_array.*needs a real number or a Value, got str"):
        nn.data_array([["a"]])
    with pytest.raises(OverflowError, match="data_array.*too large for a float"):
        nn.data_array([[10**400]])


def test_dense_load_checks_both_arrays_before_changing_anything() -> None:
    layer = nn.Dense(2, 3, name="d")
    before = layer.numpy()
    with pytest.raises(
        ValueError, match=r"d.load\(\) weights has shape \(3, 2\), expected \(2, 3\)"
    ):
        layer.load(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"biases have shape \(4,\), expected \(3,\) or \(1, 3\)"):
        layer.load(np.ones((2, 3)), np.ones(4))
    with pytest.raises(TypeError, match="real numbers"):
        layer.load(np.array([["a"] * 3] * 2), np.ones(3))
    for now, then in zip(layer.numpy(), before):
        np.testing.assert_array_equal(now, then)
    with pytest.raises(ValueError, match="positive int"):
        nn.Dense(0, 3)


# ---- activations ----


def test_activations_match_numpy_and_keep_the_shape() -> None:
    Z = np.array([[-1.5, 0.0, 2.0], [0.3, -0.2, 5.0]])
    np.testing.assert_array_equal(nn.data_array(nn.ReLU()(Z)), np.maximum(0, Z))
    # numpy's exp and tanh are SIMD kernels chosen per CPU (AVX-512 or not), which may differ
    # from the math module's in the last bit or two: rtol 1e-15 is about 4.5 ulp.
    np.testing.assert_allclose(nn.data_array(nn.Sigmoid()(Z)), 1 / (1 + np.exp(-Z)), rtol=1e-15)
    np.testing.assert_allclose(nn.data_array(nn.Tanh()(Z)), np.tanh(Z), rtol=1e-15)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        nn.data_array(nn.Softmax()(Z)), e / e.sum(axis=1, keepdims=True), rtol=1e-15
    )


def test_softmax_is_stable_for_huge_inputs_and_subtracts_the_max_as_a_constant() -> None:
    Z = [[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]
    p = nn.data_array(nn.Softmax()(Z))
    assert np.all(np.isfinite(p))
    e = np.exp([-2.0, -1.0, 0.0])
    np.testing.assert_allclose(p[0], e / e.sum(), rtol=1e-15)  # numpy's exp: a few ulp, as above
    np.testing.assert_allclose(p[1], [0.0, 0.0, 1.0], atol=1e-300)
    out = nn.Softmax()([[Value(1.0), Value(3.0)]])
    exp_node = out[0][0].parents[0]
    shift = exp_node.parents[0]
    assert (exp_node.op, shift.op) == ("exp", "sub")
    assert shift.parents[1].is_leaf and shift.parents[1].data == 3.0  # the max, as a constant


def test_softmax_rows_sum_to_one_and_their_gradients_to_zero() -> None:
    z = nn.to_values([[0.5, -1.0, 2.0, 0.0]])
    p = nn.Softmax()(z)
    assert math.isclose(sum(v.data for v in p[0]), 1.0, rel_tol=1e-15)
    (p[0][1] * 3.0 + p[0][2]).backward()
    assert abs(nn.grad_array(z).sum()) < 1e-15  # shifting every z by c leaves p unchanged


# ---- losses ----


def test_mse_value_and_target_shapes() -> None:
    pred, target = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 2.0], [1.0, 1.0]])
    assert nn.MSE()(pred, target).data == (1 + 0 + 4 + 16) / 4
    col = np.array([[1.0], [2.0], [4.0]])
    assert nn.MSE()(col, np.array([1.0, 0.0, 1.0])).data == (0 + 4 + 9) / 3
    with pytest.raises(
        ValueError, match=r"predictions have shape \(2, 2\) but targets have shape \(2, 1\)"
    ):
        nn.MSE()(pred, [[1.0], [2.0]])


def test_cce_indices_and_one_hot_give_the_same_loss_and_graph() -> None:
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.02, 0.9, 0.08]])
    y = np.array([0, 1, 1])
    expected = -np.mean(np.log([0.7, 0.5, 0.9]))
    by_index = nn.CategoricalCrossEntropy()(P, y)
    by_one_hot = nn.CategoricalCrossEntropy()(P, np.eye(3)[y])
    assert math.isclose(by_index.data, expected, rel_tol=1e-15)
    assert by_one_hot.data == by_index.data
    ops = [[v.op for v in ag.topological_order(L)] for L in (by_index, by_one_hot)]
    assert ops[0] == ops[1] and ops[0].count("log") == 3 and "clip" not in ops[0]


def test_cce_soft_targets_are_the_cross_entropy() -> None:
    P = np.array([[0.7, 0.2, 0.1]])
    L = nn.CategoricalCrossEntropy()(P, [[0.5, 0.5, 0.0]])
    assert math.isclose(L.data, -(0.5 * math.log(0.7) + 0.5 * math.log(0.2)), rel_tol=1e-15)


def test_cce_clips_the_value_as_the_book_and_keeps_the_books_gradient_minus_y_over_p() -> None:
    p = nn.to_values([[1e-9, 1.0 - 1e-9], [1.0, 0.0], [0.0, 1.0], [0.25, 0.75]])
    L = nn.CategoricalCrossEntropy()(p, [0, 0, 0, 1])
    expected = -(math.log(1e-7) + math.log(1 - 1e-7) + math.log(1e-7) + math.log(0.75)) / 4
    assert math.isclose(L.data, expected, rel_tol=1e-15)
    L.backward()
    # dL/dp = -y / p / n, the book's backward, also where the clip changed the value ...
    assert p[0][0].grad == pytest.approx(-1 / 1e-9 / 4, rel=1e-15)
    assert p[1][0].grad == pytest.approx(-1 / 1.0 / 4, rel=1e-15)
    assert p[3][1].grad == pytest.approx(-1 / 0.75 / 4, rel=1e-15)
    # ... except at p = 0, where -1/p has no finite value: the term is a constant there.
    assert p[2][0].grad == 0.0
    assert p[0][1].grad == 0.0  # not a target class


def test_softmax_then_cce_gives_p_minus_y_over_n_at_saturated_samples() -> None:
    # Sample 0's correct class has p = e^-30 / (1 + ...) ~ 9e-14, far below the clip at 1e-7.
    Z = [[-30.0, 0.0, 0.0], [1.0, 2.0, 0.5]]
    y = [0, 1]
    z = nn.to_values(Z)
    L = nn.CategoricalCrossEntropy()(nn.Softmax()(z), y)
    L.backward()
    e = np.exp(np.array(Z) - np.max(Z, axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    expected = (P - np.eye(3)[y]) / 2
    np.testing.assert_allclose(nn.grad_array(z), expected, rtol=1e-12, atol=1e-17)
    assert L.data == pytest.approx((-math.log(1e-7) - math.log(P[1, 1])) / 2, rel=1e-15)


def test_softmax_cross_entropy_on_logits_is_the_books_combined_loss() -> None:
    Z = np.array([[-800.0, 0.0, 0.0], [1.0, 2.0, 0.5], [3.0, -1.0, 0.0]])
    y = np.array([0, 1, 0])
    z = nn.to_values(Z)
    L = nn.SoftmaxCrossEntropy()(z, y)
    L.backward()
    book = R.Activation_Softmax_Loss_CategoricalCrossentropy()
    assert L.data == pytest.approx(book.forward(Z, y), rel=1e-15)
    book.backward(book.output, y)
    # e^-800 underflows to 0: the book's (p - y)/n is still -1/3 there, and so is ours.
    assert book.dinputs[0, 0] == -1 / 3
    np.testing.assert_allclose(nn.grad_array(z), book.dinputs, rtol=1e-14, atol=1e-17)
    one_hot = nn.SoftmaxCrossEntropy()(Z, np.eye(3)[y])
    assert one_hot.data == L.data


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([0, 3], r"class index 3 at sample 1 is outside 0..2"),
        ([0, -1], "class index -1"),
        ([0.0, 1.0], "class indices must be integers"),
        ([0, 1, 2], "2 predictions but 3 class indices"),
        ([[1, 0, 0], [0, 1, 1]], "target row 1 is not a probability distribution"),
        ([[1, 0, 0], [np.nan, 1, 0]], r"target row 1 is not a probability distribution: \[nan"),
        ([[np.nan] * 3, [0, 1, 0]], "target row 0 is not a probability distribution"),
        ([[1, 0, 0], [np.inf, 1, -np.inf]], "target row 1 is not a probability distribution"),
        ([[1, 0], [0, 1]], r"one-hot targets have \(2, 2\)"),
        (np.zeros((2, 3, 1)), r"got shape \(2, 3, 1\)"),
    ],
)
def test_cce_rejects_bad_targets_clearly(y: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        nn.CategoricalCrossEntropy()(np.full((2, 3), 1 / 3), y)


def test_bce_value() -> None:
    P = np.array([[0.9, 0.2], [0.4, 0.6]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    assert math.isclose(nn.BinaryCrossEntropy()(P, Y).data, expected, rel_tol=1e-14)


def test_clip_op_derivatives() -> None:
    x = Value(0.5)
    assert ag.grad(nn.clip(x, 0.0, 1.0), x) == 1.0
    assert ag.grad(nn.clip(x, 0.6, 1.0), x) == 0.0
    assert nn.clip(Value(2.0), 0.0, 1.0).data == 1.0
    assert math.isnan(nn.clip(Value(math.nan)).data)  # nan passes through, as in np.clip


# ---- optimisers ----


def test_optimisers_reject_bad_arguments_clearly() -> None:
    p = nn.Dense(1, 1).parameters()
    with pytest.raises(ValueError, match="no parameters"):
        nn.SGD([])
    with pytest.raises(TypeError, match="must be Values, got float at position 1"):
        nn.SGD([p[0], 1.0])
    with pytest.raises(
        ValueError, match=r"Adam learning_rate must be a finite number >= 0, got -1"
    ):
        nn.Adam(p, lr=-1)
    with pytest.raises(ValueError, match=r"Adam beta_1 must be .* < 1, got 1.0 \(at 1 the average"):
        nn.Adam(p, beta_1=1.0)
    with pytest.raises(TypeError, match="SGD momentum needs a real number, got str"):
        nn.SGD(p, momentum="0.9")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pass the learning rate once"):
        nn.SGD(p, lr=0.1, learning_rate=0.1)


INF, NAN = math.inf, math.nan
BAD_HYPERPARAMETERS = [
    (nn.SGD, "lr", INF),
    (nn.SGD, "learning_rate", INF),
    (nn.SGD, "decay", INF),
    (nn.SGD, "momentum", INF),
    (nn.SGD, "momentum", 1.0),
    (nn.SGD, "lr", NAN),
    (nn.SGD, "decay", -1e-3),
    (nn.Adagrad, "epsilon", 0.0),
    (nn.Adagrad, "epsilon", INF),
    (nn.RMSprop, "epsilon", 0.0),
    (nn.RMSprop, "rho", 1.0),
    (nn.RMSprop, "rho", NAN),
    (nn.Adam, "epsilon", 0.0),
    (nn.Adam, "epsilon", -1e-7),
    (nn.Adam, "beta_2", 1.0),
    (nn.Adam, "beta_1", -0.1),
    (nn.Adam, "decay", NAN),
]


@pytest.mark.parametrize(("cls", "name", "value"), BAD_HYPERPARAMETERS)
def test_optimisers_refuse_non_finite_or_out_of_range_hyperparameters_when_built(
    cls: type[nn.Optimizer], name: str, value: float
) -> None:
    p = nn.Dense(2, 2).parameters()
    attribute = "learning_rate" if name == "lr" else name
    with pytest.raises(ValueError, match=rf"^{cls.__name__} {attribute} must be a finite number"):
        cls(p, **{name: value})


@pytest.mark.parametrize(("cls", "name", "value"), BAD_HYPERPARAMETERS)
def test_optimisers_refuse_a_bad_hyperparameter_set_later_and_keep_the_old_one(
    cls: type[nn.Optimizer], name: str, value: float
) -> None:
    opt = cls(nn.Dense(2, 2).parameters())
    attribute = "learning_rate" if name == "lr" else name
    before = getattr(opt, attribute)
    with pytest.raises(ValueError, match=f"{cls.__name__} {attribute}"):
        setattr(opt, attribute, value)
    assert getattr(opt, attribute) == before


def test_optimisers_take_booleans_as_0_and_1_as_every_entry_point_does() -> None:
    p = [Value(1.0)]
    for flag in (True, np.True_):
        assert nn.SGD(p, lr=flag).learning_rate == 1.0
        assert nn.Adam(p, epsilon=flag).epsilon == 1.0
    for cls in (nn.SGD, nn.Adagrad, nn.RMSprop, nn.Adam):
        opt = cls(p, lr=np.False_, decay=False)
        assert (opt.learning_rate, opt.decay) == (0.0, 0.0)
        assert type(opt.learning_rate) is float and type(opt.decay) is float
    assert nn.SGD(p, momentum=False).momentum == nn.RMSprop(p, rho=False).rho == 0.0
    # 1 is out of range for an averaging factor, as True is: the same error as for 1.
    with pytest.raises(
        ValueError, match=r"^Adam beta_1 must be .* < 1, got True \(at 1 the average"
    ):
        nn.Adam(p, beta_1=True)
    # A step with lr=True moves p by the gradient, as lr=1 does: 1 - 1 * 0.25.
    q = Value(1.0)
    q.grad = 0.25
    opt = nn.SGD([q], lr=0.5)
    opt.lr = True
    opt.step()
    assert q.data == 0.75


def test_errors_quote_a_huge_number_by_its_size_not_its_digits() -> None:
    # 10**400 has 401 digits: a message quotes "about 10**400" instead, and stays one line.
    p = [Value(1.0)]
    huge = 10**400
    cases: list[tuple[Callable[[], object], type[Exception], str]] = [
        (lambda: nn.SGD(p, lr=huge), OverflowError, r"^SGD learning_rate got an int too large for a float \(about 10\*\*400;"),
        (lambda: nn.Adam(p, epsilon=-huge), OverflowError, r"^Adam epsilon got an int too large .*about -10\*\*400;"),
        (lambda: nn.SGD(p, momentum=2**100), ValueError, r"^SGD momentum must be .* < 1, got about 10\*\*30 \(at 1"),
        (lambda: nn.SGD(p, decay=-(10**30)), ValueError, r"^SGD decay must be a finite number >= 0, got about -10\*\*30$"),
        (lambda: nn.SGD(p, lr=Fraction(huge, 3)), OverflowError, r"a Fraction too large for a float \(about 10\*\*399;"),
        (lambda: nn.Dropout(10**30), ValueError, r"^Dropout rate is the fraction dropped, in \[0, 1\), got about 10\*\*30$"),
        (lambda: nn.Dense(1, -huge), ValueError, r"^Dense n_neurons must be a positive int, got about -10\*\*400$"),
        (lambda: nn.Dense(huge, 2), ValueError, r"^Dense\(about 10\*\*400, 2\) would hold more weights than an array"),
        (lambda: nn.Dense(1, 1, weight_regularizer_l2=-(2**70)), ValueError, r"finite number >= 0, got about -10\*\*21$"),
    ]  # fmt: skip
    for call, error, message in cases:
        with pytest.raises(error, match=message) as caught:
            call()
        text = str(caught.value)
        assert len(text) < 200 and not re.search(r"\d{20}", text), text
    # Up to 64 bits a number is quoted whole: 2**63 = 9223372036854775808.
    with pytest.raises(ValueError, match=r"got 9223372036854775808 \(at 1"):
        nn.SGD(p, momentum=2**63)
    opt = nn.SGD(p, lr=0.5)
    with pytest.raises(OverflowError, match=r"about 10\*\*400;"):
        opt.learning_rate = huge
    assert opt.learning_rate == 0.5


@pytest.mark.parametrize("cls", [nn.SGD, nn.Adagrad, nn.RMSprop, nn.Adam])
def test_an_optimiser_step_that_fails_changes_nothing(cls: type[nn.Optimizer]) -> None:
    layer = nn.Dense(2, 2)
    opt = cls(layer.parameters(), momentum=0.9) if cls is nn.SGD else cls(layer.parameters())
    for p in opt.params:
        p.grad = 0.5
    opt.step()  # so that the state (momenta, caches) is not all zeros
    state = {k: list(v) if isinstance(v, list) else v for k, v in vars(opt).items()}
    state.pop("params")
    before = [p.data for p in opt.params]
    for p in opt.params:
        p.grad = 0.25
    opt.params[-1].grad = "not a number"  # the last one: every other update could run first
    with pytest.raises(
        TypeError, match=r"step\(\): the grad of parameter 5 needs a real number, got str"
    ):
        opt.step()
    assert [p.data for p in opt.params] == before
    after = {k: list(v) if isinstance(v, list) else v for k, v in vars(opt).items()}
    after.pop("params")
    assert after == state


@pytest.mark.parametrize("cls", [nn.SGD, nn.Adagrad, nn.RMSprop, nn.Adam])
def test_a_new_learning_rate_takes_effect_with_or_without_decay(cls: type[nn.Optimizer]) -> None:
    for decay in (0.0, 0.5):
        p = Value(1.0)
        opt = cls([p], decay=decay)
        p.grad = 1.0
        opt.step()
        opt.learning_rate = 0.125
        opt.step()
        assert opt.current_learning_rate == 0.125 / (1 + decay)


@pytest.mark.parametrize("cls", [nn.SGD, nn.Adagrad, nn.RMSprop, nn.Adam])
def test_lr_is_the_learning_rate_under_the_constructors_short_name(
    cls: type[nn.Optimizer],
) -> None:
    p = Value(1.0)
    opt = cls([p], lr=0.5)
    assert opt.lr == opt.learning_rate == 0.5
    opt.lr = 0.125  # as micrograd's and PyTorch's readers write it: not a new, unused attribute
    assert opt.learning_rate == 0.125 and "lr" not in vars(opt)
    p.grad = 1.0
    opt.step()
    assert opt.current_learning_rate == 0.125
    with pytest.raises(ValueError, match=f"{cls.__name__} learning_rate must be a finite number"):
        opt.lr = -1.0


def test_a_zero_gradient_with_an_empty_cache_moves_nothing() -> None:
    # The case that divided 0 by 0 when epsilon could be 0: sqrt(0) + epsilon is now > 0.
    for cls in (nn.Adagrad, nn.RMSprop, nn.Adam):
        p = Value(1.0)
        opt = cls([p], epsilon=1e-300)
        p.grad = 0.0
        opt.step()
        assert p.data == 1.0


def test_a_shared_parameter_moves_once_per_step() -> None:
    layer = nn.Dense(1, 1)
    layer.load([[1.0]], [0.0])
    model = nn.Sequential([layer, layer])
    assert len(model.parameters()) == 2
    opt = nn.SGD(model.parameters() + model.parameters(), lr=0.5)
    for p in opt.params:
        p.grad = 1.0
    opt.step()
    assert layer.numpy()[0][0, 0] == 0.5


def test_zero_grad_clears_every_parameter() -> None:
    model = nn.Sequential([nn.Dense(2, 2), nn.Sigmoid(), nn.Dense(2, 1)])
    nn.MSE()(model([[1.0, 2.0]]), [[1.0]]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# ---- accuracy ----


def test_accuracy_for_indices_one_hot_and_binary() -> None:
    P = np.array([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.4, 0.4, 0.2]])
    y = np.array([0, 2, 0, 0])  # argmax picks the first of a tie, as np.argmax does
    assert nn.accuracy(P, y) == 0.75
    assert nn.accuracy(P, np.eye(3)[y]) == 0.75
    assert nn.accuracy(nn.to_values(P), y) == 0.75
    assert nn.accuracy([[0.9], [0.2], [0.6]], [1, 1, 0]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="predictions"):
        nn.accuracy(P, [0, 1])


# ---- a small model (saving and loading: test_nn_saving.py) ----


def make_model(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential([nn.Dense(2, 5, rng), nn.ReLU(), nn.Dense(5, 3, rng), nn.Softmax()])


# ---- nnfs.init() ----


def test_everything_stays_float64_after_nnfs_init(nnfs_init: None) -> None:
    """nnfs.init() swaps np.dot, np.zeros, np.eye and np.random.randn for float32 versions."""
    assert np.zeros(2).dtype == np.float32  # the patch is in force
    X = np.random.randn(5, 2)
    assert X.dtype == np.float32
    layer = nn.Dense(2, 3)
    assert layer.numpy()[0].dtype == np.float64
    out = nn.Softmax()(layer(X))
    assert nn.data_array(out).dtype == np.float64
    W, b = layer.numpy()
    np.testing.assert_allclose(nn.data_array(layer(X)), X.astype(np.float64) @ W + b, rtol=1e-13)
    ref = R.Layer_Dense(2, 3, rng=0)
    ref.forward(X)
    ref.backward(np.ones((5, 3)))
    assert ref.output.dtype == ref.dweights.dtype == ref.dinputs.dtype == np.float64
    loss = R.Loss_CategoricalCrossentropy()
    probs = np.full((5, 3), 1 / 3)
    loss.backward(probs, np.zeros(5, dtype=int))
    assert loss.dinputs.dtype == np.float64
    # float32 coming in (np.eye's one-hot rows, float32 gradients) still gives float64 out
    one_hot = np.eye(3)[[0, 1, 2, 0, 1]]
    assert one_hot.dtype == np.float32
    loss.backward(probs.astype(np.float32), one_hot)
    relu = R.Activation_ReLU()
    relu.forward(X)
    relu.backward(np.ones((5, 2), dtype=np.float32))
    assert loss.dinputs.dtype == relu.dinputs.dtype == np.float64


# ---- training ----


class Probe(nn.Module):
    """Records whether the cyclic collector is on during forward, and can fail on demand."""

    def forward(self, fail: bool) -> bool:
        if fail:
            raise RuntimeError("forward failed")
        return gc.isenabled()


def test_modules_and_fit_leave_the_collector_settings_to_the_user() -> None:
    # The collector stays as the user set it while a module runs: on, or off.
    probe = Probe()
    assert probe(False) is True
    thresholds = gc.get_threshold()
    seen: list[bool] = []
    gc.disable()
    try:
        assert probe(False) is False
        with pytest.raises(RuntimeError):
            probe(True)
        assert not gc.isenabled()
    finally:
        gc.enable()
    # fit too: a callback sees the collector on in every epoch.
    model = nn.Sequential([nn.Dense(2, 3), nn.Softmax()])
    X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 2])

    def callback(epoch: int, logs: dict[str, float]) -> None:
        seen.append(gc.isenabled())

    for engine in ("scalar", "replay"):
        nn.fit(
            model,
            nn.CategoricalCrossEntropy(),
            nn.SGD(model.parameters()),
            X,
            y,
            2,
            print_every=None,
            progress=False,
            callbacks=[callback],
            engine=engine,
        )
    assert seen == [True] * 4 and gc.get_threshold() == thresholds


def test_fit_records_history_and_shows_loss_and_accuracy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = make_model(0)
    history = nn.fit(
        model, nn.CategoricalCrossEntropy(), nn.Adam(model.parameters(), lr=0.05), X, y, 5
    )
    assert len(history["loss"]) == len(history["accuracy"]) == len(history["lr"]) == 5
    assert history["loss"][-1] < history["loss"][0]
    bar = capsys.readouterr().err
    assert "loss=" in bar and "acc=" in bar and "5/5" in bar
    quiet = nn.fit(
        model,
        nn.MSE(),
        nn.SGD(model.parameters(), lr=0.1),
        X,
        np.eye(3)[y],
        2,
        metric=None,
        progress=False,
    )
    assert "accuracy" not in quiet and capsys.readouterr().err == ""


def test_a_training_step_inside_no_grad_still_learns() -> None:
    model = make_model(0)
    X, y = np.random.default_rng(2).normal(size=(8, 2)), np.arange(8) % 3
    optimizer = nn.SGD(model.parameters(), lr=0.5)
    with ag.no_grad():
        history = nn.fit(model, nn.CategoricalCrossEntropy(), optimizer, X, y, 3, progress=False)
    assert history["loss"][2] < history["loss"][0]


# Measured with exactly this set-up: accuracy 0.617 and loss 0.852 after 40 steps (0.300 and
# 1.113 before the first; 0.657 after 50, 0.73 after 100). The thresholds leave room for libm
# differences between platforms. About 6 s of CPU here: each step builds a 46,000-node graph.
SPIRAL_STEPS = 40
SPIRAL_ACCURACY = 0.57


def test_a_small_mlp_learns_the_spiral() -> None:
    """2-8-8-3 with ReLU and softmax, He-initialised, full-batch Adam on spiral_data(100, 3)."""
    from nnfs.datasets import spiral_data

    np.random.seed(0)
    X, y = spiral_data(samples=100, classes=3)
    rng = np.random.default_rng(0)
    layers: list[nn.Module] = []
    sizes = (2, 8, 8, 3)
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        dense = nn.Dense(n_in, n_out, rng)
        # He initialisation: the book's 0.01 * N(0, 1) needs thousands of steps to get going
        dense.load(rng.standard_normal((n_in, n_out)) * math.sqrt(2 / n_in), np.zeros(n_out))
        layers += [dense, nn.ReLU() if k < len(sizes) - 2 else nn.Softmax()]
    model = nn.Sequential(layers)
    loss_fn = nn.CategoricalCrossEntropy()
    optimizer = nn.Adam(model.parameters(), lr=0.05)
    history = nn.fit(model, loss_fn, optimizer, X, y, SPIRAL_STEPS, progress=False)
    assert history["accuracy"][0] < 0.4  # chance level, before any update
    out = model(X)
    assert nn.accuracy(out, y) >= SPIRAL_ACCURACY
    assert loss_fn(out, y).data < 0.9 < history["loss"][0]


def test_clip_declares_the_kink_where_its_bounds_cross() -> None:
    # f(a) = clip(0, e^a, e^a + a): for a < 0 the bounds cross and f = hi (slope 2), for a > 0
    # f = lo (slope 1). At a = 0, lo = hi: gradcheck must name clip's kink, not report a mismatch.
    with pytest.warns(ag.KinkWarning, match="clip's kink at 1 in its operand 1"):
        assert ag.gradcheck(lambda a: nn.clip(0.0, a.exp(), a.exp() + a), [0.0])
    report = ag.gradcheck_report(lambda a: nn.clip(0.0, a.exp(), a.exp() + a), [0.0])
    assert (report.rows[0].analytic, report.rows[0].status) == (1.0, "kink, right slope")


def test_clip_matches_np_clip_even_with_crossed_bounds() -> None:
    import itertools

    from autograd import OPS

    clip = OPS["clip"]
    for x, lo, hi in itertools.product([-2.0, 0.0, 2.0], [-1.0, 1.0], [-1.5, 1.5]):
        assert clip.f(x, lo, hi) == np.clip(x, lo, hi)
        # The output moves one-for-one with exactly one of x, lo, hi.
        assert sum(clip.df(clip.f(x, lo, hi), x, lo, hi)) == 1.0


def test_models_optimisers_and_training_name_themselves_for_an_argument_of_the_wrong_kind() -> None:
    model = nn.Sequential([nn.Dense(2, 2, rng=0)])
    X, y = np.ones((2, 2)), np.zeros((2, 2))
    with pytest.raises(TypeError, match=r"^Sequential needs a list of Modules, got int$"):
        nn.Sequential(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^Sequential needs a list of Modules, got Dense$"):
        nn.Sequential(nn.Dense(2, 2))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^SGD needs a list of parameters or a Module, got int$"):
        nn.SGD(5)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^Adam needs a list of parameters or a Module, got one Value$"
    ):
        nn.Adam(model.parameters()[0])  # type: ignore[arg-type]
    sgd = nn.SGD(model)
    for step in (nn.fit, nn.train_step):
        who = step.__name__ + r"\(\)"  # "fit()" as a regex
        rest = (X, y, 1) if step is nn.fit else (X, y)
        with pytest.raises(TypeError, match=rf"^{who} needs an nn Module as the model, got int$"):
            step(5, nn.MSE(), sgd, *rest)
        with pytest.raises(TypeError, match=rf"^{who} needs a loss, a callable .* got int$"):
            step(model, 5, sgd, *rest)
        with pytest.raises(TypeError, match=rf"^{who} needs an nn optimiser .* got int$"):
            step(model, nn.MSE(), 5, *rest)
    assert model.parameters()[0].data == nn.Sequential([nn.Dense(2, 2, rng=0)]).parameters()[0].data


def test_a_step_refuses_gradients_that_are_no_real_numbers_and_changes_nothing() -> None:
    # Grads set by hand, or given as an array, follow Value()'s rule: a str, a complex or a date
    # is refused by name, never cast to a float (numpy would read '1' as 1.0 and drop 2j).
    ps = [Value(1.0), Value(2.0)]
    ps[0].grad = 0.5
    for bad, error, message in [
        ("x", TypeError, r"^Adam.step\(\): the grad of parameter 1 needs a real number, got str$"),
        (10**400, OverflowError, r"^Adam.step\(\): the grad of parameter 1 got an int too large"),
        (np.array([1.0]), TypeError, r"got ndarray; use .item\(\) for a one-element array$"),
    ]:
        ps[1].grad = bad
        with pytest.raises(error, match=message):
            nn.Adam(ps).step()
    for grads, error, message in [
        (np.array(["1", "2"]), TypeError, r"^SGD.step\(grads\) needs real numbers, got an array of dtype <U1$"),
        (np.array([1 + 2j, 1.0]), TypeError, r"got an array of dtype complex128$"),
        (np.array([1, 2], dtype="m8[s]"), TypeError, r"got an array of dtype timedelta64\[s\]$"),
        ([10**400, 1.0], OverflowError, r"^SGD.step\(grads\): the entry at \[0\] got an int too large"),
        (np.ones(3), ValueError, r"^SGD.step\(grads\) needs 2 gradients, got shape \(3,\)$"),
    ]:  # fmt: skip
        with pytest.raises(error, match=message):
            nn.SGD(ps).step(grads)
    assert [p.data for p in ps] == [1.0, 2.0]
    ps[1].grad = Value(4.0)  # after backward(create_graph=True): its number
    sgd = nn.SGD(ps, lr=0.5)
    sgd.step()
    sgd.step(np.array([True, False]))  # booleans are 0 and 1, as everywhere
    assert [p.data for p in ps] == [1.0 - 0.25 - 0.5, 2.0 - 2.0]
