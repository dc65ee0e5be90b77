"""What the kinematic fit does to lifted 3D: accuracy, agreement with the image, rigid bones, smoothness.

    python benchmarks/bench_fit.py --data-dir ../shared/data [--video ../shared/data/video/walk_apart_2persons.avi]
        [--models gastnet_rf27_c32.video gastnet_rf27_c32.h36m_noise] [--clips 60]

Synthetic footage with known truth: Human3.6M S9/S11 (25 fps) and the CMU walks (30 fps) in
4-second clips, each seen through one seeded virtual camera (any azimuth, -10 to 45 degrees of
elevation, 35-105 degree lenses, landscape and portrait 1920-pixel frames, the CMU walkers at 20-50%
of the image height so that they stay in view: :func:`gastnet.data.virtual_cameras.sample_cameras`;
the two CMU walks give only four clips, so each of those is seen through eight cameras), the 2D in
pixels with seeded detector-like
errors (:func:`gastnet.data.augment.detector_errors`: noise, blur, left/right swaps, outliers,
gaps), lifted by :func:`gastnet.pipeline.tracks_to_3d.lift_tracks` as ``gastnet lift`` lifts a keypoint
file with ``--focal-length`` (the true lens), with the fit and with ``--no-fit``. Per model and
set: MPJPE and P-MPJPE (mm, camera frame, pelvis-centred; all 17 joints for Human3.6M, the limbs
for CMU and HumanEva-I, whose torso joints are defined otherwise), the reprojection error of the lifted joints
against the 2D that was lifted (median over joints and frames, and the wrists' 95th percentile,
in % of the person's height in the image), bone-length variation of the world poses (%, mean
over bones of std/mean) and jitter (mean joint acceleration, mm/frame^2, camera frame). The
truth's own jitter is printed for reference.

HumanEva-I (60 fps; boxing, jogging, gestures, throwing) is seen through its own three cameras with
the same detector errors, as the ``humaneva-cross`` benchmark of ``gastnet evaluate`` lifts it
(:func:`humaneva_clips`). A fourth set checks what the fit does on Human3.6M's own footage: S9/S11 through its four real
cameras (pinhole, each camera's mean focal length) with the exact 2D.

With ``--joints``: the virtual-camera and HumanEva-I sets as above (``exact``: the mocap's own joints), with
the joints a detector defines otherwise drawn as training draws them on top of the detector errors
(``detector``: ``helpers.detector_joints``), or both (the default: a row of each).

With ``--ablations``: only one set's clips (``--ablation-set``: the Human3.6M virtual-camera clips by
default; ``--joints detector`` for its detector-joint clips), lifted once and fitted with each term of the
fit changed in turn. ``--sets`` runs only some of the sets.

With ``--video``: the same on a real video (MediaPipe 2D, detected once), without 3D truth; also the
reprojection of the limbs alone (the joints a detector defines as the mocap does: the others keep the
detector's joint-definition offsets, :attr:`gastnet.world.fit.KinematicFit.definition_offsets`).
``--sets`` with no set runs the video alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gastnet import create_model
from gastnet.data.augment import DetectorErrorRanges, detector_errors
from gastnet.data.cmu import load_cmu_bvh
from gastnet.data.sources import load_dataset_mocap, load_pose_data
from gastnet.data.virtual_cameras import CameraRanges, sample_cameras, seeded_generator
from gastnet.evaluation.cross_dataset import HUMANEVA_TO_H36M, SHARED_JOINTS
from gastnet.evaluation.metrics import p_mpjpe
from gastnet.keypoints.tracks import PersonTrack
from gastnet.pipeline.tracks_to_3d import lift_tracks
from gastnet.skeleton import H36M_17, standing_height
from gastnet.world.fit import DEFINITION_JOINTS, FitOptions, fit_person, person_image_height, seen_joints

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import detector_joints  # noqa: E402

LONG_SIDE = 1920
LIMBS = [j for j in range(17) if j not in DEFINITION_JOINTS]  # the joints every detector defines as the mocap does
CLIP_S = 4.0


def synthetic_clips(sequences: list[tuple[str, np.ndarray]], fps: float, limit: int, seed: int,
                    ranges: CameraRanges | None = None, views: int = 1, definitions: bool = False) -> list[dict]:
    """Clips of world ``sequences`` (name, (N, 17, 3) metres z up) through seeded cameras (``views`` of them
    per 4-second piece), 2D in pixels with detector errors (and, with ``definitions``, the detector's joint
    definitions: ``helpers.detector_joints``): dicts with keypoints (T, 17, 2), truth (T, 17, 3) camera metres,
    image size, focal (px)."""
    frames = int(CLIP_S * fps)
    pieces = [(name, world[s:s + frames]) for name, world in sequences for s in range(0, len(world) - frames + 1, frames)
              for _ in range(views)]
    pick = np.random.default_rng(seed).permutation(len(pieces))[:limit]
    clips = []
    for index in sorted(pick):
        name, piece = pieces[index]
        world = torch.from_numpy(np.ascontiguousarray(piece, dtype=np.float32))
        middle = world[len(world) // 2]
        cam = sample_cameras(middle[None, 0], standing_height(middle)[None], ranges or CameraRanges(),
                             seeded_generator(seed, int(index), 0))
        shown = torch.from_numpy(detector_joints(world.numpy(), seed, int(index))).float() if definitions else world
        normalised = cam.project(shown[None])
        noisy = detector_errors(normalised, DetectorErrorRanges(), seeded_generator(seed, int(index), 1))[0].numpy()
        aspect = float(cam.aspect[0])
        w, h = (LONG_SIDE, round(LONG_SIDE / aspect)) if aspect >= 1 else (round(LONG_SIDE * aspect), LONG_SIDE)
        pixels = np.stack([(noisy[..., 0] + 1) * w / 2, noisy[..., 1] * w / 2 + h / 2], -1)
        clips.append({"name": name, "keypoints": pixels.astype(np.float64), "truth": cam.to_camera(world[None])[0].numpy(),
                      "size": (w, h), "focal": float(cam.focal[0]) * w / 2, "fps": fps})
    return clips


def real_camera_clips(h36m, limit: int, seed: int) -> list[dict]:
    """Human3.6M S9/S11 at 25 fps in 4-second clips, each through one of its own four cameras (pinhole with
    the camera's mean focal length, principal point at the image centre), the 2D exact."""
    frames = int(CLIP_S * 25)
    pieces = [(s, a, world[i:i + frames]) for s in ("S9", "S11") for a, full in sorted(h36m.positions[s].items())
              for world in [full[::2]] for i in range(0, len(world) - frames + 1, frames)]
    clips = []
    for index in sorted(np.random.default_rng(seed).permutation(len(pieces))[:limit]):
        subject, action, world = pieces[index]
        cam = h36m.cameras(subject)[index % 4]
        truth = cam.world_to_camera(world.astype(np.float64))
        focal = float(np.mean(cam.focal_length))
        size = (cam.width, cam.height)
        pixels = focal * truth[..., :2] / truth[..., 2:] + np.array(size) / 2
        clips.append({"name": f"{subject} {action}", "keypoints": pixels, "truth": truth, "size": size, "focal": focal,
                      "fps": 25.0})
    return clips


def pinhole_focal(truth: np.ndarray, pixels: np.ndarray) -> float:
    """The focal length (px) of the pinhole that best maps camera-frame points (..., 3) onto their pixels
    (..., 2) (linear least squares, the principal point fitted too; HumanEva-I ships its cameras without them)."""
    ratio = (truth[..., :2] / truth[..., 2:]).reshape(-1, 2)
    rows = np.zeros((2 * len(ratio), 3))
    rows[0::2, 0], rows[0::2, 1] = ratio[:, 0], 1.0
    rows[1::2, 0], rows[1::2, 2] = ratio[:, 1], 1.0
    (focal, _, _), *_ = np.linalg.lstsq(rows, pixels.reshape(-1), rcond=None)
    return float(focal)


def humaneva_clips(data_dir: Path, limit: int, seed: int, definitions: bool = False) -> list[dict]:
    """HumanEva-I (every subject and action, 60 fps) through its own three cameras in clips of up to 4 s (at
    least 1 s), as the ``humaneva-cross`` benchmark lifts it, but in pixels with seeded detector errors. Its
    15 joints feed the 17 as there (:data:`~gastnet.evaluation.cross_dataset.HUMANEVA_TO_H36M`; the spine
    and the neck made halfway); each camera is taken as a pinhole fitted to the dataset's own 2D, centred. With
    ``definitions`` the 2D has the detector's joint definitions too (``helpers.detector_joints``)."""
    mocap, points, _ = load_pose_data("humaneva", "gt", data_dir)
    fps = 60.0
    longest, shortest = int(CLIP_S * fps), int(fps)
    h36m_idx, he_idx = list(HUMANEVA_TO_H36M), list(HUMANEVA_TO_H36M.values())
    seen = {(s, a): mocap.camera_frame(s, a) for s, a in mocap.sequences()}  # per camera (N, 15, 3) metres
    lenses = {(s, c): pinhole_focal(np.concatenate([seen[s, a][c] for s2, a in seen if s2 == s]),
                                    np.concatenate([points.positions[s][a][c] for s2, a in seen if s2 == s]))
              for s in {s for s, _ in seen} for c in range(len(mocap.cameras(s)))}
    pieces = [(subject, action, c, start, min(start + longest, len(views[c])))
              for (subject, action), views in seen.items() for c in range(len(views))
              for start in range(0, len(views[c]) - shortest + 1, longest)]
    clips = []
    for index in sorted(np.random.default_rng(seed).permutation(len(pieces))[:limit]):
        subject, action, c, start, stop = pieces[index]
        cam = mocap.cameras(subject)[c]
        he = seen[subject, action][c][start:stop].astype(np.float64)
        truth = np.zeros((len(he), 17, 3))
        truth[:, h36m_idx] = he[:, he_idx]
        truth[:, 7], truth[:, 9] = (truth[:, 0] + truth[:, 8]) / 2, (truth[:, 8] + truth[:, 10]) / 2
        focal, (w, h) = lenses[subject, c], (cam.width, cam.height)
        shown = detector_joints(truth, seed, int(index), np.float64) if definitions else truth
        normalised = torch.from_numpy(focal * shown[..., :2] / shown[..., 2:] * 2 / w)
        noisy = detector_errors(normalised[None].float(), DetectorErrorRanges(),
                                seeded_generator(seed, int(index), 1))[0].double().numpy()
        pixels = np.stack([(noisy[..., 0] + 1) * w / 2, noisy[..., 1] * w / 2 + h / 2], -1)
        clips.append({"name": f"{subject} {action} C{c + 1}", "keypoints": pixels, "truth": truth, "size": (w, h),
                      "focal": focal, "fps": fps})
    return clips


def jitter_mm(poses: np.ndarray) -> float:
    """Mean joint acceleration (mm/frame^2) of poses (T, 17, 3) metres."""
    return float(1000 * np.linalg.norm(np.diff(poses, 2, axis=0), axis=-1).mean())


def bone_variation(poses: np.ndarray) -> float:
    """Mean over bones of the coefficient of variation of their lengths (%), poses (T, 17, 3)."""
    lengths = np.stack([np.linalg.norm(poses[:, c] - poses[:, p], axis=-1) for c, p in H36M_17.bones()], -1)
    return float(100 * (lengths.std(0) / lengths.mean(0)).mean())


def reprojection(person, focal: float, size: tuple[int, int], seen: bool = False) -> tuple[np.ndarray, float]:
    """Pixel errors (T, 17) of a lifted person's joints against the 2D that was lifted, and the person's image height;
    ``seen``: of the joints as the fit says the detector defines them (the skeleton's plus its offsets)."""
    a = person.poses_camera_absolute
    if seen and person.definition_offsets is not None:
        a = seen_joints(a, person.definition_offsets)
    proj = focal * a[..., :2] / np.maximum(a[..., 2:], 1e-3) + np.array(size) / 2
    err = np.linalg.norm(proj - person.keypoints_2d, axis=-1)
    return np.where(person.scores > 0, err, np.nan), person_image_height(person.keypoints_2d, person.scores)


def evaluate(model, clips: list[dict], fit: bool, scored: tuple[int, ...]) -> dict[str, float]:
    rows: dict[str, list[float]] = {k: [] for k in ("mpjpe", "pmpjpe", "rep_med", "rep_wrist95", "bones", "jitter",
                                                   "truth_jitter")}
    seconds = frames = 0.0
    for clip in clips:
        n = len(clip["keypoints"])
        k = clip["keypoints"]
        inside = (k >= 0).all(-1) & (k[..., 0] < clip["size"][0]) & (k[..., 1] < clip["size"][1])
        if inside.mean() < 0.5:  # the walker left the camera's view for most of the clip
            continue
        track = PersonTrack(0, np.arange(n), k, np.where(inside, 0.9, 0.0))  # a detector sees what is in the image
        start = time.perf_counter()
        try:
            result = lift_tracks([track], clip["size"], model, n, clip["fps"], focal_length=clip["focal"], fit=fit,
                                 max_people=1, min_frames=1)
        except ValueError:
            continue
        seconds += time.perf_counter() - start
        frames += n
        p = result.people[0]
        truth = clip["truth"][p.frames] - clip["truth"][p.frames, :1]
        pred = p.poses_camera
        rows["mpjpe"].append(1000 * np.linalg.norm(pred[:, scored] - truth[:, scored], axis=-1).mean())
        scored_pred, scored_truth = torch.from_numpy(pred[:, scored]).double(), torch.from_numpy(truth[:, scored]).double()
        rows["pmpjpe"].append(1000 * float(p_mpjpe(scored_pred, scored_truth)))
        err, height = reprojection(p, clip["focal"], clip["size"])
        rows["rep_med"].append(100 * np.nanmedian(err) / height)
        rows["rep_wrist95"].append(100 * np.nanpercentile(err[:, [13, 16]], 95) / height)
        rows["bones"].append(bone_variation(p.poses_world))
        rows["jitter"].append(jitter_mm(pred))
        rows["truth_jitter"].append(jitter_mm(truth))
    out = {k: float(np.mean(v)) for k, v in rows.items()}
    out["clips"] = len(rows["mpjpe"])
    out["ms_per_frame"] = 1000 * seconds / max(frames, 1)
    return out


ABLATIONS = {"all terms (the default)": {}, "without smoothness": {"smoothness_weight": 0.0},
             "without the network's 3D": {"prior_m": 100.0}, "without the image": {"reprojection_scale": 1e6},
             "without the knee limit": {"knee_hyperextension_deg": 90.0},
             "quadratic smoothness": {"robust_acceleration": None},
             "without the joint-definition offsets": {"definition_offset_std": 0.0},
             "weaker smoothness": {"smoothness_weight": 2.0}}


def ablations(model, clips: list[dict], scored: tuple[int, ...], set_name: str) -> None:
    """Each clip lifted once without the fit, then fitted with one term changed (:class:`FitOptions`)."""
    lifted = []
    for clip in clips:
        n = len(clip["keypoints"])
        k = clip["keypoints"]
        inside = (k >= 0).all(-1) & (k[..., 0] < clip["size"][0]) & (k[..., 1] < clip["size"][1])
        if inside.mean() < 0.5:
            continue
        try:
            result = lift_tracks([PersonTrack(0, np.arange(n), k, np.where(inside, 0.9, 0.0))], clip["size"], model, n,
                                 clip["fps"], focal_length=clip["focal"], fit=False, max_people=1, min_frames=1)
        except ValueError:
            continue
        lifted.append((clip, result.people[0]))
    print(f"\n| fit ({len(lifted)} clips, {set_name}) | P-MPJPE | MPJPE | reprojection median (% height) | jitter |")
    print("|---|---|---|---|---|")
    for name, changes in {"none": None, **ABLATIONS}.items():
        rows = []
        for clip, person in lifted:
            poses = person.poses_camera_absolute
            if changes is not None:
                size = clip["size"]
                poses = fit_person(poses, person.keypoints_2d, person.scores, clip["focal"], (size[0] / 2, size[1] / 2),
                                   clip["fps"], FitOptions(**changes)).poses
            truth = clip["truth"][person.frames] - clip["truth"][person.frames, :1]
            pred = poses - poses[:, :1]
            scored_pred, scored_truth = torch.from_numpy(pred[:, scored]).double(), torch.from_numpy(truth[:, scored]).double()
            proj = clip["focal"] * poses[..., :2] / poses[..., 2:] + np.array(clip["size"]) / 2
            err = np.where(person.scores > 0, np.linalg.norm(proj - person.keypoints_2d, axis=-1), np.nan)
            rows.append((1000 * float(p_mpjpe(scored_pred, scored_truth)),
                         1000 * np.linalg.norm(pred[:, scored] - truth[:, scored], axis=-1).mean(),
                         100 * np.nanmedian(err) / person_image_height(person.keypoints_2d, person.scores), jitter_mm(pred)))
        r = np.mean(rows, 0)
        print(f"| {name} | {r[0]:.1f} | {r[1]:.1f} | {r[2]:.2f} | {r[3]:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--video")
    parser.add_argument("--models", nargs="*", default=["gastnet_rf27_c32.video"])
    parser.add_argument("--clips", type=int, default=60, help="clips per set (seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ablations", action="store_true",
                        help="only: what each term of the fit does, on one set's clips (--ablation-set)")
    parser.add_argument("--ablation-set", choices=("h36m", "cmu", "humaneva"), default="h36m",
                        help="the set --ablations runs on: the Human3.6M virtual-camera clips (default), CMU or HumanEva-I")
    parser.add_argument("--sets", nargs="*", choices=("h36m", "h36m-real", "cmu", "humaneva"),
                        default=["h36m", "h36m-real", "cmu", "humaneva"], help="the sets to run (all by default)")
    parser.add_argument("--joints", choices=("both", "exact", "detector"), default="both",
                        help="the virtual-camera and HumanEva-I sets with the mocap's joints, with a detector's joint "
                             "definitions drawn as training draws them, or both (default)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = Path(args.data_dir)
    h36m = load_dataset_mocap("h36m", data)
    kinds = {"both": (False, True), "exact": (False,), "detector": (True,)}[args.joints]
    sets = {}
    for definitions in kinds:
        joints = ", detector joints" if definitions else ""
        if "h36m" in args.sets:
            sets[f"h36m-vcam{joints} (17 joints)"] = (synthetic_clips(
                [(f"{s} {a}", h36m.positions[s][a][::2]) for s in ("S9", "S11") for a in sorted(h36m.positions[s])],
                25.0, args.clips, args.seed, definitions=definitions), tuple(range(17)))
        cmu = sorted((data / "cmu").glob("*.bvh"))
        if cmu and "cmu" in args.sets:
            walks = [(f.stem, load_cmu_bvh(f, 30.0)[0]) for f in cmu]
            wide = CameraRanges(person_height=(0.2, 0.5))  # the CMU walkers cross the room: cameras that keep them in view
            sets[f"cmu-vcam{joints} (limbs)"] = (synthetic_clips(walks, 30.0, args.clips, args.seed, wide, views=8,
                                                                 definitions=definitions), SHARED_JOINTS)
        if (data / "humaneva").is_dir() and "humaneva" in args.sets:
            sets[f"humaneva, its cameras{joints} (limbs)"] = (humaneva_clips(data, args.clips, args.seed, definitions),
                                                              SHARED_JOINTS)
    if "h36m-real" in args.sets:
        sets["h36m real cameras, exact 2D (17 joints)"] = (real_camera_clips(h36m, args.clips, args.seed),
                                                           tuple(range(17)))
    if args.ablations:
        chosen = next(name for name in sets if name.startswith(args.ablation_set)
                      and ("detector joints" in name) == (args.joints == "detector"))
        ablations(create_model(args.models[0], pretrained=True), *sets[chosen], chosen)
        return
    print("| model | set | fit | MPJPE | P-MPJPE | reprojection median (% height) | wrist p95 (% height) | "
          "bone variation (%) | jitter (mm/frame^2) | truth's jitter | fit+lift ms/frame | clips |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.models:
        model = create_model(name, pretrained=True)
        for set_name, (clips, scored) in sets.items():
            for fit in (False, True):
                r = evaluate(model, clips, fit, scored)
                print(f"| `{name}` | {set_name} | {'on' if fit else 'off'} | {r['mpjpe']:.1f} | {r['pmpjpe']:.1f} | "
                      f"{r['rep_med']:.2f} | {r['rep_wrist95']:.2f} | {r['bones']:.2f} | {r['jitter']:.2f} | "
                      f"{r['truth_jitter']:.2f} | {r['ms_per_frame']:.1f} | {r['clips']} |", flush=True)
    if args.video:
        from gastnet.video.detect import detect_video

        tracks, fps = detect_video(args.video, 2)
        print(f"\n{args.video}: {tracks.num_frames} frames at {fps:g} fps\n")
        print("| model | fit | reprojection median (% height) | wrist p95 (% height) | bone variation (%) | "
              "jitter (mm/frame^2) | limbs' reprojection median (% height) | with the detector's offsets (% height) |")
        print("|---|---|---|---|---|---|---|---|")
        for name in args.models:
            model = create_model(name, pretrained=True)
            for fit in (False, True):
                result = lift_tracks(tracks.tracks, tracks.image_size, model, tracks.num_frames, fps, fit=fit)
                focal = result.camera.focal_length_px
                rows = []
                for p in result.people:
                    err, height = reprojection(p, focal, tracks.image_size)
                    rows.append((100 * np.nanmedian(err) / height, 100 * np.nanpercentile(err[:, [13, 16]], 95) / height,
                                 bone_variation(p.poses_world), jitter_mm(p.poses_camera),
                                 100 * np.nanmedian(err[:, LIMBS]) / height,
                                 100 * np.nanmedian(reprojection(p, focal, tracks.image_size, seen=True)[0]) / height,
                                 len(p.frames)))
                r = np.array(rows)
                mean = (r[:, :6] * r[:, 6:]).sum(0) / r[:, 6].sum()
                print(f"| `{name}` | {'on' if fit else 'off'} | {mean[0]:.2f} | {mean[1]:.2f} | {mean[2]:.2f} | {mean[3]:.2f} | "
                      f"{mean[4]:.2f} | {mean[5]:.2f} |")


if __name__ == "__main__":
    main()
