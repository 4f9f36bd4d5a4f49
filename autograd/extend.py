"""`from autograd.extend import primitive, defvjp` is HIPS autograd's way to add an op: importing this module says what chainrule has instead."""

from .compat import refuse_module

refuse_module(__name__)
