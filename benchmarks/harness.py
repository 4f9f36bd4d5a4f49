"""How the benchmarks time things: phases, interleaved rounds, medians, and the collector's share.

A workload takes a `Clock` and wraps its timed phases in `with clock("forward"): ...`.
`measure_together` times several engines on one workload, round by round, with the garbage
collector on as users run it (`gc.collect()` between repeats is untimed); a `Timing` holds the
samples and gives their median with (min-max). `measure_in_fresh_processes` does the same with
every run in a new interpreter. `bytes_per_node` reads tracemalloc instead.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter, process_time
from typing import Any

# micrograd's topological sort recurses once per node, so deep graphs need a deep stack.
BIG_STACK_BYTES = 512 * 1024 * 1024
BIG_RECURSION_LIMIT = 1_000_000


class Clock:
    """Wall time per named phase, summed over uses; `probe(phase)` runs after each phase ends.

    `cpu` sums the process's CPU time over all phases: on a shared machine a run longer than the
    scheduler's time slice also waits for a CPU, which wall time counts and CPU time does not.
    """

    def __init__(self, probe: Callable[[str], None] | None = None) -> None:
        self.times: dict[str, float] = {}
        self.cpu = 0.0
        self.probe = probe
        self.inside = False  # True during a phase, so that a gc watcher counts only timed pauses

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        self.inside = True
        cpu = process_time()
        start = perf_counter()
        try:
            yield
        finally:
            self.inside = False
        self.times[phase] = self.times.get(phase, 0.0) + perf_counter() - start
        self.cpu += process_time() - cpu
        if self.probe is not None:
            self.probe(phase)


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

    def keep(self, clock: Clock, watch: GcWatch) -> None:
        """Add one run's phases, their total, the collector's pauses inside them ("gc") and the
        CPU time of the total ("cpu")."""
        for phase, seconds in clock.times.items():
            self.samples.setdefault(phase, []).append(seconds)
        self.samples.setdefault("total", []).append(sum(clock.times.values()))
        self.samples.setdefault("gc", []).append(watch.seconds)
        self.samples.setdefault("cpu", []).append(clock.cpu)

    @property
    def repeats(self) -> int:
        """How many runs were kept."""
        return len(self.samples.get("total", []))


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
class Contender:
    """One engine's side of a workload: a run to time, and whether it needs the big stack."""

    run: Callable[[Clock], object]
    big_stack: bool = False

    def once(self) -> tuple[Clock, GcWatch]:
        """One timed run after an untimed full collection, with the collector's pauses watched."""
        return in_big_stack(self._go) if self.big_stack else self._go()

    def _go(self) -> tuple[Clock, GcWatch]:
        gc.collect()
        clock = Clock()
        watch = GcWatch(clock)
        gc.callbacks.append(watch)
        try:
            self.run(clock)
        finally:
            gc.callbacks.remove(watch)
        return clock, watch


def measure_together(contenders: dict[str, Contender], policy: Policy) -> dict[str, Timing]:
    """Time several engines on one workload, their repeats interleaved round by round.

    Round i of every engine runs before round i + 1 of any, so when the machine's load
    changes (other jobs on a shared machine), it changes for all engines alike and the ratios
    of medians stay fair. An engine that runs out of stack or memory gets a "fails" note.
    Besides the phases and their "total", each Timing holds "gc": the part of the total that
    the cyclic collector took.
    """
    timings = {name: Timing() for name in contenders}
    counts = {name: policy.repeats for name in contenders}
    if policy.warmup:
        counts.update(_warm_up(contenders, timings, policy))
    # Every engine takes as many samples as the slowest one: the machine is shared, its speed
    # drifts over seconds, and two medians compare fairly only over the same stretch of time.
    n_samples = min(counts.values(), default=policy.repeats)
    for _ in range(n_samples):
        for name, contender in contenders.items():
            timing = timings[name]
            if timing.note or timing.repeats >= n_samples:
                continue  # failed, or done (a kept warm-up finishes one round early)
            if (result := _attempt(contender, timing)) is not None:
                timing.keep(*result)
    gc.collect()
    return timings


def _warm_up(
    contenders: dict[str, Contender], timings: dict[str, Timing], policy: Policy
) -> dict[str, int]:
    """One run per engine; its length sets how many samples the engine asks for."""
    counts = {}
    for name, contender in contenders.items():
        if (first := _attempt(contender, timings[name])) is None:
            continue
        seconds = sum(first[0].times.values())
        counts[name] = policy.count(seconds)
        if seconds >= policy.keep_warmup:
            timings[name].keep(*first)
    return counts


def _attempt(contender: Contender, timing: Timing) -> tuple[Clock, GcWatch] | None:
    """One run, or None and a "fails" note when the engine ran out of stack or memory."""
    try:
        return contender.once()
    except (RecursionError, MemoryError) as e:
        timing.note = f"fails ({type(e).__name__})"
        return None


def measure(run: Callable[[Clock], object], policy: Policy, big_stack: bool = False) -> Timing:
    """Time one engine's `run` alone (see `measure_together`)."""
    return measure_together({"run": Contender(run, big_stack)}, policy)["run"]


def measure_in_fresh_processes(
    commands: dict[str, list[str]], rounds: int, env: dict[str, str] | None = None
) -> dict[str, Timing]:
    """Time each engine once per round, every time in a new interpreter started by its command.

    A process that has run other work holds its leftovers, and the cyclic collector's full
    collections walk all of them: micrograd's W3 step, mostly collector time, moved with
    whatever ran before it. A fresh process per run holds only what its own run built. The
    command prints the run's `Timing.samples` as JSON on its last line of stdout (interpreter
    start-up and setup are not in them). Rounds interleave the engines as `measure_together`
    does, and every other round runs them in reverse order, so none always runs right after
    the same neighbour. A command that fails gives its engine a "fails" note.
    """
    timings = {name: Timing() for name in commands}
    names = list(commands)
    for i in range(rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            timing = timings[name]
            if timing.note:
                continue
            done = subprocess.run(commands[name], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no message"])[-1]
                timing.note = f"fails ({last})"
                continue
            for phase, seconds in json.loads(done.stdout.splitlines()[-1]).items():
                timing.samples.setdefault(phase, []).extend(seconds)
    return timings


def peak_bytes(run: Callable[[], object]) -> float:
    """tracemalloc's peak traced bytes while `run()` runs, above what was traced before it.

    numpy reports its array buffers to tracemalloc, so this is Python's and numpy's memory.
    """
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return float(peak - base)


def bytes_per_product(pairs: Sequence[tuple[Any, Any]]) -> float:
    """tracemalloc's traced bytes per product `a * b` over `pairs` of leaves, the products alive.

    The products are kept in a list, whose own allocation (a slot per product) is not counted.
    """
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        products = [a * b for a, b in pairs]
        used = tracemalloc.get_traced_memory()[0] - base - sys.getsizeof(products)
    finally:
        tracemalloc.stop()
    return used / len(products)


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
