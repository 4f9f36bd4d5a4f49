"""`check_backward` for the book's classes: is your hand-written backward right, entry by entry?

    from nn import check_backward
    report = check_backward(Layer_Dense(4, 3), X)   # truthy when dweights, dbiases, dinputs are right
    print(report)

A book-style object has `forward(inputs)`, which stores `self.output`, and `backward(dvalues)`,
which stores `self.dinputs` and one `self.d<name>` per parameter (`dweights` for `weights`).
chainrule runs your forward once on floats and your backward on its result, as you would; then
it runs your forward again on Values and gets the correct gradients from the engine (see
`autograd.backward_check` for how, and for the tolerance).

Losses take `y_true`: `check_backward(Loss_CategoricalCrossentropy(), y_pred, y_true=y)`. L is
then the mean loss, and backward gets what the book's training loop gives it: the predictions,
or `self.output` for a class that stores one (the combined softmax and cross-entropy).

The book's regularisers (chapter 14): when a layer has `weight_regularizer_l1` and the like, L
also holds the regularisation loss l1 Σ|w| + l2 Σ w², whose gradient the book's backward adds
to dweights and dbiases; |w| takes the book's side at 0 (dL1 = 1 there).

Cost: your forward runs once per scalar operation on Values, and the check spends about 15 µs
on each: a few samples are enough (a Dense(64, 64) on 100 samples takes about 6 s).

Randomness (dropout): every run of your forward starts from the same numpy global random state
and from a copy of your object as it was, so each run draws the same mask. Afterwards the
global state is where your own forward left it.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

from autograd.backward_check import (
    ULPS,
    BackwardReport,
    Context,
    Penalty,
    changed_in_place,
    compare,
    how_text,
    numbers_array,
    precision,
    random_dvalues,
    true_gradients,
)

REGULARISERS = (  # the book's attribute names (chapter 14): parameter, l1, l2
    ("weights", "weight_regularizer_l1", "weight_regularizer_l2"),
    ("biases", "bias_regularizer_l1", "bias_regularizer_l2"),
)


def check_backward(
    layer: Any,
    inputs: Any,
    dvalues: Any = None,
    *,
    y_true: Any = None,
    rng: int | np.random.Generator | None = 0,
) -> BackwardReport:
    """Grade layer.backward: its d<name> must be dL/d<name> for L = sum(layer.output * dvalues).

    For a loss (pass `y_true`), L is the mean loss and dinputs is dL/d predictions. dvalues are
    random (standard normal from `rng`) unless given. Returns a report: truthy when every
    gradient is right; `print(report)` says which entries are wrong and why.
    """
    title = f"{type(layer).__name__}.backward"
    for method in ("forward", "backward"):
        if not callable(getattr(layer, method, None)):
            raise TypeError(
                f"check_backward needs an object with forward and backward, {title[:-9]} has no {method}()"
            )
    x = numbers_array(inputs, "check_backward inputs")
    loss = y_true is not None
    if not loss and _required_arguments(layer.forward) >= 2:
        raise TypeError(
            f"check_backward: {type(layer).__name__}.forward takes y_true as well; pass it as"
            " check_backward(loss, predictions, y_true=y)"
        )
    if loss and dvalues is not None:
        raise TypeError(
            "check_backward: a loss is the end of the chain, so its backward gets the"
            " predictions, not dvalues; leave dvalues out"
        )
    pristine = copy.deepcopy(layer)
    state = np.random.get_state()

    # Your own run, as you would make it: forward on floats, then backward.
    before = vars(layer).get("output")
    # a copy: a forward that writes into its inputs must not change the ones the engine gets
    result = layer.forward(x.copy(), y_true) if loss else layer.forward(x.copy())
    after = np.random.get_state()
    stored = vars(layer).get("output")
    received: Any = None
    if loss:
        output = result
        # The combined softmax + cross-entropy stores its softmax output, and the book's loop
        # hands that to backward; a plain loss gets the predictions.
        received = stored if stored is not None and stored is not before else x
        handed = np.array(received, copy=True)  # yours to change; x stays what the engine gets
        layer.backward(handed, y_true)
        changed = changed_in_place(received, handed)
        d = None
    else:
        if stored is None or stored is before:
            raise TypeError(
                f"check_backward: {type(layer).__name__}.forward must store self.output, as the book's classes do"
            )
        output = np.asarray(stored)
        d = (
            random_dvalues(output.shape, rng)
            if dvalues is None
            else numbers_array(dvalues, "check_backward dvalues")
        )
        if d.shape != output.shape:
            raise ValueError(
                f"check_backward: dvalues has shape {d.shape}, but {type(layer).__name__}.output has {output.shape}"
            )
        handed = d.copy()  # yours to change; L keeps the dvalues drawn here
        layer.backward(handed)
        changed = changed_in_place(d, handed)

    params = _parameters(pristine)
    arrays = {**params, "inputs": x}  # in the order the book's backward sets their gradients
    penalty, notes = _regularisation(pristine)
    notes += changed
    grads = {name: vars(layer).get("d" + name) for name in arrays}
    label, eps = precision(output, *arrays.values(), *[g for g in grads.values() if g is not None])

    def run(xs: dict[str, np.ndarray]) -> Any:
        obj = copy.deepcopy(pristine)
        for name, a in xs.items():
            if name != "inputs":
                setattr(obj, name, a)
        np.random.set_state(state)
        if not loss:
            obj.forward(xs["inputs"])
            return obj.output
        return obj.forward(xs["inputs"], y_true)

    try:
        truth = true_gradients(run, arrays, d, eps, penalty, len(x) if x.ndim else 1, output)
    finally:
        np.random.set_state(after)
    n = len(x) if x.ndim else 1
    context = Context(
        d, arrays, n, _outputs(x if loss else output), eps, truth.at_kink, truth.divisors
    )
    checks = [
        compare("d" + name, name, grads[name], truth, context)
        for name in arrays
        if name == "inputs" or grads[name] is not None or name in truth.used
    ]
    return BackwardReport(
        title,
        checks,
        truth.method,
        how_text(dvalues is not None, rng, loss, combined=loss and received is not x),
        label,
        ULPS,
        truth.reason,
        notes,
    )


def _required_arguments(method: Any) -> int:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in params
    )


def _parameters(layer: Any) -> dict[str, np.ndarray]:
    """The float arrays of the object that could be parameters: all but inputs, output and gradients."""
    attrs = vars(layer)
    return {
        name: a
        for name, a in attrs.items()
        if isinstance(a, np.ndarray)
        and a.dtype.kind == "f"
        and name not in ("inputs", "output")
        and not (name.startswith("d") and name[1:] in attrs)
    }


def _regularisation(layer: Any) -> tuple[Penalty | None, list[str]]:
    """The book's regularisation loss for a layer with regulariser attributes, and a note saying so."""
    terms = []
    for param, a1, a2 in REGULARISERS:
        l1, l2 = getattr(layer, a1, 0) or 0, getattr(layer, a2, 0) or 0
        if l1 or l2:
            terms.append((param, l1, l2))
    if not terms:
        return None, []

    def penalty(xs: dict[str, np.ndarray]) -> Any:
        total: Any = 0.0
        for param, l1, l2 in terms:
            a = xs[param]
            if l1:
                total = total + l1 * np.sum([v if v >= 0 else -v for v in a.flat])
            if l2:
                total = total + l2 * np.sum(a * a)
        return total

    shown = ", ".join(
        f"{a}={getattr(layer, a)}"
        for _, a1, a2 in REGULARISERS
        for a in (a1, a2)
        if getattr(layer, a, 0)
    )
    note = f"L also holds the book's regularisation loss, l1 Σ|w| + l2 Σ w², for {shown}."
    return penalty, [note]


def _outputs(a: Any) -> int:
    shape = np.shape(a)
    return int(shape[-1]) if len(shape) >= 2 else 1
