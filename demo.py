"""`make demo`: the seed notebook's single ReLU neuron, trained by the engine instead of by hand."""

from __future__ import annotations

import autograd as ag
from autograd import Value

# The seed's cell 3 printed these after 200 steps (its np.dot returned float32, see README).
SEED_WEIGHTS = [-3.3990955, -0.20180899, 0.80271349]
SEED_BIAS = 0.6009044964517248
SEED_FIRST_LOSSES = [36.0, 33.872397424621624, 31.87054345809546]


def neuron(
    weights: list[Value], bias: Value, inputs: list[float]
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


def train_seed_neuron(
    steps: int = 200, lr: float = 0.001
) -> tuple[list[Value], Value, list[float]]:
    """Train the seed's neuron with gradient descent, p <- p - lr * dloss/dp, and return the losses."""
    weights = [Value(w, f"w{i}") for i, w in enumerate([-3.0, -1.0, 2.0])]
    bias = Value(1.0, "b")
    inputs = [1.0, -2.0, 3.0]
    losses = []
    for _ in range(steps):
        loss, *_ = neuron(weights, bias, inputs)
        losses.append(loss.data)
        for p in (*weights, bias):
            p.grad = 0.0
        loss.backward()
        for p in (*weights, bias):
            p.data -= lr * p.grad
    return weights, bias, losses


def main() -> None:
    weights = [Value(w, f"w{i}") for i, w in enumerate([-3.0, -1.0, 2.0])]
    bias = Value(1.0, "b")
    loss, *_ = neuron(weights, bias, [1.0, -2.0, 3.0])
    loss.backward()
    print("The seed's neuron, one backward pass (the seed derives 12, -24, 36 and 12 by hand):")
    for p in (*weights, bias):
        print(f"  d loss / d {p.label:<2} = {p.grad:g}")

    weights, bias, losses = train_seed_neuron()
    print("\nAfter 200 steps of gradient descent (lr = 0.001):")
    print(f"  {'':14}{'engine (float64)':>24}{'seed (printed)':>24}")
    for i, (w, s) in enumerate(zip(weights, SEED_WEIGHTS)):
        print(f"  {'w' + str(i):14}{w.data:>24.10f}{s:>24.8f}")
    print(f"  {'b':14}{bias.data:>24.16f}{SEED_BIAS:>24.16f}")
    print(f"  {'first loss':14}{losses[0]:>24.16g}{SEED_FIRST_LOSSES[0]:>24.16g}")
    print(f"  {'final loss':14}{losses[-1]:>24.16g}{0.00019563773612380077:>24.16g}")
    print(
        "\nThe bias differs from the seed's in the 11th digit: the seed ran after nnfs.init(),"
        "\nwhich makes np.dot return float32; in float64 the bias is 0.6009044964039991."
    )


if __name__ == "__main__":
    main()
