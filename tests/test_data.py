"""Datasets in VideoPose3D's layout, cameras, ground-truth 2D, windows and flips."""

import numpy as np
import pytest
import torch

from gastnet.data import (
    WindowLoader,
    build_sequences,
    dataset_cameras,
    flip_poses,
    load_keypoints_2d,
    load_mocap,
    load_pose_data,
    match_mocap,
    project_mocap,
    save_keypoints_2d,
)
from gastnet.data.mocap import H36M_KEPT_JOINTS
from gastnet.data.prepare import prepare_ground_truth_2d, prepare_h36m_from_cdf
from gastnet.data.windows import PoseSequence
from gastnet.skeleton import H36M_17
from helpers import shared_file, walking_world


def write_3d(path, positions):
    np.savez_compressed(path, positions_3d=positions)
    return path


def test_32_joint_file_is_reduced_to_the_standard_17(tmp_path):
    raw = np.random.default_rng(0).normal(size=(5, 32, 3)).astype(np.float32)
    mocap = load_mocap(write_3d(tmp_path / "d.npz", {"S1": {"Walking 1": raw}}), "h36m")
    np.testing.assert_array_equal(mocap.positions["S1"]["Walking 1"], raw[:, list(H36M_KEPT_JOINTS)])
    assert H36M_KEPT_JOINTS[14:] == (25, 26, 27)  # right shoulder, elbow, wrist


@pytest.mark.parametrize(
    "positions, message",
    [
        ({"S1": {"Walking 1": np.zeros((5, 16, 3))}}, r"shape \(5, 16, 3\); expected \(N, 32, 3\) or \(N, 17, 3\)"),
        ({"S1": {"Walking 1": np.full((5, 17, 3), np.nan)}}, "NaN"),
        ({"S42": {"Walking 1": np.zeros((5, 17, 3))}}, "unknown subject 'S42'"),
    ],
)
def test_bad_3d_files_are_rejected(tmp_path, positions, message):
    with pytest.raises(ValueError, match=message):
        load_mocap(write_3d(tmp_path / "d.npz", positions), "h36m")


def test_missing_and_foreign_files_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_mocap(tmp_path / "none.npz", "h36m")
    np.savez(tmp_path / "other.npz", poses=np.zeros(3))
    with pytest.raises(ValueError, match="positions_3d"):
        load_mocap(tmp_path / "other.npz", "h36m")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable npz"):
        load_mocap(tmp_path / "text.npz", "h36m")


def test_projection_of_the_optical_axis_hits_the_principal_point():
    cam = dataset_cameras("h36m", "S9")[2]
    world = cam.camera_to_world(np.array([[0.0, 0.0, 4.0], [0.3, -0.2, 4.0]]))
    pixels = cam.project(cam.world_to_camera(world))
    np.testing.assert_allclose(pixels[0], cam.center, atol=1e-9)
    # off axis, barrel distortion (k1 < 0) pulls the point towards the centre
    pinhole = cam.focal_length * np.array([0.3, -0.2]) / 4.0 + cam.center
    assert np.linalg.norm(pixels[1] - cam.center) < np.linalg.norm(pinhole - cam.center)


def test_ground_truth_2d_file_in_videopose3d_layout(tiny_h36m, tmp_path):
    source = tiny_h36m / "h36m" / "data_3d_h36m.npz"
    out = prepare_ground_truth_2d("h36m", source, tmp_path / "data_2d_h36m_gt.npz")
    with np.load(out, allow_pickle=True) as data:  # read it the way VideoPose3D does
        positions = data["positions_2d"].item()
        metadata = data["metadata"].item()
    assert metadata["num_joints"] == 17 and metadata["keypoints_symmetry"] == [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]
    views = positions["S9"]["Walking 1"]
    assert len(views) == 4 and all(v.shape == (60, 17, 2) and v.dtype == np.float32 for v in views)
    cam = dataset_cameras("h36m", "S9")[1]
    world = load_mocap(source, "h36m").positions["S9"]["Walking 1"].astype(np.float64)
    np.testing.assert_allclose(views[1], cam.project(cam.world_to_camera(world)), atol=1e-3)
    assert ((views[1] > 0) & (views[1] < 1000)).all()  # the person is in view
    with pytest.raises(ValueError, match="already exists"):
        prepare_ground_truth_2d("h36m", source, out)
    humaneva = write_3d(tmp_path / "he3d.npz", {"Train/S1": {"Walking 1 chunk0": np.zeros((5, 15, 3))}})
    with pytest.raises(ValueError, match="no intrinsics"):
        prepare_ground_truth_2d("humaneva", humaneva, tmp_path / "he.npz")


def test_2d_is_trimmed_to_the_3d_and_checked(tiny_h36m):
    mocap = load_mocap(tiny_h36m / "h36m" / "data_3d_h36m.npz", "h36m")
    points = project_mocap(mocap)
    longer = points.positions["S1"]["Walking 1"]
    points.positions["S1"]["Walking 1"] = [np.concatenate([v, v[:10]]) for v in longer]
    matched = match_mocap(points, mocap)
    assert matched.positions["S1"]["Walking 1"][0].shape == (120, 17, 2)
    points.positions["S1"]["Walking 1"] = [v[:100] for v in longer]
    with pytest.raises(ValueError, match="100 frames, fewer than the 3D's 120"):
        match_mocap(points, mocap)
    del points.positions["S9"]
    with pytest.raises(ValueError, match="no subject 'S9'"):
        match_mocap(points, mocap, ["S9"])


def test_2d_files_with_wrong_joints_or_nan_are_rejected(tmp_path):
    from gastnet.data.keypoints2d import Keypoints2D

    meta = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [[], []]}
    bad = Keypoints2D({"S1": {"Walking 1": [np.zeros((5, 16, 2), np.float32)]}}, meta)
    save_keypoints_2d(tmp_path / "bad.npz", bad)
    with pytest.raises(ValueError, match=r"shape \(5, 16, 2\); expected \(N, 17, 2\)"):
        load_keypoints_2d(tmp_path / "bad.npz")
    nan = Keypoints2D({"S1": {"Walking 1": [np.full((5, 17, 2), np.nan, np.float32)]}}, meta)
    save_keypoints_2d(tmp_path / "nan.npz", nan)
    with pytest.raises(ValueError, match="NaN"):
        load_keypoints_2d(tmp_path / "nan.npz")
    with pytest.raises(ValueError, match="expected 15"):
        load_keypoints_2d(tmp_path / "nan.npz", expected_joints=15)


def test_sequences_are_root_relative_camera_frame_and_normalised(tiny_h36m):
    mocap, points, source = load_pose_data("h36m", data_dir=tiny_h36m, subjects=["S1"])
    assert "projected" in source
    seqs = build_sequences(mocap, points, ["S1"], actions=["Walking"], downsample=5)
    assert [(s.action, s.camera) for s in seqs] == [("Walking 1", c) for c in range(4)]
    seq = seqs[0]
    assert seq.inputs.shape == (24, 17, 2) and seq.targets.shape == (24, 17, 3)
    np.testing.assert_array_equal(seq.targets[:, 0], 0)
    cam = dataset_cameras("h36m", "S1")[0]
    world = walking_world(120)[::5]
    expected = cam.world_to_camera(world.astype(np.float64))
    np.testing.assert_allclose(seq.targets, expected - expected[:, :1], atol=1e-5)
    np.testing.assert_allclose(seq.inputs, cam.normalize(cam.project(expected)), atol=1e-5)
    # bone lengths survive the change of frame
    for child, parent in H36M_17.bones():
        np.testing.assert_allclose(np.linalg.norm(seq.targets[:, child] - seq.targets[:, parent], axis=-1),
                                   np.linalg.norm(world[:, child] - world[:, parent], axis=-1), atol=1e-5)


def frame_sequence(length: int, subject="S1") -> PoseSequence:
    """Inputs whose x coordinate is the frame number, so windows can be read back."""
    inputs = np.zeros((length, 17, 2), np.float32)
    inputs[..., 0] = np.arange(length)[:, None]
    inputs[..., 1] = np.arange(17)[None, :]
    targets = np.repeat(np.arange(length, dtype=np.float32)[:, None, None], 17, axis=1).repeat(3, axis=2)
    return PoseSequence(subject, "Walking 1", 0, inputs, targets)


def test_windows_are_centred_and_edge_padded():
    loader = WindowLoader([frame_sequence(6), frame_sequence(4)], receptive_field=5, batch_size=3, shuffle=False)
    assert loader.num_frames == 10 and len(loader) == 4
    x, y = loader.batch(np.array([0, 5, 7]))
    assert x[0, :, 0, 0].tolist() == [0, 0, 0, 1, 2]  # frame 0 of the first sequence
    assert x[1, :, 0, 0].tolist() == [3, 4, 5, 5, 5]  # its last frame
    assert x[2, :, 0, 0].tolist() == [0, 0, 1, 2, 3]  # frame 1 of the second: no leak across sequences
    assert y[:, 0, 0, 0].tolist() == [0, 5, 1]


def test_causal_windows_end_at_their_frame():
    loader = WindowLoader([frame_sequence(6)], receptive_field=3, batch_size=6, causal=True, shuffle=False)
    x, _ = loader.batch(np.arange(6))
    assert x[:, -1, 0, 0].tolist() == list(range(6))
    assert x[1, :, 0, 0].tolist() == [0, 0, 1]


def test_flip_augmentation_mirrors_inputs_and_targets():
    loader = WindowLoader([frame_sequence(6)], 3, batch_size=4, flip_skeleton=H36M_17, shuffle=False)
    assert loader.num_samples == 12
    x, y = loader.batch(np.array([2, 8]))  # frame 2, plain and mirrored
    torch.testing.assert_close(x[1], flip_poses(x[0], H36M_17))
    assert x[1, 0, 1, 1] == 4 and x[1, 0, 1, 0] == -x[0, 0, 1, 0]  # joint 1 now holds joint 4, x negated
    torch.testing.assert_close(flip_poses(flip_poses(y, H36M_17), H36M_17), y)


def test_epochs_are_reproducible_resumable_and_shard_over_processes():
    seqs = [frame_sequence(20), frame_sequence(13)]
    loader = WindowLoader(seqs, 5, batch_size=4, flip_skeleton=H36M_17, noise_std=0.01, seed=3)
    full = list(loader.epoch(2))
    again = list(loader.epoch(2))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(full, again))
    resumed = list(loader.epoch(2, start_batch=5))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(full[5:], resumed))
    assert not torch.equal(full[0][0], list(loader.epoch(3))[0][0])
    # two processes see disjoint halves of the same epoch
    shards = [WindowLoader(seqs, 5, 4, flip_skeleton=H36M_17, seed=3, rank=r, world_size=2)._order(2) for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 33 and not set(shards[0]) & set(shards[1])


@pytest.mark.data
def test_humaneva_camera_frame_agrees_with_its_2d(tmp_path):
    shared_file("humaneva", "data_3d_humaneva15.npz")
    data_dir = shared_file("humaneva", "cameras.json").parents[1]
    mocap, points, _ = load_pose_data("humaneva", subjects=["Validate/S1"], data_dir=data_dir)
    seq = build_sequences(mocap, points, ["Validate/S1"], actions=["Walking"])[0]
    cam3d = mocap.camera_frame("Validate/S1", seq.action)[0]
    pixels = points.positions["Validate/S1"][seq.action][0]
    # the shipped 2D must be a pinhole view of our camera-frame 3D: fit u = f x/z + c per axis
    for axis in (0, 1):
        ratio = (cam3d[..., axis] / cam3d[..., 2]).ravel()
        design = np.stack([ratio, np.ones_like(ratio)], axis=1)
        coef, residual, *_ = np.linalg.lstsq(design, pixels[..., axis].ravel(), rcond=None)
        rms = np.sqrt(residual[0] / len(ratio))
        assert coef[0] > 300 and rms < 3.0, (axis, coef, rms)


@pytest.mark.data
def test_real_h36m_projection_stays_in_the_image():
    folder = shared_file("h36m", "data_3d_h36m.npz").parents[1]
    mocap, points, _ = load_pose_data("h36m", data_dir=folder, subjects=["S9"])
    views = np.concatenate([v for action in points.positions["S9"].values() for v in action])
    inside = ((views >= 0) & (views <= 1000)).all(-1).mean()
    assert inside > 0.999


def test_prepare_h36m_from_cdf_files(tmp_path):
    cdflib = pytest.importorskip("cdflib")
    from cdflib.cdfwrite import CDF

    pose = np.random.default_rng(1).normal(size=(7, 96)) * 1000
    folder = tmp_path / "S11" / "MyPoseFeatures" / "D3_Positions"
    folder.mkdir(parents=True)
    for name in ("TakingPhoto 1", "Directions"):  # the second is the known corrupted one
        writer = CDF(str(folder / f"{name}.cdf"))
        writer.write_var({"Variable": "Pose", "Data_Type": CDF.CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": True,
                          "Dim_Sizes": [96]}, var_attrs={}, var_data=pose)
        writer.close()
    assert np.allclose(cdflib.CDF(str(folder / "Directions.cdf"))["Pose"], pose)
    out = prepare_h36m_from_cdf(tmp_path, tmp_path / "data_3d_h36m.npz")
    mocap = load_mocap(out, "h36m")
    assert list(mocap.positions["S11"]) == ["Photo 1"]
    raw = np.load(out, allow_pickle=True)["positions_3d"].item()["S11"]["Photo 1"]
    assert raw.shape == (7, 32, 3) and raw.dtype == np.float32
    np.testing.assert_allclose(raw, pose.reshape(7, 32, 3) / 1000, rtol=1e-6)
    with pytest.raises(ValueError, match="already exists"):
        prepare_h36m_from_cdf(tmp_path, out)
