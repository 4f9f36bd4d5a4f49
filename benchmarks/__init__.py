"""Side-by-side benchmarks: chainrule against micrograd 0.1.0, PyTorch scalar tensors and plain floats."""
