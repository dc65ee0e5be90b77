"""Checks of 2D keypoints against their image: sizes of whole pixels, joints near the frame.

They run in :func:`gastnet.pipeline.tracks_to_3d.lift_tracks` (every path into lifting goes through it;
:func:`gastnet.lift` also checks the image size before a video's detection starts) and in the
keypoint-file readers. What lifting returns is checked by :mod:`gastnet.pipeline.checks`.
"""

from __future__ import annotations

import numpy as np

from .tracks import PersonTrack

__all__ = ["FAR_OUTSIDE", "MAX_IMAGE_SIDE", "MIN_IMAGE_SIDE", "OUTSIDE_TOLERANCE", "check_image_size",
           "check_keypoints_in_image"]

# How far 2D keypoints may lie beyond the image's borders, as a fraction of its width (x) or
# height (y): confident joints (score above 0.3) OUTSIDE_TOLERANCE, any given joint (score above 0)
# FAR_OUTSIDE. Detectors guess cut-off limbs a little outside the frame; farther means the
# keypoints are in other units or scale than the image size (normalised coordinates with a pixel
# image size, pixels of another video, a scaled file).
OUTSIDE_TOLERANCE = 0.5
FAR_OUTSIDE = 5.0
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 16, 100_000  # pixels


def check_image_size(size) -> tuple[int, int]:
    """(width, height) as ints; ValueError unless both are whole numbers of pixels from 16 to 100000."""
    try:
        w, h = (float(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"image size must be (width, height) in pixels, got {size!r}") from None
    if not all(np.isfinite(v) and v == int(v) and MIN_IMAGE_SIDE <= v <= MAX_IMAGE_SIDE for v in (w, h)):
        raise ValueError(f"image size must be whole pixels, {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} on each side; "
                         f"got {w:g} x {h:g} (keypoints must be pixels of a video frame of that size)")
    return int(w), int(h)


def check_keypoints_in_image(tracks: list[PersonTrack], size: tuple[int, int], what: str = "input") -> None:
    """ValueError if a confident joint lies more than OUTSIDE_TOLERANCE of the image size beyond its
    borders (or any given joint more than FAR_OUTSIDE), naming the track, frame, joint and the range expected."""
    w, h = size
    extent = np.array([w, h], dtype=np.float64)
    for track in tracks:
        kp = np.asarray(track.keypoints, dtype=np.float64)
        sc = np.asarray(track.scores, dtype=np.float64)
        for limit, given in ((OUTSIDE_TOLERANCE, sc > 0.3), (FAR_OUTSIDE, sc > 0)):
            with np.errstate(invalid="ignore"):
                outside = ((kp < -limit * extent) | (kp > (1 + limit) * extent)).any(-1) & given
            if outside.any():
                t, j = (int(i) for i in np.argwhere(outside)[0])
                x, y = kp[t, j]
                confident = "confident " if limit == OUTSIDE_TOLERANCE else ""
                raise ValueError(
                    f"{what}: {confident}keypoint {j} of track {track.track_id} in frame {int(track.frames[t])} is at "
                    f"({x:.6g}, {y:.6g}) px, far outside the {w} x {h} image; expected x in "
                    f"[{-limit * w:g}, {(1 + limit) * w:g}] and y in [{-limit * h:g}, {(1 + limit) * h:g}] "
                    "(wrong image size, units or scale?)")
