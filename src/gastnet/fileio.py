"""Files: written safely (complete under their final name or not at all), listed in natural order,
and npz files read without running code (:func:`load_npz`)."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import pickle
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_path", "folder_lock", "load_npz", "matching_files", "natural_key", "output_set", "remove_stale_temporaries", "save_npz"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else delete it.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary name keeps the suffix, for writers that pick a format from it (video files)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp made it private (0600); the final file follows the umask like any new file
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], what: str = "gastnet run") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (``flock`` on the directory: no lock file is
    left in it) for the block; ValueError at once if another process holds it. The lock goes with
    the process, so a killed run leaves none behind. Where the platform has no ``fcntl`` the block
    runs unlocked."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ValueError(f"another {what} is writing to {folder}; wait for it or choose another folder") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that :func:`atomic_path` leaves only when its process is killed
    (``.<name>.<random>.tmp<suffix>``); call it while holding :func:`folder_lock`. Returns them."""
    stale = [f for f in Path(folder).glob(".*.tmp*") if f.is_file()]
    for f in stale:
        f.unlink(missing_ok=True)
    return stale


def matching_files(folder: str | os.PathLike[str], patterns: Sequence[str]) -> list[Path]:
    """The files directly in ``folder`` whose names match any of ``patterns`` (``fnmatch``), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and any(fnmatch.fnmatch(f.name, p) for p in patterns))


@contextlib.contextmanager
def output_set(out_dir: str | os.PathLike[str], patterns: Sequence[str], overwrite: bool = False) -> Iterator[Path]:
    """Write a set of outputs as a whole: yield a staging folder inside ``out_dir`` to write them in.

    On success the earlier set (files in ``out_dir`` matching ``patterns``, e.g. ``"poses_*.bvh"``)
    is removed, so that no stale file survives, and every staged file is moved into ``out_dir``;
    an earlier set without ``overwrite`` is a ValueError before the work. On an error
    or an interrupt (Ctrl-C; SIGTERM where the CLI turns it into one) the staging folder is
    removed and ``out_dir`` is as it was. A second writer on the same folder is refused
    (:func:`folder_lock`), and staging folders of killed runs are cleaned up.
    """
    out_dir = Path(out_dir)
    with folder_lock(out_dir):
        for stale in out_dir.glob(".gastnet-staging-*"):  # only a killed run leaves these: we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        remove_stale_temporaries(out_dir)
        earlier = matching_files(out_dir, patterns)  # no other run can change it while we hold the lock
        if earlier and not overwrite:
            raise ValueError(f"{', '.join(map(str, earlier))} already exist; pass --overwrite or choose another --out")
        stage = Path(tempfile.mkdtemp(prefix=".gastnet-staging-", dir=out_dir))
        try:
            yield stage
            for old in earlier:
                old.unlink()
            for new in sorted(stage.iterdir()):
                os.replace(new, out_dir / new.name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def natural_key(path: str | os.PathLike[str]) -> list:
    """Sort key that orders the numbers in names by value: ``frame_2`` before ``frame_10``.

    >>> sorted(["f_10.png", "f_2.png", "F_1.png"], key=natural_key)
    ['F_1.png', 'f_2.png', 'f_10.png']
    """
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_npz(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """Save arrays (or picklable objects such as VideoPose3D's nested dicts) to a compressed ``.npz``
    atomically; returns the final path."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


# What the field's npz files pickle (VideoPose3D's nested dicts of arrays): arrays, dtypes and
# numpy scalars. Dicts, lists, tuples, strings and numbers need no lookup; anything else (a
# function to call, a class to build) is refused.
_PICKLE_ALLOWED = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
                   for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")}


class _DataUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data: numpy arrays, dicts, lists, tuples, strings, numbers."""

    def find_class(self, module: str, name: str):
        if (module, name) in _PICKLE_ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays, dicts, lists and "
                                     "plain values are read from npz files")


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, object arrays (pickled dicts, as in VideoPose3D's layout)
    unpickled by an unpickler that builds only plain data, so that a crafted file cannot run code.

    Raises ValueError for a file that is not an npz archive and pickle.UnpicklingError for a
    pickle that asks for anything but plain data.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(path, positions=np.array({"S1": {"Walk": np.zeros(2)}}, dtype=object), x=np.arange(3))
    >>> data = load_npz(path)
    >>> data["positions"].item()["S1"]["Walk"].tolist(), data["x"].tolist()
    ([0.0, 0.0], [0, 1, 2])
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"{path}: not an npz archive ({err})") from None
    arrays: dict[str, np.ndarray] = {}
    with archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as f:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                _, _, dtype = read_header(f) if read_header else np.lib.format._read_array_header(f, version)
                if dtype.hasobject:
                    arrays[member[:-4]] = _DataUnpickler(f).load()
                else:
                    f.seek(0)
                    arrays[member[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
    return arrays
