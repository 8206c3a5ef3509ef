"""Shared test settings: data and weights come from ../shared (never downloaded in tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

for var, sub in (("VIDANON_DATA_DIR", "data"), ("VIDANON_WEIGHTS_DIR", "weights")):
    if not os.environ.get(var) and (SHARED / sub).is_dir():
        os.environ[var] = str(SHARED / sub)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("VIDANON_DATA_DIR", ""))
    if not (path / "SHA256SUMS").is_file():
        pytest.skip("VIDANON_DATA_DIR does not point at the sample data (../shared/data)")
    return path


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    path = Path(os.environ.get("VIDANON_WEIGHTS_DIR", ""))
    if not (path / "SHA256SUMS").is_file():
        pytest.skip("VIDANON_WEIGHTS_DIR does not point at the weights (../shared/weights)")
    return path
