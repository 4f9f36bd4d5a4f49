"""The unrolled backward of autograd/fast.py gives the reference chain rule's gradients, bit for bit."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from strategies import Expression, Step, graphs, values

import autograd as ag
from autograd import Value, fast, graph


def bits(x: float) -> bytes:
    """A float's 8 bytes: equal bits, so nan equals nan and -0.0 differs from 0.0."""
    return struct.pack("<d", x)


def both_ways(f: Callable[..., Value], inputs: list[float], seed: float = 1.0) -> None:
    """Backward through `f` with the reference and with the fast loop: every grad agrees to the bit."""
    xs = [Value(x) for x in inputs]
    y = f(*xs)
    order = graph.topological_order(y)
    assert fast.topological_order(y) == order  # the same nodes in the same order

    with graph.PASS_LOCK:
        graph.backward(y, seed, fast_path=False)
    reference = [bits(v.grad) for v in order]
    ag.zero_grad(y)
    with graph.PASS_LOCK:
        graph.backward(y, seed)
    assert [bits(v.grad) for v in order] == reference, str(f)


@given(graphs(), st.sampled_from([1.0, -0.5, 3.0]))
def test_fast_backward_equals_the_reference_over_random_graphs_of_the_whole_table(
    drawn: tuple[Expression, list[float]], seed: float
) -> None:
    f, inputs = drawn
    both_ways(f, inputs, seed)


@st.composite
def dots(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[Expression, list[float]]:
    """A dot whose every slot is an input or a constant, inputs often in several slots, then used."""
    n_inputs = draw(st.integers(1, 3))
    xs = [draw(values(-3.0, 3.0)) for _ in range(n_inputs)]
    slot = st.one_of(st.integers(0, n_inputs - 1), values(-3.0, 3.0))
    pairs = draw(st.integers(0, 4))
    bias = draw(st.booleans())
    operands = tuple(draw(slot) for _ in range(2 * pairs + bias))
    if not operands:
        operands = (0,)  # a dot of a bias alone
    steps = [Step("dot", operands)]
    # The dot's result feeds a product with an input, so its grad is no plain 1.
    steps.append(Step("mul", (n_inputs, draw(st.integers(0, n_inputs - 1)))))
    return Expression(n_inputs, tuple(steps), tuple(xs)), xs


@given(dots())
def test_fast_backward_equals_the_reference_for_dots_with_constants_in_every_slot(
    drawn: tuple[Expression, list[float]],
) -> None:
    f, inputs = drawn
    both_ways(f, inputs)


def test_the_dots_drawn_include_constants_in_each_slot_and_shared_operands() -> None:
    # The strategy above can fail only if it draws the cases it is for.
    seen: set[str] = set()

    @given(dots())
    def collect(drawn: tuple[Expression, list[float]]) -> None:
        operands = drawn[0].steps[0].operands
        n = len(operands) // 2
        for i, a in enumerate(operands):
            where = "w" if i < n else "x" if i < 2 * n else "b"
            seen.add(f"{where} constant" if type(a) is float else f"{where} input")
        ints = [a for a in operands if type(a) is int]
        if len(ints) > len(set(ints)):
            seen.add("shared")

    collect()
    assert seen == {
        "w constant",
        "w input",
        "x constant",
        "x input",
        "b constant",
        "b input",
        "shared",
    }


def test_fast_backward_covers_each_shape_of_node() -> None:
    # Leaf, unary, binary with a constant on either side or none, dot and sum, and a node used twice.
    def f(x: Value, y: Value) -> Value:
        h = (x * 2.0).tanh() + (3.0 - y) * x
        return ag.sum([ag.dot([x, 2.0], [h, y], 0.5), h, h.exp(), 1.5])

    both_ways(f, [0.3, -1.2])
    both_ways(f, [0.3, -1.2], seed=-2.0)


def test_a_leaf_root_adds_its_seed_in_both_ways() -> None:
    x = Value(2.0)
    x.grad = 1.0
    with graph.PASS_LOCK:
        graph.backward(x, 3.0, fast_path=False)
        assert x.grad == 4.0
        graph.backward(x, 3.0)
    assert x.grad == 7.0
