"""nn on replay: a model and its loss recorded for one sample, then run over whole batches.

`fit`, `train_step` and `Module.predict` take `engine=`:
- "scalar" builds the graph of Values for every sample of every batch, as it always has;
- "replay" records the graph of ONE sample once (`Program`), and runs it over each batch with
  `autograd.replay.Replay`: every node an array over the samples, a layer's dots one matrix
  product. No per-sample Value is made; the optimiser updates the parameters from the replayed
  gradients, which are also written to each parameter's `.grad`;
- "auto" (the default) replays whenever the model and loss allow, and runs the scalar path
  otherwise.

A module can be replayed when its graph has the same shape for every sample (`replayable`).
nn's own layers, activations and losses are; a Module subclass of your own is not, unless it
says so, because its forward may take a branch on a number. Where a sample's graph would
depend on its data, nn records a form that does not:
- a target is a per-sample input leaf: numbers for MSE, MAE, hinge and binary cross-entropy,
  a one-hot row for the categorical losses, where dot(y, p) picks the class's entry (exactly:
  the other terms are 0 * p = 0);
- a softmax's row maximum is a derived leaf (`autograd.replay.Derived`), computed per sample
  and constant for the chain rule, as the scalar graph's plain number is;
- the book's clip of a loss value is a derived shift, 0 where the clip is not in force;
- a dropout mask is a per-sample input, drawn each step as the book draws it
  (np.random.binomial over the batch), in the same order, from the same generator.

The scalar path is used instead ("auto"), for a module or loss without a per-sample form, a
loss given as a plain function, inputs that are Values, detect_anomaly(), soft (non one-hot)
class targets, and a batch where a probability is exactly 0 (the scalar graph has a constant
there): see `why_not`. `engine="replay"` raises with that reason instead. Where the reason is
a part of the model (a module or loss without a per-sample form), "auto" says so once per model
with a `ScalarPathWarning` naming the part and how to make it replay; inputs that are Values and
detect_anomaly() ask for the scalar graph, and get it without a word.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag
from autograd import Value
from autograd.context import current
from autograd.reals import real_array
from autograd.replay import Derived, NotReplayable, Replay

from .batch import as_batch, data_array

if TYPE_CHECKING:
    from .module import Module
    from .optim import Optimizer

__all__ = [
    "ENGINES",
    "NotReplayable",
    "Program",
    "Recorder",
    "ScalarPathWarning",
    "StepData",
    "why_not",
]

ENGINES = ("auto", "replay", "scalar")

# predict runs big inputs in chunks of this many rows: memory stays O(nodes x chunk).
CHUNK = 8192


@dataclass(frozen=True)
class StepData:
    """What one step feeds a recorded program: the inputs (batch, n_inputs) and the targets."""

    X: np.ndarray
    y: Any

    @property
    def n(self) -> int:
        """The number of samples."""
        return int(self.X.shape[0])


Source = Callable[[StepData], Any]  # a step's numbers for some per-sample leaves, (batch, width)


class Recorder:
    """What modules record besides ops: per-sample input leaves and derived leaves.

    Each group of input leaves comes with its source, a function of the step's data giving
    their numbers for every sample (the features, the targets, a dropout mask).
    """

    def __init__(self) -> None:
        self.inputs: list[Value] = []
        self.sources: list[tuple[Source, int]] = []
        self.derived: dict[Value, Derived] = {}

    def inputs_from(self, labels: Sequence[str], source: Source) -> list[Value]:
        """New per-sample leaves, one per label, whose numbers `source(step)` gives each step."""
        leaves = []
        for label in labels:
            v = Value(0.0, label)
            v.scope = None  # data from outside belongs to no module, as in the scalar graph
            leaves.append(v)
        self.inputs += leaves
        self.sources.append((source, len(leaves)))
        return leaves

    def derived_leaf(self, label: str, fn: Callable[..., Any], sources: Sequence[Value]) -> Value:
        """A per-sample leaf computed as fn(*sources' numbers), constant for the chain rule."""
        v = Value(0.0, label)
        self.derived[v] = Derived(fn, tuple(sources))
        return v

    def columns(self, step: StepData) -> np.ndarray:
        """The step's numbers for every input leaf: (batch, len(inputs))."""
        parts = []
        for source, width in self.sources:
            part = np.asarray(source(step), dtype=np.float64)
            if part.shape != (step.n, width):
                raise ValueError(
                    f"a replay source gave numbers of shape {part.shape}, expected {(step.n, width)}"
                )
            parts.append(part)
        return parts[0] if len(parts) == 1 else np.hstack(parts)


def _modules(model: Module) -> Iterator[Module]:
    """The model and every module inside it."""
    stack = [model]
    while stack:
        m = stack.pop()
        yield m
        stack.extend(reversed(m.children()))


class ScalarPathWarning(UserWarning):
    """engine="auto" runs on the scalar path, every sample's graph of Values, because a part of
    the model (a Module of your own, a loss function) or a batch (soft targets) cannot replay."""


def why_not(model: Module, loss_fn: Any = None, X: Any = None) -> str | None:
    """Why this model (and loss, and inputs) cannot be replayed; None when they can."""
    if current().anomaly:
        return "detect_anomaly() is on, and it checks every node of the scalar graph"
    part = _unreplayable_part(model, loss_fn)
    if part is not None:
        return part[0] + part[1]
    if X is not None and not (isinstance(X, np.ndarray) and X.dtype.kind in "biuf"):
        try:
            arr = np.asarray(X)
        except ValueError:
            return "the inputs are not a rectangular array of numbers"
        if arr.dtype.kind not in "biuf":
            return "the inputs hold Values (or are not numbers), and replay takes numbers"
    return None


def _unreplayable_part(model: Module, loss_fn: Any) -> tuple[str, str, str] | None:
    """(why, a short hint, how to make it replay) for the first module or loss without a
    per-sample form, else None."""
    for m in _modules(model):
        if not m.replayable:
            kind = type(m).__name__
            return (
                f"{kind} {m.name!r} has no per-sample form",
                " (set replayable = True on a module whose graph has the same shape for every"
                " sample)",
                f"if {kind}.forward takes no branch on a number, so that its graph has the same"
                f" shape for every sample, set replayable = True on {kind}",
            )
    # A loss replays when it says so and has the per-sample form (record_loss, as nn's losses have);
    # read as attributes, so that this module needs no Module class: module.py imports it.
    replayable_loss = getattr(loss_fn, "replayable", False) is True and callable(
        getattr(loss_fn, "record_loss", None)
    )
    if loss_fn is not None and not replayable_loss:
        return (
            f"the loss {loss_fn!r} is not one of nn's losses, which have a per-sample form",
            "",
            "use an nn loss (nn.MSE, nn.SoftmaxCrossEntropy, ...)",
        )
    return None


def _warn_scalar_path(model: Module, loss_fn: Any, who: str) -> None:
    """Say once per model and reason that engine="auto" chose the scalar path, why, and how to
    replay: the scalar path builds every sample's graph of Values, so it is far slower."""
    part = _unreplayable_part(model, loss_fn)
    if part is None:  # detect_anomaly() or Values as inputs: the scalar graph was asked for
        return
    why, _, how = part
    warned: set[str] = model.__dict__.setdefault("_scalar_path_warned", set())
    if why in warned:
        return
    warned.add(why)
    warnings.warn(
        f"{who} runs on the scalar path, building every sample's graph of Values, because {why}."
        f" To replay instead (one recorded graph run over the whole batch as arrays): {how}."
        " Pass engine='scalar' to choose the scalar path without this warning.",
        ScalarPathWarning,
        stacklevel=4,  # the caller of fit(), train_step() or predict()
    )


class Program:
    """A model (and loss) recorded for one sample, ready to replay over batches.

    Its graph: the model's outputs for one sample, the loss's per-sample sum of terms, and the
    model's regularisation penalty (parameters only: computed once per batch). The loss of a
    batch is the sum over samples of those sums, divided by the number of terms, plus the
    penalty, as the scalar losses compute it.
    """

    def __init__(self, model: Module, loss_fn: Any, n_inputs: int) -> None:
        self.loss_fn = loss_fn
        tape = Recorder()
        xs = tape.inputs_from([f"x[{j}]" for j in range(n_inputs)], lambda step: step.X)
        with ag.enable_grad():
            self.row = model.record(xs, tape)
            if loss_fn is not None:
                self.loss, self.terms = loss_fn.record_loss(self.row, tape)
                self.penalty = model.regularization_loss()
            else:
                self.loss, self.terms, self.penalty = None, 0, None
        self.tape = tape
        outputs = [*self.row, *(v for v in (self.loss, self.penalty) if v is not None)]
        self.params = model.parameters()
        self.replay = Replay(outputs, tape.inputs, self.params, tape.derived)
        self._optimizers: weakref.WeakKeyDictionary[Any, tuple[int, np.ndarray, bool]] = (
            weakref.WeakKeyDictionary()
        )

    def run(self, X: np.ndarray, y: Any = None) -> Replay:
        """Forward over the batch X (with targets y when there is a loss)."""
        return self.replay.forward(self.tape.columns(StepData(X, y)))

    def losses(self) -> tuple[float, float, float | None]:
        """(loss, data loss, penalty or None) of the last run, as the scalar graph adds them."""
        assert self.loss is not None
        total = float(np.sum(self.replay.value(self.loss))) / self.terms_of_batch()
        if self.penalty is None:
            return total, total, None
        penalty = self.replay.value(self.penalty)
        return total + penalty, total, penalty

    def terms_of_batch(self) -> int:
        """How many terms the loss of the last batch averages over."""
        return self.terms * self.replay.batch

    def outputs(self) -> np.ndarray:
        """The model's outputs of the last run: (batch, n_outputs)."""
        return self.replay.values(self.row)

    def step(
        self, X: np.ndarray, y: Any, optimizer: Optimizer
    ) -> tuple[float, float, float | None, np.ndarray]:
        """One training step: forward, loss, backward, gradients into `.grad`, optimiser update.

        Returns (loss, data loss, penalty or None, outputs), the numbers before the update.
        """
        self.run(X, y)
        loss, data_loss, penalty = self.losses()
        assert self.loss is not None
        # d loss / d (sample's sum of terms) = 1 / count, as the scalar mean's rule gives it.
        seeds: dict[Value, Any] = {self.loss: 1.0 / self.terms_of_batch()}
        if self.penalty is not None:
            seeds[self.penalty] = 1.0
        grads = self.replay.backward(seeds)
        outputs = self.outputs()
        # As the scalar step leaves them: the optimiser zeroes its parameters' grads, and
        # backward adds into every parameter's (0.0 + g, so that a -0.0 reads 0.0 as there).
        where, same = self._aligned(optimizer)
        if same:
            for p, g in zip(self.params, (grads + 0.0).tolist()):
                p.grad = g
            optimizer.step(grads)
        else:
            optimizer.zero_grad()
            for p, g in zip(self.params, grads.tolist()):
                p.grad += g
            optimizer.step(np.append(grads, 0.0)[where])  # -1 picks the appended 0
        return loss, data_loss, penalty, outputs

    def _aligned(self, optimizer: Optimizer) -> tuple[np.ndarray, bool]:
        """Where each of the optimiser's parameters is in ours (-1: outside the graph), and
        whether the two lists are the same."""
        cached = self._optimizers.get(optimizer)
        if cached is None or cached[0] != id(optimizer.params):
            index = {id(p): i for i, p in enumerate(self.params)}
            where = np.array([index.get(id(p), -1) for p in optimizer.params], dtype=np.intp)
            same = len(where) == len(self.params) and bool((where == np.arange(len(where))).all())
            cached = (id(optimizer.params), where, same)
            self._optimizers[optimizer] = cached
        return cached[1], cached[2]

    def sample(self, i: int) -> Value:
        """Sample i of the last run as its scalar graph: the loss's (or the first output's) root."""
        root = self.loss if self.loss is not None else self.row[0]
        return self.replay.sample(i, [root])[0]


# ---- the programs of a model, recorded once and reused ----


def program(model: Module, loss_fn: Any, n_inputs: int) -> Program:
    """The model's recorded program for this loss, input width and training modes (cached)."""
    modules = list(_modules(model))
    # The graph depends on which modules there are and on their modes (dropout drops only in
    # training), so both are part of the key; parameters keep their Values for life.
    key = (id(loss_fn), n_inputs, tuple((id(m), m.training) for m in modules))
    # Kept on the model itself, so that they live and go with it (the recorded nodes' scopes
    # point back at the modules: a cache keyed by the model would keep every model alive).
    programs: dict[Any, Program] = model.__dict__.setdefault("_replay_programs", {})
    found = programs.get(key)
    if found is None or (loss_fn is not None and found.loss_fn is not loss_fn):
        found = programs[key] = Program(model, loss_fn, n_inputs)
    return found


def as_inputs(X: Any, who: str) -> np.ndarray:
    """X as a float64 array (n_samples, n_features), or the error the scalar path would give."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim == 2 and X.size:
        return real_array(X, who)  # a long double beyond the float range is refused
    return data_array(as_batch(X, who))


def resolve(engine: str, model: Module, loss_fn: Any, X: Any, who: str) -> bool:
    """True to replay, False for the scalar path; a bad engine, or a forced replay that cannot
    run, raises an error naming `who`."""
    if engine not in ENGINES:
        raise ValueError(
            f"{who} engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}"
        )
    if engine == "scalar":
        return False
    reason = why_not(model, loss_fn, X)
    if reason is None:
        return True
    if engine == "replay":
        raise ValueError(f"{who} engine='replay' cannot run: {reason}")
    _warn_scalar_path(model, loss_fn, who)
    return False


def predict(model: Module, X: np.ndarray) -> np.ndarray:
    """The model's outputs for X by replay, in evaluation mode, chunk by chunk."""
    was_training = model.training
    model.eval()
    try:
        prog = program(model, None, X.shape[1])
        parts = [prog.run(X[i : i + CHUNK]).values(prog.row) for i in range(0, len(X), CHUNK)]
    finally:
        model.train(was_training)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def evaluate(model: Module, loss_fn: Any, X: np.ndarray, y: Any) -> tuple[float, np.ndarray]:
    """(data loss, outputs) for (X, y) in evaluation mode, by replay: the validation numbers."""
    was_training = model.training
    model.eval()
    try:
        prog = program(model, loss_fn, X.shape[1])
        prog.run(X, y)
        return prog.losses()[1], prog.outputs()
    finally:
        model.train(was_training)


def sample_graph(model: Module, loss_fn: Any, X: Any, y: Any = None, i: int = 0) -> Value:
    """Sample i of (X, y) as its scalar graph: its loss (or, without a loss, its first output).

    The graph replay runs for every sample, built as ordinary Values with sample i's numbers:
    ready for draw_graph, explain and gradcheck. The model is run in its current mode.
    """
    Xa = as_inputs(X, "sample_graph() X")
    reason = why_not(model, loss_fn, Xa)
    if reason is not None:
        raise ValueError(f"sample_graph() needs a replayable model: {reason}")
    prog = program(model, loss_fn, Xa.shape[1])
    prog.run(Xa, y)
    return prog.sample(i)
