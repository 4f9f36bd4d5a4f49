"""Draw docs/replay.png: what replay runs for the book's chapter 10 network and its loss.

python scripts/replay_picture.py [PATH]    # default docs/replay (PNG)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nn  # noqa: E402
from nn.replay import program  # noqa: E402
from viz import draw_replay  # noqa: E402


def main(path: str = "docs/replay") -> str:
    """Record the spiral network (2-64-3, softmax cross-entropy) and draw its replay for 300 points."""
    model = nn.Sequential(
        [
            nn.Dense(2, 64, rng=0, name="dense1"),
            nn.ReLU(name="relu1"),
            nn.Dense(64, 3, rng=1, name="dense2"),
        ],
        name="model",
    )
    loss = nn.SoftmaxCrossEntropy(name="loss")
    recorded = program(model, loss, 2)
    recorded.run(np.zeros((300, 2)), np.zeros(300, dtype=int))
    return draw_replay(recorded.replay).render(path, format="png", cleanup=True)


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
