"""Saving and loading a model's parameters as a `.npz` archive of plain float arrays.

`save` writes a hidden file beside the target, `.<name>.partial`, and renames it over the
target once it is complete, so a crash mid-write never leaves half a model where a model was.
The partial file has a fixed name, so the next save to the same target reuses it: a killed
save leaves at most one such file per target. A lock on it keeps two saves of the same target,
in threads or processes, from writing into it at once.

`load` trusts nothing in the file. It reads the zip's directory and each member's .npy header
first and compares names, dtypes, shapes and sizes with the model's own parameters before it
decompresses a single byte of data, so a file can never make it allocate more than those
parameters need. Whatever is wrong with the file, the error is a ValueError (a missing file stays
a FileNotFoundError), and the model is left as it was.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import struct
import zipfile
import zlib
from collections import Counter
from typing import Any

import numpy as np

from .module import Module, check_names

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so two concurrent saves of one file may clash
    fcntl = None  # type: ignore[assignment]

PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]


def _path(path: Any, who: str) -> str:
    """`path` (str, bytes or path-like) as a str, or a TypeError (ValueError) naming `who`."""
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"{who} needs a path (str, bytes or os.PathLike), got {type(path).__name__}"
        ) from None
    if not text or "\x00" in text:  # no file has either name; the OS would say it its own way
        raise ValueError(f"{who} needs a file name, got {path!r:.60}")
    return text


def _check_model(model: Any, who: str) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{who} needs an nn Module, got {type(model).__name__}")


# ---- save ----


def _umask() -> int:
    """The process's umask, the permission bits that new files do not get."""
    # Linux shows it in /proc without changing it.
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere the only way to read it is to set it. 0o077 in between: a file another thread
    # creates in that instant gets fewer permissions, never more.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _mode_for(target: str) -> int:
    """The target's own permissions if it exists, else those a new file gets (0o666 & ~umask)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _open_locked(partial: str) -> int:
    """A descriptor of `partial`, created if needed, that this process alone is writing to."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        fd = os.open(partial, flags, 0o666)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits while another save of this target runs
            # That save may have renamed the file we opened into the target meanwhile; then
            # our descriptor is the target's, and we must start over on a fresh partial file.
            mine = os.fstat(fd)
            try:
                there = os.stat(partial, follow_symlinks=False)
            except FileNotFoundError:
                there = None
            if there is not None and (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _naming(e: OSError, target: str) -> OSError:
    """`e` retold about the target, not about the partial file it happened on."""
    if e.errno is None:
        return OSError(f"nn.save could not write {target!r}: {e}")
    return OSError(e.errno, f"nn.save could not write the model: {e.strerror}", target)


def save(model: Module, path: PathArg) -> None:
    """Write every parameter array of `model` to `path` (an .npz archive, no pickled objects)."""
    _check_model(model, "nn.save")
    state: dict[str, Any] = model.state_dict()
    target = _path(path, "nn.save")
    folder, name = os.path.split(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"nn.save cannot save to {target!r}: the folder {folder!r} does not exist"
        )
    partial = os.path.join(folder, f".{name}.partial")
    try:
        fd = _open_locked(partial)
    except OSError as e:
        raise _naming(e, target) from e
    try:
        os.ftruncate(fd, 0)  # a partial file left by a killed save may hold old bytes
        # The mode the target would have had, not the leftover's or a temporary file's 0600.
        os.chmod(fd if os.chmod in os.supports_fd else partial, _mode_for(target))
        with open(fd, "wb", closefd=False) as f:
            # Every array is float64, so nothing is pickled (and `load` refuses pickles).
            np.savez(f, **state)
            f.flush()
            os.fsync(fd)  # the bytes are on disk before the name points at them
        os.replace(partial, target)
    except BaseException as e:
        # Still holding the lock: the file removed is ours, not a concurrent save's.
        with contextlib.suppress(OSError):
            os.unlink(partial)
        if isinstance(e, OSError):
            raise _naming(e, target) from e
        raise
    finally:
        os.close(fd)


# ---- load ----

# Zip features nn.save never writes. Bit 0: encrypted, bit 6: strongly encrypted.
_ENCRYPTED = 0x01 | 0x40
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}  # savez, _compressed
# The errors a damaged archive raises from inside zipfile, zlib and numpy's .npy reader.
# zipfile says NotImplementedError for zip features it does not read, some of which (patched
# data, strong encryption) it learns only from a member's local header, after the checks below.
_DAMAGE = (
    ValueError,
    NotImplementedError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
)
_MAX_HEADER = 10_000  # numpy's own limit on an .npy header, in bytes


def _member_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, shape: tuple[int, ...]) -> np.ndarray:
    """The array stored in `info`, once its header shows it is a real array of `shape`."""
    key = info.filename[: -len(".npy")]
    if info.flag_bits & _ENCRYPTED:
        raise ValueError(f"member {info.filename!r} is encrypted")
    if info.compress_type not in _METHODS:
        raise ValueError(
            f"member {info.filename!r} uses zip compression method {info.compress_type}; "
            f"only stored and deflated members are read"
        )
    most = math.prod(shape) * 8  # 8 bytes per entry, float64, the widest dtype accepted
    if info.file_size > _MAX_HEADER + most:
        raise ValueError(
            f"member {info.filename!r} holds {info.file_size} bytes, more than an array of "
            f"shape {shape} can take"
        )
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            found, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            found, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"member {info.filename!r} is an .npy file of version {version}")
        if dtype.kind not in "fiu" or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"parameter {key!r} has dtype {dtype}, not real numbers")
        if dtype.itemsize > 8:
            raise ValueError(f"parameter {key!r} has dtype {dtype}, wider than float64")
        if found != shape:
            raise ValueError(f"parameter {key!r} has shape {found}, expected {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != member.tell() + nbytes:
            raise ValueError(
                f"member {info.filename!r} holds {info.file_size} bytes, but its header "
                f"announces {member.tell()} + {nbytes}"
            )
        # Reading to the end makes zipfile check the member's CRC-32.
        data = member.read(nbytes + 1)
    if len(data) != nbytes:
        raise ValueError(f"member {info.filename!r} ends after {len(data)} of {nbytes} bytes")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _read(file: Any, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The arrays in the archive `file`, checked against `shapes` before any data is read."""
    with zipfile.ZipFile(file) as zf:
        infos = zf.infolist()
        keys = []
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            keys.append(info.filename[: -len(".npy")])
        repeated = sorted(k for k, n in Counter(keys).items() if n > 1)
        if repeated:
            raise ValueError(f"the parameters {repeated} are stored more than once")
        check_names(shapes, keys, "the parameter names do not match the model's")
        return {key: _member_array(zf, info, shapes[key]) for key, info in zip(keys, infos)}


def load(model: Module, path: PathArg) -> None:
    """Set `model`'s parameters from an .npz file written by `save`; on any error, change nothing.

    A file that is damaged, or that does not hold exactly the model's parameter arrays with their
    shapes, raises ValueError; a missing or unreadable file raises the OSError that `open` gives.
    """
    _check_model(model, "nn.load")
    source = _path(path, "nn.load")
    shapes = {key: shape for key, (shape, _) in model._arrays().items()}
    try:
        # Opened apart from the `with` below, so that only the open's OSError is retold here:
        # a missing or forbidden file is an OSError naming nn.load, not damage.
        f = open(source, "rb")  # noqa: SIM115
    except OSError as e:
        if e.errno is None:
            raise OSError(f"nn.load could not read {source!r}: {e}") from e
        raise type(e)(e.errno, f"nn.load could not read the model: {e.strerror}", source) from e
    with f:
        try:
            state = _read(f, shapes)
        except _DAMAGE as e:
            raise ValueError(f"nn.load cannot read parameters from {source!r}: {e}") from e
    model.load_state_dict(state)
