"""Every notebook in notebooks/ runs top to bottom in a fresh Jupyter kernel; any error fails.

The notebooks assert their own numbers in their cells (the seed's printouts, the engine against
numpy's outer product, gradcheck catching a wrong derivative, the spiral model learning), so an
error in any cell is a failed check. The kernel is the project's: the spec "python3" of the
interpreter running these tests (jupyter_client starts it with this very interpreter), and a
probe cell confirms it. CHAINRULE_FAST=1 asks the spiral notebook for its short training run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_single_neuron.ipynb",
    "02_dense_layer.ipynb",
    "03_spiral_classifier.ipynb",
    "04_property_testing.ipynb",
    "05_check_your_derivation.ipynb",
]
# A hung cell fails the test instead of stalling the suite; no cell comes near this.
CELL_TIMEOUT = 300
PROBE = "import sys\nprint(sys.prefix)"


def test_the_expected_notebooks_are_there() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} was committed with outputs"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    monkeypatch.setenv("CHAINRULE_FAST", "1")  # the kernel inherits the environment
    # Hypothesis (notebook 04) caches under its storage directory; keep notebooks/ clean.
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / "hypothesis"))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(new_code_cell(PROBE))  # last, so that error messages keep cell numbers
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # the kernel's working directory
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    seconds = time.perf_counter() - start

    probe_output = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(probe_output).resolve() == Path(sys.prefix).resolve(), (
        f"the kernel ran the interpreter of {probe_output}, the tests that of {sys.prefix}"
    )
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    record_property("seconds", round(seconds, 2))  # into --junitxml reports
    with capsys.disabled():
        print(f"\n{name} ran in {seconds:.1f} s", end="")
