"""What the kinematic fit does when the 2D detector defines the torso joints otherwise than the mocap.

    python benchmarks/bench_fit_definitions.py --data-dir ../shared/data [--frames 300] [--single-every 50]
        [--options]

Human3.6M S9/S11, 11 clips of ``--frames`` frames at 25 fps (walking, eating, greeting, phoning,
sitting down, walking a dog: the first take of each, the second of S11's greeting; S11 has no
sitting down), each seen by one level camera (1920x1080, 60 degrees across, 1.2 m above the floor,
4.5 m beyond the clip's widest excursion from its mean position, at a seeded azimuth), the 2D in
pixels with 2 px of Gaussian noise, either

- the exact Human3.6M joints, or
- the joints as a detector defines them: :func:`gastnet.data.augment.displace_joint_definitions`
  (one seeded offset per clip, std 3% of the standing height per body axis, no midpoints),

lifted by :func:`gastnet.pipeline.tracks_to_3d.lift_tracks` with the true focal length, with the fit
(the default) and without (``--no-fit``). MPJPE and P-MPJPE (mm, camera frame, pelvis-centred,
all 17 joints) against the mocap's own joints; jitter (mm/frame^2) and the reprojection median (%
of the person's image height) against the 2D that was lifted.

With ``--single-every N`` also single frames (every N-th frame of each clip, displaced and exact,
each lifted on its own as a photo is): the mean errors and how many frames the fit makes worse.

With ``--options``: the clips are lifted once and fitted with each :data:`OPTIONS` variant of
:class:`~gastnet.world.fit.FitOptions` (what the joint-definition offsets buy).

With ``--relift`` (alone): each clip lifted and fitted, then its 2D moved back by the offsets the fit
found (their projection) and lifted again by the network, so that it sees the joints as motion
capture defines them (MPJPE of each step).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from gastnet import create_model
from gastnet.data.augment import JointDefinitionRanges, displace_joint_definitions
from gastnet.data.sources import load_dataset_mocap
from gastnet.data.virtual_cameras import seeded_generator
from gastnet.evaluation.metrics import p_mpjpe
from gastnet.keypoints.tracks import PersonTrack
from gastnet.pipeline.results import LiftedPerson
from gastnet.pipeline.tracks_to_3d import lift_tracks
from gastnet.skeleton import standing_height
from gastnet.world.fit import FitOptions, fit_person, person_image_height, seen_joints

CLIPS = (("S9", "Walking 1"), ("S9", "Eating 1"), ("S9", "Greeting 1"), ("S9", "Phoning 1"), ("S9", "SittingDown 1"),
         ("S9", "WalkDog 1"), ("S11", "Walking 1"), ("S11", "Eating 1"), ("S11", "Greeting 2"), ("S11", "Phoning 1"),
         ("S11", "WalkDog 1"))
SIZE = (1920, 1080)
FOCAL = SIZE[0] / 2 / np.tan(np.radians(30.0))
CAMERA_HEIGHT, DISTANCE = 1.2, 4.5
FPS = 25.0
OPTIONS = {"the default": FitOptions(),
           "without the definition offsets": FitOptions(definition_offset_std=0.0, photo_definition_offset_std=0.0),
           "offsets with a prior of 30% of the height": FitOptions(definition_offset_std=0.3),
           "offsets with a prior of 1.5% of the height": FitOptions(definition_offset_std=0.015),
           "reprojection scale 2%": FitOptions(reprojection_scale=0.02),
           "network prior 0.2 m": FitOptions(prior_m=0.2),
           "smoothness weight 4": FitOptions(smoothness_weight=4.0),
           "photos: left and right bones averaged, prior 0.05 m": FitOptions(photo_prior_m=0.05, photo_own_bones=False),
           "without the photo rules": FitOptions(photo_prior_m=0.3, photo_definition_offset_std=0.03,
                                                 photo_own_bones=False),
           "as before the offsets (neither)": FitOptions(definition_offset_std=0.0, photo_prior_m=0.3,
                                                         photo_definition_offset_std=0.0, photo_own_bones=False)}


def level_camera(world: np.ndarray, azimuth: float) -> np.ndarray:
    """World poses (T, 17, 3) metres, z up, in the camera frame (x right, y down, z forward) of a level camera
    :data:`CAMERA_HEIGHT` above the floor, looking at the clip's mean position from ``azimuth`` (radians)."""
    centre = world[:, 0, :2].mean(0)
    reach = np.linalg.norm(world[:, 0, :2] - centre, axis=-1).max()
    direction = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])
    position = np.r_[centre, CAMERA_HEIGHT] + (DISTANCE + reach) * direction
    forward = -direction
    right = np.cross(forward, [0.0, 0.0, 1.0])
    rotation = np.stack([right, [0.0, 0.0, -1.0], forward])  # rows: the camera's axes in the world
    return (world - position) @ rotation.T


def clips(data_dir: Path, frames: int, seed: int) -> list[dict]:
    """The :data:`CLIPS` (``frames`` frames from 4 s in): camera-frame truth (T, 17, 3), exact and displaced 2D (T, 17, 2)."""
    h36m = load_dataset_mocap("h36m", data_dir)
    out = []
    for index, (subject, action) in enumerate(CLIPS):
        world = h36m.positions[subject][action][::2][100:100 + frames].astype(np.float64)
        generator = seeded_generator(seed, index, 0)
        azimuth = float(torch.rand(1, generator=generator)) * 2 * np.pi
        world_t = torch.from_numpy(world)[None]
        height = standing_height(world_t[:, len(world) // 2])
        displaced = displace_joint_definitions(world_t, height, JointDefinitionRanges(midpoint_probability=0.0),
                                               generator)[0].numpy()
        truth = level_camera(world, azimuth)
        seen = level_camera(displaced, azimuth)
        rng = np.random.default_rng([seed, index])
        pixels = {kind: FOCAL * p[..., :2] / p[..., 2:] + np.array(SIZE) / 2 + rng.normal(0.0, 2.0, (len(p), 17, 2))
                  for kind, p in (("exact", truth), ("displaced", seen))}
        out.append({"name": f"{subject} {action}", "truth": truth, **pixels})
    return out


def lift(model, keypoints: np.ndarray, fit: bool) -> LiftedPerson:
    """The one person lifted from ``keypoints`` (T, 17, 2) as a keypoint file with the true lens."""
    n = len(keypoints)
    track = PersonTrack(0, np.arange(n), keypoints, np.full((n, 17), 0.9))
    result = lift_tracks([track], SIZE, model, n, FPS, focal_length=FOCAL, fit=fit, max_people=1, min_frames=1)
    return result.people[0]


def errors(poses: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """MPJPE and P-MPJPE (mm) of camera-frame poses (T, 17, 3), both pelvis-centred."""
    pred, true = poses - poses[:, :1], truth - truth[:, :1]
    mpjpe = 1000 * float(np.linalg.norm(pred - true, axis=-1).mean())
    return mpjpe, 1000 * float(p_mpjpe(torch.from_numpy(pred), torch.from_numpy(true)))


def row(poses: np.ndarray, truth: np.ndarray, keypoints: np.ndarray) -> list[float]:
    proj = FOCAL * poses[..., :2] / poses[..., 2:] + np.array(SIZE) / 2
    reproj = 100 * np.median(np.linalg.norm(proj - keypoints, axis=-1)) / person_image_height(keypoints)
    jitter = 1000 * float(np.linalg.norm(np.diff(poses - poses[:, :1], 2, axis=0), axis=-1).mean()) if len(poses) > 2 else 0
    return [*errors(poses, truth), reproj, jitter]


def measure(model, pieces: list[tuple[np.ndarray, np.ndarray]], variants: dict[str, FitOptions]) -> dict[str, np.ndarray]:
    """Each piece (2D (T, 17, 2) pixels, truth (T, 17, 3) camera metres) lifted once without the fit and fitted with
    each variant (as ``lift_tracks`` fits): per variant ("off": the network alone) the rows (pieces, 4) of
    MPJPE, P-MPJPE, reprojection median and jitter."""
    rows: dict[str, list[list[float]]] = {"off": [], **{name: [] for name in variants}}
    for keypoints, truth in pieces:
        person = lift(model, keypoints, fit=False)
        truth = truth[person.frames]
        rows["off"].append(row(person.poses_camera_absolute, truth, person.keypoints_2d))
        for name, options in variants.items():
            fitted = fit_person(person.poses_camera_absolute, person.keypoints_2d, person.scores, FOCAL,
                                (SIZE[0] / 2, SIZE[1] / 2), FPS, options).poses
            rows[name].append(row(fitted, truth, person.keypoints_2d))
    return {name: np.array(values) for name, values in rows.items()}


RELIFT_STEPS = ("off", "fit", "lifted again, off", "lifted again, fit", "lifted again, fit to the moved 2D without offsets")


def relift(model, pieces: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mean MPJPE (mm) of each piece (2D (T, 17, 2) pixels, truth (T, 17, 3)) lifted and fitted, then with the 2D
    moved back by the fitted joint-definition offsets (their projection) and lifted again: fitted to the
    detected 2D with offsets, or to the moved 2D without them."""
    centre = (SIZE[0] / 2, SIZE[1] / 2)

    def project(poses: np.ndarray) -> np.ndarray:
        return FOCAL * poses[..., :2] / poses[..., 2:] + np.array(SIZE) / 2

    rows: dict[str, list[float]] = {name: [] for name in RELIFT_STEPS}
    for keypoints, truth in pieces:
        person = lift(model, keypoints, fit=False)
        truth = truth[person.frames]
        fit = fit_person(person.poses_camera_absolute, person.keypoints_2d, person.scores, FOCAL, centre, FPS)
        moved = keypoints - (project(seen_joints(fit.poses, fit.definition_offsets)) - project(fit.poses))
        again = lift(model, moved, fit=False)
        refit = fit_person(again.poses_camera_absolute, person.keypoints_2d, person.scores, FOCAL, centre, FPS)
        plain = fit_person(again.poses_camera_absolute, moved, person.scores, FOCAL, centre, FPS,
                           FitOptions(definition_offset_std=0.0))
        for name, poses in zip(rows, (person.poses_camera_absolute, fit.poses, again.poses_camera_absolute,
                                      refit.poses, plain.poses)):
            rows[name].append(errors(poses, truth)[0])
    return {name: float(np.mean(values)) for name, values in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--model", default="gastnet_rf27_c32.video")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--limit", type=int, default=len(CLIPS), help="only the first N clips (while developing)")
    parser.add_argument("--single-every", type=int, default=0, help="also single frames, every N-th of each clip")
    parser.add_argument("--options", action="store_true", help="also each FitOptions variant of OPTIONS")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--relift", action="store_true",
                        help="only: the clips lifted again from 2D moved back by the fitted offsets (MPJPE)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = create_model(args.model, pretrained=True)
    chosen = clips(Path(args.data_dir), args.frames, args.seed)[:args.limit]
    variants = OPTIONS if args.options else {"the default": FitOptions()}
    if args.relift:
        print("| 2D | " + " | ".join(RELIFT_STEPS) + " |")
        print("|---|---|---|---|---|---|")
        for kind in ("exact", "displaced"):
            found = relift(model, [(c[kind], c["truth"]) for c in chosen])
            print(f"| {kind} | " + " | ".join(f"{v:.1f}" for v in found.values()) + " |", flush=True)
        return

    def label(name: str) -> str:
        return "off" if name == "off" else f"on ({name})" if args.options else "on"

    print(f"| 2D ({len(chosen)} clips of {args.frames} frames) | fit | MPJPE | P-MPJPE | reprojection median (% height) "
          "| jitter (mm/frame^2) |")
    print("|---|---|---|---|---|---|")
    for kind in ("exact", "displaced"):
        for name, values in measure(model, [(c[kind], c["truth"]) for c in chosen], variants).items():
            r = values.mean(0)
            print(f"| {kind} | {label(name)} | {r[0]:.1f} | {r[1]:.1f} | {r[2]:.2f} | {r[3]:.2f} |", flush=True)
    if args.single_every:
        print("\n| single frames | fit | MPJPE | P-MPJPE | frames the fit makes worse (MPJPE, by more than 0.5 mm) | "
              "most worse (mm) |")
        print("|---|---|---|---|---|---|")
        for kind in ("exact", "displaced"):
            pieces = [(c[kind][t:t + 1], c["truth"][t:t + 1]) for c in chosen for t in range(0, args.frames, args.single_every)]
            found = measure(model, pieces, variants)
            for name, values in found.items():
                worse = values[:, 0] - found["off"][:, 0]
                counts = "" if name == "off" else f"{int((worse > 0.5).sum())} | {worse.max():.1f}"
                print(f"| {kind} ({len(values)} frames) | {label(name)} | {values[:, 0].mean():.1f} | "
                      f"{values[:, 1].mean():.1f} | {counts} |", flush=True)


if __name__ == "__main__":
    main()
