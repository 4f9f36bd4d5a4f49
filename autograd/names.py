"""What a node is called wherever it is named: error reports, explanations and drawings."""

from __future__ import annotations

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
