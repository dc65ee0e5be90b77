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
(:func:`gastnet.pipeline.checks.not_a_body`), no 3D human pose explains the 2D.

When more people are found than asked for (``--people N``), :func:`most_prominent` keeps the most
prominent ones (:func:`prominence`: how large they appear, for how long, how surely detected),
whatever order the detector found them in.
"""

from __future__ import annotations

import numpy as np

from .tracks import PersonTrack

__all__ = ["screen_tracks", "most_prominent", "prominence", "MIN_HEIGHT", "MIN_SCORE", "STATIC_STEP"]

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



def prominence(track: PersonTrack, image_size: tuple[int, int], num_frames: int) -> float:
    """How much a person is on screen: the mean over the input's ``num_frames`` frames of their size in the
    image (the longer side of the box around the joints given, over the image height) times the
    detector's mean confidence over their joints; frames without them count 0. Unitless: a person
    filling the image height, sure in every frame, scores 1; one a tenth as tall, or there a tenth of
    the time, or detected at confidence 0.1, scores 0.1.

    Args:
        track: keypoints (T, J, 2) in pixels, scores (T, J) in [0, 1]; joints that are not finite
            or scored 0 are not given.
        image_size: (width, height) in pixels.
        num_frames: frames in the input (at least the track's last frame + 1).
    """
    height = float(image_size[1])
    if not height > 0:
        raise ValueError(f"image size must be (width, height) with a positive height, got {image_size}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    scores = np.nan_to_num(np.asarray(track.scores, dtype=np.float64)).clip(0, 1)
    return float((_sides(track) / height * scores.mean(-1)).sum() / num_frames)


def _sides(track: PersonTrack) -> np.ndarray:
    """The longer side (T,) in pixels of the box around each frame's given joints (0 with fewer than 2)."""
    kp = np.asarray(track.keypoints, dtype=np.float64)
    given = np.isfinite(kp).all(-1) & (np.nan_to_num(np.asarray(track.scores, dtype=np.float64)) > 0)  # (T, J)
    if not len(kp):
        return np.zeros(0)
    low = np.where(given[..., None], kp, np.inf).min(1)
    high = np.where(given[..., None], kp, -np.inf).max(1)
    return np.where(given.sum(-1) >= 2, (high - low).max(-1), 0.0)


def most_prominent(tracks: list[PersonTrack], n: int, image_size: tuple[int, int],
                   num_frames: int | None = None) -> tuple[list[PersonTrack], list[str]]:
    """The tracks to keep when at most ``n`` people are wanted in any frame, and a note per dropped track.

    Tracks are taken in order of :func:`prominence` (size in the image, time on screen, detector
    confidence), most prominent first; a track is kept if every frame it is in holds fewer than
    ``n`` tracks kept before it. So the ``n`` most prominent people are kept whatever order the
    detector found them in, and one person whose track was cut in two (hidden for a while) still
    counts once per frame. The kept tracks come back in their original order.

    Args:
        tracks: Human3.6M-17 (or any layout) tracks, keypoints in pixels.
        n: most people in any frame (at least 1).
        image_size: (width, height) in pixels.
        num_frames: frames in the input; default: the last frame of any track + 1.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of people to keep must be a whole number of at least 1, got {n!r}")
    if num_frames is None:
        num_frames = max((int(t.frames[-1]) + 1 for t in tracks if len(t)), default=1)
    scores = [prominence(t, image_size, num_frames) for t in tracks]
    order = sorted(range(len(tracks)), key=lambda i: -scores[i])
    count = np.zeros(max(num_frames, max((int(t.frames[-1]) + 1 for t in tracks if len(t)), default=0)), dtype=int)
    kept: list[int] = []
    dropped: list[int] = []
    for i in order:
        frames = np.asarray(tracks[i].frames, dtype=int)
        if (count[frames] < n).all():
            count[frames] += 1
            kept.append(i)
        else:
            dropped.append(i)
    notes = []
    height = float(image_size[1])
    for i in sorted(dropped):
        track = tracks[i]
        rivals = [tracks[k].track_id for k in kept if np.isin(tracks[k].frames, track.frames).any()]
        size = float(np.median(_sides(track))) if len(track) else 0.0
        confidence = float(np.nanmean(track.scores)) if len(track) else 0.0
        notes.append(f"dropped track {track.track_id}: only the {n} most prominent "
                     f"{'person is' if n == 1 else 'people are'} kept in any frame (--people {n}), and it is less "
                     f"prominent (score {scores[i]:.3f}: {size:.0f} px, {100 * size / height:.0f}% of the image "
                     f"height, in {len(track)} of {num_frames} frames, confidence {confidence:.2f}) than "
                     f"track{'s' if len(rivals) > 1 else ''} {', '.join(str(r) for r in rivals)} in the same frames")
    return [tracks[i] for i in sorted(kept)], notes
