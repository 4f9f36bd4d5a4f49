"""examples/spiral_fit.py runs as its docstring says, and prints the numbers it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "spiral_fit.py"


def test_spiral_fit_trains_prints_its_graph_size_and_saves(tmp_path: Path) -> None:
    saved = tmp_path / "spiral.npz"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "5", "--save", str(saved)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,  # the script finds the packages from its own path
    )
    size = re.search(r"one step's graph: ([\d,]+) nodes; (\d+) ms per step", run.stdout)
    assert size is not None, run.stdout
    assert int(size.group(1).replace(",", "")) > 300 * 3  # at least a node per point and class
    result = re.search(
        r"after 5 steps: loss ([\d.]+), accuracy ([\d.]+) \(first step: loss ([\d.]+)", run.stdout
    )
    assert result is not None, run.stdout
    assert float(result.group(1)) < float(result.group(3))  # five Adam steps go downhill
    with np.load(saved, allow_pickle=False) as archive:
        assert sorted(archive.files) == [
            "0.biases",
            "0.weights",
            "2.biases",
            "2.weights",
            "4.biases",
            "4.weights",
        ]
