"""The examples run as their docstrings say, and print the numbers they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """examples/<script> with `args`, from `cwd`: the script finds the packages from its own path."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )


def test_spiral_fit_trains_prints_its_graph_size_and_saves(tmp_path: Path) -> None:
    saved = tmp_path / "spiral.npz"
    run = _run("spiral_fit.py", tmp_path, "--epochs", "5", "--save", str(saved))
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


def test_digits_trains_on_mini_batches_and_draws_one_images_graph(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="examples/digits.py needs scikit-learn ('.[examples]')")
    text = _run("digits.py", tmp_path, "--epochs", "3", "--out", str(tmp_path / "sample")).stdout
    assert "digits: 1,438 training and 359 validation images of 64 pixels" in text
    # The book's line and the validation line, printed by fit for epoch 0.
    assert re.search(r"^epoch: 0, acc: [\d.]+, loss: [\d.]+, lr: 0.005$", text, re.M), text
    assert re.search(r"^validation, acc: [\d.]+, loss: [\d.]+$", text, re.M), text
    steps = re.search(r"3 epochs, ([\d,]+) mini-batch steps", text)
    assert steps is not None and int(steps.group(1)) == 3 * 23  # 1,438 images in batches of 64
    accuracy = re.search(r"validation accuracy ([\d.]+) \(after the first epoch ([\d.]+)\)", text)
    assert accuracy is not None, text
    assert float(accuracy.group(1)) > 0.85  # chance is 0.1
    graph = re.search(
        r"validation image 0: a (\d), predicted (\d); its loss [\d.]+ is a graph of ([\d,]+) nodes",
        text,
    )
    assert graph is not None, text
    # 64 pixels + 4,096 + 64 + 640 + 10 parameters and 64 + 64 + 10 dots and relus, and the loss's
    assert int(graph.group(3).replace(",", "")) > 64 + 4096 + 64 + 640 + 10 + 138
    assert "the sum over 2 paths" in text  # explain: through the log-sum-exp and the picked logit
    assert (tmp_path / "sample.png").stat().st_size > 10_000
