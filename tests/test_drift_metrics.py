"""Drift curves on synthetic embeddings: zero for a constant identity, known jumps for a switch."""

import numpy as np
import pytest

from vidanon.metrics import drift as dm


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_constant_identity_has_zero_drift():
    e = np.tile(_unit(np.arange(1, 9, dtype=float)), (5, 1))
    c = dm.drift_curves(e, e)
    assert np.allclose(c["to_first"], 0)
    assert np.isnan(c["to_previous"][0]) and np.allclose(c["to_previous"][1:], 0)
    assert np.allclose(c["to_original"], 0)
    assert dm.identity_switches(c["to_previous"], 0.3) == 0


def test_switch_between_orthogonal_identities():
    a, b = np.eye(4)[0], np.eye(4)[1]
    e = np.stack([a, a, b, b, a])  # snaps to another identity and back
    c = dm.drift_curves(e)
    assert np.allclose(c["to_first"], [0, 0, 1, 1, 0])
    assert np.allclose(c["to_previous"][1:], [0, 1, 0, 1])
    assert dm.identity_switches(c["to_previous"], 0.3) == 2
    s = dm.summarize(c["to_first"])
    assert s["mean"] == pytest.approx(0.4) and s["n"] == 5


def test_missing_frames_are_skipped():
    a, b = np.eye(3)[0], np.eye(3)[2]
    e = np.stack([np.full(3, np.nan), a, np.full(3, np.nan), b])
    c = dm.drift_curves(e)
    assert np.isnan(c["to_first"][0]) and c["to_first"][1] == 0 and c["to_first"][3] == pytest.approx(1)
    assert c["to_previous"][3] == pytest.approx(1) and np.isnan(c["to_previous"][2])
    assert dm.summarize(np.full(3, np.nan))["n"] == 0


def test_cosine_distance_reference():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    from scipy.spatial.distance import cosine
    assert np.allclose(dm.cosine_distance(a, b), [cosine(x, y) for x, y in zip(a, b)])
