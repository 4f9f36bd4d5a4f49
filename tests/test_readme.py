"""The README's examples run as written, in order, and print what the README says they print.

Every ```python block runs top to bottom in one namespace, in a temporary working directory, as
a reader pasting them into one session would. A block can be left out only by starting it with
the visible line `# not run by the tests: <reason>`; the test report shows it as skipped, with
the reason.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import os
import pathlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import GradcheckError, defop, gradcheck, unregister

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
PYTHON = re.findall(r"```python\n(.*?)```", README, re.S)
TEXT = re.findall(r"```text\n(.*?)```", README, re.S)
PROSE = " ".join(README.split())  # line breaks fall anywhere in a paragraph
SKIP = re.compile(r"# not run by the tests: (\S.*)")
TOUR, PROPERTIES, NN, NN_OPTIONS, REPLAY, VIZ = range(6)  # the blocks, in README order


@dataclass
class Session:
    """What running the README's blocks in order left behind."""

    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "readme"})
    printed: list[str] = field(default_factory=list)
    errors: list[BaseException | None] = field(default_factory=list)
    checks: dict[str, int] = field(default_factory=dict)  # test_* function -> checks it made
    cwd: pathlib.Path = pathlib.Path()  # where the blocks ran


def skip_reason(block: str) -> str | None:
    match = SKIP.match(block)
    return match.group(1) if match else None


@contextlib.contextmanager
def reversible_nnfs_init() -> Iterator[None]:
    """Undo, afterwards, the process-wide numpy patches of the nn block's `nnfs.init()`."""
    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    originals = [getattr(mod, name) for mod, name in patched]
    try:
        yield
    finally:
        for (mod, name), fn in zip(patched, originals):
            setattr(mod, name, fn)


def run_its_tests(session: Session, before: set[str]) -> None:
    """Call each test_* function the block defined, counting the checks it makes, as pytest would."""
    calls = 0

    def counted(check: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return check(*args, **kwargs)

        return wrapper

    ns = session.namespace
    new = [name for name in ns if name.startswith("test_") and name not in before]
    for name in ("gradcheck", "assert_gradients_match"):  # looked up in ns at call time
        if name in ns:
            ns[name] = counted(ns[name])
    for name in new:
        calls = 0
        ns[name]()
        session.checks[name] = calls


def run_readme(cwd: pathlib.Path) -> Session:
    session = Session(cwd=cwd)
    for block in PYTHON:
        out = io.StringIO()
        error = None
        if skip_reason(block) is None:
            before = set(session.namespace)
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(block, "README.md", "exec"), session.namespace)
                    run_its_tests(session, before)
            except Exception as e:  # reported by the block's own test, with its traceback
                error = e
        session.printed.append(out.getvalue())
        session.errors.append(error)
    return session


@pytest.fixture(scope="module")
def readme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    cwd = os.getcwd()
    where = tmp_path_factory.mktemp("readme")
    os.chdir(where)
    try:
        with reversible_nnfs_init():
            yield run_readme(where)
    finally:
        os.chdir(cwd)
        for name in re.findall(r'defop\(\s*"(\w+)"', README):  # norm3
            if name in ag.OPS:
                unregister(name)


def test_the_readme_has_the_blocks_these_tests_name() -> None:
    assert len(PYTHON) >= 5
    assert "ag.explain" in PYTHON[TOUR] and "def test_by_hand" in PYTHON[PROPERTIES]
    assert "fit(model" in PYTHON[NN] and "validation_data=" in PYTHON[NN_OPTIONS]
    assert "nn.sample_graph" in PYTHON[REPLAY]
    assert "render(loss" in PYTHON[VIZ]


@pytest.mark.parametrize("index", range(len(PYTHON)), ids=lambda i: f"block{i + 1}")
def test_every_python_block_runs_in_order_in_one_namespace(readme: Session, index: int) -> None:
    reason = skip_reason(PYTHON[index])
    if reason is not None:
        pytest.skip(f"README python block {index + 1}: {reason}")
    if readme.errors[index] is not None:
        raise readme.errors[index]


def test_the_engine_tour_prints_the_seed_gradients_and_the_explanation(readme: Session) -> None:
    first, rest = readme.printed[TOUR].split("\n", 1)
    assert first == "[12.0, -24.0, 36.0] 12.0"
    assert rest.strip() == TEXT[0].strip()


def test_the_property_testing_example_runs_its_three_tests(readme: Session) -> None:
    # Each test ran and checked something; the two @given tests over many drawn examples.
    checks = readme.checks
    assert sorted(checks) == ["test_by_hand", "test_on_drawn_inputs", "test_on_random_graphs"]
    assert checks["test_by_hand"] == 1
    assert checks["test_on_drawn_inputs"] >= 50
    assert checks["test_on_random_graphs"] >= 50


def test_the_nn_example_trains_and_prints_the_books_first_line(readme: Session) -> None:
    losses = readme.namespace["history"]["loss"]
    assert len(losses) == 10
    assert losses[0] == pytest.approx(math.log(3), abs=1e-3)  # 0.01 N(0, 1) weights: uniform
    assert losses[-1] < losses[0]
    assert readme.printed[NN] == TEXT[1] == "epoch: 0, acc: 0.360, loss: 1.099, lr: 0.05\n"


def test_the_replay_example_trains_and_hands_one_sample_back(readme: Session) -> None:
    ns = readme.namespace
    assert len(ns["trained"]["loss"]) == 1_000 and ns["trained"]["accuracy"][-1] > 0.8
    one, X, y, net3 = ns["one"], ns["X"], ns["y"], ns["net3"]
    # Sample 0's graph is the scalar path's on that sample alone: the same loss.
    alone = ns["cross_entropy"](net3(X[:1]), y[:1])
    assert one.data == pytest.approx(alone.data, rel=1e-12)
    lines = readme.printed[REPLAY].splitlines()
    assert re.fullmatch(r"1,000 epochs in [\d.]+ s: accuracy 0\.\d\d", lines[0]), lines
    assert re.fullmatch(r"sample 0: loss [\d.]+, a graph of [\d,]+ nodes", lines[1]), lines


def test_the_nn_options_example_stops_early_and_predicts(readme: Session) -> None:
    ns = readme.namespace
    log, net, X2 = ns["log"], ns["net"], ns["X2"]
    epochs = len(log["loss"])
    assert sorted(log) == [
        "accuracy", "data_loss", "loss", "lr", "reg_loss", "val_accuracy", "val_loss"
    ]  # fmt: skip
    # the callback stopped training at the first epoch whose validation loss was below 0.1
    assert 1 < epochs < 100 and log["val_loss"][-1] < 0.1 <= min(log["val_loss"][:-1])
    # the schedule set each step's rate, 0.05 * 0.99**step: 40 samples make 4 batches per epoch,
    # and epoch e starts with the rate of step 4e - 1
    assert log["lr"][1:] == [0.05 * 0.99 ** (4 * e - 1) for e in range(1, epochs)]
    printed = readme.printed[NN_OPTIONS].splitlines()
    assert printed[0] == (
        f"stopped after {epochs} epochs: validation loss {log['val_loss'][-1]:.3f}"
    )
    p = net.predict(X2[[0, -1]])
    assert p.dtype == np.float64 and p.shape == (2, 1) and p[0, 0] < 0.5 < p[1, 0]
    assert net.training  # predict left the model in training mode, where fit leaves it


def test_the_viz_example_renders(readme: Session) -> None:
    assert readme.errors[VIZ] is None
    out = readme.cwd / "out"
    assert (out / "neuron.svg").read_text().count("grad 12") >= 1
    assert (out / "neuron.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "backward.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "w0.grad += 12 × 1 = 12" in page


def test_gradcheck_defaults_are_the_ones_the_readme_names() -> None:
    parameters = inspect.signature(gradcheck).parameters
    defaults = {name: parameters[name].default for name in ("eps", "atol", "rtol")}
    assert defaults == {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    assert "(eps 1e-6, atol 1e-5, rtol 1e-3, PyTorch's defaults)" in PROSE


def test_gradcheck_defaults_let_through_what_the_readme_says() -> None:
    # The README: "an exp' that is off by 1e-4 relative passes" and "for
    # f = 1e-6·x², a derivative of 0 passes at x = 1".
    assert "an exp' that is off by 1e-4 relative passes." in PROSE
    assert "for f = 1e-6·x², a derivative of 0 passes at x = 1" in PROSE
    exp_off = defop("exp_slightly_off", math.exp, lambda out, a: out * (1 + 1e-4))
    flat = defop("tiny_square_flat", lambda a: 1e-6 * a * a, lambda out, a: 0.0)
    exp_far_off = defop("exp_far_off", math.exp, lambda out, a: out * (1 + 1e-2))
    try:
        assert all(gradcheck(exp_off, [x]) for x in (-5.0, -1.0, 0.0, 1.0, 5.0))
        assert gradcheck(flat, [1.0])
        # rtol and atol are the whole margin: a larger error, or tighter ones, catch both.
        with pytest.raises(GradcheckError):
            gradcheck(exp_far_off, [1.0])
        with pytest.raises(GradcheckError):
            gradcheck(exp_off, [1.0], rtol=1e-5)
        with pytest.raises(GradcheckError):
            gradcheck(flat, [1.0], atol=1e-7)
    finally:
        for op in ("exp_slightly_off", "tiny_square_flat", "exp_far_off"):
            unregister(op)


# ---- the benchmark section's prose quotes its own tables ----


def _bench_cells() -> dict[str, list[str]]:
    """Each row of the Benchmarks section's two tables, by its first cell, until the replay table."""
    section = README.split("## Benchmarks", 1)[1].split("### Replay", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


def test_the_benchmark_prose_quotes_the_numbers_of_the_run_it_shows() -> None:
    # A number in prose is either produced by code or taken from the table it sits under: when
    # the table is replaced by a new run, a sentence left with the old run's numbers fails here.
    rows = _bench_cells()
    ratio = {name: cells[4] for name, cells in rows.items() if len(cells) > 6}
    w1_10k, w1_100k = "W1 chain 10,000 steps: total", "W1 chain 100,000 steps: total"
    assert f"1/4 of micrograd's time: {ratio[w1_10k]} at 10,000 steps and {ratio[w1_100k]}" in PROSE
    per_node = [rows[f"W1 per op node, {d} steps ({2 * int(d.replace(',', '')):,} op nodes), "
                     "forward + backward, CPU time"][5] for d in ("1,000", "10,000", "100,000")]  # fmt: skip
    assert (
        f"{per_node[0]} at 1,000 steps, {per_node[1]} at 10,000 and {per_node[2]} at 100,000"
        in PROSE
    )
    product = rows["M1 bytes per op node, 100,000 products a * b of two leaves"]
    chain = ratio["M1 bytes per op node, W1 chain of 10,000 steps: graph"]
    assert (
        f"{product[4]} on a product of two leaves ({product[0]} against {product[1]}), {chain}"
        in PROSE
    )
    # W3's targets are judged per step of a loop of steps; the step alone is shown beside them.
    from benchmarks.fresh import LOOP_STEPS

    w3, loop = "W3 MLP step, 100 points", f"{LOOP_STEPS} steps in a loop, per step"
    alone = "the step alone, after an untimed gc.collect() (no target)"
    raw, nn_row = ratio[f"{w3}, raw Values, ag.dot: {loop}"], ratio[f"{w3}, nn: {loop}"]
    raw_alone, nn_alone = (ratio[f"{w3}, {how}: {alone}"] for how in ("raw Values, ag.dot", "nn"))
    products = ratio[f"{w3}, raw Values, products + ag.sum: {loop} (no target)"]
    assert f"per step of a training loop: {raw} with raw Values and {nn_row} with `nn`" in PROSE
    assert f"compares at {raw_alone} and {nn_alone} (no target)" in PROSE
    assert f"it sits at {products} in the run above, against {raw} with `dot`" in PROSE
    spread = {}  # "897 ms (809–1,083)" as "809–1,083 ms (median 897)"
    for measure in (loop, alone):
        for engine, column in (("micrograd", 1), ("chainrule", 0)):
            cell = rows[f"{w3}, raw Values, ag.dot: {measure}"][column]
            median, low_high = cell.removesuffix(")").split(" ms (")
            spread[engine, measure] = (median, low_high)
    assert (
        f"micrograd's rounds took {spread['micrograd', loop][1]} ms (median "
        f"{spread['micrograd', loop][0]}) per step of the loop against chainrule's "
        f"{spread['chainrule', loop][1]} ms" in PROSE
    )
    assert (
        f"the step alone took {spread['micrograd', alone][1]} ms against "
        f"{spread['chainrule', alone][1]} ms" in PROSE
    )
    micrograd = rows["micrograd"]  # the phase table: ..., total, of which gc, loop, of which gc
    assert (
        f"micrograd spends {micrograd[7]} of its {micrograd[6]} ms per step of the loop in the "
        f"collector, and {micrograd[5]} of its {micrograd[4]} ms step alone" in PROSE
    )
    replay = rows[f"{w3}, nn replay: {loop}"]
    assert (
        f"W3's step with `nn` replayed takes {replay[0].split(' (')[0]} per step of the loop "
        f"against micrograd's {replay[1].split(' (')[0]}: {replay[4]}" in PROSE
    )


def test_the_w3_node_counts_in_the_readme_are_the_workloads() -> None:
    from benchmarks import workloads

    d = workloads.w3_data(100)
    counts = []
    for products in (True, False):
        loss = workloads.w3_raw_loss(workloads.w3_raw_layers(d), d, products=products)
        counts.append(sum(not v.is_leaf for v in ag.topological_order(loss)))
    assert counts == [37_102, 6_702]
    assert "W3's graph shrinks from 37,100 op nodes to 6,700" in PROSE
