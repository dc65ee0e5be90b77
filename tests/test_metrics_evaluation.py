"""Metrics against hand-computed values and invariants; evaluation tables."""

import json

import numpy as np
import pytest
import torch

from gastnet.data.windows import PoseSequence
from gastnet.evaluation import evaluate_sequences, mpjpe, mpjve, n_mpjpe, p_mpjpe, procrustes_align
from gastnet.model import create_model


def random_rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_mpjpe_by_hand():
    target = np.zeros((2, 3, 3))
    pred = target.copy()
    pred[0, 0] = [3, 4, 0]  # 5 mm off on one of three joints in frame 0
    pred[1, :, 2] = 1.0  # every joint 1 mm off in frame 1
    np.testing.assert_allclose(mpjpe(pred, target, reduction="none").numpy(), [5 / 3, 1.0])
    assert float(mpjpe(pred, target)) == pytest.approx((5 / 3 + 1) / 2)


def test_p_mpjpe_removes_similarity_transforms_but_not_reflections():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(4, 17, 3))
    moved = 1.3 * target @ random_rotation(rng).T + rng.normal(size=3)
    assert float(p_mpjpe(moved, target)) < 1e-9
    assert float(mpjpe(moved, target)) > 0.5
    mirrored = target * np.array([-1.0, 1.0, 1.0])  # a reflection is not a rotation
    assert float(p_mpjpe(mirrored, target)) > 0.1
    aligned = procrustes_align(moved, target).numpy()
    np.testing.assert_allclose(aligned, target, atol=1e-9)


def test_metric_ordering_and_n_mpjpe_scale():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(50, 17, 3))
    pred = target + 0.3 * rng.normal(size=target.shape)
    p, n, m = float(p_mpjpe(pred, target)), float(n_mpjpe(pred, target)), float(mpjpe(pred, target))
    assert p <= n <= m  # each protocol optimises over a superset of the next one's transforms
    assert float(n_mpjpe(2.0 * target, target)) < 1e-12


def test_mpjve_is_the_error_of_velocities():
    target = np.zeros((4, 2, 3))
    pred = target.copy()
    pred[:, :, 0] = 7.0  # constant offset: no velocity error
    assert float(mpjve(pred, target)) == 0.0
    pred[2:, 0, 0] += 2.0  # joint 0 jumps by 2 between frames 1 and 2
    np.testing.assert_allclose(mpjve(pred, target, reduction="none").numpy(), [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="T >= 2"):
        mpjve(pred[:1], target[:1])


def test_metric_shape_errors():
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 3\)"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))


def seq(action, subject, camera, n, offset_mm):
    inputs = np.random.default_rng(camera).normal(size=(n, 17, 2)).astype(np.float32) * 0.1
    targets = np.zeros((n, 17, 3), np.float32)
    targets[:, 1:, 2] = offset_mm / 1000.0
    return PoseSequence(subject, action, camera, inputs, targets)


def test_tables_weight_frames_within_groups_and_average_groups():
    model = create_model("gastnet_rf9", channels=8).eval()
    with torch.no_grad():  # a model that always predicts zeros: the error is the target's size
        model.head.weight.zero_()
    sequences = [seq("Walking 1", "S9", 0, 30, 16.0), seq("Walking 2", "S11", 1, 10, 32.0), seq("Eating 1", "S9", 0, 20, 8.0)]
    table = evaluate_sequences(model, sequences)
    by_action = {g["action"]: g for g in table.groups}
    # 16 of 17 joints are off by the offset; Walking pools 30 frames at 16 mm and 10 at 32 mm
    assert by_action["Walking"]["mpjpe"] == pytest.approx((30 * 16 + 10 * 32) / 40 * 16 / 17, rel=1e-6)
    assert by_action["Eating"]["mpjpe"] == pytest.approx(8 * 16 / 17, rel=1e-6)
    assert table.average["mpjpe"] == pytest.approx((by_action["Walking"]["mpjpe"] + by_action["Eating"]["mpjpe"]) / 2)
    assert [g["action"] for g in table.groups] == ["Eating", "Walking"]  # the paper's action order
    assert by_action["Walking"]["frames"] == 40
    markdown = table.to_markdown()
    assert markdown.splitlines()[0] == "| mm | Eating | Walking | Avg |"
    csv_lines = table.to_csv().splitlines()
    assert csv_lines[0] == "action,frames,mpjpe,p_mpjpe,n_mpjpe,mpjve" and csv_lines[-1].startswith("Average,60,")
    assert json.loads(table.to_json())["average"]["mpjpe"] == pytest.approx(table.average["mpjpe"])
    per_subject = evaluate_sequences(model, sequences, by_subject=True)
    assert [(g["action"], g["subject"]) for g in per_subject.groups] == [("Eating", "S9"), ("Walking", "S11"), ("Walking", "S9")]


def test_flip_averaged_predictions_are_mirror_equivariant():
    from gastnet.data.windows import flip_poses
    from gastnet.runtime.predict import predict_sequence
    from gastnet.skeleton import H36M_17

    model = create_model("gastnet_rf9", channels=8).eval()
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(12, 17, 2)).astype(np.float32))
    # a random model is not mirror symmetric ...
    assert not torch.allclose(predict_sequence(model, flip_poses(x, H36M_17)), flip_poses(predict_sequence(model, x), H36M_17))
    # ... but averaging with the mirrored input makes the prediction of a mirrored input the mirrored prediction
    averaged = predict_sequence(model, x, H36M_17)
    torch.testing.assert_close(predict_sequence(model, flip_poses(x, H36M_17), H36M_17), flip_poses(averaged, H36M_17))


def test_input_noise_is_fixed_gaussian_and_leaves_the_originals_alone():
    from gastnet.evaluation.evaluate import add_input_noise

    rng = np.random.default_rng(3)
    sequences = [PoseSequence("S9", "Walking", c, rng.random((400, 17, 2), dtype=np.float32),
                              np.zeros((400, 17, 3), np.float32)) for c in range(3)]
    before = [s.inputs.copy() for s in sequences]
    noisy = add_input_noise(sequences, 0.01)
    again = add_input_noise(sequences, 0.01)
    for original, kept, a, b in zip(before, sequences, noisy, again):
        np.testing.assert_array_equal(kept.inputs, original)
        np.testing.assert_array_equal(a.inputs, b.inputs)  # the same noise on every run
        delta = (a.inputs - original).ravel()
        assert abs(delta.mean()) < 1e-3 and delta.std() == pytest.approx(0.01, rel=0.03)
    assert not np.allclose(noisy[0].inputs - before[0], noisy[1].inputs - before[1])  # fresh noise per sequence
