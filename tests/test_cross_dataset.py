"""Cross-dataset benchmarks: seeded virtual-camera clips, the CMU and HumanEva mappings, the command."""

import numpy as np
import pytest
import torch

from gastnet import create_model
from gastnet.cli.main import main
from gastnet.data.cmu import UNIT_METRES, load_cmu_bvh
from gastnet.evaluation.cross_dataset import (
    HUMANEVA_TO_H36M,
    SHARED_JOINTS,
    benchmark_clips,
    evaluate_clips,
    virtual_camera_clips,
)
from gastnet.evaluation.metrics import mpjpe
from helpers import shared_file, walking_world


def test_virtual_camera_clips_are_seeded_cut_and_consistent():
    sequences = [("Walking", walking_world(250)), ("Directions", walking_world(130, 5))]
    clips = virtual_camera_clips(sequences, 25.0, 100, cameras_per_clip=2, seed=7)
    # 250 frames: 100 + 100 + 50 (kept: half a clip); 130: 100 + 30 (dropped)
    assert [len(c.inputs) for c in clips] == [100, 100, 100, 100, 50, 50, 100, 100]
    again = virtual_camera_clips(sequences, 25.0, 100, cameras_per_clip=2, seed=7)
    other = virtual_camera_clips(sequences, 25.0, 100, cameras_per_clip=2, seed=8)
    assert all(np.array_equal(a.inputs, b.inputs) for a, b in zip(clips, again))
    assert not np.allclose(clips[0].inputs, other[0].inputs)
    assert not np.allclose(clips[0].inputs, clips[1].inputs)  # two cameras per clip
    for clip in clips:  # inputs are the pinhole projection of the camera-frame targets
        z = clip.targets[..., 2:]
        ratio = clip.inputs / (clip.targets[..., :2] / z)
        assert np.allclose(ratio, ratio.flat[0], rtol=1e-4)
        bones = np.linalg.norm(clip.targets[:, 1] - clip.targets[:, 0], axis=-1)
        assert np.allclose(bones, 0.13, atol=1e-4)  # a rigid camera transform keeps the hip width


def test_evaluate_clips_scores_the_given_joints_with_breakdowns():
    clips = virtual_camera_clips([("Walking", walking_world(120))], 30.0, 60, cameras_per_clip=3, seed=0)
    model = create_model("gastnet_rf9", channels=8).eval()
    table = evaluate_clips(model, clips, (0, 1, 2, 3))
    assert [g["action"] for g in table.groups] == ["Walking"] and table.groups[0]["frames"] == 360
    # the same number by hand: lift each clip, centre, score joints 0-3
    from gastnet.runtime.predict import lift_at_model_rate

    errors = []
    for c in clips:
        pred = torch.from_numpy(lift_at_model_rate(model, c.inputs, c.fps, model.skeleton))
        target = torch.from_numpy(c.targets).double()
        pred, target = (pred - pred[:, :1])[:, :4], (target - target[:, :1])[:, :4]
        errors.append(1000 * mpjpe(pred, target, reduction="none"))
    assert table.average["mpjpe"] == pytest.approx(float(torch.cat(errors).mean()), rel=1e-6)
    breakdown = table.info["breakdown"]
    positions = [k for k in breakdown if k.startswith("hips")]
    elevations = [k for k in breakdown if k.startswith("camera")]
    assert sum(breakdown[k]["frames"] for k in positions) == 360 == sum(breakdown[k]["frames"] for k in elevations)


@pytest.mark.data
def test_cmu_mapping_gives_a_human_sized_body():
    world, fps = load_cmu_bvh(shared_file("cmu", "131_01.bvh"), 30.0)
    assert fps == pytest.approx(30.0, rel=1e-3) and world.shape[1:] == (17, 3)
    assert np.allclose(world[:, 0], (world[:, 1] + world[:, 4]) / 2)
    thigh = np.linalg.norm(world[:, 2] - world[:, 1], axis=-1).mean()
    assert 0.35 < thigh < 0.5, thigh  # metres: UNIT_METRES is right
    above = world[:, [10, 3, 6], 2] - world[:, :1, 2]  # head top and ankles relative to the pelvis: z is up
    assert np.median(above[:, 0]) > 0.5 and (np.median(above[:, 1:], 0) < -0.6).all()
    assert UNIT_METRES == pytest.approx(0.05644, rel=1e-3)


@pytest.mark.data
def test_humaneva_clips_copy_the_shared_joints_and_make_the_rest():
    shared_file("humaneva", "data_3d_humaneva15.npz")
    clips, scored = benchmark_clips("humaneva-cross")
    assert scored == SHARED_JOINTS and 1 not in scored and 10 not in scored and len(clips) > 100
    from gastnet.data.sources import load_pose_data

    mocap, points, _ = load_pose_data("humaneva", "gt")
    subject, action = next(iter(mocap.sequences()))
    cam = mocap.cameras(subject)[0]
    first = clips[0]
    pixels = points.positions[subject][action][0]
    for h36m, he in HUMANEVA_TO_H36M.items():
        assert np.allclose(first.inputs[:, h36m], cam.normalize(pixels)[:, he], atol=1e-6)
    assert np.allclose(first.targets[:, 11], mocap.camera_frame(subject, action)[0][:, 2], atol=1e-6)
    assert np.allclose(first.inputs[:, 7], (first.inputs[:, 0] + first.inputs[:, 8]) / 2)
    assert first.fps == 60.0


@pytest.mark.data
def test_evaluate_command_runs_a_benchmark(tmp_path, capsys):
    shared_file("cmu", "131_01.bvh")
    assert main(["evaluate", "gastnet_rf27_c32.h36m_noise", "--dataset", "cmu-vcam", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cmu-vcam: 40 clips" in out and "hips in the outer third" in out
    assert (tmp_path / "eval_cmu-vcam.json").is_file()
    assert main(["evaluate", "gastnet_rf27_c32.h36m_noise", "--dataset", "cmu-vcam", "--out", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["evaluate", "gastnet_rf27_c32.h36m_noise", "--dataset", "cmu-vcam", "--input-noise", "0.01"]) == 2
