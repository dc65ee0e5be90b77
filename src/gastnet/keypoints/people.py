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

- **rigid**: over at least :data:`RIGID_MIN_S`, the keypoints turn as one piece without changing
  shape (:func:`gastnet.keypoints.objects.rigid_motion`): a thing swinging or carried;
- **inside someone**: shorter than a second and inside another, longer track's box
  (:func:`gastnet.keypoints.objects.inside_another`): a second skeleton on that person.

One check needs the lifted poses and runs after lifting: **not a body**
(:func:`gastnet.pipeline.checks.not_a_body`), no 3D human pose explains the 2D.

When more people are found than asked for (``--people N``), :func:`most_prominent` keeps, in every
frame, the N who matter most there (how large they appear: near before far; how surely detected),
whatever order the detector found them in and however long they are on screen.
"""

from __future__ import annotations

import numpy as np

from .objects import INSIDE_SHARE, RIGID_CHANGE, RIGID_TURN_DEG, SHORT_S, inside_another, rigid_motion
from .tracks import PersonTrack

__all__ = ["screen_tracks", "most_prominent", "prominence", "MIN_HEIGHT", "MIN_SCORE", "STATIC_STEP", "RANK_WINDOW"]

MIN_HEIGHT = 0.03
"""Smallest person, as a fraction of the image height (about 32 px in a 1080p frame)."""
MIN_SCORE = 0.4
"""Lowest mean detector confidence of a track."""
RIGID_MIN_S = 0.5
"""Shortest track, seconds, judged rigid (:func:`gastnet.keypoints.objects.rigid_motion`): half a swing of a bag."""
STATIC_STEP = 0.0005
"""Largest per-frame joint displacement (75th percentile over joints of the median over frames), as a
fraction of the person's height, of a static track."""


def _heights(keypoints: np.ndarray) -> np.ndarray:
    """Vertical extent (T,) of keypoints (T, J, 2), pixels."""
    return keypoints[..., 1].max(-1) - keypoints[..., 1].min(-1)


def screen_tracks(tracks: list[PersonTrack], image_size: tuple[int, int], fps: float, min_frames: int = 5,
                  num_frames: int | None = None) -> tuple[list[PersonTrack], list[str]]:
    """The tracks that pass the checks before lifting (short, tiny, unsure, static, rigid, inside someone), and a
    note per dropped track.

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
            reason = _object_reason(track, tracks, fps)
        if reason is None:
            kept.append(track)
        else:
            notes.append(f"dropped track {track.track_id}: {reason}")
    return kept, notes


def _object_reason(track: PersonTrack, tracks: list[PersonTrack], fps: float) -> str | None:
    """Why a track's 2D over time is a thing's (rigid, or a short second skeleton inside someone), or None."""
    if len(track) >= RIGID_MIN_S * fps:
        change, turn = rigid_motion(track)
        if change < RIGID_CHANGE and turn >= RIGID_TURN_DEG:
            return (f"rigid: it turns {turn:.0f} degrees but its shape changes only {100 * change:.1f}% of its height "
                    "(a thing swinging or carried, not a person)")
    if len(track) < SHORT_S * fps:
        share, other = inside_another(track, tracks)
        if share >= INSIDE_SHARE:
            return (f"a second skeleton on track {other}: inside its box in {100 * share:.0f}% of its "
                    f"{len(track)} frames (under {SHORT_S:g} s): part of that person or what they hold")
    return None



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


RANK_WINDOW = 31
"""Detections of a track (about a second at 30 fps) over which its size in each frame is a running median,
so that a moment of being half hidden, or the detector's noise, does not swap who is kept."""


def _importance(track: PersonTrack, height: float) -> np.ndarray:
    """How much a person matters in each of their frames (T,): the longer side of the box around their
    joints over the image height, times the detector's mean confidence (see :func:`prominence`), as a
    running median over :data:`RANK_WINDOW` of their detections."""
    scores = np.nan_to_num(np.asarray(track.scores, dtype=np.float64)).clip(0, 1)
    value = _sides(track) / height * scores.mean(-1)
    if len(value) <= 1:  # nothing to take a median over (and an empty track cannot be edge-padded)
        return value
    half = RANK_WINDOW // 2
    padded = np.pad(value, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.median(windows, axis=-1)


def _runs(won: np.ndarray) -> list[tuple[int, int]]:
    """The runs (start, stop) of True in ``won`` (T,), as index ranges."""
    edges = np.diff(np.concatenate([[0], won.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def most_prominent(tracks: list[PersonTrack], n: int, image_size: tuple[int, int],
                   num_frames: int | None = None, min_frames: int = 5) -> tuple[list[PersonTrack], list[str]]:
    """The tracks to keep when at most ``n`` people are wanted in any frame, and a note per track dropped or cut.

    In every frame, the ``n`` people who matter most there are kept: ranked by their size in the
    image (the longer side of the box around their joints: large and near first) times the
    detector's confidence, a running median over :data:`RANK_WINDOW` of their detections; how long
    anyone is on screen does not count. A track is kept whole where it is among the ``n`` first in
    all its frames; else it is cut to its longest run of frames in which it is (a foreground person
    who walks in late takes the place of the smallest background person from then on), and dropped
    if it is never among them or that run is shorter than ``min_frames`` (or the track). So no frame
    holds more than ``n`` kept people. The kept tracks come back in their original order; join the
    pieces of a person hidden for a while first (:func:`gastnet.keypoints.rejoin.join_hidden`).

    Args:
        tracks: Human3.6M-17 (or any layout) tracks, keypoints in pixels.
        n: most people in any frame (at least 1).
        image_size: (width, height) in pixels.
        num_frames: frames in the input; default: the last frame of any track + 1.
        min_frames: the shortest run a cut track keeps.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of people to keep must be a whole number of at least 1, got {n!r}")
    height = float(image_size[1])
    if not height > 0:
        raise ValueError(f"image size must be (width, height) with a positive height, got {image_size}")
    last = max((int(t.frames[-1]) + 1 for t in tracks if len(t)), default=0)
    num_frames = max(num_frames or last, last)
    importance = [_importance(t, height) for t in tracks]
    present: list[list[tuple[float, int, int]]] = [[] for _ in range(num_frames)]  # (importance, track, index)
    for i, track in enumerate(tracks):
        for k, frame in enumerate(np.asarray(track.frames, dtype=int).tolist()):
            present[frame].append((float(importance[i][k]), i, k))
    won = [np.zeros(len(t), dtype=bool) for t in tracks]
    beaten_by: list[set[int]] = [set() for _ in tracks]
    for entries in present:
        entries.sort(key=lambda e: (-e[0], e[1]))
        for _, i, k in entries[:n]:
            won[i][k] = True
        for _, i, _k in entries[n:]:
            beaten_by[i].update(e[1] for e in entries[:n])
    kept: list[PersonTrack] = []
    notes = []
    what = f"only the {n} most prominent {'person is' if n == 1 else 'people are'} kept in any frame (--people {n})"
    for i, track in enumerate(tracks):
        if won[i].all():
            kept.append(track)
            continue
        rivals = ", ".join(str(tracks[k].track_id) for k in sorted(beaten_by[i]))
        size = float(np.median(_sides(track))) if len(track) else 0.0
        runs = _runs(won[i])
        start, stop = max(runs, key=lambda r: r[1] - r[0]) if runs else (0, 0)
        if stop - start < min(min_frames, len(track)):
            notes.append(f"dropped track {track.track_id}: {what}, and it is among them in {int(won[i].sum())} of its "
                         f"{len(track)} frames ({size:.0f} px, {100 * size / height:.0f}% of the image height; "
                         f"more prominent there: track{'s' if ',' in rivals else ''} {rivals})")
            continue
        frames = np.asarray(track.frames)
        kept.append(PersonTrack(track.track_id, frames[start:stop], track.keypoints[start:stop], track.scores[start:stop]))
        notes.append(f"track {track.track_id}: kept in frames {int(frames[start])}-{int(frames[stop - 1])} only, its "
                     f"other {len(track) - (stop - start)} frames dropped: {what}, and around those it is not among "
                     f"them (more prominent there: track{'s' if ',' in rivals else ''} {rivals})")
    return kept, notes
