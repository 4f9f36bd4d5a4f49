"""Layers, losses and optimisers built on `autograd.Value`, with the book's numpy layers beside them.

    from nn import Dense, ReLU, Softmax, CategoricalCrossEntropy, Adam, Sequential, fit
    model = Sequential([Dense(2, 64), ReLU(), Dense(64, 3), Softmax()])
    history = fit(model, CategoricalCrossEntropy(), Adam(model.parameters(), lr=0.05), X, y, 100)

`nn.reference` holds the hand-derived numpy versions (Layer_Dense, Activation_ReLU, ...) that
the tests check every gradient against.
"""

from typing import TYPE_CHECKING

from autograd.compat import NN, module_getattr

from .activations import Identity, ReLU, Sigmoid, Softmax, Tanh
from .batch import as_batch, data_array, grad_array, to_values
from .check import check_backward
from .layers import INITS, Dense, Dropout
from .losses import (
    MAE,
    MSE,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Hinge,
    SoftmaxCrossEntropy,
    clip,
)
from .mlp import MLP, Layer, Neuron
from .module import Module, Sequential
from .optim import SGD, Adagrad, Adam, Optimizer, RMSprop
from .replay import ScalarPathWarning, sample_graph
from .saving import load, save
from .train import RegressionAccuracy, accuracy, fit, train_step

__all__ = [
    "INITS",
    "MAE",
    "MSE",
    "SGD",
    "Adagrad",
    "Adam",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Dense",
    "Dropout",
    "Hinge",
    "Identity",
    "Layer",
    "MLP",
    "Module",
    "Neuron",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "RegressionAccuracy",
    "ScalarPathWarning",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "accuracy",
    "as_batch",
    "check_backward",
    "clip",
    "data_array",
    "fit",
    "grad_array",
    "load",
    "sample_graph",
    "save",
    "to_values",
    "train_step",
]

if not TYPE_CHECKING:  # at run time only, so that mypy still reports a misspelt name
    __getattr__ = module_getattr(__name__, NN)  # other engines' names point to ours
