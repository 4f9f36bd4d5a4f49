"""detect_anomaly(): the first inf or nan raises, naming the op, its inputs and the labels on the path."""

from __future__ import annotations

import math

import pytest

import autograd as ag
from autograd import AnomalyError, Value, context, detect_anomaly, no_grad
from autograd import value as value_module


def labelled(x: float, w: float) -> tuple[Value, Value, Value]:
    """x and w as labelled leaves, and h = x * w labelled too."""
    xv, wv = Value(x, "x"), Value(w, "w")
    h = xv * wv
    h.label = "h"
    return xv, wv, h


# ---- forward ----


def test_forward_log_of_zero_names_the_op_its_input_and_the_labels() -> None:
    _, _, h = labelled(0.0, 2.0)
    reached_after = []
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        y = h.log()
        reached_after.append(y)
    message = str(info.value)
    assert message.startswith("forward: log(h=0.0) = -inf is the first non-finite value")
    assert "made by op 'log' from input values 0.0" in message
    labels = message.split("(inputs first): ")[1].split(".")[0].split(", ")
    assert sorted(labels[:2]) == ["w", "x"] and labels[2:] == ["h"]
    assert reached_after == []  # raised at log itself, before anything downstream ran


@pytest.mark.parametrize(
    ("build", "op", "call"),
    [
        (lambda a: a / (a - 1.0), "div", "div(a=1.0, sub=0.0) = inf"),
        (lambda a: (a * 800.0).exp(), "exp", "exp(mul=800.0) = inf"),
        (lambda a: (a - 2.0) ** 0.5, "pow", "pow(sub=-1.0, 0.5) = nan"),
        (lambda a: (a - 1.0) / (a - 1.0), "div", "div(sub=0.0, sub=0.0) = nan"),
    ],
)
def test_forward_names_the_first_op_that_goes_non_finite(build, op, call) -> None:
    with pytest.raises(AnomalyError, match=f"made by op '{op}'") as info, detect_anomaly():
        build(Value(1.0, "a"))
    assert call in str(info.value)


def test_forward_checks_also_run_under_no_grad_and_in_a_scope() -> None:
    with pytest.raises(AnomalyError, match="log"), no_grad(), detect_anomaly():
        Value(0.0).log()
    with pytest.raises(AnomalyError, match="sigmoid|log"), ag.scope("layer"), detect_anomaly():
        (Value(-1.0, "z").sigmoid() - 0.5 * 1.0).log()


def test_an_input_that_was_already_non_finite_is_pointed_out() -> None:
    with (
        pytest.raises(AnomalyError, match="Operand big=inf was already non-finite") as info,
        detect_anomaly(),
    ):
        Value(math.inf, "big") + 1.0
    assert "forward: add(big=inf, 1.0) = inf" in str(info.value)


# ---- backward ----


def test_backward_square_root_at_zero_names_pow_and_the_path() -> None:
    # r = h ** 0.5 at h = 0 is finite (0), but d r / d h = 0.5 * 0 ** -0.5 = inf.
    x, w, h = labelled(0.0, 2.0)
    r = h**0.5
    r.label = "r"
    loss = (r + 1.0).square()
    loss.label = "loss"
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        loss.backward()
    message = str(info.value)
    assert message.startswith(
        "backward: pow(h=0.0, 0.5) passed gradient inf to its operand 0 (h=0.0)"
    )
    assert "incoming grad 2.0 times the local derivative d pow / d operand0 = inf" in message
    assert "made by op 'pow'" in message
    assert "path from the root: loss -> add -> r -> h." in message
    assert x.grad == 0.0 and w.grad == 0.0  # stopped before the inf reached the leaves


def test_the_error_carries_where_it_happened_for_a_drawing() -> None:
    x, w, h = labelled(0.0, 2.0)
    r = h**0.5
    r.label = "r"
    loss = (r + 1.0).square()
    loss.label = "loss"
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        loss.backward()
    err = info.value
    assert (err.phase, err.op, err.slot, err.value) == ("backward", "pow", 0, math.inf)
    assert err.node is r and err.operands[0] is h and err.operands[1] == 0.5
    # The path the message prints, as nodes: loss -> add -> r -> h.
    assert [n.label or n.op for n in err.path] == ["loss", "add", "r", "h"]
    assert err.path[0] is loss and err.path[-1] is h
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        h.log()
    err = info.value
    assert (err.phase, err.op, err.value, err.node, err.slot) == (
        "forward",
        "log",
        -math.inf,
        None,
        None,
    )
    assert err.operands == (h,) and err.inputs == (h,) and err.path == ()


def test_backward_zero_times_infinite_derivative_is_caught() -> None:
    # The gradient reaching sqrt(y) is 0, its local derivative at y = 0 is inf, and 0 * inf = nan:
    # without the check, that nan would land in a.grad although a barely matters.
    a = Value(-2.0, "a")
    y = a.relu()
    y.label = "y"
    out = (y**0.5) * 0.0 + a
    out.label = "out"
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        out.backward()
    message = str(info.value)
    assert message.startswith("backward: pow(y=0.0, 0.5) passed gradient nan to its operand 0")
    assert "incoming grad 0.0 times the local derivative d pow / d operand0 = inf" in message
    assert "path from the root: out -> mul -> pow -> y." in message
    out.backward()  # unchecked, the nan spreads silently into a.grad
    assert math.isnan(a.grad)


def test_backward_checks_run_for_grad_and_create_graph_too() -> None:
    x = Value(0.0, "x")
    y = x**1.5  # finite first derivative 1.5 * 0 ** 0.5 = 0, infinite second
    with detect_anomaly():
        (g,) = ag.grad(y, [x], create_graph=True)
    assert g.data == 0.0
    with pytest.raises(AnomalyError, match="made by op 'pow'"), detect_anomaly():
        ag.grad(g, [x])
    with pytest.raises(AnomalyError, match="made by op 'pow'"), detect_anomaly():
        ag.grad(x**0.5, [x], create_graph=True)


# ---- no behaviour change, and nothing runs when unused ----


def _computation() -> tuple[list[float], list[float]]:
    """A graph with ordinary numbers and one that goes to inf and nan on its own."""
    a, b = Value(0.7, "a"), Value(-1.3, "b")
    loss = ag.sum([(a * b).tanh(), (a / b).exp(), b.square().log(), a.relu() ** 0.5]).sigmoid()
    loss.backward()
    z = Value(0.0, "z")
    bad = z.log() * z + z**0.5
    bad.backward()
    return [loss.data, bad.data], [a.grad, b.grad, z.grad]


def test_values_and_gradients_are_identical_with_and_without_detection() -> None:
    plain = _computation()
    assert math.isnan(plain[0][1]) and math.isnan(plain[1][2])  # nan spreads when nobody checks
    with pytest.raises(AnomalyError), detect_anomaly():
        _computation()
    a, b = Value(0.7), Value(-1.3)
    with detect_anomaly():
        watched = ag.sum(
            [(a * b).tanh(), (a / b).exp(), b.square().log(), a.relu() ** 0.5]
        ).sigmoid()
        watched.backward()
    assert [watched.data, a.grad, b.grad] == [plain[0][0], plain[1][0], plain[1][1]]


def test_no_checks_run_when_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    # value.py imports the two checks by name, so they are patched where it looks them up.
    calls: list[str] = []
    monkeypatch.setattr(value_module, "forward_anomaly", lambda *a: calls.append("forward"))
    monkeypatch.setattr(value_module, "backward_anomaly", lambda *a: calls.append("backward"))
    _computation()
    assert calls == []
    assert context.STATE.get() is None  # the default mode is the single `is None` fast path
    # The same patches see the checks once they are on (and let the infs through): the
    # assertion above can fail.
    with detect_anomaly():
        _computation()
    assert calls.count("forward") == 3  # log(0) = -inf, -inf * 0 = nan, nan + 0 = nan
    assert calls.count("backward") == 14  # once per node with operands: 10 in loss, 4 in bad


def test_mode_ends_with_the_block_even_after_an_error() -> None:
    with pytest.raises(AnomalyError), detect_anomaly():
        assert context.current().anomaly
        Value(0.0).log()
    assert not context.current().anomaly
    assert context.STATE.get() is None
    assert math.isinf(Value(0.0).log().data)


def test_a_wide_dot_is_reported_by_its_first_and_its_non_finite_operands() -> None:
    ws = [Value(0.5, label=f"w{i}") for i in range(64)]
    xs = [Value(1.0, label=f"x{i}") for i in range(64)]
    xs[40] = Value(math.inf, label="huge")
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        ag.dot(ws, xs)
    text = str(caught.value)
    assert (
        "dot([0] w0=0.5, [1] w1=0.5, [2] w2=0.5, …, [104] huge=inf, …; 128 operands) = inf" in text
    )
    assert len(text) < 600  # not 128 operands spelled out
