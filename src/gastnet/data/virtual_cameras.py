"""Virtual cameras: random, plausible video cameras around a person, and projection through them.

A training sample (or a benchmark clip) is seen through a camera drawn around the person: all
round in azimuth, from slightly below the hips to well above them, at the distance that makes
the person fill a chosen fraction of the image height, with a lens from tele to wide angle, an
image of a real video's aspect ratio (landscape or portrait) and the person anywhere in the
frame. The camera is static over a window, so a person who walks moves across the image.

Projection is a pinhole with the principal point at the image centre, straight into the network's
normalised screen coordinates: ``x' = f_n X / Z``, ``y' = f_n Y / Z`` with ``f_n = 2 f / w``
(``f`` and ``w`` in pixels), so that x' spans [-1, 1] across the image and y' spans
[-h/w, h/w], exactly as :func:`gastnet.geometry.camera.normalize_screen_coordinates` maps pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..geometry.camera import fov_to_focal, look_at

__all__ = ["CameraRanges", "VirtualCameras", "sample_cameras", "project_normalized", "fov_to_focal",
           "seeded_generator"]


@dataclass
class CameraRanges:
    """Where virtual cameras are drawn from (angles in degrees).

    ``fov_deg`` is the field of view across the image's long side: about 40 for a zoomed phone,
    65-75 for a phone's main camera, 100 and more for wide-angle lenses. ``person_height`` is the
    fraction of the image height the standing person would fill. ``position`` scales how far from
    the centre the person may stand: 1.0 lets them reach the image borders.
    """

    azimuth_deg: tuple[float, float] = (-180.0, 180.0)
    elevation_deg: tuple[float, float] = (-10.0, 45.0)  # of the camera, seen from the hips
    fov_deg: tuple[float, float] = (35.0, 105.0)
    aspect_ratios: tuple[float, ...] = (16 / 9, 16 / 9, 4 / 3, 9 / 16, 3 / 4, 1.0)  # width / height, drawn uniformly
    person_height: tuple[float, float] = (0.25, 0.9)
    position: float = 1.0
    roll_deg: float = 4.0  # standard deviation of the camera's roll
    min_distance: float = 1.2  # metres from the hips
    min_height: float = 0.1  # metres above the floor (z = 0)


@dataclass
class VirtualCameras:
    """B cameras: world-to-camera ``rotation`` (B, 3, 3), ``centre`` (B, 3) world metres,
    ``focal`` (B,) normalised focal length f_n, ``aspect`` (B,) width / height, ``elevation_deg`` (B,)."""

    rotation: torch.Tensor
    centre: torch.Tensor
    focal: torch.Tensor
    aspect: torch.Tensor
    elevation_deg: torch.Tensor

    def to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """World points (B, ..., 3) to each sample's camera frame (B, ..., 3), metres."""
        b = points.shape[0]
        flat = points.reshape(b, -1, 3) - self.centre[:, None]
        return (flat @ self.rotation.transpose(1, 2)).reshape(points.shape)

    def project(self, points: torch.Tensor) -> torch.Tensor:
        """World points (B, ..., 3) to normalised screen coordinates (B, ..., 2)."""
        return project_normalized(self.to_camera(points), self.focal)


def project_normalized(points_camera: torch.Tensor, focal: torch.Tensor) -> torch.Tensor:
    """Camera-frame points (B, ..., 3) to normalised screen coordinates (B, ..., 2) with focal f_n (B,).

    Depths are clamped to at least 5 cm so that a point behind the camera cannot blow up.

    >>> project_normalized(torch.tensor([[[0.5, -0.25, 2.0]]]), torch.tensor([2.0])).tolist()
    [[[0.5, -0.25]]]
    """
    z = points_camera[..., 2:].clamp(min=0.05)
    f = focal.reshape((-1,) + (1,) * (points_camera.dim() - 1))
    return f * points_camera[..., :2] / z


def sample_cameras(
    anchor: torch.Tensor, height: torch.Tensor, ranges: CameraRanges, generator: torch.Generator | None = None
) -> VirtualCameras:
    """Draw one camera per sample around the hips ``anchor`` (B, 3) of a person ``height`` (B,) tall.

    The camera stands at the distance where the person fills the drawn fraction of the image
    height, looks at a point beside the hips chosen so that the hips appear at a drawn place in
    the image (within the part of the frame where the whole person fits), and rolls slightly.
    """
    b, dev, dt = anchor.shape[0], anchor.device, anchor.dtype

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator, device=dev, dtype=dt)

    aspects = torch.tensor(ranges.aspect_ratios, device=dev, dtype=dt)
    aspect = aspects[torch.randint(len(aspects), (b,), generator=generator, device=dev)]
    fov = torch.deg2rad(uniform(*ranges.fov_deg))
    long_side = torch.where(aspect >= 1, torch.ones_like(aspect), 1 / aspect)  # in units of the width
    focal = long_side / torch.tan(fov / 2)
    image_height = 2 / aspect  # normalised units
    fill = uniform(*ranges.person_height)
    distance = (focal * height / (fill * image_height)).clamp(min=ranges.min_distance)
    azimuth = torch.deg2rad(uniform(*ranges.azimuth_deg))
    elevation = torch.deg2rad(uniform(*ranges.elevation_deg))
    offset = torch.stack([torch.cos(elevation) * torch.cos(azimuth), torch.cos(elevation) * torch.sin(azimuth),
                          torch.sin(elevation)], -1)
    eye = anchor + distance[:, None] * offset
    eye[:, 2] = eye[:, 2].clamp(min=ranges.min_height)
    elevation = torch.asin(((eye - anchor)[:, 2] / (eye - anchor).norm(dim=-1)).clamp(-1, 1))
    # where the hips appear: the person (fill * image height tall, about 0.4 of that wide) stays inside
    fill = focal * height / (distance * image_height)
    room_x = (1 - 0.25 * fill * image_height).clamp(min=0)
    room_y = (image_height / 2 * (1 - fill)).clamp(min=0)
    u = 0.95 * ranges.position * room_x * uniform(-1, 1)  # 0.95: room for the roll
    v = 0.95 * ranges.position * room_y * uniform(-1, 1)
    centred = look_at(eye, anchor)
    shift = (u[:, None] * centred[:, 0] + v[:, None] * centred[:, 1]) * (distance / focal)[:, None]
    roll = torch.deg2rad(ranges.roll_deg * torch.randn(b, generator=generator, device=dev, dtype=dt))
    rotation = look_at(eye, anchor - shift, roll)
    return VirtualCameras(rotation, eye, focal, aspect, torch.rad2deg(elevation))


def seeded_generator(*keys: int) -> torch.Generator:
    """A CPU generator that depends only on ``keys`` (e.g. seed, epoch, batch), the same everywhere.

    >>> torch.equal(torch.rand(3, generator=seeded_generator(1, 2)), torch.rand(3, generator=seeded_generator(1, 2)))
    True
    """
    return torch.Generator().manual_seed(int(np.random.SeedSequence(list(keys)).generate_state(1)[0]))
