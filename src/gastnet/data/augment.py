"""Augmentations that make motion capture look like real video input (batched torch, Human3.6M-17).

Three kinds, each a pure function of its inputs and a ``torch.Generator``:

- **Bodies** (:func:`scale_bodies`): bone lengths scaled per symmetric bone group, so that the
  model stops assuming one subject's proportions. Applied to the 3D before projection; the
  targets follow.
- **Joint definitions** (:func:`displace_joint_definitions`): detectors and motion capture do not
  agree on where the hips, pelvis, spine, thorax, neck, head and shoulders are. Each sample's
  joints move by a fixed offset in the body's own frame (a fraction of its height, left and right
  mirrored); then, as for COCO-style detectors, the pelvis, spine and thorax may be re-made as
  midpoints (the rules of :mod:`gastnet.keypoints.convert`). Applied to the input only.
- **Detector errors** (:func:`detector_errors`): noise that grows with the person's size in the
  image and with a joint's speed, short left/right confusions of a limb, outliers, and joints
  missing for a few frames and filled by linear interpolation, as the lifting pipeline fills them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..skeleton import H36M_17

__all__ = ["BodyRanges", "JointDefinitionRanges", "DetectorErrorRanges", "scale_bodies",
           "displace_joint_definitions", "detector_errors", "BONE_GROUPS", "mirror_world"]

BONE_GROUPS: dict[str, tuple[int, ...]] = {
    "hip_width": (1, 4), "thigh": (2, 5), "shin": (3, 6), "lower_spine": (7,), "upper_spine": (8,),
    "neck": (9,), "head": (10,), "shoulder_width": (11, 14), "upper_arm": (12, 15), "forearm": (13, 16),
}
"""Human3.6M-17 joints whose bone (to their parent) is scaled together: left and right alike."""

_LEFT, _RIGHT = H36M_17.joints_left, H36M_17.joints_right


@dataclass
class BodyRanges:
    """Body proportions: every bone group scales by ``exp(N(0, group_std^2))`` clipped to
    ``1 +- group_max``, and the whole body by ``exp(N(0, overall_std^2))``."""

    group_std: float = 0.08
    group_max: float = 0.2
    overall_std: float = 0.05


@dataclass
class JointDefinitionRanges:
    """Offsets of the joints whose definition differs between detectors and mocap, per axis of
    the body frame, as a fraction of standing height (0.03 of 1.7 m is 5 cm)."""

    std: float = 0.03
    joints: tuple[int, ...] = (0, 1, 4, 7, 8, 9, 10, 11, 14)
    midpoint_probability: float = 0.5  # re-make pelvis, spine and thorax as midpoints, as COCO converters do


@dataclass
class DetectorErrorRanges:
    """2D errors of a detector; sizes are fractions of the person's height in the image."""

    noise: tuple[float, float] = (0.0, 0.025)  # per-sample noise level, drawn uniformly
    speed_noise: tuple[float, float] = (0.0, 0.3)  # extra noise per unit of a joint's per-frame motion
    swap_probability: float = 0.1  # a limb's left and right exchanged for a few frames
    outlier_probability: float = 0.002  # per joint and frame
    outlier_size: float = 0.3
    missing_probability: float = 0.2  # a joint missing for up to ``missing_frames`` frames, interpolated
    missing_frames: int = 12


def mirror_world(poses: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Mirror the samples where ``flip`` (B,) is True: world x negated, left and right exchanged.

    ``poses``: (B, T, 17, 3). A mirrored motion is a valid motion of a mirrored body.
    """
    mirrored = poses[:, :, H36M_17.flip_permutation()] * poses.new_tensor([-1.0, 1.0, 1.0])
    return torch.where(flip[:, None, None, None], mirrored, poses)


def scale_bodies(poses: torch.Tensor, ranges: BodyRanges, generator: torch.Generator | None = None) -> torch.Tensor:
    """Poses (B, T, 17, 3) with each sample's bones rescaled by group (the root stays where it is).

    Every bone keeps its direction; children are rebuilt from their parents outwards.
    """
    b = poses.shape[0]
    scale = torch.ones(b, 17, dtype=poses.dtype, device=poses.device)
    for joints in BONE_GROUPS.values():
        g = torch.randn(b, generator=generator, device=poses.device, dtype=poses.dtype) * ranges.group_std
        scale[:, list(joints)] = g.exp().clamp(1 - ranges.group_max, 1 + ranges.group_max)[:, None]
    overall = (torch.randn(b, generator=generator, device=poses.device, dtype=poses.dtype) * ranges.overall_std).exp()
    scale = scale * overall[:, None]
    out = poses.clone()
    for child, parent in H36M_17.bones():  # parents come before their children in H36M_17
        out[:, :, child] = out[:, :, parent] + scale[:, None, child, None] * (poses[:, :, child] - poses[:, :, parent])
    return out


def body_frame(poses: torch.Tensor) -> torch.Tensor:
    """Orthonormal body axes (..., 3, 3) of poses (..., 17, 3): rows left (right hip to left hip,
    made perpendicular to up), up (pelvis to thorax), forward (left x up)."""
    up = torch.nn.functional.normalize(poses[..., 8, :] - poses[..., 0, :], dim=-1)
    side = poses[..., 4, :] - poses[..., 1, :]
    left = torch.nn.functional.normalize(side - (side * up).sum(-1, keepdim=True) * up, dim=-1)
    forward = torch.linalg.cross(left, up, dim=-1)
    return torch.stack([left, up, forward], dim=-2)


def displace_joint_definitions(poses: torch.Tensor, height: torch.Tensor, ranges: JointDefinitionRanges,
                               generator: torch.Generator | None = None) -> torch.Tensor:
    """Move each sample's definition-dependent joints by one offset (body frame) for all its frames.

    ``poses`` (B, T, 17, 3) world metres, ``height`` (B,) metres. Left joints get the mirror image
    of their right partner's offset (lateral component negated), so the body stays symmetric.
    """
    b, dev, dt = poses.shape[0], poses.device, poses.dtype
    offsets = torch.zeros(b, 17, 3, device=dev, dtype=dt)
    joints = list(ranges.joints)
    offsets[:, joints] = torch.randn(b, len(joints), 3, generator=generator, device=dev, dtype=dt) * ranges.std
    for left, right in zip(_LEFT, _RIGHT):
        if left in joints and right in joints:
            offsets[:, left] = offsets[:, right] * offsets.new_tensor([-1.0, 1.0, 1.0])
    offsets = offsets * height[:, None, None]
    axes = body_frame(poses)  # (B, T, 3, 3), rows are the body axes in world coordinates
    out = poses + torch.einsum("bjk,btkd->btjd", offsets, axes)
    remake = torch.rand(b, generator=generator, device=dev) < ranges.midpoint_probability
    midpoints = out.clone()
    midpoints[:, :, 0] = (out[:, :, 1] + out[:, :, 4]) / 2
    midpoints[:, :, 8] = (out[:, :, 11] + out[:, :, 14]) / 2
    midpoints[:, :, 7] = (midpoints[:, :, 0] + midpoints[:, :, 8]) / 2
    return torch.where(remake[:, None, None, None], midpoints, out)


def detector_errors(keypoints: torch.Tensor, ranges: DetectorErrorRanges,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Normalised 2D keypoints (B, T, 17, 2) with detector-like errors added (a new tensor)."""
    b, t, j, _ = keypoints.shape
    dev, dt = keypoints.device, keypoints.dtype

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=dev, dtype=dt)

    span = keypoints[..., 1].amax(-1) - keypoints[..., 1].amin(-1)  # (B, T) person height in the image
    size = span.mean(1).clamp(min=1e-3)[:, None, None, None]
    x = keypoints.clone()
    # left/right confusion of the lower half of a limb for a few frames
    swap = rand(b) < ranges.swap_probability
    if swap.any():
        limbs = torch.tensor([[2, 3, 5, 6], [15, 16, 12, 13]], device=dev)  # right knee/ankle <-> left; arms
        limb = limbs[torch.randint(2, (b,), generator=generator, device=dev)]  # (B, 4)
        start = (rand(b) * t).long()
        length = 1 + (rand(b) * 6).long()
        frames = torch.arange(t, device=dev)
        active = swap[:, None] & (frames >= start[:, None]) & (frames < (start + length)[:, None])  # (B, T)
        idx = torch.arange(j, device=dev).repeat(b, 1)  # (B, J)
        perm = idx.clone()
        rows = torch.arange(b, device=dev)[:, None]
        perm[rows, limb[:, :2]] = limb[:, 2:]
        perm[rows, limb[:, 2:]] = limb[:, :2]
        swapped = torch.gather(x, 2, perm[:, None, :, None].expand(b, t, j, 2))
        x = torch.where(active[..., None, None], swapped, x)
    # noise: a per-sample level, larger at the extremities, plus motion blur
    level = ranges.noise[0] + (ranges.noise[1] - ranges.noise[0]) * rand(b)
    per_joint = torch.ones(j, device=dev, dtype=dt)
    per_joint[[3, 6, 13, 16]] = 1.5
    per_joint[[10]] = 1.3
    speed = torch.zeros_like(keypoints[..., 0])
    speed[:, 1:] = (keypoints[:, 1:] - keypoints[:, :-1]).norm(dim=-1)
    blur = ranges.speed_noise[0] + (ranges.speed_noise[1] - ranges.speed_noise[0]) * rand(b)
    std = level[:, None, None, None] * per_joint[:, None] * size + blur[:, None, None, None] * speed[..., None]
    x = x + std * torch.randn(x.shape, generator=generator, device=dev, dtype=dt)
    # outliers
    out = rand(b, t, j) < ranges.outlier_probability
    jump = (rand(b, t, j, 2) * 2 - 1) * ranges.outlier_size * size
    x = torch.where(out[..., None], x + jump, x)
    # a joint missing for a few frames, filled by linear interpolation (held at the sequence ends)
    miss = rand(b) < ranges.missing_probability
    if miss.any() and t > 2:
        joint = torch.randint(j, (b,), generator=generator, device=dev)
        length = 1 + (rand(b) * ranges.missing_frames).long()
        start = (rand(b) * t).long()
        end = (start + length).clamp(max=t)  # missing frames: start .. end - 1
        before, after = (start - 1).clamp(min=0), end.clamp(max=t - 1)
        rows = torch.arange(b, device=dev)
        a = x[rows, before, joint]  # (B, 2)
        c = x[rows, after, joint]
        a = torch.where((start == 0)[:, None], c, a)
        c = torch.where((end == t)[:, None], a, c)
        frames = torch.arange(t, device=dev, dtype=dt)[None]
        w = ((frames - before[:, None]) / (after - before).clamp(min=1)[:, None]).clamp(0, 1)  # (B, T)
        filled = a[:, None] + w[..., None] * (c - a)[:, None]  # (B, T, 2)
        gap = miss[:, None] & (frames >= start[:, None]) & (frames < end[:, None])
        onehot = torch.nn.functional.one_hot(joint, j).bool()  # (B, J)
        mask = gap[:, :, None] & onehot[:, None, :]
        x = torch.where(mask[..., None], filled[:, :, None, :].expand_as(x), x)
    return x
