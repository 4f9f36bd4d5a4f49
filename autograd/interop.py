"""How a `Value` behaves with Python's built-ins, with numpy, and with other engines' habits.

`Value` (value.py) inherits all of this from `Interop`, so that value.py holds what the graph
needs and nothing else. A Value acts as its number where that loses nothing, and refuses where
it would silently cut the graph:

- `a < b`, `<=`, `>`, `>=` compare data and return a bool, as PyTorch scalars do, so `max(a, b)`,
  `sorted(values)` and `if a > 0:` work. `==` and `!=` are identity, because graph walks keep
  nodes in sets and dicts: compare `a.data == b.data` for numbers.
- `bool(a)` is `a.data != 0`, as for floats, numpy and PyTorch scalars (nan is true).
- `float(a)`, `int(a)` and `math.exp(a)` raise a TypeError: the result would be a float with no
  gradient. Use `a.data` for the number, `a.exp()` to stay in the graph. (`math.floor(a)` and
  `math.ceil(a)` are `a.floor()` and `a.ceil()`, Values, as for PyTorch tensors.)
- `f"{a:.2f}"` and `round(a, 2)` format or round `a.data`: display only.
- numpy: `np.float64(2) * x` is one node as `2.0 * x` is, and numpy's functions on arrays of
  Values (np.exp, np.maximum...) run elementwise through the Values' own methods.
- micrograd's `a._prev` (the operands, a frozenset) and `a._op` (the op's name) are read-only
  views; its `a._backward`, its `Value(x, (a, b), '+')` and PyTorch's `a.item()` raise errors
  naming ours.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .reals import refusal, to_float

if TYPE_CHECKING:  # value.py's Value is the one subclass: it imports this module
    from .value import Value

# Types that cannot combine with a Value themselves, so an operator refuses them at once rather
# than returning NotImplemented; anything else (an array, a user's class) gets its own turn.
KNOWN = (numbers.Number, np.generic, str, bytes, bytearray, list, tuple, dict, set, type(None))
OPERAND = "a Value or a real number"
# float() is what math.exp(v) and every math function call first, so one message serves all.
_NO_NUMBER = (
    "{what} would be a plain number with no gradient, so a Value refuses it (math.exp(v) and "
    "the other math functions call float(v)): use v.data for the number ({data!r}), or "
    "v.exp(), v.log(), v.tanh() ... to stay in the graph"
)
# numpy's ufuncs that `__array_ufunc__` hands to the operator of the same name.
_UFUNC_OPERATORS = {
    np.add: "add",
    np.subtract: "sub",
    np.multiply: "mul",
    np.true_divide: "truediv",
    np.power: "pow",
    np.remainder: "mod",
}


def _elsewhere(name: str, hint: str) -> Any:
    """A Value attribute that another engine has and chainrule does not: reading or setting it
    raises an AttributeError that says where chainrule keeps that thing."""

    def refuse(self: Interop, *value: Any) -> Any:
        raise AttributeError(f"Value has no .{name}: {hint}")

    return property(
        refuse, refuse, doc=f"Raises AttributeError: chainrule has no .{name} ({hint})."
    )


class Interop:
    """Value's behaviour with Python's built-ins, numpy and other engines: see this module's doc."""

    __slots__ = ()

    if TYPE_CHECKING:  # what Value provides
        data: float

        @property
        def op(self) -> str: ...

        @property
        def parents(self) -> tuple[Value, ...]: ...

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
                if isinstance(a, Interop):
                    return getattr(a, f"__{name}__")(b)
                return getattr(b, f"__r{name}__")(a)
        inputs = tuple(_object_array(x) if isinstance(x, Interop) else x for x in inputs)
        # The loop's arithmetic is the rules', which follow IEEE-754 quietly (1 / 0 = inf); only
        # the floating-point flags they leave behind would make numpy warn after the loop.
        with np.errstate(all="ignore"):
            return getattr(ufunc, method)(*inputs, **kwargs)

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


def _compare(f: Callable[[float, float], bool], sym: str, a: Interop, b: Any) -> Any:
    """`f(a.data, b's number)` as a bool; NotImplemented for a type that may compare itself."""
    if isinstance(b, Interop):  # a Value: Interop has no other subclass
        return f(a.data, b.data)
    c = to_float(b)
    if c is None:
        if not isinstance(b, KNOWN):
            return NotImplemented
        raise refusal(b, f"the right operand of {sym}", OPERAND)
    return f(a.data, c)


def _object_array(v: Interop) -> np.ndarray:
    """`v` as a 0-d array of dtype object, the form numpy's elementwise loops take it in."""
    a = np.empty((), dtype=object)
    a[()] = v
    return a


def label_error(label: Any) -> TypeError:
    """Value()'s error for a label that is no str; micrograd's `Value(x, (a, b), '+')` gets its own."""
    if isinstance(label, (tuple, list, set, frozenset)):
        return micrograd_constructor()
    return TypeError(f"Value() label must be a str, got {type(label).__name__}")


def micrograd_constructor() -> TypeError:
    """The error for micrograd's constructor, which takes a node's operands and op."""
    return TypeError(
        "Value(data, children, op) is micrograd's constructor; chainrule's ops record their "
        "operands themselves: write a + b, or ag.apply(op, a, b), and add a new op with "
        "ag.defop. Value(data, label) takes a str label"
    )
