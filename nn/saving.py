"""Saving and loading a model's parameters as a `.npz` archive of plain float arrays."""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from .module import Module


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write every parameter array of `model` to `path` (an .npz archive, no pickled objects)."""
    state: dict[str, Any] = model.state_dict()
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        # Said here, because mkstemp's own error would name a random temporary file instead.
        raise FileNotFoundError(f"cannot save to {target!r}: the folder {folder!r} does not exist")
    # Write beside the target and rename, so a crash mid-write never leaves a half file there.
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            # Every array is float64, so nothing is pickled (and `load` refuses pickles).
            np.savez(f, **state)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def read(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays stored in an .npz file, or a ValueError saying why the file cannot be read."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive of parameters")
        with archive:
            # Reading every member now also checks each one's CRC: a damaged file fails here.
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(f"cannot read parameters from {os.fspath(path)!r}: {e}") from e


def load(model: Module, path: str | os.PathLike[str]) -> None:
    """Set `model`'s parameters from an .npz file written by `save`; on any error, change nothing."""
    state: dict[str, Any] = read(path)
    model.load_state_dict(state)
