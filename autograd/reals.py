"""What counts as a real number at every entry point, and the error for what does not.

`Value()`, the operators, `apply`, `sum`, `dot`, `backward(grad=...)`, `gradcheck`, the
functional helpers, a custom op's results and `nn`'s and `viz`'s numbers all take numbers by
`real`'s rule (arrays of them by `real_array`'s, counts by `count`'s), so one number is accepted
or refused alike everywhere, with an error naming the entry point. Error messages quote numbers
with `shown`, which never prints the thousands of digits of a huge one.
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


def count(x: Any, who: str, least: int = 0, most: int | None = None) -> int:
    """`x` as an int in [least, most], or an error naming `who`: the rule for sizes and counts.

    A count is an int or a numpy integer, and booleans are 0 and 1 here too; a float (even 2.0),
    a Fraction or anything else is a TypeError, and an int out of range a ValueError.
    """
    if isinstance(x, (int, np.integer, np.bool_)) and not isinstance(x, np.timedelta64):
        n = int(x)
    else:
        hint = (
            "; use int(x)" if isinstance(x, (float, np.floating)) and float(x).is_integer() else ""
        )
        raise TypeError(f"{who} needs an int, got {type(x).__name__}{hint}")
    if n < least or (most is not None and n > most):
        if most is not None:
            need = f"an int from {least} to {most:,}"
        else:
            need = "a positive int" if least == 1 else f"an int >= {least}"
        raise ValueError(f"{who} must be {need}, got {shown(x)}")
    return n


def real_array(x: Any, who: str) -> np.ndarray:
    """`x` (an array-like of real numbers) as a float64 array, every entry by `real`'s rule.

    numpy's own conversion would read booleans as numbers (so do we), but would also turn a long
    double beyond the float range into inf without a word, and cannot hold a Fraction or a huge
    int except as objects: those entries are converted one by one, each by `real`, and an error
    names the entry. A ragged nesting is a ValueError; strings, dates, complex numbers a TypeError.
    A float64 array comes back as it is, not copied: callers read it.
    """
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged
        raise ValueError(f"{who} is not an array of numbers: {e}") from None
    kind = a.dtype.kind
    if kind == "O":
        entries = [
            real(e, f"{who}: the entry at {_where(i, a.shape)}") for i, e in enumerate(a.flat)
        ]
        return np.array(entries, dtype=np.float64).reshape(a.shape)
    if kind not in "biuf":
        raise TypeError(f"{who} needs real numbers, got an array of dtype {a.dtype}")
    with np.errstate(over="ignore"):  # a long double beyond the float range: checked below
        out = a.astype(np.float64, copy=False)  # float64 already: `x` itself, not a copy
    if kind == "f" and a.dtype.itemsize > 8:
        beyond = np.isinf(out) & np.isfinite(a)
        if beyond.any():
            i = int(np.argmax(beyond.ravel()))
            raise refusal(a.flat[i], f"{who}: the entry at {_where(i, a.shape)}")
    return out


def _where(i: int, shape: tuple[int, ...]) -> str:
    """Flat index i in an array of `shape`, as the user indexes it: [0, 2]."""
    return "[" + ", ".join(map(str, np.unravel_index(i, shape))) + "]" if shape else "[()]"


def shown(x: Any) -> str:
    """`x` as an error message quotes it: its repr, or for a huge int or Fraction its size alone.

    Python refuses to print an int of more than 4,300 digits, and a reader gets nothing from 400.
    """
    if isinstance(x, (int, fractions.Fraction)) and not isinstance(x, bool):
        r = fractions.Fraction(x)
        if max(abs(r.numerator), r.denominator).bit_length() > 64:
            return _magnitude(x)
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


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
