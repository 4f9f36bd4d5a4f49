"""`make demo`: the seed notebook's neuron and layer, computed by the engine and drawn as graphs.

Writes out/neuron.svg, out/neuron.png, out/layer.svg and out/layer.png, and the step-through
pages out/backward.html (the neuron) and out/backward-layer.html, then prints where they are
next to the seed's hand-derived numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import autograd as ag
from autograd import Value
from viz import render, step_through

OUT = Path(__file__).resolve().parent / "out"
SEED_INPUTS = [1.0, -2.0, 3.0]  # the seed's cell 3 neuron sees these inputs

# The seed's cell 3 printed these after 200 steps (its np.dot returned float32, see README).
SEED_WEIGHTS = [-3.3990955, -0.20180899, 0.80271349]
SEED_BIAS = 0.6009044964517248
SEED_FIRST_LOSS = 36.0
SEED_FINAL_LOSS = 0.00019563773612380077


def neuron(
    weights: Sequence[Value], bias: Value, inputs: Sequence[float | Value]
) -> tuple[Value, Value, Value, list[Value]]:
    """The seed's neuron: loss = relu(w0 x0 + w1 x1 + w2 x2 + b)^2, with every node labelled."""
    products = [w * x for w, x in zip(weights, inputs)]
    for i, p in enumerate(products):
        p.label = f"w{i}*x{i}"
    z = ag.sum([*products, bias])
    z.label = "z"
    a = z.relu()
    a.label = "relu(z)"
    loss = a.square()
    loss.label = "loss"
    return loss, a, z, products


def seed_parameters() -> tuple[list[Value], Value]:
    """Fresh leaves for the seed's starting weights w = (-3, -1, 2) and bias b = 1."""
    return [Value(w, f"w{i}") for i, w in enumerate([-3.0, -1.0, 2.0])], Value(1.0, "b")


def train_seed_neuron(
    steps: int = 200, lr: float = 0.001
) -> tuple[list[Value], Value, list[float]]:
    """Train the seed's neuron with gradient descent, p <- p - lr * dloss/dp, and return the losses."""
    weights, bias = seed_parameters()
    losses = []
    for _ in range(steps):
        loss, *_ = neuron(weights, bias, SEED_INPUTS)
        losses.append(loss.data)
        for p in (*weights, bias):
            p.grad = 0.0
        loss.backward()
        for p in (*weights, bias):
            p.data -= lr * p.grad
    return weights, bias, losses


def layer(
    W: Sequence[Sequence[Value]], B: Sequence[Value], X: Sequence[Value]
) -> tuple[Value, list[Value], list[Value], Value]:
    """The seed's layer (cells 6 and 9): Z = W.X + B, A = relu(Z), y = sum(A), loss = y^2.

    Each neuron's nodes are made inside `autograd.scope`, so the drawing frames them.
    """
    Z, A = [], []
    with ag.scope("layer"):
        for i, (w_i, b_i) in enumerate(zip(W, B), start=1):
            with ag.scope(f"neuron {i}"):
                products = [w * x for w, x in zip(w_i, X)]
                for p, w, x in zip(products, w_i, X):
                    p.label = f"{w.label}*{x.label}"
                z = ag.sum([*products, b_i])
                z.label = f"z{i}"
                a = z.relu()
                a.label = f"a{i}"
            Z.append(z)
            A.append(a)
    y = ag.sum(A)
    y.label = "y"
    loss = y.square()
    loss.label = "loss"
    return loss, Z, A, y


def seed_layer() -> tuple[Value, list[list[Value]], list[Value], list[Value]]:
    """The seed's layer with its numbers, after one forward and one backward pass."""
    x = [1.0, 2.0, 3.0, 4.0]
    w = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2]]
    b = [0.1, 0.2, 0.3]
    # Labels follow the seed's notation: w_in is neuron i's weight for input n, from 1.
    X = [Value(v, f"x{n}") for n, v in enumerate(x, start=1)]
    W = [[Value(v, f"w{i}{n}") for n, v in enumerate(row, start=1)] for i, row in enumerate(w, 1)]
    B = [Value(v, f"b{i}") for i, v in enumerate(b, start=1)]
    loss, *_ = layer(W, B, X)
    loss.backward()
    return loss, W, B, X


def draw_seed_examples(out: Path = OUT) -> list[Path]:
    """Render the seed's neuron (w0's chain highlighted) and layer (x2's three paths)."""
    weights, bias = seed_parameters()
    inputs = [Value(x, f"x{i}") for i, x in enumerate(SEED_INPUTS)]
    loss, *_ = neuron(weights, bias, inputs)
    loss.backward()
    files = render(loss, out / "neuron", highlight=weights[0])
    loss, _, _, X = seed_layer()
    # Six significant digits show the seed's 466.56 and 77.76 exactly.
    files += render(loss, out / "layer", highlight=X[1], fmt="{:.6g}")
    return files


def save_step_through(out: Path = OUT) -> list[Path]:
    """The seed's neuron and layer as pages that step through backward one node at a time."""
    weights, bias = seed_parameters()
    inputs = [Value(x, f"x{i}") for i, x in enumerate(SEED_INPUTS)]
    loss, *_ = neuron(weights, bias, inputs)
    loss.backward()
    pages = [step_through(loss).save(out / "backward.html")]
    loss, *_ = seed_layer()
    pages.append(step_through(loss, fmt="{:.6g}").save(out / "backward-layer.html"))
    return pages


def main() -> None:
    weights, bias = seed_parameters()
    loss, *_ = neuron(weights, bias, SEED_INPUTS)
    loss.backward()
    print("The seed's neuron, one backward pass (the seed derives 12, -24, 36 and 12 by hand):")
    for p in (*weights, bias):
        print(f"  d loss / d {p.label:<2} = {p.grad:g}")

    loss, W, B, X = seed_layer()
    print(f"\nThe seed's layer, one forward and backward pass (the seed prints loss {466.56}):")
    print(f"  loss = {loss.data:.10g}")
    print("  d loss / d W =")
    for row in W:
        print("    " + "  ".join(f"{w.grad:8.4g}" for w in row))
    print("  d loss / d B = " + "  ".join(f"{b.grad:.4g}" for b in B))
    print("  d loss / d X = " + "  ".join(f"{x.grad:.4g}" for x in X))

    weights, bias, losses = train_seed_neuron()
    print("\nAfter 200 steps of gradient descent (lr = 0.001):")
    print(f"  {'':14}{'engine (float64)':>24}{'seed (printed)':>24}")
    for i, (w, s) in enumerate(zip(weights, SEED_WEIGHTS)):
        print(f"  {'w' + str(i):14}{w.data:>24.10f}{s:>24.8f}")
    print(f"  {'b':14}{bias.data:>24.16f}{SEED_BIAS:>24.16f}")
    print(f"  {'first loss':14}{losses[0]:>24.16g}{SEED_FIRST_LOSS:>24.16g}")
    print(f"  {'final loss':14}{losses[-1]:>24.16g}{SEED_FINAL_LOSS:>24.16g}")
    print(
        f"\nThe bias differs from the seed's by {abs(bias.data / SEED_BIAS - 1):.1e} relative: the seed"
        "\nran after nnfs.init(), which makes np.dot return float32. In float64, with w.x added"
        f"\nleft to right as the engine adds it, the bias is {bias.data!r} on every machine."
    )

    files = draw_seed_examples()
    print("\nDrawings of the two graphs after backward() (open them in a browser or viewer):")
    for f in files:
        print(f"  {f}")
    print(
        "  neuron: the purple path is the seed's chain for w0: 2*6 x 1 x 1 x 1 = 12."
        "\n  layer:  the purple paths are the three ways x2 reaches the loss, one per neuron."
    )
    print("\nBackward, one node at a time (open in a browser; arrow keys step):")
    for page in save_step_through():
        print(f"  {page}")


if __name__ == "__main__":
    main()
