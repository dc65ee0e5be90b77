"""One check of array shapes for the public functions: :func:`check_shape`.

A shape is written as its dimensions separated by spaces: a number is that size, a name any
size (the same name twice must agree, across the arrays of one call when a ``sizes`` dict is
shared), ``*`` any size, and one ``...`` any number of dimensions (none included) where it
stands. The error is one line naming the argument, what was expected and what was found.

>>> import numpy as np
>>> check_shape(np.zeros((10, 17, 2)), "T J 2", "keypoints")
{'T': 10, 'J': 17}
>>> check_shape(np.zeros((10, 17, 3)), "T J 2", "keypoints")
Traceback (most recent call last):
...
ValueError: keypoints must be (T, J, 2), got (10, 17, 3)
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_shape"]


def check_shape(x: Any, shape: str, name: str = "array", sizes: dict[str, int] | None = None) -> dict[str, int]:
    """Check ``x.shape`` against ``shape`` (see the module); returns the named sizes found.

    ``sizes``: named sizes already bound (e.g. by an earlier array of the same call); it is
    updated in place with the new ones, so one dict shared over several checks ties their sizes.

    >>> import numpy as np
    >>> tied = check_shape(np.zeros((5, 17, 2)), "T J 2", "keypoints")
    >>> check_shape(np.zeros((5, 17)), "T J", "scores", tied)
    {'T': 5, 'J': 17}
    >>> check_shape(np.zeros((4, 17)), "T J", "scores", tied)
    Traceback (most recent call last):
    ...
    ValueError: scores must be (T, J) with T = 5, J = 17, got (4, 17)
    >>> check_shape(np.zeros((2, 3, 4, 3)), "T ... 3", "points")
    {'T': 2}
    >>> check_shape(np.zeros((2, 3)), "T ... 3", "points")
    {'T': 2}
    """
    dims = shape.split()
    found = tuple(int(d) for d in getattr(x, "shape", ()))
    bound = {} if sizes is None else sizes
    expected = "(" + ", ".join(dims) + ")"
    if "..." in dims:
        cut = dims.index("...")
        head, tail = dims[:cut], dims[cut + 1:]
        fits = len(found) >= len(head) + len(tail)
        pairs = list(zip(head, found[:len(head)])) + list(zip(tail, found[len(found) - len(tail):]))
    else:
        fits = len(found) == len(dims)
        pairs = list(zip(dims, found))
    named = [d for d in dims if d not in ("...", "*") and not d.isdigit()]
    if not fits:
        raise ValueError(f"{name} must be {expected}{_given(named, bound)}, got {found}")
    new: dict[str, int] = {}
    for dim, size in pairs:
        if dim == "*":
            continue
        want = int(dim) if dim.isdigit() else bound.get(dim, new.get(dim))
        if want is not None and want != size:
            raise ValueError(f"{name} must be {expected}{_given(named, bound)}, got {found}")
        if not dim.isdigit():
            new[dim] = size
    bound.update(new)
    return bound


def _given(dims: list[str], bound: dict[str, int]) -> str:
    """`` with T = 5, J = 17`` for the named dimensions already bound, else nothing."""
    named = [f"{d} = {bound[d]}" for d in dict.fromkeys(dims) if d in bound]
    return " with " + ", ".join(named) if named else ""
