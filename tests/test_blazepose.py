"""The BlazePose backend under LiteRT (gastnet.video.blazepose): its decoding against hand-computed
values, the crop and back-projection against known rotations, and the people it finds on the
shared two-person video (faces labelled by hand) and on frames with a person pasted twice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gastnet.video.blazepose import (
    Candidates,
    Region,
    crop_matrix,
    crop_to_image,
    decode_anchors,
    refine_with_heatmap,
    region_from_points,
    ssd_anchor_centres,
    weighted_nms,
)
from helpers import shared_file

# --- decoding ------------------------------------------------------------------------------------


def test_anchor_centres_follow_the_layers_of_the_224_detector():
    anchors = ssd_anchor_centres()
    assert anchors.shape == (2254, 2)  # 28*28*2 + 14*14*2 + 7*7*6
    # stride 8: 28 cells a side, 2 anchors per cell, rows first
    assert anchors[0].tolist() == anchors[1].tolist() == [0.5 / 28, 0.5 / 28]
    assert anchors[2].tolist() == [1.5 / 28, 0.5 / 28]
    assert anchors[2 * 28].tolist() == [0.5 / 28, 1.5 / 28]
    # stride 16 starts after 1568 anchors; the three stride-32 layers share one 7 x 7 grid, 6 anchors a cell
    assert anchors[1568].tolist() == [0.5 / 14, 0.5 / 14]
    assert np.all(anchors[1960:1966] == [0.5 / 7, 0.5 / 7]) and anchors[1966].tolist() == [1.5 / 7, 0.5 / 7]
    assert anchors[-1].tolist() == [6.5 / 7, 6.5 / 7]


def test_decode_anchors_by_hand():
    anchors = np.array([[0.25, 0.5], [0.75, 0.75]])
    raw = np.zeros((2, 12))
    raw[0] = [22.4, -11.2, 44.8, 89.6, 0, 0, 2.24, 4.48, -22.4, 0, 0, 11.2]
    logits = np.array([0.0, math.log(3.0)])
    found = decode_anchors(raw, logits, anchors, size=224)
    # centre (0.25 + 0.1, 0.5 - 0.05), size (0.2, 0.4)
    np.testing.assert_allclose(found.boxes[0], [0.25, 0.25, 0.45, 0.65], atol=1e-12)
    np.testing.assert_allclose(found.keypoints[0], [[0.25, 0.5], [0.26, 0.52], [0.15, 0.5], [0.25, 0.55]], atol=1e-12)
    np.testing.assert_allclose(found.scores, [0.5, 0.75])
    np.testing.assert_allclose(found.boxes[1], [0.75, 0.75, 0.75, 0.75])  # no offset, no size
    assert decode_anchors(raw, np.array([1e6, -1e6]), anchors).scores.tolist() == pytest.approx([1.0, 0.0])


def test_weighted_nms_merges_overlaps_by_score_and_keeps_the_rest():
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0], [3.0, 3.0, 4.0, 4.0], [0.0, 0.0, 1.0, 1.0]])
    keypoints = np.zeros((4, 4, 2))
    keypoints[:, 0, 0] = [1.0, 2.0, 7.0, 5.0]
    scores = np.array([0.6, 0.9, 0.8, 0.1])
    merged = weighted_nms(Candidates(scores, boxes, keypoints), overlap=0.3)
    assert merged.scores.tolist() == [0.9, 0.8]  # the best of each group, best first
    # group of boxes 1 (0.9), 0 (0.6) and 3 (0.1): IoU of 0 and 1 is 0.9 / 1.1 > 0.3
    np.testing.assert_allclose(merged.keypoints[0, 0, 0], (0.9 * 2 + 0.6 * 1 + 0.1 * 5) / 1.6)
    np.testing.assert_allclose(merged.boxes[0, 0], (0.9 * 0.1) / 1.6)
    np.testing.assert_allclose(merged.boxes[1], [3, 3, 4, 4])
    # apart enough, nothing merges
    assert len(weighted_nms(Candidates(scores[:3], boxes[:3], keypoints[:3]), overlap=0.95)) == 3


# --- regions, crops and back-projection ----------------------------------------------------------


@pytest.mark.parametrize("degrees", [0.0, 30.0, 90.0, -135.0])
def test_region_turns_the_body_up_and_back_projection_rotates_by_its_angle(degrees):
    up = np.array([math.sin(math.radians(degrees)), -math.cos(math.radians(degrees))])  # the body's up, image axes
    centre = np.array([400.0, 300.0])
    region = region_from_points(centre, centre + 80 * up)
    assert region.side == pytest.approx(2 * 1.25 * 80)
    assert math.degrees(region.angle) == pytest.approx(degrees)
    # the crop's top middle (its up) lies a half side along the body's up; its right along the body's right
    top, right = crop_to_image(np.array([[128.0, 0.0], [256.0, 128.0]]), region)
    np.testing.assert_allclose(top, centre + region.side / 2 * up, atol=1e-9)
    np.testing.assert_allclose(right, centre + region.side / 2 * np.array([-up[1], up[0]]), atol=1e-9)
    np.testing.assert_allclose(crop_to_image(np.array([128.0, 128.0]), region), centre, atol=1e-9)


def test_crop_and_back_projection_agree_on_a_dot():
    """A dot cut out by crop_matrix (OpenCV's warpAffine) is found in the crop where crop_to_image maps it back."""
    cv2 = pytest.importorskip("cv2", reason="needs the video extra")
    image = np.zeros((480, 640), np.float32)
    dot = np.array([371.0, 205.0])  # pixel index; its centre is at (371.5, 205.5)
    image[int(dot[1]), int(dot[0])] = 1.0
    image = cv2.GaussianBlur(image, (0, 0), 3)
    region = Region(np.array([330.0, 240.0]), 160.0, math.radians(40))
    crop = cv2.warpAffine(image, crop_matrix(region, 256), (256, 256), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    rows, cols = np.mgrid[0:256, 0:256]
    peak = np.array([(crop * cols).sum(), (crop * rows).sum()]) / crop.sum() + 0.5  # continuous crop coordinates
    np.testing.assert_allclose(crop_to_image(peak, region), dot + 0.5, atol=0.3)


def test_heatmap_refinement_moves_to_the_confident_blob_only():
    heatmap = np.full((64, 64, 2), -10.0)
    rows, cols = np.mgrid[0:64, 0:64]
    heatmap[..., 0] = 8.0 - 30.0 * ((cols - 20) ** 2 + (rows - 30) ** 2)  # a sharp blob on cell (20, 30)
    points = np.array([[21.6 / 64, 28.7 / 64], [0.5, 0.5]])
    refined = refine_with_heatmap(points, heatmap)
    np.testing.assert_allclose(refined[0], [20 / 64, 30 / 64], atol=0.02 / 64)
    assert refined[1].tolist() == [0.5, 0.5]  # no confidence anywhere near: left where it was


# --- the models on real frames -------------------------------------------------------------------

FACES = {0: [(920, 329), (975, 358)], 30: [(961, 329), (1026, 353)], 60: [(719, 339), (1289, 390)]}
"""Noses (or the middle of the face where the nose is turned away) in the shared video, pixels,
read by hand off enlarged frames: the man in front, then the man in the striped shirt (behind
him, partly hidden, in frames 0 and 30)."""


@pytest.fixture(scope="module")
def video_frames():
    cv2 = pytest.importorskip("cv2", reason="needs the video extra")
    pytest.importorskip("ai_edge_litert", reason="the BlazePose backend needs ai-edge-litert (the video extra)")
    capture = cv2.VideoCapture(str(shared_file("video", "walk_apart_2persons.avi")))
    frames = {i: capture.read()[1] for i in range(21)}
    for i in (30, 60):
        capture.set(cv2.CAP_PROP_POS_FRAMES, i)
        frames[i] = capture.read()[1]
    capture.release()
    return {i: cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for i, f in frames.items()}


@pytest.fixture(scope="module")
def detector():
    pytest.importorskip("ai_edge_litert", reason="the BlazePose backend needs ai-edge-litert (the video extra)")
    from gastnet.video.blazepose import BlazePoseDetector, litert_available

    if not litert_available():
        pytest.skip("the mediapipe wheel's pose models are not installed")
    return BlazePoseDetector()


def _match(noses: np.ndarray, labels, tolerance: float) -> list[int]:
    """For each label, the index of the nearest nose if it is within ``tolerance`` pixels (-1: none)."""
    out = []
    for label in labels:
        gaps = np.linalg.norm(noses - np.asarray(label, dtype=float), axis=1)
        out.append(int(np.argmin(gaps)) if len(gaps) and gaps.min() < tolerance else -1)
    return out


@pytest.mark.data
@pytest.mark.parametrize("index", sorted(FACES))
def test_both_men_found_in_a_single_frame(video_frames, detector, index):
    """A frame on its own (no tracking): the man partly hidden behind the other is found too."""
    detector.reset()
    people = detector.detect(video_frames[index])
    noses = np.array([p.keypoints[0] for p in people])
    matched = _match(noses, FACES[index], tolerance=40)
    assert -1 not in matched and len(set(matched)) == 2, (index, noses.round())
    assert len(people) == 2  # nobody else is in the room


@pytest.mark.data
def test_tracking_keeps_both_and_skips_the_detector(video_frames, detector):
    """Followed over 21 frames, both men are there in each, where a detection from scratch puts them."""
    detector.reset()
    runs = detector.detector_runs
    counts = [len(detector.detect(video_frames[i])) for i in range(21)]
    tracked = detector.detect(video_frames[20])
    # frames 0, 10 and 20 (twice on frame 0: after the first man, for the one he hides), not all 22
    assert counts == [2] * 21 and detector.detector_runs - runs <= 6
    detector.reset()
    fresh = detector.detect(video_frames[20])
    assert len(fresh) == 2
    nearest = []
    for person in fresh:  # the joints both call visible (the hidden ones are guesses that depend on the region)
        gaps = [np.median(np.linalg.norm(t.keypoints - person.keypoints, axis=1)[(t.scores > 0.5) & (person.scores > 0.5)])
                for t in tracked]
        assert min(gaps) < 30, gaps  # pixels, of people about 700 pixels tall
        nearest.append(int(np.argmin(gaps)))
    assert sorted(nearest) == [0, 1]


@pytest.mark.data
def test_a_person_pasted_twice_is_found_twice(video_frames, detector):
    """Frame 60 with the man in the striped shirt copied 330 pixels to the right, onto empty room: the
    copy is found where the original is, shifted by exactly that much."""
    frame = video_frames[60].copy()
    shift = 330
    frame[290:980, 1180 + shift:1480 + shift] = video_frames[60][290:980, 1180:1480]
    detector.reset()
    original = np.array([p.keypoints for p in detector.detect(video_frames[60])])
    detector.reset()
    found = np.array([p.keypoints for p in detector.detect(frame)])
    assert len(found) == 3
    striped = original[_match(original[:, 0], [FACES[60][1]], 40)[0]]
    for expected in (striped, striped + [shift, 0]):
        gap = np.median(np.linalg.norm(found - expected, axis=2), axis=1)  # median keypoint distance to each one found
        assert gap.min() < 15, gap.round(1)


@pytest.mark.data
def test_a_new_backend_prints_nothing(video_frames, capfd):
    """LiteRT announces its CPU delegate on the process's stderr when a model starts: not the user's concern."""
    from gastnet.video.backends import make_detector

    detector = make_detector("blazepose", 2)
    assert len(detector.detect(video_frames[60])) == 2
    detector.close()
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_the_default_backend_and_a_wrong_name():
    from gastnet.video.backends import make_detector
    from gastnet.video.blazepose import BlazePoseDetector, litert_available
    from gastnet.video.detectors import MultiPersonDetector

    with pytest.raises(ValueError, match="unknown detector 'openpose'; expected one of blazepose, mediapipe"):
        make_detector("openpose")
    if not litert_available():
        pytest.skip("the BlazePose backend needs ai-edge-litert and the mediapipe wheel")
    detector = make_detector(None, 4)
    assert isinstance(detector, BlazePoseDetector) and detector.max_people == 6  # 4 kept + 2 spare
    assert not isinstance(detector, MultiPersonDetector)


def test_the_detector_flag_takes_one_input(tmp_path, capsys):
    from gastnet.cli.main import main

    for name in ("a.npy", "b.npy"):
        np.save(tmp_path / name, np.zeros((5, 17, 2)))
    args = ["lift", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--layout", "h36m", "--image-size", "640x480"]
    assert main([*args, "--detector", "mediapipe", "--out", str(tmp_path / "out")]) == 2
    assert "--detector takes one input at a time" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.data
def test_joints_behind_the_man_in_front_score_low(video_frames, detector):
    """Frame 0: the man in the striped shirt turns his right side to the other man, who hides it; its
    joints keep the model's guess for a position, scored under the tracker's CONFIDENT. Joints clear of
    the man in front (right of his rightmost keypoint, by 20 pixels) keep the model's score, above it."""
    from gastnet.keypoints.tracks import CONFIDENT

    detector.reset()
    front, behind = detector.detect(video_frames[0])
    assert front.scores.min() > 0.5
    edge = front.keypoints[:, 0].max() + 20
    assert behind.keypoints[[6, 8], 0].max() < edge and behind.scores[[6, 8]].max() < CONFIDENT, behind.scores.round(2)
    clear = behind.keypoints[:, 0] > edge
    assert clear.sum() >= 5 and behind.scores[clear].min() > CONFIDENT
