"""Memory and time of ``gastnet.lift`` on long sequences: flat in the length, not growing with it.

    python benchmarks/bench_long_sequence.py [--frames 1000 10000 100000]

Each length runs in a fresh process (so that its peak memory is its own): the synthetic walk
(``gastnet.examples.synthetic_walk_2d``) repeated to the length, 1000 x 1000 pixels, 30 fps, lifted
by the default model with flip averaging, placed in the world and saved as ``poses.npz``. Printed:
the peak resident memory of the process (MiB), and the seconds per 1000 frames of lifting and
saving.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, tempfile, time, warnings
import numpy as np
import torch
import gastnet
from gastnet.examples import synthetic_walk_2d

torch.set_num_threads(2)
frames = int(sys.argv[1])
cycle = synthetic_walk_2d(200, (1000, 1000))
walk = np.concatenate([cycle, cycle[::-1]] * (frames // 400 + 1))[:frames]
start = time.perf_counter()
with warnings.catch_warnings(), tempfile.TemporaryDirectory() as out:
    warnings.simplefilter("ignore")
    result = gastnet.lift(walk, layout="h36m", image_size=(1000, 1000), fps=30.0)
    result.save(out)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
print(json.dumps({"frames": frames, "peak_mib": peak, "seconds": seconds}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, nargs="*", default=[1000, 10000, 100000])
    args = parser.parse_args()
    print("| frames | peak memory (MiB) | s per 1000 frames |")
    print("|---|---|---|")
    for frames in args.frames:
        line = subprocess.run([sys.executable, "-c", CHILD, str(frames)], capture_output=True, text=True, check=True)
        row = json.loads(line.stdout.strip().splitlines()[-1])
        print(f"| {frames} | {row['peak_mib']:.0f} | {1000 * row['seconds'] / frames:.2f} |")


if __name__ == "__main__":
    main()
