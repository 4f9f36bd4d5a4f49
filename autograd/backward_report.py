"""What `check_backward` tells a learner: per gradient OK or the wrong entries, and the mistake by name.

A `BackwardReport` holds one `GradientCheck` per gradient (dweights, dbiases, dinputs, ...). Each
check knows the learner's array, the correct one, and the tolerance per entry. When an array is
wrong, `recognise` tries the mistakes the book's readers make, each as a mutation of the correct
array: the transpose (also dvalues @ W for dvalues @ W.T, when a square W makes the shapes agree),
the right numbers in another shape (a missing keepdims), a flipped sign, a constant factor, a sum
over the wrong axis of dvalues, the side taken at a kink (< for <=), and dvalues passed through
unchanged. A constant factor is named a missing / n (or / outputs, or the count along the wrong
axis) only in a loss, whose mean runs over those counts, or in a forward that divides by a count;
a layer's factor is said as it is, whatever it happens to equal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .names import number_text as _num

WORST_SHOWN = 5  # rows in the table of the worst entries
WIDTH = 100  # the report's sentences are wrapped to this many characters


@dataclass
class Context:
    """What mistakes are recognised from: the upstream gradient, the arrays, the sizes."""

    dvalues: np.ndarray | None  # None for a loss: its backward receives the predictions
    arrays: dict[str, np.ndarray]  # the inputs and parameters, by name, as floats
    n_samples: int
    n_outputs: int
    eps: float  # the precision the tolerances are scaled by
    # per array, the entries under a comparison that found a tie, where the forward took a
    # side (np.maximum(0, 0)); known when the engine ran the forward, else empty
    at_kink: dict[str, np.ndarray] = field(default_factory=dict)
    # the counts the forward divides by (np.mean's), when the engine ran it: a forward that
    # averages can miss a / count in its backward; one that does not (a layer) cannot
    divisors: frozenset[int] = frozenset()


@dataclass
class Kink:
    """An entry whose central difference straddles a kink, judged against the one-sided slopes."""

    index: tuple[int, ...]
    left: float
    right: float
    side: str  # "left" or "right": the slope the learner's value matches


@dataclass
class GradientCheck:
    """One gradient: the learner's array against the correct one, entry by entry."""

    name: str  # "dweights": the attribute (or return value) that holds it
    of: str  # "weights": the array it is the gradient of
    correct: np.ndarray
    allowed: np.ndarray  # per entry: the largest |yours - correct| that counts as right
    yours: np.ndarray | None = None
    problem: str = ""  # "", "missing", "not numbers", "shape" or "values"
    wrong: np.ndarray | None = None  # boolean, the shape of correct, when the shapes agree
    mistake: str = ""  # the recognised mistake's name: "transpose", "sign", "missing / n", ...
    hint: str = ""  # the sentence that explains it
    chain: str = ""  # the chain of factors behind the first wrong entry
    chain_index: tuple[int, ...] = ()
    kinks: list[Kink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the array has the right shape and every entry is within tolerance."""
        return self.problem == ""

    @property
    def n_wrong(self) -> int:
        """The number of wrong entries (0 when the shapes differ: no entry can be compared)."""
        return 0 if self.wrong is None else int(self.wrong.sum())

    def first_wrong(self) -> tuple[int, ...]:
        """The index of the first wrong entry, in numpy's order (the first entry on a shape mismatch)."""
        if self.wrong is not None and self.wrong.any():
            return tuple(int(i) for i in np.argwhere(self.wrong)[0])
        return (0,) * self.correct.ndim

    def worst(self) -> list[tuple[tuple[int, ...], float, float, float]]:
        """(index, yours, correct, |difference|) of the wrong entries, largest difference first."""
        if self.wrong is None or self.yours is None:
            return []
        diff = np.abs(self.yours - self.correct)
        diff = np.where(np.isnan(diff), np.inf, diff)
        rows = [
            (tuple(int(i) for i in index), float(self.yours[index]), float(self.correct[index]))
            for index in map(tuple, np.argwhere(self.wrong))
        ]
        rows.sort(key=lambda r: -float(diff[r[0]]))
        return [(i, y, c, float(diff[i])) for i, y, c in rows[:WORST_SHOWN]]

    def lines(self) -> Iterator[str]:
        """This gradient's part of the report."""
        if self.problem == "":
            yield f"{self.name}: OK ({_entries(self.correct.size)})"
            for k in self.kinks:
                yield (
                    f"  {_at(self.of, k.index)} sits on a kink (left slope {_num(k.left)}, right"
                    f" slope {_num(k.right)}): yours takes the {k.side} slope, which counts as right."
                )
            return
        if self.problem == "missing":
            yield f"{self.name}: MISSING: your backward did not set it."
            return
        if self.problem == "not numbers":
            yield f"{self.name}: WRONG: it is not an array of numbers."
            return
        assert self.yours is not None
        if self.problem == "shape":
            shape, expected = self.yours.shape, self.correct.shape
            transposed = shape == expected[::-1] and len(shape) == 2
            guess = (
                ": a missing transpose?" if transposed and self.mistake in ("", "transpose") else ""
            )
            yield f"{self.name}: WRONG: {self.name} has shape {shape}, expected {expected}{guess}"
            yield f"  (the gradient of {self.of} has the shape of {self.of})"
        else:
            yield f"{self.name}: WRONG in {self.n_wrong} of {_entries(self.correct.size)}. The worst:"
            yield from _table(self.worst())
        if self.hint:
            yield textwrap.fill(
                f"Recognised: {self.hint}",
                WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
                break_on_hyphens=False,
            )
        if not self.chain and self.problem == "values" and self.yours is not None:
            i = self.chain_index
            yield (
                f"  The first wrong entry is {_at(self.name, i)} (yours: {_num(float(self.yours[i]))},"
                f" correct: {_num(float(self.correct[i]))})."
            )
        if self.chain:
            i = self.chain_index
            mine = ""
            if self.problem == "values" and self.yours is not None:
                mine = f" (yours: {_num(float(self.yours[i]))})"
            yield f"  Where the correct {_at(self.name, i)} comes from{mine}:"
            for line in self.chain.splitlines():
                yield f"    {line}".rstrip()


@dataclass
class BackwardReport:
    """Whether a hand-written backward is right, per gradient; truthy when all are. str() is the report."""

    title: str  # "Layer_Dense.backward"
    checks: list[GradientCheck]
    method: str  # "engine" or "central differences"
    how: str  # how L and dvalues were chosen
    precision: str  # "float64" or "float32"
    ulps: float
    reason: str = ""  # why the engine was not used
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every gradient is right."""
        return all(c.ok for c in self.checks)

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, name: str) -> GradientCheck:
        """The check of one gradient, by its name: report['dweights']."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(
            f"no gradient named {name!r}; this report has {[c.name for c in self.checks]}"
        )

    @property
    def wrong(self) -> list[str]:
        """The names of the gradients that are wrong, in report order."""
        return [c.name for c in self.checks if not c.ok]

    def headline(self) -> str:
        """One sentence: right, or which gradients are wrong."""
        names = [c.name for c in self.checks]
        if self.ok:
            verb = (
                "matches the correct gradient" if len(names) == 1 else "match the correct gradients"
            )
            return f"{self.title} is right: {_and(names)} {verb}."
        right = [c.name for c in self.checks if c.ok]
        tail = f" ({_and(right)} {'is' if len(right) == 1 else 'are'} right)" if right else ""
        return f"{self.title} is wrong in {_and(self.wrong)}{tail}."

    def __str__(self) -> str:
        lines = [self.headline(), ""]
        for c in self.checks:
            lines.extend(c.lines())
            if not c.ok:
                lines.append("")
        if lines[-1]:
            lines.append("")
        if self.method == "engine":
            how = (
                "The correct gradients are the engine's, from your forward run on Values; an entry"
                f" counts as right within {self.ulps:g} ulps ({self.precision}) of the size of the"
                " terms that make it."
            )
        else:
            how = (
                "The correct gradients are central differences of your forward on floats, because"
                f" {self.reason}. An entry counts as right within a millionth of the largest."
            )
        for paragraph in (self.how, how, *self.notes):
            lines.append(textwrap.fill(paragraph, WIDTH, break_on_hyphens=False))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


# ---- recognising a mistake: does the wrong array equal a known mutation of the correct one? ----


Recogniser = Callable[[GradientCheck, np.ndarray, Context], tuple[str, str]]


def recognise(check: GradientCheck, context: Context) -> tuple[str, str]:
    """(name, sentence) of the first known mistake that turns the correct array into yours, else ("", "")."""
    if check.yours is None:
        return "", ""
    for test in _RECOGNISERS:
        found = test(check, check.yours, context)
        if found[0]:
            return found
    return "", ""


def _close(a: np.ndarray, b: np.ndarray, allowed: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all((a == b) | (np.abs(a - b) <= allowed)))


def _transpose(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    c = check.correct
    if c.ndim != 2 or y.shape != c.T.shape or _close(c, c.T, check.allowed):
        return "", ""
    if _close(y.T, c, check.allowed):
        return (
            "transpose",
            f"yours is the transpose of the correct {check.name}: a missing (or extra) transpose.",
        )
    return "", ""


def _reshaped(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    c = check.correct
    if y.shape == c.shape or y.size != c.size or not _close(y.reshape(c.shape), c, check.allowed):
        return "", ""
    if [k for k in y.shape if k != 1] == [k for k in c.shape if k != 1]:
        return (
            "keepdims",
            f"yours holds the right numbers, in shape {y.shape} where {check.of} has"
            f" {c.shape}: a missing keepdims=True in np.sum?",
        )
    return "reshape", f"yours holds the right numbers, in shape {y.shape} instead of {c.shape}."


def _sign(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    c = check.correct
    if not np.any(np.abs(c) > check.allowed) or not _close(y, -c, check.allowed):
        return "", ""
    return "sign", "yours is the correct array with every sign flipped: a sign error."


def _scale(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    c = check.correct
    if y.shape != c.shape:
        return "", ""
    big = np.abs(c) - check.allowed
    i = np.unravel_index(int(np.argmax(big)), c.shape)
    if big[i] <= 0:
        return "", ""
    k = float(y[i] / c[i])
    if not np.isfinite(k) or k == 0 or abs(abs(k) - 1) < 1e-6:
        return "", ""
    if not _close(y, k * c, 2 * abs(k) * check.allowed + 4 * context.eps * np.abs(y)):
        return "", ""
    # The '/ n' names only where a count divides: in a loss (its mean) and in a forward that
    # averages. A layer's factor that happens to equal its outputs is only a factor.
    named = _loss_counts(context) if context.dvalues is None else _divisor_counts(context)
    for factor, name, text in named:
        if factor not in (1, -1) and abs(k - factor) <= 1e-6 * abs(factor):
            return name, text
    inverse = round(1 / k)
    fraction = f" (1/{inverse})" if abs(inverse) > 1 and abs(1 / k - inverse) <= 1e-6 else ""
    return (
        "factor",
        f"yours is {k:.6g}{fraction} times the correct array: a constant factor is wrong.",
    )


def _loss_counts(context: Context) -> list[tuple[float, str, str]]:
    """The factors a loss's backward gets wrong by a count, each named: its mean runs over the
    samples (n) and, for some losses, the outputs per sample (m)."""
    n, m = context.n_samples, context.n_outputs
    why = " (n: the number of samples, the first axis of the inputs)."
    return [
        (n, "missing / n", f"a missing / n: yours is n = {n} times the correct array{why}"),
        (1 / n, "extra / n", f"an extra / n: yours is the correct array divided by n = {n}{why}"),
        (
            -n,
            "missing / n",
            f"a missing / n and a flipped sign: yours is -{n} times the correct array{why}",
        ),
        (
            m,
            "missing / n",
            f"a missing / outputs: yours is {m} (the outputs per sample) times the correct array.",
        ),
        (
            n * m,
            "missing / n",
            f"a missing / (n * outputs): yours is {n} x {m} = {n * m} times the correct array{why}",
        ),
        (
            n / m,
            "wrong axis",
            f"the count along the wrong axis: yours divides by the {m} outputs per sample"
            f" where the mean is over the {n} samples (len(dvalues[0]) for len(dvalues)?).",
        ),
        (
            m / n,
            "wrong axis",
            f"the count along the wrong axis: yours divides by the {n} samples where the"
            f" {m} outputs per sample belong (len(dvalues) for len(dvalues[0])?).",
        ),
    ]


def _divisor_counts(context: Context) -> list[tuple[float, str, str]]:
    """The factors a backward gets wrong by a count its forward divides by (a mean's)."""
    named: list[tuple[float, str, str]] = []
    for c in sorted(context.divisors):
        by = f"your forward divides by {c} (a mean?)."
        named += [
            (c, "missing / n", f"a missing / {c}: yours is {c} times the correct array, and {by}"),
            (
                1 / c,
                "extra / n",
                f"an extra / {c}: yours is the correct array divided by {c}; {by}",
            ),
            (
                -c,
                "missing / n",
                f"a missing / {c} and a flipped sign: yours is -{c} times the correct array, and {by}",
            ),
        ]
    return named


def _axis_text(axis: int | None) -> str:
    return "all entries" if axis is None else f"axis {axis}"


def _wrong_axis(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    d, c = context.dvalues, check.correct
    if d is None or d.ndim != 2:
        return "", ""
    axes: tuple[int | None, ...] = (0, 1, None)
    right = [a for a in axes if _sum_is(d, a, c, check.allowed)]
    if not right:
        return "", ""
    for b in axes:
        if b in right:
            continue
        tol = 4 * context.eps * np.abs(d).sum(axis=b)
        s = d.sum(axis=b)
        if s.size == y.size and _close(y.reshape(s.shape), s, tol):
            keep = ", keepdims=True" if c.ndim == d.ndim else ""
            return (
                "wrong axis",
                f"the sum over the wrong axis: yours is np.sum(dvalues, axis={b}), the sum over"
                f" {_axis_text(b)}; {check.name} is np.sum(dvalues, axis={right[0]}{keep}),"
                f" the sum over {_axis_text(right[0])}.",
            )
    return "", ""


def _square_transpose(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    """dvalues @ W where dvalues @ W.T belongs, for a square W: the shapes cannot tell."""
    d, c = context.dvalues, check.correct
    if d is None or d.ndim != 2 or y.shape != c.shape or c.shape != d.shape:
        return "", ""
    for name, w in context.arrays.items():
        if w.ndim != 2 or w.shape != (d.shape[1], d.shape[1]) or name == check.of:
            continue
        # the products' rounding: a few ulps of the sizes of their terms
        tol = check.allowed + 8 * context.eps * (np.abs(d) @ np.abs(w))
        if _close(d @ w.T, c, tol) and _close(y, d @ w, tol):
            return (
                "transpose",
                f"yours is dvalues @ {name} where {check.name} is dvalues @ {name}.T: a missing"
                f" .T ({name} is square, so the shapes agree and only the numbers tell).",
            )
    return "", ""


def _sum_is(d: np.ndarray, axis: int | None, c: np.ndarray, allowed: np.ndarray) -> bool:
    s = np.sum(d, axis=axis)
    return s.size == c.size and _close(s.reshape(c.shape), c, allowed)


def _kink(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    source = context.arrays.get(check.of)
    wrong = check.wrong
    if source is None or wrong is None or source.shape != y.shape or not wrong.any():
        return "", ""
    count = f"{int(wrong.sum())} entr{'y' if wrong.sum() == 1 else 'ies'}"
    d = context.dvalues
    at_zero = np.all(source[wrong] == 0)
    passed_through = d is not None and d.shape == y.shape and np.all(y[wrong] == d[wrong])
    if at_zero and passed_through and np.all(check.correct[wrong] == 0):
        return (
            "< for <=",
            f"yours passes dvalues through where {check.of} is exactly 0 ({count}); the book's"
            f" ReLU derivative there is 0 (dinputs[inputs <= 0] = 0): a < where <= belongs?",
        )
    at_kink = context.at_kink.get(check.of)
    if at_kink is not None and at_kink.shape == y.shape and np.all(at_kink[wrong]):
        return (
            "< for <=",
            f"yours is wrong only where {check.of} sits on a kink ({count}), where a comparison"
            " found a tie (max(0, 0) in your forward, |w| at w = 0 in a regulariser) and took one"
            " side; your backward takes the other: a < where <= belongs, or the reverse?",
        )
    if at_zero and not context.at_kink:
        return (
            "< for <=",
            f"yours is wrong only where {check.of} is exactly 0 ({count}), a kink where the"
            " derivative takes one side: a < where <= belongs, or the reverse?",
        )
    return "", ""


def _unchanged(check: GradientCheck, y: np.ndarray, context: Context) -> tuple[str, str]:
    d = context.dvalues
    if d is None or d.shape != y.shape or not np.array_equal(y, d):
        return "", ""
    return "unchanged", "yours is dvalues unchanged: the local derivative was never applied."


_RECOGNISERS: list[Recogniser] = [
    _transpose,
    _square_transpose,
    _reshaped,
    _sign,
    _scale,
    _wrong_axis,
    _kink,
    _unchanged,
]


# ---- text helpers ----


def _at(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{','.join(map(str, index))}]" if index else name


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _and(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _table(rows: list[tuple[tuple[int, ...], float, float, float]]) -> Iterator[str]:
    table = [("index", "yours", "correct", "difference")]
    table += [(_at("", i), _num(y), _num(c), _num(d)) for i, y, c, d in rows]
    widths = [max(len(r[k]) for r in table) for k in range(4)]
    for r in table:
        yield "  " + "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip()
