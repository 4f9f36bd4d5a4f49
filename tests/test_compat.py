"""Habits from micrograd, PyTorch, HIPS autograd and the nnfs book: each works, or says where ours is."""

from __future__ import annotations

import importlib
import math
import pathlib
import re
import struct

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd.compat import AUTOGRAD, MODULES, NN, Elsewhere


def resolve(dotted: str) -> object:
    """The object at a dotted path such as "nn.Dense" or "nn.reference.Layer_Dense"."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    "package, table", [("autograd", AUTOGRAD), ("nn", NN)], ids=["autograd", "nn"]
)
def test_every_other_engines_name_points_to_one_of_ours_that_exists(
    package: str, table: dict[str, Elsewhere]
) -> None:
    module = importlib.import_module(package)
    for name, entry in table.items():
        assert resolve(entry.ours) is not None
        assert name not in vars(module), f"{package}.{name} exists: drop it from the table"
        with pytest.raises(ImportError, match=rf"chainrule's is {entry.ours}\b"):
            exec(f"from {package} import {name}", {})


def test_every_class_of_nn_reference_names_ours_from_nn() -> None:
    import nn.reference as R

    classes = {n for n, c in vars(R).items() if isinstance(c, type) and c.__module__ == R.__name__}
    bases = {"Loss", "Accuracy"}  # the book's shared parts, not something to train with
    assert classes - bases == {n for n in classes if n in NN}
    with pytest.raises(ImportError, match=r"nn.Layer_Input is the nnfs book's name; .*Sequential"):
        exec("from nn import Layer_Input", {})


def test_torch_and_hips_custom_functions_point_to_defop() -> None:
    for name, engine in (("Function", "PyTorch"), ("primitive", "HIPS autograd")):
        with pytest.raises(ImportError, match=rf"{engine}'s name; chainrule's is autograd.defop"):
            exec(f"from autograd import {name}", {})


def test_from_nn_import_linear_names_dense() -> None:
    with pytest.raises(ImportError) as e:
        from nn import Linear  # type: ignore[attr-defined]  # noqa: F401
    assert str(e.value) == (
        "nn.Linear is PyTorch's name; chainrule's is nn.Dense "
        "(Dense(n_inputs, n_neurons) keeps W as (n_inputs, n_neurons))"
    )


def test_book_class_names_point_to_ours_and_to_the_books_numpy_class() -> None:
    with pytest.raises(ImportError, match=r"nn.Layer_Dense is the nnfs book's name; chainrule's "):
        nn.Layer_Dense  # type: ignore[attr-defined]  # noqa: B018
    assert resolve("nn.reference.Layer_Dense") is not None  # named by that message


def test_unknown_names_stay_plain_attribute_errors() -> None:
    assert not hasattr(nn, "no_such_thing")
    assert not hasattr(ag, "no_such_thing")
    with pytest.raises(ImportError, match=r"cannot import name 'no_such_thing' from 'nn'"):
        exec("from nn import no_such_thing", {})


def test_draw_dot_is_draw_graph() -> None:
    from viz import draw_dot

    assert draw_dot is viz.draw_graph


def test_micrograds_draw_dot_call_sets_the_format_written_and_the_direction(
    tmp_path: pathlib.Path,
) -> None:
    from viz import draw_dot

    x = ag.Value(1.0, "x")
    y = ((x * 2 + 1).relu() * 0.3).tanh()  # a chain: wide left to right, tall top to bottom
    y.backward()
    sizes = {}
    for rankdir in ("LR", "TB"):
        g = draw_dot(y, format="png", rankdir=rankdir)  # micrograd's keywords
        assert g.format == "png"
        # the real dot writes the file, as for micrograd's users
        written = pathlib.Path(g.render(tmp_path / rankdir))
        png = written.read_bytes()
        assert written.suffix == ".png" and png.startswith(b"\x89PNG\r\n\x1a\n")
        sizes[rankdir] = struct.unpack(">II", png[16:24])  # the IHDR chunk: width, height
    (w, h), (w2, h2) = sizes["LR"], sizes["TB"]
    assert w > 2 * h and h2 > h and w2 < w, sizes


@pytest.mark.parametrize("bad", ["jpgg", 3, ["png"]])
def test_draw_graph_names_a_format_graphviz_cannot_write(bad: object) -> None:
    with pytest.raises(ValueError, match=r"draw_graph\(\): format must be one of Graphviz's"):
        viz.draw_graph(ag.Value(1.0), format=bad)  # type: ignore[arg-type]


def test_render_points_format_to_its_formats_option() -> None:
    with pytest.raises(TypeError, match=r"render\(\) takes formats= .*formats=\('png',\)"):
        viz.render(ag.Value(1.0), "unused", format="png")


# ---- constants: HIPS autograd gives 0 for a function that does not depend on its input ----


def test_derivative_of_a_constant_is_zero() -> None:
    assert ag.derivative(lambda x: 1.0, 2.0) == 0.0
    assert ag.derivative(lambda x: 3, 2.0, order=2) == 0.0
    assert ag.derivative(lambda x: np.float64(7.5), 2.0, order=0) == 7.5


def test_gradient_and_hessian_of_a_constant_are_zero() -> None:
    np.testing.assert_array_equal(ag.gradient(lambda x, y: 5.0, [1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(ag.hessian(lambda x, y: 5, [1.0, 2.0]), np.zeros((2, 2)))


def test_a_function_returning_neither_value_nor_number_is_refused() -> None:
    with pytest.raises(
        TypeError, match=r"derivative\(\): f must return a Value or a number, got str"
    ):
        ag.derivative(lambda x: "1", 2.0)  # type: ignore[arg-type, return-value]


def test_nested_grad_without_create_graph_is_a_constant() -> None:
    # d/dx [d(x^3)/dx] = 6x = 12 at x = 2 only when the inner gradient keeps its graph;
    # without create_graph it is the number 12, a constant, as in PyTorch.
    assert ag.derivative(lambda x: ag.grad(x**3, x), 2.0) == 0.0
    assert ag.derivative(lambda x: ag.grad(x**3, x), 2.0, order=0) == 12.0
    assert ag.derivative(lambda x: ag.grad(x**3, x, create_graph=True), 2.0) == 12.0
    assert ag.derivative(lambda x: x * ag.grad(x**3, x), 2.0) == 12.0  # 3x^2 held at 12


def test_grad_of_a_plain_number_output_is_zero() -> None:
    x = ag.Value(2.0)
    assert ag.grad(1.0, x) == 0.0
    assert ag.grad([x * x, 3.0], [x]) == [4.0]  # the constant adds nothing to d(x^2)/dx
    g = ag.grad(5, x, create_graph=True)
    assert isinstance(g, ag.Value) and g.data == 0.0


def test_hips_style_grad_of_a_function_points_to_derivative() -> None:
    with pytest.raises(TypeError, match=r"for HIPS's grad\(f\)\(x\) use ag.derivative\(f, x\)"):
        ag.grad(lambda x: x * x, ag.Value(1.0))  # type: ignore[arg-type]


def test_hips_style_grad_of_a_function_alone_points_to_derivative() -> None:
    # grad(f)(x), HIPS's habit: the call grad(f) has no inputs yet, and must still give the hint
    with pytest.raises(TypeError, match=r"for HIPS's grad\(f\)\(x\) use ag.derivative\(f, x\)"):
        ag.grad(lambda x: x * x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"for HIPS's grad\(f\)\(x\) use ag.derivative"):
        ag.grad(np.sin)  # a numpy ufunc is callable too


def test_grad_without_inputs_says_what_it_needs() -> None:
    with pytest.raises(TypeError, match=r"grad\(outputs, inputs\) needs inputs"):
        ag.grad(ag.Value(2.0) ** 2)


# ---- Value and Python's built-ins ----


def test_comparisons_compare_data_and_return_a_bool() -> None:
    a, b = ag.Value(2.0), ag.Value(-1.0)
    results = [a > 0, a >= 2, a < b, b <= -1.0, a > 0, a < 3, a > b, a < np.float64(3.0)]
    assert results == [True, True, False, True, True, True, True, True]
    assert all(type(r) is bool for r in results)
    nan = ag.Value(float("nan"))
    assert not (nan < 1.0 or nan >= 1.0)  # as floats: every ordering with nan is False


def test_max_min_and_sorted_order_values_by_data() -> None:
    a, b, c = ag.Value(2.0), ag.Value(-1.0), ag.Value(0.5)
    assert max(a, b) is a and min(a, b, c) is b
    assert sorted([a, b, c]) == [b, c, a]  # == on lists of Values is identity, element-wise
    assert max([a, b, c], key=lambda v: -v) is b


def test_comparison_with_a_non_number_names_the_operator() -> None:
    with pytest.raises(TypeError, match=r"the right operand of < needs a Value or a real number"):
        ag.Value(1.0) < "2"  # noqa: B015


def test_equality_stays_identity_so_values_hash_as_nodes() -> None:
    a, b = ag.Value(1.0), ag.Value(1.0)
    assert a == a and a != b
    assert (a == 1.0) is False  # not the number: compare a.data == 1.0
    assert len({a, b}) == 2 and {a: 1}[a] == 1


def test_bool_is_data_not_zero_as_for_floats() -> None:
    assert not ag.Value(0.0) and not ag.Value(-0.0)
    assert ag.Value(1e-300) and ag.Value(-2.0) and ag.Value(float("nan"))


@pytest.mark.parametrize("call", [float, int, math.exp, math.sqrt, math.log, math.isfinite])
def test_float_and_math_functions_refuse_and_name_data_and_the_methods(call: object) -> None:
    v = ag.Value(2.5) * 1.0
    with pytest.raises(TypeError, match=r"use v.data for the number \(2.5\), or v.exp\(\)"):
        call(v)  # type: ignore[operator]


def test_math_floor_and_ceil_are_the_ops_as_for_pytorch_tensors() -> None:
    # Python's math.floor(v) calls v.__floor__, which may return any type: a Value keeps the
    # graph, and numpy's np.floor on an object array of Values goes through it too.
    v = ag.Value(2.5) * 1.0
    assert (math.floor(v).op, math.floor(v).data, math.ceil(v).op, math.ceil(v).data) == (
        "floor",
        2.0,
        "ceil",
        3.0,
    )
    assert [x.op for x in np.floor(np.array([v, v], dtype=object))] == ["floor", "floor"]


def test_numpy_float_arrays_of_values_refuse_with_the_same_message() -> None:
    values = [ag.Value(1.0), ag.Value(2.0)]
    assert np.array(values).dtype == object
    with pytest.raises(TypeError, match=r"would be a plain number with no gradient"):
        np.array(values, dtype=float)


def test_format_spec_and_round_show_data() -> None:
    v = ag.Value(2.567, "w")
    assert f"{v:.2f}" == "2.57" and f"{v:>8.3e}" == "2.567e+00"
    assert f"{v}" == str(v) == "Value(label='w', data=2.567, grad=0.0)"
    assert round(v, 1) == 2.6 and round(v) == 3 and type(round(v)) is int


def test_prev_and_op_are_micrograds_read_only_views() -> None:
    x = ag.Value(3.0)
    y = x * 2.0 + x
    assert y._op == y.op == "add" and x._op == ""
    assert y._prev == frozenset(y.parents) and isinstance(y._prev, frozenset)
    (product,) = [p for p in y._prev if p is not x]
    assert product._op == "mul" and {p.data for p in product._prev} == {3.0, 2.0}
    # The constant 2.0 shows as a leaf on every read, and reading it adds no node to the graph.
    assert [p.op for p in product._prev] == ["", ""]
    assert len(ag.topological_order(y)) == 3
    with pytest.raises(AttributeError):
        y._prev = frozenset()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        y._op = "mul"  # type: ignore[misc]


@pytest.mark.parametrize(
    "name, hint",
    [
        ("_backward", r"micrograd's per-node closure.*call backward\(\) on the root"),
        ("item", r"PyTorch's .item\(\); the number is v.data"),
        ("requires_grad", r"every Value records its graph"),
        ("grad_fn", r"PyTorch's; v.rule is the Op that made v"),
    ],
)
def test_other_engines_value_attributes_name_ours(name: str, hint: str) -> None:
    v = ag.Value(1.0) + 1.0
    with pytest.raises(AttributeError, match=rf"Value has no .{name}: {hint}"):
        getattr(v, name)
    with pytest.raises(AttributeError, match=rf"Value has no .{name}: "):
        setattr(v, name, None)
    assert not hasattr(v, name)


def test_micrograds_constructor_with_children_names_our_way() -> None:
    a, b = ag.Value(1.0), ag.Value(2.0)
    with pytest.raises(TypeError, match=r"Value\(data, children, op\) is micrograd's constructor"):
        ag.Value(3.0, (a, b), "+")  # type: ignore[arg-type]
    for keywords in ({"_children": (a, b), "_op": "+"}, {"_children": ()}, {"_op": "*"}):
        with pytest.raises(TypeError, match=r"micrograd's constructor; .* write a \+ b"):
            ag.Value(3.0, **keywords)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Value\(\) label must be a str, got int"):
        ag.Value(3.0, 7)  # type: ignore[arg-type]


def test_import_autograd_numpy_says_to_use_numpy_on_arrays_of_values() -> None:
    hint = (
        r"autograd.numpy is HIPS autograd's wrapped numpy; chainrule has none.*import numpy as np"
    )
    for statement in ("import autograd.numpy as np", "from autograd import numpy"):
        with pytest.raises(ImportError, match=hint):
            exec(statement, {})
    # what the message promises: numpy's functions on an array of Values stay in the graph
    a = np.array([ag.Value(1.0), ag.Value(2.0)])
    y = np.sum(np.tanh(a) * np.exp(a)) + a @ np.array([3.0, 4.0])
    y.backward()
    expected = [
        (1 - math.tanh(x) ** 2 + math.tanh(x)) * math.exp(x) + c for x, c in ((1, 3), (2, 4))
    ]
    assert [v.grad for v in a] == pytest.approx(expected, rel=1e-14)  # a few ulp: other order


@pytest.mark.parametrize("name", sorted(MODULES))
def test_other_engines_modules_under_our_name_say_what_we_have(name: str) -> None:
    entry = MODULES[name]
    assert resolve(entry.ours) is not None
    hint = rf"^autograd.{name} is {entry.engine}'s name; chainrule's is {re.escape(entry.ours)} \("
    for statement in (f"import autograd.{name}", f"from autograd.{name} import x"):
        with pytest.raises(ImportError, match=hint):
            exec(statement, {})
    with pytest.raises(ImportError, match=hint):  # again: a failed import leaves nothing behind
        importlib.import_module(f"autograd.{name}")


def test_readme_tables_for_micrograd_and_the_book_name_only_things_that_exist() -> None:
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Coming from micrograd or the nnfs book")[1].split("\n## ")[0]
    dotted = set(re.findall(r"`((?:nn|ag|viz)(?:\.\w+)+)", section))
    imports = set(re.findall(r"`(from (?:autograd|nn|viz) import [\w, ]+)`", section))
    assert len(dotted) >= 25 and len(imports) >= 4
    for name in dotted:
        assert resolve(name.replace("ag.", "autograd.", 1)) is not None, name
    for line in imports:
        try:
            exec(line, {})
        except ImportError as e:  # the README shows `from nn import Layer_Dense` failing
            assert "chainrule's is" in str(e), line
