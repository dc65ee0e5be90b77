"""Peak memory of reading an npz from a stranger: a small file whose one deflated member inflates to
SIZE bytes of zeros (a zip bomb within or past the cap of ``gastnet.safe_load.LIMITS``).

    python benchmarks/bench_load_memory.py [--sizes 1073741000 2000000000]

Each size is read by ``gastnet.safe_load.load_npz`` in a fresh process; the table gives the file's
size, what happened (read or refused) and the process's peak resident memory (``ru_maxrss``)
before and after the read, and the ratio of what the read added to the bytes it declares.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

CHILD = """
import resource, sys
from gastnet.safe_load import load_npz
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    what = f"read {load_npz(sys.argv[1])['x'].nbytes:,} bytes"
except ValueError as err:
    what = "refused: " + str(err).split(": ", 1)[1]
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, what, sep="\\t")
"""


def write_bomb(path: Path, nbytes: int) -> None:
    """An npz with one deflated ``x.npy`` of ``nbytes`` (header and float64 zeros), written 16 MiB at a time."""
    header = io.BytesIO()
    count = (nbytes - 128) // 8
    np.lib.format.write_array_header_1_0(header, {**np.lib.format.header_data_from_array_1_0(np.zeros(0)),
                                                  "shape": (count,)})
    block = bytes(2**24)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("x.npy", "w", force_zip64=True) as f:
        f.write(header.getvalue())
        left = count * 8
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= len(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2**30 - 1000, 2_000_000_000],
                        help="bytes each member inflates to (default: just within the 1 GiB cap, and 2 GB)")
    args = parser.parse_args()
    print("| inflates to (bytes) | file (bytes) | result | peak RSS before / after (GB) | added / declared |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"bomb_{size}.npz"
            write_bomb(path, size)
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
            before, after, what = out.stdout.strip().split("\t")
            added = (int(after) - int(before)) / size
            print(f"| {size:,} | {path.stat().st_size:,} | {what} | {int(before) / 1e9:.3f} / {int(after) / 1e9:.3f} "
                  f"| {added:.3f} |")
            path.unlink()


if __name__ == "__main__":
    main()
