"""Recording modes (autograd/context.py): no_grad, enable_grad, scope and detect_anomaly."""

from __future__ import annotations

import math
import threading

import pytest

import autograd as ag
from autograd import AnomalyError, Value, context, no_grad


def test_the_default_state_is_held_as_none_so_a_node_pays_one_test() -> None:
    assert context.STATE.get() is None
    assert context.current() == context.State(grad_enabled=True, scope=None, anomaly=False)
    with no_grad():
        assert context.STATE.get() == context.State(grad_enabled=False)
        with ag.enable_grad():
            assert context.STATE.get() is None  # back to the default: None again
    assert context.STATE.get() is None


def test_modes_nest_and_each_block_restores_what_it_found_even_on_an_error() -> None:
    with ag.scope("outer") as outer, ag.detect_anomaly():
        with pytest.raises(ZeroDivisionError), no_grad():
            assert context.current() == context.State(False, outer, True)
            1 / 0  # noqa: B018
        assert context.current() == context.State(True, outer, True)
    assert context.STATE.get() is None


def test_no_grad_records_leaves_and_restores() -> None:
    x = Value(2.0)
    with no_grad():
        assert not ag.is_grad_enabled()
        y = x * x + 1
        assert y.op == "" and y.parents == () and y.data == 5.0
        with ag.enable_grad():
            z = x * 2
            assert z.op == "mul"
    assert ag.is_grad_enabled()
    assert (x * x).op == "mul"


def test_no_grad_does_not_leak_across_threads() -> None:
    import threading

    seen: list[str] = []

    def worker() -> None:
        seen.append((Value(1.0) * 2).op)

    with no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen.append((Value(1.0) * 2).op)
    assert seen == ["mul", ""]


def test_no_grad_does_not_leak_across_asyncio_tasks() -> None:
    import asyncio

    async def recording() -> str:
        await asyncio.sleep(0)
        return (Value(1.0) * 2).op

    async def silent() -> str:
        with no_grad():
            await asyncio.sleep(0)
            return (Value(1.0) * 2).op

    async def main() -> list[str]:
        return list(await asyncio.gather(silent(), recording(), silent()))

    assert asyncio.run(main()) == ["", "mul", ""]


def test_scope_tags_nodes() -> None:
    x = Value(1.0)
    with ag.scope("layer", owner="L") as outer, ag.scope("neuron 0") as inner:
        y = x * 2
    z = y + 1
    assert y.scope is inner and inner.parent is outer and inner.path == ("layer", "neuron 0")
    assert outer.owner == "L" and z.scope is None and x.scope is None


@pytest.mark.parametrize("name", [7, None, b"layer", ("a",)], ids=repr)
def test_scope_needs_a_str_name(name: object) -> None:
    with pytest.raises(TypeError, match=rf"scope\(\) needs a str name, got {type(name).__name__}"):
        ag.scope(name)  # type: ignore[arg-type]


def test_no_grad_inside_a_scope_tags_the_leaves_it_makes_and_keeps_no_graph() -> None:
    x = Value(2.0)
    with ag.scope("layer") as layer, no_grad():
        y = x * 3.0
    assert (y.op, y.parents, y.scope) == ("", (), layer)


def test_enable_grad_inside_no_grad_keeps_the_scope() -> None:
    x = Value(2.0)
    with ag.scope("layer") as layer, no_grad(), ag.enable_grad():
        y = x * 3.0
    assert y.op == "mul" and y.scope is layer


def test_a_constant_belongs_to_no_scope_whichever_scope_reads_it() -> None:
    x = Value(2.0)
    with ag.scope("layer") as layer:
        y = x * 3.0
        constant = y.parents[1]
    assert y.scope is layer and constant.scope is None and constant.data == 3.0


def test_scope_path_and_repr_name_every_enclosing_scope() -> None:
    with ag.scope("net") as net, ag.scope("layer 1") as layer:
        pass
    assert layer.path == ("net", "layer 1") and net.path == ("net",)
    assert repr(layer) == "Scope('net/layer 1')"


def test_detect_anomaly_does_not_leak_across_threads() -> None:
    outcome: list[str] = []

    def worker() -> None:
        outcome.append(repr(Value(0.0).log().data))  # -inf, no error outside detect_anomaly

    with ag.detect_anomaly():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        with pytest.raises(AnomalyError, match="forward: log"):
            Value(0.0).log()
    assert outcome == ["-inf"]


def test_detect_anomaly_checks_backward_too_and_only_inside_its_block() -> None:
    x = Value(0.0)
    y = x.log() * 0.0  # forward: -inf * 0 = nan, made outside the block
    assert math.isnan(y.data)
    y.backward()  # no checks outside detect_anomaly
    with ag.detect_anomaly(), pytest.raises(AnomalyError, match="backward: "):
        y.backward()
