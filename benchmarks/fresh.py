"""One engine's W3 step, timed in a process of its own: `python benchmarks/fresh.py ENGINE POINTS`.

run.py's W3 starts one of these per engine and round (`harness.measure_in_fresh_processes`),
because micrograd's step is mostly cyclic-collector time, and in the one long benchmark process
that time grew with whatever earlier workloads had left alive (307-553 ms between runs). Every
engine's process is this same script under the same conditions: the interpreter running run.py,
the environment run.py hands down (numpy's BLAS threads included), the same imports, then
`gc.collect()` and `gc.freeze()` as run.py does after its imports, the collector on with its
default thresholds. ENGINE is a key of `workloads.W3_STEPS`.

The process builds its step (untimed), runs it once to warm up (replay records its graph then),
and times one more step after an untimed `gc.collect()`. It prints that step's samples (the
phases, their total, the collector's pauses inside them, the CPU time) as JSON on stdout.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

# `python benchmarks/fresh.py` puts benchmarks/ on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str]) -> int:
    """Time one W3 step of `argv[0]` on `argv[1]` points and print its samples as JSON."""
    engine, points = argv[0], int(argv[1])
    if engine != "torch":
        # A user of one engine has not imported torch: 0.7 s and ~150,000 objects here. None in
        # sys.modules makes `import torch` fail, so workloads leaves torch out in this process.
        sys.modules["torch"] = None  # type: ignore[assignment]
    # Imported here, after the line above has decided whether torch is importable.
    from benchmarks import workloads as wl
    from benchmarks.harness import Contender, Timing

    gc.collect()
    gc.freeze()
    contender = Contender(wl.W3_STEPS[engine](wl.w3_data(points)))
    contender.once()
    timing = Timing()
    timing.keep(*contender.once())
    print(json.dumps(timing.samples))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
