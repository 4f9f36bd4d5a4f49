"""Habits from micrograd, PyTorch, HIPS autograd and the nnfs book: each works, or says where ours is."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd.compat import AUTOGRAD, NN, Elsewhere


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


def test_from_nn_import_linear_names_dense() -> None:
    with pytest.raises(ImportError) as e:
        from nn import Linear  # noqa: F401
    assert str(e.value) == (
        "nn.Linear is PyTorch's name; chainrule's is nn.Dense "
        "(Dense(n_inputs, n_neurons) keeps W as (n_inputs, n_neurons))"
    )


def test_book_class_names_point_to_ours_and_to_the_books_numpy_class() -> None:
    with pytest.raises(ImportError, match=r"nn.Layer_Dense is the nnfs book's name; chainrule's "):
        nn.Layer_Dense  # noqa: B018
    assert resolve("nn.reference.Layer_Dense") is not None  # named by that message


def test_unknown_names_stay_plain_attribute_errors() -> None:
    assert not hasattr(nn, "no_such_thing")
    assert not hasattr(ag, "no_such_thing")
    with pytest.raises(ImportError, match=r"cannot import name 'no_such_thing' from 'nn'"):
        exec("from nn import no_such_thing", {})


def test_draw_dot_is_draw_graph() -> None:
    from viz import draw_dot

    assert draw_dot is viz.draw_graph


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
        ag.derivative(lambda x: "1", 2.0)


def test_nested_grad_without_create_graph_is_a_constant() -> None:
    # d/dx [d(x^3)/dx] = 6x = 12 at x = 2 only when the inner gradient keeps its graph;
    # without create_graph it is the number 12, a constant, as in PyTorch.
    assert ag.derivative(lambda x: ag.grad(x**3, x), 2.0) == 0.0
    assert ag.derivative(lambda x: ag.grad(x**3, x), 2.0, order=0) == 12.0
    assert ag.derivative(lambda x: ag.grad(x**3, x, create_graph=True), 2.0) == 12.0
    assert ag.derivative(lambda x: x * ag.grad(x**3, x), 2.0) == 12.0  # 3x^2 held at 12
