"""Keypoint file formats, tracking and gap filling, smoothing, and lifting whole recordings."""

import json

import numpy as np
import pytest

import gastnet
from gastnet.cli.main import main
from gastnet.keypoints.files import read_keypoints
from gastnet.keypoints.layouts import COCO_FROM, to_h36m
from gastnet.keypoints.tracks import PersonTrack, fill_gaps, link_detections
from gastnet.runtime.smoothing import one_euro, savitzky_golay
from helpers import coco_person


def test_coco_results_with_two_people_become_two_stable_tracks(tmp_path):
    entries = []
    for frame in range(4):
        people = [coco_person(100, frame), coco_person(400, frame)]
        if frame % 2:
            people.reverse()  # the detector's order changes; identities must not
        entries += [{"image_id": 10 + frame, "category_id": 1, "keypoints": p.ravel().tolist(), "score": 0.9} for p in people]
    (tmp_path / "coco.json").write_text(json.dumps(entries))
    data = read_keypoints(tmp_path / "coco.json")
    assert data.format == "coco-results" and data.num_frames == 4 and len(data.tracks) == 2
    first, second = data.tracks
    expected, _ = to_h36m(coco_person(100, 3)[:, :2], None, "coco")
    np.testing.assert_allclose(first.keypoints[3], expected)
    assert (second.keypoints[:, 0, 0] > 300).all()  # the right-hand person stays track 1


def test_openpose_folders_body25_and_coco18(tmp_path):
    for name, layout, joints in (("b25", "openpose25", 25), ("c18", "openpose18", 18)):
        folder = tmp_path / name
        folder.mkdir()
        coco = coco_person(200)
        values = np.zeros((joints, 3))
        values[list(COCO_FROM[layout])] = coco  # place the COCO joints at their OpenPose indices
        for frame in range(3):
            page = {"version": 1.3, "people": [{"pose_keypoints_2d": values.ravel().tolist()}]}
            (folder / f"video_{frame:012d}_keypoints.json").write_text(json.dumps(page))
        data = read_keypoints(folder)
        assert data.format == "openpose-json" and len(data.tracks[0]) == 3
        np.testing.assert_allclose(data.tracks[0].keypoints[0], to_h36m(coco[:, :2], None, "coco")[0])


def test_mmpose_gastnet_json_and_videopose3d_npz(tmp_path):
    coco = coco_person(150)
    mmpose = [{"frame_id": f, "instances": [{"keypoints": coco[:, :2].tolist(), "keypoint_scores": coco[:, 2].tolist()}]}
              for f in range(5)]
    (tmp_path / "mm.json").write_text(json.dumps({"meta_info": {}, "instance_info": mmpose}))
    assert read_keypoints(tmp_path / "mm.json").format == "mmpose"
    gast = {"label": "x", "label_index": 0, "data": [
        {"frame_index": f, "skeleton": [{"pose": coco[:, :2].ravel().tolist(), "score": coco[:, 2].tolist()}]} for f in range(6)]}
    (tmp_path / "gast.json").write_text(json.dumps(gast))
    data = read_keypoints(tmp_path / "gast.json")
    assert data.format == "gastnet-json" and data.num_frames == 6
    positions = {"clip": {"custom": [np.repeat(coco[None, :, :2], 7, 0).astype(np.float32)]}}
    metadata = {"layout_name": "coco", "num_joints": 17, "keypoints_symmetry": [[1, 3], [2, 4]],
                "video_metadata": {"clip": {"w": 640, "h": 480}}}
    np.savez_compressed(tmp_path / "vp3d.npz", positions_2d=positions, metadata=metadata)
    data = read_keypoints(tmp_path / "vp3d.npz")
    assert data.image_size == (640, 480) and len(data.tracks[0]) == 7


def test_plain_arrays_need_an_unambiguous_layout(tmp_path):
    mediapipe = np.random.default_rng(0).uniform(0, 500, size=(5, 33, 3))
    np.save(tmp_path / "mp.npy", mediapipe)
    assert read_keypoints(tmp_path / "mp.npy").format == "array (mediapipe)"
    np.save(tmp_path / "k17.npy", np.zeros((5, 17, 2)))
    with pytest.raises(ValueError, match="COCO or Human3.6M"):
        read_keypoints(tmp_path / "k17.npy")
    assert read_keypoints(tmp_path / "k17.npy", layout="h36m").format == "array (h36m)"
    np.save(tmp_path / "k16.npy", np.zeros((5, 16, 2)))
    with pytest.raises(ValueError, match="no known layout has 16 joints"):
        read_keypoints(tmp_path / "k16.npy")
    bad = np.zeros((5, 17, 2))
    bad[2, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(ValueError, match="NaN"):
        read_keypoints(tmp_path / "nan.npy", layout="coco")
    with pytest.raises(ValueError, match="layout 'coco' has 17 joints, the file has 33"):
        read_keypoints(tmp_path / "mp.npy", layout="coco")


def test_only_missing_joints_are_interpolated_uncertain_ones_are_kept():
    frames = np.array([0, 1, 3, 4])  # frame 2 missing
    kp = np.zeros((4, 17, 2))
    kp[:, :, 0] = frames[:, None] * 10.0
    kp[:, 8, 1] = -40.0  # thorax above the pelvis
    scores = np.full((4, 17), 0.9)
    kp[1, 5] = [55.0, 7.0]  # an uncertain knee (e.g. occluded): the detector's guess stays
    scores[1, 5] = 0.1
    kp[1, 2] = [0.0, 0.0]  # a joint the detector did not give (score 0, how COCO and OpenPose mark it)
    scores[1, 2] = 0.0
    filled, report = fill_gaps(PersonTrack(3, frames, kp, scores))
    assert filled.frames.tolist() == [0, 1, 2, 3, 4] and report.missing_frames == 1
    others = [j for j in range(17) if j != 5]
    np.testing.assert_allclose(filled.keypoints[2, others, 0], 20.0)  # interpolated between frames 1 and 3
    np.testing.assert_allclose(filled.keypoints[2, 5, 0], (55.0 + 30.0) / 2)  # from the uncertain guess
    np.testing.assert_allclose(filled.keypoints[1, 5], [55.0, 7.0])
    assert filled.scores[1, 5] == 0.1  # its confidence is passed on
    np.testing.assert_allclose(filled.keypoints[1, 2], [10.0, 0.0])  # from frames 0 and 3 at t = 1
    assert filled.scores[2].max() == 0 and report.interpolated_joints == 17 + 1
    assert report.filled.sum() == 18 and report.filled[2].all() and report.filled[1, 2] and not report.filled[1, 5]
    nan = kp.copy()
    nan[3, 13] = np.nan  # a NaN position is missing whatever its score
    filled, report = fill_gaps(PersonTrack(3, frames, nan, scores))
    assert report.filled[4, 13] and np.isfinite(filled.keypoints).all()
    upper_body = scores.copy()
    upper_body[:, [2, 3, 5, 6]] = 0.0  # knees and ankles never given
    filled, report = fill_gaps(PersonTrack(0, frames, kp, upper_body))
    assert report.stand_in_joints == ["right_knee", "right_ankle", "left_knee", "left_ankle"]
    np.testing.assert_allclose(filled.keypoints[0, 3] - filled.keypoints[0, 1], [0.0, 80.0])  # two spine lengths down


def test_tracks_end_after_a_long_absence():
    person = (np.zeros((17, 2)), np.ones(17))
    frames = [[person]] * 3 + [[]] * 20 + [[person]] * 2
    tracks = link_detections(frames, max_gap=5)
    assert [t.frames.tolist() for t in tracks] == [[0, 1, 2], [23, 24]]


def test_smoothing_filters():
    rng = np.random.default_rng(0)
    still = 100 + 2.0 * rng.normal(size=(300, 2))  # a joint at rest, jittering by 2 px
    steady = one_euro(still, fps=50)
    assert steady[50:].std() < 0.35 * still.std()
    ramp = np.arange(100.0)[:, None] * 10  # moving fast: 500 px/s
    assert np.abs(one_euro(ramp, fps=50)[20:] - ramp[20:]).max() < 15.0  # the cutoff rises: lag of 1.5 frames
    clean = np.sin(np.linspace(0, 3, 200))[:, None]
    noisy = clean + 0.05 * rng.normal(size=clean.shape)
    assert np.abs(savitzky_golay(noisy, 9, 2) - clean).mean() < 0.6 * np.abs(noisy - clean).mean()
    with pytest.raises(ValueError, match="odd"):
        savitzky_golay(noisy, 8, 2)


def test_lift_api_and_command(tmp_path, capsys):
    from gastnet.examples import synthetic_walk_2d

    keypoints = synthetic_walk_2d(50, (640, 480))
    with pytest.raises(ValueError, match="image size"):
        gastnet.lift(keypoints, model="gastnet_rf9")
    result = gastnet.lift(keypoints, image_size=(640, 480), model="gastnet_rf9", smoothing="one-euro")
    person = result.people[0]
    # the 3D filter acts on the network's poses (the kinematic fit, which smooths on its own, comes after it)
    lifted, smoothed = (gastnet.lift(keypoints, image_size=(640, 480), model="gastnet_rf9", smoothing="one-euro",
                                     smoothing_3d=filter_3d, fit=False).people[0] for filter_3d in (None, "savgol"))
    jitter = lambda p: np.abs(np.diff(p.poses_camera, 2, axis=0)).mean()  # second differences: jitter
    assert jitter(smoothed) < jitter(lifted)
    assert person.poses_camera.shape == person.poses_world.shape == (50, 17, 3)
    np.save(tmp_path / "walk.npy", keypoints)
    args = ["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--image-size", "640x480", "--model", "gastnet_rf9",
            "--formats", "npz,json,csv,bvh", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    with np.load(tmp_path / "out" / "poses.npz") as data:
        assert data["poses_world"].shape == (1, 50, 17, 3) and data["keypoints_2d"].shape == (1, 50, 17, 2)
    doc = json.loads((tmp_path / "out" / "poses.json").read_text())
    assert doc["joint_names"][10] == "head" and len(doc["people"][0]["frames"]) == 50
    assert len((tmp_path / "out" / "poses.csv").read_text().splitlines()) == 1 + 50 * 17
    from gastnet.animation import read_bvh

    assert len(read_bvh(tmp_path / "out" / "poses_0.bvh").motion) == 50
    assert main(args) == 2 and "already exist" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{nope")
    assert main(["lift", str(tmp_path / "bad.json"), "--image-size", "10x10", "--out", str(tmp_path / "bad")]) == 2
    assert "not valid JSON" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_default_lifters_are_the_video_trained_shipped_models():
    from gastnet.pipeline.recording import DEFAULT_MODELS, _lifter

    offline, described = _lifter(None, None)
    assert described == f"{DEFAULT_MODELS[False]} (pretrained)" and not offline.causal
    weights = offline.pretrained_weights
    assert weights.train_config["augment"]["enabled"]  # made for video input
    assert weights.frame_rates[0] <= 24 and weights.frame_rates[1] >= 60
    live, described = _lifter(None, None, causal=True)
    assert live.causal and described == f"{DEFAULT_MODELS[True]} (pretrained)"
    assert live.pretrained_weights.train_config["augment"]["enabled"]
    assert "RANDOM" in _lifter("gastnet_rf9", None)[1]


def test_attention_maps_are_distributions_per_block(tmp_path):
    import torch

    from gastnet.visualization.attention import attention_maps, plot_attention

    model = gastnet.create_model("gastnet_rf27", channels=16).eval()
    window = torch.randn(27, 17, 2) * 0.3
    maps = attention_maps(model, window)
    assert [m.shape for m in maps] == [(4, 17, 17)] * 3
    np.testing.assert_allclose(np.stack(maps).sum(-1), 1.0, atol=1e-5)
    assert model.form == "dilated"  # restored
    path = plot_attention(model, window, 16, tmp_path / "att.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no adaptive global attention"):
        attention_maps(gastnet.create_model("gastnet_rf27_ablation_plain", channels=16), window)


def test_negative_coordinates_and_short_tracks(tmp_path):
    kp = np.full((20, 17, 3), 0.9)
    kp[..., :2] = np.random.default_rng(0).uniform(100, 400, size=(20, 17, 2))
    kp[3, 5, :2] = -1.0
    kp[3, 5, 2] = 0.0  # a missing joint marked the usual way: fine, treated as missing
    np.save(tmp_path / "ok.npy", kp)
    data = read_keypoints(tmp_path / "ok.npy", layout="h36m")
    assert data.tracks[0].scores[3, 5] == 0
    kp[4, 6] = [-50.0, 10.0, 0.9]  # confident, a little left of the image: a real position, for the image-size check
    np.save(tmp_path / "near.npy", kp)
    data = read_keypoints(tmp_path / "near.npy", layout="h36m")
    assert data.tracks[0].scores[4, 6] == 0.9 and data.tracks[0].keypoints[4, 6].tolist() == [-50.0, 10.0]
    kp[4, 6] = [-1e6, 10.0, 0.9]  # confident and farther out than any image admits: wrong units or layout
    np.save(tmp_path / "bad.npy", kp)
    with pytest.raises(ValueError, match=r"negative pixel coordinates \(-1e\+06, 10\) in frame 4, joint 6"):
        read_keypoints(tmp_path / "bad.npy", layout="h36m")
    from gastnet.examples import synthetic_walk_2d
    from gastnet.pipeline.tracks_to_3d import lift_tracks

    short = PersonTrack(9, np.arange(3), synthetic_walk_2d(3, (640, 480)).astype(float), np.ones((3, 17)))
    with pytest.raises(ValueError, match="nobody to lift: dropped track 9: seen in only 3 frames"):
        lift_tracks([short], (640, 480), gastnet.create_model("gastnet_rf9", channels=8), num_frames=100)


def test_a_video_with_nobody_fails_cleanly(tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="video detection needs the video extra")
    import cv2

    writer = cv2.VideoWriter(str(tmp_path / "empty_room.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 240))
    for _ in range(10):
        writer.write(np.full((240, 320, 3), 90, np.uint8))
    writer.release()
    assert main(["lift", str(tmp_path / "empty_room.mp4"), "--out", str(tmp_path / "out")]) == 2
    assert "nobody was detected in 10 frames" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_halpe26_maps_through_its_coco_part(tmp_path):
    halpe = np.random.default_rng(2).uniform(10, 300, size=(4, 26, 3))
    halpe[..., 2] = 0.9
    np.save(tmp_path / "halpe.npy", halpe)
    data = read_keypoints(tmp_path / "halpe.npy")  # 26 joints: Halpe
    assert data.format == "array (halpe26)"
    np.testing.assert_allclose(data.tracks[0].keypoints, to_h36m(halpe[:, :17, :2], None, "coco")[0])


def test_video_lifting_with_a_plugged_in_detector_and_a_playable_render(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="video needs the video extra")
    from gastnet.video.detectors import Detection
    from gastnet.visualization.render import render_animation

    writer = cv2.VideoWriter(str(tmp_path / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 20, (320, 240))
    for _ in range(24):
        writer.write(np.full((240, 320, 3), 60, np.uint8))
    writer.release()

    class Walking:  # any backend with detect(frame) -> [Detection] plugs in
        calls = 0

        def detect(self, frame):
            self.calls += 1  # a person walking right (a still one would be judged a picture)
            return [Detection(coco_person(100)[:, :2] * 0.5 + [2.0 * self.calls, 0.0], np.full(17, 0.9))]

    result = gastnet.lift(tmp_path / "clip.mp4", model="gastnet_rf9", detector=Walking())
    assert result.image_size == (320, 240) and len(result.people[0].frames) == 24
    from gastnet.video.reader import open_source

    with open_source(tmp_path / "clip.mp4") as video:
        path = render_animation(tmp_path / "r.mp4", result.padded("keypoints_2d", 2), result.padded("poses_world", 3),
                                result.image_size, fps=20, video=video)
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 24


def test_gif_frames_show_their_own_video_frame(tmp_path):
    from PIL import Image

    from gastnet.examples import synthetic_walk_2d
    from gastnet.visualization.render import render_animation

    frames, size = 4, (64, 48)
    keypoints = synthetic_walk_2d(frames, size)[None]
    poses = np.zeros((1, frames, 17, 3))
    video = [np.full((size[1], size[0], 3), 60 * t, np.uint8) for t in range(frames)]  # frame t: grey 60 t
    path = render_animation(tmp_path / "r.gif", keypoints, poses, size, fps=10, video=video)
    with Image.open(path) as gif:
        greys = []
        for t in range(frames):
            gif.seek(t)
            left = np.asarray(gif.convert("L"))[:, : gif.width // 2]
            greys.append(float(np.median(left[left < 250])))  # the video under the 2D panel, not the white margin
    np.testing.assert_allclose(greys, [60 * t for t in range(frames)], atol=12)
