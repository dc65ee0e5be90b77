"""Video-like training windows: virtual cameras, bodies, joint definitions, detector errors, frame rates."""

import numpy as np
import pytest
import torch

from gastnet import create_model
from gastnet.data.augment import (
    BodyRanges,
    DetectorErrorRanges,
    JointDefinitionRanges,
    body_frame,
    detector_errors,
    displace_joint_definitions,
    mirror_world,
    scale_bodies,
)
from gastnet.data.video_windows import VideoAugmentation, VideoWindowLoader
from gastnet.data.virtual_cameras import CameraRanges, fov_to_focal, project_normalized, sample_cameras
from gastnet.geometry.camera import look_at, normalize_screen_coordinates, project_to_2d
from gastnet.skeleton import H36M_17, standing_height
from gastnet.training import Trainer
from gastnet.training.config import video_augmentation
from helpers import tiny_config, walking_world

BONES = H36M_17.bones()


def bone_lengths(poses: torch.Tensor) -> torch.Tensor:
    return torch.stack([(poses[..., c, :] - poses[..., p, :]).norm(dim=-1) for c, p in BONES], -1)


def test_look_at_is_a_rotation_that_centres_the_target():
    g = torch.Generator().manual_seed(1)
    eye, target = torch.randn(50, 3, generator=g) * 3, torch.randn(50, 3, generator=g)
    roll = torch.randn(50, generator=g) * 0.2
    R = look_at(eye, target, roll)
    assert torch.allclose(R @ R.transpose(1, 2), torch.eye(3).expand(50, 3, 3), atol=1e-5)
    assert torch.allclose(torch.linalg.det(R), torch.ones(50), atol=1e-5)
    seen = (R @ (target - eye)[..., None])[..., 0]
    assert torch.allclose(seen[:, :2], torch.zeros(50, 2), atol=1e-5) and (seen[:, 2] > 0).all()
    level = look_at(eye, target)  # without roll the camera's x axis is horizontal
    assert torch.allclose(level[:, 0, 2], torch.zeros(50), atol=1e-6)


def test_normalised_projection_matches_pixels_then_normalisation():
    points = torch.tensor([[[0.4, -0.3, 3.0], [-1.0, 0.5, 5.0]]], dtype=torch.float64)
    w, h, f_n = 1920, 1080, fov_to_focal(70.0, 1920 / 1080)
    pixels = project_to_2d(points, torch.tensor([f_n * w / 2] * 2, dtype=torch.float64),
                           torch.tensor([w / 2, h / 2], dtype=torch.float64))
    expected = normalize_screen_coordinates(pixels, w, h)
    assert torch.allclose(project_normalized(points, torch.tensor([f_n], dtype=torch.float64)), expected)


def test_virtual_cameras_keep_the_person_in_the_frame_at_the_drawn_size():
    n = 2000
    g = torch.Generator().manual_seed(0)
    anchor = torch.tensor([0.3, -0.2, 0.9]).expand(n, 3)
    height = torch.full((n,), 1.7)
    ranges = CameraRanges()
    cams = sample_cameras(anchor, height, ranges, g)
    hips = cams.project(anchor[:, None])[:, 0]
    assert (hips[:, 0].abs() <= 1).all() and (hips[:, 1].abs() <= 1 / cams.aspect).all()
    # a vertical 1.7 m person standing at the anchor fills the drawn fraction of the image height
    person = torch.stack([anchor - torch.tensor([0, 0, 0.85]), anchor + torch.tensor([0, 0, 0.85])], 1)
    image = cams.project(person)
    fill = (image[:, 0] - image[:, 1]).norm(dim=-1) / (2 / cams.aspect)
    assert fill.quantile(0.05) > 0.8 * ranges.person_height[0] and fill.quantile(0.95) < 1.25 * ranges.person_height[1]
    assert ((cams.centre - anchor).norm(dim=-1) >= ranges.min_distance - 1e-4).all()
    assert (cams.elevation_deg > ranges.elevation_deg[0] - 1).all() and (cams.elevation_deg < ranges.elevation_deg[1] + 1).all()
    assert (cams.centre[:, 2] >= ranges.min_height - 1e-6).all()
    # all round: every quadrant of azimuth is used, and both landscape and portrait frames
    direction = torch.atan2(cams.centre[:, 1] - anchor[:, 1], cams.centre[:, 0] - anchor[:, 0])
    assert len(torch.unique((direction / (torch.pi / 2)).floor())) == 4
    assert (cams.aspect > 1).any() and (cams.aspect < 1).any()
    # the person reaches the outer third of the frame in some samples, the centre in others
    assert (hips[:, 0].abs() > 2 / 3).any() and (hips[:, 0].abs() < 1 / 3).any()


def test_scaled_bodies_keep_directions_symmetry_and_the_root():
    poses = torch.from_numpy(walking_world(20))[None].repeat(64, 1, 1, 1)
    scaled = scale_bodies(poses, BodyRanges(), torch.Generator().manual_seed(0))
    assert torch.equal(scaled[:, :, 0], poses[:, :, 0])
    ratio = bone_lengths(scaled) / bone_lengths(poses)  # (B, T, bones)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-4)  # the same body in every frame
    names = {c: i for i, (c, _) in enumerate(BONES)}
    for left, right in zip(H36M_17.joints_left, H36M_17.joints_right):
        assert torch.allclose(ratio[..., names[left]], ratio[..., names[right]], atol=1e-4)
    limit = (1 + BodyRanges().group_max) * float(np.exp(4 * BodyRanges().overall_std))
    assert ratio.max() < limit and ratio.min() > 1 / limit and ratio.std() > 0.03
    for c, p in BONES:  # every bone keeps its direction
        a = torch.nn.functional.normalize(scaled[..., c, :] - scaled[..., p, :], dim=-1)
        b = torch.nn.functional.normalize(poses[..., c, :] - poses[..., p, :], dim=-1)
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(scale_bodies(poses, BodyRanges(0.0, 0.2, 0.0)), poses, atol=1e-6)


def test_joint_definitions_move_only_their_joints_mirrored_and_fixed_in_the_body():
    poses = torch.from_numpy(walking_world(30))[None].repeat(16, 1, 1, 1)
    height = standing_height(poses[:, 0])
    ranges = JointDefinitionRanges(midpoint_probability=0.0)
    moved = displace_joint_definitions(poses, height, ranges, torch.Generator().manual_seed(0))
    untouched = [j for j in range(17) if j not in ranges.joints]
    assert torch.equal(moved[:, :, untouched], poses[:, :, untouched])
    local = torch.einsum("btjd,btkd->btjk", moved - poses, body_frame(poses))  # offsets in body axes
    assert torch.allclose(local, local[:, :1].expand_as(local), atol=1e-5)  # one offset for all frames
    mirror = torch.tensor([-1.0, 1.0, 1.0])
    for left, right in ((4, 1), (11, 14)):
        assert torch.allclose(local[:, :, left], local[:, :, right] * mirror, atol=1e-6)
    assert 0.3 * ranges.std < (local[:, 0, ranges.joints] / height[:, None, None]).std() < 3 * ranges.std
    remade = displace_joint_definitions(poses, height, JointDefinitionRanges(midpoint_probability=1.0))
    assert torch.allclose(remade[:, :, 0], (remade[:, :, 1] + remade[:, :, 4]) / 2)
    assert torch.allclose(remade[:, :, 8], (remade[:, :, 11] + remade[:, :, 14]) / 2)
    assert torch.allclose(remade[:, :, 7], (remade[:, :, 0] + remade[:, :, 8]) / 2)


def test_mirroring_swaps_sides_and_negates_x():
    poses = torch.from_numpy(walking_world(5))[None].repeat(2, 1, 1, 1)
    out = mirror_world(poses, torch.tensor([False, True]))
    assert torch.equal(out[0], poses[0])
    assert torch.allclose(out[1, :, 4, 0], -poses[1, :, 1, 0]) and torch.allclose(out[1, :, 4, 1:], poses[1, :, 1, 1:])


def _only(**changes) -> DetectorErrorRanges:
    none = dict(noise=(0.0, 0.0), speed_noise=(0.0, 0.0), swap_probability=0.0, outlier_probability=0.0,
                missing_probability=0.0)
    return DetectorErrorRanges(**{**none, **changes})


def test_detector_errors_each_kind():
    g = torch.Generator().manual_seed(3)
    clean = torch.randn(256, 27, 17, 2, generator=g) * 0.1 + torch.linspace(-0.5, 0.5, 17)[:, None]
    assert torch.equal(detector_errors(clean, _only()), clean)
    # missing joints: some values change, and every changed run lies on a straight line in time
    filled = detector_errors(clean, _only(missing_probability=1.0), torch.Generator().manual_seed(0))
    changed = (filled != clean).any(-1)  # (B, T, J)
    assert changed.any() and (changed.sum((1, 2)) <= DetectorErrorRanges().missing_frames).all()
    b, j = [int(i) for i in torch.nonzero(changed.any(1))[0]]
    frames = torch.nonzero(changed[b, :, j])[:, 0]
    run = filled[b, frames, j]
    if len(frames) >= 2:
        steps = run[1:] - run[:-1]
        assert torch.allclose(steps, steps[:1].expand_as(steps), atol=1e-5)
    # left/right confusions exchange a whole limb end for a few frames
    swapped = detector_errors(clean, _only(swap_probability=1.0), torch.Generator().manual_seed(0))
    diff = (swapped != clean).any(-1)
    partner = {2: 5, 5: 2, 3: 6, 6: 3, 12: 15, 15: 12, 13: 16, 16: 13}
    assert diff.any() and (diff.sum(1) <= 6).all()  # at most 6 frames
    for b in range(8):
        for t in torch.nonzero(diff[b].any(-1))[:, 0]:
            moved = set(torch.nonzero(diff[b, t])[:, 0].tolist())
            assert moved == {2, 3, 5, 6} or moved == {12, 13, 15, 16}  # knees and ankles, or elbows and wrists
            for a in moved:
                assert torch.equal(swapped[b, t, a], clean[b, t, partner[a]])
    # noise grows with the person's size in the image
    small = detector_errors(clean * 0.2, _only(noise=(0.02, 0.02)), torch.Generator().manual_seed(0)) - clean * 0.2
    large = detector_errors(clean, _only(noise=(0.02, 0.02)), torch.Generator().manual_seed(0)) - clean
    assert 3 < float(large.std() / small.std()) < 7


def test_video_windows_are_deterministic_rigid_and_follow_the_frame_rate():
    world = [walking_world(200), walking_world(150, 5)]
    plain = VideoAugmentation(flip=False, bodies=None, joint_definitions=None, detector=None)
    loader = VideoWindowLoader(world, 50.0, 27, 16, plain, samples_per_epoch=64, seed=4)
    assert len(loader) == 4
    x, y = next(loader.epoch(1, 2))
    x2, y2 = next(loader.epoch(1, 2))
    assert torch.equal(x, x2) and torch.equal(y, y2) and not torch.equal(x, next(loader.epoch(2, 2))[0])
    assert x.shape == (16, 27, 17, 2) and y.shape == (16, 1, 17, 3)
    assert torch.allclose(y[:, 0, 0], torch.zeros(16, 3))
    mocap = bone_lengths(torch.from_numpy(world[0][:1]))[0]
    assert torch.allclose(bone_lengths(y[:, 0]), mocap.expand(16, -1), atol=1e-4)  # a rigid camera transform
    # at the mocap's own rate a window is the mocap frames themselves, clamped at the sequence ends
    frames = torch.tensor([0, 100, 199, 200, 349])
    windows = loader.windows(frames, torch.full((5,), 50.0))
    concat = np.concatenate(world)
    for f, w in zip(frames.tolist(), windows):
        lo, hi = (0, 199) if f < 200 else (200, 349)
        expected = concat[np.clip(f + np.arange(27) - 13, lo, hi)]
        assert np.allclose(w.numpy(), expected)
    half = loader.windows(torch.tensor([100]), torch.tensor([25.0]))[0]  # 25 fps: every other frame
    assert np.allclose(half.numpy(), concat[100 + 2 * (np.arange(27) - 13)])
    causal = VideoWindowLoader(world, 50.0, 27, 4, plain, causal=True)
    assert np.allclose(causal.windows(torch.tensor([100]), torch.tensor([50.0]))[0, -1].numpy(), concat[100])


def test_training_with_video_windows_and_its_frame_rate_range(tiny_h36m, tmp_path):
    config = tiny_config("augment.enabled=true", "augment.samples_per_epoch=64", "augment.fps=[12, 48]")
    history = Trainer(config, tmp_path / "run", data_dir=tiny_h36m, progress=False).run()
    assert history[-1]["epoch"] == 2 and np.isfinite(history[-1]["train_mpjpe_mm"])
    model = create_model(tmp_path / "run" / "checkpoint_last.pt")
    assert model.pretrained_weights.frame_rates == (12.0, 48.0)
    with pytest.raises(ValueError, match="fps must be a range"):
        video_augmentation(tiny_config("augment.enabled=true", "augment.fps=[60, 10]").augment)


def test_real_camera_samples_match_the_datasets_own_projection():
    from gastnet.data import dataset_cameras

    world = [walking_world(120)]
    cams = [dataset_cameras("h36m", "S9")]
    plain = VideoAugmentation(flip=False, bodies=None, joint_definitions=None, detector=None, real_cameras=1.0,
                              fps=(50.0, 50.0))
    loader = VideoWindowLoader(world, 50.0, 9, 8, plain, cameras=cams, seed=1)
    g = torch.Generator().manual_seed(0)
    frames = torch.tensor([4, 30, 60, 100])
    x, y = loader.batch(frames, g)
    # which camera each sample used is drawn inside; every sample must match exactly one of the four
    for i, f in enumerate(frames.tolist()):
        window = world[0][np.clip(f + np.arange(9) - 4, 0, 119)].astype(np.float64)
        matches = []
        for cam in cams[0]:
            expected = cam.normalize(cam.project(cam.world_to_camera(window)))
            target = cam.world_to_camera(window[4])
            if np.allclose(x[i].numpy(), expected, atol=1e-4):
                matches.append(np.allclose(y[i, 0].numpy(), target - target[:1], atol=1e-5))
        assert matches == [True]
    with pytest.raises(ValueError, match="calibrated cameras"):
        VideoWindowLoader(world, 50.0, 9, 8, plain)


def test_windows_with_several_targets_extend_the_window_and_keep_the_single_target_batches():
    world = [walking_world(200), walking_world(150, 5)]
    plain = VideoAugmentation(flip=False, bodies=None, joint_definitions=None, detector=None)
    one = VideoWindowLoader(world, 50.0, 9, 8, plain, samples_per_epoch=16, seed=4)
    three = VideoWindowLoader(world, 50.0, 9, 8, plain, samples_per_epoch=16, seed=4, target_frames=3)
    x1, y1 = next(one.epoch(0))
    x3, y3 = next(three.epoch(0))
    assert x3.shape == (8, 11, 17, 2) and y3.shape == (8, 3, 17, 3)
    # the drawn frame is the middle target, seen through the same camera: the single-target batch
    assert torch.allclose(x3[:, 1:10], x1, atol=1e-6) and torch.allclose(y3[:, 1:2], y1, atol=1e-6)
    concat = torch.from_numpy(np.concatenate(world))
    frames, fps = torch.tensor([100, 250]), torch.tensor([50.0, 25.0])
    windows = three.windows(frames, fps)
    assert torch.allclose(windows[0, 4:7], concat[99:102]) and torch.allclose(windows[1, 4:7], concat[248:253:2])
    causal = VideoWindowLoader(world, 50.0, 9, 4, plain, causal=True, target_frames=3)
    assert torch.allclose(causal.windows(torch.tensor([100]), torch.tensor([50.0]))[0, -3:], concat[98:101])
    with pytest.raises(ValueError, match="target_frames must be positive"):
        VideoWindowLoader(world, 50.0, 9, 4, plain, target_frames=0)


@pytest.mark.parametrize("causal", [False, True], ids=["centred", "causal"])
def test_a_grown_receptive_field_starts_as_the_smaller_model(causal):
    from gastnet.model.checkpoint import grow_weights
    from helpers import randomize

    suffix = "_causal" if causal else ""
    torch.manual_seed(0)
    small = randomize(create_model(f"gastnet_rf27_c32{suffix}")).eval()
    big = create_model(f"gastnet_rf81_c32{suffix}")
    calibration = torch.randn(16, 81, 17, 2) * 0.3
    grow_weights(big, small.state_dict(), "test", calibration)
    big.eval()
    x = torch.randn(3, 81, 17, 2, generator=torch.Generator().manual_seed(1)) * 0.3
    first = 54 if causal else 27  # the RF-27 window inside the RF-81 one
    with torch.no_grad():
        for form in ("dilated", "strided"):
            small.form = big.form = form
            assert torch.allclose(big(x), small(x[:, first : first + 27]), atol=1e-5)
        # a sequence (dilated, edge-padded) too, frame for frame
        seq = torch.randn(1, 40, 17, 2) * 0.3
        small.form = big.form = "dilated"
        assert torch.allclose(big.forward_sequence(seq), small.forward_sequence(seq), atol=1e-5)
    # the calibration changed no running statistic of the copied layers, and the new block learns
    assert torch.equal(big.state_dict()["stem_norm.running_mean"], small.state_dict()["stem_norm.running_mean"])
    big.train()
    big.form = "strided"
    big(x).square().sum().backward()
    assert big.temporal_blocks[2].pointwise.norm.weight.grad.abs().sum() > 0
    assert big.head.weight.grad[:, 256:].abs().sum() > 0


def test_training_with_a_velocity_term_from_a_smaller_receptive_field(tiny_h36m, tmp_path):
    small = tiny_config("augment.enabled=true", "augment.samples_per_epoch=64", "train.epochs=1",
                        "model.filter_widths=[3, 3]")
    Trainer(small, tmp_path / "rf9", data_dir=tiny_h36m, progress=False).run()
    config = tiny_config("augment.enabled=true", "augment.samples_per_epoch=64", "model.filter_widths=[3, 3, 3]",
                         "train.velocity_weight=1", "train.acceleration_weight=1", "train.eval_every=0",
                         f'train.init="{tmp_path / "rf9" / "checkpoint_last.pt"}"')
    history = Trainer(config, tmp_path / "rf27", data_dir=tiny_h36m, progress=False).run()
    assert history[-1]["epoch"] == 2 and np.isfinite(history[-1]["train_mpjpe_mm"])
    assert create_model(tmp_path / "rf27" / "checkpoint_last.pt").receptive_field == 27
