"""glTF 2.0 binary files of rigs in motion: read back, joints recomputed, times, skin, the Khronos validator."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gastnet.animation.gltf import GlbCamera, GlbPerson, write_glb
from gastnet.animation.rig import Y_UP, Rig
from gastnet.geometry.rotations import matrix_to_quaternion
from gastnet.skeleton import H36M_17
from helpers import walking_world

pygltflib = pytest.importorskip("pygltflib", reason="pygltflib is not installed (pip install 'gastnet[gltf]')")

FPS = 30.0


def person(name: str, frames: int, start: int, shift: float, scale: float = 1.0) -> GlbPerson:
    """A walker (rig-consistent motion, z up) turning half a turn, ``shift`` metres along x."""
    world = walking_world(frames).astype(np.float64) * scale
    a = np.linspace(0, np.pi, frames)
    c, s = np.cos(a), np.sin(a)
    spin = np.zeros((frames, 3, 3))
    spin[:, 0, 0], spin[:, 0, 1], spin[:, 1, 0], spin[:, 1, 1], spin[:, 2, 2] = c, -s, s, c, 1
    world = np.einsum("tij,tkj->tki", spin, world) + np.array([shift, 0.0, 0.0])
    rig = Rig.from_poses(world)
    return GlbPerson(name, rig, rig.conform(world), start)


@pytest.fixture(scope="module")
def people() -> list[GlbPerson]:
    return [person("alice", 50, 0, 0.0), person("bob", 30, 12, 1.5, scale=0.9)]


class Glb:
    """A .glb file read back with pygltflib, its accessors as arrays."""

    def __init__(self, path: Path) -> None:
        self.gltf = pygltflib.GLTF2.load(str(path))
        self.blob = self.gltf.binary_blob()

    def array(self, index: int) -> np.ndarray:
        accessor = self.gltf.accessors[index]
        view = self.gltf.bufferViews[accessor.bufferView]
        dtype = {5126: np.float32, 5121: np.uint8, 5123: np.uint16, 5125: np.uint32}[accessor.componentType]
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[accessor.type]
        start = view.byteOffset + (accessor.byteOffset or 0)
        return np.frombuffer(self.blob, dtype, accessor.count * width, start).reshape(accessor.count, width)

    def node(self, name: str) -> int:
        return [n.name for n in self.gltf.nodes].index(name)

    def tree(self, name: str) -> list[tuple[int, int]]:
        """(node, parent node) of the nodes below the person's root node, parents first."""
        out: list[tuple[int, int]] = []
        stack = [(c, -1) for c in self.gltf.nodes[self.node(name)].children]
        while stack:
            n, p = stack.pop()
            out.append((n, p))
            stack += [(c, n) for c in self.gltf.nodes[n].children or []]
        return out

    def channels(self) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
        """(node, path) -> (times (K,), values (K, width)) of the animation (poses LINEAR, visibility STEP)."""
        (animation,) = self.gltf.animations
        out = {}
        for channel in animation.channels:
            sampler = animation.samplers[channel.sampler]
            assert sampler.interpolation == ("STEP" if channel.target.path == "scale" else "LINEAR")
            out[(channel.target.node, channel.target.path)] = (self.array(sampler.input)[:, 0], self.array(sampler.output))
        return out

    def joints(self, name: str, key: int) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Global positions and rotations of the person's nodes at their animation's key ``key``."""
        channels = self.channels()
        position: dict[int, np.ndarray] = {}
        rotation: dict[int, np.ndarray] = {}
        for n, p in self.tree(name):
            node = self.gltf.nodes[n]
            q = channels[(n, "rotation")][1][key].astype(np.float64)
            local = quaternion_matrix(q)
            if p < 0:
                position[n], rotation[n] = channels[(n, "translation")][1][key].astype(np.float64), local
            else:
                position[n] = position[p] + rotation[p] @ np.asarray(node.translation or [0.0, 0.0, 0.0])
                rotation[n] = rotation[p] @ local
        return position, rotation


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """The rotation matrix (3, 3) of a unit quaternion (x, y, z, w)."""
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def test_quaternions_of_matrices():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(200, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    matrices = np.stack([quaternion_matrix(v) for v in q])
    back = matrix_to_quaternion(matrices)
    np.testing.assert_allclose(np.stack([quaternion_matrix(v) for v in back]), matrices, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(back * q, -1)), 1.0, atol=1e-12)


def test_glb_joints_match_the_positions(tmp_path, people):
    glb = Glb(write_glb(tmp_path / "people.glb", people, FPS))
    assert glb.gltf.asset.version == "2.0" and len(glb.gltf.scenes) == 1 and len(glb.gltf.animations) == 1
    for p in people:
        tree = dict(glb.tree(p.name))
        names = {glb.gltf.nodes[n].name: n for n in tree}
        assert set(names) == set(p.rig.nodes.names)
        up = p.positions @ Y_UP.T
        for frame in (0, 1, len(up) // 2, len(up) - 1):
            position, _ = glb.joints(p.name, frame)
            back = np.stack([position[names[j]] for j in H36M_17.joint_names])
            assert np.linalg.norm(back - up[frame], axis=-1).max() < 1e-4  # under 0.1 mm


def test_glb_rest_is_a_t_pose_and_rotations_are_continuous(tmp_path, people):
    glb = Glb(write_glb(tmp_path / "rest.glb", people[:1], FPS))
    translation = {glb.gltf.nodes[n].name: np.asarray(glb.gltf.nodes[n].translation or [0.0] * 3)
                   for n, _ in glb.tree("alice")}
    for side, sign in (("left", 1), ("right", -1)):  # Y up: legs along -y, arms along +-x
        for joint in (f"{side}_knee", f"{side}_ankle"):
            np.testing.assert_allclose(translation[joint] / np.linalg.norm(translation[joint]), [0, -1, 0], atol=1e-9)
        for joint in (f"{side}_elbow", f"{side}_wrist"):
            np.testing.assert_allclose(translation[joint] / np.linalg.norm(translation[joint]), [sign, 0, 0], atol=1e-9)
    for (_, path), (_, values) in glb.channels().items():
        if path == "rotation":
            np.testing.assert_allclose(np.linalg.norm(values, axis=-1), 1.0, atol=1e-6)
            assert (np.sum(values[1:] * values[:-1], -1) > 0).all()  # no sign flips between keys


def test_glb_times_line_up_with_the_video(tmp_path, people):
    glb = Glb(write_glb(tmp_path / "times.glb", people, FPS))
    channels = glb.channels()
    for p in people:
        times, _ = channels[(glb.tree(p.name)[0][0], "translation")]  # the root joint's node
        np.testing.assert_allclose(times, (p.start_frame + np.arange(len(p.positions))) / FPS, rtol=1e-6)
        assert times[0] == pytest.approx(p.start_frame / FPS)
        accessor = glb.gltf.accessors[glb.gltf.animations[0].samplers[0].input]
        assert accessor.min is not None and accessor.max is not None
    # the whole video: a key at 0 s holding the first pose, one at the last frame holding the last pose
    glb = Glb(write_glb(tmp_path / "video.glb", people, FPS, num_frames=60))
    bob = people[1]
    root = glb.tree(bob.name)[0][0]
    times, values = glb.channels()[(root, "translation")]
    assert times[0] == 0 and times[1] == pytest.approx(12 / FPS) and times[-1] == pytest.approx(59 / FPS)
    np.testing.assert_allclose(values[0], values[1])
    np.testing.assert_allclose(values[-1], values[-2])
    np.testing.assert_allclose(values[1], (bob.positions[0] @ Y_UP.T)[0], atol=1e-6)
    with pytest.raises(ValueError, match="do not fit"):
        write_glb(tmp_path / "short.glb", people, FPS, num_frames=41)


def shown_at(times: np.ndarray, scales: np.ndarray, t: float) -> float:
    """The scale a STEP sampler gives at time ``t``: the value of the last key at or before it (the first before it)."""
    k = np.searchsorted(times, t + 1e-6, side="right") - 1
    return float(scales[max(k, 0), 0])


def test_glb_people_are_hidden_outside_their_frames(tmp_path, people):
    # alice: frames 0-49, bob: frames 12-41, of a 60-frame video
    glb = Glb(write_glb(tmp_path / "shown.glb", people, FPS, num_frames=60))
    channels = glb.channels()
    for p in people:
        node = glb.node(p.name)
        times, scales = channels[(node, "scale")]
        assert set(np.unique(scales)) <= {0.0, 1.0} and (scales == scales[:, :1]).all()  # uniform 0 or 1
        first, last = p.start_frame, p.start_frame + len(p.positions) - 1
        shown = [shown_at(times, scales, k / FPS) for k in range(60)]
        assert shown == [1.0 if first <= k <= last else 0.0 for k in range(60)], p.name
        # half a frame after the last: still the last pose shown (STEP holds until the next key)
        assert shown_at(times, scales, (last + 0.5) / FPS) == 1.0
    # a person there in every frame gets no visibility keys; without the video's length only the start is hidden
    whole = Glb(write_glb(tmp_path / "whole.glb", people[:1], FPS, num_frames=50))
    assert not [key for key in whole.channels() if key[1] == "scale"]
    late = Glb(write_glb(tmp_path / "late.glb", people[1:], FPS))
    times, scales = late.channels()[(late.node("bob"), "scale")]
    np.testing.assert_allclose(times, [0.0, 12 / FPS], rtol=1e-6)
    assert scales[:, 0].tolist() == [0.0, 1.0]


def test_glb_limbs_follow_the_bones(tmp_path, people):
    p = people[1]
    glb = Glb(write_glb(tmp_path / "limbs.glb", [p], FPS))
    (skin,) = glb.gltf.skins
    (mesh,) = glb.gltf.meshes
    (primitive,) = mesh.primitives
    vertices = glb.array(primitive.attributes.POSITION).astype(np.float64)
    joints = glb.array(primitive.attributes.JOINTS_0)[:, 0]
    inverse_bind = glb.array(skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major
    accessor = glb.gltf.accessors[primitive.attributes.POSITION]
    assert accessor.min is not None and accessor.max is not None
    frame = 17
    position, rotation = glb.joints(p.name, frame)
    up = p.positions[frame] @ Y_UP.T
    skinned = np.zeros_like(vertices)
    for k, node in enumerate(skin.joints):
        world = np.eye(4)
        world[:3, :3], world[:3, 3] = rotation[node], position[node]
        mine = joints == k
        h = np.concatenate([vertices[mine], np.ones((mine.sum(), 1))], 1)
        skinned[mine] = (h @ (world @ inverse_bind[k]).T)[:, :3]
    centres = skinned.reshape(-1, 24, 3).mean(1)  # one box of 24 vertices per bone, in the skeleton's bone order
    expected = np.stack([(up[c] + up[parent]) / 2 for c, parent in H36M_17.bones()])
    assert np.linalg.norm(centres - expected, axis=-1).max() < 1e-4


def test_glb_without_meshes_and_bad_input(tmp_path, people):
    glb = Glb(write_glb(tmp_path / "bare.glb", people[:1], FPS, meshes=False))
    assert not glb.gltf.meshes and not glb.gltf.skins
    bad = GlbPerson("x", people[0].rig, people[0].positions[:, :16], 0)
    with pytest.raises(ValueError, match=r"\(T, 17, 3\)"):
        write_glb(tmp_path / "bad.glb", [bad], FPS)
    with pytest.raises(ValueError, match="no people"):
        write_glb(tmp_path / "none.glb", [], FPS)


def test_missing_pygltflib_names_the_extra(tmp_path, people, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygltflib", None)
    with pytest.raises(ImportError, match=r"gastnet\[gltf\]"):
        write_glb(tmp_path / "x.glb", people, FPS)


# --- the Khronos glTF validator (npm gltf-validator, run by node) ---------------------------------

VALIDATOR_DIR = Path.home() / ".cache" / "gastnet-gltf-validator"
VALIDATOR_ENV = "GASTNET_GLTF_VALIDATOR"  # the installed package's folder (.ci/run sets it)
CI_ENV = "GASTNET_CI"  # set by .ci/run: there the validator must run, and its test fails rather than skip
VALIDATE_JS = """
const fs = require('fs');
const validator = require(process.argv[1]);
validator.validateBytes(new Uint8Array(fs.readFileSync(process.argv[2])), {maxIssues: 50})
  .then((report) => console.log(JSON.stringify(report.issues)))
  .catch((error) => { console.error(String(error)); process.exit(1); });
"""


def cannot_validate(reason: str) -> None:
    """Skip, saying why; under CI (``GASTNET_CI`` set, as .ci/run does) fail instead: CI must not pass without the check."""
    if os.environ.get(CI_ENV):
        pytest.fail(f"{reason}; under CI ({CI_ENV} is set) the glTF validator must run: .ci/run installs it")
    pytest.skip(reason)


def validator_module() -> Path:
    """The installed gltf-validator package: ``$GASTNET_GLTF_VALIDATOR``, else installed by npm in a cache
    folder outside the repository; or :func:`cannot_validate`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        cannot_validate("the glTF validator needs node, which is not installed")
    if os.environ.get(VALIDATOR_ENV):
        module = Path(os.environ[VALIDATOR_ENV])
        if not (module / "package.json").is_file():
            cannot_validate(f"${VALIDATOR_ENV} is {module}, which holds no npm package")
        return module
    if npm is None:
        cannot_validate("installing the glTF validator needs npm, which is not installed")
    module = VALIDATOR_DIR / "node_modules" / "gltf-validator"
    if not (module / "package.json").is_file():
        VALIDATOR_DIR.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run([npm, "install", "--prefix", str(VALIDATOR_DIR), "--no-audit", "--no-fund",
                                   "gltf-validator"], capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            cannot_validate("npm install gltf-validator timed out (no network?)")
        if done.returncode != 0 or not (module / "package.json").is_file():
            cannot_validate(f"npm install gltf-validator failed (no network?): {done.stderr.strip()[-300:]}")
    return module


@pytest.mark.parametrize("ci", [False, True])
def test_without_the_validator_a_developer_sees_a_skip_and_ci_fails(monkeypatch, ci):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no node, no npm
    monkeypatch.delenv(CI_ENV, raising=False)
    if ci:
        monkeypatch.setenv(CI_ENV, "1")
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception, match="needs node"):
        validator_module()


def test_glb_passes_the_khronos_validator(tmp_path, people):
    module = validator_module()
    camera = GlbCamera(np.tile([0.0, -4.0, 1.5], (60, 1)), np.tile(np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]), (60, 1, 1)),
                       50.0, 16 / 9)  # with the video's camera
    path = write_glb(tmp_path / "valid.glb", people, FPS, num_frames=60, camera=camera)
    done = subprocess.run(["node", "-e", VALIDATE_JS, str(module), str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    issues = json.loads(done.stdout)
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"]


def test_the_camera_moves_and_looks_as_the_videos_did(tmp_path, people):
    """A camera 1.5 m up that walks 2 m along world x while it looks along world +y, then turns to look
    along +x: in the file (Y up, a glTF camera looking along its -z with +y up) its node sits where the
    camera was and looks where it looked, with the image's up along the world's up."""
    frames = 5
    look_y = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # camera x, y, z (columns) in the world: right, down, +y
    look_x = np.array([[0.0, 0, 1], [-1, 0, 0], [0, -1, 0]])  # ... turned to look along +x
    turns = np.stack([look_y] * 4 + [look_x])
    centres = np.stack([[0.5 * t, 0.0, 1.5] for t in range(frames)])
    glb = Glb(write_glb(tmp_path / "camera.glb", people, FPS, camera=GlbCamera(centres, turns, 40.0, 16 / 9)))
    node = glb.node("camera")
    (camera,) = glb.gltf.cameras
    assert glb.gltf.nodes[node].camera == 0 and camera.perspective.yfov == pytest.approx(np.radians(40.0))
    channels = glb.channels()
    times, where = channels[(node, "translation")]
    _, turned = channels[(node, "rotation")]
    assert np.allclose(times, np.arange(frames) / FPS)
    assert np.allclose(where, [[0.5 * t, 1.5, 0.0] for t in range(frames)], atol=1e-6)  # (x, z, -y)
    for t, (forward, up) in enumerate([((0, 0, -1), (0, 1, 0))] * 4 + [((1, 0, 0), (0, 1, 0))]):
        matrix = quaternion_matrix(turned[t].astype(np.float64))
        assert np.allclose(matrix @ [0, 0, -1], forward, atol=1e-6)  # +y in the world is -z in Y-up files
        assert np.allclose(matrix @ [0, 1, 0], up, atol=1e-6)
    with pytest.raises(ValueError, match=r"camera: expected centres \(T, 3\) and rotations \(T, 3, 3\)"):
        write_glb(tmp_path / "bad.glb", people, FPS, camera=GlbCamera(centres, turns[:2], 40.0, 1.0))


def test_a_results_camera_becomes_the_glb_camera():
    """From a LiftResult's camera: frame t's rotation camera_to_world @ rotations[t].T and the world path."""
    from gastnet.pipeline.results import CameraInfo
    from gastnet.pipeline.writers import glb_camera

    to_world = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])
    c, s = np.cos(0.3), np.sin(0.3)
    pan = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])  # frame-0 camera -> frame 1's
    fixed_facts = CameraInfo(focal_length_px=540.0, focal_source="given", principal_point_px=(960.0, 540.0),
                             height_m=1.6, pitch_deg=0.0, roll_deg=0.0, floor_fit="ransac",
                             camera_to_world_rotation=to_world, camera_to_world_translation=np.array([0.0, 0.0, 1.6]))
    facts = dataclasses.replace(fixed_facts, rotations=np.stack([np.eye(3), pan]),
                                path_world_m=np.array([[0.0, 0.0, 1.6], [1.0, 0.0, 1.6]]))
    camera = glb_camera(facts, (1920, 1080), 2)
    assert camera is not None and camera.yfov_deg == pytest.approx(90.0) and camera.aspect == pytest.approx(16 / 9)
    assert np.allclose(camera.rotations[1], to_world @ pan.T) and np.allclose(camera.centres[1], [1.0, 0.0, 1.6])
    fixed = glb_camera(fixed_facts, (1920, 1080), 3)
    assert fixed is not None and np.allclose(fixed.centres, [[0, 0, 1.6]] * 3) and np.allclose(fixed.rotations, to_world)
    assert glb_camera(None, (1920, 1080), 3) is None
