"""Files that try to run code when loaded: nothing runs, the load fails with a clear message."""

import pickle
import threading

import numpy as np
import pytest
import torch

from gastnet.data.keypoints2d import load_keypoints_2d
from gastnet.data.mocap import load_mocap
from gastnet.keypoints.files import read_keypoints
from gastnet.safe_load import load_npz
from helpers import shared_file


class Payload:
    """Unpickling this would create the sentinel file (a harmless stand-in for any code)."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def crafted_npz(path, sentinel, key):
    payload = np.empty(1, dtype=object)
    payload[0] = {"S1": {"Walking": Payload(sentinel)}}
    np.savez(path, **{key: payload, "metadata": np.array({"num_joints": 17}, dtype=object)})
    return path


@pytest.mark.parametrize("loader, key", [
    (lambda p: read_keypoints(p), "positions_2d"),                 # gastnet lift X.npz, gastnet.lift
    (lambda p: load_keypoints_2d(p), "positions_2d"),              # a data folder's 2D file
    (lambda p: load_mocap(p, "h36m"), "positions_3d"),             # a data folder's 3D file
    (lambda p: load_npz(p), "positions_2d"),
])
def test_a_pickle_payload_in_an_npz_runs_nothing(tmp_path, loader, key):
    sentinel = tmp_path / "sentinel"
    path = crafted_npz(tmp_path / "crafted.npz", sentinel, key)
    with pytest.raises(ValueError, match=r"refusing to load io\.open"):
        loader(path)
    assert not sentinel.exists()


def test_a_raw_pickle_renamed_npz_is_not_loaded(tmp_path):
    sentinel = tmp_path / "sentinel"
    path = tmp_path / "keypoints.npz"
    path.write_bytes(pickle.dumps(Payload(sentinel)))
    with pytest.raises(ValueError, match="not an npz archive"):
        read_keypoints(path)
    assert not sentinel.exists()


def test_the_fields_own_npz_layout_still_loads(tmp_path):
    positions = {"S1": {"Walking": [np.random.default_rng(0).normal(size=(5, 17, 2)).astype(np.float32)]}}
    np.savez_compressed(tmp_path / "vp3d.npz", positions_2d=np.array(positions, dtype=object),
                        metadata=np.array({"num_joints": 17, "layout_name": "h36m",
                                           "video_metadata": {"S1": {"w": 1000, "h": 1000}}}, dtype=object))
    data = load_npz(tmp_path / "vp3d.npz")
    np.testing.assert_array_equal(data["positions_2d"].item()["S1"]["Walking"][0], positions["S1"]["Walking"][0])
    assert data["metadata"].item()["video_metadata"]["S1"] == {"w": 1000, "h": 1000}


# --- Honest exits: 2D checked against the image on every input path, no absurd poses written ---

def demo_2d(frames: int = 40):
    """A real walk's 2D (Human3.6M-17, pixels) and its image size."""
    from gastnet.examples import load_demo_sample

    sample = load_demo_sample()
    return sample["keypoints_2d"][:frames].astype(np.float64), tuple(int(v) for v in sample["image_size"])


@pytest.mark.parametrize("scale", [1e6, 1e30, 1e300])
def test_scaled_keypoints_are_refused_with_what_was_expected(tmp_path, scale):
    import gastnet

    kp, size = demo_2d()
    with pytest.raises(ValueError, match=r"far outside the 1000 x 1002 image; expected x in \[-500, 1500\]"):
        gastnet.lift(kp * scale, layout="h36m", image_size=size)
    np.save(tmp_path / "scaled.npy", np.concatenate([kp * scale, np.ones(kp.shape[:-1] + (1,))], -1))
    with pytest.raises(ValueError, match="scaled.npy: confident keypoint .* far outside"):
        gastnet.lift(tmp_path / "scaled.npy", layout="h36m", image_size=size)


def test_keypoints_a_little_outside_the_image_still_lift():
    import gastnet

    kp, size = demo_2d()
    kp[:, 3] += [0.0, 0.45 * size[1] + 1002 - kp[:, 3, 1].max()]  # a foot guessed 45% of the height below the frame
    assert np.isfinite(gastnet.lift(kp, layout="h36m", image_size=size).people[0].poses_world).all()


def test_tiny_image_size_and_bad_fps_are_refused(tmp_path, capsys):
    import gastnet
    from gastnet.cli.main import main

    kp, _ = demo_2d()
    with pytest.raises(ValueError, match=r"image size must be whole pixels, 16 to 100000 on each side; got 1 x 1"):
        gastnet.lift(kp, layout="h36m", image_size=(1, 1))
    np.save(tmp_path / "walk.npy", kp)
    for fps in ("inf", "0", "-30", "nan"):
        assert main(["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--image-size", "1000x1002",
                     "--fps", fps, "--out", str(tmp_path / "out")]) == 2
        assert "fps must be a frame rate above 0" in capsys.readouterr().err
    assert main(["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--image-size", "1x1",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "got 1 x 1" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_arrays_get_the_negative_coordinate_check_that_files_get(tmp_path):
    import gastnet

    kp, size = demo_2d()
    for x, message in ((-600.0, r"confident keypoint 2 of track 0 in frame 5 is at \(-600, 300\) px, far outside"),
                       (-1e6, r"negative pixel coordinates \(-1e\+06, 300\) in frame 5, joint 2")):
        kp[5, 2] = [x, 300.0]  # beyond 50% of the 1000 px image left of it; beyond that of any image
        np.save(tmp_path / "walk.npy", kp)
        for source in (kp, tmp_path / "walk.npy"):
            with pytest.raises(ValueError, match=message):
                gastnet.lift(source, layout="h36m", image_size=size, model="gastnet_rf9")


def test_absurd_poses_are_never_returned(monkeypatch):
    from gastnet.pipeline.checks import check_poses
    from gastnet.pipeline.results import LiftedPerson, LiftResult

    def result(poses):
        person = LiftedPerson(0, np.arange(len(poses)), np.zeros((len(poses), 17, 2)), np.ones((len(poses), 17)),
                              poses, poses, None, poses, np.zeros(len(poses), bool))
        return LiftResult([person], len(poses), (100, 100), 30.0, {})

    good = np.random.default_rng(0).normal(0, 0.3, (4, 17, 3))
    check_poses(result(good))
    with pytest.raises(ValueError, match="non-finite poses_camera"):
        check_poses(result(np.where(np.arange(17)[:, None] == 3, np.nan, good)))
    with pytest.raises(ValueError, match="a joint 1e\\+29 m from its pelvis; expected under 3 m"):
        check_poses(result(good * 0 + np.where(np.arange(17)[:, None] == 3, 1e29, 0.0)))

    import gastnet
    from gastnet.pipeline import recording as pipeline

    kp, size = demo_2d()
    huge = result(good * 0 + np.where(np.arange(17)[:, None] == 3, 1e29, 0.0))
    monkeypatch.setattr(pipeline, "lift_tracks", lambda *args, **kwargs: huge)  # whatever a model makes of it
    with pytest.raises(ValueError, match="from its pelvis; expected under 3 m"):
        gastnet.lift(kp, layout="h36m", image_size=size)


@pytest.mark.parametrize("name, content, message", [
    ("empty.npy", b"", "not a readable .npy array"),
    ("corrupt.npy", b"\x93NUMPY\x01\x00garbage", "not a readable .npy array"),
    ("empty.npz", b"", "not an npz archive"),
    ("corrupt.npz", b"PK\x03\x04" + b"garbage" * 10, "not an npz archive"),
])
def test_empty_or_corrupt_arrays_give_one_line(tmp_path, capsys, name, content, message):
    from gastnet.cli.main import main

    (tmp_path / name).write_bytes(content)
    assert main(["lift", str(tmp_path / name), "--image-size", "640x480", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_npz_without_arrays_or_with_objects_gives_a_message(tmp_path):
    np.savez(tmp_path / "nothing.npz")
    with pytest.raises(ValueError, match="holds no arrays"):
        read_keypoints(tmp_path / "nothing.npz")
    np.savez(tmp_path / "text.npz", keypoints=np.array([[["a", "b"]]]))
    with pytest.raises(ValueError, match="expected a numeric array"):
        read_keypoints(tmp_path / "text.npz")


def test_out_pointing_at_a_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    from gastnet.cli.main import main
    from gastnet.pipeline import recording as pipeline

    def never(*args, **kwargs):
        raise AssertionError("lifted before checking --out")

    monkeypatch.setattr(pipeline, "lift", never)
    (tmp_path / "taken").write_text("a file")
    kp, _ = demo_2d()
    np.save(tmp_path / "walk.npy", kp)
    for out in (tmp_path / "taken", tmp_path / "taken" / "sub"):
        assert main(["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--image-size", "1000x1002",
                     "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "expected a folder" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "taken").read_text() == "a file"


def write_video(cv2, path, frames, fourcc="mp4v", size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 10 + i, np.uint8))
    writer.release()
    return path


class StillPerson:
    """A detector stand-in: one person (COCO-17, pixels) per frame, at ``scale`` times a sane position."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def detect(self, frame):
        from gastnet.video.detectors import Detection

        k = np.arange(17)
        xy = np.stack([20 + (k % 3), 5 + 2.0 * k], axis=1) * self.scale
        return [Detection(xy, np.full(17, 0.9))]


def test_a_one_frame_video_has_one_frame(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="video needs the video extra")
    from gastnet.video.detect import detect_video
    from gastnet.video.reader import open_source

    path = write_video(cv2, tmp_path / "one.mp4", 1)
    with open_source(path) as video:
        assert len(list(video)) == 1
    data, _ = detect_video(path, detector=StillPerson())
    assert data.num_frames == 1 and data.notes == []


def test_a_truncated_video_says_how_much_was_read(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="video needs the video extra")
    from gastnet.video.detect import detect_video

    whole = write_video(cv2, tmp_path / "whole.avi", 87, "MJPG").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[: len(whole) * 55 // 100])
    data, _ = detect_video(tmp_path / "cut.avi", detector=StillPerson())
    assert 0 < data.num_frames < 87
    expected = f"read {data.num_frames} of the 87 frames the file announces (a truncated or damaged video): lifted what was read"
    assert data.notes == [expected]


def test_video_detections_are_checked_against_the_frame(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="video needs the video extra")
    import gastnet

    path = write_video(cv2, tmp_path / "clip.mp4", 6)
    with pytest.raises(ValueError, match="far outside the 64 x 48 image"):
        gastnet.lift(path, detector=StillPerson(1e6), model="gastnet_rf9")


# --- Files as people expect ---

def test_a_folder_of_images_of_different_sizes_names_the_first_odd_one(tmp_path):
    cv2 = pytest.importorskip("cv2", reason="video needs the video extra")
    from gastnet.video.reader import open_source

    for i in range(4):
        size = (48, 64) if i != 2 else (60, 80)
        cv2.imwrite(str(tmp_path / f"f_{i}.png"), np.full(size + (3,), 50, np.uint8))
    with open_source(tmp_path) as video, pytest.raises(ValueError, match=r"f_2.png is 80 x 60 pixels but f_0.png is 64 x 48"):
        list(video)


@pytest.mark.parametrize("kind", ["coco", "mmpose", "gastnet"])
def test_negative_frame_indices_are_an_error_in_every_format(tmp_path, kind):
    import json

    k = np.arange(17)
    xy = np.stack([100 + 3.0 * (k % 3), 50.0 + 10.0 * k], axis=1)
    frames = [-1, 0, 1, 2]
    if kind == "coco":
        doc = [{"image_id": f, "keypoints": np.concatenate([xy, np.full((17, 1), 0.9)], 1).ravel().tolist()} for f in frames]
        match = "negative image_id -1"
    elif kind == "mmpose":
        doc = [{"frame_id": f, "instances": [{"keypoints": xy.tolist(), "keypoint_scores": [0.9] * 17}]} for f in frames]
        match = "negative frame_id -1"
    else:
        doc = {"label": "x", "label_index": 0,
               "data": [{"frame_index": f, "skeleton": [{"pose": xy.ravel().tolist(), "score": [0.9] * 17}]} for f in frames]}
        match = "negative frame_index -1"
    (tmp_path / "kp.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        read_keypoints(tmp_path / "kp.json")


# --- Training: a finished run stays finished, and the best/last pair stays consistent ---

TINY_RUN = ['model.name="gastnet_rf9"', "model.channels=8", 'data.train_subjects=["S1"]', 'data.test_subjects=["S9"]',
            "train.batch_size=64", "train.epochs=1", "train.max_steps=3", "train.eval_sequences=1", "train.threads=1"]


def test_resuming_a_finished_run_changes_nothing_and_says_so(tiny_h36m, tmp_path, caplog):
    import logging

    from gastnet.cli.main import main

    out = tmp_path / "run"
    args = ["train", "--out", str(out), "--data-dir", str(tiny_h36m), "--no-progress"]
    (tmp_path / "tiny.toml").write_text("")
    assert main([*args[:1], str(tmp_path / "tiny.toml"), *args[1:], "--set", *TINY_RUN]) == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    with caplog.at_level(logging.INFO, logger="gastnet.training.trainer"):
        assert main([*args, "--resume"]) == 0
    assert "is complete (epoch 0 of 1, step 3 of 3): nothing to do" in caplog.text
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before


def test_best_is_written_before_last_and_a_missing_best_comes_back(tiny_h36m, tmp_path, monkeypatch):
    from gastnet.training import trainer as trainer_module
    from gastnet.training.config import load_config
    from gastnet.training.trainer import BEST, LAST, Trainer

    written = []
    real_save = trainer_module.save_checkpoint

    def recording_save(path, *args, **kwargs):
        written.append(path.name)
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "save_checkpoint", recording_save)
    out = tmp_path / "run"
    Trainer(load_config(None, TINY_RUN), out, data_dir=tiny_h36m, progress=False).run()
    assert written == [BEST, LAST]  # a kill between the two leaves the earlier last: that epoch is redone
    (out / BEST).unlink()  # as a kill between the writes of the former order (last, then best) left it
    Trainer(load_config(None, TINY_RUN), out, data_dir=tiny_h36m, resume=True, progress=False).run()
    assert (out / BEST).read_bytes() == (out / LAST).read_bytes()
    assert written == [BEST, LAST]  # the finished run trained no further


# --- whole output sets: never a mix of two runs, never a stale file, one writer per folder ---

def _walk_npy(tmp_path):
    from gastnet.examples import synthetic_walk_2d

    np.save(tmp_path / "walk.npy", synthetic_walk_2d(30, (640, 480)))
    return ["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--image-size", "640x480", "--model", "gastnet_rf9",
            "--out", str(tmp_path / "out")]


def test_overwrite_replaces_the_whole_set_and_removes_stale_files(tmp_path):
    from gastnet.cli.main import main

    args = _walk_npy(tmp_path)
    assert main(args + ["--formats", "npz,bvh"]) == 0
    assert (tmp_path / "out" / "poses_0.bvh").is_file()
    assert main(args + ["--formats", "npz"]) == 2  # an earlier set is not replaced without --overwrite
    assert main(args + ["--formats", "npz", "--overwrite"]) == 0
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == ["poses.npz"]  # nothing hidden left either


def test_a_failure_while_writing_leaves_the_earlier_set_untouched(tmp_path, monkeypatch, capsys):
    from gastnet.cli.main import main
    from gastnet.pipeline.results import LiftResult

    args = _walk_npy(tmp_path)
    assert main(args + ["--formats", "npz,json"]) == 0
    before = {f.name: f.read_bytes() for f in (tmp_path / "out").iterdir() if f.is_file() and not f.name.startswith(".")}
    real_save = LiftResult.save

    def disk_full(self, folder, formats=("npz",)):
        real_save(self, folder, ("npz",))  # the first file is written, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LiftResult, "save", disk_full)
    assert main(args + ["--formats", "npz,json", "--overwrite"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    after = {f.name: f.read_bytes() for f in (tmp_path / "out").iterdir() if f.is_file() and not f.name.startswith(".")}
    assert after == before  # the old npz and JSON, byte for byte: no new npz beside an old JSON
    assert not list((tmp_path / "out").glob(".gastnet-*"))


def test_an_interrupt_leaves_nothing_and_killed_runs_staging_is_cleaned(tmp_path):
    from gastnet.fileio import output_set

    out = tmp_path / "out"
    (out / ".gastnet-partial-staging-k3j2").mkdir(parents=True)  # what a SIGKILLed run leaves
    (out / ".gastnet-partial-staging-k3j2" / "poses.npz").write_bytes(b"half")
    with pytest.raises(KeyboardInterrupt), output_set(out, ["poses.*"]) as stage:
        (stage / "poses.npz").write_bytes(b"new")
        raise KeyboardInterrupt  # Ctrl-C, or SIGTERM through the CLI's handler
    assert list(out.iterdir()) == []


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path, capsys):
    from gastnet.cli.main import main
    from gastnet.fileio import folder_lock

    args = _walk_npy(tmp_path)
    held, release = threading.Event(), threading.Event()

    def other_writer():  # another run (a thread here; another process holds it the same way)
        with folder_lock(tmp_path / "out"):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert held.wait(30)
        assert main(args) == 2
        assert "another gastnet run is writing to" in capsys.readouterr().err
        with pytest.raises(ValueError, match="another gastnet train is writing"), folder_lock(tmp_path / "out", "gastnet train"):
            pass
    finally:
        release.set()
        thread.join()
    assert main(args) == 0  # the lock went with its holder


@pytest.mark.parametrize("name", ["gastnet_rf27_c32", "gastnet_rf27_c32_causal"])
def test_long_sequences_are_lifted_in_chunks_with_the_same_result(name):
    """Memory stays flat in the length (``benchmarks/bench_long_sequence.py``: 100k frames under
    1 GB); chunks with receptive-field context give exactly the one-pass result."""
    import gastnet
    from gastnet.runtime.predict import predict_in_chunks, predict_sequence
    from gastnet.skeleton import H36M_17

    model = gastnet.create_model(name).eval()
    inputs = np.random.default_rng(0).uniform(-0.8, 0.8, (300, 17, 2)).astype(np.float32)
    with torch.no_grad():
        whole = predict_sequence(model, inputs, H36M_17).numpy()
    chunked = predict_in_chunks(model, inputs, H36M_17, chunk=64)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


def crafted_checkpoint(path, sentinel):
    """A file in gastnet's checkpoint layout whose unpickling would create the sentinel."""
    torch.save({"format": "gastnet-checkpoint-1", "model_config": {}, "state_dict": {}, "x": Payload(sentinel)}, path)
    return path


@pytest.mark.parametrize("command", [
    lambda ckpt, tmp: ["lift", str(tmp / "walk.npy"), "--layout", "h36m", "--image-size", "640x480",
                       "--checkpoint", str(ckpt), "--out", str(tmp / "out")],
    lambda ckpt, tmp: ["evaluate", str(ckpt), "--data-dir", str(tmp), "--out", str(tmp / "eval")],
    lambda ckpt, tmp: ["export", str(ckpt), "--format", "torchscript", "--out", str(tmp / "m.pt")],
    lambda ckpt, tmp: ["convert", str(ckpt), "--out", str(tmp / "c.pt")],
    lambda ckpt, tmp: ["live", str(tmp / "clip.mp4"), "--checkpoint", str(ckpt), "--no-display", "--out", str(tmp / "v.mp4")],
    pytest.param(lambda ckpt, tmp: ["train", "configs/smoke.toml", "--set", f"train.init={ckpt}", "--out",
                                    str(tmp / "run")], marks=pytest.mark.data),  # train reads the data first
])
def test_a_crafted_checkpoint_runs_nothing_in_any_command(tmp_path, command, capsys, monkeypatch):
    from pathlib import Path

    from gastnet.cli.main import main
    from gastnet.examples import synthetic_walk_2d

    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # configs/ for train
    arguments = command(tmp_path / "crafted.pt", tmp_path)
    if arguments[0] == "train":
        shared_file("h36m", "data_3d_h36m.npz")  # skips, saying so, without the shared data
    np.save(tmp_path / "walk.npy", synthetic_walk_2d(30, (640, 480)))
    sentinel = tmp_path / "sentinel"
    ckpt = crafted_checkpoint(tmp_path / "crafted.pt", sentinel)
    assert main(command(ckpt, tmp_path)) == 2
    assert "holds objects other than tensors and plain values" in capsys.readouterr().err
    assert not sentinel.exists()


def test_resume_reads_its_checkpoint_safely(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    from gastnet.cli.main import main

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    run = tmp_path / "run"
    run.mkdir()
    sentinel = tmp_path / "sentinel"
    crafted_checkpoint(run / "checkpoint_last.pt", sentinel)
    assert main(["train", "--resume", "--out", str(run)]) == 2
    assert "holds objects other than tensors" in capsys.readouterr().err
    assert not sentinel.exists()


def test_evaluate_checks_its_existing_results_before_evaluating(tmp_path, capsys, monkeypatch):
    import gastnet.evaluation.evaluate as evaluation
    from gastnet.cli.main import main

    (tmp_path / "eval_h36m_gt.json").write_text("{}")

    def never(*args, **kwargs):
        raise AssertionError("evaluated although the results exist")

    monkeypatch.setattr(evaluation, "evaluate_checkpoint", never)
    assert main(["evaluate", "gastnet_rf27_c32", "--dataset", "h36m", "--out", str(tmp_path)]) == 2
    assert "eval_h36m_gt.json already exists" in capsys.readouterr().err


def test_a_killed_runs_temporary_files_are_removed_by_the_next_run(tmp_path):
    from gastnet.cli.main import main

    args = _walk_npy(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".gastnet-partial-poses.k3j2.npz").write_bytes(b"half")  # what atomic_path leaves when SIGKILLed
    users = [".keep.txt", ".draft.tmp", ".config.tmp.bak", ".poses.k3j2.tmp.npz", ".gastnet-staging-notes"]
    for name in users:  # the user's own (or another program's) hidden and temporary files
        (tmp_path / "out" / name).write_text("not gastnet's")
    assert main(args) == 0
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == sorted(users + ["poses.npz"])


def test_temporary_files_are_named_as_only_gastnet_names_them(tmp_path):
    from gastnet.fileio import TEMPORARY_PREFIX, atomic_path, output_set

    with atomic_path(tmp_path / "poses.npz") as tmp, output_set(tmp_path / "out", ["x"]) as stage:
        assert tmp.name.startswith(TEMPORARY_PREFIX) and tmp.suffix == ".npz"  # writers pick formats by suffix
        assert stage.name.startswith(TEMPORARY_PREFIX)
        tmp.write_text("x")


def test_the_folder_is_locked_from_the_start_of_the_work(tmp_path, monkeypatch):
    """Before, the lock covered only the final write: two --overwrite runs could both lift to the end."""
    import gastnet.pipeline.recording as pipeline
    from gastnet.cli.main import main
    from gastnet.fileio import folder_lock

    real_lift, seen = pipeline.lift, []

    def lift_while_another_run_tries(*args, **kwargs):
        def other_run():
            try:
                with folder_lock(tmp_path / "out"):
                    seen.append("got the lock")
            except ValueError:
                seen.append("refused")

        thread = threading.Thread(target=other_run)
        thread.start()
        thread.join()
        return real_lift(*args, **kwargs)

    monkeypatch.setattr(pipeline, "lift", lift_while_another_run_tries)
    assert main(_walk_npy(tmp_path) + ["--overwrite"]) == 0
    assert seen == ["refused"]


@pytest.mark.parametrize("name, content", [
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"not a picture" * 20),  # a JPEG's first bytes, then garbage
    ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00garbage" * 50),  # an mp4's box header, then garbage
    ("clip.mov", b""),
])
def test_a_photo_or_video_that_is_not_one_gives_one_line_and_exit_2(tmp_path, capsys, name, content):
    """Photos and videos from strangers (read by OpenCV and PyAV): one line naming the file, exit 2, nothing written."""
    from gastnet.cli.main import main

    path = tmp_path / name
    path.write_bytes(content)
    assert main(["lift", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and name in err, err
    assert not (tmp_path / "out").exists()
