"""What counts as a real number at every entry point, and the error for what does not.

`Value()`, the operators, `apply`, `sum`, `dot`, `backward(grad=...)`, `gradcheck`, the
functional helpers, a custom op's results and `nn`'s inputs all take numbers by `real`'s rule,
so one number is accepted or refused alike everywhere, with an error naming the entry point.
"""

from __future__ import annotations

import decimal
import fractions
import math
import numbers
from typing import Any

import numpy as np


def real(x: Any, who: str = "Value()") -> float:
    """`x` as a float, or an error that names `who` and the problem.

    The one rule of every entry point: a real number is an int, a float, a Fraction, or a numpy
    integer or floating scalar. Booleans, Python's and numpy's alike, are the numbers 0 and 1, as
    in Python and numpy arithmetic. A number too large for a float raises OverflowError, as
    float() does; anything else (complex, Decimal, str, an array, numpy's datetime64 and
    timedelta64) raises TypeError. nan and inf are floats like any other.
    """
    if type(x) is float:
        return x
    f = to_float(x)
    if f is None:
        raise refusal(x, who)
    return f


def to_float(x: Any) -> float | None:
    """`x` as a float when it is a real number that a float can hold (see `real`), else None."""
    if isinstance(x, numbers.Real) and not isinstance(x, np.timedelta64):
        try:
            f = float(x)
        except (OverflowError, TypeError, ValueError):
            return None
        if f - f != 0.0 and isinstance(x, np.floating) and np.isfinite(x):
            return None  # a long double beyond the float range, which float() turns into inf
        return f
    if isinstance(x, np.bool_):
        return 1.0 if x else 0.0
    return None


def refusal(x: Any, who: str, wanted: str = "a real number") -> Exception:
    """The error for an `x` that `real` refuses: OverflowError when too large, else TypeError."""
    kind = type(x).__name__
    if isinstance(x, numbers.Real) and not isinstance(x, np.timedelta64):
        try:
            float(x)
        except (TypeError, ValueError) as e:
            return TypeError(f"{who} could not turn {kind} {x!r:.60} into a float: {e}")
        except OverflowError:
            pass
        return OverflowError(
            f"{who} got {_article(kind)} {kind} too large for a float ({_magnitude(x)}; "
            f"floats end near 1.8e308)"
        )
    hint = ""
    if isinstance(getattr(x, "data", None), float) and callable(getattr(x, "detach", None)):
        hint = "; use .data or .detach()"  # a Value: this module sits below value.py
    elif isinstance(x, np.ndarray) and x.size == 1:
        hint = "; use .item() for a one-element array"
    elif isinstance(x, np.timedelta64):
        hint = " (a time span, not a number)"
    elif isinstance(x, np.datetime64):
        hint = " (a date, not a number)"
    elif isinstance(x, decimal.Decimal):
        hint = "; use float(x)"
    return TypeError(f"{who} needs {wanted}, got {kind}{hint}")


def _magnitude(x: Any) -> str:
    """'about 10**400' for a huge number, without printing its thousands of digits."""
    if isinstance(x, (numbers.Integral, fractions.Fraction)):
        r = fractions.Fraction(int(x)) if isinstance(x, numbers.Integral) else x
        exponent = math.log10(abs(r.numerator)) - math.log10(r.denominator)
    else:  # a numpy long double: its own log10 works in its own range
        exponent = float(np.log10(np.abs(x)))
    return f"about {'-' if x < 0 else ''}10**{math.floor(exponent)}"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiouAEIOU" else "a"
