"""`make bench`: chainrule side by side with micrograd 0.1.0, PyTorch scalar tensors and plain floats.

    python benchmarks/run.py                 # the full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick         # smaller sizes, 2 repeats: a smoke run
    python benchmarks/run.py --markdown PATH # also write the table to PATH
    python benchmarks/run.py --profile       # only: cProfile of chainrule's W3 raw step
    python benchmarks/run.py --only w1,m1    # only these workloads (names: see WORKLOADS)

One function per workload below times it on every engine and adds its rows to the report.
How things are timed lives in `harness.py`, what each engine computes in `workloads.py`, and
how the results are printed in `report.py`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from time import perf_counter

# One thread for numpy's BLAS and for torch, set before either library loads, which is why it
# sits above the imports below. On this 2-CPU machine, shared with other jobs, OpenBLAS's two
# threads spin-wait for each other whenever the scheduler gives a core away: predict on the
# 300 x 300 grid (matrix products of 90,000 rows) took 14 ms with the machine quiet, 144-176 ms
# with two other busy processes (its CPU time as high: spinning), and 27 ms (15 ms CPU) with one
# thread and the same two processes. One thread is as fast when the machine is quiet (13.6 ms
# against 13.9), so one thread measures predict, not the scheduler. OPENBLAS_NUM_THREADS=2 make
# bench overrides it.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
if __name__ == "__main__":
    for _name in THREAD_VARIABLES:
        os.environ.setdefault(_name, "1")

# `python benchmarks/run.py` puts benchmarks/ on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report as rp  # noqa: E402 - after the threads are pinned
from benchmarks import workloads as wl  # noqa: E402
from benchmarks.fresh import LOOP_STEPS  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    Clock,
    Contender,
    Policy,
    Timing,
    bytes_per_node,
    bytes_per_product,
    gc_share,
    measure,
    measure_in_fresh_processes,
    measure_together,
    peak_bytes,
)
from benchmarks.report import ENGINES, Cell, ReplayRow, Report, Row, cell, timing_rows  # noqa: E402

# Targets: chainrule's median over micrograd's, at most this.
TARGET_W1 = 1 / 4
TARGET_W3 = 1 / 25
TARGET_M1 = 1 / 5
# chainrule's median over the plain-float floor's, per op node of W1, at most this at every depth.
TARGET_PER_NODE = 40.0
# Replay: the W3 step over micrograd's; a training step over the book's numpy step; and limits in
# seconds (the chapter 10 run end to end, the 300 x 300 grid's predict) and MB (its peak memory).
TARGET_W3_REPLAY = 1 / 200
TARGET_STEP = 3.0
LIMIT_RUN = 30.0
LIMIT_PREDICT = 0.3
LIMIT_PREDICT_MB = 200.0


@dataclass
class Sizes:
    """How big each workload is."""

    w1_steps: tuple[int, ...] = (10_000, 100_000)
    w2_terms: int = 100_000
    w3_points: int = 100
    w4_samples: int = 100
    m1_steps: int = 10_000
    big_chain_steps: int = 500_000  # 1,000,000 op nodes
    per_node_steps: tuple[int, ...] = (1_000, 10_000, 100_000)
    m1_products: int = 100_000
    spiral_samples: int = 100  # per class: 300 points, as the book's chapter 10
    spiral_epochs: int = 10_001
    grid_side: int = 300
    # W3's rounds, each a fresh process per engine timing one step and a loop of steps: the
    # samples spread widely here (micrograd's step alone 290-690 ms in a row of fresh processes).
    w3_rounds: int = 11


QUICK = Sizes(
    (1_000, 10_000), 10_000, 20, 20, 2_000, 50_000, (1_000, 10_000), 10_000, 100, 201, 100, 2
)


@dataclass
class Engines:
    """The engines this run has, why the others have no numbers, and the policy that times them."""

    policy: Policy
    micrograd: bool
    torch: bool

    @classmethod
    def available(cls, policy: Policy, use_torch: bool) -> Engines:
        """The engines that import here (torch only when asked for)."""
        return cls(policy, wl.MICROGRAD_ERROR is None, use_torch and wl.TORCH_ERROR is None)

    @property
    def optional(self) -> dict[str, bool]:
        """Whether this run has each optional engine."""
        return {"micrograd": self.micrograd, "torch": self.torch}

    @property
    def reasons(self) -> dict[str, str]:
        """The note for an engine's cells when it has no numbers."""
        torch_missing = "not installed" if wl.TORCH_ERROR else "skipped"
        return {
            "micrograd": "n/a" if self.micrograd else "not installed",
            "torch": "n/a" if self.torch else torch_missing,
        }

    def contenders(
        self,
        chainrule: Callable[[Clock], object],
        micrograd: Callable[[Clock], object] | None,
        torch: Callable[[Clock], object] | None,
        floor: Callable[[Clock], object],
        micrograd_big_stack: bool = False,
    ) -> dict[str, Contender | None]:
        """The four engines' runs of one workload; None for an engine this run does not have."""
        mg = Contender(micrograd, micrograd_big_stack) if self.micrograd and micrograd else None
        return {
            "chainrule": Contender(chainrule),
            "micrograd": mg,
            "torch": Contender(torch) if self.torch and torch else None,
            "floor": Contender(floor),
        }

    def timed(
        self, label: str, contenders: Mapping[str, Contender | None]
    ) -> dict[str, Timing | None]:
        """Time the present contenders together; every engine of the table gets an entry."""
        present = {name: c for name, c in contenders.items() if c is not None}
        return _shown(label, measure_together(present, self.policy))

    def timed_fresh(
        self, label: str, names: list[str], points: int, rounds: int
    ) -> dict[str, Timing | None]:
        """Time W3's contenders `names` (keys of `workloads.W3_STEPS`, only engines this run has)
        each in a fresh process per round (benchmarks/fresh.py); every engine gets an entry."""
        missing = {e for e, present in self.optional.items() if not present}
        script = str(Path(__file__).with_name("fresh.py"))
        commands = {n: [sys.executable, script, n, str(points)] for n in names if n not in missing}
        # The children get this process's environment with its BLAS threads pinned as above,
        # also when main() runs without the script's start (the tests call it).
        env = {**os.environ, **{n: os.environ.get(n, "1") for n in THREAD_VARIABLES}}
        return _shown(label, measure_in_fresh_processes(commands, rounds, env))


def _shown(label: str, measured: dict[str, Timing]) -> dict[str, Timing | None]:
    """The timings with an entry for every engine of the table, each shown on a progress line."""
    timings: dict[str, Timing | None] = dict.fromkeys(ENGINES)
    timings.update(measured)
    for name, timing in measured.items():
        progress(f"  {label:<28} {name:<14} {rp.summary(timing)}")
    return timings


def progress(message: str) -> None:
    """One line of progress on stderr, so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


# ---- one function per workload -----------------------------------------------------------------

PHASES = ("forward", "backward", "total")


def add_w1(report: Report, engines: Engines, steps: int) -> None:
    """W1: the chain x <- x * 1.0000001 + 0.5, forward and backward; micrograd on a big stack."""
    label = f"W1 chain {steps:,} steps"
    run = engines.contenders(
        partial(wl.w1_chainrule, steps),
        partial(wl.w1_micrograd, steps),
        partial(wl.w1_torch, steps),
        partial(wl.w1_floor, steps),
        micrograd_big_stack=True,
    )
    t = engines.timed(label, run)
    report.rows += timing_rows(label, t, PHASES, engines.reasons, TARGET_W1, "≤ 1/4 of micrograd")
    per_node = [
        f"{e} {m / (2 * steps) * 1e6:.3g} µs ({gc_share(timing):.0%} in gc)"
        for e, timing in t.items()
        if timing is not None and (m := timing.median("total"))
    ]
    report.notes.append(
        f"W1 {steps:,} steps, forward + backward per op node: {', '.join(per_node)}."
    )


def add_per_node(report: Report, engines: Engines, depths: tuple[int, ...]) -> None:
    """W1's CPU time per op node at each depth, against the floor's: a growing graph should not
    cost more per node (the cyclic collector walks every node it holds at each full collection).

    CPU time, because the floor's run is shorter than a scheduler time slice and chainrule's
    deeper runs are not: on a loaded machine only the latter wait for a CPU, in wall time.
    """
    shares: list[str] = []
    walls: list[str] = []
    for steps in depths:
        label = f"W1 per op node, {steps:,} steps"
        run: dict[str, Contender | None] = {
            "chainrule": Contender(partial(wl.w1_chainrule, steps)),
            "floor": Contender(partial(wl.w1_floor, steps)),
        }
        t = engines.timed(label, run)
        cells = {e: _per_node(t.get(e), "cpu", 2 * steps, "not run") for e in ENGINES}
        target = (TARGET_PER_NODE, f"≤ {TARGET_PER_NODE:.0f}× the floor")
        title = f"{label} ({2 * steps:,} op nodes), forward + backward, CPU time"
        report.rows.append(Row(title, "ns", cells, *target, against="floor"))
        mine, floor = (
            _per_node(t.get(e), "total", 2 * steps, "").stats for e in ("chainrule", "floor")
        )
        if (timing := t.get("chainrule")) is not None and mine and floor:
            shares.append(f"{gc_share(timing):.0%} at {steps:,} steps")
            walls.append(f"{mine[0]:,.0f} ns ({mine[0] / floor[0]:.1f}× the floor) at {steps:,}")
    report.notes.append(
        f"W1 per op node, wall time: chainrule {', '.join(walls)} steps; of it in the cyclic "
        f"collector {', '.join(shares)}."
    )


def _per_node(timing: Timing | None, phase: str, nodes: int, reason: str) -> Cell:
    """A timing's phase ("total", "cpu") as nanoseconds per op node, or why there is none."""
    stats = timing.stats(phase) if timing is not None else None
    if stats is None:
        return Cell(note=timing.note if timing is not None and timing.note else reason)
    med, lo, hi = (x / nodes * 1e9 for x in stats)
    return Cell((med, lo, hi))


def add_w2(report: Report, engines: Engines, terms: int) -> None:
    """W2: a sum of `terms` products of leaves, as one n-ary node where the engine has one."""
    xs, ys = wl.w2_data(terms)
    label = f"W2 sum of {terms:,} products"
    run = engines.contenders(
        partial(wl.w2_chainrule, xs, ys),
        partial(wl.w2_micrograd, xs, ys),
        partial(wl.w2_torch, xs, ys),
        partial(wl.w2_floor, xs, ys),
        micrograd_big_stack=True,
    )
    report.rows += timing_rows(label, engines.timed(label, run), PHASES, engines.reasons)


def add_w3(report: Report, engines: Engines, points: int, rounds: int) -> None:
    """W3: SGD steps of the MLP with raw Values (ag.dot), with nn, written as products, and
    replayed; every engine in a fresh process per round, so none carries another workload's
    objects. The targets are judged on the per-step time of a loop of consecutive steps; the
    single step after an untimed `gc.collect()` is shown beside them without a target."""
    label = f"W3 MLP step, {points} points"
    w3 = engines.timed_fresh(label, list(wl.W3_STEPS), points, rounds)
    by_engine = {
        "chainrule raw (ag.dot)": w3["chainrule"],
        "chainrule raw (products, ag.sum)": w3.pop("chainrule products"),
        "chainrule nn": w3.pop("chainrule nn"),
        "chainrule nn, replay": w3.pop("chainrule replay"),
        **{e: w3[e] for e in ("micrograd", "torch", "floor")},
    }
    report.phases = {name: timing for name, timing in by_engine.items() if timing is not None}
    reasons = engines.reasons
    nn_reasons = {**reasons, "chainrule": "skipped (nn not importable)"}
    loop = f"{LOOP_STEPS} steps in a loop, per step"
    alone = "the step alone, after an untimed gc.collect() (no target)"
    judged = (TARGET_W3, "≤ 1/25 of micrograd")
    # (how chainrule's step is written, its timing, the measure, the target if any)
    rows: list[tuple[str, str, dict[str, str], str, str, tuple[float, str] | None]] = [
        ("raw Values, ag.dot", "chainrule raw (ag.dot)", reasons, "loop", loop, judged),
        ("nn", "chainrule nn", nn_reasons, "loop", loop, judged),
        ("raw Values, ag.dot", "chainrule raw (ag.dot)", reasons, "total", alone, None),
        ("nn", "chainrule nn", nn_reasons, "total", alone, None),
        ("raw Values, products + ag.sum", "chainrule raw (products, ag.sum)", reasons, "loop",
         f"{loop} (no target)", None),
        ("nn replay", "chainrule nn, replay", nn_reasons, "loop", loop,
         (TARGET_W3_REPLAY, "≤ 1/200 of micrograd")),
    ]  # fmt: skip
    for how, mine, why, phase, shown, target in rows:
        timings = {**w3, "chainrule": by_engine[mine]}
        cells = {e: cell(timings.get(e), phase, why.get(e, "n/a")) for e in ENGINES}
        report.rows.append(Row(f"{label}, {how}: {shown}", "s", cells, *(target or (None, ""))))
    if (note := _w3_note(by_engine)) is not None:
        report.notes.append(note)


def _w3_note(by_engine: dict[str, Timing | None]) -> str | None:
    """Both W3 measures for each chainrule step against micrograd: the ratio of the medians
    (the table's) and of the fastest rounds; None without micrograd."""
    theirs = by_engine["micrograd"]
    if theirs is None or not theirs.samples:
        return None
    short = {
        "chainrule raw (ag.dot)": "raw",
        "chainrule nn": "nn",
        "chainrule nn, replay": "replay",
    }
    parts = []
    for phase, what in (("loop", "per step of the loop"), ("total", "the step alone")):
        b = theirs.stats(phase)
        ratios = [
            f"{shown} {rp.fmt_ratio(a[0] / b[0])} (fastest rounds {rp.fmt_ratio(a[1] / b[1])})"
            for name, shown in short.items()
            if b and (mine := by_engine[name]) is not None and (a := mine.stats(phase))
        ]
        if b and ratios:
            parts.append(f"{what} (micrograd's fastest {b[1] * 1e3:.0f} ms): {', '.join(ratios)}")
    return "W3 against micrograd, " + "; ".join(parts) + "."


def add_w4(report: Report, engines: Engines, samples: int) -> None:
    """W4: the spiral network's forward and backward; micrograd has no exp or log."""
    label = f"W4 spiral {3 * samples} points"
    d4 = wl.w4_data(samples)
    run = {
        "chainrule": Contender(wl.w4_chainrule_nn(d4)),
        "torch": Contender(wl.w4_torch(d4)) if engines.torch else None,
        "floor": Contender(wl.w4_floor(d4)),
        "numpy": Contender(wl.w4_numpy(d4)),
    }
    w4 = engines.timed(label, run)
    numpy_timing = w4.pop("numpy")
    reasons = {
        **engines.reasons,
        "chainrule": "skipped (nn not importable)",
        "micrograd": "n/a (no exp, log)",
    }
    report.rows += timing_rows(label, w4, PHASES, reasons)
    m = numpy_timing.median("total") if numpy_timing else None
    if m is not None:
        report.notes.append(
            f"W4 with the book's vectorised numpy layers (an array floor, not a scalar one): "
            f"{m * 1e3:.3g} ms forward + backward."
        )


def add_m1(report: Report, engines: Engines, steps: int) -> None:
    """M1: tracemalloc's bytes per op node of the W1 chain, with the graph alive."""
    graph = {e: Cell(note=engines.reasons.get(e, "n/a")) for e in ENGINES}
    graph["floor"] = Cell(note="— (no graph)")
    after = dict(graph)
    chains = [("chainrule", wl.w1_chainrule, False)]
    if engines.micrograd:
        chains.append(("micrograd", wl.w1_micrograd, True))
    for engine, chain, big in chains:
        r = bytes_per_node(chain, steps, big_stack=big)
        graph[engine], after[engine] = Cell((r["forward"],) * 3), Cell((r["backward"],) * 3)
        progress(f"  {'M1 bytes per op node':<28} {engine:<14} {r['forward']:.0f} B")
    if engines.torch:
        r = bytes_per_node(wl.w1_torch, steps)
        graph["torch"] = after["torch"] = Cell(note="n/a (C++ heap)")
        report.notes.append(
            f"M1 for torch: tracemalloc sees only Python's heap, not torch's C++ tensors and "
            f"autograd nodes, so it reads {r['forward']:.0f} B per op node: not comparable."
        )
    title = f"M1 bytes per op node, W1 chain of {steps:,} steps"
    report.rows.append(Row(f"{title}: graph", "B", graph, TARGET_M1, "≤ 1/5 of micrograd"))
    report.rows.append(Row(f"{title}: after backward", "B", after, TARGET_M1, "≤ 1/5 of micrograd"))


def add_m1_product(report: Report, engines: Engines, products: int) -> None:
    """M1 on the smallest graph: tracemalloc's bytes per product a * b of two leaves, alive."""
    cells = {e: Cell(note=engines.reasons.get(e, "n/a")) for e in ENGINES}
    cells["floor"] = Cell(note="— (no graph)")
    sides = [("chainrule", wl.m1_pairs_chainrule)]
    if engines.micrograd:
        sides.append(("micrograd", wl.m1_pairs_micrograd))
    for engine, pairs in sides:
        b = bytes_per_product(pairs(products))
        cells[engine] = Cell((b,) * 3)
        progress(f"  {'M1 bytes per product':<28} {engine:<14} {b:.0f} B")
    if engines.torch:
        cells["torch"] = Cell(note="n/a (C++ heap)")
    title = f"M1 bytes per op node, {products:,} products a * b of two leaves"
    report.rows.append(Row(title, "B", cells, TARGET_M1, "≤ 1/5 of micrograd"))


def add_million(report: Report, engines: Engines, steps: int) -> None:
    """The W1 chain at a million nodes, chainrule only: three repeats at most, no warm-up."""
    label = f"chain of {2 * steps:,} nodes"
    policy = Policy(min(engines.policy.repeats, 3), warmup=False)  # each repeat takes seconds
    million = measure(partial(wl.w1_chainrule, steps), policy)
    progress(f"  {label:<28} {'chainrule':<14} {rp.summary(million)}")
    not_run = {e: "not run" for e in ("micrograd", "torch", "floor")}
    title = f"W1 chain {steps:,} steps ({2 * steps:,} nodes)"
    report.rows += timing_rows(title, {"chainrule": million}, PHASES, not_run)


def add_replay_step(report: Report, engines: Engines, samples: int) -> None:
    """One training step of the spiral network by replay, on nn's scalar path, and by the book."""
    d = wl.w4_data(samples)
    label = f"spiral training step, {3 * samples} points"
    run = {
        "replay": Contender(wl.spiral_step_nn(d, "replay")),
        "scalar": Contender(wl.spiral_step_nn(d, "scalar")),
        "numpy": Contender(wl.spiral_step_book(d)),
    }
    t = engines.timed(label, run)
    cells = {c: cell(t.get(c), "total", "n/a") for c in rp.REPLAY_COLUMNS}
    title = f"{label} (2-64-3 ReLU, softmax cross-entropy, Adam)"
    text = f"≤ {TARGET_STEP:.0f}× the book's numpy"
    report.replay.append(ReplayRow(title, "s", cells, TARGET_STEP, None, text))


def add_replay_run(report: Report, engines: Engines, samples: int, epochs: int) -> None:
    """The book's chapter 10 Adam run end to end: nn.fit by replay against the book's loop."""
    d = wl.w4_data(samples)
    label = f"chapter 10 run, {epochs:,} epochs"
    policy = Policy(min(engines.policy.repeats, 3), warmup=False)  # each repeat takes seconds
    run = {
        "replay": Contender(wl.spiral_run_nn(d, epochs)),
        "numpy": Contender(wl.spiral_run_book(d, epochs)),
    }
    t = measure_together(run, policy)
    for name, timing in t.items():
        progress(f"  {label:<28} {name:<14} {rp.summary(timing)}")
    cells = {c: cell(t.get(c), "total", "not run") for c in rp.REPLAY_COLUMNS}
    title = f"the book's chapter 10 Adam run, {epochs:,} epochs on {3 * samples} points, nn.fit"
    text = f"≤ {LIMIT_RUN:.0f} s"
    report.replay.append(ReplayRow(title, "s", cells, None, LIMIT_RUN, text))
    report.notes.append(
        f"The chapter 10 run on nn's scalar path is not run: {epochs:,} times the scalar step "
        "above."
    )


def add_replay_predict(report: Report, engines: Engines, samples: int, side: int) -> None:
    """Module.predict over a side x side grid (replay) against the book's numpy forward: time
    and tracemalloc's peak memory."""
    d = wl.w4_data(samples)
    points = wl.grid(side)
    label = f"predict, {side} x {side} grid"
    runs = {"replay": wl.grid_predict_nn(d, points), "numpy": wl.grid_predict_book(d, points)}
    t = engines.timed(label, {name: Contender(r) for name, r in runs.items()})
    cells = {c: cell(t.get(c), "total", "not run") for c in rp.REPLAY_COLUMNS}
    title = f"predict on a {side} x {side} grid (2-64-3 with softmax): time"
    text = f"≤ {LIMIT_PREDICT * 1e3:.0f} ms"
    report.replay.append(ReplayRow(title, "s", cells, None, LIMIT_PREDICT, text))
    memory = {c: Cell(note="not run") for c in rp.REPLAY_COLUMNS}
    for name, r in runs.items():
        mb = peak_bytes(partial(r, Clock())) / 1e6
        memory[name] = Cell((mb, mb, mb))
        progress(f"  {label:<28} {name:<14} {mb:.1f} MB peak")
    title = f"predict on a {side} x {side} grid: peak memory (tracemalloc)"
    text = f"≤ {LIMIT_PREDICT_MB:.0f} MB"
    report.replay.append(ReplayRow(title, "MB", memory, None, LIMIT_PREDICT_MB, text))


WORKLOADS = ("w1", "per_node", "w2", "w3", "w4", "m1", "million", "replay")


def run_all(
    sizes: Sizes, policy: Policy, use_torch: bool = True, only: tuple[str, ...] = WORKLOADS
) -> Report:
    """Run the workloads named in `only` (all by default) on every available engine."""
    engines = Engines.available(policy, use_torch)
    report = Report()
    if "w1" in only:
        for steps in sizes.w1_steps:
            add_w1(report, engines, steps)
    if "per_node" in only:
        add_per_node(report, engines, sizes.per_node_steps)
    if "w2" in only:
        add_w2(report, engines, sizes.w2_terms)
    if "w3" in only:
        add_w3(report, engines, sizes.w3_points, sizes.w3_rounds)
    if "w4" in only:
        add_w4(report, engines, sizes.w4_samples)
    if "m1" in only:
        add_m1_product(report, engines, sizes.m1_products)
        add_m1(report, engines, sizes.m1_steps)
    if "million" in only:
        add_million(report, engines, sizes.big_chain_steps)
    if "replay" in only:
        add_replay_step(report, engines, sizes.spiral_samples)
        add_replay_run(report, engines, sizes.spiral_samples, sizes.spiral_epochs)
        add_replay_predict(report, engines, sizes.spiral_samples, sizes.grid_side)
    return report


METHOD_NOTES = [
    "Times in ms: median (min–max) over the repeats, interleaved round by round (W3: below): 7 rounds, or "
    "3 when some engine's warm-up run took 2 s or more (that warm-up then counts as its first "
    "sample), the same number for every engine of a workload; 2 rounds without warm-up in "
    "--quick. The garbage collector stays on with its default thresholds; `gc.collect()` runs "
    "between repeats, untimed. `gc.freeze()` runs once after the imports, so that the ~150,000 "
    "objects torch brings along are not rescanned by every full collection, as they would not "
    "be in a process that imports one engine. Setup (leaves, models, data) and freeing the "
    "graph afterwards are untimed for every engine, except in W3's loop (below).",
    "micrograd's topological sort recurses once per node, so its W1 and W2 runs (graphs deeper "
    "than ~1,000) go in a thread with a 512 MiB stack and sys.setrecursionlimit(1,000,000); "
    "'fails' would mean that still was not enough.",
    "W2: chainrule sums with one n-ary `ag.sum` node; micrograd with Python's `sum` (a chain of "
    "+ nodes, as its README writes it); torch with `torch.stack(products).sum()`.",
    "W3: the same starting weights and points for every engine; chainrule raw = each neuron "
    "one `ag.dot(w, x, b)` node; chainrule products = each neuron a `mul` node per weight and "
    "an `ag.sum` of them and the bias (micrograd's way of writing it, n + 1 nodes); chainrule "
    "nn = nn.Sequential(Dense, ReLU, ...), nn.MSE, nn.SGD, where Dense records `dot` nodes; "
    "micrograd = its nn.MLP(2, [16, 16, 1]); torch = 0-d float64 tensors. The micrograd, torch "
    "and floor cells are the same measurements in every W3 row.",
    "W3 runs each engine in a fresh process (benchmarks/fresh.py), one per engine and round: "
    "11 rounds (2 in --quick), the engines in turn, every other round in reverse order. Every "
    "process is the same script with the same interpreter, environment (BLAS threads) and "
    "imports (torch only in torch's), `gc.collect()` and `gc.freeze()` after the imports as "
    "above, the collector on. It runs one untimed warm-up step, times one step after an "
    f"untimed `gc.collect()` (the step alone), then at once {LOOP_STEPS} steps back to back with "
    "nothing untimed between them, and reports the loop's wall time per step. The cells are "
    "medians (min–max) over the rounds, the ratios ratios of those medians. The W3 targets, "
    "the replay row's too, are judged on the loop: a training loop runs steps back to back, "
    "and each step pays for freeing the graphs before it. chainrule's graph has no cycles and "
    "is freed by reference counting as the step returns; micrograd's closures make cycles, so "
    "its graph waits for the cyclic collector, which the step alone's untimed `gc.collect()` "
    "ran before the clock started. That choice was made after the step alone had missed the "
    "target (1/21.6 raw, 1/21.1 nn, in the run of 2026-11-29 22:50 UTC); the step-alone rows "
    "stay in the table, without a target, so both measures show. In the one long process, "
    "micrograd's step, mostly collector time, moved with the objects earlier workloads had "
    "left alive (307–553 ms between runs). It still moves with what the rest of the machine "
    "does: its forward leaves ~457,000 objects for the cyclic collector to walk (chainrule's "
    "~10,000), a walk that waits on memory, so while another process streamed memory on the "
    "other CPU micrograd's step alone took 632–798 ms against 278–515 ms just before, and "
    "chainrule's 15.0–16.3 ms against 14.7–15.0 ms. A busier machine flatters the W3 ratio.",
    "M1: tracemalloc's traced bytes with the graph alive, divided by the op nodes: for the "
    "products of two leaves, the leaves made beforehand and the list holding the products left "
    "out; for the W1 chain, 2 op nodes per step, constants included in the cost of the op that "
    "uses them. micrograd has no exp or log, so it cannot run W4.",
    "W1 per op node: chainrule and the floor alone, interleaved, forward + backward over the op "
    "nodes (2 per step); the target holds at every depth.",
    "numpy's BLAS (OpenBLAS) and torch run on one thread (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS "
    "and MKL_NUM_THREADS are 1 unless set): with two threads on this shared 2-CPU machine, "
    "each matrix product waited for a thread the scheduler had given away, and the predict row "
    "measured anything from 10 ms to 176 ms from one run to the next.",
    "Replay: nn records one sample's graph once and runs it over the batch as arrays "
    "(autograd.replay); 'nn, scalar path' builds every sample's graph of Values (engine="
    "'scalar'). The book's numpy code is nn.reference: the book's layers, loss and optimiser "
    "in float64, from the same starting weights and points (W4's). A training step is "
    "nn.train_step (forward, loss, backward, writing .grad, Adam's update) against the book's "
    "forward, backward and update_params; the chapter 10 run is nn.fit (with its accuracy and "
    "history) against the book's loop; predict is Module.predict against the book's forward. "
    "W3's replay row is nn.train_step(engine='replay') with nn.MSE and nn.SGD, per step of "
    "W3's loop like the other W3 targets.",
]


# ---- the command line --------------------------------------------------------------------------


def profile_w3(points: int, top: int = 15) -> str:
    """cProfile of one chainrule W3 raw step (after a warm-up step), top functions by tottime."""
    step = wl.w3_chainrule_raw(wl.w3_data(points))
    step(Clock())
    profiler = cProfile.Profile()
    profiler.enable()
    step(Clock())
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def measured(
    sizes: Sizes, policy: Policy, use_torch: bool, only: tuple[str, ...] = WORKLOADS
) -> tuple[Report, float]:
    """run_all with everything alive now frozen out of the collector's sight, and its duration."""
    start = perf_counter()
    # Importing torch leaves ~150,000 long-lived objects that every full collection would
    # rescan, charging whichever engine happens to be running; a user of one engine has none
    # of them. Freezing moves everything alive now out of the collector's sight; it stays on.
    gc.collect()
    gc.freeze()
    try:
        report = run_all(sizes, policy, use_torch=use_torch, only=only)
    finally:
        gc.unfreeze()
    return report, perf_counter() - start


def print_header(header: str, quick: bool) -> None:
    """The title, the machine, and what this run leaves out."""
    print("# chainrule benchmarks\n")
    print(header + "\n", flush=True)
    for name, err in (("micrograd", wl.MICROGRAD_ERROR), ("torch", wl.TORCH_ERROR)):
        if err:
            print(f"note: {name} is not available, its columns are skipped ({err})", flush=True)
    if quick:
        print("note: --quick runs smaller sizes; the targets are judged at the full sizes.\n")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run everything, print the report (and write it with --markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 2 repeats")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report to PATH")
    parser.add_argument("--no-torch", action="store_true", help="leave torch out")
    parser.add_argument(
        "--profile", action="store_true", help="only profile chainrule's W3 raw step"
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        default=",".join(WORKLOADS),
        help=f"comma-separated workloads to run, of {', '.join(WORKLOADS)} (default: all)",
    )
    args = parser.parse_args(argv)
    only = tuple(name.strip() for name in args.only.split(",") if name.strip())
    unknown = [name for name in only if name not in WORKLOADS]
    if unknown or not only:
        parser.error(f"--only takes names from {', '.join(WORKLOADS)}, got {args.only!r}")
    if args.profile:
        print(profile_w3(QUICK.w3_points if args.quick else Sizes().w3_points))
        return 0

    header, headers = rp.environment(wl.torch.__version__ if wl.torch is not None else None)
    print_header(header, args.quick)
    sizes, policy = (QUICK, Policy(2, warmup=False)) if args.quick else (Sizes(), Policy())
    report, elapsed = measured(sizes, policy, use_torch=not args.no_torch, only=only)
    body = rp.body(report, headers, METHOD_NOTES, elapsed)
    print("\n" + body)
    if args.markdown:
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# chainrule benchmarks\n\n{header}\n\n{body}\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
