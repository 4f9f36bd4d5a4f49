"""The shape of the code: autograd's imports point one way, and reading a graph never writes it."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import struct
from pathlib import Path
from types import FunctionType
from typing import Any

import pytest

import autograd as ag
from autograd import GradcheckError, Value
from viz import draw_graph
from viz.dot import to_dot
from viz.scene import GraphTooLarge

AUTOGRAD = Path(ag.__file__).parent
NN = AUTOGRAD.parent / "nn"
VIZ = AUTOGRAD.parent / "viz"

# Packages autograd, nn and viz may import only inside a function or a try block, as a user need not have
# them: autograd.testing's strategies need hypothesis, `import autograd` does not.
OPTIONAL_DEPENDENCIES = {"hypothesis", "tqdm"}  # autograd.testing's, nn.fit's progress bar


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under `if TYPE_CHECKING:`, which never run."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            found.update(n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    return found


def _imported(node: ast.Import | ast.ImportFrom, package: str = "autograd") -> list[str]:
    """The top-level names an import statement loads: `.graph` -> "autograd.graph", `numpy` -> "numpy"."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module or ""]
    if node.module:
        return [f"{package}.{node.module}"]
    return [f"{package}.{alias.name}" for alias in node.names]  # from . import graph


def import_graph(package: Path = AUTOGRAD) -> dict[str, set[str]]:
    """For each module of a package (autograd/ unless told), the package's modules it imports when
    it runs."""
    modules = {p.stem for p in package.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        skip = _type_checking_only(tree)
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node not in skip:
                for name in _imported(node, package.name):
                    parts = name.split(".")
                    if parts[0] == package.name and len(parts) > 1 and parts[1] in modules:
                        deps.add(parts[1])
        graph[path.stem] = deps - {path.stem}
    return graph


def floors(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules by floor: floor 0 imports none of the others, floor k only floors below k."""
    placed: dict[str, int] = {}
    result: list[list[str]] = []
    while len(placed) < len(graph):
        floor = sorted(m for m in graph if m not in placed and graph[m] <= set(placed))
        if not floor:
            cycle = sorted(m for m in graph if m not in placed)
            raise AssertionError(f"these modules import each other in a circle: {cycle}")
        for m in floor:
            placed[m] = len(result)
        result.append(floor)
    return result


def test_autograd_imports_point_one_way() -> None:
    levels = floors(import_graph())
    floor = {m: k for k, ms in enumerate(levels) for m in ms}
    # The core path a learner reads, each module resting on the ones before it.
    assert floor["context"] == floor["facts"] == floor["reals"] == 0
    assert floor["facts"] < floor["ops"] < floor["fast"] < floor["graph"] < floor["value"]
    assert floor["graph"] < floor["anomaly"] < floor["value"]
    # The other ops join the table from modules of their own, which the core path never imports
    # below value.py; Value's conveniences (interop.py) sit below it too.
    assert floor["ops"] < floor["ops_math"] < floor["value"]
    assert floor["ops"] < floor["ops_piecewise"] < floor["value"]
    assert floor["interop"] < floor["value"]
    core = ("context", "ops", "fast", "graph", "anomaly")
    assert not any({"ops_math", "ops_piecewise", "interop"} & import_graph()[m] for m in core)
    # explain's model rests below its renderer, and both write formulas through notation.py:
    # str(), repr() and _repr_markdown_ reach the renderer through the hook it registers.
    assert floor["notation"] < floor["explain"] < floor["explain_render"]
    assert "explain_render" not in import_graph()["explain"]
    # The package sits on top; so may autograd.testing, which it does not import (hypothesis).
    assert set(levels[-1]) <= {"__init__", "testing"} and "__init__" in levels[-1]


def test_nn_and_viz_imports_point_one_way() -> None:
    # floors() raises on a circle; nn's module <-> replay was one, hidden by function-local imports.
    nn_floors = {m: k for k, ms in enumerate(floors(import_graph(NN))) for m in ms}
    viz_floors = {m: k for k, ms in enumerate(floors(import_graph(VIZ))) for m in ms}
    assert nn_floors["batch"] < nn_floors["replay"] < nn_floors["module"] < nn_floors["optim"]
    assert nn_floors["module"] < nn_floors["layers"] < nn_floors["__init__"]
    assert viz_floors["__init__"] == max(viz_floors.values())


def test_the_floors_find_a_circle() -> None:
    # The check above can fail: a circle has no floor.
    with pytest.raises(AssertionError, match=r"circle: \['graph', 'value'\]"):
        floors({"ops": set(), "graph": {"ops", "value"}, "value": {"graph"}})


def _local_imports(tree: ast.Module, package: str = "autograd") -> list[tuple[str, str]]:
    """(function, imported name) for every import inside a function body."""
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found += [(fn.name, name) for name in _imported(node, package)]
    return found


def test_packages_import_inside_functions_only_optional_dependencies() -> None:
    # A sibling imported inside a function is how an import circle hides (nn.module <-> nn.replay
    # was one): every package's own imports sit at the top, in one direction.
    offenders = []
    for path in sorted(p for pkg in (AUTOGRAD, NN, VIZ) for p in pkg.glob("*.py")):
        for fn, name in _local_imports(ast.parse(path.read_text()), path.parent.name):
            if name.split(".")[0] not in OPTIONAL_DEPENDENCIES:
                offenders.append(f"{path.parent.name}/{path.name}:{fn} imports {name}")
    assert offenders == []
    # The check can fail: a function-local import of a sibling module is found.
    sample = ast.parse("def f():\n    from .graph import backward\n    import numpy\n")
    assert _local_imports(sample) == [("f", "autograd.graph"), ("f", "numpy")]


def test_autograd_imports_neither_nn_nor_viz_nor_graphviz() -> None:
    offenders = []
    for path in sorted(AUTOGRAD.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for name in _imported(node):
                    if name.split(".")[0] in {"nn", "viz", "graphviz"}:
                        offenders.append(f"{path.name} imports {name}")
    assert offenders == []


# ---- reading a graph never writes it --------------------------------------------------------


def _graph() -> tuple[Value, list[Value]]:
    """A neuron with constants in every kind of slot: binary ops, a power, a dot and a sum."""
    x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.25, "b")
    z = ag.dot([w, 2.0], [x, 3.0], b)  # constants as a weight and as an input
    h = (z * 0.5 + 1.0).tanh() ** 2 - 3.0 * x
    y = ag.sum([h, 0.75, x.exp() / 4.0])
    y.label = "y"
    return y, [x, w, b]


def _bits(x: Any) -> Any:
    return struct.pack("<d", x) if type(x) is float else x


def _snapshot(root: Value) -> list[tuple[Value, tuple[Any, ...], Any]]:
    """Every node, in order, with its inputs (by identity; constants by their bits) and its grad."""
    return [
        (v, tuple(_bits(a) for a in v._inputs), _bits(v.grad)) for v in ag.topological_order(root)
    ]


def _same(a: list[tuple[Value, tuple[Any, ...], Any]], b: list[tuple[Value, Any, Any]]) -> bool:
    return len(a) == len(b) and all(
        u is v and len(ia) == len(ib) and all(p is q or p == q for p, q in zip(ia, ib)) and ga == gb
        for (u, ia, ga), (v, ib, gb) in zip(a, b)
    )


def _inspect(y: Value, leaves: list[Value]) -> None:
    """Everything that reads a graph: drawings, a refused drawing, explain and gradient checks."""
    x = leaves[0]
    to_dot(y)
    draw_graph(y, highlight=x)
    with pytest.raises(GraphTooLarge):
        to_dot(y, max_nodes=3)
    str(ag.explain(y, x))
    ag.explain(y, leaves[1])._repr_markdown_()
    [p.parents for p in ag.topological_order(y)]
    [p._prev for p in ag.topological_order(y)]
    # gradcheck walks y's graph for kinks when f's result depends on it.
    assert ag.gradcheck(lambda t: y * t, [2.0])
    ag.gradcheck_report(lambda t: (y * t).relu(), [2.0])
    wrong = ag.defop("wrong_square", lambda a: a * a, lambda out, a: 3.0 * a)
    try:
        with pytest.raises(GradcheckError):
            ag.gradcheck(lambda t: wrong(y * t), [2.0])
    finally:
        ag.unregister("wrong_square")  # random graphs of the table must not draw it


@pytest.mark.parametrize("when", ["before backward", "after backward"])
def test_drawing_explaining_and_gradchecking_leave_the_graph_and_the_next_backward_unchanged(
    when: str,
) -> None:
    y, leaves = _graph()
    twin, twin_leaves = _graph()  # never inspected
    if when == "after backward":
        y.backward()
        twin.backward()
    before = _snapshot(y)
    _inspect(y, leaves)
    assert _same(_snapshot(y), before)
    # The next backward does the same work and gives the same numbers as on the twin.
    y.backward()
    twin.backward()
    assert len(ag.topological_order(y)) == len(ag.topological_order(twin)) == 13
    assert [v.grad for v in ag.topological_order(y)] == [v.grad for v in ag.topological_order(twin)]


def test_a_constant_is_drawn_alike_whether_the_graph_was_read_before_backward_or_not() -> None:
    inspected, leaves = _graph()
    _inspect(inspected, leaves)
    plain, _ = _graph()
    inspected.backward()
    plain.backward()
    assert to_dot(inspected) == to_dot(plain)
    # The constant of the sum is its number in a box of its own, with no grad to show.
    assert re.search(r"\[shape=box [^]]*label=<0\.75>\]", to_dot(plain))
    assert "data 0.75" not in to_dot(plain)


def test_the_snapshot_sees_a_change() -> None:
    # The comparison above can fail: an extra operand or a changed grad is seen.
    y, leaves = _graph()
    before = _snapshot(y)
    leaves[0].grad = 1.0
    assert not _same(_snapshot(y), before)
    leaves[0].grad = 0.0
    y._a = (*y._inputs, Value(1.0))
    assert not _same(_snapshot(y), before)


# ---- docstrings -----------------------------------------------------------------------------

PACKAGES = ("autograd", "nn", "viz")
# Modules that exist only to refuse an import with a pointer to chainrule's name for the thing.
REFUSING = {"autograd.engine", "autograd.extend", "autograd.test_util", "autograd.numpy"}


def _public_api() -> dict[str, object]:
    """Every public function and class of the packages ('module.name'), and every public method
    and property of those classes that a class of ours defines ('module.Class.name')."""
    found: dict[str, object] = {}
    refused = set()
    for package in PACKAGES:
        root = importlib.import_module(package)
        modules = [root]
        for info in pkgutil.iter_modules(root.__path__):
            if info.name.startswith("_"):
                continue
            try:
                modules.append(importlib.import_module(f"{package}.{info.name}"))
            except ImportError:
                refused.add(f"{package}.{info.name}")
        for module in modules:
            names = getattr(module, "__all__", None) or [
                name
                for name, obj in vars(module).items()
                if not name.startswith("_")
                and (inspect.isclass(obj) or inspect.isfunction(obj))
                and obj.__module__ == module.__name__
            ]
            for name in names:
                obj = getattr(module, name)
                if (inspect.isclass(obj) or callable(obj)) and _ours(obj):
                    where = getattr(obj, "__qualname__", name)  # an op function has none
                    found.setdefault(f"{obj.__module__}.{where}", obj)
    assert refused == REFUSING
    for obj in [o for o in found.values() if inspect.isclass(o)]:
        for name in dir(obj):
            if name.startswith("_"):
                continue
            owner = next(c for c in obj.__mro__ if name in vars(c))
            attr = vars(owner)[name]
            if _ours(owner) and isinstance(
                attr, (FunctionType, property, staticmethod, classmethod)
            ):
                found.setdefault(f"{owner.__module__}.{owner.__qualname__}.{name}", attr)
    return found


def _ours(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] in PACKAGES


def _docstring(obj: Any) -> str:
    """The object's own docstring; a class's generated one ('Name(field, ...)') counts as none."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    doc = (obj.__doc__ or "").strip()
    generated = inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")
    return "" if generated else doc


def test_every_public_function_class_method_and_property_has_a_docstring() -> None:
    api = _public_api()
    # The walk reaches what it must: the engine, the nn layers, the book's classes, the drawing.
    for name in (
        "autograd.value.Value.backward",
        "autograd.interop.Interop.item",
        "nn.layers.Dense.forward",
        "nn.reference.Layer_Dense.backward",
        "nn.reference.Optimizer_Adam.update_params",
        "viz.render.draw_graph",
        "viz.step.StepThrough.save",
    ):
        assert name in api, name
    assert len(api) > 400
    missing = sorted(name for name, obj in api.items() if not _docstring(obj))
    assert not missing, f"{len(missing)} public names without a docstring: {missing}"
