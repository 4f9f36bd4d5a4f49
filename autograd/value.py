"""`Value`: a scalar that records the op and operands that produced it, and the functions that
make graph nodes (`apply`, `sum`, `dot`).

How a Value behaves with Python's built-ins, numpy and other engines' names is in interop.py.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

# Importing ops_math and ops_piecewise puts their entries in the table, for the methods below.
from . import context, graph, ops_math, ops_piecewise  # noqa: F401
from .anomaly import backward_anomaly, forward_anomaly
from .interop import KNOWN, OPERAND, Interop, label_error, micrograd_constructor
from .ops import OPS, Op, data
from .reals import real, refusal, to_float

_STATE = context.STATE
# The table's rules, bound once: the operators below run millions of times.
_ADD, _SUB, _MUL, _DIV, _POW, _NEG = (OPS[n] for n in ("add", "sub", "mul", "div", "pow", "neg"))
_SUM, _DOT = OPS["sum"], OPS["dot"]
_MOD, _LEAKY_RELU, _ELU = OPS["mod"], OPS["leaky_relu"], OPS["elu"]
_add_up = builtins.sum  # this module's own `sum` makes a node
_DATA = attrgetter("data")


def _operator(op: Op, sym: str) -> Callable[[Value, Any], Value]:
    """The method behind `a sym b`: one node of `op`, with a Value or a number on the right.

    Made here rather than written out as `def __add__(self, other): return ...` because that
    extra call cost W1 a sixth more time per node (288 against 247 ns per op node, forward).
    """
    f = op.f

    def method(a: Value, b: Any) -> Value:
        if type(b) is Value:
            return _new_node(f(a.data, b.data), op, a, b)
        if type(b) is float:  # a constant, kept as the float it is
            return _new_node(f(a.data, b), op, a, b)
        c = _operand(b)
        if c is None:  # refused at once if it is a known type, else its own turn (an array)
            if not isinstance(b, KNOWN):
                return NotImplemented
            raise refusal(b, f"the right operand of {sym}", OPERAND)
        return _new_node(f(a.data, data(c)), op, a, c)

    method.__doc__ = f"self {sym} other, as one {op.name} node."
    return method


def _reflected(op: Op, sym: str) -> Callable[[Value, Any], Value]:
    """The method behind `a sym b` for a number `a` on the left, which Python calls after `a` declined."""
    f = op.f

    def method(b: Value, a: Any) -> Value:
        c = _operand(a)
        if c is None:  # nobody is left to defer to
            raise refusal(a, f"the left operand of {sym}", OPERAND)
        return _new_node(f(data(c), b.data), op, c, b)

    method.__doc__ = f"other {sym} self, as one {op.name} node."
    return method


def _unary(name: str) -> Callable[[Value], Value]:
    """The method `v.<name>()`: one node of the table's op `name`, documented by its doc."""
    op = OPS[name]
    f = op.f

    def method(self: Value) -> Value:
        return _new_node(f(self.data), op, self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = op.doc
    return method


def _binary(name: str, doc: str) -> Callable[..., Value]:
    """The method `v.<name>(other)`: one node of the table's op `name` over v and other."""
    op = OPS[name]

    def method(self: Value, other: Any) -> Value:
        return apply(op, self, other)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


class Value(Interop):
    """A real number in a computation graph: `data`, `grad`, and the `op` and `parents` that made it.

    `Value(x)` takes what `reals.real` takes: ints, floats, Fractions, numpy integer and floating
    scalars, and booleans (Python's and numpy's) as 0 and 1. Comparisons, `bool`, `float`,
    formatting, numpy and other engines' names are `Interop`'s (interop.py).
    """

    # `_rule` is the `Op` that made the node (None for a leaf): the node keeps its rule even when
    # the table's entry under that name is later removed or replaced.
    # `_a` and `_b` hold the op's inputs: a Value for each operand node, a float for each
    # constant (the 2 in `x * 2`). One or two inputs, as nearly every node has, sit in `_a` and
    # `_b` (None when absent); any other count sits in `_a` as one tuple. Not one tuple for all:
    # a tuple per node costs 56 bytes and one more object for the cyclic collector to walk,
    # so a product of two leaves costs 112 B this way against 160 B. Read them as `_inputs`.
    __slots__ = ("data", "grad", "label", "scope", "_rule", "_a", "_b")

    data: float
    grad: Any  # a float, or a Value after backward(create_graph=True)
    label: str
    scope: context.Scope | None
    _rule: Op | None
    _a: Any
    _b: Any

    def __init__(self, data: Any, label: str = "", _children: Any = None, _op: Any = None) -> None:
        """A leaf: a number of your own, a parameter or a constant. Ops make nodes (`_new_node`).

        `_children` and `_op` are there only to give micrograd's keyword call
        Value(x, _children=(a, b), _op='+') its message; both are None otherwise.
        """
        if type(data) is not float:
            data = real(data, "Value()")
        if type(label) is not str:
            raise label_error(label)
        if _children is not _op:
            raise micrograd_constructor()
        self.data = data
        self.grad = 0.0
        self.label = label
        self._rule = self._a = self._b = None
        state = _STATE.get()
        self.scope = None if state is None else state.scope

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
    def _inputs(self) -> tuple[Any, ...]:
        """The op's inputs in order: a Value for each operand node, a float for each constant."""
        a, b = self._a, self._b
        if b is not None:
            return (a, b)
        if a is None:
            return ()
        return a if type(a) is tuple else (a,)

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands as Values, in operand order; a constant is a new leaf on every read.

        Reading changes nothing: a constant stays a float inside the node, so drawing or
        explaining a graph never adds nodes to it, and a constant's leaf shows grad 0 however
        the graph was inspected (constants are not differentiated).
        """
        return tuple([a if type(a) is not float else _constant(a) for a in self._inputs])

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data!r}, grad={self.grad!r})"

    # ---- arithmetic: each Python operator is one node of its own op (see `_operator`) ----

    __add__, __radd__ = _operator(_ADD, "+"), _reflected(_ADD, "+")
    __sub__, __rsub__ = _operator(_SUB, "-"), _reflected(_SUB, "-")
    __mul__, __rmul__ = _operator(_MUL, "*"), _reflected(_MUL, "*")
    __truediv__, __rtruediv__ = _operator(_DIV, "/"), _reflected(_DIV, "/")
    __pow__, __rpow__ = _operator(_POW, "**"), _reflected(_POW, "**")
    __mod__, __rmod__ = _operator(_MOD, "%"), _reflected(_MOD, "%")

    def __neg__(self) -> Value:
        return _new_node(_NEG.f(self.data), _NEG, self)

    def __pos__(self) -> Value:
        return self

    # ---- functions: one node each (ops.py's, then ops_math.py's and ops_piecewise.py's) ----

    exp, log, tanh = _unary("exp"), _unary("log"), _unary("tanh")
    sigmoid, relu, square = _unary("sigmoid"), _unary("relu"), _unary("square")

    sin, cos, tan = _unary("sin"), _unary("cos"), _unary("tan")
    arcsin, arccos, arctan = _unary("arcsin"), _unary("arccos"), _unary("arctan")
    sinh, cosh = _unary("sinh"), _unary("cosh")
    arcsinh, arccosh, arctanh = _unary("arcsinh"), _unary("arccosh"), _unary("arctanh")
    sqrt, cbrt = _unary("sqrt"), _unary("cbrt")
    log2, log10, log1p = _unary("log2"), _unary("log10"), _unary("log1p")
    expm1, exp2 = _unary("expm1"), _unary("exp2")
    arctan2 = _binary("arctan2", "ag.arctan2(self, x): the angle of the point (x, self).")
    hypot = _binary("hypot", "ag.hypot(self, other) = sqrt(self^2 + other^2).")

    abs, sign = _unary("abs"), _unary("sign")
    floor, ceil = _unary("floor"), _unary("ceil")
    softplus = _unary("softplus")
    # numpy calls these on object arrays of Values: np.floor(a) calls math.floor on each element
    # (so math.floor(v) is v.floor(), as for a PyTorch tensor), np.arctan2(a, b) calls a.arctan2(b).
    __abs__, __floor__, __ceil__ = abs, floor, ceil

    def leaky_relu(self, negative_slope: Any = 0.01) -> Value:
        """self if self > 0 else negative_slope * self; the slope a number, or a Value to learn it."""
        return apply(_LEAKY_RELU, self, negative_slope)

    def elu(self, alpha: Any = 1.0) -> Value:
        """self if self > 0 else alpha (e^self - 1); alpha a number, or a Value to learn it."""
        return apply(_ELU, self, alpha)

    # ---- gradients ----

    def backward(self, grad: float = 1.0, create_graph: bool = False) -> None:
        """Set v.grad = d self / d v for every v in self's graph (leaves accumulate across calls).

        Intermediate nodes show this pass's gradient; leaves accumulate across passes until
        zeroed. With create_graph every grad becomes a Value that can be differentiated again.
        Passes from several threads run one at a time (see "Threads" in graph.py).
        """
        if type(grad) is not float:
            # The seed follows Value()'s rule: an np.float32 seed would make every gradient float32.
            grad = real(grad, "backward(grad=...)")
        with graph.PASS_LOCK:
            try:
                order = graph.backward(self, grad, create_graph, anomaly_check((self,)))
            except TypeError as e:
                # Diagnosed here, after the fact, so that the pass itself checks no grad's type.
                raise _bad_grad(self) or e from None
            if create_graph:
                # A constant derivative (of x / 3, say) comes out of the rules as a float; as a
                # Value it can be differentiated again like every other gradient, giving 0.
                for v in order:
                    if type(v.grad) is float:
                        v.grad = Value(v.grad)

    def zero_grad(self) -> None:
        """Set the gradient of every node in self's graph to 0."""
        graph.zero_grad(self)

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from self's graph."""
        return Value(self.data, self.label)

    @property
    def is_leaf(self) -> bool:
        """True when no op produced this value (an input, a parameter or a constant)."""
        return self._a is None


def _bad_grad(root: Value) -> TypeError | None:
    """The error for a node of root's graph whose grad was set by hand to no number, if any.

    Only leaves can hold one: the pass sets every other grad to 0 before it starts.
    """
    for v in graph.topological_order(root):
        g = v.grad
        if type(g) is float or isinstance(g, Value) or to_float(g) is not None:
            continue
        node = f"leaf {v.label!r}" if v.label else f"the unlabelled leaf {v.data:g}"
        if v._a is not None:
            node = f"node {v.label!r}" if v.label else f"an unlabelled {v.op} node"
        return TypeError(
            f"backward(): the grad of {node} is {type(g).__name__} {g!r:.40}, set by hand; a "
            f"grad must be a float (a Value after backward(create_graph=True)). The pass "
            f"stopped part-way: call zero_grad() on the graph before the next one"
        )
    return None


_JUST_VALUE = {Value}  # the types of a list of nothing but Values, as `set(map(type, ...))` sees it

# ---- node creation ----

_blank = object.__new__  # a Value with its slots still empty, for `_new_node` to fill


def _new_node(data: float, rule: Op, a: Any, b: Any = None) -> Value:
    """A new node of `rule`, its inputs kept in `_a` and `_b` (see Value's __slots__).

    Every op node is made here, not by Value(): filling a blank object in one plain function
    costs 254 ns per node of a 20,000-node chain, against 288 ns through a constructor call
    (295 ns with Value()'s check for micrograd's keywords), CPU time, medians of 21 interleaved
    runs on Python 3.11; 3.12 and 3.13 gain 13% and 18% too.
    """
    v = _blank(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    state = _STATE.get()
    if state is None:
        v.scope = None
        v._rule, v._a, v._b = rule, a, b
    elif state.grad_enabled and not state.anomaly:  # only a scope, as in every nn module call
        v.scope = state.scope
        v._rule, v._a, v._b = rule, a, b
    else:
        _record(v, state, rule, a, b)
    return v


def _constant(x: float) -> Value:
    """A new leaf for the constant `x`, as `parents` shows it; it belongs to no module's scope."""
    c = Value(x)
    c.scope = None
    return c


def _record(v: Value, state: context.State, rule: Op, a: Any, b: Any) -> None:
    """Set rule, inputs and scope of a new node when a no_grad, scope or anomaly mode is on."""
    v._rule, v._a, v._b = rule, a, b
    v.scope = state.scope
    if state.anomaly and v.data - v.data != 0.0:  # inf - inf, nan - nan: nan
        forward_anomaly(rule.name, v.data, v._inputs)
    if not state.grad_enabled:
        v._rule = v._a = v._b = None


def _node(data: float, rule: Op, inputs: tuple[Any, ...]) -> Value:
    """A new node of `rule` over `inputs`, kept the way Value keeps them (see its __slots__)."""
    if len(inputs) == 2:
        return _new_node(data, rule, inputs[0], inputs[1])
    if len(inputs) == 1:
        return _new_node(data, rule, inputs[0])
    return _new_node(data, rule, inputs or None)


def _operand(x: Any) -> Any:
    """A Value or a float constant for the graph, or None when `x` is no real number (see `real`)."""
    if type(x) is float or isinstance(x, Value):
        return x
    return to_float(x)


def _checked(inputs: tuple[Any, ...], where: Any) -> tuple[Any, ...]:
    """`inputs` as Values and float constants; a TypeError names `where(i)` for a non-number."""
    out = []
    for i, x in enumerate(inputs):
        a = _operand(x)
        if a is None:
            raise refusal(x, where(i), OPERAND)
        out.append(a)
    return tuple(out)


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
    name = op.name
    args = _checked(inputs, lambda i: f"{name}() operand {i}")
    return _node(op.f(*[a if type(a) is float else a.data for a in args]), op, args)


def sum(values: Iterable[Any]) -> Value:  # noqa: A001 - the name mirrors Python's and numpy's
    """One n-ary node: f(x_1, ..., x_n) = x_1 + ... + x_n."""
    try:
        it = iter(values)
    except TypeError:
        raise TypeError(
            f"sum() needs an iterable of Values or numbers, got {type(values).__name__}"
        ) from None
    args = tuple(it)
    if not args:
        return Value(0.0)  # the empty sum is the constant 0, a leaf: no node has no operands
    if set(map(type, args)) <= _JUST_VALUE:
        data = _SUM.f(*map(_DATA, args))  # the common case, checked and summed in C-level passes
    else:
        args = _checked(args, lambda i: f"sum() operand {i}")
        data = _SUM.f(*[a if type(a) is float else a.data for a in args])
    return _node(data, _SUM, args)


def dot(weights: Iterable[Any], inputs: Iterable[Any], bias: Any = None) -> Value:
    """One n-ary node: f(w, x, b) = w_1 x_1 + ... + w_n x_n + b, a neuron before its activation.

    The operands are recorded as (w_1, ..., w_n, x_1, ..., x_n, b); without a bias there is no b.
    Numbers are constants, as in every op: `dot(w, [0.5, 2.0])` keeps 0.5 and 2.0 as floats.
    """
    try:
        ws, xs = tuple(weights), tuple(inputs)
    except TypeError:
        bad = weights if not isinstance(weights, Iterable) else inputs
        raise TypeError(
            f"dot needs sequences of weights and inputs, got {type(bad).__name__}"
        ) from None
    n = len(ws)
    if len(xs) != n:
        raise ValueError(f"dot needs as many weights as inputs, got {n} and {len(xs)}")
    args = ws + xs if bias is None else (*ws, *xs, bias)
    if not args:
        return Value(0.0)  # the empty dot product is the constant 0, a leaf, as for sum
    datas = [a.data for a in args if type(a) is Value]
    if len(datas) < len(args):  # a constant, or something that is no number at all
        args = _checked(args, lambda i: f"dot() {_dot_slot(i, n)}")
        datas = [a if type(a) is float else a.data for a in args]
    # Added left to right from -0.0, as the rule's own forward: the data is the rule's to the bit.
    data = _add_up(
        map(operator.mul, datas, datas[n : 2 * n]), -0.0
    )  # map stops after the n-th pair
    if len(args) % 2:
        data += datas[-1]
    return _node(data, _DOT, args)


def _dot_slot(i: int, n: int) -> str:
    return f"weights[{i}]" if i < n else f"inputs[{i - n}]" if i < 2 * n else "bias"


def anomaly_check(roots: tuple[Value, ...]) -> graph.Check | None:
    """detect_anomaly's check for a backward pass from `roots`, or None when it is off."""
    if not context.current().anomaly:
        return None
    return lambda node, g, local: backward_anomaly(node, g, local, roots)
