"""Custom ops: define a forward and its local derivatives, and the engine treats it like a built-in.

`defop` builds an `Op` and puts it in the same rule table (`autograd.OPS`) as `add` or `relu`, so
backward, `grad(..., create_graph=True)`, `gradcheck`, `detect_anomaly`, the graph pictures and
the random graphs of `autograd.testing` all see it. For example, hypot(a, b) = sqrt(a^2 + b^2):

    from autograd.ops import div
    hypot = defop(
        "hypot",
        math.hypot,
        lambda out, a, b: (div(a, out), div(b, out)),  # works on floats and on Values
        doc="f(a, b) = sqrt(a^2 + b^2); df/da = a / f, df/db = b / f",
        arity=2,  # math.hypot takes *args, so its signature cannot say
        kinks=lambda a, b: ((0.0,), (0.0,)),  # a cone at the origin, declared per operand
    )
    y = hypot(Value(3.0), Value(4.0))  # 5.0, one node with op "hypot"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .ops import OPS, Op, kink_points, register
from .value import Value, apply, real

# Names registered through defop. Only these may be unregistered: value.py binds the built-in
# rules once at import, so removing a built-in would leave the table and the operators disagreeing.
_CUSTOM: set[str] = set()


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


def defop(
    name: str,
    f: Callable[..., float],
    df: Callable[..., Any],
    doc: str = "",
    arity: int | None = None,
    kinks: Callable[..., Sequence[Sequence[float]]] | None = None,
) -> OpFunction:
    """Register op `name` with forward `f(*inputs)` and local derivatives `df(out, *inputs)`.

    `df` returns d out / d input_i for every input, in order (a bare number is fine for a
    one-input op). It runs on floats during backward; to support `create_graph=True` it must also
    work when given Values (use the helpers of `autograd.ops` such as `div`, `log`, `pow_`).
    `arity` defaults to the number of positional parameters of `f` (-1 when `f` takes `*args`).
    `kinks(*inputs)`, when given, lists per input the points where the op is not differentiable,
    so that `gradcheck` can tell a kink from a wrong derivative. Returns the op as a function.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"an op name must be a Python identifier, got {name!r}")
    if name in OPS:
        raise ValueError(f"an op named {name!r} is already registered")
    for what, fn in (("f", f), ("df", df)):
        if not callable(fn):
            raise TypeError(f"defop {name!r}: {what} must be callable, got {type(fn).__name__}")
    if kinks is not None and not callable(kinks):
        raise TypeError(f"defop {name!r}: kinks must be callable, got {type(kinks).__name__}")
    if arity is None:
        arity = _arity(name, f)
    if not isinstance(arity, int) or arity < -1:
        raise ValueError(f"defop {name!r}: arity must be an int >= 0, or -1 for any, got {arity!r}")
    if not isinstance(doc, str):
        raise TypeError(f"defop {name!r}: doc must be a str, got {type(doc).__name__}")

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
    op = Op(name, forward, derivatives, doc or f"custom op {name}", arity, kinks)
    if kinks is not None:
        _probe_kinks(op)
    register(op)
    _CUSTOM.add(name)
    return OpFunction(op)


def _probe_kinks(op: Op) -> None:
    """Call `kinks` once on sample inputs, so that a malformed answer fails here, at defop."""
    xs = tuple(0.5 + i for i in range(op.arity if op.arity >= 0 else 3))
    try:
        kink_points(op, xs)
    except Exception as e:
        raise TypeError(f"defop {op.name!r}: kinks{xs} failed: {e}") from e


def unregister(name: str) -> None:
    """Remove a custom op registered with `defop` (built-in ops cannot be removed)."""
    if name not in OPS:
        raise KeyError(f"no op named {name!r} is registered")
    if name not in _CUSTOM:
        raise ValueError(f"{name!r} is a built-in op; only ops made with defop can be unregistered")
    del OPS[name]
    _CUSTOM.discard(name)


def custom_ops() -> list[str]:
    """Names of the ops registered with `defop`, sorted."""
    return sorted(_CUSTOM)


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
