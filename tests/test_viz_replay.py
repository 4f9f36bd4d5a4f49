"""viz.draw_replay: one box per group of a replay, with its module, op, how it runs and its shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.replay import program
from viz import draw_replay


def test_a_replay_is_drawn_one_box_per_group_with_the_arrays_shapes() -> None:
    model = nn.Sequential([nn.Dense(2, 4, rng=0, name="d1"), nn.ReLU(name="r1")], name="m")
    recorded = program(model, nn.MSE(name="mse"), 2)
    recorded.run(np.zeros((7, 2)), np.zeros((7, 4)))
    source = draw_replay(recorded.replay).source
    for text in (
        "per sample: 2 x, 4 y",  # the inputs: features, then the loss's targets
        "12 shared",  # W (2, 4) and b (4,)
        "<B>d1</B>",
        "4 dot nodes",
        "one matrix product x @ W + b",
        "(7, 4)",
        "<B>r1</B>",
        "4 relu nodes",
        "<B>mse</B>",
    ):
        assert text in source, text
    # A box per group, and one each for the inputs and the parameters (no constants are read).
    assert source.count("shape=box") == len(recorded.replay.groups) + 2
    # Before any forward the shapes say "batch".
    assert "(batch, 4)" in draw_replay(program(model, None, 2).replay).source
    with pytest.raises(TypeError, match=r"draw_replay\(\) needs an autograd.replay.Replay"):
        draw_replay(model)  # type: ignore[arg-type]


def test_the_readme_picture_is_drawn_by_its_script(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "replay_picture.py"
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "replay")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(out) == tmp_path / "replay.png"
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
