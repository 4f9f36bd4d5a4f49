"""Custom ops (`defop`): what their derivatives and kinks must be, and nodes that outlive their op."""

from __future__ import annotations

import math
import os
from itertools import count

import numpy as np
import pytest
from strategies import custom_op

import autograd as ag
from autograd import Value, gradcheck
from autograd.gradcheck import gradcheck_report
from autograd.ops import ArrayForm, array_rules, div

_serial = count()


def _name(stem: str) -> str:
    return f"{stem}_{os.getpid()}_{next(_serial)}"


# ---- defop: an op in the table, and what it checks ----


def test_custom_op_lives_in_the_rule_table_and_supports_second_order() -> None:
    with custom_op(
        "hypot",
        math.hypot,
        lambda out, a, b: (div(a, out), div(b, out)),
        doc="f(a, b) = sqrt(a^2 + b^2); df/da = a / f, df/db = b / f",
        arity=2,
    ) as hypot:
        name = hypot.op.name
        assert ag.OPS[name] is hypot.op and name in ag.custom.custom_ops()
        a, b = Value(3.0, "a"), Value(4.0, "b")
        y = hypot(a, b)
        assert (y.data, y.op, y.parents) == (5.0, name, (a, b))
        y.backward()
        assert (a.grad, b.grad) == (0.6, 0.8)
        assert gradcheck(hypot, [a, b])
        # d2/da2 hypot = b^2 / f^3 = 16 / 125.
        (ga,) = ag.grad(y, [a], create_graph=True)
        assert ag.grad(ga, a) == pytest.approx(16 / 125)
        assert gradcheck(lambda p: ag.grad(hypot(p, 4.0), p, create_graph=True), [3.0])
    assert name not in ag.OPS


def test_defop_infers_arity_and_accepts_a_bare_derivative() -> None:
    with custom_op("twice", lambda a: 2.0 * a, lambda out, a: 2.0) as twice:
        assert twice.op.arity == 1
        x = Value(1.5)
        twice(x).backward()
        assert x.grad == 2.0
        with pytest.raises(TypeError, match="takes 1 input"):
            twice(1.0, 2.0)
    with custom_op("total", lambda *xs: float(sum(xs)), lambda out, *xs: (1.0,) * len(xs)) as total:
        assert total.op.arity == -1
        assert total(1.0, 2.0, 3.0).data == 6.0


def test_defop_rejects_bad_definitions() -> None:
    with pytest.raises(ValueError, match="already registered"):
        ag.defop("relu", lambda a: a, lambda out, a: (1.0,))
    with pytest.raises(ValueError, match="Python identifier"):
        ag.defop("not a name", lambda a: a, lambda out, a: (1.0,))
    with pytest.raises(TypeError, match="df must be callable"):
        ag.defop("nodf_op", lambda a: a, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pass arity="):
        ag.defop("hyp_op", math.hypot, lambda out, a, b: (1.0, 1.0))
    with pytest.raises(ValueError, match="built-in op"):
        ag.unregister("relu")
    with pytest.raises(KeyError, match="no op named"):
        ag.unregister("never_registered_op")
    assert "nodf_op" not in ag.OPS and "hyp_op" not in ag.OPS


def test_defop_checks_what_f_and_df_return() -> None:
    with (
        custom_op("short", lambda a, b: a + b, lambda out, a, b: (1.0,)) as short,
        pytest.raises(ValueError, match="returned 1 derivative"),
    ):
        short(Value(1.0), Value(2.0)).backward()
    with (
        custom_op("cplx", lambda a: complex(a, 1.0), lambda out, a: (1.0,)) as cplx,
        pytest.raises(TypeError, match="needs a real number, got complex"),
    ):
        cplx(1.0)


@pytest.mark.parametrize(
    "derivative", [np.float32(0.5), np.float64(0.5), np.int64(1), np.True_, 0.5], ids=repr
)
def test_derivatives_of_a_custom_op_become_floats_like_its_forward_values(
    derivative: object,
) -> None:
    expected = float(derivative)  # type: ignore[arg-type]
    with custom_op("np_slope", lambda a: 0.5 * a, lambda out, a: (derivative,)) as half:
        x = Value(2.0)
        y = half(x) * 3.0  # the ops below the custom one inherit its derivative's type
        y.backward()
        assert type(x.grad) is float and x.grad == 3.0 * expected
        (g,) = ag.grad(y, [x])
        assert type(g) is float and g == 3.0 * expected


@pytest.mark.parametrize(
    ("derivative", "error", "match"),
    [
        (np.array(0.5), TypeError, r"got ndarray; use \.item\(\)"),
        (1j, TypeError, "got complex"),
        (None, TypeError, "got NoneType"),
        (10**400, OverflowError, "int too large for a float"),
    ],
    ids=repr,
)
def test_a_derivative_that_is_no_real_number_is_refused_naming_the_op(
    derivative: object, error: type[Exception], match: str
) -> None:
    with custom_op("bad_slope", lambda a: a, lambda out, a: (derivative,)) as op:
        x = Value(1.0)
        with pytest.raises(error, match=rf"df of op '{op.op.name}'\[0\] .*{match}"):
            op(x).backward()


def test_derivatives_stay_values_under_create_graph() -> None:
    with custom_op("cube", lambda a: a**3, lambda out, a: (3.0 * a * a,)) as cube:
        x = Value(2.0)
        (g,) = ag.grad(cube(x), [x], create_graph=True)
        assert isinstance(g, Value) and g.data == 12.0
        assert ag.grad(g, x) == 12.0  # d/dx 3x^2 = 6x


@pytest.mark.parametrize(
    ("kinks", "match"),
    [
        (lambda a, b: (0.0, 0.0), "for input 0 it gave float"),  # flat: not one sequence per input
        (lambda a, b: None, "got None"),
        (lambda a, b: ((0.0,),), r"per input \(2\), got \(\(0\.0,\),\)"),
        (lambda a, b: ((0.0,), ("x",)), "the point 'x', not a number"),
        (lambda a, b: ((1.0 / (a - a),), ()), "ZeroDivisionError|division by zero"),
    ],
)
def test_defop_probes_kinks_when_the_op_is_defined(kinks: object, match: str) -> None:
    name = _name("kinked")
    with pytest.raises(TypeError, match=rf"defop '{name}': kinks\(0\.5, 1\.5\) failed: .*{match}"):
        ag.defop(name, lambda a, b: a * b, lambda out, a, b: (b, a), kinks=kinks)  # type: ignore[arg-type]
    assert name not in ag.OPS


def test_kinks_are_checked_again_where_gradcheck_uses_them() -> None:
    # Well-formed at defop's sample inputs, malformed at x = 3: the check at use names the op.
    with custom_op(
        "moody",
        lambda a: a * a,
        lambda out, a: (a,),  # wrong on purpose (2a is right), so gradcheck looks for kinks
        kinks=lambda a: ((0.0,),) if a < 1.0 else (0.0,),
    ) as moody:
        report = pytest.raises(TypeError, match=rf"kinks of op '{moody.op.name}' must return")
        with report:
            gradcheck_report(moody, [3.0])


def test_a_node_keeps_the_rule_it_was_built_with_after_its_op_is_replaced() -> None:
    name = _name("wave")
    wave = ag.defop(name, math.sin, lambda out, a: (math.cos(a),))
    x = Value(0.5, "x")
    y = wave(x)
    ag.unregister(name)
    # The same name, another rule: d/dx cos x = -sin x. The old node must not pick it up.
    ag.defop(name, math.cos, lambda out, a: (-math.sin(a),))
    try:
        assert y.op == name and y.rule is wave.op
        y.backward()
        assert x.grad == math.cos(0.5)  # 0.8775825618903728, not -0.479...
        assert ag.grad(y, [x]) == [math.cos(0.5)]
        assert ag.explain(y, x).total == math.cos(0.5)
        z = ag.apply(name, x)  # a new node takes the rule in the table now
        z.backward()
        assert z.data == math.cos(0.5) and x.grad == math.cos(0.5) - math.sin(0.5)
    finally:
        ag.unregister(name)


def test_a_graph_outlives_the_unregistering_of_its_op() -> None:
    name = _name("triple")
    triple = ag.defop(name, lambda a: 3.0 * a, lambda out, a: (3.0,), kinks=lambda a: ((),))
    x = Value(2.0, "x")
    y = triple(x) * x
    ag.unregister(name)
    y.backward()
    assert x.grad == 12.0  # d/dx 3x^2
    assert ag.grad(y, [x]) == [12.0]
    assert ag.explain(y, x).total == 12.0
    assert gradcheck_report(lambda v: triple(v) * v, [2.0]).passed
    with pytest.raises(KeyError, match=f"apply\\(\\): no op named '{name}' is registered"):
        ag.apply(name, x)


def test_apply_names_what_it_needs() -> None:
    with pytest.raises(TypeError, match=r"apply\(\) needs an Op or an op's name, got int"):
        ag.apply(7, Value(1.0))  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"exp\(\) operand 0 needs a Value or a real number, got str"
    ):
        ag.apply("exp", "1")
    with pytest.raises(OverflowError, match=r"mul\(\) operand 1 got an int too large for a float"):
        ag.apply("mul", Value(1.0), 10**400)


# ---- the facts beyond f and df: explain's formula and note, the testing domain, the array form ----


def test_a_custom_ops_formula_and_note_are_what_explain_shows() -> None:
    with custom_op(
        "halfroot",
        math.sqrt,
        lambda out, a: (0.5 / out,),
        formula=lambda s, x, out, i: s.div("1", s.mul("2", s.fn("sqrt", x[0]))),
        note=lambda s, x, out, i: f"{x[0]} = {s.num(s.value(0))} > 0",
    ) as halfroot:
        x = Value(4.0, "x")
        y = halfroot(x)
        y.label = "r"
        (f,) = ag.explain(y, x).paths[0].factors  # type: ignore[index]
        assert str(f) == "d r/d x = 1/(2·sqrt(x)) = 1/(2·sqrt(4)) = 0.25  (x = 4 > 0)"
        md = ag.explain(y, x)._repr_markdown_()
        assert "&= \\frac{1}{2 \\cdot \\sqrt{\\text{x}}} = \\frac{1}{2 \\cdot \\sqrt{4}}" in md
        assert "\\quad (\\text{x} = 4 > 0)" in md


@pytest.mark.parametrize(
    ("name", "text", "latex"),
    [
        ("cos", "cos(x)", "\\cos\\left(\\text{x}\\right)"),
        ("abs", "|x|", "\\left|\\text{x}\\right|"),
        ("sign", "sign(x)", "\\operatorname{sign}\\left(\\text{x}\\right)"),
    ],
)
def test_a_formula_names_functions_in_text_and_latex(name: str, text: str, latex: str) -> None:
    with custom_op(
        "fn_" + name,
        lambda a: 2.0 * a,
        lambda out, a: (2.0,),
        formula=lambda s, x, out, i: s.fn(name, x[0]),
    ) as op:
        x = Value(1.0, "x")
        (f,) = ag.explain(op(x), x).paths[0].factors  # type: ignore[index]
        assert f.formula == text
        assert latex in ag.explain(op(x), x)._repr_markdown_()


def test_a_custom_ops_domain_is_where_testing_draws_its_inputs() -> None:
    from hypothesis import given, settings
    from strategies import op_inputs

    with custom_op(
        "inverse", lambda a: 1.0 / a, lambda out, a: (-out * out,), domain=(((1.0, 2.0),),)
    ) as inverse:
        assert inverse.op.domain == (((1.0, 2.0),),)
        seen: list[float] = []

        @settings(max_examples=40)
        @given(op_inputs(inverse.op))
        def check(xs: tuple[float, ...]) -> None:
            seen.append(xs[0])

        check()
        assert len(seen) == 40 and all(1.0 <= x <= 2.0 for x in seen)


@pytest.mark.parametrize(
    ("domain", "error", "match"),
    [
        ([], TypeError, "per input, a sequence of \\(lo, hi\\) intervals, got \\[\\]"),
        ((((0.0, 1.0),), ((0.0, 1.0),)), ValueError, "it has 2 entries for 1 input"),
        (((0.0, 1.0),), TypeError, "for input 0 it gave 0.0"),
        ((((2.0, 1.0),),), ValueError, "domain of input 0 has an empty interval \\(2.0, 1.0\\)"),
        ((((None, "1"),),), TypeError, "domain needs a real number, got str"),
    ],
)
def test_defop_checks_the_domain(domain: object, error: type[Exception], match: str) -> None:
    name = _name("dom")
    with pytest.raises(error, match=rf"defop '{name}'.*{match}"):
        ag.defop(name, lambda a: a, lambda out, a: (1.0,), domain=domain)  # type: ignore[arg-type]
    assert name not in ag.OPS


def test_an_array_form_is_checked_against_the_scalar_rule_at_defop() -> None:
    with custom_op(
        "wave",
        math.sin,
        lambda out, a: (math.cos(a),),
        array=ArrayForm(np.sin, lambda o, a: (np.cos(a),)),
    ) as wave:
        rules = array_rules(wave.op)
        assert rules is not None
        xs = np.array([0.0, 0.5, 2.0])
        assert np.array_equal(rules[0](xs), np.sin(xs))
    # ArrayForm() says f and df work on arrays as written: these do.
    with custom_op(
        "cube", lambda a: a * a * a, lambda out, a: (3.0 * a * a,), array=ArrayForm()
    ) as cube:
        rules = array_rules(cube.op)
        assert rules is not None
        assert np.array_equal(rules[1](None, np.array([1.0, 2.0]))[0], [3.0, 12.0])
    bad = [
        (
            ArrayForm(np.cos, lambda o, a: (np.cos(a),)),
            ValueError,
            r"the array form's f at \(-4.0,\) is .*, but the op's own rule gives",
        ),
        (ArrayForm(np.sin, lambda o, a: (np.sin(a),)), ValueError, r"the array form's df\[0\] at"),
        (
            ArrayForm(np.sin, lambda o, a: (np.cos(a), 1.0)),
            ValueError,
            "the array form.s df gave 2 derivative",
        ),
        (ArrayForm(), TypeError, "the array form failed on .*only .*arrays can be converted"),
        ("np.sin", TypeError, "array must be an autograd.ops.ArrayForm, got str"),
    ]
    for array, error, match in bad:
        name = _name("badwave")
        with pytest.raises(error, match=rf"defop '{name}': {match}"):
            ag.defop(name, math.sin, lambda out, a: (math.cos(a),), array=array)  # type: ignore[arg-type]
        assert name not in ag.OPS
