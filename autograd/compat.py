"""Other engines' names (micrograd, PyTorch, HIPS autograd, the nnfs book) and chainrule's for each.

A package looks a missing name up here, through its module `__getattr__`, so that
`from nn import Linear` says where chainrule keeps that thing instead of Python's bare
"cannot import name". The error is an ImportError rather than an AttributeError because
`from x import y` replaces an AttributeError's message with its own. Each entry names ours as
an importable dotted path, and a test imports every one of them, so no hint can go stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, NoReturn


class Elsewhere(NamedTuple):
    """Another engine's name: whose it is, chainrule's name for it, and what differs."""

    engine: str
    ours: str  # a dotted path that imports, e.g. "nn.Dense"
    note: str = ""


_TORCH, _HIPS, _BOOK = "PyTorch", "HIPS autograd", "the nnfs book"
_REF = "nn.reference"  # numpy classes of our own beside the book's, under names in its style

AUTOGRAD: dict[str, Elsewhere] = {
    "Tensor": Elsewhere(_TORCH, "autograd.Value", "a scalar: Value(2.0)"),
    "tensor": Elsewhere(_TORCH, "autograd.Value", "a scalar: Value(2.0)"),
    "elementwise_grad": Elsewhere(_HIPS, "autograd.derivative", "derivative(f, x) at one point"),
    "value_and_grad": Elsewhere(_HIPS, "autograd.grad", "y = f(x), then grad(y, x)"),
    "jacobian": Elsewhere(_HIPS, "autograd.gradient", "the gradient of a scalar f"),
    "Variable": Elsewhere(_TORCH, "autograd.Value", "a scalar: Value(2.0)"),
    "Function": Elsewhere(
        _TORCH, "autograd.defop", "a new op from its forward and derivative: defop(name, f, df)"
    ),
    "primitive": Elsewhere(
        _HIPS, "autograd.defop", "the op and its derivative in one call: defop(name, f, df)"
    ),
    "defvjp": Elsewhere(
        _HIPS, "autograd.defop", "the op and its derivative in one call: defop(name, f, df)"
    ),
}

NN: dict[str, Elsewhere] = {
    "Linear": Elsewhere(
        _TORCH, "nn.Dense", "Dense(n_inputs, n_neurons) keeps W as (n_inputs, n_neurons)"
    ),
    "MSELoss": Elsewhere(_TORCH, "nn.MSE"),
    "L1Loss": Elsewhere(_TORCH, "nn.MAE"),
    "BCELoss": Elsewhere(_TORCH, "nn.BinaryCrossEntropy"),
    "NLLLoss": Elsewhere(_TORCH, "nn.CategoricalCrossEntropy", "on probabilities"),
    "CrossEntropyLoss": Elsewhere(_TORCH, "nn.SoftmaxCrossEntropy", "on logits, as PyTorch's"),
    "BCEWithLogitsLoss": Elsewhere(
        _TORCH, "nn.BinaryCrossEntropy", "on probabilities: put nn.Sigmoid() before it"
    ),
    "Parameter": Elsewhere(_TORCH, "autograd.Value", "a parameter is a leaf Value"),
    "Layer_Dense": Elsewhere(
        _BOOK, "nn.Dense", "the book's numpy class is nn.reference.Layer_Dense"
    ),
    "Layer_Dropout": Elsewhere(_BOOK, "nn.Dropout"),
    "Layer_Input": Elsewhere(_BOOK, "nn.Sequential", "it takes X itself: no input layer"),
    "Activation_ReLU": Elsewhere(_BOOK, "nn.ReLU"),
    "Activation_Sigmoid": Elsewhere(_BOOK, "nn.Sigmoid"),
    "Activation_Softmax": Elsewhere(_BOOK, "nn.Softmax"),
    "Activation_Linear": Elsewhere(_BOOK, "nn.Identity"),
    "Loss_CategoricalCrossentropy": Elsewhere(_BOOK, "nn.CategoricalCrossEntropy"),
    "Loss_BinaryCrossentropy": Elsewhere(_BOOK, "nn.BinaryCrossEntropy"),
    "Loss_MeanSquaredError": Elsewhere(_BOOK, "nn.MSE"),
    "Loss_MeanAbsoluteError": Elsewhere(_BOOK, "nn.MAE"),
    "Activation_Softmax_Loss_CategoricalCrossentropy": Elsewhere(_BOOK, "nn.SoftmaxCrossEntropy"),
    "Activation_Tanh": Elsewhere(_REF, "nn.Tanh", "not in the book; written in its style"),
    "Loss_Hinge": Elsewhere(_REF, "nn.Hinge", "micrograd's max-margin loss, in the book's style"),
    "Accuracy_Categorical": Elsewhere(_BOOK, "nn.accuracy"),
    "Accuracy_Regression": Elsewhere(_BOOK, "nn.RegressionAccuracy"),
    "Optimizer_SGD": Elsewhere(_BOOK, "nn.SGD"),
    "Optimizer_Adagrad": Elsewhere(_BOOK, "nn.Adagrad"),
    "Optimizer_RMSprop": Elsewhere(_BOOK, "nn.RMSprop"),
    "Optimizer_Adam": Elsewhere(_BOOK, "nn.Adam"),
    "Model": Elsewhere(_BOOK, "nn.Sequential", "train it with nn.fit"),
}


# Other engines' modules under our package's name, as a user who renames the package writes them:
# each is a file of ours (autograd/engine.py ...) that calls `refuse_module` when imported, since
# `import autograd.extend` looks for a submodule, which no module `__getattr__` can answer.
MODULES: dict[str, Elsewhere] = {
    "engine": Elsewhere("micrograd", "autograd.Value", "from autograd import Value"),
    "extend": Elsewhere(
        _HIPS, "autograd.defop", "its primitive and defvjp in one call: defop(name, f, df)"
    ),
    "test_util": Elsewhere(
        _HIPS, "autograd.gradcheck", "its check_grads(f)(x) is gradcheck(f, [x])"
    ),
}


def refuse_module(module: str) -> NoReturn:
    """Raise the ImportError that points from another engine's module (`autograd.extend`) to ours."""
    package, _, name = module.rpartition(".")
    raise ImportError(message(package, name, MODULES[name]), name=module)


def message(package: str, name: str, entry: Elsewhere) -> str:
    """The sentence that points from another engine's name to chainrule's."""
    note = f" ({entry.note})" if entry.note else ""
    return f"{package}.{name} is {entry.engine}'s name; chainrule's is {entry.ours}{note}"


def module_getattr(package: str, table: dict[str, Elsewhere]) -> Callable[[str], object]:
    """A module `__getattr__`: another engine's name raises an ImportError naming ours."""

    def __getattr__(name: str) -> object:
        entry = table.get(name)
        if entry is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        raise ImportError(message(package, name, entry), name=package)

    return __getattr__
