"""step_through without a browser: its steps follow backward, its numbers are the engine's, and
the page is one self-contained file. The browser reads it in test_step_page.py."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from test_viz import seed_layer, seed_neuron

import autograd as ag
from autograd import Value
from autograd.testing import expressions
from viz import StepThrough, step_through
from viz.options import DrawOptions
from viz.scene import build_scene
from viz.step import replay


def page_data(page: StepThrough) -> dict:
    m = re.search(
        r'<script type="application/json" id="steps-data">(.*?)</script>', page.html, re.S
    )
    assert m
    return json.loads(m[1])


@settings(max_examples=60)
@given(expressions(max_steps=10))
def test_the_replayed_backward_is_the_engines_to_the_last_bit(expression) -> None:
    inputs = [Value(x, f"x{i}") for i, x in enumerate(expression.inputs)]
    out = expression(*inputs)
    scene = build_scene(out, DrawOptions())
    order, steps, grads = replay(scene, out)
    assert order == ag.reverse_topological_order(out)
    engine = ag.grad(out, scene.graph.nodes)
    for mine, theirs in zip(grads, engine):
        assert mine == theirs or (math.isnan(mine) and math.isnan(theirs))
    # Each contribution is upstream x local, and the running totals end at the gradient.
    last: dict[int, float] = {}
    for made in steps:
        for c in made:
            assert c.amount == c.upstream * c.local
            last[c.operand] = c.total
    for i, total in last.items():
        assert total == grads[i] or math.isnan(total)


def test_the_steps_follow_backwards_order_and_say_what_each_operand_gets() -> None:
    loss, w, x, b = seed_neuron()
    page = step_through(loss)
    titles = [s.title for s in page.steps]
    order = [v for v in ag.reverse_topological_order(loss) if v.parents]
    assert titles[0] == "Before backward" and titles[-1] == "Backward is done"
    assert titles[1:-1] == [f"Backward ({k} of 6): {v.label}" for k, v in enumerate(order, 1)]
    by_title = {s.title.split(": ")[-1]: s for s in page.steps}
    assert [line["text"] for line in by_title["z"].lines] == [
        "w0*x0.grad += 12 × 1 = 12",
        "w1*x1.grad += 12 × 1 = 12",
        "w2*x2.grad += 12 × 1 = 12",
        "b.grad += 12 × 1 = 12",
    ]
    assert [line["why"] for line in by_title["relu(z)"].lines] == ["d relu(z)/d z = 1  (z = 6 > 0)"]
    assert by_title["loss"].caption.startswith("Backward starts at loss with ∂loss/∂loss = 1.")
    assert by_title["w1*x1"].lines[0] == {
        "text": "w1.grad += 12 × -2 = -24",
        "why": "d w1*x1/d w1 = x1 = -2",
    }
    assert by_title["z"].caption.startswith("∂loss/∂z = 12 is complete: z feeds one node, relu(z)")


def test_a_shared_input_is_the_sum_over_its_users_in_the_caption_and_the_click() -> None:
    loss, W, X = seed_layer()
    page = step_through(loss, fmt="{:.6g}")
    data = page_data(page)
    # x2's three contributions arrive one neuron at a time: 8.64, then 25.92 more, then 43.2.
    lines = [line["text"] for s in page.steps for line in s.lines if line["text"].startswith("x2.")]
    assert lines == [
        "x2.grad += 43.2 × 0.2 = 8.64",
        "x2.grad += 43.2 × 0.6 = 25.92, now 34.56",
        "x2.grad += 43.2 × 1 = 43.2, now 77.76",
    ]
    graph = build_scene(loss, DrawOptions()).graph
    text = data["explain"][f"v{graph.index[X[1]]}"]
    assert text.startswith(str(ag.explain(loss, X[1])))
    assert "the sum over the 3 edges from x2's users:" in text
    assert text.endswith("= 43.2 × 0.2 + 43.2 × 0.6 + 43.2 × 1\n  = 77.76")


def test_the_page_changes_no_gradient_and_needs_no_backward_first() -> None:
    w = [Value(v, f"w{i}") for i, v in enumerate([-3.0, -1.0, 2.0])]
    loss = ag.sum([wi * xi for wi, xi in zip(w, [1.0, -2.0, 3.0])]).relu().square()
    loss.label = "loss"
    page = step_through(loss)  # no backward() yet: the page still shows it
    assert [v.grad for v in w] == [0.0, 0.0, 0.0]
    # relu(-3 + 2 + 6)^2: d loss/d w_i = 2 * 5 * x_i.
    final = page_data(page)["elements"]
    graph = build_scene(loss, DrawOptions()).graph
    shown = [final[f"v{graph.index[v]}"][-1] for v in w]
    assert [e[3] for e in shown] == ["grad 10", "grad -20", "grad 30"]
    assert [e[5] for e in shown] == ["10.0", "-20.0", "30.0"]


def test_a_folded_box_steps_as_one_unit() -> None:
    loss, W, X = seed_layer()
    page = step_through(loss, collapse="neuron", fmt="{:.6g}")
    titles = [s.title for s in page.steps]
    assert titles[1:-1] == [
        "Backward (1 of 5): loss",
        "Backward (2 of 5): y",
        "Backward (3 of 5): layer / neuron 1",
        "Backward (4 of 5): layer / neuron 2",
        "Backward (5 of 5): layer / neuron 3",
    ]
    box = page.steps[3]
    assert box.caption == (
        "Backward runs through the 6 computed nodes folded into layer / neuron 1 as one unit, "
        "each in the engine's order. What leaves the box:"
    )
    # What leaves neuron 1: d z1/d x_n = w1n times 43.2, into the box of the shared inputs.
    assert [line["text"] for line in box.lines] == ["into 4 leaves: 43.2 over 4 arrows"]
    elements = page_data(page)["elements"]
    assert elements["g0"][-1][3] == "max |grad| 172.8"


def test_focus_steps_show_the_rest_of_backward_as_outside_the_drawing() -> None:
    loss, W, X = seed_layer()
    z = X[1]
    page = step_through(loss, focus=z, depth=1)
    outside = [s for s in page.steps if s.title.endswith("outside the drawing")]
    assert outside and all(s.unit is None for s in outside)
    shown = [s for s in page.steps if s.phase == "backward" and s.unit is not None]
    assert len(shown) == 3  # the three products that use x2
    assert page.steps[-1].title == "Backward is done"


def test_the_page_is_one_file_that_needs_no_network(tmp_path: Path) -> None:
    loss, *_ = seed_neuron()
    page = step_through(loss)
    path = page.save(tmp_path / "backward")
    assert path == tmp_path / "backward.html"
    text = path.read_text(encoding="utf-8")
    assert text == page.html and text.startswith("<!DOCTYPE html>")
    assert "<svg" in text and "{{" not in text
    # Nothing is fetched: no src= or href= to anything, no URL but the SVG namespaces.
    assert not re.search(r"\s(src|href)=", text)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    # The JSON cannot close its script element early.
    assert text.count("</script>") == 2
    inline = page._repr_html_()
    assert inline.startswith('<iframe srcdoc="') and html.unescape(inline.split('"')[1]) == text


def test_step_through_names_itself_in_its_errors() -> None:
    loss, *_ = seed_neuron()
    with pytest.raises(TypeError, match=r"step_through\(\) needs a Value, got int"):
        step_through(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"step_through\(\) has no option 'colour'"):
        step_through(loss, colour=True)
    with pytest.raises(ValueError, match=r"step_through\(\): rankdir must be one of"):
        step_through(loss, rankdir="up")
    with pytest.raises(TypeError, match=r"step_through\(\): forward must be True or False"):
        step_through(loss, forward="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"height must be an int >= 100"):
        step_through(loss, height=10)
    with pytest.raises(
        ValueError, match=r"^step_through\(\): height must be an int >= 100, got about -10\*\*400$"
    ):
        step_through(loss, height=-(10**400))
    with pytest.raises(
        TypeError, match=r"^step_through\(\): height needs an int, got float; use int\(x\)$"
    ):
        step_through(loss, height=300.0)  # type: ignore[arg-type]


def test_the_page_never_steps_into_a_constant() -> None:
    x = Value(0.5, "x")
    y = ag.sum([x * 2.0, x**3.0]).tanh()
    y.label = "y"
    for forward in (False, True):
        page = step_through(y, forward=forward)
        graph = build_scene(y, DrawOptions()).graph
        constants = [f"v{i}" for i in sorted(graph.constants)]
        assert [graph.nodes[int(c[1:])].data for c in constants] == [2.0, 3.0]
        data = page_data(page)
        # Their boxes keep the number they are drawn with: no state, no "grad ?", no click.
        assert not set(constants) & set(data["elements"]) and not set(constants) & set(
            data["explain"]
        )
        assert all(s.unit not in constants for s in page.steps)
        assert [s.title for s in page.steps if s.phase == "backward"] == [
            "Backward (1 of 4): y",
            "Backward (2 of 4): sum",
            "Backward (3 of 4): mul",
            "Backward (4 of 4): pow",
        ]
        # The arrows from them still light up with the op that uses them.
        assert any(e.startswith("v2_in") or e.startswith("v4_in") for e in data["elements"])


def test_the_forward_phase_comes_first_in_the_engines_order() -> None:
    loss, w, x, b = seed_neuron()
    page = step_through(loss, forward=True)
    forward = [s for s in page.steps if s.phase == "forward"]
    computed = [v for v in ag.topological_order(loss) if v.parents]
    n = len(computed)
    assert [s.title for s in forward] == [
        f"Forward ({k} of {n}): {v.label}" for k, v in enumerate(computed, 1)
    ]
    assert [s.counter for s in forward] == [f"forward {k} of {n}" for k in range(1, n + 1)]
    assert page.steps[0].title == "Before forward"
    captions = {s.title.split(": ", 1)[1]: s.caption for s in forward}
    assert captions["z"] == "Forward: z = w0*x0 + w1*x1 + w2*x2 + b = -3 + 2 + 6 + 1 = 6."
    assert captions["w0*x0"] == "Forward: w0*x0 = w0 × x0 = -3 × 1 = -3."


def test_each_layer_box_steps_once_after_the_layers_that_use_it() -> None:
    from nn import MSE, Dense, ReLU, Sequential

    model = Sequential(
        [Dense(2, 4, rng=0, name="dense1"), ReLU(name="relu1"), Dense(4, 2, rng=1, name="dense2")],
        name="model",
    )
    # Three samples: backward's own order runs through the layers sample by sample.
    loss = MSE(name="mse")(model([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]]), [[1.0, 0.0]] * 3)
    loss.backward()
    boxes = [s.title.split(": ", 1)[1] for s in step_through(loss, collapse="layer").steps[1:-1]]
    assert boxes[-3:] == [
        "model / dense2 (Dense)",
        "model / relu1 (ReLU)",
        "model / dense1 (Dense)",
    ]
    assert len(boxes) == len(set(boxes))  # each box once
    runs = [s for s in step_through(loss, collapse="layer").steps if "dense1" in s.title]
    assert len(runs) == 1
