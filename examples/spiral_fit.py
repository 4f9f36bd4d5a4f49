"""Train a small MLP on nnfs's spiral data with `nn.fit`, watching loss and accuracy in a tqdm bar.

    python examples/spiral_fit.py                    # 2-8-8-3, 100 full-batch Adam steps
    python examples/spiral_fit.py --hidden 64 --layers 1 --epochs 300 --save out/spiral.npz
    python examples/spiral_fit.py --engine scalar    # every step builds the batch's graph

`fit` replays by default: it records the graph of one sample once and runs it over the whole
batch as numpy arrays. With `--engine scalar` every step builds the graph of the whole batch,
scalar by scalar, which is slower by orders of magnitude and gives the same numbers. At the end
it prints the size of one step's graph, the time per step, and the loss and accuracy before and
after.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

# Run from anywhere: the repository root holds the packages.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd as ag  # noqa: E402
import nn  # noqa: E402


def build(hidden: int, layers: int, classes: int, rng: np.random.Generator) -> nn.Sequential:
    """Dense + ReLU `layers` times, then Dense + Softmax; He-initialised weights."""
    sizes = [2] + [hidden] * layers + [classes]
    modules: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        dense = nn.Dense(n_in, n_out, rng)
        # He initialisation, std sqrt(2 / n_in): the book's 0.01 * N(0, 1) start works too, but
        # in a network this small it learns much more slowly.
        dense.load(rng.standard_normal((n_in, n_out)) * math.sqrt(2 / n_in), np.zeros(n_out))
        modules += [dense, nn.ReLU() if k < len(sizes) - 2 else nn.Softmax()]
    return nn.Sequential(modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, help="points per class")
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=8, help="neurons per hidden layer")
    parser.add_argument("--layers", type=int, default=2, help="hidden layers")
    parser.add_argument("--epochs", type=int, default=100, help="full-batch steps")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam learning rate")
    parser.add_argument("--decay", type=float, default=5e-7, help="learning-rate decay")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="write the trained parameters (.npz)")
    parser.add_argument(
        "--engine", choices=nn.replay.ENGINES, default="auto", help="how fit runs (see nn.replay)"
    )
    args = parser.parse_args()

    from nnfs.datasets import spiral_data

    np.random.seed(args.seed)  # spiral_data draws from numpy's global generator
    X, y = spiral_data(samples=args.samples, classes=args.classes)
    model = build(args.hidden, args.layers, args.classes, np.random.default_rng(args.seed))
    optimizer = nn.Adam(model.parameters(), lr=args.lr, decay=args.decay)
    loss_fn = nn.CategoricalCrossEntropy()
    start = time.perf_counter()
    history = nn.fit(
        model, loss_fn, optimizer, X, y, args.epochs, desc="spiral", engine=args.engine
    )
    seconds = time.perf_counter() - start

    out = model(X)
    loss = loss_fn(out, y)
    nodes = len(ag.topological_order(loss))
    per_step = 1000 * seconds / max(args.epochs, 1)
    print(f"one step's graph: {nodes:,} nodes; {per_step:.0f} ms per step ({args.engine} engine)")
    print(
        f"after {args.epochs} steps: loss {loss.data:.4f}, "
        f"accuracy {nn.accuracy(out, y):.3f} (first step: loss {history['loss'][0]:.4f}, "
        f"accuracy {history['accuracy'][0]:.3f})"
    )
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        nn.save(model, args.save)
        print(f"saved the parameters to {args.save}")


if __name__ == "__main__":
    main()
