"""`from micrograd.engine import Value` renamed is `from autograd.engine import Value`: importing this module says what chainrule has instead."""

from .compat import refuse_module

refuse_module(__name__)
