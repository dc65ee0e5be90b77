"""A camera that turns to follow the walker: what it does to the world, and what undoing it gives back.

    python benchmarks/bench_camera_motion.py --data-dir ../shared/data [--render-size 640x360] [--per-walk]
    python benchmarks/bench_camera_motion.py --speed          # milliseconds per 1920 x 1080 frame, one core
    python benchmarks/bench_camera_motion.py --lenses         # focal length from the background, 50-90 degrees
    python benchmarks/bench_camera_motion.py --data-dir ../shared/data --scene-lens  # the lens from a scene's lines
    python benchmarks/bench_camera_motion.py --data-dir ../shared/data --moving  # a camera moving through space

Real walks (Human3.6M S9 and S11 "Walking 1/2" at 25 fps, CMU 131_01 and 131_02 at 30 fps, loaded
as ``benchmarks/bench_trajectory.py`` does) are seen by two virtual cameras with a 65-degree lens
(across the long side of 1920 x 1080), 1.6 m up:

- static: the nearest fixed camera beside the walk that sees all of it, 10 degrees down
  (``helpers.place_camera``, as in the trajectory benchmark);
- panning: a camera 4 m beside the middle of the walk that turns to keep the walker's pelvis in
  the middle of the frame, with an operator's lag of 0.25 s and a handheld wobble (1 degree of
  roll and tilt), so it pans and tilts over tens of degrees.

Each clip is rendered (``tests/synthetic_footage.py``: a textured panorama, the walker drawn as
striped limbs; at ``--render-size``, the same lens) and :class:`gastnet.video.motion.CameraMotionEstimator`
runs on the rendered frames with the walker's boxes: its rotations are measured, not given. The
joints are projected to 1920 x 1080 pixels per frame, lifted by the shipped default model
(``lift_at_model_rate``, as ``gastnet lift`` does), and each frame's root found in that frame's
camera (``root_translation``, true focal length). Then the people are placed in the world
(``place_in_world``) four ways:

- uncompensated: the camera-frame poses as they are (what ``gastnet lift`` does today);
- compensated: first brought into the frame-0 camera with the estimated rotations
  (``to_reference_frame``);
- compensated, focal from background: the same, with the rotations and the root both computed
  with the focal length the background gave (``focal_estimate``; the true one when it gives none);
- oracle: brought into the frame-0 camera with the true rotations.

Rows marked "detector 2D" (``--joints``, both by default) see the walk as a detector would: the joints a
detector defines otherwise moved as training moves them (``helpers.detector_joints``) and training's
detector errors added (``detected_and_lifted``); the truth stays the mocap's joints.

Columns (means over the walks of a row): root error in the frame-0 camera as a percentage of the
distance the root travelled; horizontal pelvis path error in the world (the placement's frame
built on the true floor below the frame-0 camera); angle between the fitted and the true floor
normal; the body's lean (mean angle of the pelvis -> thorax axis from the world's vertical) as
placed and in the truth; camera height error (above the standing ankle) and pitch error of the
frame-0 camera; the share of frames with a foot on the floor. Above the table, per camera, the
estimator's own errors: per-frame rotation error (degrees, all frames) and the focal length
estimated from the background against the truth.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from gastnet import create_model
from gastnet.geometry.camera import focal_from_fov, normalize_screen_coordinates, project_to_2d
from gastnet.pipeline.moving_camera import keep_paths
from gastnet.pipeline.options import DEFAULT_MODELS
from gastnet.runtime.predict import lift_at_model_rate
from gastnet.skeleton import H36M_17
from gastnet.video.camera_path import recover_camera_path
from gastnet.video.motion import LINE_FRAMES, CameraMotionEstimator
from gastnet.world.camera_motion import CameraMotion, to_reference_frame
from gastnet.world.placement import place_in_world, root_translation

# the camera placement and the synthetic footage are shared with the tests and live there
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import detector_joints, floor_frame, place_camera, real_walks  # noqa: E402
from synthetic_footage import (  # noqa: E402
    Footage,
    fixed_camera,
    follow_walk,
    moving_walk,
    room_walk,
    straight_walk,
    truck_walk,
)

SIZE = (1920, 1080)
FOV, HEIGHT, PITCH = 65.0, 1.6, 10.0  # lens across (deg), camera height (m), static camera's pitch down (deg)
PAN_DISTANCE, WOBBLE = 4.0, 1.0  # the panning camera: metres from the middle of the walk; handheld wobble (deg)
PELVIS, THORAX, ANKLES = 0, 8, (3, 6)


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles (T,) degrees between rotations a and b (T, 3, 3)."""
    cos = (np.trace(np.swapaxes(a, 1, 2) @ b, axis1=1, axis2=2) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def lean_deg(poses_world: np.ndarray) -> float:
    """Mean angle (degrees) of the pelvis -> thorax axis of world poses (T, 17, 3) (z up) from the vertical."""
    torso = poses_world[:, THORAX] - poses_world[:, PELVIS]
    return float(np.degrees(np.arccos(np.clip(torso[:, 2] / np.linalg.norm(torso, axis=-1), -1, 1))).mean())


def measure(footage: Footage, render_size: tuple[int, int]) -> tuple[CameraMotion, CameraMotion]:
    """The estimator on the rendered clip: (given the true focal length, finding its own)."""
    small = footage.resized(render_size)
    given, own = CameraMotionEstimator(float(small.focal[0])), CameraMotionEstimator()
    for t in range(len(small)):
        frame, boxes = small.frame(t), small.boxes(t)
        given.update(frame, boxes)
        own.update(frame, boxes)
    return given.finish(), own.finish()


def evaluate(rel: np.ndarray, pixels: np.ndarray, focal: float, fps: float, footage: Footage,
             rotations: np.ndarray | None, motion: CameraMotion | None = None) -> dict[str, float]:
    """Root, floor and lean errors of one placement (see the module's docstring); a translating or
    zooming ``motion`` places people as ``gastnet lift`` does then (``keep_paths``)."""
    root = root_translation(rel, pixels, None, focal, np.array(SIZE) / 2, fps)
    absolute = rel + root[:, None]
    if rotations is not None:
        absolute = to_reference_frame(absolute, rotations)
    camera_error = math.nan
    if motion is not None and motion.kind == "translating/zooming":
        scale = motion.image_size[0] / SIZE[0]  # the motion was measured on frames rendered at another size
        kept = keep_paths([absolute], [np.arange(len(absolute))], motion, focal * scale, fps)
        absolute = kept.poses[0]
        if kept.camera_path is not None:  # the camera's path against the truth, both in the frame-0 camera
            true_centres = (footage.eyes - footage.eyes[0]) @ footage.world_to_camera[0].T
            length = np.linalg.norm(np.diff(true_centres, axis=0), axis=-1).sum()
            camera_error = 100 * float(np.linalg.norm(kept.camera_path.centres - true_centres, axis=-1).mean() / length)
    placed = place_in_world([absolute], fps)
    rot, eye, world = footage.world_to_camera[0], footage.eyes[0], footage.world
    truth = (world - eye) @ rot.T  # the frame-0 camera
    error = np.linalg.norm(absolute[:, 0] - truth[:, 0], axis=-1).mean()
    path = np.linalg.norm(np.diff(truth[:, 0], axis=0), axis=-1).sum()
    true_world = floor_frame(world, rot, eye)
    horizontal = np.linalg.norm(placed.poses_world[0][:, 0, :2] - true_world[:, 0, :2], axis=-1).mean()
    normal = math.degrees(math.acos(np.clip(placed.rotation[2] @ rot[:, 2], -1.0, 1.0)))
    ankle = np.median(world[:, ANKLES, 2].min(1))
    true_pitch = math.degrees(math.asin(-rot[2, 2]))
    return {"pct": 100 * error / path, "horizontal": horizontal, "normal": normal,
            "lean": lean_deg(placed.poses_world[0]), "true lean": lean_deg(world),
            "height": abs(placed.camera_height - (eye[2] - ankle)), "pitch": abs(placed.camera_pitch_deg - true_pitch),
            "contact": 100 * float(placed.contacts[0].mean()), "camera err": camera_error}


def cameras(world: np.ndarray, fps: float) -> dict[str, Footage]:
    rot, eye = place_camera(world, "across", FOV, HEIGHT, PITCH, SIZE)
    return {"static": fixed_camera(world, fps, rot, eye, SIZE, FOV),
            "panning": follow_walk(world, fps, SIZE, FOV, distance=PAN_DISTANCE, height=HEIGHT, wobble_deg=WOBBLE)}


def speed(frames: int = 60, repeats: int = 3) -> None:
    """Milliseconds per 1920 x 1080 frame of the estimator on one core (process time), and its downscale alone."""
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    footage = follow_walk(straight_walk(frames / 25.0), 25.0, SIZE, FOV, distance=PAN_DISTANCE, wobble_deg=WOBBLE)
    images = [footage.frame(t) for t in range(len(footage))]
    boxes = [footage.boxes(t) for t in range(len(footage))]
    full, down = [], []
    for _ in range(repeats):
        estimator = CameraMotionEstimator(float(footage.focal[0]))
        start = time.process_time()
        for image, box in zip(images, boxes):
            estimator.update(image, box)
        full.append((time.process_time() - start) / len(images))
        start = time.process_time()
        for image in images:
            estimator._grey(image)
        down.append((time.process_time() - start) / len(images))
    motion = estimator.finish()
    error = angle_deg(motion.rotations, footage.rotations)
    print(f"1920 x 1080, {len(images)} frames, one core (process time, best of {repeats}): "
          f"{1000 * min(full):.2f} ms per frame ({1 / min(full):.0f} fps), of which the grey downscale "
          f"{1000 * min(down):.2f} ms; rotation error max {error.max():.3f} deg over a "
          f"{angle_deg(footage.rotations[:1].repeat(len(images), 0), footage.rotations).max():.1f}-degree turn")
    # the straight lines' focal length, measured on LINE_FRAMES only: its cost per measured frame in a room
    room = room_walk(straight_walk(1.0), 25.0, SIZE, FOV)
    estimator = CameraMotionEstimator()
    estimator.update(room.frame(0), room.boxes(0))
    grey, box = estimator._grey(room.frame(0)), np.array(room.boxes(0))
    costs = []
    for _ in range(repeats):
        start = time.process_time()
        estimator._measure_lines(grey, box)
        costs.append(time.process_time() - start)
    print(f"the scene's lines (a room at 1920 x 1080): {1000 * min(costs):.1f} ms per measured frame, on frames "
          f"{', '.join(map(str, LINE_FRAMES))} only ({1000 * min(costs) * 2 / 60:.2f} ms per frame over the first "
          f"60, {1000 * min(costs) * 4 / 500:.2f} ms over 500)")
    # the path of a camera that moves (after the lift, with the floor): a truck past a wall at 1920 x 1080
    truck = truck_walk(straight_walk(2.0), 25.0, SIZE, FOV)
    estimator = CameraMotionEstimator(float(truck.focal[0]))
    for t in range(len(truck)):
        estimator.update(truck.frame(t), truck.boxes(t))
    motion = estimator.finish()
    first = truck.world_to_camera[0]
    costs = []
    for _ in range(repeats):
        start = time.process_time()
        path = recover_camera_path(motion, float(truck.focal[0]), first @ np.array([0.0, 0.0, -1.0]), float(truck.eyes[0, 2]))
        costs.append((time.process_time() - start) / len(truck))
    truth = (truck.eyes - truck.eyes[0]) @ first.T
    length = float(np.linalg.norm(np.diff(truth, axis=0), axis=-1).sum())
    error = float(np.linalg.norm(path.centres - truth, axis=-1).mean())
    print(f"a moving camera's path (a truck at 1920 x 1080, {len(truck)} frames, the true floor): "
          f"{1000 * min(costs):.2f} ms per frame; within {100 * error / length:.1f}% of its {length:.2f} m")


def lenses(render_size: tuple[int, int], fovs: tuple[float, ...] = (50.0, 60.0, 70.0, 80.0, 90.0),
           seconds: tuple[float, ...] = (0.4, 0.6, 1.0, 3.0)) -> None:
    """The focal length the background gives (no lens given) for lenses across ``fovs`` and pans of several sizes.

    The synthetic walk (1.3 m/s) is followed by a camera 5 m away for ``seconds``: the longer, the
    larger the pan. Also the rotation error with that focal length."""
    print("| lens (deg across) | pan (deg) | focal error (%) | quartiles of the pairs (%) | rotation error max (deg) |")
    print("|---|---|---|---|---|")
    for fov in fovs:
        for duration in seconds:
            footage = follow_walk(straight_walk(duration), 25.0, render_size, fov, distance=5.0, wobble_deg=WOBBLE)
            estimator = CameraMotionEstimator()
            for t in range(len(footage)):
                estimator.update(footage.frame(t), footage.boxes(t))
            motion = estimator.finish()
            pan = float(np.ptp(motion.angles_deg(footage.world_to_camera[0][:, 2])[:, 0]))
            error = angle_deg(motion.rotations, footage.rotations).max()
            found = motion.focal_estimate
            true = footage.focal[0]
            if found is None:
                print(f"| {fov:g} | {pan:.1f} | none ({motion.kind}; {motion.focal_source} lens used) | | {error:.2f} |")
            else:
                low, high = found.range_px(0.6745)  # the frame pairs' quartiles
                print(f"| {fov:g} | {pan:.1f} | {100 * (found.focal_px / true - 1):+.2f} | {100 * (low / true - 1):+.2f} "
                      f"to {100 * (high / true - 1):+.2f} | {error:.2f} |")


def detected_and_lifted(model: torch.nn.Module, camera_joints: np.ndarray, focal: float, fps: float, seed: int,
                        definitions: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame joints (T, 17, 3) projected to 1920 x 1080 pixels with detector errors (``detector_errors``,
    seeded), and lifted by ``model`` as ``gastnet lift`` does: (pixels (T, 17, 2), root-relative poses (T, 17, 3) m);
    with ``definitions`` the joints a detector defines otherwise are moved first (``helpers.detector_joints``:
    one seeded offset in the body's frame, as training draws them, midpoint conventions included)."""
    from gastnet.data.augment import DetectorErrorRanges, detector_errors

    if definitions:
        camera_joints = detector_joints(camera_joints, seed)
    pixels = project_to_2d(camera_joints, focal, np.array(SIZE) / 2)
    normalised = torch.from_numpy(normalize_screen_coordinates(pixels.astype(np.float32), *SIZE))[None]
    noisy = detector_errors(normalised, DetectorErrorRanges(), torch.Generator().manual_seed(seed))[0].numpy()
    pixels = np.stack([(noisy[..., 0] + 1) * SIZE[0] / 2, noisy[..., 1] * SIZE[0] / 2 + SIZE[1] / 2], -1)
    rel = lift_at_model_rate(model, noisy.astype(np.float32), fps, H36M_17)
    return pixels.astype(np.float64), rel - rel[:, :1]


MOVING_SECONDS = 4.0


def moving(data_dir: Path, render_size: tuple[int, int], definitions: bool = False) -> None:
    """A camera that moves through space (beside, behind, toward the walker) against a fixed one, the lens known.

    The first :data:`MOVING_SECONDS` of each real walk in a generated room (``moving_walk``; the fixed
    camera: ``room_walk``, the nearest that sees the whole piece); 2D with detector errors, lifted;
    the estimator runs on the frames rendered at ``render_size`` with the true focal length, and the
    people are placed as ``gastnet lift`` places them for the kind it finds (``keep_paths`` for a
    translating or zooming camera)."""
    from gastnet.geometry.camera import DEFAULT_FOV_DEG
    from gastnet.world.focal import FocalLengthEstimate, combine_focal

    torch.set_num_threads(2)
    model = create_model(DEFAULT_MODELS[False], pretrained=True)
    rows: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for index, (name, world, fps) in enumerate(real_walks(data_dir)):
        data = "CMU" if name.startswith("CMU") else "H36M"
        piece = world[: int(MOVING_SECONDS * fps)]
        clips = {"fixed": room_walk(piece, fps, SIZE, FOV, 25.0, 8.0, distance=None, seed=index)}
        clips.update({mode: moving_walk(piece, fps, mode, SIZE, FOV, seed=index) for mode in ("beside", "behind", "toward")})
        for mode, footage in clips.items():
            small = footage.resized(render_size)
            estimator = CameraMotionEstimator(float(small.focal[0]))
            for t in range(len(small)):
                estimator.update(small.frame(t), small.boxes(t))
            motion = estimator.finish()
            true_focal = float(footage.focal[0])
            pixels, rel = detected_and_lifted(model, footage.camera_joints, true_focal, fps, 100 * index, definitions)
            result = evaluate(rel, pixels, true_focal, fps, footage, motion.rotations if motion.kind == "rotating" else None,
                              motion)
            camera_path = float(np.linalg.norm(np.diff(footage.eyes, axis=0), axis=-1).sum())
            rows[(data, mode)].append(result | {"camera": camera_path, "focal err": 0.0})
            # the lens unknown: the scene's lines (measured by the estimator) with the prior, as gastnet lift does
            lines = motion.line_focal
            cues = [] if lines is None else [FocalLengthEstimate(lines.focal * SIZE[0] / render_size[0], lines.sigma_log,
                                                                 SIZE, "scene lines", "")]
            found = combine_focal(cues).focal_px if cues else focal_from_fov(DEFAULT_FOV_DEG, SIZE)
            unknown = evaluate(rel, pixels, found, fps, footage, motion.rotations if motion.kind == "rotating" else None,
                               motion)
            rows[(data, mode + ", lens from the lines")].append(
                unknown | {"camera": camera_path, "focal err": 100 * math.log(found / true_focal)})
            print(f"{name}, {mode}: {motion.kind}, camera moved {camera_path:.2f} m (recovered within "
                  f"{result['camera err']:.1f}%); root err {result['pct']:.1f}% of path, floor {result['normal']:.1f} deg, "
                  f"lean {result['lean']:.1f} (true {result['true lean']:.1f})", flush=True)
    print()
    print("| walks, camera | focal err (%) | root err (% of path) | camera path (m) | camera path err (% of it) "
          "| floor normal err (deg) | lean placed (deg) | lean true (deg) |")
    print("|---|---|---|---|---|---|---|---|")
    for (data, mode), results in sorted(rows.items()):
        r = {k: float(np.mean([x[k] for x in results])) for k in ("pct", "camera", "normal", "lean", "true lean")}
        errors = [x["camera err"] for x in results if np.isfinite(x["camera err"])]
        camera = f"{np.mean(errors):.1f} ({len(errors)} of {len(results)})" if errors else "-"
        focal = [x["focal err"] for x in results]
        lens = "given" if not any(focal) else f"{min(focal):+.1f} to {max(focal):+.1f}"
        print(f"| {data} ({len(results)}), {mode} | {lens} | {r['pct']:.1f} | {r['camera']:.2f} | {camera} "
              f"| {r['normal']:.2f} | {r['lean']:.1f} | {r['true lean']:.1f} |")


SCENE_FOVS = (50.0, 70.0, 90.0)
SCENE_YAW, SCENE_PITCH = 30.0, 0.0  # the scene lens's camera: turned 30 degrees from the walls, level


def scene_lens(data_dir: Path, render_size: tuple[int, int], fovs: tuple[float, ...] = SCENE_FOVS,
               definitions: bool = False) -> None:
    """The lens unknown, in a scene with straight lines: focal length and root error, lines against people.

    Each real walk is seen by a level fixed camera in a generated room (``room_walk``: tiled ground,
    two walls with windows and doors; turned 30 degrees from the walls, the nearest that sees the whole
    walk) at each lens of ``fovs``. The 2D is the projection at 1920 x 1080 with detector errors
    (``detector_errors``); the lines are measured as the camera-motion estimator does (frames of
    ``LINE_FRAMES`` rendered at ``render_size``); the people's estimate comes from the lifted poses
    (``estimate_focal``); both are combined with the prior (``combine_focal``) as ``gastnet lift`` does.
    The root error (% of the path) is that of ``root_translation`` with each focal length."""
    import cv2

    from gastnet.video.lines import combine_line_focals, detect_segments, focal_from_segments
    from gastnet.world.focal import FocalLengthEstimate, combine_focal, estimate_focal

    torch.set_num_threads(2)
    model = create_model(DEFAULT_MODELS[False], pretrained=True)
    rows: dict[tuple[str, float], list[dict[str, float]]] = defaultdict(list)
    for index, (name, world, fps) in enumerate(real_walks(data_dir)):
        data = "CMU" if name.startswith("CMU") else "H36M"
        for fov in fovs:
            footage = room_walk(world, fps, SIZE, fov, SCENE_YAW, SCENE_PITCH, distance=None, seed=index)
            truth_cam = footage.camera_joints
            true_focal = float(footage.focal[0])
            pixels, rel = detected_and_lifted(model, truth_cam, true_focal, fps, 1000 * index + int(fov), definitions)
            small = footage.resized(render_size)
            found = []
            for t in (t for t in LINE_FRAMES if t < len(small)):
                grey = cv2.cvtColor(small.frame(t), cv2.COLOR_RGB2GRAY)
                segments = detect_segments(grey, np.array(small.boxes(t)))
                estimate = focal_from_segments(segments * (SIZE[0] / render_size[0]), SIZE, seed=len(found))
                if estimate is not None:
                    found.append(estimate)
            lines = combine_line_focals(found)
            people = estimate_focal(rel, pixels, None, SIZE, fps)
            cues = [people] + ([] if lines is None else
                               [FocalLengthEstimate(lines.focal, lines.sigma_log, SIZE, "scene lines", lines.note)])
            chosen = combine_focal(cues)
            only_people = combine_focal([people])
            path = np.linalg.norm(np.diff(truth_cam[:, 0], axis=0), axis=-1).sum()

            def root_pct(focal: float) -> float:
                root = root_translation(rel, pixels, None, focal, np.array(SIZE) / 2, fps)
                return float(100 * np.linalg.norm(root - truth_cam[:, 0], axis=-1).mean() / path)

            def log_err(focal: float) -> float:
                return math.log(focal / true_focal)

            rows[(data, fov)].append({
                "lines": math.nan if lines is None else 100 * log_err(lines.focal),
                "lines in": math.nan if lines is None else float(abs(log_err(lines.focal)) <= lines.sigma_log),
                "chosen": 100 * log_err(chosen.focal_px), "chosen in": float(abs(log_err(chosen.focal_px)) <= chosen.sigma_log),
                "people": 100 * log_err(only_people.focal_px),
                "people in": float(abs(log_err(only_people.focal_px)) <= only_people.sigma_log),
                "root true": root_pct(true_focal), "root chosen": root_pct(chosen.focal_px),
                "root people": root_pct(only_people.focal_px)})
            r = rows[(data, fov)][-1]
            print(f"{name}, {fov:g} deg: lines {r['lines']:+.1f}%, chosen {r['chosen']:+.1f}%, people {r['people']:+.1f}%; "
                  f"root err {r['root true']:.2f} / {r['root chosen']:.2f} / {r['root people']:.2f} % of path "
                  f"(true / chosen / people's focal)", flush=True)
    print()
    print("| walks, lens | focal err, lines (%) | in 1 sigma | focal err, chosen (%) | in 1 sigma | focal err, people "
          "only (%) | in 1 sigma | root err, true focal (% path) | chosen | people only | chosen / true |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (data, fov), results in rows.items():
        def mean(key: str) -> float:
            return float(np.nanmean([r[key] for r in results]))

        def spread(key: str) -> str:
            values = [r[key] for r in results if np.isfinite(r[key])]
            return f"{min(values):+.1f} to {max(values):+.1f}" if values else "none"

        def share(key: str) -> str:
            values = [r[key] for r in results if np.isfinite(r[key])]
            return f"{int(sum(values))}/{len(values)}"

        print(f"| {data} ({len(results)}), {fov:g} deg | {spread('lines')} | {share('lines in')} | {spread('chosen')} "
              f"| {share('chosen in')} | {spread('people')} | {share('people in')} | {mean('root true'):.2f} "
              f"| {mean('root chosen'):.2f} | {mean('root people'):.2f} | {mean('root chosen') / mean('root true'):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--render-size", default="640x360", help="size the clips are rendered at for the estimator")
    parser.add_argument("--per-walk", action="store_true", help="also print every walk")
    parser.add_argument("--speed", action="store_true", help="only time the estimator on 1920 x 1080 frames")
    parser.add_argument("--lenses", action="store_true", help="only the focal length from the background, 50-90 deg")
    parser.add_argument("--moving", action="store_true",
                        help="only a camera moving beside, behind and toward the walker against a fixed one")
    parser.add_argument("--scene-lens", action="store_true",
                        help="only the lens unknown in a scene with lines: focal length and root error, 50-90 deg")
    parser.add_argument("--joints", choices=("exact", "detector", "both"), default="both",
                        help="the 2D of the turning-camera table: the mocap's joints projected, a detector's (its joint "
                             "definitions and errors), or both rows (default); --moving and --scene-lens always add "
                             "detector errors, and a detector's joint definitions with --joints detector")
    args = parser.parse_args()
    definitions = args.joints == "detector"
    if args.speed:
        speed()
        return
    render_size = tuple(int(v) for v in args.render_size.lower().split("x"))
    if len(render_size) != 2 or abs(render_size[0] / render_size[1] - SIZE[0] / SIZE[1]) > 0.01:
        parser.error(f"--render-size must be WxH with the aspect of {SIZE[0]}x{SIZE[1]}, got {args.render_size}")
    if args.lenses:
        lenses((render_size[0], render_size[1]))
        return
    if args.moving:
        moving(args.data_dir, (render_size[0], render_size[1]), definitions)
        return
    if args.scene_lens:
        scene_lens(args.data_dir, (render_size[0], render_size[1]), definitions=definitions)
        return
    torch.set_num_threads(2)
    model = create_model(DEFAULT_MODELS[False], pretrained=True)
    true_focal = focal_from_fov(FOV, SIZE)
    rows: dict[tuple[str, str, str], list[dict[str, float]]] = defaultdict(list)
    checks: dict[tuple[str, str], list[str]] = defaultdict(list)
    per_walk = []
    for index, (name, world, fps) in enumerate(real_walks(args.data_dir)):
        data = "CMU" if name.startswith("CMU") else "H36M"
        for camera, footage in cameras(world, fps).items():
            cam = footage.camera_joints
            seen = {}  # the 2D kind -> (pixels (T, 17, 2), root-relative lifted poses (T, 17, 3))
            if args.joints in ("exact", "both"):
                pixels = project_to_2d(cam, true_focal, np.array(SIZE) / 2)
                rel = lift_at_model_rate(model, normalize_screen_coordinates(pixels.astype(np.float32), *SIZE), fps,
                                         H36M_17)
                seen[""] = (pixels, rel - rel[:, :1])
            if args.joints in ("detector", "both"):
                seen[", detector 2D"] = detected_and_lifted(model, cam, true_focal, fps, 10 * index + len(seen), True)
            given, own = measure(footage, render_size)
            # the background's focal length (scaled to 1920 x 1080) where it gives one, else the true one
            own_focal = own.focal / render_size[0] * SIZE[0] if own.focal_estimate else true_focal
            own_rotations = own.rotations if own.focal_estimate else given.rotations
            rotation_error = angle_deg(given.rotations, footage.rotations)
            turn = angle_deg(np.broadcast_to(np.eye(3), footage.rotations.shape), footage.rotations).max()
            focal_note = (f"focal {100 * (own_focal / true_focal - 1):+.1f}%" if own.focal_estimate
                          else "focal: none from the background")
            checks[(data, camera)].append(f"{name}: {given.kind}, turned {turn:.0f} deg, rotation error max "
                                          f"{rotation_error.max():.2f} mean {rotation_error.mean():.2f} deg, {focal_note}")
            variants = {"uncompensated": (true_focal, None),
                        "compensated (estimated rotations)": (true_focal, given.rotations),
                        "compensated, focal from background": (own_focal, own_rotations),
                        "oracle (true rotations)": (true_focal, footage.rotations)}
            for kind, (pixels, rel) in seen.items():
                for variant, (focal, rotations) in variants.items():
                    result = evaluate(rel, pixels, focal, fps, footage, rotations)
                    rows[(data, camera, variant + kind)].append(result)
                    per_walk.append((name, camera, variant + kind, result))
    for (data, camera), lines in checks.items():
        print(f"estimator, {data} {camera}: " + "; ".join(lines))
    print()
    keys = ("pct", "horizontal", "normal", "lean", "true lean", "height", "pitch", "contact")
    header = ("| {} | root err (% of path) | horiz. path err (m) | floor normal err (deg) | lean placed (deg) "
              "| lean true (deg) | cam height err (m) | pitch err (deg) | foot contact (%) |")
    rule = "|---|---|---|---|---|---|---|---|---|"

    def line(label: str, r: dict[str, float]) -> str:
        return (f"| {label} | {r['pct']:.2f} | {r['horizontal']:.3f} | {r['normal']:.2f} | {r['lean']:.1f} "
                f"| {r['true lean']:.1f} | {r['height']:.3f} | {r['pitch']:.2f} | {r['contact']:.0f} |")

    if args.per_walk:
        print(header.format("walk, camera, placement") + "\n" + rule)
        for name, camera, variant, result in per_walk:
            print(line(f"{name}, {camera}, {variant}", result))
        print()
    print(header.format("walks: camera, placement (means)") + "\n" + rule)
    for (data, camera, variant), results in rows.items():
        print(line(f"{data}: {camera}, {variant}", {k: float(np.mean([r[k] for r in results])) for k in keys}))


if __name__ == "__main__":
    main()
