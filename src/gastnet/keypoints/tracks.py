"""People over time: per-frame detections linked into tracks, and gaps filled.

A :class:`PersonTrack` holds one person's Human3.6M-17 keypoints for consecutive frames.
:func:`link_detections` follows people from frame to frame by keypoint distance (greedy
matching, relative to the person's size); :func:`fill_gaps` fills what the detector did not give
(frames without the person, joints marked missing) by linear interpolation over time and joints
never given by a documented stand-in, keeps every position the detector did give however
uncertain, and says how much it filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..skeleton import H36M_17

__all__ = ["DEFAULT_KEYPOINT_FPS", "PersonTrack", "link_detections", "fill_gaps", "FillReport"]

DEFAULT_KEYPOINT_FPS = 30.0
"""Frames per second of keypoints whose source does not say (files, arrays, image folders) and of a
video or camera whose own rate is unusable."""


@dataclass
class PersonTrack:
    """One person: frame indices (T,), keypoints (T, 17, 2) pixels and scores (T, 17) in [0, 1]."""

    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class FillReport:
    """What :func:`fill_gaps` changed in one track."""

    track_id: int
    frames: int
    missing_frames: int = 0  # frames without a detection inside the track's span
    interpolated_joints: int = 0  # joint positions interpolated over time
    stand_in_joints: list[str] = field(default_factory=list)  # joints never seen, replaced by the stand-in
    filled: np.ndarray | None = None  # (T, 17) bool: True where the position was made up (interpolated or stand-in)

    @property
    def filled_fraction(self) -> float:
        total = self.frames * H36M_17.num_joints
        stand_in = len(self.stand_in_joints) * self.frames
        return (self.interpolated_joints + stand_in) / max(total, 1)


def _size(keypoints: np.ndarray, scores: np.ndarray) -> float:
    seen = keypoints[scores > 0.3] if (scores > 0.3).sum() >= 2 else keypoints
    return float(np.linalg.norm(seen.max(0) - seen.min(0))) + 1e-6


def link_detections(
    detections: list[list[tuple[np.ndarray, np.ndarray]]], max_gap: int = 15, max_distance: float = 0.5
) -> list[PersonTrack]:
    """Link per-frame people into tracks.

    Args:
        detections: for every frame, a list of (keypoints (17, 2), scores (17,)) in Human3.6M-17.
        max_gap: frames a person may go unseen and keep their track.
        max_distance: largest accepted mean joint distance between a track's last pose and a
            detection, as a fraction of the person's size (the diagonal of their keypoints).

    Tracks are numbered in order of first appearance; identities stay stable while people move
    less than ``max_distance`` of their size per frame.
    """
    open_tracks: list[dict] = []
    finished: list[dict] = []
    next_id = 0
    for frame, people in enumerate(detections):
        pairs = []
        for ti, track in enumerate(open_tracks):
            last_kp, last_sc = track["kp"][-1], track["sc"][-1]
            for di, (kp, sc) in enumerate(people):
                both = (last_sc > 0.3) & (sc > 0.3)
                if both.sum() < 3:
                    both = np.ones_like(both)
                dist = np.linalg.norm(kp[both] - last_kp[both], axis=-1).mean() / _size(last_kp, last_sc)
                if dist <= max_distance:
                    pairs.append((dist, ti, di))
        used_tracks, used_people = set(), set()
        for _, ti, di in sorted(pairs):
            if ti in used_tracks or di in used_people:
                continue
            used_tracks.add(ti)
            used_people.add(di)
            track = open_tracks[ti]
            track["frames"].append(frame)
            track["kp"].append(people[di][0])
            track["sc"].append(people[di][1])
        for di, (kp, sc) in enumerate(people):
            if di not in used_people:
                open_tracks.append({"id": next_id, "frames": [frame], "kp": [kp], "sc": [sc]})
                next_id += 1
        still: list[dict] = []
        for track in open_tracks:
            (still if frame - track["frames"][-1] <= max_gap else finished).append(track)
        open_tracks = still
    tracks = []
    for t in sorted(finished + open_tracks, key=lambda t: t["id"]):
        tracks.append(PersonTrack(t["id"], np.array(t["frames"]), np.array(t["kp"], dtype=np.float64),
                                  np.array(t["sc"], dtype=np.float64)))
    return tracks


def fill_gaps(track: PersonTrack, missing_below: float = 0.0) -> tuple[PersonTrack, FillReport]:
    """Every frame of the track's span with every joint filled; only what the detector did not give is made up.

    The rule (missing vs uncertain):

    - A joint is *missing* where its position is not finite or its score is at most
      ``missing_below`` (default 0: score 0 is how COCO (v = 0), OpenPose (0, 0, 0) and the
      readers here (negative coordinates) mark a joint that was not detected), and in frames
      without a detection inside the track's span. Missing positions are interpolated linearly in
      time between the nearest given positions of that joint (held constant beyond the first and
      last one); their score is 0 and ``report.filled`` marks them.
    - An *uncertain* joint (any score above ``missing_below``) keeps the detector's position and
      score. Scores are often visibility rather than position quality (MediaPipe's far-side elbow
      of a boxer has visibility 0.1 and the right position), and the network was trained with
      detector errors, so its own guess beats an interpolation across a punch. Users who want
      to discard uncertain joints have the scores in every output.
    - Joints never given in the whole track (a person cut off at the waist: the paper's
      upper-body case) get a stand-in: the leg hangs straight down below its hip, with thigh and
      shin each as long as the spine (pelvis to thorax), so the model sees a standing posture.
    """
    first, last = int(track.frames[0]), int(track.frames[-1])
    span = np.arange(first, last + 1)
    kp = np.full((len(span), 17, 2), np.nan)
    sc = np.zeros((len(span), 17))
    kp[track.frames - first] = track.keypoints
    sc[track.frames - first] = track.scores
    report = FillReport(track.track_id, len(span), missing_frames=len(span) - len(track.frames))
    given = (sc > missing_below) & np.isfinite(kp).all(-1)
    never = [j for j in range(17) if not given[:, j].any()]
    for j in range(17):
        if j in never:
            continue
        good = given[:, j]
        bad = ~good
        report.interpolated_joints += int(bad.sum())
        for axis in range(2):
            kp[bad, j, axis] = np.interp(span[bad], span[good], kp[good, j, axis])
    if never:
        if 0 in never or 8 in never:
            raise ValueError(f"track {track.track_id}: the pelvis or thorax is never detected; "
                             "the keypoints are too incomplete to lift")
        spine = np.linalg.norm(kp[:, 8] - kp[:, 0], axis=-1, keepdims=True)
        down = np.stack([np.zeros(len(span)), np.ones(len(span))], -1)  # image y grows downwards
        for hip, knee, ankle in ((1, 2, 3), (4, 5, 6)):
            if hip in never:
                side = -1.0 if hip == 1 else 1.0  # right hip on the image left of a facing person
                kp[:, hip] = kp[:, 0] + side * 0.25 * spine * np.array([1.0, 0.0])
            if knee in never:
                kp[:, knee] = kp[:, hip] + spine * down
            if ankle in never:
                kp[:, ankle] = kp[:, knee] + spine * down
        for j in never:
            if not np.isfinite(kp[:, j]).all():  # other joints: the thorax stands in
                kp[:, j] = kp[:, 8]
        report.stand_in_joints = [H36M_17.joint_names[j] for j in never]
    report.filled = ~given
    sc = np.where(given, sc, 0.0)
    return PersonTrack(track.track_id, span, kp, sc), report
