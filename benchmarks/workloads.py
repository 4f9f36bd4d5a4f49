"""The benchmark workloads: one function per engine and workload, all computing the same numbers.

Each workload takes a `Clock` and wraps its timed phases in `with clock("forward"): ...`.
Setup (leaves, models, data) happens outside the phases and is not timed. The graph is freed
after the function returns, also untimed, for every engine alike (micrograd's by the collector,
the others' by reference counting).

The engines:
- chainrule: this project, used as a user would (`ag.dot` for a neuron, `nn` for W3-nn and W4).
- micrograd 0.1.0: used as its README does (Python `sum` of products, `nn.MLP`).
- torch: PyTorch with every number a 0-d float64 tensor; an n-ary sum is `torch.stack(xs).sum()`.
- floor: the same arithmetic on Python floats with a hand-written backward: the cost of the
  numbers alone, with no graph.

tests/test_benchmarks.py runs these functions at tiny sizes and checks that every engine agrees
with the floor, so the code that is timed is the code that is tested.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

import autograd as ag
import nn
from autograd import Value
from benchmarks.harness import Clock
from nn import reference as R


def _optional(module: str) -> tuple[Any, str | None]:
    """(the module, None), or (None, why it could not be imported)."""
    try:
        return importlib.import_module(module), None
    except Exception as e:  # an engine being written can fail with more than ImportError
        return None, f"{type(e).__name__}: {e}"


mg_engine, MICROGRAD_ERROR = _optional("micrograd.engine")
mg_nn, _ = _optional("micrograd.nn")
torch, TORCH_ERROR = _optional("torch")


# ---------------------------------------------------------------------------------------------
# W1: a chain x <- x * 1.0000001 + 0.5, two op nodes per step. Returns (x_n, dx_n/dx_0).
# ---------------------------------------------------------------------------------------------

W1_MUL, W1_ADD, W1_X0 = 1.0000001, 0.5, 1.0


def w1_chainrule(steps: int, clock: Clock) -> tuple[float, float]:
    """x_{k+1} = x_k * 1.0000001 + 0.5 as chainrule Values, then backward."""
    x0 = Value(W1_X0)
    with clock("forward"):
        x = x0
        for _ in range(steps):
            x = x * W1_MUL + W1_ADD
    with clock("backward"):
        x.backward()
    return x.data, x0.grad


def w1_micrograd(steps: int, clock: Clock) -> tuple[float, float]:
    """The W1 chain in micrograd; deeper than ~1,000 it needs `harness.in_big_stack`."""
    x0 = mg_engine.Value(W1_X0)
    with clock("forward"):
        x = x0
        for _ in range(steps):
            x = x * W1_MUL + W1_ADD
    with clock("backward"):
        x.backward()
    return x.data, x0.grad


def w1_torch(steps: int, clock: Clock) -> tuple[float, float]:
    """The W1 chain on a 0-d float64 tensor."""
    x0 = torch.tensor(W1_X0, dtype=torch.float64, requires_grad=True)
    with clock("forward"):
        x = x0
        for _ in range(steps):
            x = x * W1_MUL + W1_ADD
    with clock("backward"):
        x.backward()
    return x.item(), x0.grad.item()


def w1_floor(steps: int, clock: Clock) -> tuple[float, float]:
    """The W1 chain on floats; backward multiplies the local derivatives d(add) = 1, d(mul) = c."""
    with clock("forward"):
        x = W1_X0
        for _ in range(steps):
            x = x * W1_MUL + W1_ADD
    with clock("backward"):
        g = 1.0
        for _ in range(steps):
            g = g * W1_MUL
    return x, g


# ---------------------------------------------------------------------------------------------
# M1: products a * b of two leaves, the measure of a node's own bytes. Returns the leaf pairs.
# ---------------------------------------------------------------------------------------------


def m1_pairs_chainrule(n: int) -> list[tuple[Value, Value]]:
    """n pairs of chainrule leaves, for `harness.bytes_per_product`."""
    return [(Value(float(i)), Value(i + 0.5)) for i in range(n)]


def m1_pairs_micrograd(n: int) -> list[tuple[Any, Any]]:
    """n pairs of micrograd leaves, for `harness.bytes_per_product`."""
    return [(mg_engine.Value(float(i)), mg_engine.Value(i + 0.5)) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# W2: s = sum_i x_i * y_i over n pairs of leaves. Returns (s, ds/dx_i for all i, ds/dy_i).
# ---------------------------------------------------------------------------------------------

W2Result = tuple[float, list[float], list[float]]


def w2_data(n: int, seed: int = 2) -> tuple[list[float], list[float]]:
    """n pairs of numbers drawn uniformly from [-1, 1)."""
    rng = np.random.default_rng(seed)
    xs: list[float] = rng.uniform(-1.0, 1.0, n).tolist()
    ys: list[float] = rng.uniform(-1.0, 1.0, n).tolist()
    return xs, ys


def w2_chainrule(xs: list[float], ys: list[float], clock: Clock) -> W2Result:
    """One n-ary `ag.sum` node over n `mul` nodes."""
    a = [Value(x) for x in xs]
    b = [Value(y) for y in ys]
    with clock("forward"):
        s = ag.sum([x * y for x, y in zip(a, b)])
    with clock("backward"):
        s.backward()
    return s.data, [v.grad for v in a], [v.grad for v in b]


def w2_micrograd(xs: list[float], ys: list[float], clock: Clock) -> W2Result:
    """Python's `sum` over micrograd products: a chain of n `+` nodes (needs the big stack)."""
    a = [mg_engine.Value(x) for x in xs]
    b = [mg_engine.Value(y) for y in ys]
    with clock("forward"):
        s = sum(x * y for x, y in zip(a, b))
    with clock("backward"):
        s.backward()
    return s.data, [v.grad for v in a], [v.grad for v in b]


def w2_torch(xs: list[float], ys: list[float], clock: Clock) -> W2Result:
    """`torch.stack(products).sum()` over 0-d tensors: n `mul` nodes, one stack and one sum."""
    a = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    b = [torch.tensor(y, dtype=torch.float64, requires_grad=True) for y in ys]
    with clock("forward"):
        s = torch.stack([x * y for x, y in zip(a, b)]).sum()
    with clock("backward"):
        s.backward()
    return s.item(), [v.grad.item() for v in a], [v.grad.item() for v in b]


def w2_floor(xs: list[float], ys: list[float], clock: Clock) -> W2Result:
    """The products and their sum on floats; ds/dx_i = y_i and ds/dy_i = x_i."""
    with clock("forward"):
        s = sum([x * y for x, y in zip(xs, ys)])
    with clock("backward"):
        g = 1.0
        gx = [g * y for y in ys]
        gy = [g * x for x in xs]
    return s, gx, gy


# ---------------------------------------------------------------------------------------------
# Shared by W3 and W4: weights as plain nested lists, W[i][j] connecting input i to neuron j.
# ---------------------------------------------------------------------------------------------

Layer = tuple[list[list[float]], list[float]]  # (W (n_in, n_out), b (n_out,))


@dataclass
class StepResult:
    """What one training step (or one forward and backward) leaves behind, in canonical order.

    Parameters are listed layer by layer: W row-major (input i, then neuron j), then b.
    """

    loss: float
    grads: list[float]
    params: list[float]  # after the update (W4 has none, so they are unchanged)


def _columns(W: list[list[float]]) -> list[list[float]]:
    """W[i][j] regrouped by neuron: columns[j][i]."""
    return [list(col) for col in zip(*W)]


def _canonical(layers: list[tuple[list[list[Any]], list[Any]]]) -> list[Any]:
    """Parameters (stored by neuron as columns[j][i]) in canonical order: W row-major, then b."""
    out: list[Any] = []
    for columns, biases in layers:
        out.extend(w for row in zip(*columns) for w in row)
        out.extend(biases)
    return out


def _nn_parameters(model: Any, n_params: int) -> list[Any]:
    """`model.parameters()`: nn lists each Dense's W row-major, then b (the smoke test checks it)."""
    params = list(model.parameters())
    if len(params) != n_params:
        raise ValueError(f"nn model has {len(params)} parameters, expected {n_params}")
    return params


# ---------------------------------------------------------------------------------------------
# W3: one SGD step of an MLP 2-16-16-1 (ReLU, last layer linear) with mean squared error.
# ---------------------------------------------------------------------------------------------

W3_SIZES = (2, 16, 16, 1)


@dataclass
class W3Data:
    """The points, their targets, the starting weights and the learning rate, shared by all engines."""

    X: list[list[float]]
    y: list[float]
    layers: list[Layer]
    lr: float = 0.05


def w3_data(n_points: int, seed: int = 3) -> W3Data:
    """n points in [-1, 1)^2 with XOR-like targets sign(x0 * x1); weights U(-1, 1), biases U(-0.1, 0.1)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_points, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0.0, 1.0, -1.0)
    layers: list[Layer] = []
    for n_in, n_out in zip(W3_SIZES, W3_SIZES[1:]):
        W = rng.uniform(-1.0, 1.0, (n_in, n_out)).tolist()
        b = rng.uniform(-0.1, 0.1, n_out).tolist()
        layers.append((W, b))
    return W3Data(X.tolist(), y.tolist(), layers)


RawLayer = tuple[list[list[Value]], list[Value]]  # (columns[j][i], biases[j]) as Values


def w3_raw_loss(layers: list[RawLayer], d: W3Data, products: bool = False) -> Value:
    """W3's mean squared error on raw Values, each neuron `ag.dot(w, x, b)`: one node.

    With `products`, each neuron is written out as micrograd's README does, a product node per
    weight and one `ag.sum` of them and the bias: the same numbers from n + 1 times the nodes.
    """
    last = len(layers) - 1

    def model(x: list[Any]) -> Value:
        for k, (columns, biases) in enumerate(layers):
            if products:
                z = [
                    ag.sum([*[w * xi for w, xi in zip(col, x)], b])
                    for col, b in zip(columns, biases)
                ]
            else:
                z = [ag.dot(col, x, b) for col, b in zip(columns, biases)]
            x = z if k == last else [v.relu() for v in z]
        return x[0]

    return ag.sum([(model(x) - t).square() for x, t in zip(d.X, d.y)]) / len(d.X)


def w3_raw_layers(d: W3Data) -> list[RawLayer]:
    """The starting weights as leaves, grouped by neuron."""
    return [
        ([[Value(w) for w in col] for col in _columns(W)], [Value(bj) for bj in b])
        for W, b in d.layers
    ]


def w3_chainrule_raw(d: W3Data, products: bool = False) -> Callable[[Clock], StepResult]:
    """The step written with raw Values (see `w3_raw_loss`)."""
    layers = w3_raw_layers(d)
    params = _canonical(layers)

    def step(clock: Clock) -> StepResult:
        with clock("forward"):
            loss = w3_raw_loss(layers, d, products)
        with clock("zero_grad"):
            for p in params:
                p.grad = 0.0
        with clock("backward"):
            loss.backward()
        with clock("update"):
            for p in params:
                p.data -= d.lr * p.grad
        return StepResult(loss.data, [p.grad for p in params], [p.data for p in params])

    return step


def _w3_nn(d: W3Data) -> tuple[Any, np.ndarray, np.ndarray, Any, list[Any], Any]:
    """W3 in nn from the shared weights: (model, X, Y, MSE, parameters in canonical order, SGD)."""
    denses = [nn.Dense(n_in, n_out) for n_in, n_out in zip(W3_SIZES, W3_SIZES[1:])]
    for layer, (W, b) in zip(denses, d.layers):
        layer.load(np.array(W), np.array(b))
    model = nn.Sequential([denses[0], nn.ReLU(), denses[1], nn.ReLU(), denses[2]])
    params = _nn_parameters(model, len(_canonical(d.layers)))
    X, Y = np.array(d.X), np.array(d.y).reshape(-1, 1)
    return model, X, Y, nn.MSE(), params, nn.SGD(params, lr=d.lr)


def w3_chainrule_nn(d: W3Data) -> Callable[[Clock], StepResult]:
    """The step written with `nn`: Sequential of Dense and ReLU, MSE, and SGD."""
    model, X, Y, loss_fn, params, optimizer = _w3_nn(d)

    def step(clock: Clock) -> StepResult:
        with clock("forward"):
            loss = loss_fn(model(X), Y)
        with clock("zero_grad"):
            model.zero_grad()
        with clock("backward"):
            loss.backward()
        with clock("update"):
            optimizer.step()
        return StepResult(loss.data, [p.grad for p in params], [p.data for p in params])

    return step


def w3_chainrule_replay(d: W3Data) -> Callable[[Clock], StepResult]:
    """The same nn step, replayed: one sample's graph run over the batch as arrays."""
    model, X, Y, loss_fn, params, optimizer = _w3_nn(d)

    def step(clock: Clock) -> StepResult:
        with clock("step"):
            loss, _ = nn.train_step(model, loss_fn, optimizer, X, Y, engine="replay")
        return StepResult(loss, [p.grad for p in params], [p.data for p in params])

    return step


def w3_micrograd(d: W3Data) -> Callable[[Clock], StepResult]:
    """micrograd's own `nn.MLP(2, [16, 16, 1])`, loaded with the shared weights."""
    model = mg_nn.MLP(W3_SIZES[0], list(W3_SIZES[1:]))
    for layer, (W, b) in zip(model.layers, d.layers):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = W[i][j]
            neuron.b.data = b[j]
    params = _canonical(
        [([n.w for n in ly.neurons], [n.b for n in ly.neurons]) for ly in model.layers]
    )
    n = len(d.X)

    def step(clock: Clock) -> StepResult:
        with clock("forward"):
            loss = sum((model(x) - t) ** 2 for x, t in zip(d.X, d.y)) / n
        with clock("zero_grad"):
            model.zero_grad()
        with clock("backward"):
            loss.backward()
        with clock("update"):
            for p in model.parameters():
                p.data -= d.lr * p.grad
        return StepResult(loss.data, [p.grad for p in params], [p.data for p in params])

    return step


def _tensor(x: float) -> Any:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def w3_torch(d: W3Data) -> Callable[[Clock], StepResult]:
    """The step on 0-d float64 tensors, each neuron `torch.stack(products).sum() + b`."""
    layers = [
        ([[_tensor(w) for w in col] for col in _columns(W)], [_tensor(bj) for bj in b])
        for W, b in d.layers
    ]
    params = _canonical(layers)
    last = len(layers) - 1
    n = len(d.X)

    def model(x: list[Any]) -> Any:
        for k, (columns, biases) in enumerate(layers):
            z = [
                torch.stack([w * xi for w, xi in zip(col, x)]).sum() + b
                for col, b in zip(columns, biases)
            ]
            x = z if k == last else [torch.relu(v) for v in z]
        return x[0]

    def step(clock: Clock) -> StepResult:
        with clock("forward"):
            loss = torch.stack([(model(x) - t) ** 2 for x, t in zip(d.X, d.y)]).sum() / n
        with clock("zero_grad"):
            for p in params:
                p.grad = None
        with clock("backward"):
            loss.backward()
        with clock("update"), torch.no_grad():
            for p in params:
                p -= d.lr * p.grad
        return StepResult(loss.item(), [p.grad.item() for p in params], [p.item() for p in params])

    return step


def w3_floor(d: W3Data) -> Callable[[Clock], StepResult]:
    """The step on floats: forward keeps each sample's activations, backward is written by hand."""
    layers = [(_columns(W), list(b)) for W, b in d.layers]
    last = len(layers) - 1
    n = len(d.X)

    def step(clock: Clock) -> StepResult:
        with clock("forward"):
            total = 0.0
            tape = []  # per sample: the input of every layer, every pre-activation, p - y
            for x, t in zip(d.X, d.y):
                inputs, zs = [], []
                a = x
                for k, (columns, biases) in enumerate(layers):
                    z = [
                        sum([w * ai for w, ai in zip(col, a)]) + b
                        for col, b in zip(columns, biases)
                    ]
                    inputs.append(a)
                    zs.append(z)
                    a = z if k == last else [v if v > 0.0 else 0.0 for v in z]
                diff = a[0] - t
                total += diff * diff
                tape.append((inputs, zs, diff))
            loss = total / n
        with clock("zero_grad"):
            grads = [([[0.0] * len(col) for col in cols], [0.0] * len(bs)) for cols, bs in layers]
        with clock("backward"):
            for inputs, zs, diff in tape:
                g = [2.0 * diff / n]  # dL/dz of the output layer
                for k in range(last, -1, -1):
                    columns, _ = layers[k]
                    g_columns, g_biases = grads[k]
                    a = inputs[k]
                    for j, gj in enumerate(g):
                        g_biases[j] += gj  # dz_j/db_j = 1
                        g_col = g_columns[j]
                        for i, ai in enumerate(a):
                            g_col[i] += ai * gj  # dz_j/dw_ij = a_i
                    if k > 0:
                        # dL/da_i = sum_j w_ij dL/dz_j, then through the ReLU of layer k - 1
                        g = [
                            sum([col[i] * gj for col, gj in zip(columns, g)]) if z > 0.0 else 0.0
                            for i, z in enumerate(zs[k - 1])
                        ]
        with clock("update"):
            for (columns, biases), (g_columns, g_biases) in zip(layers, grads):
                for col, g_col in zip(columns, g_columns):
                    for i, gi in enumerate(g_col):
                        col[i] -= d.lr * gi
                for j, gj in enumerate(g_biases):
                    biases[j] -= d.lr * gj
        return StepResult(loss, _canonical(grads), _canonical(layers))

    return step


W3Step = Callable[[W3Data], Callable[[Clock], StepResult]]

# Every W3 contender by the name its process is started with (see benchmarks/fresh.py).
W3_STEPS: dict[str, W3Step] = {
    "chainrule": w3_chainrule_raw,
    "chainrule products": partial(w3_chainrule_raw, products=True),
    "chainrule nn": w3_chainrule_nn,
    "chainrule replay": w3_chainrule_replay,
    "micrograd": w3_micrograd,
    "torch": w3_torch,
    "floor": w3_floor,
}


# ---------------------------------------------------------------------------------------------
# W4: the nnfs spiral network, Dense 2-64, ReLU, Dense 64-3, softmax, cross-entropy.
# One forward and backward from fresh gradients (no update).
# ---------------------------------------------------------------------------------------------

W4_SIZES = (2, 64, 3)
W4_CLIP = 1e-7  # the book clips probabilities to [1e-7, 1 - 1e-7] before the log


@dataclass
class W4Data:
    """The spiral points, their classes and the starting weights, shared by all engines."""

    X: list[list[float]]
    y: list[int]
    layers: list[Layer]


def w4_data(samples: int, classes: int = 3, seed: int = 4) -> W4Data:
    """nnfs `spiral_data(samples, classes)` drawn under a fixed seed; weights 0.01 * N(0, 1), b = 0 as in the book."""
    from nnfs.datasets import spiral_data

    # spiral_data draws from numpy's global generator: seed it, and leave it as we found it.
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        X, y = spiral_data(samples=samples, classes=classes)
    finally:
        np.random.set_state(state)
    rng = np.random.default_rng(seed)
    sizes = (W4_SIZES[0], W4_SIZES[1], classes)
    layers: list[Layer] = [
        ((0.01 * rng.standard_normal((n_in, n_out))).tolist(), [0.0] * n_out)
        for n_in, n_out in zip(sizes, sizes[1:])
    ]
    return W4Data(np.asarray(X, dtype=np.float64).tolist(), [int(c) for c in y], layers)


def w4_chainrule_nn(d: W4Data) -> Callable[[Clock], StepResult]:
    """The network from `nn`: Sequential([Dense, ReLU, Dense, Softmax]) and CategoricalCrossEntropy."""
    model, params = _spiral_nn(d, softmax=True)
    loss_fn = nn.CategoricalCrossEntropy()
    X = np.array(d.X)
    y = np.array(d.y)

    def run(clock: Clock) -> StepResult:
        model.zero_grad()  # untimed: each run starts from fresh leaf gradients
        with clock("forward"):
            loss = loss_fn(model(X), y)
        with clock("backward"):
            loss.backward()
        return StepResult(loss.data, [p.grad for p in params], [p.data for p in params])

    return run


def w4_torch(d: W4Data) -> Callable[[Clock], StepResult]:
    """The same network on 0-d float64 tensors, with the same max-shifted softmax and clip."""
    layers = [
        ([[_tensor(w) for w in col] for col in _columns(W)], [_tensor(bj) for bj in b])
        for W, b in d.layers
    ]
    params = _canonical(layers)
    (cols1, bs1), (cols2, bs2) = layers
    n = len(d.X)

    def run(clock: Clock) -> StepResult:
        for p in params:
            p.grad = None
        with clock("forward"):
            losses = []
            for x, c in zip(d.X, d.y):
                h = [
                    torch.relu(torch.stack([w * xi for w, xi in zip(col, x)]).sum() + b)
                    for col, b in zip(cols1, bs1)
                ]
                z = [
                    torch.stack([w * hi for w, hi in zip(col, h)]).sum() + b
                    for col, b in zip(cols2, bs2)
                ]
                m = max(v.item() for v in z)
                exps = [(v - m).exp() for v in z]
                p = exps[c] / torch.stack(exps).sum()
                losses.append(-torch.clamp(p, W4_CLIP, 1.0 - W4_CLIP).log())
            loss = torch.stack(losses).sum() / n
        with clock("backward"):
            loss.backward()
        return StepResult(loss.item(), [p.grad.item() for p in params], [p.item() for p in params])

    return run


def w4_floor(d: W4Data) -> Callable[[Clock], StepResult]:
    """The network on floats; backward uses dL/dz_k = (p_k - [k = y]) / n for softmax with cross-entropy."""
    (W1, b1), (W2, b2) = d.layers
    cols1, cols2 = _columns(W1), _columns(W2)
    n = len(d.X)

    def run(clock: Clock) -> StepResult:
        with clock("forward"):
            total = 0.0
            tape = []
            for x, c in zip(d.X, d.y):
                z1 = [sum([w * xi for w, xi in zip(col, x)]) + b for col, b in zip(cols1, b1)]
                h = [v if v > 0.0 else 0.0 for v in z1]
                z2 = [sum([w * hi for w, hi in zip(col, h)]) + b for col, b in zip(cols2, b2)]
                m = max(z2)
                exps = [math.exp(v - m) for v in z2]
                s = sum(exps)
                probs = [e / s for e in exps]
                total -= math.log(min(max(probs[c], W4_CLIP), 1.0 - W4_CLIP))
                tape.append((x, z1, h, probs, c))
            loss = total / n
        with clock("backward"):
            g_cols1 = [[0.0] * len(col) for col in cols1]
            g_cols2 = [[0.0] * len(col) for col in cols2]
            g_b1, g_b2 = [0.0] * len(b1), [0.0] * len(b2)
            for x, z1, h, probs, c in tape:
                g2 = [(p - (1.0 if k == c else 0.0)) / n for k, p in enumerate(probs)]
                for k, gk in enumerate(g2):
                    g_b2[k] += gk
                    g_col = g_cols2[k]
                    for i, hi in enumerate(h):
                        g_col[i] += hi * gk
                g1 = [
                    sum([col[i] * gk for col, gk in zip(cols2, g2)]) if z > 0.0 else 0.0
                    for i, z in enumerate(z1)
                ]
                for j, gj in enumerate(g1):
                    g_b1[j] += gj
                    g_col = g_cols1[j]
                    for i, xi in enumerate(x):
                        g_col[i] += xi * gj
        grads = _canonical([(g_cols1, g_b1), (g_cols2, g_b2)])
        return StepResult(loss, grads, _canonical([(cols1, b1), (cols2, b2)]))

    return run


def w4_numpy(d: W4Data) -> Callable[[Clock], StepResult]:
    """The book's vectorised numpy forward and backward (a floor for array code, not for scalars)."""
    X = np.array(d.X)
    y = np.array(d.y)
    (W1, b1), (W2, b2) = ((np.array(W), np.array(b)) for W, b in d.layers)
    n = len(X)

    def run(clock: Clock) -> StepResult:
        with clock("forward"):
            z1 = X @ W1 + b1
            h = np.maximum(0.0, z1)
            z2 = h @ W2 + b2
            exps = np.exp(z2 - z2.max(axis=1, keepdims=True))
            probs = exps / exps.sum(axis=1, keepdims=True)
            loss = float(-np.log(np.clip(probs[np.arange(n), y], W4_CLIP, 1.0 - W4_CLIP)).mean())
        with clock("backward"):
            dz2 = probs.copy()
            dz2[np.arange(n), y] -= 1.0
            dz2 /= n
            dW2, db2 = h.T @ dz2, dz2.sum(axis=0)
            dz1 = (dz2 @ W2.T) * (z1 > 0.0)
            dW1, db1 = X.T @ dz1, dz1.sum(axis=0)
        grads = [*dW1.ravel(), *db1, *dW2.ravel(), *db2]
        params = [*W1.ravel(), *b1, *W2.ravel(), *b2]
        return StepResult(loss, [float(g) for g in grads], [float(p) for p in params])

    return run


# ---------------------------------------------------------------------------------------------
# Replay against the book's numpy code: the spiral network of W4 (2-64-3, ReLU) trained with
# softmax cross-entropy and Adam, by nn with replay, nn on its scalar path, and the book's own
# float64 layers (nn.reference). Returns what one step leaves (loss, gradients, new parameters).
# ---------------------------------------------------------------------------------------------

SPIRAL_ADAM = {"learning_rate": 0.05, "decay": 5e-7}  # the book's chapter 10 setting


def _spiral_nn(d: W4Data, softmax: bool = False) -> tuple[Any, list[Any]]:
    """The W4 network in nn from the shared weights (logits out, or probabilities with softmax)."""
    (W1, b1), (W2, b2) = d.layers
    dense1, dense2 = nn.Dense(len(W1), len(b1)), nn.Dense(len(W2), len(b2))
    dense1.load(np.array(W1), np.array(b1))
    dense2.load(np.array(W2), np.array(b2))
    layers = [dense1, nn.ReLU(), dense2, *([nn.Softmax()] if softmax else [])]
    model = nn.Sequential(layers)
    return model, _nn_parameters(model, len(_canonical(d.layers)))


def spiral_step_nn(d: W4Data, engine: str) -> Callable[[Clock], StepResult]:
    """One training step with nn.train_step: Dense, ReLU, Dense, SoftmaxCrossEntropy, Adam."""
    model, params = _spiral_nn(d)
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = nn.Adam(params, **SPIRAL_ADAM)
    X, y = np.array(d.X), np.array(d.y)

    def step(clock: Clock) -> StepResult:
        with clock("step"):
            loss, _ = nn.train_step(model, loss_fn, optimizer, X, y, engine=engine)
        return StepResult(loss, [p.grad for p in params], [p.data for p in params])

    return step


def _book_layers(d: W4Data) -> tuple[Any, Any]:
    """The book's two Layer_Dense (nn.reference, float64) holding the shared weights."""
    layers = []
    for W, b in d.layers:
        layer = R.Layer_Dense(len(W), len(b), rng=0)  # a Generator: the global one stays as it is
        layer.weights, layer.biases = np.array(W), np.array(b).reshape(1, -1)
        layers.append(layer)
    return layers[0], layers[1]


def _book_epoch(
    dense1: Any, relu: Any, dense2: Any, loss_activation: Any, optimizer: Any, X: Any, y: Any
) -> Any:
    """One epoch of the book's chapter 10 loop: forward, backward, one Adam update; the loss."""
    dense1.forward(X)
    relu.forward(dense1.output)
    dense2.forward(relu.output)
    loss = loss_activation.forward(dense2.output, y)
    loss_activation.backward(loss_activation.output, y)
    dense2.backward(loss_activation.dinputs)
    relu.backward(dense2.dinputs)
    dense1.backward(relu.dinputs)
    optimizer.pre_update_params()
    optimizer.update_params(dense1)
    optimizer.update_params(dense2)
    optimizer.post_update_params()
    return loss


def spiral_step_book(d: W4Data) -> Callable[[Clock], StepResult]:
    """The book's chapter 10 step over nn.reference: forward, loss, backward, Adam's update."""
    dense1, dense2 = _book_layers(d)
    relu, loss_activation = R.Activation_ReLU(), R.Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = R.Optimizer_Adam(**SPIRAL_ADAM)
    X, y = np.array(d.X), np.array(d.y)

    def step(clock: Clock) -> StepResult:
        with clock("step"):
            loss = _book_epoch(dense1, relu, dense2, loss_activation, optimizer, X, y)
        grads = [*dense1.dweights.ravel(), *dense1.dbiases.ravel()]
        grads += [*dense2.dweights.ravel(), *dense2.dbiases.ravel()]
        params = [*dense1.weights.ravel(), *dense1.biases.ravel()]
        params += [*dense2.weights.ravel(), *dense2.biases.ravel()]
        return StepResult(float(loss), [float(g) for g in grads], [float(p) for p in params])

    return step


def spiral_run_nn(d: W4Data, epochs: int) -> Callable[[Clock], tuple[float, float]]:
    """The chapter 10 Adam run end to end with nn.fit (replay): (last loss, last accuracy)."""

    def run(clock: Clock) -> tuple[float, float]:
        model, params = _spiral_nn(d)  # untimed: the same starting weights every repeat
        optimizer = nn.Adam(params, **SPIRAL_ADAM)
        X, y = np.array(d.X), np.array(d.y)
        with clock("run"):
            history = nn.fit(
                model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs, progress=False
            )
        return history["loss"][-1], history["accuracy"][-1]

    return run


def spiral_run_book(d: W4Data, epochs: int) -> Callable[[Clock], tuple[float, float]]:
    """The book's chapter 10 loop over nn.reference for `epochs` epochs: (last loss, accuracy)."""

    def run(clock: Clock) -> tuple[float, float]:
        dense1, dense2 = _book_layers(d)
        relu, loss_activation = (
            R.Activation_ReLU(),
            R.Activation_Softmax_Loss_CategoricalCrossentropy(),
        )
        optimizer = R.Optimizer_Adam(**SPIRAL_ADAM)
        X, y = np.array(d.X), np.array(d.y)
        with clock("run"):
            for _ in range(epochs):
                loss = _book_epoch(dense1, relu, dense2, loss_activation, optimizer, X, y)
                # backward and the update leave the softmax's output as the forward made it
                accuracy = np.mean(np.argmax(loss_activation.output, axis=1) == y)
        return float(loss), float(accuracy)

    return run


def grid(side: int) -> np.ndarray:
    """side x side points on [-1.2, 1.2]^2, the decision-boundary plot's grid, as rows (x, y)."""
    xx, yy = np.meshgrid(np.linspace(-1.2, 1.2, side), np.linspace(-1.2, 1.2, side))
    return np.column_stack([xx.ravel(), yy.ravel()])


def grid_predict_nn(d: W4Data, points: np.ndarray) -> Callable[[Clock], np.ndarray]:
    """Class probabilities for every grid point with nn's Module.predict (replay)."""
    model, _ = _spiral_nn(d, softmax=True)

    def run(clock: Clock) -> np.ndarray:
        with clock("predict"):
            return model.predict(points)  # type: ignore[no-any-return]

    return run


def grid_predict_book(d: W4Data, points: np.ndarray) -> Callable[[Clock], np.ndarray]:
    """The same probabilities from the book's numpy forward (nn.reference, float64)."""
    dense1, dense2 = _book_layers(d)
    relu, softmax = R.Activation_ReLU(), R.Activation_Softmax()

    def run(clock: Clock) -> np.ndarray:
        with clock("predict"):
            dense1.forward(points)
            relu.forward(dense1.output)
            dense2.forward(relu.output)
            softmax.forward(dense2.output)
        return softmax.output  # type: ignore[no-any-return]

    return run
