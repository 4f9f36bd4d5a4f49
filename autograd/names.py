"""How nodes, numbers and path counts are written in error reports, explanations and drawings."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # names are read from attributes only, so this module imports nothing
    from .value import Value


def number_text(x: float) -> str:
    """A number as a learner reads it: 12, 0.5, -0.333333, 1e-07, inf, nan (never -0)."""
    if x == 0.0:
        return "0"
    return f"{x:.6g}"


def node_name(v: Value) -> str:
    """A node's name: its label, else the op that made it (`mul`), else its number (a leaf)."""
    return v.label or v.op or number_text(v.data)


# Counts with more digits than this are shown by their size alone: Python refuses to print an
# int of more than 4,300 digits, and a reader gets nothing from a hundred digits anyway.
MAX_COUNT_DIGITS = 100


def count_text(n: int) -> str:
    """A path count as a reader takes it in: `4,800`; `1,606,…,376 (about 1.6e+60)` from 13 digits on.

    From MAX_COUNT_DIGITS digits on only the size is shown: `2^15000 (about 2.8e+4515)` for a
    power of two (a graph of repeated x + x doubles its paths at every level), else `about 2.8e+4515`.
    """
    if n < 10**12:
        return f"{n:,}"
    # Exponent and first three digits from integer arithmetic, never from str(n).
    e = int((n.bit_length() - 1) * math.log10(2))
    while 10 ** (e + 1) <= n:
        e += 1
    while 10**e > n:
        e -= 1
    digits = e + 1
    lead = (n // 10 ** (e - 2) + 5) // 10  # the first two digits, rounded
    if lead == 100:
        lead, e = 10, e + 1
    size = f"about {lead // 10}.{lead % 10}e+{e}"
    if digits <= MAX_COUNT_DIGITS:
        return f"{n:,} ({size})"
    if n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1} ({size})"
    return size
