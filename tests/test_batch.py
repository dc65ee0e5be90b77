"""Batch lifting: many inputs, one folder each, failures reported without losing the batch."""

import json

import numpy as np
import pytest

from gastnet.cli.main import main
from gastnet.examples import synthetic_walk_2d
from gastnet.inference.batch import expand_inputs, lift_many, output_folders

OPTIONS = {"layout": "h36m", "image_size": (640, 480), "model": "gastnet_rf9"}


def keypoint_files(folder, names=("walk_a", "walk_b")):
    folder.mkdir(exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        np.save(folder / f"{name}.npy", synthetic_walk_2d(30 + 10 * i, (640, 480)))
        paths.append(folder / f"{name}.npy")
    return paths


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
    assert [p.name for p in output_folders([tmp_path / "a" / "x.mp4", tmp_path / "b" / "x.mp4"], tmp_path)] == ["x", "x_2"]


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
    again = lift_many([good[0]], tmp_path / "out", **OPTIONS)  # results are not replaced silently
    assert not again[0]["ok"] and "already holds results" in again[0]["error"]


def test_a_dask_local_cluster_runs_the_batch(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the Dask recipe needs the batch extra (dask[distributed])")
    inputs = keypoint_files(tmp_path / "in")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        records = lift_many(inputs, tmp_path / "out", executor=client.get_executor(), **OPTIONS)
    assert [r["ok"] for r in records] == [True, True]
    assert (tmp_path / "out" / "walk_a" / "poses.npz").is_file() and (tmp_path / "out" / "walk_b" / "poses.npz").is_file()


def test_the_command_lifts_a_folder_with_two_workers(tmp_path, capsys):
    folder = tmp_path / "in"
    keypoint_files(folder)
    (folder / "empty.npy").write_bytes(b"")
    inputs = [str(p) for p in sorted(folder.glob("*.npy"))]
    code = main(["lift", *inputs, "--layout", "h36m", "--image-size", "640x480", "--model", "gastnet_rf9",
                 "--workers", "2", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 1  # one input failed: said, the others written
    assert "2 of 3 inputs lifted" in printed and "FAILED" in printed and "empty.npy" in printed
    assert (tmp_path / "out" / "walk_a" / "poses.npz").is_file()
