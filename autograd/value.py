"""`Value`: a scalar that records the op and operands that produced it."""

from __future__ import annotations

import builtins
import decimal
import fractions
import math
import numbers
import operator
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

import numpy as np

from . import context
from .ops import OPS, Op

_STATE = context.STATE


def _elsewhere(name: str, hint: str) -> Any:
    """A Value attribute that another engine has and chainrule does not: reading or setting it
    raises an AttributeError that says where chainrule keeps that thing."""

    def refuse(self: Value, *value: Any) -> Any:
        raise AttributeError(f"Value has no .{name}: {hint}")

    return property(refuse, refuse)


class Value:
    """A real number in a computation graph: `data`, `grad`, and the `op` and `parents` that made it.

    `Value(x)` takes what `real` takes: ints, floats, Fractions, numpy integer and floating
    scalars, and booleans (Python's and numpy's) as 0 and 1.

    With Python's built-ins a Value acts as its number where that loses nothing, and refuses
    where it would silently cut the graph:
    - `a < b`, `<=`, `>`, `>=` compare data and return a bool, as PyTorch scalars do, so
      `max(a, b)`, `sorted(values)` and `if a > 0:` work. `==` and `!=` are identity, because
      graph walks keep nodes in sets and dicts: compare `a.data == b.data` for numbers.
    - `bool(a)` is `a.data != 0`, as for floats, numpy and PyTorch scalars (nan is true).
    - `float(a)`, `int(a)` and `math.exp(a)` raise a TypeError: the result would be a float
      with no gradient. Use `a.data` for the number, `a.exp()` to stay in the graph.
    - `f"{a:.2f}"` and `round(a, 2)` format or round `a.data`: display only.
    - micrograd's `a._prev` (the operands, a frozenset) and `a._op` (the op's name) are
      read-only views; its `a._backward` and PyTorch's `a.item()` raise an AttributeError
      naming ours.
    """

    # `_rule` is the `Op` that made the node (None for a leaf): the node keeps its rule even when
    # the table's entry under that name is later removed or replaced. `_args` holds the operands.
    # A constant operand (the 2 in `x * 2`) is kept as a bare float until someone reads
    # `parents`: most graphs are never inspected, and a float costs no node to allocate, walk or
    # backpropagate into.
    __slots__ = ("data", "grad", "label", "_rule", "_args", "scope")

    data: float
    grad: Any  # a float, or a Value after backward(create_graph=True)
    label: str
    _rule: Op | None
    _args: tuple[Any, ...]
    scope: context.Scope | None

    def __init__(
        self, data: Any, label: str = "", _op: Op | None = None, _args: tuple[Any, ...] = ()
    ) -> None:
        # Users pass data and label; the engine also passes the op and operands of a new node.
        # Every node goes through here because a plain constructor call is CPython's fastest way
        # to make an object, so validation is kept to two type tests.
        if type(data) is not float:
            data = real(data, "Value()")
        if type(label) is not str:
            raise _label_error(label)
        self.data = data
        self.grad = 0.0
        self.label = label
        state = _STATE.get()
        if state is None:
            self._rule = _op
            self._args = _args
            self.scope = None
        elif state.grad_enabled and not state.anomaly:  # only a scope, as in every nn module call
            self._rule = _op
            self._args = _args
            self.scope = state.scope
        else:
            _record(self, state, _op, _args)

    @property
    def op(self) -> str:
        """The name of the op that made this value, "" for a leaf."""
        rule = self._rule
        return "" if rule is None else rule.name

    @property
    def rule(self) -> Op | None:
        """The `Op` this node was made with (its forward and derivative rules), None for a leaf."""
        return self._rule

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
            return Value(self.data + other.data, "", _ADD_OP, (self, other))
        if type(other) is float:
            return Value(self.data + other, "", _ADD_OP, (self, other))
        return _binary(_ADD, _ADD_OP, "+", self, other)

    def __radd__(self, other: Any) -> Value:
        return _binary_reflected(_ADD, _ADD_OP, "+", other, self)

    def __sub__(self, other: Any) -> Value:
        if type(other) is Value:
            return Value(self.data - other.data, "", _SUB_OP, (self, other))
        if type(other) is float:
            return Value(self.data - other, "", _SUB_OP, (self, other))
        return _binary(_SUB, _SUB_OP, "-", self, other)

    def __rsub__(self, other: Any) -> Value:
        return _binary_reflected(_SUB, _SUB_OP, "-", other, self)

    def __mul__(self, other: Any) -> Value:
        if type(other) is Value:
            return Value(self.data * other.data, "", _MUL_OP, (self, other))
        if type(other) is float:
            return Value(self.data * other, "", _MUL_OP, (self, other))
        return _binary(_MUL, _MUL_OP, "*", self, other)

    def __rmul__(self, other: Any) -> Value:
        return _binary_reflected(_MUL, _MUL_OP, "*", other, self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(_DIV, _DIV_OP, "/", self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _binary_reflected(_DIV, _DIV_OP, "/", other, self)

    def __pow__(self, other: Any) -> Value:
        return _binary(_POW, _POW_OP, "**", self, other)

    def __rpow__(self, other: Any) -> Value:
        return _binary_reflected(_POW, _POW_OP, "**", other, self)

    def __neg__(self) -> Value:
        return Value(_NEG(self.data), "", _NEG_OP, (self,))

    def __pos__(self) -> Value:
        return self

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy's hook: `np.float64(2) * x` reaches the operator with numpy's number as it is.

        Without it numpy would hand over a converted Python number, and a timedelta64 or a
        long double would slip through as an ordinary float. Arrays of Values take numpy's own
        elementwise loop over objects, as they would without this hook.
        """
        name = _UFUNC_OPERATORS.get(ufunc)
        if name and method == "__call__" and len(inputs) == 2 and not kwargs:
            a, b = inputs
            if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
                if isinstance(a, Value):
                    return getattr(a, f"__{name}__")(b)
                return getattr(b, f"__r{name}__")(a)
        inputs = tuple(_object_array(x) if isinstance(x, Value) else x for x in inputs)
        # The loop's arithmetic is the rules', which follow IEEE-754 quietly (1 / 0 = inf); only
        # the floating-point flags they leave behind would make numpy warn after the loop.
        with np.errstate(all="ignore"):
            return getattr(ufunc, method)(*inputs, **kwargs)

    # ---- unary functions ----

    def exp(self) -> Value:
        """e ** self."""
        return Value(_EXP(self.data), "", _EXP_OP, (self,))

    def log(self) -> Value:
        """Natural logarithm of self."""
        return Value(_LOG(self.data), "", _LOG_OP, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent of self."""
        return Value(_TANH(self.data), "", _TANH_OP, (self,))

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self)."""
        return Value(_SIGMOID(self.data), "", _SIGMOID_OP, (self,))

    def relu(self) -> Value:
        """max(0, self)."""
        return Value(_RELU(self.data), "", _RELU_OP, (self,))

    def square(self) -> Value:
        """self * self, as one node."""
        return Value(_SQUARE(self.data), "", _SQUARE_OP, (self,))

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

    # ---- Python's built-ins and other engines' names: the rules are in the class docstring ----

    def __lt__(self, other: Any) -> bool:
        return _compare(operator.lt, "<", self, other)

    def __le__(self, other: Any) -> bool:
        return _compare(operator.le, "<=", self, other)

    def __gt__(self, other: Any) -> bool:
        return _compare(operator.gt, ">", self, other)

    def __ge__(self, other: Any) -> bool:
        return _compare(operator.ge, ">=", self, other)

    def __bool__(self) -> bool:
        return self.data != 0.0

    def __float__(self) -> float:
        raise TypeError(_NO_NUMBER.format(what="float(v)", data=self.data))

    def __int__(self) -> int:
        raise TypeError(_NO_NUMBER.format(what="int(v)", data=self.data))

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else str(self)

    def __round__(self, ndigits: int | None = None) -> float:
        return round(self.data, ndigits)

    @property
    def _prev(self) -> frozenset[Value]:
        """micrograd's name: the operands as a set (constants appear as leaf Values)."""
        return frozenset(self.parents)

    @property
    def _op(self) -> str:
        """micrograd's name for `op`."""
        return self.op

    _backward = _elsewhere(
        "_backward",
        "micrograd's per-node closure. chainrule keeps one rule per op in autograd.OPS: call "
        "backward() on the root; add an op with ag.defop",
    )
    item = _elsewhere("item", "PyTorch's .item(); the number is v.data")
    requires_grad = _elsewhere(
        "requires_grad", "every Value records its graph; use ag.no_grad() or v.detach() to stop"
    )
    grad_fn = _elsewhere("grad_fn", "PyTorch's; v.rule is the Op that made v, v.op its name")


# ---- node creation ----


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
    f = _to_float(x)
    if f is None:
        raise refusal(x, who)
    return f


def _to_float(x: Any) -> float | None:
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
    if isinstance(x, Value):
        hint = "; use .data or .detach()"
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


def _constant(x: float) -> Value:
    c = Value(x)
    c.scope = None  # a constant belongs to no module, whatever scope reads it
    return c


def _record(v: Value, state: context.State, op: Op | None, args: tuple[Any, ...]) -> None:
    """Set op, operands and scope of a new node when a no_grad, scope or anomaly mode is on."""
    if state.anomaly and op is not None and v.data - v.data != 0.0:  # inf - inf, nan - nan: nan
        from .anomaly import forward_anomaly

        forward_anomaly(op.name, v.data, args)
    if state.grad_enabled:
        v._rule, v._args = op, args
    else:
        v._rule, v._args = None, ()
    v.scope = state.scope


def _operand(x: Any) -> Any:
    """A Value or a float constant for the graph, or None when `x` is no real number (see `real`)."""
    if type(x) is float or isinstance(x, Value):
        return x
    return _to_float(x)


# Types that cannot combine with a Value themselves, so an operator refuses them at once rather
# than returning NotImplemented; anything else (an array, a user's class) gets its own turn.
_KNOWN = (numbers.Number, np.generic, str, bytes, bytearray, list, tuple, dict, set, type(None))
_OPERAND = "a Value or a real number"


def _binary(f: Any, op: Op, sym: str, a: Value, b: Any) -> Value:
    if type(b) is Value:
        return Value(f(a.data, b.data), "", op, (a, b))
    c = _operand(b)
    if c is None:
        if not isinstance(b, _KNOWN):
            return NotImplemented
        raise refusal(b, f"the right operand of {sym}", _OPERAND)
    return Value(f(a.data, c if type(c) is float else c.data), "", op, (a, c))


def _compare(f: Any, sym: str, a: Value, b: Any) -> Any:
    """`f(a.data, b's number)` as a bool; NotImplemented for a type that may compare itself."""
    if type(b) is Value:
        return f(a.data, b.data)
    c = _operand(b)
    if c is None:
        if not isinstance(b, _KNOWN):
            return NotImplemented
        raise refusal(b, f"the right operand of {sym}", _OPERAND)
    return f(a.data, c if type(c) is float else c.data)


# float() is what math.exp(v) and every math function call first, so one message serves all.
_NO_NUMBER = (
    "{what} would be a plain number with no gradient, so a Value refuses it (math.exp(v) and "
    "the other math functions call float(v)): use v.data for the number ({data!r}), or "
    "v.exp(), v.log(), v.tanh() ... to stay in the graph"
)


def _label_error(label: Any) -> TypeError:
    if isinstance(label, (tuple, list, set, frozenset)):
        return TypeError(
            "Value(data, children, op) is micrograd's constructor; chainrule's ops record their "
            "operands themselves: write a + b, or ag.apply(op, a, b), and add a new op with "
            "ag.defop. Value(data, label) takes a str label"
        )
    return TypeError(f"Value() label must be a str, got {type(label).__name__}")


def _binary_reflected(f: Any, op: Op, sym: str, a: Any, b: Value) -> Value:
    # Python calls this only after `a` declined, so there is nobody left to defer to.
    c = _operand(a)
    if c is None:
        raise refusal(a, f"the left operand of {sym}", _OPERAND)
    return Value(f(c if type(c) is float else c.data, b.data), "", op, (c, b))


def _object_array(v: Value) -> np.ndarray:
    """`v` as a 0-d array of dtype object, the form numpy's elementwise loops take it in."""
    a = np.empty((), dtype=object)
    a[()] = v
    return a


def apply(op: Op | str, *inputs: Any) -> Value:
    """Apply a registered op to Values or numbers, recording one node."""
    if isinstance(op, str):
        if op not in OPS:
            raise KeyError(f"apply(): no op named {op!r} is registered")
        op = OPS[op]
    elif not isinstance(op, Op):
        raise TypeError(f"apply() needs an Op or an op's name, got {type(op).__name__}")
    if op.arity >= 0 and len(inputs) != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} input(s), got {len(inputs)}")
    if op.name == "dot":  # its numbers must take one of dot's two shapes: see dot()
        return _dot_node(inputs, len(inputs) // 2)
    args = []
    for i, x in enumerate(inputs):
        a = _operand(x)
        if a is None:
            raise refusal(x, f"{op.name}() operand {i}", _OPERAND)
        args.append(a)
    datas = [a if type(a) is float else a.data for a in args]
    return Value(op.f(*datas), "", op, tuple(args))


def sum(values: Iterable[Any]) -> Value:  # noqa: A001 - the name mirrors Python's and numpy's
    """One n-ary node: f(x_1, ..., x_n) = x_1 + ... + x_n."""
    args = tuple(values)
    if not args:
        return Value(0.0)  # the empty sum is the constant 0, a leaf: no node has no operands
    if set(map(type, args)) <= _JUST_VALUE:
        data = _SUM(*map(_DATA, args))  # the common case, checked and summed in C-level passes
    else:
        checked = [_operand(v) for v in args]
        for i, (v, a) in enumerate(zip(args, checked)):
            if a is None:
                raise refusal(v, f"sum() operand {i}", _OPERAND)
        args = tuple(checked)
        data = _SUM(*[a if type(a) is float else a.data for a in args])
    return Value(data, "", _SUM_OP, args)


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
    return Value(data, "", _DOT_OP, args)


def _dot_operands(args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """`dot`'s operands in one of its two shapes (see `dot`); a TypeError names a non-number."""
    out = list(args)
    data_in = n > 0  # so far every input is a number and every other operand a Value
    for i, a in enumerate(out):
        if type(a) is not Value and type(a) is not float:
            a = out[i] = _operand(a)
            if a is None:
                where = f"weights[{i}]" if i < n else f"inputs[{i - n}]" if i < 2 * n else "bias"
                raise refusal(args[i], f"dot() {where}", _OPERAND)
        # The data shape: a number exactly where an input goes (a Value subclass is no number).
        data_in = data_in and (type(a) is float) == (n <= i < 2 * n)
    if data_in:
        return tuple(out)
    return tuple([_constant(a) if type(a) is float else a for a in out])


_UFUNC_OPERATORS = {
    np.add: "add",
    np.subtract: "sub",
    np.multiply: "mul",
    np.true_divide: "truediv",
    np.power: "pow",
}
_DATA = attrgetter("data")
_JUST_VALUE = {Value}
_add_up = builtins.sum  # this module's own `sum` makes a node
_ADD_OP, _SUB_OP, _MUL_OP, _DIV_OP, _POW_OP = (OPS[n] for n in ("add", "sub", "mul", "div", "pow"))
_NEG_OP, _EXP_OP, _LOG_OP, _TANH_OP, _SIGMOID_OP, _RELU_OP, _SQUARE_OP, _SUM_OP, _DOT_OP = (
    OPS[n] for n in ("neg", "exp", "log", "tanh", "sigmoid", "relu", "square", "sum", "dot")
)
_ADD, _SUB, _MUL, _DIV, _POW = (op.f for op in (_ADD_OP, _SUB_OP, _MUL_OP, _DIV_OP, _POW_OP))
_NEG, _EXP, _LOG, _TANH, _SIGMOID, _RELU, _SQUARE, _SUM = (
    op.f for op in (_NEG_OP, _EXP_OP, _LOG_OP, _TANH_OP, _SIGMOID_OP, _RELU_OP, _SQUARE_OP, _SUM_OP)
)
