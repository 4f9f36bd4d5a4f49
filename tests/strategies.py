"""The test suite's strategies: the public ones of `autograd.testing`, plus named shorthands.

Tests import from here so that every property in the suite draws from the same definitions a
user's own suite gets from `autograd.testing`; nothing is redefined.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from autograd import OpFunction, defop, unregister
from autograd.ops import BUILT_IN
from autograd.testing import (
    BOUND,
    MARGIN,
    Expression,
    Step,
    assert_gradients_match,
    expressions,
    graphs,
    op_inputs,
    usable,
    values,
)

__all__ = [
    "BOUND",
    "BUILT_IN_OPS",
    "MARGIN",
    "Expression",
    "Step",
    "assert_gradients_match",
    "away_from_kinks",
    "custom_op",
    "expressions",
    "graphs",
    "op_inputs",
    "positive",
    "small",
    "usable",
    "values",
]

# The engine's own ops. Properties over random graphs name them: tests register custom ops, so
# drawing from the whole table would make the drawn examples depend on which tests ran before.
BUILT_IN_OPS = tuple(sorted(BUILT_IN))

small = values(-3.0, 3.0)  # moderate numbers, where no op overflows
positive = values(0.0, 10.0, positive=True)  # inputs of log, bases of pow
away_from_kinks = values(-10.0, 10.0, away_from=(0.0,))  # relu's input, a denominator

_serial = itertools.count()


@contextmanager
def custom_op(
    stem: str, f: Callable[..., float], df: Callable[..., Any], **kwargs: Any
) -> Iterator[OpFunction]:
    """Register a throwaway op under a unique name, and unregister it when the block ends.

    Unique names keep reruns and parallel workers apart; unregistering keeps the op out of the
    random graphs that later tests draw from the whole table.
    """
    fn = defop(f"{stem}_{os.getpid()}_{next(_serial)}", f, df, **kwargs)
    try:
        yield fn
    finally:
        unregister(fn.op.name)
