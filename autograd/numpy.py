"""`import autograd.numpy` is HIPS autograd's habit: importing this module says what to use instead.

chainrule has no wrapped numpy. A name lookup cannot give this hint (`import autograd.numpy`
looks for a submodule, not an attribute), so the submodule exists and refuses to load.
"""

raise ImportError(
    "autograd.numpy is HIPS autograd's wrapped numpy; chainrule has none. Its Values are "
    "scalars, and plain numpy works on arrays of them: `import numpy as np`, then "
    "np.exp(a), np.tanh(a), a @ b and np.sum(a) on an object array of Values call each Value's "
    "ops and stay in the graph (ag.sum and ag.dot make one node). HIPS's grad(f)(x) is "
    "ag.derivative(f, x), or ag.gradient(f, [x, y]) for several inputs",
    name="autograd.numpy",
)
