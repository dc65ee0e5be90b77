"""Fixtures for every test, the ``data`` marker's check and the summary of data tests that skipped.

Helpers that tests import live in ``tests/helpers.py`` (``from helpers import shared_file``); test
files never import from ``conftest``, from each other or from ``benchmarks/``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from helpers import DATA_ENV, DATA_SKIP_PREFIX, SHARED_DATA, walking_world


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


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


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A test that skips for want of shared data must carry ``@pytest.mark.data`` (so that ``-m "not
    data"`` leaves it out and the summary counts it): an unmarked one fails, saying so."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("data") is None and _skip_reason(report).startswith(DATA_SKIP_PREFIX):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} reads the shared data (shared_file) but is not marked @pytest.mark.data"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say how many data-backed tests did not run and why, even without ``-rs``."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "data" in r.keywords]
    if not skipped:
        return
    reasons = Counter(
        "shared data absent" if _skip_reason(r).startswith(DATA_SKIP_PREFIX) else _skip_reason(r) for r in skipped
    )
    terminalreporter.section("data-backed tests skipped")
    where = f"{SHARED_DATA} (set {DATA_ENV}, or put the data at ../shared/data)"
    for reason, count in reasons.most_common():
        if reason == "shared data absent":
            terminalreporter.line(f"{count} data tests skipped: shared data absent at {where}")
        else:
            terminalreporter.line(f"{count} data tests skipped: {reason}")
    terminalreporter.line("(-rs lists each test and the file it wanted; pytest -m 'not data' leaves them out)")
