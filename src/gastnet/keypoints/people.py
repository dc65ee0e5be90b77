"""Which tracks are people: reject what a 2D detector mistook for a person.

One-person detectors used for several people (find, hide, look again) and every detector on
cluttered scenes return things that are not people: a punching bag, a coat on a chair, a poster.
They come as tracks like any other; these checks say which to drop and why, so that only people
are lifted, saved and drawn. Each check has one documented threshold (module constants):

- **short**: seen in fewer than ``min_frames`` frames (a flicker), unless the whole input is that
  short (one image is lifted, not rejected);
- **tiny**: the keypoints span less than :data:`MIN_HEIGHT` of the image height (median over the
  track): too small to lift, and usually a false detection;
- **unsure**: the detector's mean confidence over all joints and frames is below :data:`MIN_SCORE`;
- **static**: over at least one second, three quarters of the joints move less than
  :data:`STATIC_STEP` of the person's height per frame (the 75th percentile over joints of each
  joint's median step): a picture or an object. A person standing still sways, breathes and
  jitters in the detector (0.27% for the man standing at the start of the shared video, every
  joint above 0.15%); a picture of a person pasted into the same frames, 0.013%.

One check needs the lifted poses and runs after lifting: **not a body**
(:func:`gastnet.inference.checks.not_a_body`), no 3D human pose explains the 2D.
"""

from __future__ import annotations

import numpy as np

from .tracks import PersonTrack

__all__ = ["screen_tracks", "MIN_HEIGHT", "MIN_SCORE", "STATIC_STEP"]

MIN_HEIGHT = 0.03
"""Smallest person, as a fraction of the image height (about 32 px in a 1080p frame)."""
MIN_SCORE = 0.4
"""Lowest mean detector confidence of a track."""
STATIC_STEP = 0.0005
"""Largest per-frame joint displacement (75th percentile over joints of the median over frames), as a
fraction of the person's height, of a static track."""


def _heights(keypoints: np.ndarray) -> np.ndarray:
    """Vertical extent (T,) of keypoints (T, J, 2), pixels."""
    return keypoints[..., 1].max(-1) - keypoints[..., 1].min(-1)


def screen_tracks(tracks: list[PersonTrack], image_size: tuple[int, int], fps: float, min_frames: int = 5,
                  num_frames: int | None = None) -> tuple[list[PersonTrack], list[str]]:
    """The tracks that pass the checks before lifting (short, tiny, unsure, static), and a note per dropped track.

    Args:
        tracks: Human3.6M-17 tracks, keypoints in pixels.
        image_size: (width, height) in pixels.
        fps: frames per second (the static check needs one second of track).
        min_frames: shortest track kept when the input is longer than that.
        num_frames: frames in the input; a track as long as a shorter input is kept.
    """
    height = float(image_size[1])
    shortest = min(min_frames, num_frames) if num_frames else min_frames
    kept, notes = [], []
    for track in tracks:
        reason = None
        size = float(np.median(_heights(track.keypoints)))
        if len(track) < shortest:
            reason = f"seen in only {len(track)} frames (fewer than {shortest})"
        elif size < MIN_HEIGHT * height:
            reason = f"too small ({size:.0f} px tall, under {100 * MIN_HEIGHT:g}% of the image height)"
        elif track.scores.mean() < MIN_SCORE:
            reason = f"the detector is unsure of it (mean confidence {track.scores.mean():.2f} < {MIN_SCORE})"
        elif len(track) >= fps and np.all(np.diff(track.frames) == 1):
            steps = np.linalg.norm(np.diff(track.keypoints, axis=0), axis=-1)  # (T - 1, 17) pixels
            step = np.percentile(np.median(steps, axis=0), 75) / max(size, 1e-6)  # a quarter of the joints move more
            if step < STATIC_STEP:
                reason = (f"static over {len(track)} frames (joints move {100 * step:.3f}% of its height per frame): "
                          "a picture or an object, not a person")
        if reason is None:
            kept.append(track)
        else:
            notes.append(f"dropped track {track.track_id}: {reason}")
    return kept, notes

