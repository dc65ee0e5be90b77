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

Safe to point at any file: files are loaded by :mod:`gastnet.safe_load` (within its limits,
running nothing), what is built from them stays proportional to the file, and a file that is not
what it seems is one ValueError line naming it.
"""

from __future__ import annotations

import os
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from ..fileio import natural_key
from ..safe_load import load_npy, load_npz, read_json
from .checks import MAX_IMAGE_SIDE, OUTSIDE_TOLERANCE, check_image_size
from .layouts import LAYOUTS, to_h36m
from .tracks import PersonTrack, link_detections

__all__ = ["KeypointFile", "check_negative", "read_keypoints"]

_BY_JOINTS = {33: "mediapipe", 25: "openpose25", 18: "openpose18", 26: "halpe26"}
# A confident joint farther left of or above the image than this is beyond the tolerance of even
# the largest image gastnet lifts (keypoints.checks): not pixels.
_NOT_PIXELS = OUTSIDE_TOLERANCE * MAX_IMAGE_SIDE
# What a malformed document makes the readers raise (a key missing, a value of the wrong type).
_STRUCTURE_ERRORS = (KeyError, TypeError, IndexError, AttributeError, OverflowError)
_COCO_ENTRY = "{'image_id': frame number, 'keypoints': [x, y, v] * joints}"
_MMPOSE_FRAME = "{'frame_id': frame number, 'instances': [{'keypoints': [[x, y]] * joints, 'keypoint_scores'}]}"
_MMPOSE_INSTANCE = "{'keypoints': [[x, y]] * joints, 'keypoint_scores': [score] * joints}"
_GASTNET_FRAME = "{'frame_index': frame number, 'skeleton': [{'pose': [x0, y0, x1, y1, ...], 'score': [...]}]}"
_GASTNET_PERSON = "{'pose': [x0, y0, x1, y1, ...], 'score': [score] * joints}"


@dataclass
class KeypointFile:
    """Tracks read from a file, with what the file says about the video (size and focal length may be None)."""

    tracks: list[PersonTrack]
    num_frames: int
    image_size: tuple[int, int] | None
    format: str
    focal_length: float | None = None  # pixels
    notes: list[str] = field(default_factory=list)  # what the reader noticed (a truncated video, ...)
    timestamps: np.ndarray | None = None  # (num_frames,) seconds of each frame, from a video's container; None if unknown


def check_negative(kp: np.ndarray, sc: np.ndarray, where: str | None = None) -> np.ndarray:
    """Scores with the joints at negative coordinates and a low score (0.3 or less) set to 0 (missing).

    Several tools mark a missing joint by negative coordinates. A confident joint a little left of
    or above the image is a real position (detectors guess cut-off limbs there) and is kept for
    :func:`~gastnet.keypoints.checks.check_keypoints_in_image` to judge against the image size.
    ValueError if a confident joint lies farther out than even the largest image admits (not
    pixels), naming its frame and joint: frame t of keypoints (T, J, 2), else ``where``.
    """
    bad = (kp < -_NOT_PIXELS).any(-1) & (sc > 0.3)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        frame = f"frame {index[0]}" if len(index) > 1 else where
        place = f"{frame}, joint {index[-1]}" if frame else f"joint {index[-1]}"
        x, y = (float(v) for v in kp[index])
        raise ValueError(f"confident keypoint at negative pixel coordinates ({x:.6g}, {y:.6g}) in {place}; expected "
                         f"at most {_NOT_PIXELS:g} px left of or above the image ({OUTSIDE_TOLERANCE:.0%} of the "
                         f"largest image, {MAX_IMAGE_SIDE} px; wrong units or layout?)")
    return np.where((kp < 0).any(-1) & (sc <= 0.3), 0.0, sc)


def _preview(value: object) -> str:
    """A short one-line description of a value read from a file, for messages."""
    return f"{type(value).__name__} " + " ".join(reprlib.repr(value).split())


def _at(where: str, message: str) -> str:
    """``message`` after ``where`` (a file or frame) if there is one."""
    return f"{where}: {message}" if where else message


def _numbers(values: object, what: str) -> np.ndarray:
    """``values`` (a list of numbers, flat or nested) as float64; ValueError saying what was found otherwise."""
    try:
        arr = np.asarray(values)
        if arr.dtype.kind == "O":  # integers beyond 64 bits, or things that are not numbers
            arr = arr.astype(np.float64)
    except OverflowError:
        raise ValueError(f"{what}: expected numbers, found one too large for a float in {_preview(values)}") from None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "iuf":
        raise ValueError(f"{what}: expected a list of numbers, found {_preview(values)}")
    return arr.astype(np.float64)


def _person(values: object, layout: str, scores: object = None, where: str = "") -> tuple[np.ndarray, np.ndarray]:
    """One person, ``[x, y, score] * J`` or ``[x, y] * J`` (with ``scores`` if given), in Human3.6M-17;
    ``where`` (the frame) starts the messages."""
    joints = LAYOUTS[layout]
    arr = _numbers(values, _at(where, "keypoints"))
    sizes = (joints * 2,) if scores is not None else (joints * 2, joints * 3)
    if arr.size not in sizes:
        raise ValueError(_at(where, f"expected {joints} keypoints of the {layout} layout "
                                    f"({' or '.join(map(str, sizes))} numbers), found {arr.size} numbers"))
    arr = arr.reshape(joints, -1)
    sc = arr[:, 2] if arr.shape[1] == 3 else np.ones(joints)
    if scores is not None:
        sc = _numbers(scores, _at(where, "keypoint scores")).ravel()
        if sc.size != joints:
            raise ValueError(_at(where, f"expected {joints} keypoint scores, found {sc.size}"))
    kp = arr[:, :2]
    if not (np.isfinite(kp).all() and np.isfinite(sc).all()):
        raise ValueError(_at(where, "keypoints contain NaN or infinite values"))
    return to_h36m(kp, check_negative(kp, np.clip(sc, 0.0, 1.0), where), layout)


def _flat_person(values: object, layout: str | None, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One person given as ``[x, y, v] * J`` (COCO results, OpenPose), the layout told by J unless given."""
    arr = _numbers(values, _at(where, "keypoints"))
    return _person(arr, _layout_for(arr.size // 3, layout), where=where)


def _layout_for(count: int, given: str | None) -> str:
    """The layout of ``count`` joints: ``given`` if it has that many, else the one the count decides."""
    if given:
        if LAYOUTS.get(given) != count:
            raise ValueError(f"layout {given!r} has {LAYOUTS.get(given)} joints, the file has {count}")
        return given
    if count in _BY_JOINTS:
        return _BY_JOINTS[count]
    if count == 17:
        return "coco"
    raise ValueError(f"no known layout has {count} joints; expected one of {sorted(set(LAYOUTS.values()))}")


def _require_key(where: object, items: object, key: str, expected: str) -> None:
    """ValueError unless ``items`` is a list of dicts that all have ``key``, naming the first that does not."""
    if not isinstance(items, list):
        raise ValueError(f"{where}: expected a list of {expected}, found {_preview(items)}")
    for i, item in enumerate(items):
        if not (isinstance(item, dict) and key in item):
            raise ValueError(f"{where}: item {i} has no {key!r}; expected {expected}, found {_preview(item)}")


def _frames_to_file(frames: list[list], fmt: str) -> KeypointFile:
    """Per-frame people linked into tracks; ValueError if there are none."""
    tracks = link_detections(frames)
    if not tracks:
        raise ValueError(f"the {fmt} file holds no people")
    return KeypointFile(tracks, len(frames), None, fmt)


def _whole_number(value: object) -> int | None:
    """A frame number as an int: a JSON integer, a float with no fraction or a string of digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
        return int(value)
    return None


def _frame_numbers(path: Path, ids: list, name: str) -> list[int]:
    """``ids`` as ints; ValueError unless every one is a whole number of at least 0 (a negative one
    would become a phantom frame) and they are all numbers or all strings."""
    whole = [_whole_number(i) for i in ids]
    if None in whole:
        found = ids[whole.index(None)]
        raise ValueError(f"{path}: every {name!r} must be an integer frame number, found {_preview(found)}")
    if len({isinstance(i, str) for i in ids}) > 1:
        text, number = (next(i for i in ids if isinstance(i, str) == kind) for kind in (True, False))
        raise ValueError(f"{path}: {name!r} mixes strings and numbers ({reprlib.repr(text)} and "
                         f"{reprlib.repr(number)}); expected one kind")
    numbers = [i for i in whole if i is not None]  # all of them
    if numbers and min(numbers) < 0:
        raise ValueError(f"{path}: negative {name} {min(numbers)}; expected frame numbers of 0 or more")
    return numbers


def _open_json(path: Path) -> tuple[str, Callable[[str | None], KeypointFile]]:
    """The format of a JSON keypoint file (told by its content) and its reader."""
    data = read_json(path)
    if isinstance(data, dict) and "data" in data and "label" in data:  # the GAST-Net authors' layout
        return "gastnet-json", partial(_read_gastnet_json, path, data)
    if isinstance(data, dict) and "instance_info" in data:
        data = data["instance_info"]
    if isinstance(data, dict) and "people" in data:
        return "openpose-json", partial(_read_openpose, [data], fmt="openpose-json")
    first = data[0] if isinstance(data, list) and data else None
    if isinstance(first, dict) and "instances" in first:
        return "mmpose", partial(_read_mmpose, path, data)
    if isinstance(first, dict) and "keypoints" in first:
        return "coco-results", partial(_read_coco_results, path, data)
    raise ValueError(f"{path}: not a keypoint layout gastnet knows (COCO results, MMPose, OpenPose, GAST-Net JSON)")


def _read_mmpose(path: Path, data: list, layout: str | None) -> KeypointFile:
    """MMPose predictions, frames in the order of their frame_id."""
    _require_key(path, data, "instances", _MMPOSE_FRAME)
    numbers = _frame_numbers(path, [entry.get("frame_id", 0) for entry in data], "frame_id")
    frames = []
    for i in sorted(range(len(data)), key=numbers.__getitem__):
        where = f"frame_id {numbers[i]}"
        _require_key(f"{path}: {where}", data[i]["instances"], "keypoints", _MMPOSE_INSTANCE)
        frames.append([_mmpose_person(inst, layout, where) for inst in data[i]["instances"]])
    return _frames_to_file(frames, "mmpose")


def _mmpose_person(inst: dict, layout: str | None, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One MMPose instance (``[[x, y]] * J`` and its scores), the layout told by J unless given."""
    kp = _numbers(inst["keypoints"], _at(where, "keypoints"))
    return _person(kp, _layout_for(kp.size // 2, layout), inst.get("keypoint_scores"), where)


def _read_coco_results(path: Path, data: list, layout: str | None) -> KeypointFile:
    """COCO results: one entry per person and frame, the frames being the sorted image ids."""
    _require_key(path, data, "keypoints", _COCO_ENTRY)
    numbers = _frame_numbers(path, [d.get("image_id") for d in data], "image_id")
    index = {number: i for i, number in enumerate(sorted(set(numbers)))}
    frames: list[list] = [[] for _ in index]
    for number, d in zip(numbers, data):
        frames[index[number]].append(_flat_person(d["keypoints"], layout, f"image_id {number}"))
    return _frames_to_file(frames, "coco-results")


def _read_gastnet_json(path: Path, data: dict, layout: str | None) -> KeypointFile:
    """The GAST-Net authors' JSON: their writer numbers frames from 1 (``frame_index = i + 1``) and
    their reader subtracts 1; a file that uses frame 0 is read as numbered from 0.

    Frames without an entry are empty, but the frames spanned may exceed the entries only by
    4 x entries + 3000 (what a broken frame_index would otherwise cost in memory)."""
    entries = data["data"]
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list under 'data', got {type(entries).__name__}")
    if not entries:
        raise ValueError(f"{path}: the file holds no frames")
    _require_key(f"{path}: 'data'", entries, "frame_index", _GASTNET_FRAME)
    indices = _frame_numbers(path, [entry["frame_index"] for entry in entries], "frame_index")
    first = 0 if min(indices) == 0 else 1
    n = max(indices) - first + 1
    limit = 4 * len(entries) + 3000
    if n > limit:
        raise ValueError(f"{path}: frame_index goes up to {max(indices)} but the file holds only {len(entries)} "
                         f"frames; expected frame numbers spanning at most 4 x {len(entries)} + 3000 = {limit} "
                         "frames (gaps that long mean a broken file)")
    frames: list[list] = [[] for _ in range(n)]
    for index, entry in zip(indices, entries):
        where = f"frame_index {index}"
        skeleton = entry.get("skeleton", [])
        _require_key(f"{path}: {where}: 'skeleton'", skeleton, "pose", _GASTNET_PERSON)
        frames[index - first] += [_person(p["pose"], layout or "coco", p.get("score"), where) for p in skeleton]
    return _frames_to_file(frames, "gastnet-json")


def _read_openpose(pages: list[dict], layout: str | None, fmt: str) -> KeypointFile:
    """OpenPose pages, one per frame; people without keypoints are skipped."""
    frames = []
    for number, page in enumerate(pages):
        people = []
        for person in page.get("people", []):
            values = _numbers(person.get("pose_keypoints_2d", []), f"frame {number}: pose_keypoints_2d")
            if values.size:
                people.append(_flat_person(values, layout, f"frame {number}"))
        frames.append(people)
    return _frames_to_file(frames, fmt)


def _read_coco_pages(files: list[Path], pages: list[list], layout: str | None) -> KeypointFile:
    """A folder of per-frame COCO results files (each a list of entries), frames in file order."""
    frames = []
    for number, (f, page) in enumerate(zip(files, pages)):
        _require_key(f, page, "keypoints", _COCO_ENTRY)
        frames.append([_flat_person(d["keypoints"], layout, f"{f.name} (frame {number})") for d in page])
    return _frames_to_file(frames, "coco-results")


def _open_folder(path: Path) -> tuple[str, Callable[[str | None], KeypointFile]]:
    """The format of a folder of per-frame JSON files (told by their content) and its reader."""
    files = sorted((f for f in path.glob("*.json") if f.is_file()), key=natural_key)  # frame_2 before frame_10
    if not files:
        raise ValueError(f"no JSON files in folder {path}")
    pages = [read_json(f) for f in files]
    if all(isinstance(p, dict) and "people" in p for p in pages):
        return "openpose-json folder", partial(_read_openpose, pages, fmt="openpose-json")
    if all(isinstance(p, list) for p in pages):  # COCO results, one file per frame
        return "coco-results folder", partial(_read_coco_pages, files, pages)
    raise ValueError(f"{path}: expected a folder of OpenPose or per-frame COCO JSON files")


def _image_size(path: Path, value: object, name: str) -> tuple[int, int]:
    """An image size stored in a file as (width, height) ints; ValueError naming ``name`` otherwise."""
    arr = np.asarray(value)
    if arr.shape != (2,) or arr.dtype.kind not in "iuf":
        raise ValueError(f"{path}: {name} must be (width, height) in pixels, found {arr.dtype} of shape {arr.shape}")
    try:
        return check_image_size(arr)
    except ValueError as err:
        raise ValueError(f"{path}: {name}: {err}") from None


def _open_npz(path: Path) -> tuple[str, Callable[[str | None], KeypointFile]]:
    """The format of an npz (VideoPose3D's or plain arrays) and its reader."""
    data = load_npz(path)  # VideoPose3D's pickled dicts, read within limits without running code
    if "positions_2d" in data:
        return "VideoPose3D npz", partial(_read_videopose3d, path, data)
    if not data:
        raise ValueError(f"{path}: the npz archive holds no arrays")
    return "npz of arrays", partial(_read_npz_arrays, path, data)


def _read_npz_arrays(path: Path, data: dict, layout: str | None) -> KeypointFile:
    """A plain npz: the array ``keypoints`` (else the first) and an optional ``image_size``."""
    key = "keypoints" if "keypoints" in data else next(iter(data))
    size = _image_size(path, data["image_size"], "'image_size'") if "image_size" in data else None
    return _read_array(path, np.asarray(data[key]), layout, size)


def _read_videopose3d(path: Path, data: dict, layout: str | None) -> KeypointFile:
    """VideoPose3D's custom npz: the first video's keypoints, its size and layout from the metadata."""
    try:
        positions = data["positions_2d"].item()
        video = next(iter(positions))
        arr = np.asarray(positions[video]["custom"][0])
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, StopIteration):
        raise ValueError(f"{path}: 'positions_2d' is not in VideoPose3D's layout; expected "
                         "{video: {'custom': [array (T, 17, 2)]}}") from None
    meta = data["metadata"].item() if "metadata" in data else {}
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: 'metadata' must be a dict, found {_preview(meta)}")
    info = meta.get("video_metadata", {}).get(video)
    size = _image_size(path, (info["w"], info["h"]), f"video_metadata of {video!r}") if info else None
    return _read_array(path, arr, layout or _layout_name(path, meta), size)


def _layout_name(path: Path, meta: dict) -> str:
    """VideoPose3D metadata's ``layout_name`` (COCO if absent); ValueError unless it is a layout gastnet knows."""
    name = meta.get("layout_name", "coco")
    if not (isinstance(name, str) and name in LAYOUTS):
        raise ValueError(f"{path}: metadata 'layout_name' must be one of {sorted(LAYOUTS)}, found {_preview(name)}")
    return name


def _read_array(path: Path, arr: np.ndarray, layout: str | None, size: tuple[int, int] | None = None) -> KeypointFile:
    """One person's keypoints (T, J, 2) or (T, J, 3) with scores."""
    if arr.ndim != 3 or arr.shape[-1] not in (2, 3) or arr.shape[0] == 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{path}: expected a numeric array (T, J, 2) or (T, J, 3) with scores, got "
                         f"{arr.dtype} of shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{path}: keypoints contain NaN or infinite values")
    name = _layout_for(arr.shape[1], layout) if layout or arr.shape[1] != 17 else None
    if name is None:
        raise ValueError(f"{path}: 17 joints could be COCO or Human3.6M order; say which with layout='coco' or 'h36m'")
    scores = np.clip(arr[..., 2], 0, 1) if arr.shape[-1] == 3 else np.ones(arr.shape[:-1])
    kp, sc = to_h36m(arr[..., :2], check_negative(arr[..., :2], scores), name)
    track = PersonTrack(0, np.arange(len(kp)), kp, np.clip(sc, 0, 1))
    return KeypointFile([track], len(kp), size, f"array ({name})")


def _open(path: Path) -> tuple[str, Callable[[str | None], KeypointFile]]:
    """What ``path`` holds (the format, told by its name and content) and the reader of that format."""
    if path.is_dir():
        return _open_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _open_json(path)
    if suffix == ".npz":
        return _open_npz(path)
    if suffix == ".npy":
        return "npy array", partial(_read_array, path, load_npy(path))
    raise ValueError(f"{path}: unknown keypoint file type {path.suffix!r}; expected .json, .npy, .npz or a folder")


def read_keypoints(path: str | os.PathLike[str], layout: str | None = None) -> KeypointFile:
    """Read a keypoint file or folder (see the module docstring) into Human3.6M-17 tracks.

    Raises ValueError, one line naming the file, for anything it cannot read: unknown format, a
    document not in its format's structure (read as which format is said), wrong joint count,
    NaN, keypoints that are not pixels, no people. Joints at negative coordinates with a low score
    (how several tools mark missing joints) are treated as missing; confident ones are kept for
    the image-size check (:mod:`gastnet.keypoints.checks`).
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"keypoint input {path} does not exist")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"unknown keypoint layout {layout!r}; expected one of {sorted(LAYOUTS)}")
    fmt = "a keypoint folder" if path.is_dir() else f"a {path.suffix} file"  # until _open tells the format
    try:
        fmt, read = _open(path)
        return read(layout)
    except ValueError as err:
        message = " ".join(str(err).splitlines())
        raise ValueError(message if str(path) in message else f"{path}: {message}") from None
    except _STRUCTURE_ERRORS as err:
        detail = " ".join(str(err).splitlines()) or "no detail"
        raise ValueError(f"{path}: read as {fmt}, but it does not have that format's structure "
                         f"({type(err).__name__}: {detail})") from None
