"""One-Euro filter against a direct transcription of the paper's pseudo-code (Casiez et al. 2012)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vidanon.anonymize.smoothing import one_euro, smooth_keypoints


def reference(xs, ts, min_cutoff, beta, d_cutoff):
    """Scalar One-Euro filter, as in the authors' reference implementation."""
    def alpha(cutoff, dt):
        r = 2 * math.pi * cutoff * dt
        return r / (r + 1)

    out, x_prev, dx_prev, t_prev = [], None, 0.0, None
    for x, t in zip(xs, ts):
        if x_prev is None:
            x_prev, t_prev = x, t
            out.append(x)
            continue
        dt = t - t_prev
        dx = (x - x_prev) / dt
        a_d = alpha(d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * dx_prev
        a = alpha(min_cutoff + beta * abs(dx_hat), dt)
        x_hat = a * x + (1 - a) * x_prev
        out.append(x_hat)
        x_prev, dx_prev, t_prev = x_hat, dx_hat, t
    return np.array(out)


@pytest.mark.parametrize("min_cutoff,beta", [(1.0, 0.0), (0.5, 0.1), (2.0, 1.0)])
def test_matches_reference(min_cutoff, beta):
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.02, 0.05, 60))
    x = np.sin(t * 3) * 50 + rng.normal(0, 2, 60)
    got = one_euro(np.stack([x, -x], axis=1), t=t, min_cutoff=min_cutoff, beta=beta)
    ref = reference(x, t, min_cutoff, beta, 1.0)
    assert np.allclose(got[:, 0], ref) and np.allclose(got[:, 1], -ref)


def test_reduces_jitter_keeps_constant_and_nan():
    rng = np.random.default_rng(1)
    x = 100 + rng.normal(0, 3, 200)
    y = one_euro(x, fps=30)
    assert np.diff(y).std() < 0.3 * np.diff(x).std()
    assert np.allclose(one_euro(np.full(10, 7.0)), 7.0)
    z = np.array([1.0, np.nan, 1.0, 1.0])
    out = one_euro(z)
    assert np.isnan(out[1]) and np.allclose(out[[0, 2, 3]], 1.0)
    with pytest.raises(ValueError, match="increasing"):
        one_euro(np.zeros(3), t=np.array([0.0, 0.0, 1.0]))


def test_smooth_keypoints_per_track_and_joint():
    rng = np.random.default_rng(2)
    rows = [(f, tid, j, 50 * tid + j + rng.normal(0, 2), 10.0, 1.0 if j != 2 else 0.1)
            for tid in (1, 2) for f in range(30) for j in range(3)]
    kp = pd.DataFrame(rows, columns=["frame", "track_id", "joint", "x", "y", "visibility"])
    sm = smooth_keypoints(kp, fps=30)
    assert sm.shape == kp.shape
    for tid in (1, 2):
        for j in (0, 1):
            raw = kp[(kp.track_id == tid) & (kp.joint == j)]["x"].to_numpy()
            got = sm[(sm.track_id == tid) & (sm.joint == j)]["x"].to_numpy()
            assert np.diff(got).std() < np.diff(raw).std()
            assert abs(got.mean() - (50 * tid + j)) < 3      # tracks are not mixed
    low = kp.joint == 2  # invisible joints keep their raw values
    assert np.allclose(sm[low]["x"], kp[low]["x"])
