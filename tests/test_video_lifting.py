"""Lifting as a video user meets it: anywhere in a wide frame, at the video's own frame rate."""

import numpy as np
import torch

from gastnet import create_model
from gastnet.evaluation.metrics import spectral_peak_ratio
from gastnet.examples import load_demo_sample
from gastnet.pipeline.recording import DEFAULT_MODELS
from gastnet.runtime.predict import frame_stride, lift_at_model_rate, predict_sequence
from helpers import lean_grid


def test_upright_person_stays_upright_anywhere_in_a_wide_frame():
    """A level 16:9 camera with a 100-degree lens; the same standing person moved across the frame."""
    model = create_model(DEFAULT_MODELS[False], pretrained=True)
    leans = lean_grid(model)
    worst = max(leans, key=leans.get)
    level = max(lean for (u, v), lean in leans.items() if v == 0.0)
    # the target is < 10 degrees everywhere; the shipped model reaches it across the middle
    # of the frame and stays under 15 with the hips a quarter of the height above or below the
    # centre (the older 10 fps models: up to 57 degrees here; python benchmarks/bench_lean.py)
    assert level < 5.0, f"torso lean {level:.1f} degrees along the horizontal centre line: {leans}"
    assert leans[worst] < 15.0, f"torso lean {leans[worst]:.1f} degrees with the hips at {worst}: {leans}"


def test_interleaved_passes_leave_no_ripple():
    """A model trained at 10 fps lifts the 50 fps demo walk in 5 passes; averaging them removes the 10 Hz ripple."""
    model = create_model("gastnet_rf27_c32.h36m_noise", pretrained=True)
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
