"""Batch lifting: many inputs, one folder each, failures reported without losing the batch."""

import contextlib
import ctypes
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gastnet.cli.main import main
from gastnet.examples import synthetic_walk_2d
from gastnet.pipeline import batch
from gastnet.pipeline.batch import expand_inputs, lift_many, lift_one, output_folders

OPTIONS = {"layout": "h36m", "image_size": (640, 480), "model": "gastnet_rf9"}


def keypoint_files(folder, names=("walk_a", "walk_b")):
    folder.mkdir(exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        np.save(folder / f"{name}.npy", synthetic_walk_2d(30 + 10 * i, (640, 480)))
        paths.append(folder / f"{name}.npy")
    return paths


def misbehaving_lift(source, out_dir, *args, **kwargs):
    """A ``lift_function`` for the workers: an input named after a failure fails that way for real
    (in the worker process); any other is lifted."""
    name = Path(source).stem
    if name in ("segfault", "abort"):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
    if name == "segfault":
        ctypes.string_at(0)  # reads address 0: SIGSEGV, as a broken native library would
    if name == "abort":
        os.abort()  # SIGABRT, as a failed assertion in a native library
    if name == "oom":
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer sends
    if name == "ctrl_c":
        os.kill(os.getppid(), signal.SIGINT)  # the user presses Ctrl-C while this input is being lifted
    if name in ("hang", "ctrl_c"):
        time.sleep(600)
    return lift_one(source, out_dir, *args, **kwargs)


@contextlib.contextmanager
def locked_by_another_process(folder):
    """Another process holds ``folder``'s lock (as a second gastnet run would) for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    hold = ("import fcntl, os, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX); "
            "print(flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        holder.stdout.readline()  # it holds the lock
        yield
    finally:
        holder.stdin.close()  # it ends, and its lock with it
        holder.wait()


def test_inputs_expand_from_folders_of_videos_and_globs_in_natural_order(tmp_path):
    videos = tmp_path / "clips"
    videos.mkdir()
    for name in ("clip_10.mp4", "clip_2.mp4", "notes.txt"):
        (videos / name).write_bytes(b"")
    images = tmp_path / "frames"
    images.mkdir()
    (images / "f_1.png").write_bytes(b"")
    found = expand_inputs([str(videos), str(images), str(tmp_path / "clips" / "*.mp4")])
    assert [p.name for p in found] == ["clip_2.mp4", "clip_10.mp4", "frames"]  # duplicates from the glob dropped
    with pytest.raises(ValueError, match="the pattern matches nothing"):
        expand_inputs([str(tmp_path / "*.avi")])
    with pytest.raises(ValueError, match="does not exist"):
        expand_inputs([str(tmp_path / "missing.mp4")])


def test_every_input_gets_a_folder_of_its_own(tmp_path):
    (tmp_path / "walk").mkdir()  # a folder input: its name, whatever dots it has

    def names(*inputs):
        return [f.name for f in output_folders([tmp_path / p for p in inputs], tmp_path / "out")]

    assert names("walk.npy", "walk.npz", "walk_2.npy") == ["walk_npy", "walk_npz", "walk_2"]
    assert names("walk", "walk.npy") == ["walk", "walk_npy"]
    assert names("a/x.mp4", "b/x.mp4", "c/X.mp4", "x_mp4_2.npy") == ["x_mp4", "x_mp4_2", "X_mp4_3", "x_mp4_2_2"]
    assert names("clip.v2.mp4", "walk_2.npy", "walk_2.json.npy") == ["clip.v2", "walk_2", "walk_2.json"]
    # no folder is the report, or outside the output folder
    assert names("batch_report.json.npy", "..npy", "...npy") == ["batch_report.json_2", "input_npy", "input_npy_2"]


def test_one_bad_file_does_not_lose_the_batch(tmp_path):
    good = keypoint_files(tmp_path / "in")
    bad = tmp_path / "in" / "broken.npy"
    bad.write_bytes(b"not an array")
    records = lift_many([good[0], bad, good[1]], tmp_path / "out", **OPTIONS)
    assert [r["ok"] for r in records] == [True, False, True]
    assert "broken.npy" in records[1]["input"] and records[1]["error"]
    assert records[2]["frames"] == 40 and records[2]["people"] == 1
    with np.load(tmp_path / "out" / "walk_b" / "poses.npz") as data:
        assert data["poses_world"].shape == (1, 40, 17, 3)
    report = json.loads((tmp_path / "out" / "batch_report.json").read_text())
    assert report["inputs"] == 3 and report["failed"] == 1
    again = lift_one(good[0], tmp_path / "out" / "walk_a", **OPTIONS)  # results are not replaced silently
    assert not again["ok"] and "already holds results" in again["error"]


def test_the_folder_is_locked_from_the_check_to_the_last_file(tmp_path, monkeypatch):
    fcntl = pytest.importorskip("fcntl")
    walk, out = keypoint_files(tmp_path / "in", ("walk",))[0], tmp_path / "out"
    lifted = []

    def lift_while_another_tries_the_lock(source, **options):
        fd = os.open(out, os.O_RDONLY)  # a file description of its own, as another process has
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        lifted.append(source)
        return real_lift(source, **options)

    real_lift = batch.lift
    monkeypatch.setattr(batch, "lift", lift_while_another_tries_the_lock)
    with locked_by_another_process(out):
        refused = lift_one(walk, out, **OPTIONS)
    assert "another gastnet lift is writing to" in refused["error"] and not lifted  # refused before any work
    record = lift_one(walk, out, **OPTIONS)
    assert record["ok"] and lifted == [walk] and (out / "poses.npz").is_file()
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards
    finally:
        os.close(fd)


CRASHES = {"oom": "the worker lifting this input was killed (signal 9: out of memory?)",
           "abort": "the worker lifting this input crashed (killed by signal 6, SIGABRT)"}


@pytest.mark.slow
@pytest.mark.parametrize("workers, crash", [(1, "oom"), (2, "abort")])
def test_a_crashing_worker_fails_only_its_input(tmp_path, workers, crash):
    inputs = keypoint_files(tmp_path / "in", ("walk_a", "segfault", "walk_b", crash))
    records = lift_many(inputs, tmp_path / "out", workers=workers, lift_function=misbehaving_lift, **OPTIONS)
    assert [r["ok"] for r in records] == [True, False, True, False]
    assert records[1]["error"] == "the worker lifting this input crashed (killed by signal 11, SIGSEGV)"
    assert records[3]["error"] == CRASHES[crash]
    assert records[2]["frames"] == 50  # lifted after the crash
    for name in ("walk_a", "walk_b"):
        assert (tmp_path / "out" / name / "poses.npz").is_file()
    report = json.loads((tmp_path / "out" / "batch_report.json").read_text())
    assert report["failed"] == 2 and [r["error"] for r in report["results"]] == [r["error"] for r in records]
    assert not multiprocessing.active_children()


@pytest.mark.slow
def test_an_input_past_the_timeout_fails_and_the_batch_goes_on(tmp_path):
    inputs = keypoint_files(tmp_path / "in", ("hang", "walk_a", "walk_b"))
    records = lift_many(inputs, tmp_path / "out", workers=2, timeout=4, lift_function=misbehaving_lift, **OPTIONS)
    assert records[0]["error"] == "timed out after 4 s; its worker was stopped"
    assert records[1]["ok"] and records[2]["ok"] and not multiprocessing.active_children()
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got 0"):
        lift_many(inputs, tmp_path / "out", timeout=0)


def test_an_interrupted_batch_writes_its_report_and_leaves_no_workers(tmp_path):
    inputs = keypoint_files(tmp_path / "in", ("walk_a", "ctrl_c", "walk_b"))
    # Ctrl-C as an interactive run gets it (a process started in the background inherits SIGINT ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            lift_many(inputs, tmp_path / "out", lift_function=misbehaving_lift, **OPTIONS)
    finally:
        signal.signal(signal.SIGINT, previous)
    report = json.loads((tmp_path / "out" / "batch_report.json").read_text())
    assert [r["error"] for r in report["results"]] == [None, "not finished: the batch was interrupted",
                                                       "not run: the batch was interrupted"]
    assert not (tmp_path / "out" / "walk_b").exists() and not multiprocessing.active_children()


def test_a_dask_local_cluster_runs_the_batch(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the Dask recipe needs the batch extra (dask[distributed])")
    inputs = keypoint_files(tmp_path / "in")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        records = lift_many(inputs, tmp_path / "out", executor=client.get_executor(), **OPTIONS)
    assert [r["ok"] for r in records] == [True, True]
    assert (tmp_path / "out" / "walk_a" / "poses.npz").is_file() and (tmp_path / "out" / "walk_b" / "poses.npz").is_file()


def test_the_command_lifts_inputs_of_one_name_with_two_workers(tmp_path, capsys):
    folder = tmp_path / "in"
    walk, walk_2 = keypoint_files(folder, ("walk", "walk_2"))
    np.savez(folder / "walk.npz", synthetic_walk_2d(60, (640, 480)))
    (folder / "empty.npy").write_bytes(b"")
    options = ["--layout", "h36m", "--image-size", "640x480", "--model", "gastnet_rf9", "--out", str(tmp_path / "out")]
    code = main(["lift", str(walk), str(folder / "walk.npz"), str(walk_2), str(folder / "empty.npy"), *options,
                 "--workers", "2", "--timeout", "60"])
    printed = capsys.readouterr().out
    assert code == 1  # one input failed: said, the others written
    assert "3 of 4 inputs lifted" in printed and "FAILED" in printed and "empty.npy" in printed
    for name, frames in (("walk_npy", 30), ("walk_npz", 60), ("walk_2", 40)):  # each input's own result
        with np.load(tmp_path / "out" / name / "poses.npz") as data:
            assert data["poses_world"].shape[1] == frames
    assert main(["lift", str(walk), *options, "--timeout", "5"]) == 2  # one input runs in this process
    assert "--timeout limits each input of a batch" in capsys.readouterr().err
