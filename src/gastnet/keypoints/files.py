"""Read 2D keypoint files of common detectors into Human3.6M-17 tracks (pixels).

Supported (detected from the file):

- COCO results JSON: ``[{"image_id", "keypoints": [x, y, v] * 17, "score"}, ...]`` (one entry per
  person and frame; frames are the sorted image ids), or a folder of per-frame JSON files.
- MMPose / RTMPose predictions: ``[{"frame_id", "instances": [{"keypoints", "keypoint_scores"}]}]``
  or ``{"meta_info": ..., "instance_info": [...]}``; 17 (COCO) or 26 (Halpe) joints.
- OpenPose JSON folders (``*_keypoints.json``, ``{"people": [{"pose_keypoints_2d"}]}``),
  BODY_25 or COCO-18 (told apart by the joint count).
- The GAST-Net authors' JSON: ``{"label", "label_index", "data": [{"frame_index", "skeleton":
  [{"pose": [x0, y0, x1, y1, ...], "score": [...]}]}]}`` in COCO-17 order.
- VideoPose3D's custom npz (``positions_2d = {video: {"custom": [(T, 17, 2)]}}`` with
  ``metadata["video_metadata"][video] = {"w", "h"}``), COCO layout.
- Plain ``.npy`` / ``.npz`` arrays (T, J, 2) or (T, J, 3) with scores, one person; the layout
  must be given (``layout=``) unless the joint count decides it (33 MediaPipe, 25 BODY_25,
  18 COCO-18, 26 Halpe).
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..fileio import load_npz, natural_key
from .layouts import LAYOUTS, to_h36m
from .tracks import PersonTrack, link_detections

__all__ = ["KeypointFile", "check_negative", "read_keypoints"]

_BY_JOINTS = {33: "mediapipe", 25: "openpose25", 18: "openpose18", 26: "halpe26"}


@dataclass
class KeypointFile:
    """Tracks read from a file, with what the file says about the video (size and focal length may be None)."""

    tracks: list[PersonTrack]
    num_frames: int
    image_size: tuple[int, int] | None
    format: str
    focal_length: float | None = None  # pixels
    notes: list[str] = field(default_factory=list)  # what the reader noticed (a truncated video, ...)


def check_negative(kp: np.ndarray, sc: np.ndarray) -> np.ndarray:
    """Scores with joints at negative pixels set to 0 (missing); ValueError if such a joint is confident."""
    negative = (kp < 0).any(-1)
    bad = negative & (kp < -1.0).any(-1) & (sc > 0.3)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"confident keypoint at negative pixel coordinates {kp[index].tolist()} (index {index}); "
                         "expected pixel coordinates inside the image (wrong units or layout?)")
    return np.where(negative, 0.0, sc)


def _person(values, layout: str, scores=None) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(values, dtype=np.float64)
    joints = LAYOUTS[layout]
    if scores is None:
        if arr.size != joints * 3 and arr.size != joints * 2:
            raise ValueError(f"expected {joints} keypoints of the {layout} layout, got {arr.size} numbers")
        arr = arr.reshape(joints, -1)
        kp, sc = arr[:, :2], (arr[:, 2] if arr.shape[1] == 3 else np.ones(joints))
    else:
        kp, sc = arr.reshape(joints, 2), np.asarray(scores, dtype=np.float64).reshape(joints)
    if not np.isfinite(kp).all():
        raise ValueError("keypoints contain NaN or infinite values")
    return to_h36m(kp, check_negative(kp, np.clip(sc, 0.0, 1.0)), layout)


def _layout_for(count: int, given: str | None) -> str:
    if given:
        if LAYOUTS.get(given) != count:
            raise ValueError(f"layout {given!r} has {LAYOUTS.get(given)} joints, the file has {count}")
        return given
    if count in _BY_JOINTS:
        return _BY_JOINTS[count]
    if count == 17:
        return "coco"
    raise ValueError(f"no known layout has {count} joints; expected one of {sorted(set(LAYOUTS.values()))}")


def _coco_result(entry: dict, layout: str | None) -> tuple[np.ndarray, np.ndarray]:
    """One COCO results entry (``{"keypoints": [x, y, v] * J, ...}``) in Human3.6M-17."""
    return _person(entry["keypoints"], _layout_for(len(entry["keypoints"]) // 3, layout))


def _frames_to_file(frames: list[list], fmt: str, size=None) -> KeypointFile:
    tracks = link_detections(frames)
    if not tracks:
        raise ValueError(f"the {fmt} file holds no people")
    return KeypointFile(tracks, len(frames), size, fmt)


def _no_negative_frames(path: Path, ids: list, name: str) -> None:
    """ValueError unless every frame number is an integer of at least 0 (a negative one would become a phantom frame)."""
    try:
        numbers = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValueError(f"{path}: every {name!r} must be an integer frame number") from None
    if numbers and min(numbers) < 0:
        raise ValueError(f"{path}: negative {name} {min(numbers)}; expected frame numbers of 0 or more")


def _read_json(path: Path, layout: str | None) -> KeypointFile:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if isinstance(data, dict) and "data" in data and "label" in data:  # the GAST-Net authors' layout
        return _read_gastnet_json(path, data, layout)
    if isinstance(data, dict) and "instance_info" in data:
        data = data["instance_info"]
    if isinstance(data, dict) and "people" in data:
        return _read_openpose([data], layout, "openpose-json")
    if isinstance(data, list) and data and isinstance(data[0], dict) and "instances" in data[0]:  # MMPose
        ids = [entry.get("frame_id", 0) for entry in data]
        _no_negative_frames(path, ids, "frame_id")
        frames = []
        for entry in sorted(data, key=lambda d: d.get("frame_id", 0)):
            people = []
            for inst in entry["instances"]:
                kp = np.asarray(inst["keypoints"], dtype=np.float64)
                people.append(_person(kp, _layout_for(len(kp), layout), inst.get("keypoint_scores")))
            frames.append(people)
        return _frames_to_file(frames, "mmpose")
    if isinstance(data, list) and data and isinstance(data[0], dict) and "keypoints" in data[0]:  # COCO results
        _no_negative_frames(path, [d.get("image_id") for d in data], "image_id")
        ids = sorted({d["image_id"] for d in data})
        index = {image_id: i for i, image_id in enumerate(ids)}
        frames = [[] for _ in ids]
        for d in data:
            frames[index[d["image_id"]]].append(_coco_result(d, layout))
        return _frames_to_file(frames, "coco-results")
    raise ValueError(f"{path}: not a keypoint layout gastnet knows (COCO results, MMPose, OpenPose, GAST-Net JSON)")


def _read_gastnet_json(path: Path, data: dict, layout: str | None) -> KeypointFile:
    """The GAST-Net authors' JSON: their writer numbers frames from 1 (``frame_index = i + 1``) and
    their reader subtracts 1; a file that uses frame 0 is read as numbered from 0."""
    entries = data["data"]
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list under 'data', got {type(entries).__name__}")
    if not entries:
        raise ValueError(f"{path}: the file holds no frames")
    _no_negative_frames(path, [e.get("frame_index") if isinstance(e, dict) else None for e in entries], "frame_index")
    indices = [int(entry["frame_index"]) for entry in entries]
    first = 0 if min(indices) == 0 else 1
    n = max(indices) - first + 1
    if n > 100 * len(entries) + 10_000:  # a few gaps are normal; this many empty frames is a broken file
        raise ValueError(f"{path}: frame_index goes up to {max(indices)} but the file holds only {len(entries)} "
                         "frames; expected frame numbers close to the frames given")
    frames: list[list] = [[] for _ in range(n)]
    for index, entry in zip(indices, entries):
        for person in entry.get("skeleton", []):
            frames[index - first].append(_person(person["pose"], layout or "coco", person.get("score")))
    return _frames_to_file(frames, "gastnet-json")


def _read_openpose(pages: list[dict], layout: str | None, fmt: str) -> KeypointFile:
    frames = []
    for page in pages:
        people = []
        for person in page.get("people", []):
            values = person.get("pose_keypoints_2d", [])
            if len(values) == 0:
                continue
            people.append(_person(values, _layout_for(len(values) // 3, layout)))
        frames.append(people)
    return _frames_to_file(frames, fmt)


def _read_folder(path: Path, layout: str | None) -> KeypointFile:
    files = sorted(path.glob("*.json"), key=natural_key)  # frame_2 before frame_10
    if not files:
        raise ValueError(f"no JSON files in folder {path}")
    pages = []
    for f in files:
        try:
            pages.append(json.loads(f.read_text()))
        except json.JSONDecodeError as err:
            raise ValueError(f"{f}: not valid JSON ({err})") from None
    if all(isinstance(p, dict) and "people" in p for p in pages):
        return _read_openpose(pages, layout, "openpose-json")
    if all(isinstance(p, list) for p in pages):  # COCO results, one file per frame
        frames = [[_coco_result(d, layout) for d in p] for p in pages]
        return _frames_to_file(frames, "coco-results")
    raise ValueError(f"{path}: expected a folder of OpenPose or per-frame COCO JSON files")


def _read_array(path: Path, layout: str | None) -> KeypointFile:
    size = None
    if path.suffix.lower() == ".npz":
        try:
            data = load_npz(path)  # VideoPose3D's pickled dicts, read without running code
        except pickle.UnpicklingError as err:
            raise ValueError(f"{path}: {err}") from None
        except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(f"{path}: a damaged npz archive ({detail})") from None
        if "positions_2d" in data:  # VideoPose3D custom
            try:
                positions = data["positions_2d"].item()
                meta = data["metadata"].item() if "metadata" in data else {}
                video = next(iter(positions))
                arr = np.asarray(positions[video]["custom"][0])
                info = meta.get("video_metadata", {}).get(video)
                size = (int(info["w"]), int(info["h"])) if info else None
            except (AttributeError, KeyError, IndexError, TypeError, ValueError, StopIteration):
                raise ValueError(f"{path}: 'positions_2d' is not in VideoPose3D's layout; expected "
                                 "{video: {'custom': [array (T, 17, 2)]}}") from None
            layout = layout or meta.get("layout_name", "coco")
        else:
            if not data:
                raise ValueError(f"{path}: the npz archive holds no arrays")
            key = "keypoints" if "keypoints" in data else next(iter(data))
            arr = np.asarray(data[key])
            if "image_size" in data:
                size = tuple(int(v) for v in data["image_size"])
    else:
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, EOFError, ValueError) as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(f"{path}: not a readable .npy array ({detail}); expected an array saved by numpy.save") from None
    if arr.ndim != 3 or arr.shape[-1] not in (2, 3) or arr.shape[0] == 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{path}: expected a numeric array (T, J, 2) or (T, J, 3) with scores, got "
                         f"{arr.dtype} of shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{path}: keypoints contain NaN or infinite values")
    name = _layout_for(arr.shape[1], layout) if layout or arr.shape[1] != 17 else None
    if name is None:
        raise ValueError(f"{path}: 17 joints could be COCO or Human3.6M order; say which with layout='coco' or 'h36m'")
    scores = np.clip(arr[..., 2], 0, 1) if arr.shape[-1] == 3 else np.ones(arr.shape[:-1])
    try:
        scores = check_negative(arr[..., :2], scores)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    kp, sc = to_h36m(arr[..., :2], scores, name)
    track = PersonTrack(0, np.arange(len(kp)), kp, np.clip(sc, 0, 1))
    return KeypointFile([track], len(kp), size, f"array ({name})")


def read_keypoints(path: str | os.PathLike[str], layout: str | None = None) -> KeypointFile:
    """Read a keypoint file or folder (see the module docstring) into Human3.6M-17 tracks.

    Raises ValueError naming the problem: unknown format, wrong joint count, NaN, confident
    negative coordinates, no people. Joints at negative coordinates with low confidence (how
    several tools mark missing joints) are treated as missing.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"keypoint input {path} does not exist")
    if path.is_dir():
        return _read_folder(path, layout)
    if path.suffix.lower() == ".json":
        return _read_json(path, layout)
    if path.suffix.lower() in (".npy", ".npz"):
        return _read_array(path, layout)
    raise ValueError(f"{path}: unknown keypoint file type {path.suffix!r}; expected .json, .npy, .npz or a folder")
