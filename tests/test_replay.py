"""autograd.replay: one sample's graph run over a batch, against the scalar engine.

The scalar engine is the truth. Forward numbers are compared with it node by node; gradients
with the chain rule applied, in plain Python, to the replayed numbers (so that a derivative
written in terms of the output, tanh' = 1 - f^2, is compared at the same f: numpy's tanh and
Python's may differ in the last bit). Both to 1e-12 relative to their rounding scale
(tests/rounding.py): plain relative difference where no terms cancel.
"""

from __future__ import annotations

import gc
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rounding import backward_scales, close, forward_scales

import autograd as ag
from autograd import Value
from autograd.graphcheck import check_graph
from autograd.ops import ArrayForm
from autograd.replay import Derived, NotReplayable, Replay
from autograd.testing import expressions


def _chain_rule(r: Replay, root: Value, s: int) -> tuple[dict[Value, float], dict[Value, float]]:
    """Sample s's gradients by the chain rule on the replayed numbers, and their scales."""

    def number(v: Value) -> float:
        x = r.value(v)
        return float(x[s]) if r.is_per_sample(v) else float(x)

    return backward_scales(root, r.operands, number, r.order)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.data())
def test_random_graphs_from_the_whole_op_table_replay_as_the_scalar_engine_computes(
    expr: Any, data: st.DataObject
) -> None:
    n = expr.n_inputs
    shared = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="shared")
    batch = data.draw(st.integers(1, 4), label="batch")
    nudge = st.floats(-0.01, 0.01)
    rows = [[x * (1 + (data.draw(nudge) if s else 0.0)) for x in expr.inputs] for s in range(batch)]
    leaves = [Value(x, f"x{i}") for i, x in enumerate(expr.inputs)]
    root = expr(*leaves)
    inputs = [v for v, sh in zip(leaves, shared) if not sh]
    params = [v for v, sh in zip(leaves, shared) if sh]
    r = Replay([root], inputs, params)
    X = np.array([[x for x, sh in zip(row, shared) if not sh] for row in rows]).reshape(batch, -1)
    param_grads = r.backward() if r.forward(X) else None
    assert param_grads is not None
    samples = batch if r.is_per_sample(root) else 1  # a shared root is seeded once
    steps = [v for v in r.order if v.label.startswith("v")]
    expected = dict.fromkeys(params, 0.0)
    scales = dict.fromkeys(params, 0.0)
    shared_sums: dict[Value, list[float]] = {}
    for s in range(samples):
        # forward: the scalar engine on sample s, node by node (Expression labels them v<k>)
        scalar = expr(*[Value(v.data if sh else x) for v, sh, x in zip(leaves, shared, rows[s])])
        fwd = forward_scales(scalar)
        by_label = {v.label: v for v in fwd if v.label.startswith("v")}
        for v in steps:
            ours = r.value(v)[s] if r.is_per_sample(v) else r.value(v)
            w = by_label[v.label]
            assert close(ours, w.data, fwd[w]), (str(expr), v.label, s, ours, w.data)
        # backward: the chain rule on the replayed numbers
        grad, scale = _chain_rule(r, root, s)
        for v in steps:
            if v not in grad:
                continue
            if r.is_per_sample(v):
                assert close(r.grad(v)[s], grad[v], scale[v]), (str(expr), v.label, s)
            else:
                acc = shared_sums.setdefault(v, [0.0, 0.0])
                acc[0] += grad[v]
                acc[1] += scale[v]
        for p in params:
            expected[p] += grad.get(p, 0.0)
            scales[p] += scale.get(p, 0.0)
    for v, (g, sc) in shared_sums.items():
        assert close(r.grad(v), g, sc), (str(expr), v.label)
    for k, p in enumerate(params):  # a parameter's gradient: the sum over the batch
        assert close(param_grads[k], expected[p], scales[p]), (str(expr), p.label)


def _layer(n_in: int, n_out: int, seed: int) -> tuple[list[list[Value]], list[Value]]:
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_in, n_out))
    cols = [[Value(float(W[i, j]), f"w{i}{j}") for i in range(n_in)] for j in range(n_out)]
    return cols, [Value(float(b), f"b{j}") for j, b in enumerate(rng.normal(size=n_out))]


def test_a_layers_dots_become_one_matrix_product_and_its_relus_one_group() -> None:
    (c1, b1), (c2, b2) = _layer(2, 4, 0), _layer(4, 1, 1)
    xs = [Value(0.0, "x0"), Value(0.0, "x1")]
    hidden = [ag.dot(c, xs, b).relu() for c, b in zip(c1, b1)]
    out = ag.dot(c2[0], hidden, b2[0])
    params = [w for c in c1 + c2 for w in c] + b1 + b2
    r = Replay([out], xs, params)
    assert [(g.op, g.kind, g.size) for g in r.groups] == [
        ("dot", "matmul", 4),
        ("relu", "elementwise", 4),
        ("dot", "matmul", 1),
    ]
    X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
    r.forward(X)
    W1 = np.array([[w.data for w in c] for c in c1]).T
    h = np.maximum(X @ W1 + [b.data for b in b1], 0.0)
    expected = h @ np.array([w.data for w in c2[0]]) + b2[0].data
    # Against numpy's own matrix products: to a few ulp, whichever order each adds in.
    np.testing.assert_allclose(r.value(out), expected, rtol=1e-14)
    assert r.value(out).shape == (3,)


def test_a_parameter_gradient_is_the_sum_over_the_batch() -> None:
    w, x = Value(3.0, "w"), Value(0.0, "x")
    y = (w * x).square()  # dy/dw = 2 w x^2
    r = Replay([y], [x], [w])
    r.forward(np.array([[1.0], [2.0], [-0.5]]))
    assert r.value(y).tolist() == [9.0, 36.0, 2.25]
    grads = r.backward()
    assert grads.tolist() == [2 * 3.0 * (1.0 + 4.0 + 0.25)]
    assert r.grad(y).tolist() == [1.0, 1.0, 1.0]
    # A per-sample seed weights each sample: d/dw sum_i s_i y_i.
    assert r.backward({y: np.array([1.0, 0.0, 2.0])}).tolist() == [6.0 * (1.0 + 0.5)]


def test_a_constant_power_of_one_half_replays_ieee_special_values_as_the_scalar_engine() -> None:
    # numpy's power loop takes a broadcast exponent of 0.5 as sqrt: -0.0 and nan at x = -0.0
    # and -inf, where pow (and the scalar engine) gives +0.0 and +inf. x ** 1.5's derivative,
    # 1.5 x ** 0.5, takes the same path.
    xs = [-0.0, -math.inf, 0.0, math.inf, 4.0, -4.0]
    x = Value(0.0, "x")
    for e in (0.5, 1.5):
        y = x**e
        r = Replay([y], [x], input_grads=True).forward(np.array(xs).reshape(-1, 1))
        r.backward()
        for s, xv in enumerate(xs):
            leaf = Value(xv)
            ys = leaf**e
            ys.backward()
            got, dgot = float(r.value(y)[s]), float(r.grad(x)[s])
            for ours, theirs in ((got, ys.data), (dgot, leaf.grad)):
                assert math.isnan(ours) == math.isnan(theirs), (e, xv, ours, theirs)
                if not math.isnan(theirs):  # equal, with the sign of a zero
                    assert (ours, math.copysign(1.0, ours)) == (theirs, math.copysign(1.0, theirs))
        assert [float(v) for v in r.value(y)[:4]] == [0.0, math.inf, 0.0, math.inf]


def test_nodes_of_parameters_alone_are_computed_once() -> None:
    w = [Value(float(k), f"w{k}") for k in range(1, 4)]
    x = Value(0.0, "x")
    penalty = ag.sum([p.square() for p in w])  # a regulariser: parameters only
    loss = ag.dot(w, [x, x, x]) + penalty
    r = Replay([loss], [x], w)
    squares = next(g for g in r.groups if g.op == "square")
    assert not squares.per_sample and squares.size == 3
    assert not r.is_per_sample(penalty) and r.is_per_sample(loss)
    r.forward(np.array([[1.0], [2.0]]))
    assert r.value(penalty) == 14.0
    assert r.value(loss).tolist() == [20.0, 26.0]
    # Seeded with 1 per sample, the penalty's gradient 2w is counted once per sample.
    assert r.backward().tolist() == [2 * 2.0 + 3.0, 2 * 4.0 + 3.0, 2 * 6.0 + 3.0]
    assert r.grad(penalty) == 2.0


def test_a_derived_leaf_is_computed_per_sample_and_passes_no_gradient() -> None:
    z = [Value(0.0, "z0"), Value(0.0, "z1")]
    m = Value(0.0, "max")
    exps = [(v - m).exp() for v in z]
    p0 = exps[0] / ag.sum(exps)
    r = Replay([p0], z, derived={m: Derived(np.maximum, tuple(z))}, input_grads=True)
    Z = np.array([[1.0, 3.0], [800.0, 799.0]])  # e^800 overflows without the shift
    r.forward(Z)
    assert r.value(m).tolist() == [3.0, 800.0]
    softmax = np.exp(Z[:, 0] - Z.max(axis=1)) / np.exp(Z - Z.max(axis=1, keepdims=True)).sum(1)
    np.testing.assert_allclose(r.value(p0), softmax, rtol=1e-15)
    r.backward()
    # dp0/dz0 = p0 (1 - p0), dp0/dz1 = -p0 p1: the softmax's own, with m a constant.
    p = r.value(p0)
    np.testing.assert_allclose(r.grad(z[0]), p * (1 - p), rtol=1e-14)
    np.testing.assert_allclose(r.grad(z[1]), -p * (1 - p), rtol=1e-14)
    with pytest.raises(ValueError, match="no gradient is kept"):
        r.grad(m)


def test_an_op_without_an_array_form_replays_element_by_element_and_says_so_once() -> None:
    cube = ag.defop(
        "cube_replay_test",
        lambda a: a * a * a,
        lambda out, a: (3.0 * a * a,),
        doc="f(a) = a^3; df/da = 3a^2",
    )
    try:
        x, w = Value(0.0, "x"), Value(2.0, "w")
        y = cube(x * w) + cube(w)
        with pytest.warns(UserWarning, match="cube_replay_test have no array form") as caught:
            r = Replay([y], [x], [w])
        assert len(caught) == 1
        assert {g.kind for g in r.groups if g.op == "cube_replay_test"} == {"per-element"}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # running it warns no more
            r.forward(np.array([[1.0], [-0.5]]))
            grads = r.backward()
        assert r.value(y).tolist() == [8.0 + 8.0, -1.0 + 8.0]
        # d/dw [(x w)^3 + w^3] = 3 x^3 w^2 + 3 w^2, summed over both samples
        assert grads.tolist() == [(12.0 + 12.0) + (-1.5 + 12.0)]
    finally:
        ag.unregister("cube_replay_test")


def test_an_op_with_an_array_form_from_defop_replays_as_arrays() -> None:
    twice = ag.defop(
        "twice_replay_test",
        lambda a: 2.0 * a,
        lambda out, a: (2.0,),
        doc="f(a) = 2a; df/da = 2",
        array=ArrayForm(),
    )
    try:
        x = Value(0.0, "x")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            r = Replay([twice(x)], [x], input_grads=True)
        r.forward(np.array([[1.5], [-2.0]]))
        r.backward()
        assert r.value(r.outputs[0]).tolist() == [3.0, -4.0]
        assert r.grad(x).tolist() == [2.0, 2.0]
    finally:
        ag.unregister("twice_replay_test")


def test_one_sample_comes_back_as_the_scalar_engines_own_graph() -> None:
    (c1, b1), (c2, b2) = _layer(2, 3, 2), _layer(3, 1, 3)
    xs = [Value(0.0, "x0"), Value(0.0, "x1")]
    with ag.scope("layer1"):
        hidden = [ag.dot(c, xs, b).tanh() for c, b in zip(c1, b1)]
    out = ag.dot(c2[0], hidden, b2[0]).square()
    params = [w for c in c1 + c2 for w in c] + b1 + b2
    r = Replay([out], xs, params)
    X = np.array([[0.3, -0.2], [1.1, 0.4]])
    r.forward(X)
    (root,) = r.sample(1)
    # The scalar engine from scratch on sample 1: the same numbers, bit for bit.
    direct = ag.dot(
        c2[0], [ag.dot(c, [1.1, 0.4], b).tanh() for c, b in zip(c1, b1)], b2[0]
    ).square()
    assert root.data == direct.data
    assert math.isclose(root.data, r.value(out)[1], rel_tol=1e-14)
    # It is an ordinary graph over the very parameters: explain, gradcheck and scopes work.
    assert set(params) <= set(ag.topological_order(root))
    assert any(v.scope is not None and v.scope.name == "layer1" for v in ag.topological_order(root))
    w = c1[0][0]
    assert math.isclose(ag.explain(root, w).total, ag.grad(root, w), rel_tol=1e-12)
    assert check_graph(root).passed  # every node's gradient against central differences


def test_a_replay_makes_no_value_per_sample() -> None:
    (c1, b1), (c2, b2) = _layer(2, 8, 4), _layer(8, 1, 5)
    xs = [Value(0.0, "x0"), Value(0.0, "x1")]
    out = ag.dot(c2[0], [ag.dot(c, xs, b).relu() for c, b in zip(c1, b1)], b2[0])
    r = Replay([out], xs, [w for c in c1 + c2 for w in c] + b1 + b2)
    X = np.random.default_rng(6).normal(size=(5000, 2))

    def values_alive() -> int:
        gc.collect()
        return sum(type(o) is Value for o in gc.get_objects())

    before = values_alive()
    r.forward(X)
    r.backward()
    assert values_alive() == before
    # Its memory is the arrays: a few (batch, group) blocks of floats, no Values.
    assert r.value(out).shape == (5000,)


def test_a_long_chain_replays_without_recursion() -> None:
    x = Value(0.0, "x")
    v = x
    for _ in range(5000):
        v = v * 1.0001 + 0.5
    r = Replay([v], [x], input_grads=True)
    r.forward(np.array([[0.0], [1.0]]))
    r.backward()
    assert math.isclose(r.grad(x)[0], 1.0001**5000, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda r, x, w: r.forward(np.zeros((3, 2))), ValueError, r"shape \(batch >= 1, 1\)"),
        (lambda r, x, w: r.forward(np.zeros((0, 1))), ValueError, "batch >= 1"),
        (lambda r, x, w: r.value(Value(1.0)), ValueError, "not a node of the replayed graph"),
        (lambda r, x, w: r.grad(w), RuntimeError, "call backward"),
    ],
)
def test_bad_calls_say_what_is_wrong(call: Any, error: type, message: str) -> None:
    x, w = Value(0.0, "x"), Value(1.0, "w")
    r = Replay([x * w], [x], [w])
    r.forward(np.ones((2, 1)))
    with pytest.raises(error, match=message):
        call(r, x, w)


def test_marking_errors_are_refused_when_built() -> None:
    x, w = Value(0.0, "x"), Value(1.0, "w")
    y = x * w
    with pytest.raises(ValueError, match="must be leaves"):
        Replay([y], [y], [w])
    with pytest.raises(ValueError, match="marked twice, in inputs and in params"):
        Replay([y], [x], [x, w])
    with pytest.raises(TypeError, match="must be Values, got float"):
        Replay([y], [x], [1.0])  # type: ignore[list-item]
    with pytest.raises(RuntimeError, match="call forward"):
        Replay([y], [x], [w]).backward()
    m = Value(0.0, "m")
    z = x + m
    with pytest.raises(ValueError, match="and a derived leaf it uses depend on each other"):
        Replay([z], [x], derived={m: Derived(np.negative, (z,))})


def test_a_derived_leaf_can_refuse_a_batch() -> None:
    x = Value(0.0, "x")
    flag = Value(0.0, "flag")

    def refuse(a: Any) -> Any:
        if (a < 0).any():
            raise NotReplayable("a negative sample takes another branch")
        return a

    r = Replay([x + flag], [x], derived={flag: Derived(refuse, (x,))})
    r.forward(np.array([[1.0]]))
    with pytest.raises(NotReplayable, match="another branch"):
        r.forward(np.array([[1.0], [-1.0]]))
