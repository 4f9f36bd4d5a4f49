"""`check_backward`: grade a hand-written numpy backward against the engine, entry by entry.

The nnfs book teaches backpropagation by writing backward by hand (dweights = inputs.T @ dvalues,
drelu[z <= 0] = 0). This module checks such code. A backward receives the gradient `dvalues` of
some loss with respect to forward's output and must return the gradient of that loss with
respect to each input. For the scalar

    L = sum(output * dvalues)

dL/doutput is exactly dvalues, so dL/dx is what backward(dvalues) must return for every input x.
Your forward runs unchanged on numpy object arrays of `Value`s (numpy's `@`, `+`, `np.sum`,
`np.exp`, `np.log` work on them), the engine records its graph, and the chain rule gives dL/dx.
The report compares it with your arrays, entry by entry, names the mistakes it recognises and
shows, for the first wrong entry, the chain of factors that gives the correct number.

dvalues are random unless you pass them: with dvalues of ones, the transpose of a square matrix
or a sum over the wrong axis can give the right numbers by accident.

Tolerance. Your numpy adds in its own order (BLAS kernels differ per CPU) and the engine adds
left to right, so a correct backward differs from the engine's numbers by rounding. Each correct
entry is a sum over the graph's paths of products of local derivatives, and the rounding error of
any way of computing it is a few ulps of the size of those terms: the sum of the products of the
local derivatives' sizes, from a second backward pass. A local derivative's size is |d| plus how
far d moves when its arguments move by one relative unit, because 1 - tanh² near tanh = 1 is all
rounding. A backward may also compute a derivative from the forward's rounded outputs (the book's
sigmoid uses 1 - output), which costs a few ulps of dvalues. So an entry is right within
ULPS * eps * (size + max |dvalues|), where eps is float64's, or float32's when float32 numbers
took part (after `nnfs.init()`, np.dot returns float32). A mistake changes an entry by a sizeable
fraction of its terms, ten orders of magnitude above this.

Fallback. Where numpy cannot run your forward on Values (an in-place op on a float array,
`float()`, a function with no Value method), the correct gradients come from central differences
of your own forward on float arrays, (f(x + h) - f(x - h)) / 2h, and the report says so. There
is no chain of factors to show then. An entry that disagrees is tested for a kink: when the two
one-sided slopes differ, matching either of them counts as right.

numpy on Values. While your forward runs on Values, three things are adjusted, and restored
afterwards, also on error:
- np.dot is numpy's own. `nnfs.init()` wraps it to cast its operands to float64 and its result
  to float32, which an array of Values cannot do;
- np.asarray and np.array, asked for a float dtype, leave an array of Values as it is, because
  the conversion would cut the graph (careful code writes np.asarray(inputs, dtype=np.float64));
- Values compare by their numbers (a < b is a.data < b.data), so that np.maximum(0, z), np.max
  and np.clip work on them. The book's ReLU then takes max(0, 0) = 0, whose derivative is 0, as
  the book's backward says (dinputs[inputs <= 0] = 0). At such a tie the correct side is the
  one your forward takes; the report marks the entries under a tie as sitting on a kink.
These changes are process-wide while they last, so check_backward is not thread-safe: run it
while no other thread uses numpy's dot, asarray or array, or compares Values.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backward_report import BackwardReport, Context, GradientCheck, Kink, recognise
from .code_names import Entry, entry_name, name_entries, name_nodes, your_arrays
from .explain import Explanation, Path, explain
from .explain_render import plural, sum_terms, wrap_factor
from .functional import grad
from .graph import topological_order
from .names import number_text as _num
from .ops import OPS, data
from .value import Value, dot

# Measured, a correct backward stays below 0.6 of these ulps (every class of nn.reference,
# batches of 1 to 512, inputs of scale 0.1 to 10, with and without nnfs.init()): 16 is the margin.
ULPS = 16.0
MAX_PATHS = 1000  # more paths than this to one entry are shown grouped by their last edge
PATHS_SHOWN = 4  # paths listed one by one in a chain of factors; the rest are summed
CHAIN_WIDTH = 94  # a path longer than this is split over lines (the report indents it by 4 more)
DELTA = 2.0**-20  # the relative move of a local derivative's arguments that measures its size
H = 1e-6  # central-difference step, relative to the entry (as gradcheck's eps)

try:  # numpy's own dot, whatever nnfs.init() did to np.dot
    from numpy._core.multiarray import dot as _numpy_dot
except ImportError:  # numpy < 2
    from numpy.core.multiarray import dot as _numpy_dot  # type: ignore[no-redef]


# ---- running numpy code on Values ----


def _number(x: Any) -> Any:
    """A Value's data; anything else (the user's own objects) as it is, for numpy to judge."""
    return x.data if isinstance(x, Value) else x


def leaves(name: str, array: np.ndarray) -> np.ndarray:
    """An object array of leaf Values with `array`'s numbers, labelled `name[i, j]`."""
    out = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape):
        out[index] = Value(float(array[index]), label=entry_name(name, index))
    return out


def _keeping_values(convert: Callable[..., Any]) -> Callable[..., Any]:
    """np.asarray / np.array, except that an array of Values asked to become floats stays Values."""

    def converted(obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        if dtype is not None and _holds_values(obj) and np.dtype(dtype).kind in "fc":
            dtype = None
        return convert(obj, dtype, *args, **kwargs)

    return converted


def _holds_values(obj: Any) -> bool:
    return (
        isinstance(obj, np.ndarray)
        and obj.dtype == object
        and any(isinstance(e, Value) for e in obj.flat)
    )


# Comparisons of Values by their numbers, for the block in which a forward runs on Values.
_ORDER = {
    "__lt__": operator.lt,
    "__le__": operator.le,
    "__gt__": operator.gt,
    "__ge__": operator.ge,
}


def _by_number(
    compare: Callable[[Any, Any], bool], ties: list[Value]
) -> Callable[[Value, Any], bool]:
    """A comparison of data that notes the Values it found equal: a kink, where a side is taken."""

    def method(self: Value, other: Any) -> bool:
        x = _number(other)
        if self.data == x:
            ties.append(self)
            if isinstance(other, Value):
                ties.append(other)
        return compare(self.data, x)

    return method


@contextlib.contextmanager
def numpy_for_values() -> Iterator[list[Value]]:
    """numpy's own np.dot, float conversions that keep Values, and Values that compare, until the block ends.

    Yields the list of Values that a comparison found equal to the other side (a tie: z = 0 in
    np.maximum(0, z)), filled as the block runs.
    """
    saved = np.dot, np.asarray, np.array
    np.dot, np.asarray, np.array = (  # type: ignore[misc]
        _numpy_dot,
        _keeping_values(saved[1]),
        _keeping_values(saved[2]),
    )
    # Value's own comparisons, if it has them, compare data too; these also note the ties.
    own = {name: vars(Value).get(name) for name in _ORDER}
    ties: list[Value] = []
    for name, compare in _ORDER.items():
        setattr(Value, name, _by_number(compare, ties))
    try:
        yield ties
    finally:
        np.dot, np.asarray, np.array = saved  # type: ignore[misc]
        for name, method in own.items():
            if method is None:
                delattr(Value, name)
            else:
                setattr(Value, name, method)


@contextlib.contextmanager
def numpy_dot() -> Iterator[None]:
    """numpy's own np.dot (float64, not nnfs's float32) until the block ends."""
    saved = np.dot
    np.dot = _numpy_dot  # type: ignore[misc]
    try:
        yield
    finally:
        np.dot = saved  # type: ignore[misc]


# ---- the correct gradients ----


# A forward as the checker runs it: arrays by name (floats, or object arrays of Values) to the
# output: an array (then L = sum(output * dvalues)) or, for a loss, the loss itself (then L is
# its mean, as the book's Loss.calculate takes it).
Run = Callable[[dict[str, np.ndarray]], Any]
# A term added to L, written once for floats and Values (the book's regularisation loss).
Penalty = Callable[[dict[str, np.ndarray]], Any]


@dataclass
class Truth:
    """The correct gradient dL/d array of each named array, and how it was obtained."""

    values: dict[str, np.ndarray]
    allowed: dict[str, np.ndarray]  # per entry: the largest |yours - correct| that is right
    method: str  # "engine" or "central differences"
    reason: str = ""  # why the engine could not be used
    root: Value | None = None  # L, when the engine built it
    leaves: dict[str, np.ndarray] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # the arrays L depends on
    # per array, the entries under a comparison that found a tie (a kink), engine only
    at_kink: dict[str, np.ndarray] = field(default_factory=dict)
    objective: Callable[[dict[str, np.ndarray]], float] | None = None  # L on floats
    # labels the graph's nodes with your code's names, once, before the first chain of factors
    naming: Callable[[], None] | None = None
    divisors: frozenset[int] = frozenset()  # the counts your forward divides by (engine only)

    def chain(self, of: str, index: tuple[int, ...]) -> str:
        """The chain of factors that gives dL/d of[index], or "" without a graph."""
        if self.root is None:
            return ""
        if self.naming is not None:
            self.naming()
            self.naming = None
        return chain_text(explain(self.root, self.leaves[of][index], max_paths=MAX_PATHS))


def chain_text(e: Explanation) -> str:
    """dL/dx as its sum over paths, one line per path with the factors that are not 1.

    A factor of exactly 1 with no formula comes from an addition (numpy's `@` adds its products
    one by one), so leaving it out keeps the product that matters: dvalues[0, 1] · inputs[0, 2].
    """
    if e.paths is None:  # too many paths to list: explain's own grouping
        return str(e)
    d = f"dL/d{e.name(e.wrt)}"
    if e.count == 0:
        return (
            f"{d} = 0: no path leads from L down to {e.name(e.wrt)}. At these numbers your forward's\n"
            "output does not depend on it: a max, a clip or a comparison chose a constant there."
        )
    # A path through a factor 0 (a y_true of 0, a ReLU that is off) adds nothing: the ones
    # that add something are shown, unless there are none.
    adding = [p for p in e.paths if all(f.value != 0.0 for f in p.factors)] or list(e.paths)
    left_out = len(e.paths) - len(adding)
    head = f"{d} = {_num(e.total)}, the sum over {plural(e.count, 'path')} from L"
    if left_out:
        head += (
            f"; {left_out} of them pass{'es' if left_out == 1 else ''} a factor 0 and add nothing"
        )
    lines = [head + ":"]
    for path in adding[:PATHS_SHOWN]:
        lines.extend(_path_lines(e, path))
    rest = adding[PATHS_SHOWN:]
    if rest:
        together = math.fsum(p.product for p in rest)
        lines.append(f"  ... and {plural(len(rest), 'more path')}, together {_num(together)}")
    elif len(adding) > 1:
        lines.append(f"  sum: {sum_terms([p.product for p in adding])} = {_num(e.total)}")
    return "\n".join(lines)


def _path_lines(e: Explanation, path: Path) -> list[str]:
    """One path: the named nodes it passes, then its factors by name, by number and multiplied.

    On one line when that fits in CHAIN_WIDTH, else the route first (wrapped between nodes)
    and the factors under it.
    """
    kept = [f for f in path.factors if f.value != 1.0 or f.formula]
    symbols = " · ".join(wrap_factor(f.formula or f.shown, i) for i, f in enumerate(kept)) or "1"
    numbers = " · ".join(wrap_factor(f.shown, i) for i, f in enumerate(kept)) or "1"
    parts = list(dict.fromkeys([symbols, numbers, _num(path.product)]))  # each distinct once
    # the nodes your code named (output[0,2], sum(exp_values[0,:])), in the order the path takes
    route = [e.name(v) for v in path.nodes[1:-1] if v.label] or [e.name(v) for v in path.nodes[1:2]]
    line = f"  {'via ' + ' → '.join(route) if route else 'directly'}: {' = '.join(parts)}"
    if len(line) <= CHAIN_WIDTH:
        return [line]
    lines = [f"  via {route[0]}"]
    for step in route[1:]:
        if len(lines[-1]) + len(step) + 3 > CHAIN_WIDTH:
            lines[-1] += " →"
            lines.append(f"      {step}")
        else:
            lines[-1] += f" → {step}"
    lines[-1] += ":"
    return [*lines, f"    {parts[0]}", *(f"    = {p}" for p in parts[1:])]


def objective(output: Any, dvalues: Any) -> Any:
    """L = sum(output * dvalues); for a loss (dvalues None), L = its mean."""
    out = np.asarray(output, dtype=object)
    if dvalues is None:
        return out.item() if out.ndim == 0 else np.sum(out) / out.size
    if out.shape != np.shape(dvalues):
        raise ValueError(f"output has shape {out.shape}, dvalues {np.shape(dvalues)}")
    return dot(list(out.flat), list(np.ravel(dvalues)))


def _in_float(e: BaseException) -> bool:
    """Whether `e` came out of a Value's __float__: a conversion to a plain number."""
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "__float__":
            return True
        tb = tb.tb_next
    return False


def true_gradients(
    run: Run,
    arrays: dict[str, np.ndarray],
    dvalues: np.ndarray | None,
    eps: float,
    penalty: Penalty | None = None,
    samples: int = 1,
    expected: Any = None,
) -> Truth:
    """dL/d array for each array: by the engine through `run` on Values, else by central differences.

    L = sum(output * dvalues), or the mean loss over `samples` when dvalues is None, plus
    `penalty` if given. `expected` is the output of your own run on floats: when the run on
    Values gives other numbers, its graph is not your forward's, and central differences decide.
    """
    with numpy_for_values() as ties:
        values = {name: leaves(name, a) for name, a in arrays.items()}
        d_leaves = None if dvalues is None else leaves("dvalues", dvalues)
        try:
            with your_arrays(skip=run) as named:  # your code's names for what it computes
                output = run({name: a.copy() for name, a in values.items()})  # yours to change
            root = objective(output, d_leaves)
            if penalty is not None:
                root = root + penalty(values)
        except Exception as e:  # numpy could not run this forward on Values
            if _in_float(e):
                # The Value's own message advises v.data or v.exp(): advice for engine users,
                # not for numpy code that merely writes into a float array.
                reason = (
                    "your forward turns Values into plain floats, which have no gradient: numpy"
                    " does that when Values are written into a float array (one made by np.zeros,"
                    " np.empty_like or .astype(float)), and so do float() and math.exp"
                )
            else:
                text = str(e).splitlines()[0] if str(e) else ""
                reason = f"your forward could not run on Values ({type(e).__name__}: {text})"
            return numeric_gradients(run, arrays, dvalues, reason, penalty)
    order = topological_order(root) if isinstance(root, Value) else []
    in_graph = set(order)
    if not any(v in in_graph for a in values.values() for v in a.flat):
        reason = (
            "your forward's output holds no Values: it turned them into plain numbers"
            " (float(), .astype(float), .item() or similar)"
        )
        return numeric_gradients(run, arrays, dvalues, reason, penalty)
    differs = _differs(output, expected, eps)
    if differs:
        return numeric_gradients(run, arrays, dvalues, differs, penalty)
    assert isinstance(root, Value)
    root.label = "L"

    def naming() -> None:  # only a wrong gradient's chain of factors needs it
        entries: dict[Value, Entry] = {}
        for name, a in values.items():
            name_entries(a, name, entries)
        name_entries(output, "output" if dvalues is not None else "loss", entries)
        name_nodes(named, order, entries)

    flat = [v for a in values.values() for v in a.flat]
    grads = iter(grad(root, flat))
    scales = _scales(order)
    # A backward may compute a derivative from the forward's rounded outputs (the book's
    # sigmoid uses 1 - output, which has no correct digits left near output = 1): that costs a
    # few ulps of the upstream gradient, whatever the size of the derivative.
    if dvalues is not None:
        upstream = float(np.abs(dvalues).max(initial=0.0))
    else:  # a loss: L is a mean, so each sample's part carries 1/n
        upstream = 1.0 / max(1, samples)
    correct, allowed = {}, {}
    for name, a in values.items():
        correct[name] = np.array([next(grads) for _ in range(a.size)]).reshape(a.shape)
        scale = np.array([scales.get(v, 0.0) for v in a.flat]).reshape(a.shape)
        allowed[name] = ULPS * eps * (scale + upstream)
    used = {name for name, a in values.items() if any(v in in_graph for v in a.flat)}
    at_tie = set(topological_order(*ties)) if ties else set()
    at_kink = {
        name: np.array([v in at_tie for v in a.flat], dtype=bool).reshape(a.shape)
        for name, a in values.items()
    }
    return Truth(
        correct,
        allowed,
        "engine",
        "",
        root,
        values,
        used,
        at_kink,
        naming=naming,
        divisors=_divisors(order, root),
    )


def _divisors(order: list[Value], root: Value) -> frozenset[int]:
    """The whole numbers > 1 your forward divides by (x / 4, x * 0.25: np.mean's count).

    L's own mean (a loss's) is the checker's, not your forward's, and is left out.
    """
    found = set()
    for v in order:
        if v is root or len(v._inputs) != 2 or type(v._inputs[1]) is not float:
            continue
        k = v._inputs[1]
        c = k if v.op == "div" else 1 / k if v.op == "mul" and k != 0 else 0.0
        if c > 1 and c == round(c):
            found.add(int(c))
    return frozenset(found)


def _differs(output: Any, expected: Any, eps: float) -> str:
    """Why the run on Values does not compute your forward's numbers, or "" when it does."""
    if expected is None:
        return ""
    ours = np.asarray(output, dtype=object)
    try:
        theirs = np.asarray(expected, dtype=np.float64)
        numbers = np.array([_number(v) for v in ours.flat], dtype=np.float64).reshape(ours.shape)
    except (TypeError, ValueError):
        return "your forward's output on Values is not an array of numbers"
    if numbers.shape != theirs.shape:
        return (
            f"your forward's output has shape {numbers.shape} on Values, {theirs.shape} on floats"
        )
    # Not the grading, a sanity check: your run may round in float32 and add in any order.
    scale = np.abs(theirs).max(initial=0.0)
    if np.allclose(numbers, theirs, rtol=1e3 * eps, atol=1e3 * eps * scale, equal_nan=True):
        return ""
    return "your forward computed other numbers on Values than on floats"


def _scales(order: list[Value]) -> dict[Value, float]:
    """Per node x: the sum over the paths root → x of the product of the local derivatives' sizes.

    `order` is topological, the root last. dL/dx is the sum over those paths of the products of
    the local derivatives, so with sizes |d| this is the sum of the magnitudes of its terms:
    the scale of the rounding error of any order of adding them up. A local derivative's size
    is |d| plus how far d moves when its arguments move by one relative unit: 1 - tanh² near
    tanh = ±1 is a small difference of terms near 1, and a learner's np.tanh one ulp away from
    the engine's moves it by that much.
    """
    scale: dict[Value, float] = {order[-1]: 1.0}
    up = 1.0 + DELTA
    for v in reversed(order):
        s = scale.get(v, 0.0)
        # _inputs, not parents: a constant must stay a number here, as a leaf Value explain
        # would show x^(2 - 1) where it shows 2·x
        operands = v._inputs
        if not operands or s == 0.0:
            continue
        datas = list(map(data, operands))
        df = (v.rule or OPS[v.op]).df  # the rule the node was built with
        local = df(v.data, *datas)
        moved = df(v.data * up, *[x * up for x in datas])
        for a, d, m in zip(operands, local, moved):
            if type(a) is float:
                continue  # a constant
            d, m = data(d), data(m)
            size = abs(d) + abs(m - d) / DELTA
            scale[a] = scale.get(a, 0.0) + s * (size if math.isfinite(size) else abs(d))
    return scale


def numeric_gradients(
    run: Run,
    arrays: dict[str, np.ndarray],
    dvalues: np.ndarray | None,
    reason: str,
    penalty: Penalty | None = None,
) -> Truth:
    """dL/d array by central differences (f(x + h) - f(x - h)) / 2h of `run` on float64 arrays."""
    base = {name: np.array(a, dtype=np.float64) for name, a in arrays.items()}

    def loss(xs: dict[str, np.ndarray]) -> float:
        with numpy_dot():
            out = np.asarray(run(xs), dtype=np.float64)
        total = float(np.mean(out) if dvalues is None else np.sum(out * dvalues))
        return total if penalty is None else total + float(penalty(xs))

    correct, allowed = {}, {}
    for name, a in base.items():
        g = np.zeros(a.shape)
        for index in np.ndindex(a.shape):
            h = H * max(1.0, abs(a[index]))
            g[index] = (
                _moved(loss, base, name, index, h) - _moved(loss, base, name, index, -h)
            ) / (2 * h)
        correct[name] = g
        # Truncation is O(h^2) and rounding about eps |L| / h: a millionth of the array's
        # largest entry is well above both, and far below a mistake.
        allowed[name] = 1e-6 * (np.abs(g) + np.abs(g).max(initial=0.0)) + 1e-9
    used = {name for name, g in correct.items() if np.any(g != 0)}
    return Truth(correct, allowed, "central differences", reason, used=used, objective=loss)


def _moved(
    loss: Callable[[dict[str, np.ndarray]], float],
    base: dict[str, np.ndarray],
    name: str,
    index: tuple[int, ...],
    h: float,
) -> float:
    """L with one entry moved by h."""
    xs = dict(base)
    xs[name] = base[name].copy()
    xs[name][index] += h
    return loss(xs)


def _one_sided(
    truth: Truth, arrays: dict[str, np.ndarray], name: str, index: tuple[int, ...]
) -> tuple[float, float]:
    """The left and right slopes of L in one entry, for a central difference that straddles a kink."""
    assert truth.objective is not None
    base = {n: np.array(a, dtype=np.float64) for n, a in arrays.items()}
    h = H * max(1.0, abs(base[name][index]))
    f0 = truth.objective(base)
    left = (f0 - _moved(truth.objective, base, name, index, -h)) / h
    right = (_moved(truth.objective, base, name, index, h) - f0) / h
    return left, right


# ---- grading ----


def compare(name: str, of: str, yours: Any, truth: Truth, context: Context) -> GradientCheck:
    """The learner's gradient `name` of array `of` against the correct one, with the mistake named."""
    check = GradientCheck(name, of, truth.values[of].copy(), truth.allowed[of])
    if yours is None:
        check.problem = "missing"
        return check
    try:
        check.yours = y = np.array(yours, dtype=np.float64)
    except (TypeError, ValueError):
        check.problem = "not numbers"
        return check
    c, allowed = check.correct, check.allowed
    if y.shape != c.shape:
        check.problem = "shape"
    else:
        with np.errstate(invalid="ignore"):
            wrong = ~((y == c) | (np.abs(y - c) <= allowed) | (np.isnan(y) & np.isnan(c)))
        if truth.method != "engine":
            _accept_kinks(check, wrong, truth, context)
        check.wrong = wrong
        if wrong.any():
            check.problem = "values"
    if check.problem:
        check.mistake, check.hint = recognise(check, context)
        check.chain_index = check.first_wrong()
        check.chain = truth.chain(of, check.chain_index)
    return check


def _accept_kinks(check: GradientCheck, wrong: np.ndarray, truth: Truth, context: Context) -> None:
    """Clear the wrong entries that match one side of a kink that the central difference straddles."""
    assert check.yours is not None
    for index in map(tuple, np.argwhere(wrong)):
        left, right = _one_sided(truth, context.arrays, check.of, index)
        # One-sided differences err by O(h): a thousandth of the slope covers it.
        tol = 1e-3 * max(abs(left), abs(right)) + 1e-6
        if abs(left - right) <= tol:
            continue  # smooth here: the central difference stands
        y = float(check.yours[index])
        side = "left" if abs(y - left) <= tol else "right" if abs(y - right) <= tol else ""
        if side:
            # At a kink either side is a derivative: the one you took is the correct one here.
            wrong[index] = False
            check.correct[index] = left if side == "left" else right
            check.kinks.append(Kink(index, left, right, side))


def precision(*arrays: Any) -> tuple[str, float]:
    """("float32", its eps) when any of the arrays holds float32 (or smaller) numbers, else float64's."""
    for a in arrays:
        dtype = getattr(a, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            return "float32", float(np.finfo(np.float32).eps)
    return "float64", float(np.finfo(np.float64).eps)


def changed_in_place(given: np.ndarray, handed: np.ndarray) -> list[str]:
    """A note when backward wrote into the array it was handed (a copy of `given`), else none."""
    if handed.shape != given.shape:  # reshaped in place (dvalues.shape = ...)
        same = np.zeros(given.shape, dtype=bool)
    else:
        with np.errstate(invalid="ignore"):
            same = (given == handed) | (np.isnan(given) & np.isnan(handed))
    if same.all():
        return []
    return [
        f"Note: your backward changed the dvalues it was given, in place ({int((~same).sum())} of"
        f" its {same.size} entries). It was graded on a copy, against the dvalues as they were. The"
        " book's backward copies first (self.dinputs = dvalues.copy()): the array belongs to the"
        " code that passed it on, which may still need it."
    ]


def random_dvalues(shape: tuple[int, ...], rng: int | np.random.Generator | None) -> np.ndarray:
    """Standard normal dvalues from `rng` (a seed or a Generator): no symmetry hides a bug."""
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return gen.standard_normal(shape)


def how_text(dvalues_given: bool, rng: Any, loss: bool, combined: bool = False) -> str:
    """How L was chosen, for the report's footer; `combined`: a loss that stores its own output
    (the book's softmax + cross-entropy) and gets that output in backward."""
    if combined:
        return (
            "L is the mean loss, and your backward got your forward's self.output, as the book's"
            " training loop hands it; dinputs must be dL/dinputs, the gradient with respect to"
            " what forward took (the logits)."
        )
    if loss:
        return (
            "L is the mean loss, and your backward got the predictions, as the book's losses do;"
            " dinputs must be dL/dpredictions."
        )
    which = (
        "your dvalues"
        if dvalues_given
        else "random dvalues (standard normal, rng="
        + (str(rng) if not isinstance(rng, np.random.Generator) else "your Generator")
        + ")"
    )
    return (
        f"L = sum(output * dvalues) with {which}, so dL/doutput = dvalues, and backward(dvalues)"
        " must give dL/d of each input and parameter."
    )


# ---- plain functions ----


def check_backward(
    forward: Callable[..., Any],
    backward: Callable[[np.ndarray], Any],
    *inputs: Any,
    dvalues: Any = None,
    rng: int | np.random.Generator | None = 0,
) -> BackwardReport:
    """Grade backward(dvalues) = (dL/dx_1, ..., dL/dx_k) for L = sum(forward(x_1..x_k) * dvalues).

    `forward` takes numpy arrays and returns an array; `backward` takes the upstream gradient
    dvalues (random by default, seeded by `rng`) and returns one array per input (or a single
    array for a single input). Returns a report: truthy when every gradient is right.
    """
    if not callable(forward) or not callable(backward):
        raise TypeError("check_backward needs forward and backward functions")
    if not inputs:
        raise ValueError("check_backward needs at least one input array")
    names = _input_names(forward, len(inputs))
    arrays = {n: numbers_array(x, f"check_backward input {n}") for n, x in zip(names, inputs)}
    output = np.asarray(forward(*arrays.values()))
    given = dvalues is not None
    d = (
        numbers_array(dvalues, "check_backward dvalues")
        if given
        else random_dvalues(output.shape, rng)
    )
    if d.shape != output.shape:
        raise ValueError(
            f"check_backward: dvalues has shape {d.shape}, but forward's output has {output.shape}"
        )
    handed = d.copy()  # yours to change; L keeps the dvalues drawn here
    grads = backward(handed)
    changed = changed_in_place(d, handed)
    if len(arrays) == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(arrays):
        got = len(grads) if isinstance(grads, (tuple, list)) else type(grads).__name__
        raise TypeError(
            f"check_backward: backward must return one array per input ({len(arrays)}), got {got}"
        )
    label, eps = precision(output, *arrays.values(), *grads)

    def run(xs: dict[str, np.ndarray]) -> Any:
        return forward(*xs.values())

    truth = true_gradients(run, arrays, d, eps, expected=output)
    context = Context(
        d, arrays, _samples(arrays), _outputs(output), eps, truth.at_kink, truth.divisors
    )
    checks = [compare(f"d{n}", n, g, truth, context) for n, g in zip(arrays, grads)]
    title = f"{getattr(backward, '__name__', 'backward')}"
    return BackwardReport(
        title, checks, truth.method, how_text(given, rng, False), label, ULPS, truth.reason, changed
    )


def _input_names(forward: Callable[..., Any], k: int) -> list[str]:
    """The names of forward's first k parameters (`x`, `w`), else x0, x1, ..."""
    try:
        params = list(inspect.signature(forward).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:k] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names if len(names) == k and len(set(names)) == k else [f"x{i}" for i in range(k)]


def numbers_array(x: Any, who: str) -> np.ndarray:
    """`x` as a numpy array of real numbers (its dtype kept), or a TypeError naming `who`."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):
        a = np.asarray(x, dtype=object)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{who} must be an array of real numbers, got dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError(f"{who} holds inf or nan; check_backward needs finite numbers")
    return a


def _samples(arrays: dict[str, np.ndarray]) -> int:
    first = next(iter(arrays.values()))
    return int(first.shape[0]) if first.ndim else 1


def _outputs(output: Any) -> int:
    shape = np.shape(output)
    return int(shape[-1]) if len(shape) >= 2 else 1
