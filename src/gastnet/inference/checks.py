"""Checks of what lifting returns: finite poses, bodies of a human size. The 2D input is checked
before lifting by :mod:`gastnet.keypoints.checks`."""

from __future__ import annotations

import numpy as np

from .results import LiftResult

__all__ = ["MAX_POSE_EXTENT_M", "check_poses"]

MAX_POSE_EXTENT_M = 3.0  # no joint of a lifted body is this far from its pelvis


def check_poses(result: LiftResult) -> None:
    """ValueError unless every lifted pose is finite and within MAX_POSE_EXTENT_M of its pelvis."""
    for p in result.people:
        for name in ("poses_camera", "poses_camera_absolute", "poses_world"):
            poses = getattr(p, name)
            if poses is not None and not np.isfinite(poses).all():
                raise ValueError(f"lifting track {p.track_id} gave non-finite {name}; the 2D input is unusable "
                                 "(check its units and the image size)")
        relative = p.poses_camera - p.poses_camera[:, :1]
        extent = float(np.abs(relative).max()) if relative.size else 0.0
        if extent > MAX_POSE_EXTENT_M:
            raise ValueError(f"lifting track {p.track_id} gave a body with a joint {extent:.3g} m from its pelvis; "
                             f"expected under {MAX_POSE_EXTENT_M:g} m (check the 2D's units, the image size and "
                             "--person-height)")
