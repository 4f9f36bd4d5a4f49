"""Checks drawn on the graph: check=True colours each box by its gradient check and marks the
first wrong rule; anomaly=err draws where the first inf or nan was made, and its path."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from test_viz import node_of, parse, text, values

import autograd as ag
from autograd import AnomalyError, Value, detect_anomaly
from viz import draw_graph, step_through, to_dot
from viz.overlay import AGREES, ANOMALY, ANOMALY_FILL, FAR_OFF, OFF, WRONG_RULE


@pytest.fixture
def bad_tanh() -> Iterator[ag.OpFunction]:
    """tanh with a wrong derivative: 1 + tanh^2 where it should be 1 - tanh^2."""
    op = ag.defop("viz_bad_tanh", math.tanh, lambda out, a: (1 + out * out,))
    yield op
    ag.unregister("viz_bad_tanh")


def wrong_graph(bad: ag.OpFunction) -> tuple[Value, dict[str, Value]]:
    x, w, b = Value(0.5, "x"), Value(0.8, "w"), Value(-0.1, "b")
    z = x * w + b
    z.label = "z"
    h = bad(z)
    h.label = "h"
    loss = (h - 1.0).square()
    loss.label = "loss"
    loss.backward()
    return loss, {"x": x, "w": w, "b": b, "z": z, "h": h}


def test_a_wrong_custom_rule_is_marked_on_its_node_and_the_error_below_it(bad_tanh) -> None:
    loss, v = wrong_graph(bad_tanh)
    nodes, edges = parse(to_dot(loss, check=True))
    h = node_of(nodes, "h")
    # The op whose rule is wrong: a red border, a red ellipse, and its arrow says both numbers.
    assert f'color="{WRONG_RULE}" penwidth=3' in nodes[h]
    assert f'fillcolor="{FAR_OFF}"' in nodes[h + "_op"]
    ((_, attrs),) = [(t, a) for t, hd, a in edges if hd == h + "_op"]
    t = math.tanh(0.3)
    assert text(attrs) == f"×{1 + t * t:.4g} (rule; numeric ×{1 - t * t:.6g})"
    assert WRONG_RULE in attrs
    # Above the wrong rule the gradients agree (green); z and everything below it are off.
    for label in ("loss", "h"):
        assert f'fillcolor="{AGREES}"' in nodes[node_of(nodes, label)], label
    for label in ("z", "x", "w", "b"):
        box = nodes[node_of(nodes, label)]
        assert f'fillcolor="{OFF}"' in box or f'fillcolor="{FAR_OFF}"' in box, label
        assert "numeric " in text(box)
    legend = text(nodes["legend"])
    assert "red ellipse: the first wrong rule backward meets. h (viz_bad_tanh)" in legend
    # z, x * w, x, w and b: everything the wrong rule's arrow feeds. The constant 1.0 is drawn
    # but is no node of the graph: backward gives it no gradient to check.
    assert "5 of 8 nodes are off" in legend
    # Right rules everywhere: every box green, no red.
    ok = (v["x"] * v["w"]).tanh().square()
    ok.backward()
    nodes, _ = parse(to_dot(ok, check=True))
    assert all(f'fillcolor="{AGREES}"' in a for a in values(nodes).values())
    assert WRONG_RULE not in to_dot(ok, check=True)


def test_a_backward_nan_is_drawn_at_its_origin_with_its_path() -> None:
    a = Value(-2.0, "a")
    y = a.relu()
    y.label = "y"
    s = y**0.5
    s.label = "s"
    out = s * 0.0 + a
    out.label = "out"
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        out.backward()
    err = info.value
    nodes, edges = parse(to_dot(out, anomaly=err))
    path = [node_of(nodes, n) for n in ("out",)] + [
        k for k in values(nodes) if text(nodes[k]).split("\n")[0] in ("s", "y")
    ]
    for k in path:
        assert f'color="{ANOMALY}" penwidth=3' in nodes[k]
    # The origin: pow's ellipse filled, its arrow from y says what it passed.
    s_id = node_of(nodes, "s")
    assert f'fillcolor="{ANOMALY_FILL}"' in nodes[s_id + "_op"]
    into_pow = [a for t, h, a in edges if h == s_id + "_op" and t == node_of(nodes, "y")]
    assert into_pow and "passes nan" in text(into_pow[0]) and ANOMALY in into_pow[0]
    # a is not on the path: its box keeps its normal border.
    assert ANOMALY not in nodes[node_of(nodes, "a")]
    assert "orange: where the first non-finite number was made. backward: pow(y=0.0, 0.5)" in text(
        nodes["legend"]
    )


def test_a_forward_inf_is_drawn_as_the_op_it_would_have_been() -> None:
    x, w = Value(0.0, "x"), Value(2.0, "w")
    h = x * w
    h.label = "h"
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        h.log()
    err = info.value
    nodes, edges = parse(to_dot(err.inputs, anomaly=err))
    assert text(nodes["anomaly_op"]) == "log"
    assert text(nodes["anomaly_out"]) == "log(h=0.0)\n= -inf"
    assert (node_of(nodes, "h"), "anomaly_op") in [(t, hd) for t, hd, _ in edges]
    assert f'color="{ANOMALY}" penwidth=3' in nodes[node_of(nodes, "h")]
    svg = draw_graph(err.inputs, anomaly=err).pipe(format="svg").decode()
    assert "log(h=0.0)" in svg and "= &#45;inf" in svg
    # No root was made, so the legend does not send the reader to call backward() on it.
    assert "call backward()" not in text(nodes["legend"])


def test_anomaly_and_check_are_checked_like_every_option() -> None:
    loss = Value(1.0, "a").square()
    with pytest.raises(TypeError, match=r"draw_graph\(\): anomaly= must be the AnomalyError"):
        draw_graph(loss, anomaly=ValueError("x"))
    with pytest.raises(TypeError, match=r"to_dot\(\): check must be True or False"):
        to_dot(loss, check="yes")
    other = Value(0.0, "other")
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        other.log()
    with pytest.raises(ValueError, match="none of the failing op's operands is in the graph"):
        to_dot(loss, anomaly=info.value)


def test_the_page_says_where_the_wrong_rule_and_the_nan_are(bad_tanh) -> None:
    loss, v = wrong_graph(bad_tanh)
    page = step_through(loss, check=True)
    (at_h,) = [s for s in page.steps if s.title.endswith(": h")]
    assert "⚠ The check finds viz_bad_tanh's rule wrong here: d/d operand 0 is" in at_h.caption
    assert WRONG_RULE in page.html
    a = Value(-2.0, "a")
    s = a.relu() ** 0.5
    s.label = "s"
    out = s * 0.0 + a
    out.label = "out"
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        out.backward()
    page = step_through(out, anomaly=info.value)
    (at_s,) = [st for st in page.steps if st.title.endswith(": s")]
    assert (
        "⚠ Here the first non-finite gradient appears: backward: pow(relu=0.0, 0.5)" in at_s.caption
    )
    assert at_s.lines[0]["text"] == "relu.grad += 0 × inf = nan"
