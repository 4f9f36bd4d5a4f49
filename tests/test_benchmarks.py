"""The benchmark can never silently rot: at tiny sizes, every engine's workload computes the floor's numbers.

Nothing here is timed. The harness's own logic (ratios, targets, the big-stack thread, the
memory probe, the report) is checked on tiny runs and on hand-made numbers.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import autograd as ag
from benchmarks import fresh, harness, run
from benchmarks import report as rp
from benchmarks import workloads as wl
from benchmarks.harness import Clock
from benchmarks.workloads import StepResult

needs_micrograd = pytest.mark.skipif(wl.MICROGRAD_ERROR is not None, reason="micrograd missing")
needs_torch = pytest.mark.skipif(wl.TORCH_ERROR is not None, reason="torch missing")

TOL = 1e-9


def assert_close(a: float, b: float, what: str = "") -> None:
    assert math.isclose(a, b, rel_tol=TOL, abs_tol=TOL), f"{what}: {a!r} != {b!r}"


def assert_all_close(xs: list[float], ys: list[float], what: str) -> None:
    assert len(xs) == len(ys), f"{what}: {len(xs)} numbers != {len(ys)}"
    for i, (a, b) in enumerate(zip(xs, ys)):
        assert_close(a, b, f"{what}[{i}]")


def assert_same_step(got: StepResult, want: StepResult) -> None:
    assert_close(got.loss, want.loss, "loss")
    assert_all_close(got.grads, want.grads, "grads")
    assert_all_close(got.params, want.params, "params")


# ---- W1 ----------------------------------------------------------------------------------------


def test_w1_floor_matches_the_closed_form() -> None:
    # x_n = c^n x_0 + a (c^n - 1) / (c - 1) and dx_n/dx_0 = c^n, with c = 1.0000001, a = 0.5.
    n, c, a = 1_000, wl.W1_MUL, wl.W1_ADD
    x, g = wl.w1_floor(n, Clock())
    assert_close(x, c**n * wl.W1_X0 + a * (c**n - 1.0) / (c - 1.0), "x_n")
    assert_close(g, c**n, "dx_n/dx_0")


W1_ENGINES = [
    pytest.param(wl.w1_chainrule, id="chainrule"),
    pytest.param(wl.w1_micrograd, id="micrograd", marks=needs_micrograd),
    pytest.param(wl.w1_torch, id="torch", marks=needs_torch),
]


@pytest.mark.parametrize("w1", W1_ENGINES)
def test_w1_engines_match_the_floor(w1) -> None:
    x, g = w1(300, Clock())
    fx, fg = wl.w1_floor(300, Clock())
    assert_close(x, fx, "x_n")
    assert_close(g, fg, "x0.grad")


def test_the_clock_records_every_phase_and_probes_after_each() -> None:
    seen: list[str] = []
    clock = Clock(seen.append)
    wl.w1_chainrule(10, clock)
    assert seen == ["forward", "backward"]
    assert set(clock.times) == {"forward", "backward"}
    assert all(t >= 0.0 for t in clock.times.values()) and clock.cpu >= 0.0


# ---- W2 ----------------------------------------------------------------------------------------


def test_w2_floor_gradients_are_the_other_factor() -> None:
    xs, ys = wl.w2_data(40)
    s, gx, gy = wl.w2_floor(xs, ys, Clock())
    assert_close(s, math.fsum(x * y for x, y in zip(xs, ys)), "sum")
    assert gx == ys and gy == xs


W2_ENGINES = [
    pytest.param(wl.w2_chainrule, id="chainrule"),
    pytest.param(wl.w2_micrograd, id="micrograd", marks=needs_micrograd),
    pytest.param(wl.w2_torch, id="torch", marks=needs_torch),
]


@pytest.mark.parametrize("w2", W2_ENGINES)
def test_w2_engines_match_the_floor(w2) -> None:
    xs, ys = wl.w2_data(40)
    s, gx, gy = w2(xs, ys, Clock())
    fs, fgx, fgy = wl.w2_floor(xs, ys, Clock())
    assert_close(s, fs, "sum")
    assert_all_close(gx, fgx, "d sum/dx")
    assert_all_close(gy, fgy, "d sum/dy")


# ---- W3 ----------------------------------------------------------------------------------------


def test_w3_floor_update_is_sgd_and_loss_is_the_mean_square() -> None:
    d = wl.w3_data(6)
    before = wl._canonical([(wl._columns(W), b) for W, b in d.layers])
    result = wl.w3_floor(d)(Clock())
    assert_all_close(
        result.params, [p - d.lr * g for p, g in zip(before, result.grads)], "p - lr * grad"
    )
    # The loss from an independent forward written with numpy.
    import numpy as np

    a = np.array(d.X)
    for k, (W, b) in enumerate(d.layers):
        a = a @ np.array(W) + np.array(b)
        if k < len(d.layers) - 1:
            a = np.maximum(a, 0.0)
    assert_close(result.loss, float(np.mean((a[:, 0] - np.array(d.y)) ** 2)), "loss")
    assert any(g != 0.0 for g in result.grads[:32]), "the first layer should learn something"


W3_ENGINES = [
    pytest.param(wl.w3_chainrule_raw, id="chainrule-raw"),
    pytest.param(partial(wl.w3_chainrule_raw, products=True), id="chainrule-products"),
    pytest.param(wl.w3_chainrule_nn, id="chainrule-nn"),
    pytest.param(wl.w3_chainrule_replay, id="chainrule-replay"),
    pytest.param(wl.w3_micrograd, id="micrograd", marks=needs_micrograd),
    pytest.param(wl.w3_torch, id="torch", marks=needs_torch),
]


@pytest.mark.parametrize("w3", W3_ENGINES)
def test_w3_engines_match_the_floor_over_two_steps(w3) -> None:
    d = wl.w3_data(6)
    step, floor = w3(d), wl.w3_floor(d)
    for _ in range(2):  # the second step checks zero_grad and the update too
        assert_same_step(step(Clock()), floor(Clock()))


def test_w3_graph_sizes_are_the_ones_the_readme_states() -> None:
    # Per point: 2-16-16-1 is 33 neurons and 32 relus, then a sub and a square. As ag.dot, a
    # neuron is 1 node; as products and ag.sum, n_in + 1. Then one sum and one div for the mean.
    d = wl.w3_data(100)
    sizes = {}
    for products in (False, True):
        loss = wl.w3_raw_loss(wl.w3_raw_layers(d), d, products)
        sizes[products] = sum(1 for v in ag.topological_order(loss) if not v.is_leaf)
    assert sizes == {False: 67 * 100 + 2, True: (3 * 16 + 17 * 16 + 17 + 32 + 2) * 100 + 2}
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    shown = {products: f"{n // 100 * 100:,}" for products, n in sizes.items()}  # to hundreds
    assert f"W3's graph shrinks from {shown[True]} op nodes to {shown[False]}" in readme


# ---- W4 ----------------------------------------------------------------------------------------


W4_ENGINES = [
    pytest.param(wl.w4_chainrule_nn, id="chainrule-nn"),
    pytest.param(wl.w4_torch, id="torch", marks=needs_torch),
    pytest.param(wl.w4_numpy, id="numpy"),
]


@pytest.mark.parametrize("w4", W4_ENGINES)
def test_w4_engines_match_the_floor_twice(w4) -> None:
    d = wl.w4_data(4)
    run_it, floor = w4(d), wl.w4_floor(d)
    want = floor(Clock())
    # Weights of 0.01 * N(0, 1) leave every probability near 1/3, so the loss starts near log 3.
    assert abs(want.loss - math.log(3.0)) < 1e-3
    for _ in range(2):  # the second run must not accumulate into the first one's gradients
        assert_same_step(run_it(Clock()), want)


def test_w4_data_leaves_numpys_global_generator_alone() -> None:
    import numpy as np

    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    wl.w4_data(5)
    assert np.random.rand() == expected


# ---- replay against the book's numpy code ------------------------------------------------------


def test_a_spiral_step_by_replay_and_on_the_scalar_path_is_the_books_step() -> None:
    d = wl.w4_data(4)
    book = wl.spiral_step_book(d)
    replay, scalar = wl.spiral_step_nn(d, "replay"), wl.spiral_step_nn(d, "scalar")
    for k in range(2):  # Adam's second step uses the state the first one left
        want = book(Clock())
        assert k or abs(want.loss - math.log(3.0)) < 1e-3  # before any update: near-uniform
        assert_same_step(replay(Clock()), want)
        assert_same_step(scalar(Clock()), want)


def test_the_chapter_10_run_by_fit_ends_where_the_books_loop_ends() -> None:
    d = wl.w4_data(10)
    loss, acc = wl.spiral_run_nn(d, 12)(Clock())
    book_loss, book_acc = wl.spiral_run_book(d, 12)(Clock())
    assert_close(loss, book_loss, "loss at the last epoch")
    assert acc == book_acc


def test_predict_on_the_grid_is_the_books_forward() -> None:
    import numpy as np

    d, points = wl.w4_data(4), wl.grid(7)
    assert points.shape == (49, 2) and points.min() == -1.2 and points.max() == 1.2
    ours, book = wl.grid_predict_nn(d, points)(Clock()), wl.grid_predict_book(d, points)(Clock())
    np.testing.assert_allclose(ours, book, rtol=1e-12)  # matrix products: a few ulp either way
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, rtol=1e-15)


def test_the_peak_memory_probe_sees_numpys_arrays() -> None:
    import numpy as np

    mb = harness.peak_bytes(lambda: np.ones(1_000_000)) / 1e6
    assert 8.0 <= mb < 8.5


def test_replay_rows_judge_ratios_and_limits() -> None:
    def row(replay: float, numpy: float, ratio: float | None, limit: float | None) -> rp.ReplayRow:
        cells = {
            "replay": rp.Cell((replay,) * 3),
            "scalar": rp.Cell(note="not run"),
            "numpy": rp.Cell((numpy,) * 3),
        }
        return rp.ReplayRow("r", "s", cells, ratio, limit, "target")

    assert row(0.3, 0.1, 3.0, None).met() and not row(0.31, 0.1, 3.0, None).met()
    assert row(29.0, 4.0, None, 30.0).met() and not row(31.0, 4.0, None, 30.0).met()
    assert row(0.2, 0.1, None, 30.0).ratio("replay") == 2.0
    assert row(0.2, 0.1, None, 30.0).ratio("scalar") is None
    table = rp.replay_table(rp.Report(replay=[row(0.3, 0.1, 3.0, None), row(0.5, 0.1, 3.0, None)]))
    assert "| 3.0× |  | target: met |" in table and "target: **not met**" in table


# ---- the harness -------------------------------------------------------------------------------


@needs_micrograd
def test_micrograd_needs_the_big_stack_and_gets_its_answer_there() -> None:
    steps = 3_000  # 6,000 nodes deep: past the default recursion limit
    timing = harness.measure(lambda c: wl.w1_micrograd(steps, c), harness.Policy(1, warmup=False))
    assert timing.note == "fails (RecursionError)" and not timing.samples
    x, g = harness.in_big_stack(lambda: wl.w1_micrograd(steps, Clock()))
    fx, fg = wl.w1_floor(steps, Clock())
    assert_close(x, fx, "x_n")
    assert_close(g, fg, "x0.grad")


def test_in_big_stack_hands_back_errors_and_restores_the_limit() -> None:
    limit = __import__("sys").getrecursionlimit()
    with pytest.raises(ZeroDivisionError):
        harness.in_big_stack(lambda: 1 / 0)
    assert __import__("sys").getrecursionlimit() == limit


def test_measure_collects_each_phase_and_their_total() -> None:
    timing = harness.measure(lambda c: wl.w1_chainrule(20, c), harness.Policy(2, warmup=False))
    assert [len(timing.samples[p]) for p in ("forward", "backward", "total")] == [2, 2, 2]
    for f, b, t in zip(*(timing.samples[p] for p in ("forward", "backward", "total"))):
        assert_close(f + b, t, "total")
    assert len(timing.samples["gc"]) == 2


def test_engines_take_turns_and_a_failing_one_drops_out() -> None:
    calls: list[str] = []

    def engine(name: str) -> harness.Contender:
        def go(clock: Clock) -> None:
            calls.append(name)
            with clock("forward"):
                if name == "deep":
                    raise RecursionError("too deep")

        return harness.Contender(go)

    timings = harness.measure_together(
        {n: engine(n) for n in ("a", "deep", "b")}, harness.Policy(3, warmup=False)
    )
    assert calls == ["a", "deep", "b", "a", "b", "a", "b"]
    assert timings["deep"].note == "fails (RecursionError)" and not timings["deep"].samples
    assert len(timings["a"].samples["total"]) == len(timings["b"].samples["total"]) == 3


def test_fresh_processes_take_turns_reverse_every_other_round_and_pool_samples(
    tmp_path: Path,
) -> None:
    import sys

    log = tmp_path / "order"

    def command(name: str, seconds: float) -> list[str]:
        script = (
            "import json, sys\n"
            f"open({str(log)!r}, 'a').write({name!r} + ' ')\n"
            f"print('setup output first')\n"
            f"print(json.dumps({{'forward': [{seconds}], 'total': [{seconds}]}}))\n"
        )
        return [sys.executable, "-c", script]

    failing = [sys.executable, "-c", "raise SystemExit('no such engine: w9')"]
    commands = {"a": command("a", 0.5), "b": command("b", 0.25), "bad": failing}
    timings = harness.measure_in_fresh_processes(commands, 3)
    assert log.read_text().split() == ["a", "b", "b", "a", "a", "b"]  # 'bad' dropped out at once
    assert timings["a"].samples == {"forward": [0.5] * 3, "total": [0.5] * 3}
    assert timings["b"].median("total") == 0.25
    assert timings["bad"].note == "fails (no such engine: w9)" and not timings["bad"].samples


def test_a_fresh_w3_process_times_one_step_of_the_engine_it_is_named() -> None:
    import json
    import subprocess
    import sys

    script = Path(run.__file__).with_name("fresh.py")
    out = subprocess.run(
        [sys.executable, str(script), "chainrule", "4"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    samples = json.loads(out.stdout.splitlines()[-1])
    phases = ("forward", "zero_grad", "backward", "update")
    assert set(samples) == {*phases, "total", "gc", "cpu", "loop", "loop_gc", "loop_cpu"}
    assert all(len(xs) == 1 for xs in samples.values())  # one step and one loop per process
    assert_close(sum(samples[p][0] for p in phases), samples["total"][0], "total")
    assert 0.0 <= samples["loop_gc"][0] <= samples["loop"][0]
    assert set(wl.W3_STEPS) == {
        "chainrule",
        "chainrule products",
        "chainrule nn",
        "chainrule replay",
        "micrograd",
        "torch",
        "floor",
    }


def test_the_loop_runs_its_steps_back_to_back_and_counts_every_collector_pause() -> None:
    import gc

    from benchmarks import fresh

    # Each run notes how many full collections had happened when it started, then runs one
    # itself outside its phases, as a collection triggered between two phases would.
    entries: list[int] = []

    def run_once(clock: Clock) -> None:
        entries.append(gc.get_stats()[2]["collections"])
        with clock("forward"):
            pass
        gc.collect()

    samples = fresh.step_and_loop(harness.Contender(run_once))
    assert fresh.LOOP_STEPS >= 2
    assert len(entries) == 2 + fresh.LOOP_STEPS  # a warm-up, the step alone, the loop
    steps = [b - a for a, b in zip(entries, entries[1:])]
    # Before the step alone, an untimed collection besides the run's own; none in the loop.
    assert steps == [2] + [1] * fresh.LOOP_STEPS
    # The step alone's watch sees only pauses inside its phases; the loop's, every pause.
    assert samples["gc"] == [0.0] and samples["loop_gc"][0] > 0.0
    assert samples["loop_gc"][0] <= samples["loop"][0]
    assert set(samples) == {"forward", "total", "gc", "cpu", "loop", "loop_gc", "loop_cpu"}


def test_gc_watch_counts_only_pauses_inside_a_phase() -> None:
    import gc

    clock = Clock()
    watch = harness.GcWatch(clock)
    gc.callbacks.append(watch)
    try:
        gc.collect()  # outside any phase: not counted
        assert watch.seconds == 0.0
        with clock("forward"):
            gc.collect()
        assert 0.0 < watch.seconds <= clock.times["forward"]
    finally:
        gc.callbacks.remove(watch)


def test_gc_share_is_the_median_fraction() -> None:
    timing = harness.Timing({"gc": [1.0, 1.0, 3.0], "total": [2.0, 4.0, 4.0]})
    assert harness.gc_share(timing) == 0.5
    assert harness.gc_share(harness.Timing()) == 0.0


def test_a_slow_warmup_counts_as_a_sample() -> None:
    calls = []

    def slow(clock: Clock) -> None:
        calls.append(1)
        with clock("forward"):
            pass

    # keep_warmup = 0: every warm-up is "slow", so 7 samples take 7 runs, not 8.
    timing = harness.measure(slow, harness.Policy(7, warmup=True, keep_warmup=0.0))
    assert len(calls) == 7 and len(timing.samples["total"]) == 7
    calls.clear()
    timing = harness.measure(slow, harness.Policy(7, warmup=True))
    assert len(calls) == 8 and len(timing.samples["total"]) == 7


@pytest.mark.parametrize(("first", "count"), [(0.1, 7), (1.9, 7), (2.0, 3), (60.0, 3)])
def test_policy_gives_slow_workloads_fewer_repeats(first: float, count: int) -> None:
    assert harness.Policy(7).count(first) == count


def test_every_engine_of_a_workload_takes_as_many_samples_as_the_slowest() -> None:
    asked = iter([7, 3])  # the first engine's warm-up asks for 7 samples, the second's for 3

    class Scripted(harness.Policy):
        def count(self, first: float) -> int:
            return next(asked)

    def step(clock: Clock) -> None:
        with clock("forward"):
            pass

    timings = harness.measure_together(
        {"fast": harness.Contender(step), "slow": harness.Contender(step)},
        Scripted(7, keep_warmup=1e9),
    )
    assert [len(t.samples["total"]) for t in timings.values()] == [3, 3]


def test_bytes_per_node_sees_a_graph() -> None:
    r = harness.bytes_per_node(wl.w1_chainrule, 500)
    # A node holds at least a float and a reference to its operands; less than 16 B is a bug.
    assert 16 < r["forward"] <= r["backward"] < 10_000


def test_bytes_per_product_counts_the_products_not_their_list() -> None:
    # A chainrule product is one object with seven slots (88 B with its collector header) and
    # its float (24 B); micrograd's carries a dict, a set of operands and a closure.
    assert harness.bytes_per_product(wl.m1_pairs_chainrule(2_000)) == pytest.approx(112, abs=2)
    assert harness.bytes_per_product(wl.m1_pairs_micrograd(2_000)) > 500
    # Floats multiply to floats: 24 B each, and nothing for the list that holds them.
    pairs = [(float(i), i + 0.5) for i in range(2_000)]
    assert harness.bytes_per_product(pairs) == pytest.approx(24, abs=1)


def test_the_per_node_row_is_judged_against_the_floor() -> None:
    timing = harness.Timing()
    timing.samples["cpu"] = [2e-3, 1e-3, 3e-3]
    cell = run._per_node(timing, "cpu", 2_000, "not run")
    assert cell.stats == pytest.approx((1_000.0, 500.0, 1_500.0))  # ns per op node
    assert run._per_node(None, "cpu", 2_000, "not run").note == "not run"
    cells = {e: rp.Cell(note="not run") for e in rp.ENGINES}
    cells["chainrule"], cells["floor"] = cell, rp.Cell((25.0,) * 3)
    row = rp.Row("W1 per op node", "ns", cells, 40.0, "≤ 40× the floor", against="floor")
    assert rp.target_met(row) is True and rp.fmt_cell(cell, "ns") == "1,000 ns (500–1,500)"
    cells["floor"] = rp.Cell((24.0,) * 3)
    assert rp.target_met(row) is False
    assert (
        "chainrule / floor = 41.7× (target ≤ 40× the floor): NOT MET"
        in rp.targets_summary(rp.Report(rows=[row]))[0]
    )


def _row(chainrule: float, micrograd: float, target: float | None) -> rp.Row:
    cells = {e: rp.Cell() for e in rp.ENGINES}
    cells["chainrule"] = rp.Cell((chainrule, chainrule, chainrule))
    cells["micrograd"] = rp.Cell((micrograd, micrograd, micrograd))
    return rp.Row("r", "s", cells, target, "≤ 1/4 of micrograd" if target else "")


def test_ratios_and_targets() -> None:
    assert rp.ratio(_row(1.0, 4.0, 0.25), "micrograd") == 0.25
    assert rp.target_met(_row(1.0, 4.0, 0.25)) is True  # exactly on the target counts
    assert rp.target_met(_row(1.0, 3.9, 0.25)) is False
    assert rp.target_met(_row(1.0, 3.9, None)) is None
    assert rp.ratio(_row(1.0, 4.0, 0.25), "floor") is None  # floor not measured
    assert rp.fmt_ratio(0.25) == "1/4.0"
    assert rp.fmt_ratio(12.34) == "12.3×"
    assert rp.fmt_cell(rp.Cell((0.0123, 0.0120, 0.0131)), "s") == "12.3 ms (12.0–13.1)"
    assert rp.fmt_cell(rp.Cell((185.4,) * 3), "B") == "185 B"
    table = rp.markdown_table(
        rp.Report(rows=[_row(1.0, 4.0, 0.25), _row(1.0, 3.0, 0.25)]),
        {e: e for e in rp.ENGINES},
    )
    lines = table.splitlines()
    assert lines[2].endswith("≤ 1/4 of micrograd: met |")
    assert lines[3].endswith("≤ 1/4 of micrograd: **not met** |")


ENGINE_PAIR = ("chainrule", "micrograd")
TINY = run.Sizes((20, 50), 30, 4, 3, 50, 100, (20, 50), 100, 5, 3, 10, 1)


def test_a_tiny_run_fills_every_row(tmp_path: Path, monkeypatch, capsys) -> None:
    reports: list[rp.Report] = []
    run_all = run.run_all
    monkeypatch.setattr(run, "QUICK", TINY)

    def keep(*args: Any, **kwargs: Any) -> rp.Report:
        reports.append(run_all(*args, **kwargs))
        return reports[-1]

    monkeypatch.setattr(run, "run_all", keep)
    out = tmp_path / "bench.md"
    assert run.main(["--quick", "--markdown", str(out)]) == 0
    text = out.read_text()
    assert "| workload | chainrule |" in text and "Targets:" in text
    loop = f"{fresh.LOOP_STEPS} steps in a loop, per step"
    for name in ("W1 chain 20 steps: total", f"W3 MLP step, 4 points, nn: {loop}", "M1 bytes"):
        assert f"\n| {name}" in text
    # W1 at two sizes, W2, the million-node chain: 3 rows each; W1 per op node at two depths;
    # W3 dot and nn in a loop and alone, products and replay in a loop; W4: 3; M1: products of
    # two leaves and the chain, graph and after. Replay: a step, a run, predict's time and memory.
    (report,) = reports
    assert len(report.rows) == 3 * 2 + 2 + 3 + 3 + 6 + 3 + 3
    for row in report.rows:
        assert row.cells["chainrule"].stats is not None, row.name
    assert len(report.replay) == 4
    for replay_row in report.replay:
        assert replay_row.cells["replay"].stats is not None and replay_row.met() is not None
    assert "| spiral training step, 15 points" in text and "| nn, replay |" in text
    # W3's targets sit on the loop's rows; the step alone's rows show the other sample, untargeted.
    w3 = {row.name.removeprefix("W3 MLP step, 4 points, "): row for row in report.rows}
    alone = "the step alone, after an untimed gc.collect() (no target)"
    targets = {name: row.target_text for name, row in w3.items() if name.startswith(("raw", "nn"))}
    assert targets == {
        f"raw Values, ag.dot: {loop}": "≤ 1/25 of micrograd",
        f"nn: {loop}": "≤ 1/25 of micrograd",
        f"raw Values, ag.dot: {alone}": "",
        f"nn: {alone}": "",
        f"raw Values, products + ag.sum: {loop} (no target)": "",
        f"nn replay: {loop}": "≤ 1/200 of micrograd",
    }
    micrograd = report.phases["micrograd"]
    for name, phase in ((f"nn: {loop}", "loop"), (f"nn: {alone}", "total")):
        assert w3[name].cells["micrograd"].stats == micrograd.stats(phase), name
        assert w3[name].cells["chainrule"].stats == report.phases["chainrule nn"].stats(phase)
    # W3's note gives both measures' ratios, of the medians and of the fastest rounds.
    mine, theirs = (w3[f"raw Values, ag.dot: {loop}"].cells[e].stats for e in ENGINE_PAIR)
    assert mine is not None and theirs is not None
    assert (
        f"per step of the loop (micrograd's fastest {theirs[1] * 1e3:.0f} ms): raw "
        f"{rp.fmt_ratio(mine[0] / theirs[0])} (fastest rounds {rp.fmt_ratio(mine[1] / theirs[1])})"
    ) in text
    assert "; the step alone (micrograd's fastest" in text
    capsys.readouterr()


def test_only_runs_the_workloads_named(monkeypatch, capsys) -> None:
    monkeypatch.setattr(run, "QUICK", TINY)
    assert run.main(["--quick", "--only", "m1,per_node"]) == 0
    out = capsys.readouterr().out
    assert "| M1 bytes per op node, 100 products a * b of two leaves |" in out
    assert "| W1 per op node, 50 steps (100 op nodes), forward + backward, CPU time |" in out
    assert "W3" not in out.split("Notes:")[0] and "| W1 chain" not in out  # nor W3's phases
    with pytest.raises(SystemExit):
        run.main(["--quick", "--only", "w9"])
    assert "--only takes names from w1, per_node" in capsys.readouterr().err


def test_profile_names_the_engine_functions() -> None:
    text = run.profile_w3(3)
    assert "tottime" in text and "value.py" in text


def test_the_benchmark_script_runs_numpys_blas_on_one_thread() -> None:
    # OpenBLAS's second thread spin-waits whenever the shared machine's scheduler takes its core:
    # predict on the 300 x 300 grid measured 144-176 ms that way and 14 ms on one thread. The
    # variables must be set before numpy loads, so only the script itself can pin them.
    import os
    import subprocess
    import sys

    pytest.importorskip("threadpoolctl")  # it reads the thread count from OpenBLAS itself
    env = {k: v for k, v in os.environ.items() if k not in run.THREAD_VARIABLES}
    script = (
        "import runpy, sys\n"
        "sys.argv = ['run.py', '--help']\n"
        "try:\n"
        "    runpy.run_path('benchmarks/run.py', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "from benchmarks.report import threads\n"
        "print(threads())\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == (
        "numpy's BLAS 1 (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, MKL_NUM_THREADS=1)"
    )
