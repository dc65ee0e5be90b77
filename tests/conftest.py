import sys
from pathlib import Path

import pytest
import torch

# The straightforward reference implementation lives with the benchmarks; tests use it as an oracle.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
