"""`make bench`: chainrule side by side with micrograd 0.1.0, PyTorch scalar tensors and plain floats.

    python benchmarks/run.py                 # the full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick         # smaller sizes, 2 repeats: a smoke run
    python benchmarks/run.py --markdown PATH # also write the table to PATH
    python benchmarks/run.py --profile       # only: cProfile of chainrule's W3 raw step

Every timing repeats its workload several times with the garbage collector on, as users run
it (`gc.collect()` between repeats is untimed), and reports the median with (min-max). The
ratios compare medians from this one run. The workloads themselves live in `workloads.py`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import statistics
import sys
import threading
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any

# `python benchmarks/run.py` puts benchmarks/ on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import workloads as wl
from benchmarks.workloads import Clock

ENGINES = ("chainrule", "micrograd", "torch", "floor")

# micrograd's topological sort recurses once per node, so deep graphs need a deep stack.
BIG_STACK_BYTES = 512 * 1024 * 1024
BIG_RECURSION_LIMIT = 1_000_000

# Targets: chainrule's median over micrograd's, at most this.
TARGET_W1 = 1 / 4
TARGET_W3 = 1 / 25
TARGET_M1 = 1 / 5


@dataclass
class Sizes:
    """How big each workload is."""

    w1_steps: tuple[int, ...] = (10_000, 100_000)
    w2_terms: int = 100_000
    w3_points: int = 100
    w4_samples: int = 100
    m1_steps: int = 10_000
    big_chain_steps: int = 500_000  # 1,000,000 op nodes


QUICK = Sizes((1_000, 10_000), 10_000, 20, 20, 2_000, 50_000)


@dataclass
class Policy:
    """How many times to repeat a timing.

    With `warmup`, one run comes first and its duration picks the count: slow workloads get
    fewer repeats, so the whole run stays within a few minutes. A warm-up that took
    `keep_warmup` seconds or more counts as the first sample: at that length warming up is
    noise, and repeating it would cost the run a minute.
    """

    repeats: int = 7
    warmup: bool = True
    keep_warmup: float = 2.0

    def count(self, first: float) -> int:
        """The number of samples to take, given a warm-up run that took `first` seconds."""
        return self.repeats if first < 2.0 else min(self.repeats, 3)


# ---- running things ----------------------------------------------------------------------------


def in_big_stack(fn: Callable[[], Any]) -> Any:
    """fn() in a thread with a 512 MiB stack and a recursion limit of 1,000,000; re-raises its error."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as e:  # handed to the calling thread below
            outcome["error"] = e

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size(BIG_STACK_BYTES)
    sys.setrecursionlimit(BIG_RECURSION_LIMIT)
    try:
        thread = threading.Thread(target=target, name="big-stack")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class Timing:
    """Seconds per phase for each repeat ("total" is their sum), or a note saying why there are none."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    def stats(self, phase: str) -> tuple[float, float, float] | None:
        """(median, min, max) of a phase, or None when it was not measured."""
        xs = self.samples.get(phase)
        return (statistics.median(xs), min(xs), max(xs)) if xs else None

    def median(self, phase: str) -> float | None:
        """The median of a phase, or None."""
        s = self.stats(phase)
        return s[0] if s else None


class GcWatch:
    """A `gc.callbacks` entry that sums the collector's pauses inside the clock's timed phases."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.seconds = 0.0
        self._start: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = perf_counter() if self.clock.inside else None
        elif self._start is not None:
            self.seconds += perf_counter() - self._start


def gc_share(timing: Timing) -> float:
    """The median, over the repeats, of the fraction of the timed total spent in the collector."""
    pairs = zip(timing.samples.get("gc", []), timing.samples.get("total", []))
    shares = [g / t for g, t in pairs if t > 0.0]
    return statistics.median(shares) if shares else 0.0


@dataclass
class Contender:
    """One engine's side of a workload: a run to time, and whether it needs the big stack."""

    run: Callable[[Clock], object]
    big_stack: bool = False


def _once(contender: Contender) -> tuple[Clock, GcWatch]:
    """One timed run after an untimed full collection, with the collector's pauses watched."""

    def go() -> tuple[Clock, GcWatch]:
        gc.collect()
        clock = Clock()
        watch = GcWatch(clock)
        gc.callbacks.append(watch)
        try:
            contender.run(clock)
        finally:
            gc.callbacks.remove(watch)
        return clock, watch

    result: tuple[Clock, GcWatch] = in_big_stack(go) if contender.big_stack else go()
    return result


def _keep(samples: dict[str, list[float]], clock: Clock, watch: GcWatch) -> None:
    for phase, seconds in clock.times.items():
        samples.setdefault(phase, []).append(seconds)
    samples.setdefault("total", []).append(sum(clock.times.values()))
    samples.setdefault("gc", []).append(watch.seconds)


def measure_together(contenders: dict[str, Contender], policy: Policy) -> dict[str, Timing]:
    """Time several engines on one workload, their repeats interleaved round by round.

    Round i of every engine runs before round i + 1 of any, so when the machine's load
    changes (other jobs on a shared machine), it changes for all engines alike and the ratios
    of medians stay fair. An engine that runs out of stack or memory gets a "fails" note.
    Besides the phases and their "total", each Timing holds "gc": the part of the total that
    the cyclic collector took.
    """
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in contenders}
    notes: dict[str, str] = {}
    left: dict[str, int] = {}

    def attempt(name: str) -> tuple[Clock, GcWatch] | None:
        try:
            return _once(contenders[name])
        except (RecursionError, MemoryError) as e:
            notes[name] = f"fails ({type(e).__name__})"
            left.pop(name, None)
            return None

    counts = {name: policy.repeats for name in contenders}
    for name in contenders:
        if policy.warmup and (first := attempt(name)) is not None:
            seconds = sum(first[0].times.values())
            counts[name] = policy.count(seconds)
            if seconds >= policy.keep_warmup:
                _keep(samples[name], *first)
    # Every engine takes as many samples as the slowest one: the machine is shared, its speed
    # drifts over seconds, and two medians compare fairly only over the same stretch of time.
    n_samples = min(counts.values(), default=policy.repeats)
    for name in contenders:
        if name not in notes:
            left[name] = n_samples - len(samples[name].get("total", []))
    while any(n > 0 for n in left.values()):
        for name, n in list(left.items()):
            if n > 0 and (result := attempt(name)) is not None:
                _keep(samples[name], *result)
                left[name] = n - 1
    gc.collect()
    return {name: Timing(samples[name], notes.get(name, "")) for name in contenders}


def measure(run: Callable[[Clock], object], policy: Policy, big_stack: bool = False) -> Timing:
    """Time one engine's `run` alone (see `measure_together`)."""
    return measure_together({"run": Contender(run, big_stack)}, policy)["run"]


def bytes_per_node(
    chain: Callable[[int, Clock], object], steps: int, big_stack: bool = False
) -> dict[str, float]:
    """tracemalloc's traced bytes per op node of the W1 chain (2 per step), after each phase.

    The graph is alive at both readings: "forward" is the graph alone, "backward" the graph
    with its gradients filled in (whatever backward allocated and kept).
    """
    readings: dict[str, float] = {}
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]

        def probe(phase: str) -> None:
            readings[phase] = (tracemalloc.get_traced_memory()[0] - base) / (2 * steps)

        def build() -> object:
            return chain(steps, Clock(probe))

        in_big_stack(build) if big_stack else build()
    finally:
        tracemalloc.stop()
        gc.collect()
    return readings


# ---- the experiments ---------------------------------------------------------------------------


@dataclass
class Cell:
    """One table entry: (median, min, max) in the row's unit, or a note instead."""

    stats: tuple[float, float, float] | None = None
    note: str = "n/a"


@dataclass
class Row:
    """One line of the table; `target` is the largest allowed chainrule / micrograd ratio."""

    name: str
    unit: str  # "s" or "B"
    cells: dict[str, Cell]
    target: float | None = None
    target_text: str = ""


@dataclass
class Report:
    """Everything one run measured, ready to be printed."""

    rows: list[Row] = field(default_factory=list)
    phases: dict[str, Timing] = field(default_factory=dict)  # W3 per engine, for the breakdown
    notes: list[str] = field(default_factory=list)


def _cell(timing: Timing | None, phase: str, reason: str) -> Cell:
    if timing is None:
        return Cell(note=reason)
    stats = timing.stats(phase)
    return Cell(stats) if stats else Cell(note=timing.note or reason)


def _timing_rows(
    title: str,
    timings: dict[str, Timing | None],
    phases: tuple[str, ...],
    reasons: dict[str, str],
    target: float | None = None,
    target_text: str = "",
) -> list[Row]:
    """A row per phase, and one for the total (which carries the target, if any)."""
    rows = []
    for phase in phases:
        cells = {e: _cell(timings.get(e), phase, reasons.get(e, "n/a")) for e in ENGINES}
        is_total = phase == "total"
        rows.append(
            Row(
                f"{title}: {phase}",
                "s",
                cells,
                target if is_total else None,
                target_text if is_total else "",
            )
        )
    return rows


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary(t: Timing) -> str:
    m = t.median("total")
    return f"{m * 1e3:.1f} ms" if m is not None else t.note


def run_all(sizes: Sizes, policy: Policy, use_torch: bool = True) -> Report:
    """Run every workload on every available engine and collect the table."""
    report = Report()
    have_mg = wl.MICROGRAD_ERROR is None
    have_torch = use_torch and wl.TORCH_ERROR is None
    reasons = {
        "micrograd": "not installed" if not have_mg else "n/a",
        "torch": ("not installed" if wl.TORCH_ERROR else "skipped") if not have_torch else "n/a",
    }

    def timed(label: str, contenders: dict[str, Contender | None]) -> dict[str, Timing | None]:
        present = {name: c for name, c in contenders.items() if c is not None}
        timings: dict[str, Timing | None] = dict.fromkeys(ENGINES)
        timings.update(measure_together(present, policy))
        for name, timing in timings.items():
            if timing is not None:
                _progress(f"  {label:<28} {name:<14} {_summary(timing)}")
        return timings

    def engines(
        chainrule: Callable[[Clock], object],
        micrograd: Callable[[Clock], object] | None,
        torch: Callable[[Clock], object] | None,
        floor: Callable[[Clock], object],
        micrograd_big_stack: bool = False,
    ) -> dict[str, Contender | None]:
        return {
            "chainrule": Contender(chainrule),
            "micrograd": Contender(micrograd, micrograd_big_stack)
            if have_mg and micrograd
            else None,
            "torch": Contender(torch) if have_torch and torch else None,
            "floor": Contender(floor),
        }

    # W1: the chain, forward and backward.
    for steps in sizes.w1_steps:
        label = f"W1 chain {steps:,} steps"
        t = timed(
            label,
            engines(
                partial(wl.w1_chainrule, steps),
                partial(wl.w1_micrograd, steps),
                partial(wl.w1_torch, steps),
                partial(wl.w1_floor, steps),
                micrograd_big_stack=True,
            ),
        )
        report.rows += _timing_rows(
            label, t, ("forward", "backward", "total"), reasons, TARGET_W1, "≤ 1/4 of micrograd"
        )
        per_node = [
            f"{e} {m / (2 * steps) * 1e6:.3g} µs ({gc_share(timing):.0%} in gc)"
            for e, timing in t.items()
            if timing is not None and (m := timing.median("total"))
        ]
        report.notes.append(
            f"W1 {steps:,} steps, forward + backward per op node: {', '.join(per_node)}."
        )

    # W2: a sum of products.
    xs, ys = wl.w2_data(sizes.w2_terms)
    label = f"W2 sum of {sizes.w2_terms:,} products"
    t = timed(
        label,
        engines(
            partial(wl.w2_chainrule, xs, ys),
            partial(wl.w2_micrograd, xs, ys),
            partial(wl.w2_torch, xs, ys),
            partial(wl.w2_floor, xs, ys),
            micrograd_big_stack=True,
        ),
    )
    report.rows += _timing_rows(label, t, ("forward", "backward", "total"), reasons)

    # W3: one SGD step of the MLP, raw Values and nn, against micrograd's nn.MLP.
    d3 = wl.w3_data(sizes.w3_points)
    label = f"W3 MLP step, {sizes.w3_points} points"
    contenders = engines(
        wl.w3_chainrule_raw(d3),
        wl.w3_micrograd(d3) if have_mg else None,  # built only when installed
        wl.w3_torch(d3) if have_torch else None,
        wl.w3_floor(d3),
    )
    contenders["chainrule nn"] = Contender(wl.w3_chainrule_nn(d3))
    contenders["chainrule products"] = Contender(wl.w3_chainrule_raw(d3, products=True))
    w3 = timed(label, contenders)
    nn_timing = w3.pop("chainrule nn", None)
    products_timing = w3.pop("chainrule products", None)
    by_engine = {
        "chainrule raw (ag.dot)": w3["chainrule"],
        "chainrule raw (products, ag.sum)": products_timing,
        "chainrule nn": nn_timing,
    }
    by_engine.update((e, w3[e]) for e in ("micrograd", "torch", "floor"))
    report.phases = {name: timing for name, timing in by_engine.items() if timing is not None}
    report.rows += _timing_rows(
        f"{label}, raw Values, ag.dot", w3, ("total",), reasons, TARGET_W3, "≤ 1/25 of micrograd"
    )
    nn_reasons = {**reasons, "chainrule": "skipped (nn not importable)"}
    report.rows += _timing_rows(
        f"{label}, nn",
        {**w3, "chainrule": nn_timing},
        ("total",),
        nn_reasons,
        TARGET_W3,
        "≤ 1/25 of micrograd",
    )
    report.rows += _timing_rows(
        f"{label}, raw Values, products + ag.sum (no target)",
        {**w3, "chainrule": products_timing},
        ("total",),
        reasons,
    )

    # W4: the spiral network, forward and backward; micrograd has no exp or log.
    label = f"W4 spiral {3 * sizes.w4_samples} points"
    d4 = wl.w4_data(sizes.w4_samples)
    contenders = {
        "chainrule": Contender(wl.w4_chainrule_nn(d4)),
        "torch": Contender(wl.w4_torch(d4)) if have_torch else None,
        "floor": Contender(wl.w4_floor(d4)),
        "numpy": Contender(wl.w4_numpy(d4)),
    }
    w4 = timed(label, contenders)
    numpy_timing = w4.pop("numpy")
    w4_reasons = {**nn_reasons, "micrograd": "n/a (no exp, log)"}
    report.rows += _timing_rows(label, w4, ("forward", "backward", "total"), w4_reasons)
    m = numpy_timing.median("total") if numpy_timing else None
    if m is not None:
        report.notes.append(
            f"W4 with the book's vectorised numpy layers (an array floor, not a scalar one): "
            f"{m * 1e3:.3g} ms forward + backward."
        )

    # M1: bytes per op node of the W1 chain, graph alive.
    steps = sizes.m1_steps
    m1: dict[str, Cell] = {e: Cell(note=reasons.get(e, "n/a")) for e in ENGINES}
    m1_after: dict[str, Cell] = {e: Cell(note=reasons.get(e, "n/a")) for e in ENGINES}
    m1["floor"] = m1_after["floor"] = Cell(note="— (no graph)")
    chains: list[tuple[str, Callable[[int, Clock], object], bool]] = [
        ("chainrule", wl.w1_chainrule, False)
    ]
    if have_mg:
        chains.append(("micrograd", wl.w1_micrograd, True))
    for engine, chain, big in chains:
        r = bytes_per_node(chain, steps, big_stack=big)
        m1[engine] = Cell((r["forward"],) * 3)
        m1_after[engine] = Cell((r["backward"],) * 3)
        _progress(f"  {'M1 bytes per op node':<28} {engine:<14} {r['forward']:.0f} B")
    if have_torch:
        r = bytes_per_node(wl.w1_torch, steps)
        m1["torch"] = m1_after["torch"] = Cell(note="n/a (C++ heap)")
        report.notes.append(
            f"M1 for torch: tracemalloc sees only Python's heap, not torch's C++ tensors and "
            f"autograd nodes, so it reads {r['forward']:.0f} B per op node: not comparable."
        )
    title = f"M1 bytes per op node, W1 chain of {steps:,} steps"
    report.rows.append(Row(f"{title}: graph", "B", m1, TARGET_M1, "≤ 1/5 of micrograd"))
    report.rows.append(
        Row(f"{title}: after backward", "B", m1_after, TARGET_M1, "≤ 1/5 of micrograd")
    )

    # The million-node chain, chainrule only.
    steps = sizes.big_chain_steps
    label = f"chain of {2 * steps:,} nodes"
    # Three repeats at most, no warm-up: each one takes seconds.
    million = measure(partial(wl.w1_chainrule, steps), Policy(min(policy.repeats, 3), False))
    _progress(f"  {label:<28} {'chainrule':<14} {_summary(million)}")
    report.rows += _timing_rows(
        f"W1 chain {steps:,} steps ({2 * steps:,} nodes)",
        {"chainrule": million},
        ("forward", "backward", "total"),
        {**reasons, "micrograd": "not run", "torch": "not run", "floor": "not run"},
    )
    return report


# ---- printing ----------------------------------------------------------------------------------


def fmt_value(x: float, unit: str) -> str:
    """A time in ms (from seconds) or a byte count, with about 3 significant digits."""
    if unit == "B":
        return f"{x:,.0f}"
    ms = x * 1e3
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def fmt_cell(cell: Cell, unit: str) -> str:
    """'median (min–max)' with the unit, or the cell's note."""
    if cell.stats is None:
        return cell.note
    med, lo, hi = cell.stats
    suffix = " ms" if unit == "s" else " B"
    if lo == hi:
        return fmt_value(med, unit) + suffix
    return f"{fmt_value(med, unit)}{suffix} ({fmt_value(lo, unit)}–{fmt_value(hi, unit)})"


def fmt_ratio(r: float) -> str:
    """A ratio as '1/x' below 1 and 'x×' from 1 up."""
    if r <= 0.0:
        return "0"
    return f"1/{1 / r:.1f}" if r < 1.0 else f"{r:.1f}×"


def ratio(row: Row, engine: str) -> float | None:
    """chainrule's median over `engine`'s, when both were measured."""
    a, b = row.cells["chainrule"].stats, row.cells[engine].stats
    if a is None or b is None or b[0] == 0.0:
        return None
    return a[0] / b[0]


def target_met(row: Row) -> bool | None:
    """Whether the row meets its target, or None when it has none or cannot be judged."""
    r = ratio(row, "micrograd")
    if row.target is None or r is None:
        return None
    return r <= row.target


def markdown_table(report: Report, headers: dict[str, str]) -> str:
    """The main table: one row per measured quantity, engines side by side, ratios and targets."""
    cols = [
        "workload",
        *[headers[e] for e in ENGINES],
        "chainrule / micrograd",
        "chainrule / floor",
        "target",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" + "---:|" * (len(cols) - 2) + "---|"]
    for row in report.rows:
        rm, rf = ratio(row, "micrograd"), ratio(row, "floor")
        met = target_met(row)
        target = ""
        if row.target_text:
            verdict = "n/a" if met is None else "met" if met else "**not met**"
            target = f"{row.target_text}: {verdict}"
        cells = [
            row.name,
            *[fmt_cell(row.cells[e], row.unit) for e in ENGINES],
            fmt_ratio(rm) if rm is not None else "",
            fmt_ratio(rf) if rf is not None else "",
            target,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def phase_table(report: Report) -> str:
    """W3's step split into its phases, medians in ms, one row per engine."""
    phases = ("forward", "zero_grad", "backward", "update", "total", "gc")
    heads = [*phases[:-1], "of which gc"]
    lines = ["| W3 step, medians (ms) | " + " | ".join(heads) + " |"]
    lines.append("|---|" + "---:|" * len(phases))
    for name, timing in report.phases.items():
        cells = []
        for phase in phases:
            m = timing.median(phase)
            cells.append(fmt_value(m, "s") if m is not None else timing.note or "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_summary(report: Report) -> list[str]:
    """One line per row that carries a target: the ratio and whether it is met."""
    out = []
    for row in report.rows:
        if row.target_text:
            r = ratio(row, "micrograd")
            met = target_met(row)
            verdict = "n/a" if met is None else "met" if met else "NOT MET"
            shown = fmt_ratio(r) if r is not None else "not measured"
            out.append(
                f"- {row.name}: chainrule / micrograd = {shown} (target {row.target_text}): {verdict}"
            )
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine makes timings noisy."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment() -> tuple[str, dict[str, str]]:
    """The header lines (date, Python, machine, versions) and the engines' column headings."""
    mg = _version("micrograd")
    th = wl.torch.__version__ if wl.torch is not None else None
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"- date: {now}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"gc {'on' if gc.isenabled() else 'OFF'}, thresholds {gc.get_threshold()}",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, {_cpu_model()}, "
        f"load average {_load()} at the start",
        f"- micrograd {mg or 'not installed'}, torch {th or 'not installed'}, numpy "
        f"{_version('numpy')}, chainrule {_version('chainrule')}",
    ]
    headers = {
        "chainrule": "chainrule",
        "micrograd": f"micrograd {mg}" if mg else "micrograd",
        "torch": f"torch {th.split('+')[0]} scalars" if th else "torch scalars",
        "floor": "floats (floor)",
    }
    return "\n".join(lines), headers


METHOD_NOTES = [
    "Times in ms: median (min–max) over the repeats, interleaved round by round: 7 rounds, or "
    "3 when some engine's warm-up run took 2 s or more (that warm-up then counts as its first "
    "sample), the same number for every engine of a workload; 2 rounds without warm-up in "
    "--quick. The garbage collector stays on with "
    "its default thresholds; `gc.collect()` runs between repeats, untimed. `gc.freeze()` runs "
    "once after the imports, so that the ~150,000 objects torch brings along are not rescanned "
    "by every full collection, as they would not be in a process that imports one engine. Setup (leaves, models, data) and freeing the "
    "graph afterwards are untimed for every engine.",
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
    "M1: tracemalloc's traced bytes with the graph alive, divided by the op nodes (2 per step, "
    "constants included in the cost of the op that uses them). micrograd has no exp or log, so "
    "it cannot run W4.",
]


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


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run everything, print the report (and write it with --markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 2 repeats")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report to PATH")
    parser.add_argument("--no-torch", action="store_true", help="leave torch out")
    parser.add_argument(
        "--profile", action="store_true", help="only profile chainrule's W3 raw step"
    )
    args = parser.parse_args(argv)

    if args.profile:
        print(profile_w3(QUICK.w3_points if args.quick else Sizes().w3_points))
        return 0

    header, headers = environment()
    print("# chainrule benchmarks\n")
    print(header + "\n", flush=True)
    for name, err in (
        ("micrograd", wl.MICROGRAD_ERROR),
        ("torch", wl.TORCH_ERROR),
    ):
        if err:
            print(f"note: {name} is not available, its columns are skipped ({err})", flush=True)

    sizes, policy = (QUICK, Policy(2, warmup=False)) if args.quick else (Sizes(), Policy())
    if args.quick:
        print("note: --quick runs smaller sizes; the targets are judged at the full sizes.\n")
    start = perf_counter()
    # Importing torch leaves ~150,000 long-lived objects that every full collection would
    # rescan, charging whichever engine happens to be running; a user of one engine has none
    # of them. Freezing moves everything alive now out of the collector's sight; it stays on.
    gc.collect()
    gc.freeze()
    try:
        report = run_all(sizes, policy, use_torch=not args.no_torch)
    finally:
        gc.unfreeze()
    elapsed = perf_counter() - start

    body = "\n\n".join(
        [
            markdown_table(report, headers),
            phase_table(report),
            "Targets:\n" + "\n".join(targets_summary(report)),
            "Notes:\n" + "\n".join(f"- {n}" for n in [*report.notes, *METHOD_NOTES]),
            f"The whole run took {elapsed:.0f} s; load average {_load()} at the end.",
        ]
    )
    print("\n" + body)
    if args.markdown:
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# chainrule benchmarks\n\n{header}\n\n{body}\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
