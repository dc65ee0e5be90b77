"""People's paths when the camera moved through space or zoomed and its motion is not recovered.

A camera that only turns is undone exactly (:func:`gastnet.world.camera_motion.to_reference_frame`). One
that translates or zooms (:attr:`gastnet.world.camera_motion.CameraMotion.kind` "translating/zooming")
is not: the background's homographies do not tell how far the camera moved. Pinning people to one
spot would throw away the paths the 2D clearly shows (someone walking toward the camera grows in
the image whatever the camera does), so :func:`keep_paths` keeps the best estimate there is:

- **a zoom** (the background's motion is a scaling, :attr:`~gastnet.world.camera_motion.CameraMotion.zoom`):
  each frame's focal length was ``zoom[t]`` times the first frame's, so the depths that the
  placement found with the first frame's focal length are multiplied by ``zoom[t]`` (a body that
  looks larger because of the zoom is not nearer), and the camera's turn (the rotation part of
  the background's motion) is undone as for a turning camera. If the camera in fact moved forward
  toward a distant background (which looks the same), each path along the view is off by as much
  as the camera moved: a ``zoom`` of 1.05 is a move of 5% of the distance to the background.
- **a translation** (near and far things shift differently): given the focal length, the camera's
  path is recovered from the floor it sees (:func:`gastnet.video.camera_path.recover_camera_path`),
  the floor and its scale being those the people's feet give with the camera taken as fixed (the
  floor's tilt barely depends on the camera's motion; its height is the camera's above the
  ankles, plus :data:`ANKLE_HEIGHT_M`); each frame's people are then put into the first frame's
  camera. Where that is not possible (no focal length, too few floor points in most frames), each
  frame's camera-frame positions are kept as they are, as if the camera had stood still: a path is
  then off by the camera's own path (someone the camera walks beside seems to walk less, someone it
  walks toward seems to come faster).

Either way the notes say so; steps, posture and each frame's distance to the camera are as
reliable as with a fixed camera.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..video.camera_path import CameraPath, recover_camera_path
from ..world.camera_motion import CameraMotion, MotionKind, to_reference_frame
from ..world.placement import fit_floor

__all__ = ["ANKLE_HEIGHT_M", "MIN_CAMERA_HEIGHT_M", "MIN_MEASURED", "KeptPaths", "keep_paths"]

ANKLE_HEIGHT_M = 0.08
"""The ankle joint's height above the ground (metres) when the foot is flat: the placement's floor
is fitted to the ankles, the background's floor is the ground."""

MIN_CAMERA_HEIGHT_M = 0.3
"""A camera lower than this above the floor sees too little of it to recover its path from it."""

MIN_MEASURED = 0.6
"""The camera's path is used when at least this share of the frames had their pose measured."""


class KeptPaths(NamedTuple):
    """What :func:`keep_paths` gives: per person poses (T_i, 17, 3) metres, notes, and the camera's
    path when it was recovered (else None)."""

    poses: list[np.ndarray]
    notes: list[str]
    camera_path: CameraPath | None


def keep_paths(poses: Sequence[np.ndarray], frames: Sequence[np.ndarray], motion: CameraMotion,
               focal: float | None = None, fps: float = 25.0) -> KeptPaths:
    """Each person's poses (T_i, 17, 3) metres, root-placed in their frames' cameras, brought as far toward
    one fixed frame as ``motion`` allows, and the notes that say how far to trust the paths.

    ``frames`` (T_i,) int: each person's frame numbers, indices into ``motion``'s frames.
    ``motion`` must be "translating/zooming". A zoom (``motion.zoom`` not None) is undone: each
    root's depth (camera z) is multiplied by ``zoom[t]`` (the body around it is kept), then the
    turn by ``motion.rotations`` (into the first frame's camera). A translation with ``focal``
    (pixels, the one the poses were placed with) and ``fps`` (for the floor fit) is undone with the
    camera's path recovered from the floor (module docstring); else the camera-frame positions are
    kept. The poses keep their shapes.

    >>> from gastnet.world.camera_motion import BackgroundMeasurements
    >>> eye = np.tile(np.eye(3), (2, 1, 1))
    >>> meas = BackgroundMeasurements((640, 360), eye, np.zeros(2, int), eye, np.full(2, 50), np.full(2, 50),
    ...                               np.ones(2, bool))
    >>> zoomed = CameraMotion(MotionKind.TRANSLATING, "", (640, 360), 500.0, "given", None, eye, eye,
    ...                       np.full(2, 50), np.zeros(2), np.zeros(2), np.ones(2, bool), meas, zoom=np.array([1.0, 2.0]))
    >>> seen = np.zeros((2, 17, 3)); seen[:, :, 2] = [[4.0], [2.0]]  # half as far in frame 1: the zoom, not a walk
    >>> kept, notes, path = keep_paths([seen], [np.arange(2)], zoomed)
    >>> kept[0][:, 0, 2].tolist()
    [4.0, 4.0]
    """
    if motion.kind != MotionKind.TRANSLATING:
        raise ValueError(f"keep_paths is for a translating or zooming camera, got a {motion.kind!r} one")
    if len(poses) != len(frames):
        raise ValueError(f"expected one frame list per person, got {len(poses)} people and {len(frames)} lists")
    kept, raw = [], []
    for person, index in zip(poses, frames):
        person, index = np.asarray(person, np.float64), np.asarray(index)
        if person.ndim != 3 or person.shape[-1] != 3 or index.shape != person.shape[:1]:
            raise ValueError(f"expected poses (T, J, 3) with T frame numbers, got {person.shape} and {index.shape}")
        raw.append(person)
        if motion.zoom is not None:
            root = person[:, :1].copy()
            root[..., 2] *= motion.zoom[index][:, None]
            person = to_reference_frame(person - person[:, :1] + root, motion.rotations[index])
        kept.append(person)
    if focal is not None and len(motion.tracks) == len(motion):
        floor = fit_floor(raw, fps)  # the floor only: the people are placed on it later, once
        height = -floor.offset + ANKLE_HEIGHT_M
        # a zoom moves the floor as a plane square to the optical axis would: its motion is not found on the floor
        path = recover_camera_path(motion, focal, -floor.normal, height) if height > MIN_CAMERA_HEIGHT_M else None
        if path is not None and path.measured.mean() >= MIN_MEASURED:
            moved = [path.to_reference_frame(p, np.asarray(i)) for p, i in zip(raw, frames)]
            zoomed = ("the background grew as in a zoom, but the floor shows that the camera moved (parallax): "
                      if motion.zoom is not None else "")
            return KeptPaths(moved, [
                f"the camera moved through space: {zoomed}its path ({path.length_m:.2f} m over the clip) is recovered "
                f"from the floor it sees, scaled by its height above the floor the people stand on ({height:.2f} m): a "
                "10% error in that height (the people's size) is a 10% error in the camera's path; people are "
                "placed in the first frame's camera"], path)
    if motion.zoom is not None:
        grow = float(motion.zoom[np.argmax(np.abs(np.log(motion.zoom)))])
        notes = [f"the camera zoomed (the background looks up to x{grow:.2f} as large as in the first frame): "
                 "depths are corrected for the zoom and the camera's turn undone; if the camera moved toward or "
                 f"away from the background instead, paths along the view are off by as much as it moved "
                 f"({100 * abs(1 - 1 / grow):.0f}% of its distance to the background)"]
    else:
        notes = ["the camera moved through space, which is not recovered: paths are as seen from the moving camera "
                 "(as if it stood still), so each is off by the camera's own path (someone the camera moves beside "
                 "seems to walk less, someone it moves toward seems to come faster); steps, posture and distances to "
                 "the camera are as reliable as with a fixed camera"]
    return KeptPaths(kept, notes, None)
