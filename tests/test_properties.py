"""Properties over random graphs drawn from the whole rule table (each op alone: test_ops.py).

(a) At least 500 random expression graphs, shared subexpressions and constants included:
    backward's gradients match central differences, and backward() agrees with grad().
(b) Second derivatives of random graphs (the rules run on Values) match central differences.
"""

from __future__ import annotations

import time
from collections import Counter

from hypothesis import given, settings
from strategies import BUILT_IN_OPS, Expression, assert_gradients_match, expressions

import autograd as ag
from autograd import Value

# Property (a) draws this many random graphs: the issue asks for at least 500, and every op of
# the table must come up at least 50 times among their steps (hypothesis favours the ops that
# sort first, and floor, minimum and the like skip inputs near their kinks).
GRAPHS = max(600, 45 * len(BUILT_IN_OPS))


def test_random_graphs_gradients_match_central_differences() -> None:
    drawn: list[Expression] = []

    @settings(max_examples=GRAPHS)
    @given(expressions(max_inputs=3, max_steps=10, ops=BUILT_IN_OPS))
    def check(e: Expression) -> None:
        drawn.append(e)
        assert_gradients_match(e, e.inputs)
        # backward() through .grad gives the same numbers as grad().
        leaves = [Value(x) for x in e.inputs]
        out = e(*leaves)
        expected = ag.grad(out, leaves)
        out.backward()
        assert [v.grad for v in leaves] == expected

    start = time.perf_counter()
    check()
    seconds = time.perf_counter() - start

    ops = Counter(op for e in drawn for op in e.ops)
    shared = sum(e.shared > 0 for e in drawn)
    constants = sum(e.constants > 0 for e in drawn)
    print(
        f"\n{len(drawn)} random graphs in {seconds:.1f} s: {shared} with shared subexpressions, "
        f"{constants} with constants; ops drawn: {dict(sorted(ops.items()))}"
    )
    assert len(drawn) >= 500
    assert shared >= len(drawn) // 4
    assert constants >= len(drawn) // 4
    assert all(ops[name] >= 50 for name in BUILT_IN_OPS), ops


def test_random_graphs_second_derivatives_match_central_differences() -> None:
    # The rules run on Values give d f / d x0 as a graph; gradcheck differentiates that again.
    drawn: list[Expression] = []

    @settings(max_examples=150)
    @given(expressions(max_inputs=3, max_steps=8, ops=BUILT_IN_OPS))
    def check(e: Expression) -> None:
        drawn.append(e)

        def df_dx0(*xs: Value) -> Value:
            return ag.grad(e(*xs), xs[0], create_graph=True)

        assert_gradients_match(df_dx0, e.inputs)

    check()
    assert len(drawn) == 150
