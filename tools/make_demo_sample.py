"""Make the demo's small 2D sample from the CMU walk (run once by a maintainer; the output ships).

    python tools/make_demo_sample.py ../shared/data/cmu/131_01.bvh src/gastnet/examples/cmu_walk_2d.npz

The BVH's joints are mapped to Human3.6M-17 (pelvis: the midpoint of the hip joints, as in
Human3.6M; spine: the midpoint of pelvis and thorax; thorax: the
CMU Neck joint at shoulder height; neck/nose: the Head joint; head top: the head's end site) and
retargeted to the bone lengths of Human3.6M's skeleton (the CMU subject's proportions differ:
every bone keeps its direction, frame by frame, and takes the Human3.6M length), resampled from
120 to 50 fps,
turned Z-up and centred in the Human3.6M capture volume, and projected with lens distortion
through the camera 54138969 of subject S9. Only the derived 2D and camera-frame 3D are kept.
"""

from __future__ import annotations

import sys

import numpy as np

from gastnet.animation import forward_kinematics, read_bvh
from gastnet.data import dataset_cameras
from gastnet.data.cmu import CMU_TO_H36M
from gastnet.fileio import save_npz
from gastnet.skeleton import H36M_17

# mean bone lengths (metres) of the Human3.6M skeleton, in the order of H36M_17.bones()
H36M_BONE_LENGTHS = (0.1329, 0.4429, 0.4542, 0.1329, 0.4429, 0.4542, 0.2335, 0.2571, 0.1211, 0.115, 0.151, 0.2789,
                     0.2517, 0.151, 0.2789, 0.2517)


def main(source: str, out: str, start_s: float = 3.9, seconds: float = 4.0, fps: float = 50.0) -> None:
    bvh = read_bvh(source)
    positions = forward_kinematics(bvh)
    h36m = np.zeros((len(positions), 17, 3))
    for joint, name in CMU_TO_H36M.items():
        h36m[:, joint] = positions[:, bvh.names.index(name)]
    h36m[:, 0] = (h36m[:, 1] + h36m[:, 4]) / 2  # CMU's root sits above the hip joints
    h36m[:, 7] = (h36m[:, 0] + h36m[:, 8]) / 2
    legs = np.linalg.norm(h36m[:, 5] - h36m[:, 4], axis=-1).mean() + np.linalg.norm(h36m[:, 6] - h36m[:, 5], axis=-1).mean()
    h36m *= 0.89 / legs  # metres, for the root's path
    retargeted = h36m.copy()
    for (child, parent), length in zip(H36M_17.bones(), H36M_BONE_LENGTHS):  # parents come first
        direction = h36m[:, child] - h36m[:, parent]
        direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
        retargeted[:, child] = retargeted[:, parent] + length * direction
    h36m = retargeted
    times = np.arange(int(seconds * fps)) / fps + start_s
    source_times = np.arange(len(h36m)) * bvh.frame_time
    resampled = np.stack([np.stack([np.interp(times, source_times, h36m[:, j, a]) for a in range(3)], -1)
                          for j in range(17)], 1)
    world = np.stack([resampled[..., 0], -resampled[..., 2], resampled[..., 1]], -1)  # Y up -> Z up
    world[..., :2] -= world[:, 0, :2].mean(0)
    world[..., 2] -= world[..., 2].min() - 0.02  # feet on the floor
    camera = dataset_cameras("h36m", "S9")[0]
    cam = camera.world_to_camera(world)
    pixels = camera.project(cam)
    assert ((pixels > 0) & (pixels < [camera.width, camera.height])).all(), "the walk leaves the image"
    save_npz(out, keypoints_2d=pixels.astype(np.float32), poses_3d=(cam - cam[:, :1]).astype(np.float32),
             image_size=np.array([camera.width, camera.height]), fps=np.array(fps),
             source=np.array(f"CMU mocap 131_01 (walk), {start_s:g}-{start_s + seconds:g} s, projected through "
                             f"Human3.6M camera {camera.id} (S9) by tools/make_demo_sample.py"))
    print(f"wrote {out}: {len(pixels)} frames at {fps:g} fps")


if __name__ == "__main__":
    main(*sys.argv[1:3])
