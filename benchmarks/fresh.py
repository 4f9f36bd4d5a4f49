"""One engine's W3 step, timed in a process of its own: `python benchmarks/fresh.py ENGINE POINTS`.

run.py's W3 starts one of these per engine and round (`harness.measure_in_fresh_processes`),
because micrograd's step is mostly cyclic-collector time, and in the one long benchmark process
that time grew with whatever earlier workloads had left alive (307-553 ms between runs). Every
engine's process is this same script under the same conditions: the interpreter running run.py,
the environment run.py hands down (numpy's BLAS threads included), the same imports, then
`gc.collect()` and `gc.freeze()` as run.py does after its imports, the collector on with its
default thresholds. ENGINE is a key of `workloads.W3_STEPS`.

The process builds its step (untimed) and runs it once to warm up (replay records its graph
then). It times two things, printed as one JSON object of samples on stdout:
- one step after an untimed `gc.collect()`: its phases, their total, the collector's pauses
  inside them ("gc") and its CPU time ("cpu");
- right after it, LOOP_STEPS steps back to back with nothing untimed between them, as a training
  loop runs them: the loop's wall time per step ("loop"), the collector's pauses anywhere in
  the loop per step ("loop_gc") and its CPU time per step ("loop_cpu"). Freeing each step's
  graph is inside the loop: chainrule's by reference counting as the step returns, micrograd's
  (its closures make cycles) whenever the collector next runs, which the single step's untimed
  `gc.collect()` leaves out.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

# `python benchmarks/fresh.py` puts benchmarks/ on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Clock, Contender, GcWatch, Timing  # noqa: E402

# Steps in the timed loop: five of micrograd's take 3.5-5 s here, more than all else it runs.
LOOP_STEPS = 5


def main(argv: list[str]) -> int:
    """Time one W3 step of `argv[0]` on `argv[1]` points, then a loop of LOOP_STEPS steps, and
    print their samples as JSON."""
    engine, points = argv[0], int(argv[1])
    if engine != "torch":
        # A user of one engine has not imported torch: 0.7 s and ~150,000 objects here. None in
        # sys.modules makes `import torch` fail, so workloads leaves torch out in this process.
        sys.modules["torch"] = None  # type: ignore[assignment]
    # Imported here, after the line above has decided whether torch is importable.
    from benchmarks import workloads as wl

    gc.collect()
    gc.freeze()
    print(json.dumps(step_and_loop(Contender(wl.W3_STEPS[engine](wl.w3_data(points))))))
    return 0


def step_and_loop(contender: Contender) -> dict[str, list[float]]:
    """A warm-up run, one timed run after an untimed collection, then LOOP_STEPS runs back to back:
    the one run's samples, and the loop's wall time, collector pauses and CPU time per run."""
    contender.once()
    timing = Timing()
    timing.keep(*contender.once())
    # The loop's own clock, one phase around all its runs, so that the watch counts every
    # pause inside the loop, between the runs' phases too.
    loop, steps = Clock(), Clock()
    watch = GcWatch(loop)
    gc.callbacks.append(watch)
    try:
        with loop("loop"):
            for _ in range(LOOP_STEPS):
                contender.run(steps)
    finally:
        gc.callbacks.remove(watch)
    timing.samples["loop"] = [loop.times["loop"] / LOOP_STEPS]
    timing.samples["loop_gc"] = [watch.seconds / LOOP_STEPS]
    timing.samples["loop_cpu"] = [loop.cpu / LOOP_STEPS]
    return timing.samples


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
