"""Check that the BVH and glTF exports line up in Blender, imported with its default importer settings.

Run by hand (not in CI); it needs two Pythons: this project's, which writes the files, and one
with Blender as a module (``pip install bpy`` in its own virtual environment, Python 3.11), which
imports them::

    python tools/check_blender_import.py --blender-python /work/bpy_venv/bin/python [--out DIR]

It writes, for two people (a real Human3.6M walk entering the video at frame 40 when the shared
data is there, else a synthetic one, and a synthetic walker from frame 0), a BVH per person
(:func:`gastnet.animation.write_rig_bvh`, the whole video) and one .glb with both
(:func:`gastnet.animation.write_glb`), then imports each into an empty Blender scene with the
importer's defaults, samples every armature's joint heads at every scene frame and prints the
mean / max distance (mm) to the saved positions of the video frame that scene frame should show:

* BVH: Blender's importer puts file frame 0 at scene frame 1 (its "Start Frame" default) and turns
  Y up into Z up, so scene frame k + 1 should show video frame k in the original world frame;
* glTF: Blender's importer puts a key at time t on scene frame ``t * scene fps``: with the scene's
  frame rate set to the video's (before importing), scene frame k shows video frame k. The check
  also prints how far off the default 24 fps scene is.

The Blender stage runs this file again under ``--blender-python`` with ``--stage blender``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

FPS = 25.0
NUM_FRAMES = 200


def write_files(out: Path) -> dict:
    """Write the .bvh files, the .glb and truth.npz (each person's joints per video frame, z up); return the manifest."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from gastnet.animation import GlbPerson, write_glb, write_rig_bvh
    from gastnet.animation.bvh import pad_frames
    from gastnet.animation.rig import Rig
    from gastnet.skeleton import H36M_17
    from helpers import SHARED_DATA, walking_world

    h36m = SHARED_DATA / "h36m" / "data_3d_h36m.npz"
    if h36m.is_file():
        from gastnet.data.mocap import load_mocap

        walk = np.asarray(load_mocap(str(h36m), "h36m").positions["S9"]["Walking 1"][::2][:150], np.float64)
        first = ("s9_walking", walk, 40, "Human3.6M S9 Walking 1 at 25 fps")
    else:
        first = ("walker_a", walking_world(150).astype(np.float64), 40, "synthetic walk")
    second = ("walker_b", walking_world(120, phase=7).astype(np.float64) + np.array([1.5, 0.5, 0.0]), 0,
              "synthetic walk")
    people, truth, manifest = [], {}, {"fps": FPS, "num_frames": NUM_FRAMES, "joints": list(H36M_17.joint_names),
                                       "people": []}
    for name, world, start, what in (first, second):
        rig = Rig.from_poses(world)
        motion = rig.conform(world)
        write_rig_bvh(out / f"{name}.bvh", rig, motion, FPS, start_frame=start, num_frames=NUM_FRAMES)
        people.append(GlbPerson(name, rig, motion, start))
        truth[name] = pad_frames(motion, start, NUM_FRAMES)
        manifest["people"].append({"name": name, "start_frame": start, "frames": len(motion), "source": what})
    write_glb(out / "people.glb", people, FPS, num_frames=NUM_FRAMES)
    np.savez(out / "truth.npz", **truth)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _heads(bpy, armature, joints: list[str], frame: int) -> np.ndarray:
    bpy.context.scene.frame_set(frame)
    world = armature.matrix_world
    return np.array([list(world @ armature.pose.bones[j].head) for j in joints])


def _armature_of(bpy, joints: list[str], name: str | None = None):
    found = [o for o in bpy.data.objects if o.type == "ARMATURE" and all(j in o.pose.bones for j in joints)
             and (name is None or o.name == name)]
    if len(found) != 1:
        raise SystemExit(f"expected one armature{f' named {name}' if name else ''}, found {[o.name for o in found]}")
    return found[0]


def _report(label: str, errors: list[np.ndarray]) -> None:
    e = np.concatenate(errors) * 1000
    print(f"{label}: mean {e.mean():.4f} mm, max {e.max():.4f} mm over {len(errors)} frames x {errors[0].size} joints")


def blender_stage(out: Path) -> None:
    import bpy  # Blender as a Python module

    manifest = json.loads((out / "manifest.json").read_text())
    truth = np.load(out / "truth.npz")
    joints, fps, num_frames = manifest["joints"], manifest["fps"], manifest["num_frames"]
    print(f"Blender {bpy.app.version_string}")
    for person in manifest["people"]:
        name = person["name"]
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_anim.bvh(filepath=str(out / f"{name}.bvh"))  # the importer's defaults
        armature = _armature_of(bpy, joints)
        errors = [np.linalg.norm(_heads(bpy, armature, joints, k + 1) - truth[name][k], axis=-1) for k in range(num_frames)]
        _report(f"BVH  {name} (from video frame {person['start_frame']}): scene frame k+1 vs video frame k", errors)
        early = [np.linalg.norm(_heads(bpy, armature, joints, k) - truth[name][k], axis=-1) for k in range(1, num_frames)]
        _report("     one frame off (scene frame k vs video frame k), for scale", early)
    for scene_fps in (round(fps), None):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
        if scene_fps is not None:
            scene.render.fps, scene.render.fps_base = scene_fps, 1.0
        bpy.ops.import_scene.gltf(filepath=str(out / "people.glb"))  # the importer's defaults
        for person in manifest["people"]:
            name = person["name"]
            armature = _armature_of(bpy, joints, name)
            shown = range(person["start_frame"], person["start_frame"] + person["frames"])  # hidden outside
            if scene_fps is not None:
                errors = [np.linalg.norm(_heads(bpy, armature, joints, k) - truth[name][k], axis=-1) for k in shown]
                _report(f"glTF {name} (from video frame {person['start_frame']}), scene at {scene_fps} fps: "
                        "scene frame k vs video frame k", errors)
                hidden = [np.ptp(_heads(bpy, armature, joints, k), axis=0).max() for k in range(num_frames)
                          if k not in shown]
                if hidden:  # scaled to zero: every joint head at one point
                    print(f"     hidden in {len(hidden)} frames: joint heads spread at most {1000 * max(hidden):.4f} mm")
            else:
                ratio = scene.render.fps / fps
                errors = [np.linalg.norm(_heads(bpy, armature, joints, k) - truth[name][k], axis=-1)
                          for k in range(num_frames) if k * ratio <= num_frames and k in shown and round(k / ratio) in shown]
                _report(f"glTF {name}, default {scene.render.fps} fps scene: scene frame k vs video frame k "
                        "(misaligned unless the scene's rate is the video's)", errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blender-python", default="/work/bpy_venv/bin/python",
                        help="a Python with the bpy module (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/gastnet-blender-check"), help="where the files go")
    parser.add_argument("--stage", choices=("all", "write", "blender"), default="all")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.stage in ("all", "write"):
        manifest = write_files(args.out)
        print(f"wrote {args.out}: " + ", ".join(f"{p['name']} ({p['source']}, {p['frames']} frames from video frame "
                                                 f"{p['start_frame']})" for p in manifest["people"]))
    if args.stage == "all":
        subprocess.run([args.blender_python, __file__, "--stage", "blender", "--out", str(args.out)], check=True)
    elif args.stage == "blender":
        blender_stage(args.out)


if __name__ == "__main__":
    main()
