"""Numbers of every kind and type, and things that are no number: the inputs that the
property tests of the public entry points (test_inputs.py for autograd, test_inputs_nn_viz.py
for nn and viz) feed in, the rule that says what each one stands for, and their tally.

The rule (`autograd.reals.real`): a real number is an int, a float, a Fraction or a numpy
integer or floating scalar, and booleans (Python's and numpy's) are 0 and 1. One too large for a
float is an OverflowError; anything else (complex, Decimal, str, numpy's datetime64 and
timedelta64, None, a list...) a TypeError. `expected` states it on its own.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

_HUGE_INTS = st.sampled_from([10**400, -(10**400), 2**1024, -(2**1024), 10**5000])
_BIG_FLOAT_INTS = st.sampled_from([2**1023, -(2**1023), int(1.7976931348623157e308)])
_HUGE_FRACTIONS = st.sampled_from([Fraction(10**400, 3), Fraction(-(10**320), 7)])
_LONG_DOUBLES = st.sampled_from(
    [np.longdouble("1e400"), np.longdouble("-1e4000"), np.longdouble("1e-400")]
)
_NUMPY_DTYPES = [
    np.bool_,
    *(np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64),
    *(np.float16, np.float32, np.float64, np.longdouble),
    *(np.complex64, np.complex128, np.clongdouble),
    np.datetime64,
    np.timedelta64,
    np.str_,
    np.bytes_,
]
NOT_NUMBERS = [None, "1.5", b"1", [1.0], (1.0,), {"x": 1.0}, {1.0}, object(), np.void(b"ab")]

KINDS: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(-(10**6), 10**6),
    "int, too large for a float": _HUGE_INTS,
    "int, near the float limit": _BIG_FLOAT_INTS,
    "float": st.floats(),  # nan, ±inf, ±0.0 and subnormals included
    "float, special": st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324]),
    "bool": st.booleans(),
    "complex": st.complex_numbers(),
    "Fraction": st.fractions(),
    "Fraction, too large for a float": _HUGE_FRACTIONS,
    "Decimal": st.decimals(),  # nan, sNaN and ±Infinity included
    **{f"numpy {t.__name__}": hnp.from_dtype(np.dtype(t)) for t in _NUMPY_DTYPES},
    "numpy longdouble, beyond the float range": _LONG_DOUBLES,
    "numpy 0-d array": hnp.arrays(st.sampled_from(["f8", "i4", "?"]), ()),
    "numpy 1-element array": hnp.arrays(st.sampled_from(["f4", "i8"]), (1,)),
    "not a number": st.sampled_from(NOT_NUMBERS),
}


@st.composite
def anything(draw: st.DrawFn) -> tuple[str, Any]:
    """(kind, value): a kind drawn first, so that every kind is tried about as often."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    return kind, draw(KINDS[kind])


def expected(x: Any) -> float | type[Exception]:
    """The rule, stated on its own: the float `x` stands for, or the error class it must raise."""
    if isinstance(x, (bool, np.bool_)):
        return 1.0 if x else 0.0
    if not isinstance(x, numbers.Real) or isinstance(x, np.timedelta64):
        return TypeError
    try:
        f = float(x)
    except OverflowError:
        return OverflowError
    if math.isinf(f) and isinstance(x, np.floating) and np.isfinite(x):
        return OverflowError  # a long double that float() would silently turn into inf
    return f


def same(a: float, b: float) -> bool:
    """Equal floats (0.0 == -0.0), or both nan."""
    return a == b or (math.isnan(a) and math.isnan(b))


# A fixed example or two of every kind at its edges, so that every kind is surely tried.
EDGES: dict[str, list[Any]] = {
    "int": [0, -7, 2**53 + 1],
    "int, too large for a float": [10**400, -(2**1024)],
    "int, near the float limit": [2**1023, int(1.7976931348623157e308)],
    "float": [1.5, -2.25, 1e300],
    "float, special": [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324],
    "bool": [True, False],
    "complex": [1j, complex(1.5, 0.0)],
    "Fraction": [Fraction(1, 3), Fraction(1, 10**400)],
    "Fraction, too large for a float": [Fraction(10**400, 3)],
    "Decimal": [Decimal("1.5"), Decimal("nan"), Decimal("sNaN"), Decimal("-Infinity")],
    "numpy bool": [np.True_, np.False_],
    **{f"numpy {t.__name__}": [t(3)] for t in _NUMPY_DTYPES[1:11]},
    "numpy float16": [np.float16(65504.0), np.float16(np.nan)],
    "numpy float32": [np.float32(0.1), np.float32(-np.inf)],
    "numpy float64": [np.float64(2.5), np.float64(-0.0)],
    "numpy longdouble": [np.longdouble("0.1")],
    "numpy longdouble, beyond the float range": [np.longdouble("1e400")],
    "numpy complex64": [np.complex64(1.5)],
    "numpy complex128": [np.complex128(1j)],
    "numpy clongdouble": [np.clongdouble(2.0)],
    "numpy datetime64": [np.datetime64("2020-01-01")],
    "numpy timedelta64": [np.timedelta64(5), np.timedelta64(3, "s")],
    "numpy str_": [np.str_("1.5")],
    "numpy bytes_": [np.bytes_(b"1")],
    "numpy 0-d array": [np.array(2.5), np.array(True)],
    "numpy 1-element array": [np.array([2.5])],
    "not a number": NOT_NUMBERS,
}


class Tally:
    """What a property test tried (inputs per kind) and what came out (per entry point)."""

    OUTCOMES = ("float", "TypeError", "OverflowError", "ValueError", "OSError", "skipped")

    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()  # inputs tried, per kind
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (entry point, outcome)

    def report(self) -> str:
        """The counts as a table: inputs per kind, then outcomes per entry point."""
        lines = [f"\n{sum(self.tried.values())} inputs tried:"]
        lines += [f"  {n:4d}  {kind}" for kind, n in sorted(self.tried.items())]
        entries = sorted({e for e, _ in self.outcomes})
        width = max([24, *map(len, entries)])
        kinds = self.OUTCOMES
        lines.append(f"\n  {'entry point':<{width}}" + "".join(f"{k:>14}" for k in kinds))
        for e in entries:
            lines.append(f"  {e:<{width}}" + "".join(f"{self.outcomes[e, k]:>14}" for k in kinds))
        totals = Counter(k for (_, k), n in self.outcomes.items() for _ in range(n))
        lines.append(f"  {'all':<{width}}" + "".join(f"{totals[k]:>14}" for k in kinds))
        return "\n".join(lines)
