"""Shared test settings: a fixed hypothesis profile, fixed seeds, and a reversible `nnfs.init()`."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Derandomised so that CI and a developer see the same examples; no deadline, because the
# shared machines are noisy and speed is measured by benchmarks/, not by tests.
settings.register_profile(
    "chainrule",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("chainrule")


@pytest.fixture(autouse=True)
def _fixed_seeds() -> None:
    random.seed(0)
    np.random.seed(0)


@pytest.fixture
def nnfs_init() -> Iterator[None]:
    """Run `nnfs.init()` as the seed's first cell does, and undo its process-wide patches afterwards."""
    import nnfs

    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    originals = [getattr(mod, name) for mod, name in patched]
    nnfs.init()
    try:
        yield
    finally:
        for (mod, name), fn in zip(patched, originals):
            setattr(mod, name, fn)
