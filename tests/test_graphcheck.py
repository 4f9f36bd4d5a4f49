"""check_graph: every node's gradient and every op's rule against central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
from autograd import Value
from autograd.graphcheck import MAX_CHECKED_NODES, check_graph


def seed_neuron() -> tuple[Value, list[Value]]:
    w = [Value(v, f"w{i}") for i, v in enumerate([-3.0, -1.0, 2.0])]
    x = [Value(v, f"x{i}") for i, v in enumerate([1.0, -2.0, 3.0])]
    loss = ag.sum([*(wi * xi for wi, xi in zip(w, x)), Value(1.0, "b")]).relu().square()
    loss.label = "loss"
    return loss, w


def test_every_node_of_the_seed_neuron_agrees_with_its_central_difference() -> None:
    loss, w = seed_neuron()
    check = check_graph(loss)
    assert check.passed and check.origin is None
    assert len(check.nodes) == 13 and len(check.edges) == 3 * 2 + 4 + 1 + 1
    # Backward's numbers, and numeric ones within gradcheck's tolerance: 12, -24, 36.
    for wi, want in zip(w, [12.0, -24.0, 36.0]):
        c = check.nodes[wi]
        assert c.analytic == want and c.status == "ok"
        assert abs(c.numeric - want) <= 1e-6 * abs(want)
    # The intermediate relu(z) = 6: d loss/d relu = 2 * 6 = 12, numerically too.
    relu = loss.parents[0]
    assert check.nodes[relu].analytic == 12.0 and abs(check.nodes[relu].numeric - 12.0) < 1e-6
    assert all(e.status == "ok" for e in check.edges)


def test_a_custom_op_with_a_wrong_derivative_is_where_the_error_enters() -> None:
    # tanh' is 1 - tanh^2; this rule says 1 + tanh^2.
    bad = ag.defop("graphcheck_bad_tanh", math.tanh, lambda out, a: (1 + out * out,))
    try:
        x, w = Value(0.5, "x"), Value(0.8, "w")
        z = x * w
        h = bad(z)
        loss = (h * 2.0).square()
        check = check_graph(loss)
        origin = check.origin
        assert origin is not None and origin.node is h and origin.slot == 0 and origin.operand is z
        t = math.tanh(0.4)
        assert origin.rule == 1 + t * t
        assert abs(origin.numeric - (1 - t * t)) < 1e-8
        # Above the wrong rule every gradient is right; at and below it, each is off.
        assert check.nodes[loss].status == check.nodes[h].status == "ok"
        assert {check.nodes[v].status for v in (z, x, w)} == {"MISMATCH"}
        ratio = (1 + t * t) / (1 - t * t)
        assert check.nodes[x].analytic == pytest.approx(check.nodes[x].numeric * ratio, rel=1e-6)
        assert not check.passed
    finally:
        ag.unregister("graphcheck_bad_tanh")


def test_a_difference_across_relus_kink_is_inconclusive_not_wrong() -> None:
    a = Value(0.0, "a")  # relu at its kink: backward says 0, the central difference 0.5
    out = a.relu() * 3.0
    check = check_graph(out)
    assert check.nodes[a].status == "kink" and check.nodes[a].analytic == 0.0
    assert check.nodes[a].numeric == pytest.approx(1.5)
    (relu_edge,) = [e for e in check.edges if e.node.op == "relu"]
    assert relu_edge.status == "kink"
    assert check.passed  # a kink is not a failure


def test_check_graph_refuses_what_it_cannot_do_quickly_and_names_itself() -> None:
    with pytest.raises(TypeError, match=r"check_graph\(\) needs a Value, got float"):
        check_graph(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"check_graph\(\) needs a finite eps >= 0"):
        check_graph(Value(1.0), eps=math.nan)
    # Value()'s rule for the tolerances: a huge int overflows, quoted by its size; a str is refused.
    with pytest.raises(
        OverflowError, match=r"^check_graph\(\) atol got an int too large .*about 10\*\*400;"
    ):
        check_graph(Value(1.0), atol=10**400)
    with pytest.raises(
        ValueError, match=r"^check_graph\(\) needs a finite rtol >= 0, got about -10\*\*30$"
    ):
        check_graph(Value(1.0), rtol=-(10**30))
    with pytest.raises(TypeError, match=r"^check_graph\(\) eps needs a real number, got str$"):
        check_graph(Value(1.0), eps="1e-6")  # type: ignore[arg-type]
    assert check_graph(Value(1.0) * 2.0, atol=True, rtol=np.float32(1e-3)).passed  # True is 1
    x = Value(0.5)
    h = x
    for _ in range(MAX_CHECKED_NODES):
        h = h * 1.0  # one node per step: the constant stays a float
    with pytest.raises(ValueError, match=r"this graph has 2001 nodes, more than 2000"):
        check_graph(h)
