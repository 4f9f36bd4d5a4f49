"""Custom ops: define a forward and its local derivatives, and the engine treats it like a built-in.

`defop` is the one public way to add an op. It builds an `Op` from the facts a built-in entry of
`autograd/ops.py` holds and puts it in the same rule table (`autograd.OPS`), so backward,
`grad(..., create_graph=True)`, `gradcheck`, `detect_anomaly`, `explain`, the graph pictures and
the random graphs of `autograd.testing` all see it. For example, the length of a 3-vector,
norm3(a, b, c) = sqrt(a^2 + b^2 + c^2) (the built-in `hypot` takes two):

    from autograd.ops import ArrayForm, div
    norm3 = defop(
        "norm3",
        math.hypot,
        lambda out, a, b, c: (div(a, out), div(b, out), div(c, out)),  # floats and Values alike
        doc="f(a, b, c) = sqrt(a^2 + b^2 + c^2); df/da = a / f, df/db = b / f, df/dc = c / f",
        arity=3,  # math.hypot takes *args, so its signature cannot say
        kinks=lambda a, b, c: ((0.0,), (0.0,), (0.0,)),  # a cone at the origin, per operand
        formula=lambda s, x, out, i: s.div(x[i], out),  # explain: d norm3/d a = a/norm3
        array=ArrayForm(lambda a, b, c: np.hypot(np.hypot(a, b), c)),  # df works as written
    )
    y = norm3(Value(2.0), Value(3.0), Value(6.0))  # 7.0, one node with op "norm3"
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .facts import ANY, ArrayForm, Formula, Slot, array_rules, kink_points
from .ops import BUILT_IN, OPS, Op, _register, data
from .reals import real, shown
from .value import Value, apply


class OpFunction:
    """A registered op as a function: calling it on Values or numbers records one node."""

    __slots__ = ("op",)

    def __init__(self, op: Op) -> None:
        self.op = op

    def __call__(self, *inputs: Any) -> Value:
        """One node of this op, with `inputs` as its operands."""
        return apply(self.op, *inputs)

    @property
    def __name__(self) -> str:
        return self.op.name

    def __repr__(self) -> str:
        return f"<op {self.op.name!r}: {self.op.doc}>"


# Built-in ops that are neither a Python operator nor a method of Value are called as functions.
clip = OpFunction(OPS["clip"])  # clip(x, lo, hi) = min(max(x, lo), hi)
arctan2 = OpFunction(OPS["arctan2"])  # arctan2(y, x): the angle of the point (x, y)
hypot = OpFunction(OPS["hypot"])  # hypot(a, b) = sqrt(a^2 + b^2)
maximum = OpFunction(OPS["maximum"])  # maximum(a, b): the larger; a tie splits the gradient
minimum = OpFunction(OPS["minimum"])  # minimum(a, b): the smaller; a tie splits the gradient


def defop(
    name: str,
    f: Callable[..., float],
    df: Callable[..., Any],
    doc: str = "",
    arity: int | None = None,
    kinks: Callable[..., Sequence[Sequence[float]]] | None = None,
    *,
    formula: Formula | None = None,
    note: Formula | None = None,
    domain: Sequence[Slot] | None = None,
    array: ArrayForm | None = None,
) -> OpFunction:
    """Register op `name` with forward `f(*inputs)` and local derivatives `df(out, *inputs)`.

    `df` returns d out / d input_i for every input, in order (a bare number is fine for a
    one-input op). It runs on floats during backward; to support `create_graph=True` it must also
    work when given Values (use the helpers of `autograd.ops` such as `div`, `log`, `pow_`).
    `arity` defaults to the number of positional parameters of `f` (-1 when `f` takes `*args`).
    The other facts are those of a built-in entry (see `autograd.ops.Op`): `kinks(*inputs)`
    lists per input the points where the op is not differentiable, so that `gradcheck` can tell
    a kink from a wrong derivative; `formula` and `note` tell `explain` how to write the
    derivative; `domain` says where `autograd.testing` draws each input (default: anywhere);
    `array` gives the op over numpy arrays, and is checked against f and df here. Returns the op
    as a function.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"an op name must be a Python identifier, got {name!r}")
    if name in OPS:
        raise ValueError(f"an op named {name!r} is already registered")
    for what, fn in (("f", f), ("df", df), ("kinks", kinks), ("formula", formula), ("note", note)):
        if fn is not None and not callable(fn):
            raise TypeError(f"defop {name!r}: {what} must be callable, got {type(fn).__name__}")
    if arity is None:
        arity = _arity(name, f)
    if not isinstance(arity, int) or arity < -1:
        raise ValueError(
            f"defop {name!r}: arity must be an int >= 0, or -1 for any, got {shown(arity)}"
        )
    if not isinstance(doc, str):
        raise TypeError(f"defop {name!r}: doc must be a str, got {type(doc).__name__}")
    slots = (ANY,) if domain is None else _domain(name, domain, arity)
    if array is not None and not isinstance(array, ArrayForm):
        raise TypeError(
            f"defop {name!r}: array must be an autograd.ops.ArrayForm, got {type(array).__name__}"
        )

    def forward(*xs: float) -> float:
        return real(f(*xs), f"the forward of op {name!r}")

    def derivatives(out: Any, *xs: Any) -> Sequence[Any]:
        d = df(out, *xs)
        if not isinstance(d, (tuple, list)):
            if len(xs) != 1:
                raise TypeError(
                    f"df of op {name!r} must return a tuple of {len(xs)} derivatives, "
                    f"got {type(d).__name__}"
                )
            d = (d,)
        if len(d) != len(xs):
            raise ValueError(
                f"df of op {name!r} returned {len(d)} derivative(s) for {len(xs)} input(s)"
            )
        # Derivatives follow Value()'s rule, as forward values do: an np.float32 here would turn
        # every gradient below this node into float32. A Value stays one (create_graph).
        return [
            x if type(x) is float or isinstance(x, Value) else real(x, f"df of op {name!r}[{i}]")
            for i, x in enumerate(d)
        ]

    forward.__doc__ = derivatives.__doc__ = doc
    if array is not None:
        # An array form that leaves f or df out uses the user's own, not the checked wrappers
        # above, which take single numbers only.
        array = ArrayForm(array.f or f, array.df or df)
    op = Op(
        name,
        forward,
        derivatives,
        doc or f"custom op {name}",
        arity,
        kinks,
        formula=formula,
        note=note,
        domain=slots,
        array=array,
    )
    _probe(op)
    _register(op, built_in=False)
    return OpFunction(op)


def unregister(name: str) -> None:
    """Remove a custom op registered with `defop` (built-in ops cannot be removed)."""
    if name not in OPS:
        raise KeyError(f"no op named {name!r} is registered")
    if name in BUILT_IN:
        raise ValueError(f"{name!r} is a built-in op; only ops made with defop can be unregistered")
    del OPS[name]


def custom_ops() -> list[str]:
    """Names of the ops registered with `defop`, sorted."""
    return sorted(OPS.keys() - BUILT_IN)


def _arity(name: str, f: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        raise ValueError(f"defop {name!r}: cannot read f's signature; pass arity=") from None
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return -1
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in positional and p.default is p.empty)


def _domain(name: str, domain: Sequence[Slot], arity: int) -> tuple[Slot, ...]:
    """`domain` checked: one non-empty sequence of (lo, hi) intervals per input, lo <= hi."""
    need = f"defop {name!r}: domain must hold, per input, a sequence of (lo, hi) intervals"
    if not isinstance(domain, (tuple, list)) or not domain:
        raise TypeError(f"{need}, got {domain!r:.80}")
    if arity >= 0 and len(domain) != arity:
        raise ValueError(f"{need}; it has {len(domain)} entries for {arity} input(s)")
    slots = []
    for j, slot in enumerate(domain):
        if not isinstance(slot, (tuple, list)) or not slot:
            raise TypeError(f"{need}; for input {j} it gave {slot!r:.60}")
        intervals = []
        for interval in slot:
            if not isinstance(interval, (tuple, list)) or len(interval) != 2:
                raise TypeError(f"{need}; for input {j} it gave {interval!r:.60}")
            lo, hi = (None if e is None else real(e, f"defop {name!r} domain") for e in interval)
            if lo is not None and hi is not None and not lo <= hi:
                raise ValueError(
                    f"defop {name!r}: domain of input {j} has an empty interval {interval!r}"
                )
            intervals.append((lo, hi))
        slots.append(tuple(intervals))
    return tuple(slots)


def _probe(op: Op) -> None:
    """Try kinks and the array form once on sample inputs, so that a bad one fails at defop."""
    if op.kinks is not None:
        xs = tuple(0.5 + i for i in range(op.arity if op.arity >= 0 else 3))
        try:
            kink_points(op, xs)
        except Exception as e:
            raise TypeError(f"defop {op.name!r}: kinks{xs} failed: {e}") from e
    rules = array_rules(op)
    if rules is None:
        return
    array_f, array_df = rules
    samples = _samples(op)
    columns = [np.array(c, dtype=np.float64) for c in zip(*samples)]
    try:
        with np.errstate(all="ignore"):
            out = np.broadcast_to(array_f(*columns), (len(samples),))
            local = [np.broadcast_to(d, (len(samples),)) for d in array_df(out, *columns)]
    except Exception as e:
        raise TypeError(f"defop {op.name!r}: the array form failed on {samples}: {e}") from e
    if len(local) != len(columns):
        raise ValueError(
            f"defop {op.name!r}: the array form's df gave {len(local)} derivative(s) for "
            f"{len(columns)} input(s)"
        )
    for k, xs in enumerate(samples):
        y = op.f(*xs)
        expected = [y, *map(data, op.df(y, *xs))]
        got = [float(out[k]), *(float(d[k]) for d in local)]
        for what, want, g in zip(["f", *(f"df[{i}]" for i in range(len(xs)))], expected, got):
            if not (want == g or math.isclose(want, g, rel_tol=1e-12) or (want != want and g != g)):
                raise ValueError(
                    f"defop {op.name!r}: the array form's {what} at {xs} is {g!r}, "
                    f"but the op's own rule gives {want!r}"
                )


def _samples(op: Op) -> list[tuple[float, ...]]:
    """Three inputs inside the op's domain: points of each input's first interval."""
    n = op.arity if op.arity >= 0 else 3
    columns = []
    for j in range(n):
        lo, hi = op.domain[min(j, len(op.domain) - 1)][0]
        if lo is None:
            lo = -10.0 if hi is None else hi - 20.0
        if hi is None:
            hi = lo + 20.0
        ts = (0.3, 0.5, 0.7)[j % 3 :] + (0.3, 0.5, 0.7)[: j % 3]  # operands differ
        columns.append([lo + t * (hi - lo) for t in ts])
    return list(zip(*columns))
