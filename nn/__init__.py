"""Layers, losses and optimisers built on `autograd.Value`."""
