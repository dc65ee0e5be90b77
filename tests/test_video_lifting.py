"""Lifting as a video user meets it: anywhere in a wide frame, at the video's own frame rate."""

import numpy as np
import pytest
import torch

from gastnet import create_model
from gastnet.camera import project_to_2d
from gastnet.evaluation.evaluate import predict_sequence
from gastnet.evaluation.metrics import spectral_peak_ratio
from gastnet.examples import load_demo_sample, synthetic_walk_3d
from gastnet.inference.lift import frame_stride, lift_at_model_rate
from gastnet.inference.pipeline import load_lifter
from gastnet.model.weights import list_pretrained


def standing_person(frames: int = 60) -> np.ndarray:
    """A person standing upright, arms hanging (T, 17, 3) metres, y up, facing the camera (-z)."""
    pose = synthetic_walk_3d(frames)[:1].repeat(frames, 0)  # the walk's first frame: legs together
    sway = 0.01 * np.sin(np.arange(frames) / 7.0)[:, None, None] * np.array([1.0, 0.0, 0.0])
    return pose + sway


def lean_deg(poses: np.ndarray, up: np.ndarray) -> float:
    """Mean angle (degrees) between the torso (pelvis to thorax) and ``up``."""
    torso = poses[:, 8] - poses[:, 0]
    cos = (torso @ up) / np.linalg.norm(torso, axis=-1)
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())


def test_upright_person_stays_upright_anywhere_in_a_wide_frame():
    """A level 16:9 camera with a 100-degree lens; the same standing person moved across the frame."""
    model, _ = load_lifter()
    w, h = 1920, 1080
    focal = (w / 2) / np.tan(np.radians(100) / 2)
    person = standing_person() * np.array([1.0, -1.0, 1.0])  # camera frame: y down
    leans = {}
    for u in (-0.8, -0.4, 0.0, 0.4, 0.8):  # where the hips appear, as a fraction of the half width
        for v in (-0.5, 0.0, 0.5):  # and of the half height
            depth = 3.5
            hips = np.array([u * (w / 2) * depth / focal, v * (h / 2) * depth / focal, depth])
            pixels = project_to_2d(person + hips, np.array([focal, focal]), np.array([w / 2, h / 2]))
            assert ((pixels > 0) & (pixels < [w, h])).all()
            inputs = (pixels / w * 2 - np.array([1.0, h / w])).astype(np.float32)
            poses = lift_at_model_rate(model, inputs, 30.0, model.skeleton)
            leans[(u, v)] = lean_deg(poses, np.array([0.0, -1.0, 0.0]))
    worst = max(leans, key=leans.get)
    level = max(lean for (u, v), lean in leans.items() if v == 0.0)
    # the target is < 10 degrees everywhere; the shipped model reaches it across the middle
    # of the frame and stays under 15 with the hips a quarter of the height above or below the
    # centre (the older 10 fps models: up to 55 degrees here)
    assert level < 5.0, f"torso lean {level:.1f} degrees along the horizontal centre line: {leans}"
    assert leans[worst] < 15.0, f"torso lean {leans[worst]:.1f} degrees with the hips at {worst}: {leans}"


@pytest.mark.skipif("gastnet_rf27_c32_wild" not in list_pretrained(), reason="needs the shipped 10 fps model")
def test_interleaved_passes_leave_no_ripple():
    """A model trained at 10 fps lifts the 50 fps demo walk in 5 passes; averaging them removes the 10 Hz ripple."""
    model = create_model("gastnet_rf27_c32_wild", pretrained=True)
    sample = load_demo_sample()
    fps = float(sample["fps"])
    assert frame_stride(model, fps) == 5
    w, h = sample["image_size"]
    inputs = (sample["keypoints_2d"] / w * 2 - np.array([1.0, h / w])).astype(np.float32)
    with torch.no_grad():
        raw = np.empty(inputs.shape[:-1] + (3,))
        for phase in range(5):
            raw[phase::5] = predict_sequence(model, inputs[phase::5], model.skeleton).numpy()
    lifted = lift_at_model_rate(model, inputs, fps, model.skeleton)
    ratio_2d = spectral_peak_ratio(inputs, fps, 10.0)
    assert spectral_peak_ratio(raw, fps, 10.0) > 2 * ratio_2d  # the test can see a ripple
    assert spectral_peak_ratio(lifted, fps, 10.0) < ratio_2d
    assert np.abs(lifted - raw).mean() < 0.02  # averaging 3 frames barely moves the poses
