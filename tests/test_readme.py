"""The README's examples run as written and print what the README says they print."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

import autograd as ag

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
PYTHON = re.findall(r"```python\n(.*?)```", README, re.S)
TEXT = re.findall(r"```text\n(.*?)```", README, re.S)


def run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_the_engine_tour_prints_the_seed_gradients_and_the_explanation() -> None:
    printed = run(PYTHON[0])
    first, rest = printed.split("\n", 1)
    assert first == "[12.0, -24.0, 36.0] 12.0"
    assert rest.strip() == TEXT[0].strip()


def test_the_property_testing_example_passes_and_catches_nothing_wrong() -> None:
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        exec(compile(PYTHON[1], "README.md", "exec"), namespace)
        for name, fn in namespace.items():
            if name.startswith("test_") and callable(fn):
                fn()
    finally:
        ag.unregister("hypot")


def test_the_nn_example_trains(nnfs_init: None) -> None:
    code = PYTHON[2].replace("X, y, 10)", "X, y, 2, progress=False)")
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)
    losses = namespace["history"]["loss"]  # type: ignore[index]
    assert len(losses) == 2 and losses[0] == pytest.approx(1.0986, abs=1e-3)


def test_the_viz_example_renders(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run(PYTHON[0] + "\n" + PYTHON[3])
    assert (tmp_path / "out" / "neuron.svg").read_text().count("grad 12") >= 1
    assert (tmp_path / "out" / "neuron.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
