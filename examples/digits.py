"""Train on a real dataset: scikit-learn's 8 x 8 handwritten digits, with mini-batches and replay.

    pip install -e '.[examples]'          # scikit-learn, which ships the digits offline
    python examples/digits.py             # 64-64-10, 20 epochs of mini-batches of 64
    python examples/digits.py --epochs 3 --out out/digits_sample

1,797 images of 8 x 8 pixels (0..16), ten classes. A fifth of them, drawn at random, is held
out for validation. The network is Dense(64, 64), ReLU, Dense(64, 10), trained with the book's
softmax cross-entropy and Adam on shuffled mini-batches. `fit` replays: it records the graph of
one image once and runs it over each batch as numpy arrays, so an epoch takes milliseconds,
where building every image's graph of Values would take seconds.

Then one validation image comes back as its own scalar graph (`nn.sample_graph`): the graph
that replay ran for it, as ordinary Values. The script draws it with each layer folded into
one box (`draw_graph(..., collapse="layer")`), and `explain`s the gradient of its loss with
respect to one weight, path by path.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# Run from anywhere: the repository root holds the packages.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd as ag  # noqa: E402
import nn  # noqa: E402


def load(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits scaled to [0, 1], split into training and validation (a fifth) at random."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("examples/digits.py needs scikit-learn: pip install -e '.[examples]'")
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = len(X) // 5
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.005, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default="out/digits_sample", help="where to draw one image's graph (.png)"
    )
    args = parser.parse_args()

    X, y, X_val, y_val = load(args.seed)
    print(
        f"digits: {len(X):,} training and {len(X_val):,} validation images of {X.shape[1]} pixels"
    )
    model = nn.Sequential(
        [
            nn.Dense(64, 64, init="he", rng=args.seed, name="hidden"),
            nn.ReLU(name="relu"),
            nn.Dense(64, 10, init="glorot", rng=args.seed + 1, name="output"),
        ],
        name="digits",
    )
    loss_fn = nn.SoftmaxCrossEntropy(name="loss")
    optimizer = nn.Adam(model.parameters(), learning_rate=args.lr)
    start = time.perf_counter()
    history = nn.fit(
        model,
        loss_fn,
        optimizer,
        X,
        y,
        args.epochs,
        batch_size=args.batch_size,
        rng=args.seed,
        validation_data=(X_val, y_val),
        print_every=max(1, args.epochs // 4),
    )
    seconds = time.perf_counter() - start
    steps = args.epochs * -(-len(X) // args.batch_size)
    print(
        f"{args.epochs} epochs, {steps:,} mini-batch steps in {seconds:.2f} s "
        f"({1000 * seconds / steps:.2f} ms per step)"
    )
    print(
        f"validation accuracy {history['val_accuracy'][-1]:.3f} "
        f"(after the first epoch {history['val_accuracy'][0]:.3f})"
    )

    # One validation image, as its scalar graph: the graph that replay ran for it.
    i = 0
    root = nn.sample_graph(model, loss_fn, X_val, y_val, i=i)
    nodes = ag.topological_order(root)
    probs = model.predict(X_val[i : i + 1])[0]
    print(
        f"validation image {i}: a {y_val[i]}, predicted {int(np.argmax(probs))}; its loss "
        f"{root.data:.4f} is a graph of {len(nodes):,} nodes"
    )
    model.zero_grad()  # the parameters' grads from training: this graph's alone from here
    root.backward()
    # The weight from the hidden unit that fires most for this image to its true class.
    W, b = model[0].numpy()
    unit = int(np.argmax(X_val[i] @ W + b))
    weight = model[2].weights[unit][int(y_val[i])]
    print(ag.explain(root, weight))
    from viz import draw_graph

    drawing = draw_graph(root, collapse="layer", rankdir="TB")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = drawing.render(str(path), format="png", cleanup=True)
    print(f"drew the graph, one box per layer: {written}")


if __name__ == "__main__":
    main()
