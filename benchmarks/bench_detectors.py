"""The video detectors side by side: BlazePose under LiteRT (the default) against MediaPipe Pose.

    python benchmarks/bench_detectors.py ../shared/data/video/walk_apart_2persons.avi [--repeat 3]

Three measurements, each backend in the same run (the CPU is shared, so ratios are what to compare):

1. **Four people at 1280x720, detection only.** Each frame puts side by side two 960x1080 cuts of
   the shared video (frames 35-70, where both men walk apart in full view, played forwards and
   backwards), scaled to 640x720, the right one mirrored and 12 frames later: four real people,
   each about 600 pixels tall. The frames are decoded once beforehand; the clock runs over
   ``detect`` only. Prints frames per second and the people found per frame.
2. **One person at 1920x1080, end to end.** ``gastnet.lift`` with the default options, once with
   each backend: frames per second over the whole call (decoding, detection, camera motion,
   lifting, fit). The clip: frames 58-86 of the shared video, forwards and backwards to 300 frames,
   with the image right of x = 1000 (where the man in the striped shirt walks) replaced by the
   empty room (from frame 86 up to x = 1280, from frame 0 beyond): the other man alone. (The
   one-person clip of ``bench_lift_speed.py``, its first 40 frames, holds the man in the striped
   shirt too, behind the other: MediaPipe Pose does not find him, BlazePose does.)
3. **Agreement of the 2D on the shared video** (87 frames): the people of the two backends are
   paired frame by frame (least mean keypoint distance, under 100 pixels), and the median distance
   between their keypoints is printed per COCO joint, over the joints both call visible (score over
   0.5), and how many frames each backend finds both men in.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import gastnet
from gastnet.keypoints.convert import COCO_17
from gastnet.video.backends import make_detector

BACKENDS = ("mediapipe", "blazepose")


def four_people_frames(video: str, frames: int) -> list[np.ndarray]:
    """RGB frames (720, 1280, 3) with four real people (see the module's docstring)."""
    import cv2

    capture = cv2.VideoCapture(video)
    source = [cv2.cvtColor(capture.read()[1], cv2.COLOR_BGR2RGB) for _ in range(71)][35:]
    capture.release()
    loop = source + source[::-1]
    tile = lambda f: cv2.resize(f[:, 440:1400], (640, 720), interpolation=cv2.INTER_AREA)  # noqa: E731
    return [np.ascontiguousarray(np.concatenate([tile(loop[t % len(loop)]), tile(loop[(t + 12) % len(loop)])[:, ::-1]],
                                                axis=1)) for t in range(frames)]


def one_person_clip(video: str, folder: Path, frames: int = 300) -> Path:
    """The one-person 1080p clip of the module's docstring, written as MJPG into ``folder``."""
    import cv2

    capture = cv2.VideoCapture(video)
    source = [capture.read()[1] for _ in range(87)]
    capture.release()
    room = source[0].copy()
    room[:, 1000:1280] = source[86][:, 1000:1280]
    alone = []
    for frame in source[58:87]:
        frame = frame.copy()
        frame[:, 1000:] = room[:, 1000:]
        alone.append(frame)
    h, w = alone[0].shape[:2]
    path = folder / "one_person_alone.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    sequence = (alone + alone[::-1]) * (frames // (2 * len(alone)) + 1)
    for frame in sequence[:frames]:
        writer.write(frame)
    writer.release()
    return path


def detection_speed(frames: list[np.ndarray], name: str) -> tuple[float, float]:
    """Frames per second of ``detect`` over ``frames`` with a fresh backend, and the mean people found a frame."""
    detector = make_detector(name, 4)
    detector.detect(frames[0])  # start-up (MediaPipe's graph, LiteRT's delegates) is not timed
    found = 0
    start = time.perf_counter()
    for frame in frames:
        found += len(detector.detect(frame))
    seconds = time.perf_counter() - start
    detector.close()
    return len(frames) / seconds, found / len(frames)


def end_to_end(path: Path, name: str) -> float:
    """Frames per second of ``gastnet.lift`` with the default options and backend ``name``."""
    detector = make_detector(name, 4)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = gastnet.lift(path, detector=detector)
    seconds = time.perf_counter() - start
    detector.close()
    return result.num_frames / seconds


def agreement(video: str) -> None:
    from gastnet.video.reader import open_source

    with open_source(video) as source:  # RGB frames, as the detectors take them
        frames = list(source)
    found = {}
    for name in BACKENDS:
        detector = make_detector(name, 2)
        found[name] = [detector.detect(f) for f in frames]
        detector.close()
    gaps: list[list[float]] = [[] for _ in range(17)]
    for old, new in zip(found["mediapipe"], found["blazepose"]):
        for person in old:
            if not new:
                continue
            distance = [np.linalg.norm(person.keypoints - other.keypoints, axis=1) for other in new]
            best = int(np.argmin([d.mean() for d in distance]))
            if distance[best].mean() > 100:
                continue
            seen = (person.scores > 0.5) & (new[best].scores > 0.5)
            for j in np.flatnonzero(seen):
                gaps[j].append(float(distance[best][j]))
    print(f"2D agreement over {len(frames)} frames of {Path(video).name} (median pixels per joint, pairs seen by both):")
    for j, name in enumerate(COCO_17):
        print(f"  {name:15s} {np.median(gaps[j]):6.1f} px over {len(gaps[j])} pairs")
    every = [g for joint in gaps for g in joint]
    print(f"  all joints      {np.median(every):6.1f} px over {len(every)} pairs")
    for name in BACKENDS:
        print(f"  {name}: two people in {sum(len(p) >= 2 for p in found[name])} of {len(frames)} frames")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--repeat", type=int, default=1, help="measure each speed this many times, alternating the backends")
    parser.add_argument("--frames", type=int, default=150, help="frames of the four-person clip (default: %(default)s)")
    args = parser.parse_args()
    crowd = four_people_frames(args.video, args.frames)
    speeds: dict[str, list[float]] = {f"{case} {name}": [] for case in ("four", "one") for name in BACKENDS}
    with tempfile.TemporaryDirectory() as tmp:
        clip = one_person_clip(args.video, Path(tmp))
        for _ in range(args.repeat):
            for name in BACKENDS:
                fps, people = detection_speed(crowd, name)
                speeds[f"four {name}"].append(fps)
                print(f"four people, 1280x720, detection: {name} {fps:.1f} fps, {people:.2f} people a frame", flush=True)
            for name in BACKENDS:
                fps = end_to_end(clip, name)
                speeds[f"one {name}"].append(fps)
                print(f"one person, 1920x1080, end to end: {name} {fps:.1f} fps", flush=True)
    for case, what in (("four", "four people, 1280x720, detection"), ("one", "one person, 1920x1080, end to end")):
        old, new = (statistics.median(speeds[f"{case} {name}"]) for name in BACKENDS)
        print(f"{what}: blazepose {new:.1f} fps, mediapipe {old:.1f} fps (medians of {args.repeat}); "
              f"ratio {new / old:.2f}")
    agreement(args.video)


if __name__ == "__main__":
    main()
