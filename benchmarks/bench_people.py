"""Who a lift saves from a real video: the people, the frames each is in, and what was dropped and why.

    python benchmarks/bench_people.py ../shared/data/video/walk_apart_2persons.avi [--people N]

Runs ``gastnet.lift`` with the default options (``--people`` changed only if given) and prints,
per saved person, their track, their first and last frame and how many frames they are in, then
the lift's notes on dropped tracks. There is no ground truth here: compare the output with what
the video shows (the shared two-person video: two men, both visible from frame 0 to the last).
"""

from __future__ import annotations

import argparse
import time

import torch

import gastnet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--people", type=int, default=None, help="--people of the lift (default: the lift's)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    start = time.perf_counter()
    overrides = {} if args.people is None else {"max_people": args.people}
    result = gastnet.lift(args.video, **overrides)
    seconds = time.perf_counter() - start
    print(f"{args.video}: {result.num_frames} frames, {len(result.people)} people saved ({seconds:.0f} s)")
    print("| track | first frame | last frame | frames |")
    print("|---|---|---|---|")
    for p in result.people:
        print(f"| {p.track_id} | {int(p.frames[0])} | {int(p.frames[-1])} | {len(p.frames)} |")
    for note in result.notes:
        if "dropped" in note or "kept" in note or "joined" in note:
            print(f"- {note}")


if __name__ == "__main__":
    main()
