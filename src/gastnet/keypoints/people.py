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
  joint above 0.15%); a picture of a person pasted into the same frames, 0.013%;
- **not a body** (after lifting, :func:`not_a_body`): no 3D human pose explains the 2D: the lifted
  pose, scaled and shifted onto the image (:func:`pose_fit_error`), misses the keypoints by more
  than :data:`MAX_FIT_ERROR` of the person's height (median over frames), or by more than
  :data:`DOUBTFUL_FIT_ERROR` while the detector's mean confidence is under
  :data:`DOUBTFUL_SCORE`. People in the shared video get 0.04; their keypoints scrambled, 0.15-0.19;
  a blob of points, 0.11-0.17; a person turned on their side, 0.12 (kept when the detector is sure).
"""

from __future__ import annotations

import numpy as np

from .tracks import PersonTrack

__all__ = ["screen_tracks", "not_a_body", "pose_fit_error", "MIN_HEIGHT", "MIN_SCORE", "STATIC_STEP", "MAX_FIT_ERROR"]

MIN_HEIGHT = 0.03
"""Smallest person, as a fraction of the image height (about 32 px in a 1080p frame)."""
MIN_SCORE = 0.4
"""Lowest mean detector confidence of a track."""
STATIC_STEP = 0.0005
"""Largest per-frame joint displacement (75th percentile over joints of the median over frames), as a fraction of the person's height, of a static track."""
MAX_FIT_ERROR = 0.15
"""Largest median distance between the keypoints and the fitted lifted pose, as a fraction of the person's height."""
DOUBTFUL_FIT_ERROR = 0.08
"""Largest such distance of a track whose mean confidence is under :data:`DOUBTFUL_SCORE`."""
DOUBTFUL_SCORE = 0.7


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


def pose_fit_error(keypoints_2d: np.ndarray, poses: np.ndarray, scores: np.ndarray | None = None) -> float:
    """How far the best scaled and shifted image of lifted poses lies from the keypoints, per person height.

    For every frame, the x, y of the root-relative 3D pose (T, J, 3) (camera frame, any unit) are
    scaled and shifted onto the 2D keypoints (T, J, 2) (pixels) by weighted least squares (weights:
    ``scores`` (T, J), floored at 0.05); the result is the median over frames of the weighted RMS
    distance divided by the 2D height. A person gets a few percent; a skeleton no human pose makes, much more.

    >>> pose = np.array([[[0.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.5, 1.0, 0.0]]])
    >>> round(pose_fit_error(pose[..., :2] * 100 + 40, pose), 6)  # an exact image
    0.0
    """
    if keypoints_2d.shape[:-1] != poses.shape[:-1] or keypoints_2d.shape[-1] != 2 or poses.shape[-1] != 3:
        raise ValueError(f"expected keypoints (T, J, 2) and poses (T, J, 3), got {keypoints_2d.shape} and {poses.shape}")
    w = np.ones(poses.shape[:-1]) if scores is None else np.maximum(scores, 0.05)
    w = w / w.sum(-1, keepdims=True)
    p, k = poses[..., :2], keypoints_2d
    p_mean, k_mean = (w[..., None] * p).sum(-2, keepdims=True), (w[..., None] * k).sum(-2, keepdims=True)
    pc, kc = p - p_mean, k - k_mean
    scale = (w * (pc * kc).sum(-1)).sum(-1) / np.maximum((w * (pc**2).sum(-1)).sum(-1), 1e-12)
    scale = np.maximum(scale, 0.0)  # an upside-down fit explains nothing
    residual = kc - scale[:, None, None] * pc
    rms = np.sqrt((w * (residual**2).sum(-1)).sum(-1))
    return float(np.median(rms / np.maximum(_heights(k), 1e-6)))


def not_a_body(keypoints_2d: np.ndarray, poses: np.ndarray, scores: np.ndarray) -> str | None:
    """Why a lifted track (keypoints (T, 17, 2) px, root-relative poses (T, 17, 3), scores (T, 17)) is
    not a person, or None if it may be one (see the module docstring)."""
    error, confidence = pose_fit_error(keypoints_2d, poses, scores), float(scores.mean())
    if error > MAX_FIT_ERROR or (error > DOUBTFUL_FIT_ERROR and confidence < DOUBTFUL_SCORE):
        return (f"no human pose fits its keypoints (they lie {100 * error:.0f}% of its height from the best fit; "
                f"mean confidence {confidence:.2f})")
    return None
