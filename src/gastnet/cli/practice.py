"""Practitioner commands: lift."""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np

from ..extras import require
from ..fileio import folder_lock, matching_files, output_set
from ..geometry.camera import DEFAULT_FOV_DEG
from ..pipeline.options import DEFAULT_KEYPOINT_FPS, DEFAULT_MAX_PEOPLE, DEFAULT_MODELS, LiftOptions
from ..pipeline.results import OUTPUT_FILES, LiftResult
from ..pipeline.writers import WRITERS, require_formats
from ..video.backends import DETECTORS

RENDER_NEEDS = {".gif": (("plot", None),), ".mp4": (("plot", None), ("video", ("av",)))}
"""``--render`` suffix -> (extra, the modules of it needed, None: all) that it needs."""


def _require_extras(args: argparse.Namespace, inputs: list[Path]) -> None:
    """MissingExtra (a ValueError: exit code 2) naming the extra to install, before any work, if a
    package that the inputs, --render or --attention need is not installed (the formats' own are
    checked through their writers: :func:`~gastnet.pipeline.writers.require_formats`)."""
    from ..pipeline.recording import is_video_input

    videos = [p for p in inputs if is_video_input(p)]
    if videos:
        require("video", f"video input ({videos[0].name})")
    for extra, only in RENDER_NEEDS.get(args.render or "", ()):
        require(extra, f"--render {args.render}", only)
    if args.attention:
        require("plot", "--attention")


def _image_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--image-size must look like 1920x1080, got {text!r}") from None
    return w, h


def _check_out(out: Path) -> None:
    """ValueError unless ``out`` is (or can be made) a writable folder: checked before any detection or lifting."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; expected a folder (existing or new) for the outputs")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--out {out}: {parent} is a file, so no folder can be made there; expected a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: {parent} is not writable; expected a folder the outputs can be written to")


def _attention_plot(args: argparse.Namespace, options: LiftOptions, result: LiftResult, out: Path) -> Path:
    import torch

    from ..geometry.camera import normalize_screen_coordinates
    from ..pipeline.recording import _lifter
    from ..skeleton import H36M_17
    from ..visualization.attention import plot_attention

    if args.attention not in H36M_17.joint_names:
        raise ValueError(f"--attention takes a joint name, one of {', '.join(H36M_17.joint_names)}")
    model, _ = _lifter(options.model, options.checkpoint)
    person = result.people[0]
    rf = model.receptive_field
    centre = len(person.frames) // 2
    index = np.clip(np.arange(centre - rf // 2, centre - rf // 2 + rf), 0, len(person.frames) - 1)
    window = normalize_screen_coordinates(person.keypoints_2d[index].astype(np.float32), *result.image_size)
    return plot_attention(model, torch.from_numpy(window), H36M_17.joint_names.index(args.attention),
                          out / f"attention_{args.attention}.png")


def lift_options_from_args(args: argparse.Namespace) -> LiftOptions:
    """The :class:`~gastnet.pipeline.options.LiftOptions` that ``gastnet lift``'s flags ask for (the one place
    they are read); checked as it is made, so a bad flag fails before any input is read."""
    return LiftOptions(layout=args.layout, image_size=_image_size(args.image_size), fps=args.fps, model=args.model,
                       checkpoint=args.checkpoint, flip=not args.no_flip, smoothing=args.smooth,
                       smoothing_3d=args.smooth_3d, max_people=args.people, focal_length=args.focal_length,
                       fov=args.fov, person_height=args.person_height, camera_motion=not args.no_camera_motion,
                       fit=not args.no_fit)


def _cmd_lift_batch(args: argparse.Namespace, options: LiftOptions, inputs: list[Path], formats: tuple[str, ...]) -> int:
    from ..pipeline.batch import lift_many

    if args.render or args.attention:
        raise ValueError("--render and --attention take one input at a time; lift the batch first, then render an input")
    if args.detector is not None:
        raise ValueError("--detector takes one input at a time; a batch uses the default detector")
    records = lift_many(inputs, args.out, options, workers=args.workers, formats=formats, overwrite=args.overwrite,
                        progress=True, timeout=args.timeout)
    for r in records:
        print(f"{'ok    ' if r['ok'] else 'FAILED'} {r['input']}: " + (
            f"{r['people']} people, {r['frames']} frames, {r['seconds']:.1f} s -> {r['out']}" if r["ok"] else r["error"]))
    failed = sum(not r["ok"] for r in records)
    print(f"{len(records) - failed} of {len(records)} inputs lifted; report: {Path(args.out) / 'batch_report.json'}")
    return 1 if failed else 0


def _write_outputs(args: argparse.Namespace, options: LiftOptions, result: LiftResult, folder: Path,
                   formats: tuple[str, ...], timings: dict[str, float]) -> list[Path]:
    """Save the poses, and on request the render, contact sheet and attention plot, into ``folder``."""
    from ..pipeline.recording import is_video_input

    paths = result.save(folder, formats)
    if args.render:
        import time

        from ..visualization.render import RenderOptions, contact_sheet, render_animation

        start = time.perf_counter()
        keypoints, world = result.padded("keypoints_2d", 2), result.padded("poses_world", 3)
        video = None
        if is_video_input(args.input):
            from ..video.reader import open_source

            video = open_source(args.input)
        render = RenderOptions(fps=result.fps, labels=tuple(str(p.track_id) for p in result.people))  # as "person N"
        paths.append(render_animation(folder / f"render{args.render}", keypoints, world, result.image_size, render,
                                      video=video, progress=True))
        if video is not None:
            video.close()
        paths.append(contact_sheet(folder / "sheet.png", keypoints, world, result.image_size, render))
        timings["render"] = time.perf_counter() - start
    if args.attention:
        paths.append(_attention_plot(args, options, result, folder))
    return paths


def cmd_lift(args: argparse.Namespace) -> int:
    from ..pipeline.batch import expand_inputs
    from ..pipeline.recording import lift

    out = Path(args.out)
    formats = require_formats(args.formats.split(","))  # before any detection or lifting
    _check_out(out)
    options = lift_options_from_args(args)
    inputs = expand_inputs(args.input)
    _require_extras(args, inputs)
    if not (len(args.input) == 1 and inputs == [Path(args.input[0]).resolve()]):  # not one file or one folder of frames
        return _cmd_lift_batch(args, options, inputs, formats)
    if args.timeout is not None:
        raise ValueError("--timeout limits each input of a batch (several inputs); one input runs in this process, "
                         "stop it with Ctrl-C")
    args.input = args.input[0]
    with folder_lock(out):  # from the start of the work to the end: one run per folder
        existing = matching_files(out, OUTPUT_FILES)  # before the work, so that a refusal costs nothing
        if existing and not args.overwrite:
            raise ValueError(f"{', '.join(map(str, existing))} already exist; pass --overwrite or choose another --out")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notes below say the same
            timings: dict[str, float] = {}
            detector = None
            if args.detector is not None:
                from ..video.backends import make_detector

                detector = make_detector(args.detector, options.max_people)
            try:
                result = lift(args.input, options, detector=detector, progress=True, timings=timings)
            finally:
                if detector is not None:
                    detector.close()
        with output_set(out, OUTPUT_FILES, args.overwrite) as stage:  # the whole set replaces the earlier one, or nothing
            paths = [out / p.name for p in _write_outputs(args, options, result, stage, formats, timings)]
    for note in result.notes:
        print(note)
    for p in result.people:
        print(f"person {p.track_id}: frames {p.frames[0]}-{p.frames[-1]} ({len(p.frames)})")
    frames = result.num_frames
    stages = ", ".join(f"{k} {frames / v:.1f} fps" for k, v in timings.items() if v > 0)
    total = sum(timings.values())
    print(f"speed over {frames} frames: {stages}; all stages {frames / max(total, 1e-9):.1f} fps")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lift", help="3D poses from a video, photo, image folder or 2D keypoint file")
    p.add_argument("input", nargs="+", help="video (mp4, avi, mov), photo (jpg, png), image folder, or keypoint "
                                            "file/folder (COCO, MMPose, OpenPose, GAST-Net JSON, VideoPose3D npz, npy); "
                                            "several inputs, a folder "
                                            "of videos or a glob lift each into --out/<name>/")
    p.add_argument("--out", default="gastnet_out", help="output folder (default: %(default)s)")
    p.add_argument("--formats", default="npz", help="comma-separated, of: " + "; ".join(
        f"{w.name} ({w.description}{f', needs the {w.extra} extra' if w.extra else ''})" for w in WRITERS.values())
        + " (default: %(default)s)")
    p.add_argument("--layout", help="keypoint layout when the file does not say: coco, h36m, mediapipe, "
                                    "openpose25, openpose18, halpe26")
    p.add_argument("--image-size", help="WIDTHxHEIGHT of the video the keypoints come from, e.g. 1920x1080")
    p.add_argument("--fps", type=float, help=f"frame rate of keypoint input (default: {DEFAULT_KEYPOINT_FPS:g}; "
                                             "videos: their own)")
    p.add_argument("--model", help="a model name: name.tag or an architecture (its shipped weights, else random ones); "
                                   f"default: {DEFAULT_MODELS[False]}, the shipped weights made for video (trained on "
                                   "video-like input: any camera, body, detector, 10-60 fps; see 'gastnet models "
                                   "--pretrained')")
    p.add_argument("--checkpoint", help="a checkpoint file (ours or the GAST-Net authors') instead of --model")
    p.add_argument("--smooth", choices=["one-euro", "savgol"], help="smooth the 2D before lifting (default: off)")
    p.add_argument("--smooth-3d", choices=["one-euro", "savgol"],
                   help="smooth the network's 3D, before the kinematic fit (default: off)")
    p.add_argument("--no-flip", action="store_true", help="no test-time flip averaging")
    p.add_argument("--people", type=int, default=DEFAULT_MAX_PEOPLE, help="most people lifted in any frame, in each frame the "
                                                          "largest there (default: %(default)s); what is not a person is dropped "
                                                          "either way")
    p.add_argument("--detector", choices=DETECTORS,
                   help="the 2D detector for a video: blazepose (one detector pass finds everyone, people followed "
                        "between frames; runs under LiteRT) or mediapipe (MediaPipe Pose, one pass per person); "
                        "default: blazepose when ai-edge-litert is installed, else mediapipe")
    lens = p.add_mutually_exclusive_group()
    lens.add_argument("--focal-length", type=float, metavar="PIXELS",
                      help="the camera's focal length in pixels, to place people at their real distances")
    lens.add_argument("--fov", type=float, metavar="DEGREES",
                      help="the camera's field of view across the long side of the image (default: the photos' EXIF, "
                           "else estimated from the people's walk and a turning camera's background, else "
                           f"{DEFAULT_FOV_DEG:g}, a typical phone or webcam)")
    p.add_argument("--no-camera-motion", action="store_true",
                   help="take the video's camera as fixed (default: measure its motion on the background and keep "
                        "the world still while it turns)")
    p.add_argument("--no-fit", action="store_true",
                   help="skip the kinematic fit (default: one skeleton per person, posed in every frame to agree "
                        "with the detected 2D; its bones and rotations go into the BVH and glTF exports)")
    p.add_argument("--person-height", type=float, metavar="METRES",
                   help="the people's stature, if known: scales the lifted bodies (which have the training "
                        "subjects' size) so that distances come out right")
    p.add_argument("--render", choices=[".mp4", ".gif"], help="also render the 2D and 3D side by side, and a contact sheet")
    p.add_argument("--attention", metavar="JOINT", help="also plot the global attention of this joint over the layers "
                                                        "(the paper's Fig. 7), e.g. right_wrist")
    p.add_argument("--workers", type=int, default=1, help="worker processes for several inputs (default: %(default)s),"
                                                           " each lifting one input at a time with an equal share of "
                                                           "the cores; a worker that crashes fails only its input")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="with several inputs: fail an input that takes "
                                                                    "longer and go on (default: no limit)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.set_defaults(func=cmd_lift)
