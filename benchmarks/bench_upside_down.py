"""Things and people judged by the floor: what :mod:`gastnet.world.upside_down` measures on built scenes.

    python benchmarks/bench_upside_down.py --data-dir ../shared/data [--noise 0.01 0.02]

Scenes from ``tests/test_not_a_person.py`` (Human3.6M mocap through a virtual 1280 x 720 camera,
the 2D with one detector's joint definitions and ``--noise`` of the height): the boxer and beside
him a punching bag (an upside-down skeleton swinging from a hook), a person and their reflection
in a shiny floor (a camera 2.5 m up, pitched 20 degrees down), or a person sitting down, sitting,
waiting, a child walking, in a handstand, lying on the floor, in a cartwheel, or cut by the frame
(legs below the image). Each track is lifted by the default model, fitted and placed
(:func:`gastnet.pipeline.placing.place_people`). Printed per track: the share of its frames upside
down and the height (m) of its lowest seen joint above the floor the others stand on (the
:class:`~gastnet.world.upside_down.FloorSigns` the drop is decided by), who was dropped, and how far
(degrees) the floor placed under the people kept is from the true floor. Then, per scene, the
fitted skeleton's legs (hip to ankle) over its spine (pelvis to thorax), each track placed alone
(alone, nobody is judged).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import gastnet  # noqa: E402
import gastnet.world.upside_down as upside  # noqa: E402
from gastnet.data.mocap import load_mocap  # noqa: E402
from gastnet.pipeline.options import lift_options  # noqa: E402
from gastnet.pipeline.placing import place_people  # noqa: E402
from gastnet.pipeline.recording import DEFAULT_MODELS  # noqa: E402
from gastnet.pipeline.tracks_to_3d import lift_track  # noqa: E402
from test_not_a_person import FPS, PEOPLE, SIZE, at, bag, boxer_and, clip, detected, seen  # noqa: E402


def scenes(h36m, noise: float):
    """(name, tracks, the camera's pitch in degrees) of every scene at ``noise``."""
    yield "bag", boxer_and(h36m, bag(h36m), noise, confidence=0.7), 5.0
    camera = {"eye": (0.0, -6.0, 2.5), "pitch_deg": 20.0}
    person = at(clip(h36m, "Waiting 1"), 0.8)
    tracks = boxer_and(h36m, person, noise, **camera)
    tracks.append(seen(2, detected(person * np.array([1.0, 1.0, -1.0]), 2), 2, noise=noise, confidence=0.7, **camera))
    yield "reflection", tracks, 20.0
    for name, make in PEOPLE.items():
        if name != "directions":
            yield name, boxer_and(h36m, make(h36m) + np.array([1.2, 0.0, 0.0]), noise), 5.0
    yield "cut by the frame", boxer_and(h36m, at(clip(h36m, "Directions 1"), 0.6, -3.0), noise, pitch_deg=0.0), 0.0


def floor_tilt(placement, pitch_deg: float) -> float:
    """Degrees between the placed floor's normal and the true up of :func:`seen`'s camera pitched ``pitch_deg`` down."""
    p = np.radians(pitch_deg)
    true_up = np.array([0.0, -np.cos(p), -np.sin(p)])  # the world's z in that camera's frame (y down, z forward)
    normal = np.asarray(placement.camera.camera_to_world_rotation)[2]
    return float(np.degrees(np.arccos(np.clip(normal @ true_up, -1.0, 1.0))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("GASTNET_DATA", "../shared/data"))
    parser.add_argument("--noise", type=float, nargs="+", default=[0.01, 0.02])
    args = parser.parse_args()
    h36m = load_mocap(str(Path(args.data_dir) / "h36m" / "data_3d_h36m.npz"), "h36m").positions
    model = gastnet.create_model(DEFAULT_MODELS[False], pretrained=True)
    opts = lift_options(None)
    found: list[list[upside.FloorSigns | None]] = []
    judge = upside.floor_signs

    def spy(*args):  # what place_people judged the tracks by
        found.append(judge(*args))
        return found[-1]

    upside.floor_signs = spy
    print(f"{'noise':>5}  {'scene':<24} {'per track: upside down, lowest joint above the others floor (m)':<64} "
          "dropped  floor tilt (deg)")
    for noise in args.noise:
        for name, tracks, pitch in scenes(h36m, noise):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the interpolated legs of the person cut by the frame
                lifted = [lift_track(t, SIZE, model, FPS, opts).lifted for t in tracks]
            people = [p for p in lifted if p is not None]
            found.clear()
            placement = place_people(people, SIZE, FPS, opts)
            signs = " | ".join("not judged" if s is None else f"{100 * s.upside_down:3.0f}% {s.lowest_m:+.2f}"
                               for s in found[0])
            dropped = [p.track_id for i, p in enumerate(people) if i not in placement.kept]
            print(f"{noise:5.2f}  {name:<24} {signs:<64} {str(dropped):<8} {floor_tilt(placement, pitch):.1f}")
            if noise == args.noise[-1]:
                legs = []
                for person in people:
                    rig = place_people([person], SIZE, FPS, opts).people[0].fit.rig
                    length = np.linalg.norm(rig.offsets, axis=1)
                    legs.append((length[2] + length[3]) / (length[7] + length[8]))
                print(f"{'':5}  {'':<24} legs over spine, each alone: " + ", ".join(f"{r:.2f}" for r in legs))
    upside.floor_signs = judge


if __name__ == "__main__":
    main()
