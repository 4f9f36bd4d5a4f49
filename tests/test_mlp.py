"""`nn.Neuron`, `nn.Layer` and `nn.MLP`: micrograd's one-sample API, checked against numpy by hand."""

from __future__ import annotations

import random

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value
from nn import MLP, Layer, Neuron


def numpy_mlp(model: MLP) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(W, b, nonlin) per layer, W shaped (nout, nin): neuron j's weights are row j."""
    return [
        (
            np.array([[w.data for w in n.w] for n in layer.neurons]),
            np.array([n.b.data for n in layer.neurons]),
            layer.nonlin,
        )
        for layer in model.layers
    ]


def numpy_forward_backward(
    layers: list[tuple[np.ndarray, np.ndarray, bool]], x: np.ndarray, c: np.ndarray
) -> tuple[float, list[np.ndarray], list[np.ndarray], np.ndarray]:
    """L = c . out(x); returns L and dL/dW, dL/db per layer and dL/dx, derived by hand."""
    acts, zs = [x], []
    for W, b, nonlin in layers:
        z = W @ acts[-1] + b
        zs.append(z)
        acts.append(np.maximum(z, 0.0) if nonlin else z)
    g = c.astype(float)
    dWs, dbs = [], []
    for (W, _, nonlin), z, a in zip(reversed(layers), reversed(zs), reversed(acts[:-1])):
        if nonlin:
            g = g * (z > 0)  # relu' = 1 where z > 0
        dWs.append(np.outer(g, a))  # dz_j/dW_ji = a_i
        dbs.append(g)
        g = W.T @ g  # dz_j/da_i = W_ji
    return float(c @ acts[-1]), dWs[::-1], dbs[::-1], g


def test_mlp_gradients_match_the_hand_derived_numpy_backward() -> None:
    model = MLP(3, [4, 5, 2], rng=7)
    x = [Value(0.3), Value(-1.2), Value(0.8)]
    c = np.array([0.7, -1.3])
    out = model(x)
    assert isinstance(out, list) and len(out) == 2
    loss = 0.7 * out[0] - 1.3 * out[1]
    loss.backward()
    L, dWs, dbs, dx = numpy_forward_backward(numpy_mlp(model), np.array([v.data for v in x]), c)
    # numpy's matrix products may round differently from the engine's left-to-right sums
    # (BLAS kernels differ by CPU), so a few ulp of tolerance, not equality.
    assert loss.data == pytest.approx(L, rel=1e-13)
    for layer, dW, db in zip(model.layers, dWs, dbs):
        got_w = np.array([[w.grad for w in n.w] for n in layer.neurons])
        got_b = np.array([n.b.grad for n in layer.neurons])
        np.testing.assert_allclose(got_w, dW, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(got_b, db, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose([v.grad for v in x], dx, rtol=1e-13, atol=1e-15)


def test_mlp_draws_uniform_weights_from_pythons_random_in_micrograds_order() -> None:
    random.seed(42)
    model = MLP(2, [3, 1])
    random.seed(42)
    # Neuron by neuron, layer by layer: nin weights each, and a bias of exactly 0.
    expected = []
    for nin, nout in ((2, 3), (3, 1)):
        for _ in range(nout):
            expected += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]
    assert [p.data for p in model.parameters()] == expected
    assert all(-1.0 <= p.data <= 1.0 for p in model.parameters())


def test_mlp_rng_option_is_reproducible_and_leaves_global_random_alone() -> None:
    random.seed(0)
    before = random.random()
    random.seed(0)
    a = [p.data for p in MLP(2, [4, 1], rng=3).parameters()]
    assert random.random() == before  # a seed gives a private generator
    b = [p.data for p in MLP(2, [4, 1], rng=random.Random(3)).parameters()]
    c = [p.data for p in MLP(2, [4, 1], rng=np.random.default_rng(3)).parameters()]
    assert a == b
    assert a != c and all(-1.0 <= w <= 1.0 for w in c)


def test_mlp_parameter_count_and_layer_shapes_follow_nin_and_nouts() -> None:
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337
    assert [(layer.nin, layer.nout, layer.nonlin) for layer in model.layers] == [
        (2, 16, True),
        (16, 16, True),
        (16, 1, False),
    ]
    assert len({id(p) for p in model.parameters()}) == 337


def test_neuron_is_relu_of_one_dot_node_unless_linear() -> None:
    n = Neuron(3, rng=1)
    x = [1.0, -2.0, 0.5]
    z = sum((w.data * xi for w, xi in zip(n.w, x)), 0.0) + n.b.data
    out = n(x)
    assert out.op == "relu" and out.parents[0].op == "dot"
    assert out.data == pytest.approx(max(z, 0.0), rel=1e-15)
    linear = Neuron(3, nonlin=False, rng=1)
    assert linear(x).op == "dot" and linear(x).data == pytest.approx(z, rel=1e-15)


def test_layer_returns_a_list_when_wide_and_a_value_when_single() -> None:
    wide, single = Layer(2, 3, rng=0), Layer(2, 1, rng=0)
    assert isinstance(wide([1.0, 2.0]), list) and len(wide([1.0, 2.0])) == 3
    assert isinstance(single([1.0, 2.0]), Value)
    assert isinstance(MLP(2, [3, 1], rng=0)([1.0, 2.0]), Value)


def test_mlp_with_a_one_neuron_hidden_layer_feeds_it_forward() -> None:
    # micrograd's MLP(2, [1, 3]) crashes (a single Value is passed on, not a list); ours runs.
    model = MLP(2, [1, 3], rng=0)
    out = model([1.0, 2.0])
    h = model.layers[0].neurons[0]
    hidden = max(h.w[0].data * 1.0 + h.w[1].data * 2.0 + h.b.data, 0.0)
    assert [v.data for v in out] == pytest.approx(
        [n.w[0].data * hidden + n.b.data for n in model.layers[1].neurons], rel=1e-15
    )


def test_zero_grad_resets_every_parameter_after_backward() -> None:
    model = MLP(2, [3, 1], rng=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 and type(p.grad) is float for p in model.parameters())


def test_mlp_scopes_name_the_layer_and_the_neuron_of_every_node() -> None:
    model = MLP(2, [2, 1], rng=0, name="m")
    out = model([1.0, 2.0])
    assert out.scope is not None and out.scope.path == ("m", "m.layer1", "neuron 0")
    assert out.scope.parent is not None and out.scope.parent.owner is model.layers[1]


def test_one_sample_calls_name_the_module_on_bad_input() -> None:
    model = MLP(2, [3, 1], rng=0, name="m")
    with pytest.raises(TypeError, match=r"MLP\(2, \[3, 1\], name='m'\) takes one sample at a"):
        model([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"takes 2 inputs per sample, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"takes one sample, a sequence of 2 numbers"):
        model(1.0)
    with pytest.raises(TypeError, match=r"needs numbers or Values, got str as input 1"):
        Layer(2, 2, rng=0)([1.0, "2"])
    with pytest.raises(ValueError, match=r"MLP nouts must be a non-empty list"):
        MLP(2, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Neuron nin must be a positive int, got 0"):
        Neuron(0)
    with pytest.raises(TypeError, match=r"rng must be None, a seed, a random.Random"):
        Neuron(2, rng="seed")  # type: ignore[arg-type]


def test_numpy_rows_and_ints_are_accepted_as_one_sample() -> None:
    model = MLP(2, [2, 1], rng=0)
    a = model(np.array([1.0, 2.0])).data
    assert model([1, 2]).data == a == model([Value(1.0), np.float32(2.0)]).data


def test_mlp_state_dict_round_trips_and_names_each_layer() -> None:
    model, other = MLP(2, [3, 1], rng=0), MLP(2, [3, 1], rng=1)
    state = model.state_dict()
    assert sorted(state) == ["0.b", "0.w", "1.b", "1.w"]
    assert state["0.w"].shape == (3, 2) and state["1.b"].shape == (1,)
    other.load_state_dict(state)
    assert [p.data for p in other.parameters()] == [p.data for p in model.parameters()]


def test_mlp_trains_with_an_nn_optimiser() -> None:
    model = MLP(1, [8, 1], rng=2)
    opt = nn.SGD(model.parameters(), lr=0.05)
    xs = [[-1.0], [-0.5], [0.0], [0.5], [1.0]]
    ys = [1.0, 0.25, 0.0, 0.25, 1.0]

    def mse() -> Value:
        return ag.sum([(model(x) - t) ** 2 for x, t in zip(xs, ys)]) / len(xs)

    first = mse().data
    for _ in range(200):
        loss = mse()
        model.zero_grad()
        loss.backward()
        opt.step()
    assert mse().data < first / 5


def test_layer_sizes_and_seeds_are_counts_by_the_engines_rule() -> None:
    # Ints and numpy integers, and booleans as 0 and 1, as at every entry point; never a float.
    assert [layer.nin for layer in MLP(np.int64(2), [True, np.uint8(3)], rng=0).layers] == [2, 1]
    assert Neuron(2, rng=True).w[0].data == Neuron(2, rng=1).w[0].data
    assert Neuron(2, rng=np.int32(7)).w[1].data == Neuron(2, rng=7).w[1].data
    with pytest.raises(TypeError, match=r"^Neuron nin needs an int, got float; use int\(x\)$"):
        Neuron(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^Layer nout must be a positive int, got False$"):
        Layer(2, False)
    with pytest.raises(
        ValueError, match=r"^MLP layer size must be a positive int, got about -10\*\*400$"
    ):
        MLP(2, [-(10**400)])
    with pytest.raises(
        ValueError,
        match=r"^MLP nouts must be a non-empty list of layer sizes, got about 10\*\*400$",
    ):
        MLP(2, 10**400)  # type: ignore[arg-type]
