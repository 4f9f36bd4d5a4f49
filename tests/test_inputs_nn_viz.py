"""nn's and viz's entry points against numbers of every kind: a correct value, or an error naming it.

The inputs and the rule for a real number are test_inputs.py's (`kinds`). Three more rules,
stated here on their own, cover what nn and viz take besides real numbers:

- a count (a layer's size, a class index, epochs, batch_size, print_every, max_nodes, depth,
  fan, a seed) is an int, a numpy integer or a boolean (0 and 1, as everywhere); a float, even
  2.0, a Fraction or anything else is a TypeError, and one out of range a ValueError;
- an entry of an array-like (weights, gradients, one-hot rows) is a real number by the rule,
  except that numpy makes a sequence part of the array's shape, which is then wrong (ValueError),
  and reads a 0-d array as its number;
- a path is a str, bytes or os.PathLike; anything else is a TypeError. A plain file name (no
  folder in it, not "." or "..", no NUL, at most 200 bytes) must be written; any other name
  the OS may refuse, with an error that names the entry point.

Every entry point must give the value the rule says (the hyperparameter as stored, the layer's
size, the loss of the number, the file written) or raise the error class the rule says, with a
message that names the entry point, and quotes a huge number by its size, not its digits. Run
with `-s` to see the counts.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import re
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from kinds import EDGES, Tally, anything, expected, same

import nn
from autograd import Value
from autograd.ops import OPS
from viz import draw_graph, render
from viz.dot import to_dot
from viz.options import COLLAPSE_LEVELS, DrawOptions

TALLY = Tally()
Want = float | int | type[Exception]  # a count is an int, and may be too large for a float


@pytest.fixture(scope="module", autouse=True)
def _print_counts() -> Iterator[None]:
    yield
    if TALLY.tried:
        print(TALLY.report())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder of its own, current while the tests run: a path drawn as "1.5" is written here."""
    folder = tmp_path_factory.mktemp("inputs")
    with contextlib.chdir(folder):
        yield folder


# ---- the rules besides `expected` ----


def expected_count(x: Any, least: int, most: int | None = None) -> Want:
    """A count: an int, a numpy integer or a boolean, in [least, most]; else TypeError/ValueError."""
    if isinstance(x, (int, np.integer, np.bool_)) and not isinstance(x, np.timedelta64):
        n = int(x)  # bool is an int, and np.bool_ is 0 or 1 too
    else:
        return TypeError
    if n < least or (most is not None and n > most):
        return ValueError
    return n


def expected_entry(x: Any) -> Want:
    """An entry of an array-like: a sequence becomes part of the shape; a 0-d array its number."""
    if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0):
        return ValueError
    return expected(x[()] if isinstance(x, np.ndarray) else x)


def is_path(x: Any) -> bool:
    return isinstance(x, (str, bytes, os.PathLike))


def plain_name(x: Any) -> bool:
    """A file name any OS here takes, in the current folder: nothing may refuse it.

    200 bytes leaves room below the usual limit of 255 for a temporary name beside it.
    """
    name = os.fsdecode(os.fspath(x))
    try:
        size = len(os.fsencode(name))
    except UnicodeEncodeError:
        return False
    folders = [c for c in (os.sep, os.altsep) if c and c in name]
    return (
        bool(name)
        and "\x00" not in name
        and not folders
        and name not in (".", "..")
        and size <= 200
    )


def within(want: Want, lo: float, hi: float, lo_open: bool = False, hi_open: bool = True) -> Want:
    """`want` when it is a finite float in the range, ValueError when it is a float outside."""
    if not isinstance(want, float):
        return want
    low = want > lo if lo_open else want >= lo
    high = want < hi if hi_open else want <= hi
    return want if math.isfinite(want) and low and high else ValueError


# ---- checking one call ----


def check(
    entry: str,
    names: str,
    want: Want,
    call: Callable[[], float | int],
    close: Callable[[float, float], bool] = same,
    refusable: bool = False,
) -> None:
    """call() must give `want`, or raise `want` with a message containing `names`.

    `refusable`: the call writes a file whose drawn name is not plain (see `plain_name`). The
    OS may refuse such a name (NUL, too long, a folder that does not exist), and then an
    OSError or ValueError naming the entry point is right too.
    """
    try:
        got = call()
    except (TypeError, OverflowError, ValueError, OSError) as e:
        kind = next(c for c in (TypeError, OverflowError, ValueError, OSError) if isinstance(e, c))
        TALLY.outcomes[entry, kind.__name__] += 1
        assert names in str(e), f"{entry}: {type(e).__name__}: {e} does not name {names!r}"
        # A huge number is quoted by its size ("about 10**400"), never by its hundreds of digits.
        assert not re.search(r"\d{30}", str(e)), f"{entry}: {type(e).__name__}: {str(e)[:300]}"
        if refusable and not isinstance(want, type) and isinstance(e, (OSError, ValueError)):
            return
        assert isinstance(want, type), f"{entry}: raised {e!r}, but the rule gives {want!r}"
        assert isinstance(e, want), f"{entry}: {kind.__name__}: {e}, the rule says {want.__name__}"
        return
    TALLY.outcomes[entry, "float"] += 1  # a value: a float, a count or a file written
    assert not isinstance(want, type), f"{entry}: gave {got!r}, the rule says {want.__name__}"
    if type(want) is int:
        assert type(got) is int and got == want, f"{entry}: {got!r} instead of {want!r}"
        return
    assert type(got) is float and close(got, want), f"{entry}: {got!r} instead of {want!r}"


def skip(entry: str) -> None:
    TALLY.outcomes[entry, "skipped"] += 1


def ulps(a: float, b: float) -> bool:
    """Equal within 4 ulp: a replay computes with numpy arrays, whose kernels may round
    differently per CPU (the project never asserts bit-equality against numpy)."""
    return same(a, b) or (math.isfinite(b) and abs(a - b) <= 4 * math.ulp(b))


# ---- nn ----

# Each optimiser's hyperparameters and their ranges (lo, lo excluded?, hi), as the nnfs book's
# formulas need them: a rate and a decay >= 0, an epsilon > 0, the averaging factors in [0, 1)
# (at 1 an average never forgets its start). None as the rate is the book's default.
RANGES = {
    "learning_rate": (0.0, False, math.inf),
    "decay": (0.0, False, math.inf),
    "momentum": (0.0, False, 1.0),
    "epsilon": (0.0, True, math.inf),
    "rho": (0.0, False, 1.0),
    "beta_1": (0.0, False, 1.0),
    "beta_2": (0.0, False, 1.0),
}
HYPERPARAMETERS = {
    nn.SGD: ["lr", "learning_rate", "decay", "momentum"],
    nn.Adagrad: ["lr", "decay", "epsilon"],
    nn.RMSprop: ["lr", "decay", "epsilon", "rho"],
    nn.Adam: ["lr", "decay", "epsilon", "beta_1", "beta_2"],
}
DEFAULT_RATE = {nn.SGD: 1.0, nn.Adagrad: 1.0, nn.RMSprop: 0.001, nn.Adam: 0.001}
LARGEST_BUILT = 64  # a valid size above this is not built: a million-weight layer takes seconds


def check_optimisers(x: Any) -> None:
    want = expected(x)
    for cls, names in HYPERPARAMETERS.items():
        who = cls.__name__
        for name in names:
            attr = "learning_rate" if name == "lr" else name
            lo, lo_open, hi = RANGES[attr]
            value = within(want, lo, hi, lo_open)
            if x is None and attr == "learning_rate":
                value = DEFAULT_RATE[cls]
            check(
                f"{who}({name}=)",
                f"{who} {attr}",
                value,
                lambda cls=cls, name=name, attr=attr: getattr(cls([Value(1.0)], **{name: x}), attr),
            )

    def stepped() -> float:  # p <- p - lr g with g = 0.5
        p = Value(1.0)
        p.grad = 0.5
        nn.SGD([p], lr=x).step()
        return p.data  # type: ignore[no-any-return]

    lr = 1.0 if x is None else within(want, 0.0, math.inf)
    moved = lr if isinstance(lr, type) else 1.0 + -(lr * 0.5)
    check("SGD(lr=).step()", "SGD learning_rate", moved, stepped)

    def given_grad(grads: Any) -> Callable[[], float]:
        def call() -> float:
            p = Value(1.0)
            nn.SGD([p], lr=1.0).step(grads=grads)
            return p.data  # type: ignore[no-any-return]

        return call

    g = expected_entry(x)
    moved = g if isinstance(g, type) else 1.0 + -g
    check("step(grads=)", "SGD.step(grads)", moved, given_grad([x]))
    if isinstance(x, np.generic):
        check("step(grads=) array", "SGD.step(grads)", moved, given_grad(np.array([x])))


def check_dense(x: Any) -> None:
    for slot in ("n_inputs", "n_neurons"):
        n = expected_count(x, 1)
        entry = f"Dense({slot})"
        sizes = (
            {"n_inputs": x, "n_neurons": 2}
            if slot == "n_inputs"
            else {"n_inputs": 2, "n_neurons": x}
        )
        if type(n) is int and n * 2 > sys.maxsize:
            n = ValueError  # more weights than any array or list can hold
        elif type(n) is int and n > LARGEST_BUILT:
            skip(entry)
            continue

        def size(slot: str = slot, sizes: dict[str, Any] = sizes) -> int:
            layer = nn.Dense(**sizes)
            w, b = layer.numpy()
            assert w.shape == (layer.n_inputs, layer.n_neurons) and b.shape == (1, layer.n_neurons)
            return getattr(layer, slot)  # type: ignore[no-any-return]

        check(entry, "Dense", n, size)

    n = expected_count(x, 1)
    if type(n) is int and n > LARGEST_BUILT:
        skip("MLP(n, [n])")
    else:

        def mlp_size() -> int:  # micrograd's MLP: n inputs, one layer of n neurons
            (layer,) = nn.MLP(x, [x], rng=0).layers
            assert layer.nout == layer.nin and len(layer.neurons[0].w) == layer.nin
            return layer.nin

        check("MLP(n, [n])", "MLP", n, mlp_size)

    seed: Want = expected_count(x, 0)
    if x is None:  # no seed: numpy's global state, as the book draws
        state = np.random.get_state()
        seed = float(0.01 * np.random.randn(2, 2)[0, 0])
        np.random.set_state(state)
    elif type(seed) is int:
        seed = float(0.01 * np.random.default_rng(seed).standard_normal((2, 2))[0, 0])
    check("Dense(rng=)", "Dense rng", seed, lambda: float(nn.Dense(2, 2, rng=x).numpy()[0][0, 0]))

    if isinstance(x, str) and x in nn.INITS:
        init: Want = 1.0
    else:
        init = ValueError if isinstance(x, str) else TypeError
    check("Dense(init=)", "Dense init", init, lambda: (nn.Dense(2, 2, init=x), 1.0)[1])
    check(
        "Dense(init=) entries",
        "Dense init",
        expected_entry(x),
        lambda: float(nn.Dense(1, 1, init=lambda shape, rng: [[x]]).numpy()[0][0, 0]),
    )
    for name in (
        "weight_regularizer_l1",
        "weight_regularizer_l2",
        "bias_regularizer_l1",
        "bias_regularizer_l2",
    ):
        check(
            f"Dense({name}=)",
            f"Dense {name}",
            within(expected(x), 0.0, math.inf),
            lambda name=name: getattr(nn.Dense(1, 1, **{name: x}), name),
        )
    check(
        "Dropout(rate)", "Dropout rate", within(expected(x), 0.0, 1.0), lambda: nn.Dropout(x).rate
    )


def unit_layer() -> nn.Dense:
    """Dense(1, 1) with w = 2 and b = 0.5: it gives 2 x + 0.5, one `dot` node."""
    layer = nn.Dense(1, 1)
    layer.load([[2.0]], [0.5])
    return layer


def check_load_and_forward(x: Any) -> None:
    layer = nn.Dense(1, 1)
    entry = expected_entry(x)

    def loaded(weights: Any, biases: Any, which: int) -> float:
        layer.load(weights, biases)
        return float(layer.numpy()[which][0, 0])

    check("load() weights", f"{layer.name}.load()", entry, lambda: loaded([[x]], [[0.0]], 0))
    check("load() biases", f"{layer.name}.load()", entry, lambda: loaded([[0.5]], [[x]], 1))

    want = expected(x)
    out = want if isinstance(want, type) else OPS["dot"].f(2.0, want, 0.5)
    unit = unit_layer()
    model = nn.Sequential([unit])
    batches = [("", [[x]])] + ([(" array", np.array([[x]]))] if isinstance(x, np.generic) else [])
    for form, X in batches:
        check(f"layer(X){form}", unit.name, out, lambda X=X: unit(X)[0][0].data)
        check(f"model(X){form}", unit.name, out, lambda X=X: model(X)[0][0].data)
        # predict replays the recorded graph on numpy arrays.
        check(
            f"predict(X){form}", "predict()", out, lambda X=X: float(model.predict(X)[0, 0]), ulps
        )


def _mean_of_one(term: float) -> float:
    """ag.sum of one term divided by 1, as every loss takes its mean."""
    return OPS["div"].f(OPS["sum"].f(term), 1.0)


def check_losses(x: Any) -> None:
    want = expected(x)
    p = 0.5
    log, neg, sub, mul, add, relu = (OPS[n].f for n in ("log", "neg", "sub", "mul", "add", "relu"))

    def loss_of(loss: nn.Module, y: Any, pred: Any = None) -> Callable[[], float]:
        return lambda: loss([[p]] if pred is None else pred, y).data

    if isinstance(want, float):
        d = sub(p, want)
        mse: Want = _mean_of_one(OPS["square"].f(d))
        mae: Want = _mean_of_one(add(relu(d), relu(neg(d))))
        if want == 1.0:
            bce: Want = _mean_of_one(neg(log(p)))
        elif want == 0.0:
            bce = _mean_of_one(neg(log(sub(1.0, p))))
        else:
            bce = _mean_of_one(neg(add(mul(want, log(p)), mul(sub(1.0, want), log(sub(1.0, p))))))
        hinge: Want = (
            _mean_of_one(relu(sub(1.0, mul(p, want)))) if want in (1.0, -1.0) else ValueError
        )
    else:
        mse = mae = bce = hinge = want
    for cls, value in (
        (nn.MSE, mse),
        (nn.MAE, mae),
        (nn.BinaryCrossEntropy, bce),
        (nn.Hinge, hinge),
    ):
        loss = cls()
        check(f"{cls.__name__} target", loss.name, value, loss_of(loss, [[x]]))

    probs = [[0.25, 0.75]]
    cce = nn.CategoricalCrossEntropy()
    if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0):
        c: Want = ValueError  # [x] is then a 2-D target: one-hot rows of the wrong shape
    else:  # inside an array-like a 0-d array is its number
        c = expected_count(x[()] if isinstance(x, np.ndarray) else x, 0, 1)
    index = c if isinstance(c, type) else _mean_of_one(neg(log(probs[0][int(c)])))
    check("CCE class index", cce.name, index, loss_of(cce, [x], probs))
    if isinstance(x, np.generic):
        check("CCE class index array", cce.name, index, loss_of(cce, np.array([x]), probs))

    t = expected_entry(x)
    if isinstance(t, float):
        if not (math.isfinite(t) and t >= 0.0 and abs(t - 1.0) <= 1e-6):
            t = ValueError  # the row [t, 0] is no probability distribution
        elif t == 1.0:
            t = _mean_of_one(neg(log(0.25)))
        else:
            t = _mean_of_one(neg(mul(t, log(0.25))))
    check("CCE one-hot row", cce.name, t, loss_of(cce, [[x, 0.0]], probs))


def check_fit(x: Any) -> None:
    X, y = [[1.0], [2.0], [3.0]], [[1.0], [2.0], [3.0]]

    def run(**options: Any) -> tuple[dict[str, list[float]], nn.Optimizer, str]:
        model = nn.Sequential([unit_layer()])
        opt = nn.SGD(model, lr=0.01)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            history = nn.fit(model, nn.MSE(), opt, X, y, progress=False, metric=None, **options)
        return history, opt, out.getvalue()

    epochs = expected_count(x, 0)
    if type(epochs) is int and epochs > 5:
        skip("fit(epochs=)")  # valid; but a run of 10**400 epochs never ends
    else:
        check("fit(epochs=)", "fit() epochs", epochs, lambda: len(run(epochs=x)[0].get("loss", [])))
    size = 3 if x is None else expected_count(x, 1)  # None: the whole batch
    steps = size if isinstance(size, type) else math.ceil(3 / min(size, 3))
    check(
        "fit(batch_size=)",
        "fit() batch_size",
        steps,
        lambda: run(epochs=1, batch_size=x)[1].iterations,
    )
    every = 0 if x is None else expected_count(x, 1)  # None: no lines
    lines = (
        every if isinstance(every, type) or every == 0 else sum(e % every == 0 for e in range(3))
    )
    check(
        "fit(print_every=)",
        "fit() print_every",
        lines,
        lambda: run(epochs=3, print_every=x)[2].count("epoch: "),
    )


def check_save_and_load(x: Any) -> None:
    want: Want = 1 if is_path(x) else TypeError
    model = nn.Sequential([unit_layer()])

    def round_trip() -> int:
        nn.save(model, x)
        other = nn.Sequential([nn.Dense(1, 1)])
        nn.load(other, x)
        assert [v.data for v in other.parameters()] == [2.0, 0.5]
        os.remove(x)
        return 1

    refusable = is_path(x) and not plain_name(x)
    check("nn.save path", "nn.save", want, round_trip, refusable=refusable)
    if not is_path(x):
        check("nn.load path", "nn.load", TypeError, lambda: (nn.load(model, x), 1)[1])


# ---- viz ----


def small_graph() -> Value:
    """tanh(3 x) at x = 2, after backward: drawn as 4 nodes (x, the constant 3, x * 3, y)."""
    x = Value(2.0, "x")
    y = (x * 3.0).tanh()
    y.label = "y"
    y.backward()
    return y


DRAWN = 4  # the nodes of small_graph's drawing


def png_width(path: Path) -> float:
    data = path.read_bytes()
    return float(struct.unpack(">I", data[16:20])[0])  # IHDR's width, right after the signature


@functools.cache
def width_in_inches(workdir: Path) -> float:
    """small_graph's PNG width at 72 dpi, over 72: drawn once, as it never changes."""
    return png_width(render(small_graph(), workdir / "at72", formats=("png",), dpi=72)[0]) / 72


def fmt_rule(x: Any) -> Want:
    """fmt is a callable or a format string that shows the number; else an error."""
    if not isinstance(x, str):
        return TypeError
    try:
        shows_the_number = x.format(-1.5) != x.format(2.5)
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        return ValueError
    return 1 if shows_the_number else ValueError


def check_viz(x: Any, workdir: Path) -> None:
    y = small_graph()
    leaf = y.parents[0].parents[0]

    def option(entry: str, name: str, **extra: Any) -> Callable[[], int]:
        def call() -> int:
            if entry == "to_dot":
                to_dot(y, **{name: x}, **extra)
            else:
                draw_graph(y, **{name: x}, **extra)
            value = getattr(DrawOptions.parse(entry, {name: x, **extra}), name)
            if isinstance(value, str):  # collapse="layer": the level, kept as named
                assert value == x, (value, x)
                return 1
            return 0 if value is None else value  # type: ignore[no-any-return]  # collapse=None

        return call

    n = expected_count(x, 1)
    fits = n if isinstance(n, type) or n >= DRAWN else ValueError  # ValueError: too large
    check("to_dot(max_nodes=)", "to_dot()", fits, option("to_dot", "max_nodes"))
    check(
        "draw_graph(depth=)",
        "draw_graph()",
        expected_count(x, 0),
        option("draw_graph", "depth", focus=leaf),
    )
    check("draw_graph(fan=)", "draw_graph()", expected_count(x, 1), option("draw_graph", "fan"))
    collapse: Want = expected_count(x, 1)
    if isinstance(x, str):  # a level by name (checked as 1 above), or a mistake
        collapse = 1 if x in COLLAPSE_LEVELS else ValueError
    elif x is None:  # the default: nothing folded
        collapse = 0
    check("draw_graph(collapse=)", "draw_graph()", collapse, option("draw_graph", "collapse"))
    check("draw_graph(fmt=)", "draw_graph()", fmt_rule(x), lambda: (draw_graph(y, fmt=x), 1)[1])

    # dpi, 1 to 600, scales the PNG: width in pixels = width in inches * dpi, to dot's rounding.
    dpi = within(expected(x), 1.0, 600.0, hi_open=False)
    inches = width_in_inches(workdir)
    check(
        "render(dpi=)",
        "render()",
        dpi if isinstance(dpi, type) else inches * dpi,
        lambda: png_width(render(y, workdir / "dpi", formats=("png",), dpi=x)[0]),
        lambda got, want: abs(got - want) <= 2 + want / 100,
    )

    def rendered() -> int:
        (svg,) = render(y, x, formats=("svg",))
        assert svg.read_bytes().startswith(b"<?xml")
        svg.unlink()
        return 1

    refusable = is_path(x) and not plain_name(x)
    check(
        "render() path", "render()", 1 if is_path(x) else TypeError, rendered, refusable=refusable
    )


# ---- the properties ----


def check_everything(x: Any, workdir: Path) -> None:
    check_optimisers(x)
    check_dense(x)
    check_load_and_forward(x)
    check_losses(x)
    check_fit(x)
    check_save_and_load(x)
    check_viz(x, workdir)


@settings(max_examples=int(os.environ.get("INPUTS_EXAMPLES", "150")))
@given(anything())
def test_every_nn_and_viz_entry_point_gives_the_rules_value_or_an_error_naming_itself(
    workdir: Path, drawn: tuple[str, Any]
) -> None:
    kind, x = drawn
    TALLY.tried[kind] += 1
    check_everything(x, workdir)


# Strings that name something somewhere: a format, an initialisation, a folding level. The
# drawn strings almost never do, so without these the rules' accepting side for fmt=, init=
# and collapse= would go untried.
OPTION_NAMES = ["{:.3f}", "{:+.2e}", *sorted(nn.INITS), *COLLAPSE_LEVELS]


@pytest.mark.parametrize("x", OPTION_NAMES)
def test_a_string_that_names_an_option_is_taken_where_it_does(workdir: Path, x: str) -> None:
    TALLY.tried["str, an option's name"] += 1
    check_everything(x, workdir)


@pytest.mark.parametrize("kind", sorted(EDGES))
def test_every_kind_of_input_at_its_edges_in_nn_and_viz(workdir: Path, kind: str) -> None:
    for x in EDGES[kind]:
        TALLY.tried[kind] += 1
        check_everything(x, workdir)
