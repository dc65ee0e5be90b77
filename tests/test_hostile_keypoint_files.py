"""Keypoint files from anywhere (issue 19): whatever a file holds, reading it gives a KeypointFile or
one ValueError line naming the file, and costs memory in proportion to the file.

The fuzz tests at the end call readers through :func:`outcome`, which asserts exactly that for any
call; another reader becomes a fuzz target by writing its files and passing the call to it.
"""

import contextlib
import copy
import json
import re
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gastnet.keypoints.files import KeypointFile, read_keypoints

MEMORY_CAP = 200 * 2**20  # bytes of Python and numpy memory one read may take at its peak


# --- The contract, for any reader: a result or one line, within the memory cap ---

@contextlib.contextmanager
def peak_memory_under(cap: int) -> Iterator[None]:
    """Fail unless the block's peak of traced memory (Python objects and numpy buffers, which numpy
    reports to tracemalloc) stays under ``cap`` bytes above what was held when it started."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    assert peak < cap, f"peak memory {peak:,} bytes, over the cap of {cap:,}"


def outcome(call: Callable[[], object], cap: int = MEMORY_CAP) -> object:
    """What ``call()`` returns, or the ValueError it raises, whose message must be one line; any other
    exception propagates (a traceback is a bug) and the call's peak memory must stay under ``cap``."""
    with peak_memory_under(cap):
        try:
            result = call()
        except ValueError as err:
            result = err
    if isinstance(result, ValueError):
        assert len(str(result).splitlines()) == 1 and str(result).strip(), f"not one line: {str(result)!r}"
    return result


def read_outcome(path: Path, layout: str | None = None) -> KeypointFile | ValueError:
    """``read_keypoints(path)`` under :func:`outcome`; a refusal must name the file."""
    result = outcome(lambda: read_keypoints(path, layout))
    assert isinstance(result, (KeypointFile, ValueError))
    if isinstance(result, ValueError):
        assert str(path) in str(result), f"the message does not name {path}: {result}"
    return result


def refusal(path: Path, layout: str | None = None) -> str:
    """The one-line message naming ``path`` that reading it must give."""
    result = read_outcome(path, layout)
    assert isinstance(result, ValueError), f"{path} was read: {result}"
    return str(result)


# --- Documents of every format ---

def pose(x: float = 100.0) -> np.ndarray:
    """A standing figure's COCO-17 keypoints (17, 2) in pixels, its left edge at ``x``."""
    k = np.arange(17)
    return np.stack([x + 3.0 * (k % 3), 50.0 + 10.0 * k], axis=1)


def coco_results(frames: int = 4, x: float = 100.0) -> list[dict]:
    """COCO results of one person walking right 2 px per frame."""
    xyv = np.concatenate([pose(x), np.full((17, 1), 0.9)], 1)
    return [{"image_id": f, "category_id": 1, "keypoints": (xyv + [2.0 * f, 0, 0]).ravel().tolist(), "score": 0.9}
            for f in range(frames)]


def gastnet_json(indices: list[int]) -> dict:
    """The GAST-Net authors' JSON of one person, an entry for each frame_index in ``indices``."""
    return {"label": "person", "label_index": 0, "data": [
        {"frame_index": i, "skeleton": [{"pose": (pose() + [2.0 * i, 0]).ravel().tolist(), "score": [0.9] * 17}]}
        for i in indices]}


def write_json(path: Path, doc: object) -> Path:
    """``doc`` written to ``path`` as JSON; ``path``."""
    path.write_text(json.dumps(doc))
    return path


# --- Malformed documents: one line naming the file, what was expected and what was found ---

def _replace_first_coordinate(doc: list[dict], value: object) -> list[dict]:
    doc[1]["keypoints"][0] = value
    return doc


def _without_keypoints(doc: list[dict]) -> list[dict]:
    del doc[2]["keypoints"]
    return doc


def _mixed_ids(doc: list[dict]) -> list[dict]:
    doc[1]["image_id"] = "1"
    return doc


MALFORMED_JSON = {
    "nested 200k deep": ("[" * 200_000 + "]" * 200_000, "not a JSON document gastnet can read"),
    "an integer of 10^400 as a coordinate": (_replace_first_coordinate(coco_results(), 10**400), "too large for a float"),
    "a dict as a coordinate": (_replace_first_coordinate(coco_results(), {"x": 1}), "expected a list of numbers, found"),
    "string and integer image_id": (_mixed_ids(coco_results()), r"'image_id' mixes strings and numbers \('1' and 0\)"),
    "an entry without keypoints": (_without_keypoints(coco_results()), "item 2 has no 'keypoints'; expected"),
}


@pytest.mark.parametrize("case", MALFORMED_JSON)
def test_malformed_coco_json_is_one_line_naming_the_file(tmp_path, case):
    doc, message = MALFORMED_JSON[case]
    path = tmp_path / "keypoints.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    assert re.search(message, refusal(path))


def _gastnet_entry(change: Callable[[dict], None]) -> dict:
    doc = gastnet_json([1, 2, 3])
    change(doc["data"][1])
    return doc


@pytest.mark.parametrize("change, message", [
    (lambda e: e.update(skeleton=e["skeleton"][0]), r"frame_index 2: 'skeleton': expected a list of \{'pose'.*found dict"),
    (lambda e: e["skeleton"][0].pop("pose"), r"frame_index 2: 'skeleton': item 0 has no 'pose'"),
    (lambda e: e["skeleton"][0]["pose"].pop(), r"frame_index 2: expected 17 keypoints of the coco layout \(34 numbers\), "
                                               "found 33 numbers"),
    (lambda e: e.pop("frame_index"), r"'data': item 1 has no 'frame_index'"),
])
def test_a_malformed_gastnet_json_names_the_file_frame_and_what_was_expected(tmp_path, change, message):
    path = write_json(tmp_path / "theirs.json", _gastnet_entry(change))
    assert re.search(message, refusal(path))


def test_a_folder_reads_each_page_within_the_limits(tmp_path):
    page = {"version": 1.3, "people": [{"pose_keypoints_2d": np.zeros((25, 3)).ravel().tolist()}]}
    write_json(tmp_path / "clip_000000000000_keypoints.json", page)
    (tmp_path / "clip_000000000001_keypoints.json").write_text("[" * 200_000 + "]" * 200_000)
    assert re.search(r"clip_000000000001_keypoints\.json: not a JSON document gastnet can read", refusal(tmp_path))


def test_a_document_out_of_its_formats_structure_is_one_line_naming_the_format(tmp_path):
    path = write_json(tmp_path / "page.json", {"version": 1.3, "people": {"0": [1, 2, 3]}})  # people: a dict
    assert re.search(r"page\.json: read as openpose-json, but it does not have that format's structure "
                     r"\(AttributeError: ", refusal(path))
    positions = {"clip": {"custom": [np.repeat(pose()[None], 6, 0)]}}
    np.savez(tmp_path / "vp3d.npz", positions_2d=positions, metadata={"video_metadata": ["clip", 640, 480]})
    assert re.search(r"vp3d\.npz: read as VideoPose3D npz, but it does not have that format's structure",
                     refusal(tmp_path / "vp3d.npz"))


@pytest.mark.parametrize("size, message", [
    (np.array(640), r"'image_size' must be \(width, height\) in pixels, found int64 of shape \(\)"),
    (np.array([640, 480, 3]), r"'image_size' must be \(width, height\) in pixels, found int64 of shape \(3,\)"),
    (np.array(["640", "480"]), r"'image_size' must be \(width, height\) in pixels, found <U3 of shape \(2,\)"),
    (np.array([-640, 480]), r"'image_size': image size must be whole pixels, 16 to 100000 on each side; got -640 x 480"),
    (np.array([0, 0]), r"got 0 x 0"),
])
def test_an_npz_image_size_must_be_two_positive_whole_numbers(tmp_path, size, message):
    np.savez(tmp_path / "k.npz", keypoints=np.repeat(pose()[None], 6, 0), image_size=size)
    assert re.search(message, refusal(tmp_path / "k.npz", layout="coco"))


@pytest.mark.parametrize("name, found", [(["coco"], "list ['coco']"), ("body_25", "str 'body_25'"), (17, "int 17")])
def test_videopose3d_layout_name_must_be_a_known_layout(tmp_path, name, found):
    positions = {"clip": {"custom": [np.repeat(pose()[None], 6, 0)]}}
    np.savez(tmp_path / "vp3d.npz", positions_2d=positions,
             metadata={"layout_name": name, "video_metadata": {"clip": {"w": 640, "h": 480}}})
    message = refusal(tmp_path / "vp3d.npz")
    assert "metadata 'layout_name' must be one of ['coco', 'h36m'," in message and message.endswith(f"found {found}")


# --- The GAST-Net authors' JSON: frames spanned stay proportional to the frames given ---

def test_a_gastnet_json_spanning_far_more_frames_than_it_holds_is_refused_before_padding(tmp_path):
    # 100 entries whose last frame_index is 15,000: what a memory bomb looks like, at a size that runs fast
    # (the 7.8 MB file ended at frame 1,009,100 and was padded to a million frames: 1.2 GB)
    path = write_json(tmp_path / "sparse.json", gastnet_json(list(range(1, 100)) + [15_000]))
    assert re.search(r"sparse\.json: frame_index goes up to 15000 but the file holds only 100 frames; expected frame "
                     r"numbers spanning at most 4 x 100 \+ 3000 = 3400 frames", refusal(path))


def test_gaps_up_to_the_bound_are_empty_frames(tmp_path):
    data = read_outcome(write_json(tmp_path / "gaps.json", gastnet_json([1, 3008])))  # 3008 frames = 4 x 2 + 3000
    assert isinstance(data, KeypointFile) and data.num_frames == 3008
    assert re.search(r"gaps\.json: frame_index goes up to 3009 but the file holds only 2 frames; expected frame "
                     r"numbers spanning at most 4 x 2 \+ 3000 = 3008 frames",
                     refusal(write_json(tmp_path / "gaps.json", gastnet_json([1, 3009]))))


# --- Negative coordinates: missing when unsure, a real position when confident, refused when not pixels ---

def _with_joint(doc: list[dict], frame: int, joint: int, xyv: list[float]) -> list[dict]:
    doc[frame]["keypoints"][3 * joint: 3 * joint + 3] = xyv
    return doc


@pytest.mark.parametrize("xy", [(-5.0, 300.0), (300.0, -5.0), (645.0, 300.0)], ids=["left", "above", "right"])
def test_a_confident_joint_just_outside_the_image_is_kept_on_every_side(tmp_path, xy):
    path = write_json(tmp_path / "k.json", _with_joint(coco_results(6), 2, 9, [*xy, 0.9]))  # COCO joint 9: left wrist
    track = read_outcome(path).tracks[0]
    h36m_wrist = 13  # the left wrist in Human3.6M-17
    assert track.scores[2, h36m_wrist] == pytest.approx(0.9)
    np.testing.assert_allclose(track.keypoints[2, h36m_wrist], xy)


def test_an_unsure_joint_at_negative_coordinates_is_missing(tmp_path):
    path = write_json(tmp_path / "k.json", _with_joint(coco_results(6), 2, 9, [-1.0, -1.0, 0.3]))
    assert read_outcome(path).tracks[0].scores[2, 13] == 0


def test_a_file_with_a_joint_a_little_left_of_the_image_lifts(tmp_path):
    import gastnet
    from gastnet.examples import synthetic_walk_2d

    walk = synthetic_walk_2d(30, (640, 480))
    walk[:, :, 0] += 5.0 - walk[:, :, 0].min()  # the walk's leftmost joints 5 px right of the left border ...
    walk[:, 13, 0] = -5.0  # ... and a wrist 5 px left of it: within the image-size check's tolerance
    np.save(tmp_path / "walk.npy", walk)
    result = gastnet.lift(tmp_path / "walk.npy", layout="h36m", image_size=(640, 480), model="gastnet_rf9")
    assert np.isfinite(result.people[0].poses_world).all()


def test_a_joint_that_is_not_pixels_is_refused_naming_its_frame_and_joint(tmp_path):
    path = write_json(tmp_path / "k.json", _with_joint(coco_results(6), 4, 9, [-1e6, 300.0, 0.9]))
    assert re.search(r"k\.json: confident keypoint at negative pixel coordinates \(-1e\+06, 300\) in "
                     r"image_id 4, joint 9; expected at most 50000 px left of or above the image", refusal(path))


# --- Fuzzing: documents of every format, mutated; arrays of any shape and dtype ---

DEEP = "\x00deep:{}\x00"  # a placeholder written out as that many nested lists (json.dumps cannot nest so deep)
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400),
                    st.sampled_from([-1e6, -1, 0, 1e300, 2**63, 10**400]))
JUNK = st.one_of(NUMBERS, st.none(), st.booleans(), st.text(max_size=3), st.just({}), st.just([]),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
                 st.sampled_from([DEEP.format(50), DEEP.format(200_000)]))
# Joint counts of each format (mostly those it holds, now and then one it cannot)
JOINTS = {"coco": [17, 17, 26, 5], "mmpose": [17, 17, 26, 5], "gastnet": [17, 17, 17, 5], "openpose": [25, 25, 18, 17],
          "coco folder": [17, 17, 26, 5], "openpose folder": [25, 25, 18, 17], "array": [17, 33, 33, 26, 25, 18, 5]}


def _xyv(rng: np.random.Generator, joints: int) -> np.ndarray:
    """Keypoints (joints, 3) in and a little outside a 640 x 480 image, with scores."""
    return np.stack([rng.uniform(-20, 660, joints), rng.uniform(-20, 500, joints), rng.uniform(0, 1, joints)], 1)


def _base_document(fmt: str, rng: np.random.Generator, frames: int, people: int, joints: int) -> object:
    """A well-formed document of ``fmt`` (before mutation)."""
    persons = [[_xyv(rng, joints) for _ in range(people)] for _ in range(frames)]
    if fmt == "coco":
        return [{"image_id": f, "keypoints": p.ravel().tolist(), "score": 0.9} for f, ps in enumerate(persons) for p in ps]
    if fmt == "mmpose":
        frames_ = [{"frame_id": f, "instances": [{"keypoints": p[:, :2].tolist(), "keypoint_scores": p[:, 2].tolist()}
                                                 for p in ps]} for f, ps in enumerate(persons)]
        return {"meta_info": {}, "instance_info": frames_} if rng.random() < 0.5 else frames_
    if fmt == "gastnet":
        return {"label": "x", "label_index": 0, "data": [
            {"frame_index": f + 1, "skeleton": [{"pose": p[:, :2].ravel().tolist(), "score": p[:, 2].tolist()} for p in ps]}
            for f, ps in enumerate(persons)]}
    pages = [{"version": 1.3, "people": [{"pose_keypoints_2d": p.ravel().tolist()} for p in ps]} for ps in persons]
    if fmt == "openpose":
        return pages[0]
    if fmt == "coco folder":
        return [[{"image_id": f, "keypoints": p.ravel().tolist()} for p in ps] for f, ps in enumerate(persons)]
    return pages  # an OpenPose folder


def _places(doc: object, structural: bool) -> list[tuple[object, object]]:
    """(container, key) of the values inside ``doc``: all of them, or (``structural``) those that are
    containers or dict entries rather than coordinates in a list."""
    places, stack = [], [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if not structural or isinstance(node, dict) or isinstance(value, (dict, list)):
                places.append((node, key))
            stack.append(value)
    return places


def _mutate(draw: Callable, doc: object) -> object:
    """``doc`` with one value replaced (by junk, a string of it, a number out of range, deep nesting),
    removed or repeated; the whole document is replaced now and then."""
    places = _places(doc, draw(st.booleans()))
    if not places or draw(st.sampled_from([False] * 19 + [True])):
        return draw(JUNK)
    container, key = places[draw(st.integers(0, len(places) - 1))]
    operation = draw(st.sampled_from(["junk", "string", "number", "remove", "repeat"]))
    if operation == "remove":
        del container[key]
    elif operation == "repeat" and isinstance(container, list):
        container.insert(key, copy.deepcopy(container[key]))
    elif operation == "string":
        container[key] = str(container[key])
    else:
        container[key] = draw(NUMBERS if operation == "number" else JUNK)
    return doc


def _json_text(doc: object) -> str:
    text = json.dumps(doc)
    for depth in (50, 200_000):
        text = text.replace(json.dumps(DEEP.format(depth)), "[" * depth + "]" * depth)
    return text


@st.composite
def keypoint_documents(draw: Callable) -> tuple[str, object]:
    """A format and a document of it, mutated 0 to 3 times."""
    fmt = draw(st.sampled_from(["coco", "mmpose", "gastnet", "openpose", "coco folder", "openpose folder"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    people = draw(st.sampled_from([1, 1, 2, 0]))
    doc = _base_document(fmt, rng, draw(st.integers(1, 6)), people, draw(st.sampled_from(JOINTS[fmt])))
    for _ in range(draw(st.integers(0, 3))):
        doc = _mutate(draw, doc)
    return fmt, doc


def _write_document(folder: Path, fmt: str, doc: object) -> Path:
    """``doc`` as a file (or, for the folder formats, one file per page) in ``folder``; the path to read."""
    if not fmt.endswith("folder"):
        (folder / "keypoints.json").write_text(_json_text(doc))
        return folder / "keypoints.json"
    pages = doc if isinstance(doc, list) else [doc]
    for i, page in enumerate(pages):
        (folder / f"clip_{i:012d}_keypoints.json").write_text(_json_text(page))
    return folder


FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
@settings(FUZZ, max_examples=1000)
@given(keypoint_documents(), st.sampled_from([None] * 6 + ["coco", "h36m", "openpose25"]))
def test_fuzzed_json_documents_read_or_give_one_line(document, layout):
    fmt, doc = document
    with tempfile.TemporaryDirectory() as folder:
        read_outcome(_write_document(Path(folder), fmt, doc), layout)


ARRAY_DTYPES = ["f8", "f8", "f4", "f4", "f2", "i4", "i8", "u1", "?", "c8", "U3", "O"]


@st.composite
def keypoint_arrays(draw: Callable) -> np.ndarray:
    """An array of keypoints, mostly of a plausible shape (T, J, 2|3), else of any small shape, of
    any dtype, with NaN, infinite, negative and huge values sprinkled in now and then."""
    if draw(st.sampled_from([True, True, True, False])):
        shape = (draw(st.integers(1, 6)), draw(st.sampled_from(JOINTS["array"])), draw(st.sampled_from([2, 3])))
    else:
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.uniform(-20, 660, size=shape)
    specials = np.array([np.nan, np.inf, -np.inf, -1e6, 1e300, -1.0, 0.5])
    mask = rng.random(shape) < draw(st.sampled_from([0.0, 0.0, 0.01, 0.2]))
    values[mask] = rng.choice(specials, size=int(mask.sum()))
    with np.errstate(all="ignore"):
        return values.astype(draw(st.sampled_from(ARRAY_DTYPES)))


def _object(value: object) -> np.ndarray:
    """``value`` in a 0-d object array, as VideoPose3D saves its dicts."""
    arr = np.empty((), dtype=object)
    arr[()] = value
    return arr


def _write_arrays(folder: Path, kind: str, arr: np.ndarray, draw: Callable) -> Path:
    """``arr`` as a .npy, a plain .npz with an image size or a VideoPose3D .npz with metadata, the
    image size and metadata well-formed or not."""
    if kind == "npy":
        np.save(folder / "k.npy", arr)
        return folder / "k.npy"
    if kind == "npz":
        size = [640, 480] if draw(st.booleans()) else draw(st.one_of(JUNK, st.lists(NUMBERS, max_size=3)))
        np.savez(folder / "k.npz", keypoints=arr, image_size=np.asarray(size))
        return folder / "k.npz"
    positions = {"clip": {"custom": [arr]}}
    meta = {"layout_name": draw(st.sampled_from(["coco", "h36m", "mediapipe"])),
            "video_metadata": {"clip": {"w": 640, "h": 480}}}
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        meta = _mutate(draw, meta)
    np.savez(folder / "vp3d.npz", positions_2d=_object(positions), metadata=_object(meta))
    return folder / "vp3d.npz"


@pytest.mark.slow
@settings(FUZZ, max_examples=500)
@given(keypoint_arrays(), st.sampled_from(["npy", "npz", "vp3d"]),
       st.sampled_from([None, None, None, "coco", "h36m", "mediapipe"]), st.data())
def test_fuzzed_arrays_read_or_give_one_line(arr, kind, layout, data):
    with tempfile.TemporaryDirectory() as folder:
        read_outcome(_write_arrays(Path(folder), kind, arr, data.draw), layout)
