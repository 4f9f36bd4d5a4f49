"""What a benchmark run prints: the table of medians and ratios, the W3 phases, targets and notes.

Rows hold (median, min, max) per engine or a note saying why there is none; ratios compare
medians from the same run, chainrule's over the other engine's.
"""

from __future__ import annotations

import gc
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from benchmarks.harness import Timing

ENGINES = ("chainrule", "micrograd", "torch", "floor")  # the table's columns, in order


@dataclass
class Cell:
    """One table entry: (median, min, max) in the row's unit, or a note instead."""

    stats: tuple[float, float, float] | None = None
    note: str = "n/a"


@dataclass
class Row:
    """One line of the table; `target` is the largest allowed ratio of chainrule over `against`."""

    name: str
    unit: str  # "s", "ns" or "B"
    cells: dict[str, Cell]
    target: float | None = None
    target_text: str = ""
    against: str = "micrograd"


REPLAY_COLUMNS = ("replay", "scalar", "numpy")  # nn by replay, nn's scalar path, the book's code


@dataclass
class ReplayRow:
    """A line of the replay table: nn by replay and on its scalar path, against the book's numpy
    code for the same network. The target is met when replay / numpy is at most `ratio_target`
    and replay's median at most `limit` (in the row's unit), whichever are given."""

    name: str
    unit: str  # "s" or "MB"
    cells: dict[str, Cell]
    ratio_target: float | None = None
    limit: float | None = None
    target_text: str = ""

    def ratio(self, column: str) -> float | None:
        """The median of `column` over the book's numpy median, when both were measured."""
        a, b = self.cells[column].stats, self.cells["numpy"].stats
        return None if a is None or b is None or b[0] == 0.0 else a[0] / b[0]

    def met(self) -> bool | None:
        """Whether the target holds; None without a target or without replay's number."""
        mine, r = self.cells["replay"].stats, self.ratio("replay")
        if not self.target_text or mine is None:
            return None
        if self.ratio_target is not None and (r is None or r > self.ratio_target):
            return False
        return self.limit is None or mine[0] <= self.limit


@dataclass
class Report:
    """Everything one run measured, ready to be printed."""

    rows: list[Row] = field(default_factory=list)
    replay: list[ReplayRow] = field(default_factory=list)
    phases: dict[str, Timing] = field(default_factory=dict)  # W3 per engine, for the breakdown
    notes: list[str] = field(default_factory=list)


def cell(timing: Timing | None, phase: str, reason: str) -> Cell:
    """A phase's (median, min, max), or why it is missing: the timing's own note, or `reason`."""
    if timing is None:
        return Cell(note=reason)
    stats = timing.stats(phase)
    return Cell(stats) if stats else Cell(note=timing.note or reason)


def timing_rows(
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
        cells = {e: cell(timings.get(e), phase, reasons.get(e, "n/a")) for e in ENGINES}
        on_total = phase == "total"
        rows.append(
            Row(
                f"{title}: {phase}",
                "s",
                cells,
                target if on_total else None,
                target_text if on_total else "",
            )
        )
    return rows


def summary(timing: Timing) -> str:
    """The median total in ms, or the timing's note: one progress line's worth."""
    m = timing.median("total")
    return f"{m * 1e3:.1f} ms" if m is not None else timing.note


# ---- numbers as text ---------------------------------------------------------------------------


def fmt_value(x: float, unit: str) -> str:
    """A time in ms (from seconds), or nanoseconds, bytes or MB, with about 3 significant digits."""
    if unit in ("B", "ns"):
        return f"{x:,.0f}"
    if unit == "MB":
        return f"{x:,.1f}"
    ms = x * 1e3
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def fmt_cell(entry: Cell, unit: str) -> str:
    """'median (min–max)' with the unit, or the cell's note."""
    if entry.stats is None:
        return entry.note
    med, lo, hi = entry.stats
    suffix = {"s": " ms", "ns": " ns", "B": " B", "MB": " MB"}[unit]
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
    r = ratio(row, row.against)
    if row.target is None or r is None:
        return None
    return r <= row.target


def _verdict(row: Row, met: str, not_met: str) -> str:
    judged = target_met(row)
    return "n/a" if judged is None else met if judged else not_met


# ---- the tables --------------------------------------------------------------------------------


def _header(cols: list[str]) -> list[str]:
    """A markdown table's first two lines: names, then the first and last column left-aligned."""
    return ["| " + " | ".join(cols) + " |", "|" + "---|" + "---:|" * (len(cols) - 2) + "---|"]


def markdown_table(report: Report, headers: dict[str, str]) -> str:
    """The main table: one row per measured quantity, engines side by side, ratios and targets."""
    cols = [
        "workload",
        *[headers[e] for e in ENGINES],
        "chainrule / micrograd",
        "chainrule / floor",
        "target",
    ]
    lines = _header(cols)
    for row in report.rows:
        lines.append("| " + " | ".join(_table_cells(row)) + " |")
    return "\n".join(lines)


def _table_cells(row: Row) -> list[str]:
    rm, rf = ratio(row, "micrograd"), ratio(row, "floor")
    target = f"{row.target_text}: {_verdict(row, 'met', '**not met**')}" if row.target_text else ""
    return [
        row.name,
        *[fmt_cell(row.cells[e], row.unit) for e in ENGINES],
        fmt_ratio(rm) if rm is not None else "",
        fmt_ratio(rf) if rf is not None else "",
        target,
    ]


def replay_table(report: Report) -> str:
    """nn by replay and on its scalar path, beside the book's numpy code, with their ratios."""
    cols = [
        "workload",
        "nn, replay",
        "nn, scalar path",
        "the book's numpy (float64)",
        "replay / numpy",
        "scalar / numpy",
        "target",
    ]
    lines = _header(cols)
    for row in report.replay:
        ratios = [row.ratio(c) for c in ("replay", "scalar")]
        judged = row.met()
        verdict = "n/a" if judged is None else "met" if judged else "**not met**"
        lines.append(
            "| "
            + " | ".join(
                [
                    row.name,
                    *[fmt_cell(row.cells[c], row.unit) for c in REPLAY_COLUMNS],
                    *[fmt_ratio(r) if r is not None else "" for r in ratios],
                    f"{row.target_text}: {verdict}" if row.target_text else "",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def phase_table(report: Report) -> str:
    """W3's step alone split into its phases, then per step of the loop, medians in ms, one row per
    engine; "of which gc" is the collector's pauses inside each."""
    phases = ("forward", "zero_grad", "backward", "update", "total", "gc", "loop", "loop_gc")
    heads = [*phases[:5], "of which gc", "per step of the loop", "of which gc"]
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
            r = ratio(row, row.against)
            shown = fmt_ratio(r) if r is not None else "not measured"
            verdict = _verdict(row, "met", "NOT MET")
            out.append(
                f"- {row.name}: chainrule / {row.against} = {shown} "
                f"(target {row.target_text}): {verdict}"
            )
    for replay_row in report.replay:
        if replay_row.target_text:
            judged = replay_row.met()
            verdict = "n/a" if judged is None else "met" if judged else "NOT MET"
            r = replay_row.ratio("replay")
            shown = fmt_ratio(r) if r is not None else "not measured"
            out.append(
                f"- {replay_row.name}: replay / the book's numpy = {shown} "
                f"(target {replay_row.target_text}): {verdict}"
            )
    return out


def body(report: Report, headers: dict[str, str], notes: list[str], elapsed: float) -> str:
    """The whole printed report after the header: tables, targets, notes and the run's length."""
    return "\n\n".join(
        [
            markdown_table(report, headers),
            *([replay_table(report)] if report.replay else []),
            *([phase_table(report)] if report.phases else []),
            "Targets:\n" + "\n".join(targets_summary(report)),
            "Notes:\n" + "\n".join(f"- {n}" for n in [*report.notes, *notes]),
            f"The whole run took {elapsed:.0f} s; load average {load()} at the end.",
        ]
    )


# ---- the machine -------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine makes timings noisy."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def version(dist: str) -> str | None:
    """An installed distribution's version, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def threads() -> str:
    """How many threads numpy's BLAS runs (from threadpoolctl when it is installed) and the
    variables that set it: `numpy's BLAS 1 (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1)`."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    given = ", ".join(f"{n}={os.environ[n]}" for n in names if n in os.environ) or "none set"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"numpy's BLAS: {given}"
    blas = [str(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]
    return f"numpy's BLAS {'/'.join(blas) or 'unknown'} ({given})"


def environment(torch_version: str | None) -> tuple[str, dict[str, str]]:
    """The header lines (date, Python, machine, versions) and the engines' column headings."""
    mg, th = version("micrograd"), torch_version
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"- date: {now}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"gc {'on' if gc.isenabled() else 'OFF'}, thresholds {gc.get_threshold()}",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, {_cpu_model()}, "
        f"load average {load()} at the start",
        f"- micrograd {mg or 'not installed'}, torch {th or 'not installed'}, numpy "
        f"{version('numpy')}, chainrule {version('chainrule')}",
        f"- threads: {threads()}",
    ]
    headers = {
        "chainrule": "chainrule",
        "micrograd": f"micrograd {mg}" if mg else "micrograd",
        "torch": f"torch {th.split('+')[0]} scalars" if th else "torch scalars",
        "floor": "floats (floor)",
    }
    return "\n".join(lines), headers
