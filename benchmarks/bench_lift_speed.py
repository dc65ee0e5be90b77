"""Speed of ``gastnet lift`` on 1080p video, per stage, with one person and with two.

    python benchmarks/bench_lift_speed.py ../shared/data/video/walk_apart_2persons.avi [--repeat 5]

The shared video (1920x1080, 30 fps) has one man in view for its first 40 frames (a second one
hidden behind him) and two people walking apart after that. The one-person clip is those 40 frames
played forwards and backwards to 300 frames (written to a temporary folder); the two-person case
is the whole video. Both are lifted as ``gastnet lift`` lifts them (the default options: people,
model, camera motion, kinematic fit; no rendering) and the frames per second of each stage and of the whole lift
(wall clock: decoding runs on its own thread, overlapping the detection) are printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import gastnet


def one_person_clip(video: str, folder: Path, frames: int = 300) -> Path:
    import cv2

    capture = cv2.VideoCapture(video)
    first = [capture.read()[1] for _ in range(40)]
    capture.release()
    h, w = first[0].shape[:2]
    path = folder / "one_person.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    sequence = (first + first[::-1]) * (frames // 80 + 1)
    for frame in sequence[:frames]:
        writer.write(frame)
    writer.release()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--repeat", type=int, default=1,
                        help="lift each case this many times, alternating, and print the range and median (the machine is noisy)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("one person, 300 frames", one_person_clip(args.video, Path(tmp))), ("two people, whole video", args.video)]
        rates: dict[str, list[float]] = {name: [] for name, _ in cases}
        for _ in range(args.repeat):
            for name, path in cases:
                timings: dict[str, float] = {}
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = gastnet.lift(path, timings=timings)
                wall = time.perf_counter() - start
                n = result.num_frames
                stages = ", ".join(f"{k} {n / v:.1f} fps ({1000 * v / n:.1f} ms/frame)" for k, v in timings.items())
                print(f"{name}: {len(result.people)} lifted; {stages}; end to end {n / wall:.1f} fps", flush=True)
                rates[name].append(n / wall)
        if args.repeat > 1:
            for name, values in rates.items():
                print(f"{name}: end to end {min(values):.1f}-{max(values):.1f} fps over {len(values)} runs, "
                      f"median {statistics.median(values):.1f}")


if __name__ == "__main__":
    main()
