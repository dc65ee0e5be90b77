"""The optional extras (``pip install "gastnet[NAME]"``) and the modules each one brings.

A command or a library call that needs an extra asks :func:`require` before it does any work, so
that a missing package stops it at once with one line saying what to install, rather than after
minutes of detection or lifting::

    >>> sorted(EXTRAS)
    ['batch', 'cdf', 'gltf', 'onnx', 'plot', 'video']
    >>> missing("plot") in ([], ["matplotlib"])
    True

A module counts as installed when Python can find it (:func:`importlib.util.find_spec`); it is
not imported here, so checking costs nothing (MediaPipe alone takes seconds to import).
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtra", "missing", "require"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "plot": ("matplotlib",),  # renders, plots, training curves
    "cdf": ("cdflib",),  # the original Human3.6M CDF files
    "onnx": ("onnx", "onnxscript", "onnxruntime"),  # ONNX export
    # PyAV (video files), OpenCV (photos, cameras, camera motion), MediaPipe Pose (its models), LiteRT (runs them)
    "video": ("av", "cv2", "mediapipe", "ai_edge_litert"),
    "batch": ("dask", "distributed"),  # Dask clusters for lift_many
    "gltf": ("pygltflib",),  # .glb export
}
"""Extra name (as in pyproject.toml) -> the import names of the packages it installs."""


class MissingExtra(ImportError, ValueError):
    """An optional package is not installed. An ImportError (what it is) and a ValueError (what the
    command line reports as a one-line error with exit code 2)."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module without a spec
        return False


def missing(extra: str, only: tuple[str, ...] | None = None) -> list[str]:
    """The import names of ``extra``'s packages (or of those among them in ``only``) that are not
    installed (empty: all are)."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; expected one of {', '.join(sorted(EXTRAS))}")
    if only is not None and not set(only) <= set(EXTRAS[extra]):
        raise ValueError(f"{sorted(set(only) - set(EXTRAS[extra]))} are not modules of the {extra} extra")
    return [m for m in EXTRAS[extra] if (only is None or m in only) and not _installed(m)]


def require(extra: str, what: str, only: tuple[str, ...] | None = None) -> None:
    """Raise :class:`MissingExtra` (one line: ``{what} needs {modules}: pip install "gastnet[{extra}]"``)
    unless every package of ``extra`` (or those of its packages named in ``only``: what this use
    needs of it) is installed.

    >>> require("no-such-extra", "x")
    Traceback (most recent call last):
    ...
    ValueError: unknown extra 'no-such-extra'; expected one of batch, cdf, gltf, onnx, plot, video
    """
    absent = missing(extra, only)
    if absent:
        raise MissingExtra(f'{what} needs {", ".join(absent)}: pip install "gastnet[{extra}]"')
