"""Files that try to run code when loaded: nothing runs, the load fails with a clear message."""

import pickle

import numpy as np
import pytest

from gastnet.data.keypoints2d import load_keypoints_2d
from gastnet.data.mocap import load_mocap
from gastnet.fileio import load_npz
from gastnet.keypoints.files import read_keypoints


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
    with pytest.raises((ValueError, pickle.UnpicklingError), match=r"refusing to load io\.open"):
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
                        metadata=np.array({"num_joints": 17, "layout_name": "h36m", "video_metadata": {"S1": {"w": 1000, "h": 1000}}},
                                          dtype=object))
    data = load_npz(tmp_path / "vp3d.npz")
    np.testing.assert_array_equal(data["positions_2d"].item()["S1"]["Walking"][0], positions["S1"]["Walking"][0])
    assert data["metadata"].item()["video_metadata"]["S1"] == {"w": 1000, "h": 1000}
