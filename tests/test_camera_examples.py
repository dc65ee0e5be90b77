"""Screen normalisation and the built-in example motion."""

import numpy as np
import pytest
import torch

from gastnet.examples import synthetic_walk_2d, synthetic_walk_3d
from gastnet.geometry.camera import (
    camera_to_world,
    image_coordinates,
    normalize_screen_coordinates,
    project_to_2d,
    world_to_camera,
)
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


def rotation_matrix(q):
    """Quaternion (w, x, y, z) to a rotation matrix, the textbook formula (independent of the code)."""
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def test_world_camera_transforms_match_rotation_matrices():
    rng = np.random.default_rng(0)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    t = rng.normal(size=3)
    points = rng.normal(size=(5, 17, 3))
    r = rotation_matrix(q)
    np.testing.assert_allclose(camera_to_world(points, q, t), points @ r.T + t, atol=1e-12)
    np.testing.assert_allclose(world_to_camera(points, q, t), (points - t) @ r, atol=1e-12)
    torch.testing.assert_close(
        world_to_camera(torch.from_numpy(points), torch.from_numpy(q), torch.from_numpy(t)),
        torch.from_numpy((points - t) @ r),
    )


def test_projection_with_distortion_by_hand():
    f, c = np.array([1000.0, 900.0]), np.array([500.0, 400.0])
    k, p = np.array([0.1, 0.01, 0.001]), np.array([0.002, -0.003])
    point = np.array([0.4, -0.2, 2.0])
    u, v = 0.2, -0.1
    r2 = u * u + v * v
    radial = 1 + 0.1 * r2 + 0.01 * r2**2 + 0.001 * r2**3
    tangential = 0.002 * u - 0.003 * v
    expected = [1000 * (u * (radial + tangential) + 0.002 * r2) + 500, 900 * (v * (radial + tangential) - 0.003 * r2) + 400]
    np.testing.assert_allclose(project_to_2d(point, f, c, k, p), expected, rtol=1e-12)
    np.testing.assert_allclose(project_to_2d(point, f, c), [1000 * u + 500, 900 * v + 400])
    as_torch = project_to_2d(*(torch.from_numpy(a) for a in (point, f, c, k, p)))
    np.testing.assert_allclose(as_torch.numpy(), expected, rtol=1e-12)
