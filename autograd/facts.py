"""What an op's entry (`ops.Op`) says besides its rule, and how those facts are read.

- How `explain` writes a derivative: a `Formula`, written through a `Notation`.
- Where `autograd.testing` draws an operand: a testing domain, one `Slot` per operand.
- The op over numpy arrays, which a replay runs: an `ArrayForm`.
- The points where the op is not differentiable, read and checked by `kink_points`.

None of this is needed to follow the chain rule; ops.py imports it to fill its entries.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # an entry is read through its attributes: ops.py imports this module
    from .ops import Op


class Notation(Protocol):
    """How `explain` writes a derivative: plain text for str(), LaTeX for Jupyter.

    An entry's `formula` and `note` build their strings with these, so that one function serves
    both renderings. `value(k)` and `constant(k)` tell them about operand k, for the few rules
    whose form depends on it (a piecewise rule's branch, a constant exponent).
    """

    @property
    def le(self) -> str:
        """The sign ≤ (\\le in LaTeX)."""

    def mul(self, a: str, b: str) -> str:
        """a · b, parenthesised where needed."""

    def div(self, a: str, b: str) -> str:
        """a / b."""

    def pow(self, a: str, e: str) -> str:
        """a to the power e (a² for e = 2, a itself for e = 1)."""

    def ln(self, a: str) -> str:
        """The natural logarithm of a."""

    def fn(self, name: str, a: str) -> str:
        """A named function of a: cos(a), sqrt(a), |a| (\\cos, \\sqrt{}, |a| in LaTeX)."""

    def num(self, x: float) -> str:
        """A number as explain shows it: 12, 0.5, -0.333333."""

    def value(self, k: int) -> float:
        """The number of operand k."""

    def constant(self, k: int) -> bool:
        """True when operand k is a constant (the 2 in x * 2), not a node."""


# formula(s, x, out, i) writes d out/d x_i, with x the operands' texts (their names, or their
# numbers) and out the output's: "2·relu" for square, and with numbers put in, "2·6".
Formula = Callable[[Notation, Sequence[str], str, int], str]


def branch_note(s: Notation, x: Sequence[str], out: str, i: int) -> str:
    """Which piece a rule that switches at 0 took: `x = 6 > 0` or `x = -1 ≤ 0` (relu, elu...)."""
    z = s.value(0)
    return f"{x[0]} = {s.num(z)} {'>' if z > 0 else s.le} 0"


# Testing domains: per operand, the intervals where the op is finite, differentiable and
# well-conditioned (autograd.testing draws its inputs there). An end of None stands for the
# bound in force; the last slot repeats for an n-ary op.
Interval = tuple[float | None, float | None]
Slot = tuple[Interval, ...]
MARGIN = 0.1  # how far a domain keeps an operand from a pole or a kink
ANY: Slot = ((None, None),)
NONZERO: Slot = ((None, -MARGIN), (MARGIN, None))
POSITIVE: Slot = ((MARGIN, None),)


@dataclass(frozen=True)
class ArrayForm:
    """The op over numpy arrays, elementwise: `f(*arrays)` and `df(out, *arrays)`, as in `Op`.

    This is what a replay over a batch runs: each operand a float64 array (all broadcastable),
    called under `np.errstate(all="ignore")` and giving the scalar rule's numbers, IEEE edges
    included. To a few ulp only: numpy's exp, log and tanh round differently from Python's math
    (np.tanh differs in the last bit for about 1 input in 5), and a derivative written in terms
    of the output inherits that (tanh' = 1 - f^2 makes it 4e-9 relative at x = 9). A derivative
    may be a plain number (add's 1.0), to be broadcast. `None` means the scalar rule already works
    on arrays as written: `ArrayForm()` says so for both.
    """

    f: Callable[..., Any] | None = None
    df: Callable[..., Sequence[Any]] | None = None


def array_rules(op: Op) -> tuple[Callable[..., Any], Callable[..., Sequence[Any]]] | None:
    """`op`'s forward and derivatives over numpy arrays (see `ArrayForm`), or None without them."""
    if op.array is None:
        return None
    return op.array.f or op.f, op.array.df or op.df


def kink_points(op: Op, xs: Sequence[float]) -> list[list[float]]:
    """`op.kinks(*xs)` checked: per input, the points (floats) where the op is not differentiable."""
    if op.kinks is None:
        return [[] for _ in xs]
    raw = op.kinks(*xs)
    need = f"kinks of op {op.name!r} must return one sequence of points per input ({len(xs)})"
    if not isinstance(raw, (tuple, list)) or len(raw) != len(xs):
        raise TypeError(f"{need}, got {raw!r:.80}")
    points = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, (tuple, list)):
            raise TypeError(f"{need}; for input {i} it gave {type(entry).__name__} {entry!r:.40}")
        for p in entry:
            if not isinstance(p, numbers.Real) or isinstance(p, bool):
                raise TypeError(f"{need}; for input {i} it gave the point {p!r:.40}, not a number")
        points.append([float(p) for p in entry])
    return points
