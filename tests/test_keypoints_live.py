"""Keypoint conversion to Human3.6M-17, and the live loop with a pluggable detector."""

import numpy as np
import pytest
import torch

from gastnet import create_model
from gastnet.keypoints import COCO_17, MEDIAPIPE_TO_COCO, coco_to_h36m, mediapipe_to_coco
from gastnet.runtime import StreamingLifter
from gastnet.runtime.live import live_poses
from gastnet.skeleton import H36M_17
from gastnet.video.detectors import Detection
from helpers import shared_file


def coco_pose() -> tuple[np.ndarray, np.ndarray]:
    """Distinct keypoints: joint k sits at (10 k, 100 + k), scores 0.9 - k / 100."""
    k = np.arange(17)
    return np.stack([10.0 * k, 100.0 + k], axis=1), 0.9 - k / 100


@pytest.mark.parametrize(
    "h36m_joint, coco_joint",
    [("right_hip", "right_hip"), ("right_knee", "right_knee"), ("right_ankle", "right_ankle"), ("left_hip", "left_hip"),
     ("left_knee", "left_knee"), ("left_ankle", "left_ankle"), ("neck", "nose"), ("left_shoulder", "left_shoulder"),
     ("left_elbow", "left_elbow"), ("left_wrist", "left_wrist"), ("right_shoulder", "right_shoulder"),
     ("right_elbow", "right_elbow"), ("right_wrist", "right_wrist")],
)
def test_coco_joints_copy_to_their_h36m_counterparts(h36m_joint, coco_joint):
    kp, scores = coco_pose()
    out, out_scores = coco_to_h36m(kp, scores)
    h, c = H36M_17.joint_names.index(h36m_joint), COCO_17.index(coco_joint)
    np.testing.assert_array_equal(out[h], kp[c])
    assert out_scores[h] == scores[c]


def test_synthesised_joints_follow_the_documented_rules():
    kp, scores = coco_pose()
    out, out_scores = coco_to_h36m(kp[None], scores[None])  # leading axes are kept
    out, out_scores = out[0], out_scores[0]
    pelvis, thorax = (kp[11] + kp[12]) / 2, (kp[5] + kp[6]) / 2
    np.testing.assert_allclose(out[0], pelvis)
    np.testing.assert_allclose(out[8], thorax)
    np.testing.assert_allclose(out[7], (pelvis + thorax) / 2)
    np.testing.assert_allclose(out[10], kp[0] + 3 * ((kp[1] + kp[2]) / 2 - kp[0]))
    assert out_scores[0] == min(scores[11], scores[12]) and out_scores[8] == min(scores[5], scores[6])
    blind = scores.copy()
    blind[1] = 0.1  # one eye unseen: the head comes from the thorax-to-nose direction
    out, out_scores = coco_to_h36m(kp, blind)
    np.testing.assert_allclose(out[10], kp[0] + 0.5 * (kp[0] - thorax))


def test_mediapipe_landmarks_map_to_coco():
    marks = np.arange(33 * 3, dtype=float).reshape(33, 3)
    coco = mediapipe_to_coco(marks)
    assert coco.shape == (17, 3)
    assert coco[COCO_17.index("left_shoulder"), 0] == marks[11, 0] and coco[COCO_17.index("right_ankle"), 0] == marks[28, 0]
    assert MEDIAPIPE_TO_COCO[COCO_17.index("left_eye")] == 2
    with pytest.raises(ValueError, match="33"):
        mediapipe_to_coco(np.zeros((17, 3)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 2\)"):
        coco_to_h36m(np.zeros((18, 2)))


class ScriptedDetector:
    """A detector that finds the same person in every frame except the listed ones."""

    def __init__(self, empty_frames=()):
        self.empty = set(empty_frames)
        self.calls = 0

    def detect(self, frame):
        self.calls += 1
        if self.calls - 1 in self.empty:
            return []
        kp, scores = coco_pose()
        return [Detection(kp + self.calls, scores)]


def test_live_loop_lifts_each_frame_at_once_and_forgets_lost_people():
    model = create_model("gastnet_rf9_causal", channels=8)
    lifter = StreamingLifter(model)
    frames = [np.zeros((200, 300, 3), np.uint8)] * 12
    detector = ScriptedDetector(empty_frames=range(5, 8))
    results = list(live_poses(frames, detector, lifter, 300, 200, forget_after=3))
    assert [r.pose is None for r in results] == [False] * 5 + [True] * 3 + [False] * 4
    assert results[0].pose.shape == (17, 3) and set(results[0].seconds) == {"detect", "lift"}
    assert lifter.frames_seen() == 4  # the history was reset after three empty frames
    # what was lifted is exactly the streaming model on the converted, normalised keypoints
    kp, scores = coco_to_h36m(*coco_pose())
    fresh = StreamingLifter(model)
    from gastnet.geometry.camera import normalize_screen_coordinates

    expected = fresh.push(normalize_screen_coordinates((kp + 1).astype(np.float32), 300, 200))
    torch.testing.assert_close(torch.from_numpy(results[0].pose), expected)


def test_bad_video_inputs_fail_clearly(tmp_path):
    pytest.importorskip("cv2", reason="video tests need the video extra")
    from gastnet.video.reader import open_source

    with pytest.raises(ValueError, match="does not exist"):
        open_source(tmp_path / "missing.mp4")
    (tmp_path / "fake.mp4").write_text("not a video")
    with pytest.raises(ValueError, match="cannot read any frame"):
        open_source(tmp_path / "fake.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        open_source(tmp_path / "empty")


def test_3d_panel_draws_the_pose():
    pytest.importorskip("cv2", reason="drawing needs the video extra")
    from gastnet.video.draw import render_pose_3d

    empty = render_pose_3d(None, H36M_17, size=200)
    pose = np.zeros((17, 3))
    pose[:, 1] = np.linspace(-0.8, 0.8, 17)  # a vertical line of joints
    drawn = render_pose_3d(pose, H36M_17, size=200)
    assert drawn.shape == (200, 200, 3) and (drawn != empty).any()


@pytest.mark.data
def test_live_command_on_the_shared_video(tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="live detection needs the video extra (MediaPipe)")
    video = shared_file("video", "walk_apart_2persons.avi")
    from gastnet.cli.main import main

    out = tmp_path / "live.mp4"
    assert main(["live", str(video), "--no-display", "--out", str(out), "--max-frames", "20"]) == 0
    text = capsys.readouterr().out
    assert "20 frames, a person in 20" in text and "latency" in text
    import cv2

    capture = cv2.VideoCapture(str(out))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 20
    assert [p.name for p in tmp_path.iterdir()] == ["live.mp4"]


@pytest.mark.data
@pytest.mark.slow
def test_lifting_the_two_person_video_keeps_identities(tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="video detection needs the video extra (MediaPipe)")
    video = shared_file("video", "walk_apart_2persons.avi")
    from gastnet.cli.main import main

    assert main(["lift", str(video), "--out", str(tmp_path), "--model", "gastnet_rf9", "--people", "2"]) == 0
    assert "2 people" in capsys.readouterr().out
    with np.load(tmp_path / "poses.npz") as data:
        keypoints, ids = data["keypoints_2d"], data["track_ids"]
    # two tracks (their numbers depend on how many short tracks the linker opened on the way)
    assert len(set(ids.tolist())) == 2 and keypoints.shape[:2] == (2, 87)
    for person in keypoints:  # each track moves smoothly: no identity swaps between the two walkers
        pelvis = person[:, 0]
        seen = np.isfinite(pelvis).all(-1)
        assert seen.sum() > 40
        # pixels per frame; the man in front leaving the frame steps up to about 85 px in unsmoothed
        # 2D (BlazePose under LiteRT; MediaPipe Pose smooths its landmarks), the walkers end 1000 px apart
        assert np.abs(np.diff(pelvis[seen, 0])).max() < 120
