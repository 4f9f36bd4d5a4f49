"""Graphviz drawings of `autograd` computation graphs."""
