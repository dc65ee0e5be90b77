import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

# The straightforward reference implementation lives with the benchmarks; tests use it as an oracle.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _shared_data() -> Path:
    for candidate in (os.environ.get("GASTNET_DATA"), Path(__file__).resolve().parents[2] / "shared" / "data",
                      Path.cwd().parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path("../shared/data")


SHARED_DATA = _shared_data()


def shared_file(*parts: str) -> Path:
    """A file of the shared research data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"shared data {path} is absent (tests that use the real datasets need ../shared/data)")
    return path


def walking_world(num_frames: int, phase: float = 0.0) -> np.ndarray:
    """A 17-joint walk in Human3.6M world coordinates: metres, z up, in the capture volume centre."""

    from gastnet.examples import synthetic_walk_3d

    local = synthetic_walk_3d(num_frames + int(phase))[int(phase):]  # y up, facing -z
    world = np.stack([local[..., 0], local[..., 2], local[..., 1] + 0.95], axis=-1)
    return world.astype(np.float32)


@pytest.fixture
def tiny_h36m(tmp_path):
    """A data folder with a small data_3d_h36m.npz (S1 for training, S9 for testing, 17 joints)."""

    positions = {
        "S1": {"Walking 1": walking_world(120), "Directions 1": walking_world(90, 7)},
        "S9": {"Walking 1": walking_world(60, 3), "Directions 1": walking_world(45, 11)},
    }
    folder = tmp_path / "data"
    (folder / "h36m").mkdir(parents=True)
    np.savez_compressed(folder / "h36m" / "data_3d_h36m.npz", positions_3d=positions)
    return folder
