"""`Value`: a scalar that records the op and operands that produced it."""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from . import context
from .ops import OPS, Op

_STATE = context.STATE


class Value:
    """A real number in a computation graph: `data`, `grad`, and the `op` and `parents` that made it."""

    # `_args` holds the operands. A constant operand (the 2 in `x * 2`) is kept as a bare float
    # until someone reads `parents`: most graphs are never inspected, and a float costs no node
    # to allocate, walk or backpropagate into.
    __slots__ = ("data", "grad", "label", "op", "_args", "scope")

    data: float
    grad: Any  # a float, or a Value after backward(create_graph=True)
    label: str
    op: str
    _args: tuple[Any, ...]
    scope: context.Scope | None

    def __init__(
        self, data: Any, label: str = "", _op: str = "", _args: tuple[Any, ...] = ()
    ) -> None:
        # Users pass data and label; the engine also passes the op and operands of a new node.
        # Every node goes through here because a plain constructor call is CPython's fastest way
        # to make an object, so validation is kept to two type tests.
        if type(data) is not float:
            data = real(data, "Value()")
        if type(label) is not str:
            raise TypeError(f"Value() label must be a str, got {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        state = _STATE.get()
        if state is None:
            self.op = _op
            self._args = _args
            self.scope = None
        elif state.grad_enabled and not state.anomaly:  # only a scope, as in every nn module call
            self.op = _op
            self._args = _args
            self.scope = state.scope
        else:
            _record(self, state, _op, _args)

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands, in operand order; constants appear as leaf Values."""
        args = self._args
        if any(type(a) is float for a in args):
            # Materialise constants once, so that every later read returns the same objects.
            args = tuple(_constant(a) if type(a) is float else a for a in args)
            self._args = args
        return args

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data!r}, grad={self.grad!r})"

    # ---- arithmetic: each Python operator is one node of its own op ----

    # add, sub and mul are most of every graph, so their two common cases (another Value, a
    # float constant) skip the general helper and its operand checks.

    def __add__(self, other: Any) -> Value:
        if type(other) is Value:
            return Value(self.data + other.data, "", "add", (self, other))
        if type(other) is float:
            return Value(self.data + other, "", "add", (self, other))
        return _binary(_ADD, "add", self, other)

    def __radd__(self, other: Any) -> Value:
        return _binary_reflected(_ADD, "add", other, self)

    def __sub__(self, other: Any) -> Value:
        if type(other) is Value:
            return Value(self.data - other.data, "", "sub", (self, other))
        if type(other) is float:
            return Value(self.data - other, "", "sub", (self, other))
        return _binary(_SUB, "sub", self, other)

    def __rsub__(self, other: Any) -> Value:
        return _binary_reflected(_SUB, "sub", other, self)

    def __mul__(self, other: Any) -> Value:
        if type(other) is Value:
            return Value(self.data * other.data, "", "mul", (self, other))
        if type(other) is float:
            return Value(self.data * other, "", "mul", (self, other))
        return _binary(_MUL, "mul", self, other)

    def __rmul__(self, other: Any) -> Value:
        return _binary_reflected(_MUL, "mul", other, self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(_DIV, "div", self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _binary_reflected(_DIV, "div", other, self)

    def __pow__(self, other: Any) -> Value:
        return _binary(_POW, "pow", self, other)

    def __rpow__(self, other: Any) -> Value:
        return _binary_reflected(_POW, "pow", other, self)

    def __neg__(self) -> Value:
        return Value(_NEG(self.data), "", "neg", (self,))

    def __pos__(self) -> Value:
        return self

    # ---- unary functions ----

    def exp(self) -> Value:
        """e ** self."""
        return Value(_EXP(self.data), "", "exp", (self,))

    def log(self) -> Value:
        """Natural logarithm of self."""
        return Value(_LOG(self.data), "", "log", (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent of self."""
        return Value(_TANH(self.data), "", "tanh", (self,))

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self)."""
        return Value(_SIGMOID(self.data), "", "sigmoid", (self,))

    def relu(self) -> Value:
        """max(0, self)."""
        return Value(_RELU(self.data), "", "relu", (self,))

    def square(self) -> Value:
        """self * self, as one node."""
        return Value(_SQUARE(self.data), "", "square", (self,))

    # ---- gradients ----

    def backward(self, grad: float = 1.0, create_graph: bool = False) -> None:
        """Set v.grad = d self / d v for every v in self's graph (leaves accumulate across calls)."""
        from . import graph

        graph.backward(self, grad, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set the gradient of every node in self's graph to 0."""
        from . import graph

        graph.zero_grad(self)

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from self's graph."""
        return Value(self.data, self.label)

    @property
    def is_leaf(self) -> bool:
        """True when no op produced this value (an input, a parameter or a constant)."""
        return not self._args


# ---- node creation ----


def real(x: Any, who: str = "Value()") -> float:
    """`x` as a float, or a TypeError naming its type when it is not a real number."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{who} needs a real number, got Value; use .data or .detach()")
    hint = "; use .item() for a one-element array" if hasattr(x, "item") else ""
    raise TypeError(f"{who} needs a real number, got {type(x).__name__}{hint}")


def _constant(x: float) -> Value:
    c = Value(x)
    c.scope = None  # a constant belongs to no module, whatever scope reads it
    return c


def _record(v: Value, state: context.State, op: str, args: tuple[Any, ...]) -> None:
    """Set op, operands and scope of a new node when a no_grad, scope or anomaly mode is on."""
    if state.anomaly and op and v.data - v.data != 0.0:  # inf - inf and nan - nan are nan
        from .anomaly import forward_anomaly

        forward_anomaly(op, v.data, args)
    if state.grad_enabled:
        v.op, v._args = op, args
    else:
        v.op, v._args = "", ()
    v.scope = state.scope


def _operand(x: Any) -> Any:
    """A Value or a float constant for the graph, or None when `x` is not a real number."""
    if type(x) is float or isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    return None


def _binary(f: Any, op: str, a: Value, b: Any) -> Value:
    if type(b) is Value:
        return Value(f(a.data, b.data), "", op, (a, b))
    b = _operand(b)
    if b is None:
        return NotImplemented
    return Value(f(a.data, b if type(b) is float else b.data), "", op, (a, b))


def _binary_reflected(f: Any, op: str, a: Any, b: Value) -> Value:
    a = _operand(a)
    if a is None:
        return NotImplemented
    return Value(f(a if type(a) is float else a.data, b.data), "", op, (a, b))


def apply(op: Op | str, *inputs: Any) -> Value:
    """Apply a registered op to Values or numbers, recording one node."""
    if isinstance(op, str):
        op = OPS[op]
    if op.arity >= 0 and len(inputs) != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} input(s), got {len(inputs)}")
    if op.name == "dot":  # its numbers must take one of dot's two shapes: see dot()
        return _dot_node(inputs, len(inputs) // 2)
    args = []
    for x in inputs:
        a = _operand(x)
        if a is None:
            raise TypeError(f"{op.name} needs Values or real numbers, got {type(x).__name__}")
        args.append(a)
    datas = [a if type(a) is float else a.data for a in args]
    return Value(op.f(*datas), "", op.name, tuple(args))


def sum(values: Iterable[Any]) -> Value:  # noqa: A001 - the name mirrors Python's and numpy's
    """One n-ary node: f(x_1, ..., x_n) = x_1 + ... + x_n."""
    args = tuple(values)
    if not args:
        return Value(0.0)  # the empty sum is the constant 0, a leaf: no node has no operands
    if set(map(type, args)) <= _JUST_VALUE:
        data = _SUM(*map(_DATA, args))  # the common case, checked and summed in C-level passes
    else:
        checked = [_operand(v) for v in args]
        for v, a in zip(args, checked):
            if a is None:
                raise TypeError(f"sum needs Values or real numbers, got {type(v).__name__}")
        args = tuple(checked)
        data = _SUM(*[a if type(a) is float else a.data for a in args])
    return Value(data, "", "sum", args)


def dot(weights: Iterable[Any], inputs: Iterable[Any], bias: Any = None) -> Value:
    """One n-ary node: f(w, x, b) = w_1 x_1 + ... + w_n x_n + b, a neuron before its activation.

    The operands are recorded as (w_1, ..., w_n, x_1, ..., x_n, b); without a bias there is no b.
    Numbers are kept in one of two shapes only, so that backward needs no type test per operand:
    when every input is a number and the rest are Values (a first layer fed with data) the
    inputs stay bare floats; otherwise every number becomes a constant leaf at once.
    """
    try:
        ws, xs = tuple(weights), tuple(inputs)
    except TypeError:
        bad = weights if not isinstance(weights, Iterable) else inputs
        raise TypeError(
            f"dot needs sequences of weights and inputs, got {type(bad).__name__}"
        ) from None
    if len(ws) != len(xs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(ws)} and {len(xs)}")
    return _dot_node(ws + xs if bias is None else (*ws, *xs, bias), len(ws))


def _dot_node(args: tuple[Any, ...], n: int) -> Value:
    """The `dot` node over operands (w_1..w_n, x_1..x_n) and, when there is one more, a bias."""
    if not args:
        return Value(0.0)  # the empty dot product is the constant 0, a leaf, as for sum
    datas = [a.data for a in args if type(a) is Value]
    if len(datas) < len(args):  # a constant, or something that is no number at all
        args = _dot_operands(args, n)
        datas = [a if type(a) is float else a.data for a in args]
    # Added left to right from -0.0, as OPS["dot"].f does, so the data is the rule's to the bit.
    data = _add_up(map(_MUL, datas, datas[n : 2 * n]), -0.0)  # map stops after the n-th pair
    if len(args) % 2:
        data += datas[-1]
    return Value(data, "", "dot", args)


def _dot_operands(args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """`dot`'s operands in one of its two shapes (see `dot`); a TypeError names a non-number."""
    out = list(args)
    data_in = n > 0  # so far every input is a number and every other operand a Value
    for i, a in enumerate(out):
        if type(a) is not Value and type(a) is not float:
            a = out[i] = _operand(a)
            if a is None:
                where = f"weights[{i}]" if i < n else f"inputs[{i - n}]" if i < 2 * n else "bias"
                raise TypeError(
                    f"dot needs Values or real numbers, got {type(args[i]).__name__} as {where}"
                )
        # The data shape: a number exactly where an input goes (a Value subclass is no number).
        data_in = data_in and (type(a) is float) == (n <= i < 2 * n)
    if data_in:
        return tuple(out)
    return tuple([_constant(a) if type(a) is float else a for a in out])


_DATA = attrgetter("data")
_JUST_VALUE = {Value}
_add_up = builtins.sum  # this module's own `sum` makes a node
_ADD, _SUB, _MUL, _DIV, _POW = (OPS[n].f for n in ("add", "sub", "mul", "div", "pow"))
_NEG, _EXP, _LOG, _TANH, _SIGMOID, _RELU, _SQUARE, _SUM = (
    OPS[n].f for n in ("neg", "exp", "log", "tanh", "sigmoid", "relu", "square", "sum")
)
