"""Files written safely: complete under their final name or not at all (:func:`atomic_path`), as
whole sets (:func:`output_set`), one writer per folder (:func:`folder_lock`), listed in natural
order. Reading files from strangers is :mod:`gastnet.safe_load`."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TEMPORARY_PREFIX", "atomic_path", "folder_lock", "matching_files", "natural_key", "output_set",
           "remove_stale_temporaries", "save_npz"]


# Every temporary file and staging folder gastnet makes starts with this, and clean-ups remove only
# names that start with it: a user's own ".draft.tmp" is never touched.
TEMPORARY_PREFIX = ".gastnet-partial-"


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
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMPORARY_PREFIX}{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp made it private (0600); the final file follows the umask like any new file
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_HELD_LOCKS: dict[tuple[str, int], int] = {}  # (folder, thread) -> how many nested blocks hold its lock


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], what: str = "gastnet run") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (``flock`` on the directory: no lock file is
    left in it) for the block; ValueError at once if another process or thread holds it. The lock
    goes with the process, so a killed run leaves none behind. A block nested in another on the
    same folder in the same thread keeps the outer lock, so a run holds it from the start of its
    work to the end (an :func:`output_set` inside does not release it). A folder the lock made is
    removed again if the block leaves it empty. Where the platform has no ``fcntl`` the block runs
    unlocked."""
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    key = (os.path.realpath(folder), threading.get_ident())
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key] += 1
        try:
            yield
        finally:
            _HELD_LOCKS[key] -= 1
        return
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another descriptor's lock blocks it, this process's too
        except OSError:
            raise ValueError(f"another {what} is writing to {folder}; wait for it or choose another folder") from None
        _HELD_LOCKS[key] = 1
        try:
            yield
        finally:
            del _HELD_LOCKS[key]
            if created:  # a run that wrote nothing leaves no empty folder behind
                with contextlib.suppress(OSError):
                    folder.rmdir()
    finally:
        os.close(fd)  # releases the lock


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete what :func:`atomic_path` and :func:`output_set` leave only when their process is
    killed (names starting with :data:`TEMPORARY_PREFIX`, a pattern no user file has; nothing else
    is touched); call it while holding :func:`folder_lock`. Returns what was removed."""
    stale = sorted(Path(folder).glob(f"{TEMPORARY_PREFIX}*"))
    for f in stale:
        if f.is_dir() and not f.is_symlink():
            shutil.rmtree(f, ignore_errors=True)
        else:
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
        remove_stale_temporaries(out_dir)  # only a killed run leaves these: we hold the lock
        earlier = matching_files(out_dir, patterns)  # no other run can change it while we hold the lock
        if earlier and not overwrite:
            raise ValueError(f"{', '.join(map(str, earlier))} already exist; pass --overwrite or choose another --out")
        stage = Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}staging-", dir=out_dir))
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
    atomically, as :func:`numpy.savez_compressed` lays it out; returns the final path.

    The archive is closed however writing ends, so a full disk is one OSError and nothing else
    (numpy's own writer leaves its archive to be closed, noisily, by the garbage collector).
    """
    path = Path(path)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=True)
    return path
