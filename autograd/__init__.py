"""chainrule's engine: scalar `Value`s that record their graph and apply the chain rule backward."""

from typing import TYPE_CHECKING

# explain_render registers how an Explanation prints when imported; the model never imports it.
from . import explain_render  # noqa: F401
from .anomaly import AnomalyError
from .backward_check import check_backward
from .backward_report import BackwardReport
from .compat import AUTOGRAD, module_getattr
from .context import Scope, detect_anomaly, enable_grad, is_grad_enabled, no_grad, scope
from .custom import OpFunction, arctan2, clip, defop, hypot, maximum, minimum, unregister
from .explain import Explanation, explain
from .functional import backward, derivative, grad, gradient, hessian
from .gradcheck import GradcheckError, KinkError, KinkWarning, gradcheck, gradcheck_report
from .graph import reverse_topological_order, topological_order, zero_grad
from .ops import OPS, Op
from .value import Value, apply, dot, sum

__all__ = [
    "OPS",
    "AnomalyError",
    "BackwardReport",
    "Explanation",
    "GradcheckError",
    "KinkError",
    "KinkWarning",
    "Op",
    "OpFunction",
    "Scope",
    "Value",
    "apply",
    "arctan2",
    "backward",
    "check_backward",
    "clip",
    "defop",
    "derivative",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "explain",
    "grad",
    "gradient",
    "gradcheck",
    "gradcheck_report",
    "hessian",
    "hypot",
    "is_grad_enabled",
    "maximum",
    "minimum",
    "no_grad",
    "reverse_topological_order",
    "scope",
    "sum",
    "topological_order",
    "unregister",
    "zero_grad",
]

if not TYPE_CHECKING:  # at run time only, so that mypy still reports a misspelt name
    __getattr__ = module_getattr(__name__, AUTOGRAD)  # other engines' names point to ours
