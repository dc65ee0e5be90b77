"""Screen normalisation and the built-in example motion."""

import numpy as np
import pytest
import torch

from gastnet.camera import image_coordinates, normalize_screen_coordinates
from gastnet.examples import synthetic_walk_2d, synthetic_walk_3d
from gastnet.skeleton import H36M_17


def test_normalisation_maps_corners_and_inverts():
    pixels = np.array([[0.0, 0.0], [1920.0, 1080.0], [960.0, 540.0]])
    norm = normalize_screen_coordinates(pixels, 1920, 1080)
    # x spans [-1, 1]; y keeps the aspect ratio, centred on 0
    np.testing.assert_allclose(norm, [[-1, -1080 / 1920], [1, 1080 / 1920], [0, 0]], atol=1e-12)
    np.testing.assert_allclose(image_coordinates(norm, 1920, 1080), pixels)
    tensor = torch.from_numpy(pixels).float()
    torch.testing.assert_close(normalize_screen_coordinates(tensor, 1920, 1080), torch.from_numpy(norm).float())


def test_normalisation_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        normalize_screen_coordinates(np.zeros((4, 3)), 100, 100)
    with pytest.raises(ValueError, match="positive"):
        normalize_screen_coordinates(np.zeros((4, 2)), 0, 100)


def test_synthetic_walk_keeps_bone_lengths_and_moves():
    pose = synthetic_walk_3d(60)
    lengths = np.stack([np.linalg.norm(pose[:, c] - pose[:, p], axis=-1) for c, p in H36M_17.bones()], -1)
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), atol=1e-9)
    assert np.ptp(pose[:, 3, 2]) > 0.2  # the ankle swings forward and back by more than 20 cm
    pixels = synthetic_walk_2d(60, (800, 600))
    assert pixels.shape == (60, 17, 2) and (pixels > 0).all() and (pixels[..., 0] < 800).all()
    assert pixels[0, 10, 1] < pixels[0, 0, 1] < pixels[0, 3, 1]  # head above pelvis above ankle in the image
