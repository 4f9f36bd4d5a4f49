"""Names from your own code for the nodes your forward makes, so that a chain of factors reads.

When `check_backward` runs your numpy forward on Values, every intermediate node is anonymous:
the softmax's row sum would be `add#3` in the chain of factors, which you cannot place. Your
code has names for those numbers, though: the local variables it assigned them to
(`exp_values`), the attributes it stored them in (`self.output`). This module collects them:

- `your_arrays` watches your functions return (with `sys.setprofile`, which leaves a debugger's
  breakpoints working) and keeps the attributes of `self` and the local variables that hold
  Values;
- `name_nodes` labels the entries of those arrays `exp_values[0,2]`, attributes before local
  variables (a loss's parameter `y_pred` is the softmax's `output`), and then the sums numpy
  made over them with no name of their own: np.sum(exp_values, axis=1) adds a row left to
  right, and the last of those additions is labelled `sum(exp_values[0,:])` (a mean, the sum
  divided by its count, `mean(...)`), and the differences of two named entries
  (`inputs[0,1] - inputs[0,0]`, the softmax's shift by the row's max).

Only nodes without a label are named, first come first served, and leaves keep theirs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
from collections.abc import Callable, Iterator
from types import CodeType, FrameType
from typing import Any

import numpy as np

from .value import Value

# Code from these directories is the machinery, not yours: numpy, this package and the
# standard library (copy.deepcopy of your object), but not the packages installed inside it.
_MACHINERY = tuple(
    os.path.join(os.path.realpath(p), "")
    for p in (os.path.dirname(np.__file__), os.path.dirname(__file__))
)
_STDLIB = tuple(
    os.path.join(os.path.realpath(sysconfig.get_paths()[k]), "") for k in ("stdlib", "platstdlib")
)

Entry = tuple[str, tuple[int, ...], tuple[int, ...]]  # array name, index, array shape


def _is_yours(code: CodeType, skip: CodeType | None) -> bool:
    path = os.path.realpath(code.co_filename)
    installed = "site-packages" in path or "dist-packages" in path
    stdlib = path.startswith(_STDLIB) and not installed
    return (
        code is not skip
        and not path.startswith(_MACHINERY)
        and not stdlib
        and "<frozen" not in path
    )


@contextlib.contextmanager
def your_arrays(skip: Callable[..., Any] | None = None) -> Iterator[list[tuple[str, Any]]]:
    """(name, array or Value) for what your functions held in self's attributes and in local
    variables, as they returned: every attribute first, then every local variable.

    Within each kind, innermost functions come first (they return first). `skip` is the
    caller's own function, whose locals are not yours. A profiler already set is restored.
    """
    attributes: list[tuple[str, Any]] = []
    local: list[tuple[str, Any]] = []
    cache: dict[CodeType, bool] = {}
    skipped = getattr(skip, "__code__", None)

    def watch(frame: FrameType, event: str, arg: Any) -> None:
        # called on every call and return, a Value's too: the common case must be quick
        if event != "return":
            return
        code = frame.f_code
        yours = cache.get(code)
        if yours is None:
            yours = cache[code] = _is_yours(code, skipped)
        if not yours:
            return
        for name, x in frame.f_locals.items():
            if name == "self":
                attributes.extend((a, y) for a, y in vars_of(x).items() if _has_values(y))
            elif _has_values(x):
                local.append((name, x))

    found: list[tuple[str, Any]] = []
    before = sys.getprofile()
    sys.setprofile(watch)
    try:
        yield found
    finally:
        sys.setprofile(before)
        found.extend(attributes + local)


def vars_of(x: Any) -> dict[str, Any]:
    """x's attributes, or none for an object without a __dict__."""
    try:
        return dict(vars(x))
    except TypeError:
        return {}


def _has_values(x: Any) -> bool:
    return isinstance(x, Value) or _holds_values(x)


def _holds_values(x: Any) -> bool:
    return (
        isinstance(x, np.ndarray)
        and x.dtype == object
        and x.size > 0
        and isinstance(x.flat[0], Value)
    )


def entry_name(name: str, index: tuple[int, ...]) -> str:
    """`weights[0,2]`: an entry of an array, as the report and the graph's labels write it."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def name_entries(array: Any, name: str, entries: dict[Value, Entry] | None = None) -> None:
    """Label the unlabelled nodes of `array` `name[i,j]`, and note in `entries` where each one sits."""
    out = np.asarray(array, dtype=object)
    for index in np.ndindex(out.shape):
        v = out[index]
        if not isinstance(v, Value):
            continue
        if not v.label and not v.is_leaf:
            v.label = entry_name(name, index)
        if entries is not None and v.label == entry_name(name, index):
            entries.setdefault(v, (name, index, out.shape))


def name_nodes(
    named: list[tuple[str, Any]], order: list[Value], entries: dict[Value, Entry]
) -> None:
    """Label the arrays in `named` entry by entry, then the sums and means numpy made over them.

    `order` is the graph's topological order; `entries` already holds the arrays named so far
    (the leaves, your output) and gains the new ones.
    """
    for name, x in named:
        name_entries(x, name, entries)
    # np.sum adds left to right, ((a + b) + c) + d: only the last addition of a chain is a sum
    # worth naming, and looking at the others would cost the square of the chain's length
    inner = {a for v in order if v.op == "add" and not v.label for a in v._inputs}
    for v in order:
        if v.label:
            continue
        if v.op == "add" and v not in inner:
            whole = _slice(_terms(v), entries)
            if whole:
                v.label = f"sum({whole})"
        elif v.op == "sub" and all(a in entries for a in v._inputs if isinstance(a, Value)):
            # the shift z - max z of a softmax, a centring x - mean: the (-1) on the edge to
            # the subtracted entry reads as what it is
            a, b = v._inputs
            if isinstance(a, Value) and isinstance(b, Value):
                v.label = f"{a.label} - {b.label}"
    for v in order:  # np.mean: the sum divided by its count
        if v.label or v.op != "div" or len(v._inputs) != 2:
            continue
        total, count = v._inputs
        if (
            isinstance(total, Value)
            and total.label.startswith("sum(")
            and type(count) is float
            and count == len(_terms(total))
        ):
            v.label = "mean(" + total.label[4:]


def _terms(v: Value) -> list[Any]:
    """The operands of a chain of unlabelled additions: ((a + b) + c) + d gives a, b, c, d."""
    terms, stack = [], [v]
    while stack:
        u = stack.pop()
        for a in reversed(u._inputs):
            if isinstance(a, Value) and a.op == "add" and not a.label and not a.is_leaf:
                stack.append(a)
            else:
                terms.append(a)
    return terms


def _slice(terms: list[Any], entries: dict[Value, Entry]) -> str:
    """`exp_values[0,:]`, `x[:2,1]`: when `terms` are exactly the entries of one slice of one
    array (contiguous along each axis), else ""."""
    where = [entries.get(t) if isinstance(t, Value) else None for t in terms]
    if len(terms) < 2 or any(w is None for w in where):
        return ""
    names = {(w[0], w[2]) for w in where if w}
    if len(names) != 1:
        return ""
    ((name, shape),) = names
    indices = {w[1] for w in where if w}
    if len(indices) != len(terms):
        return ""
    parts, size = [], 1
    for k, n in enumerate(shape):
        lo, hi = min(i[k] for i in indices), max(i[k] for i in indices) + 1
        size *= hi - lo
        if hi - lo == 1:
            parts.append(str(lo))
        else:
            parts.append(f"{lo or ''}:{hi if hi < n else ''}")
    if size != len(indices):  # distinct entries fill the box only if they are all of it
        return ""
    if all(p == ":" for p in parts):
        return name
    return f"{name}[{','.join(parts)}]"
