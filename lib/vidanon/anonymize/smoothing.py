"""Temporal smoothing of keypoint tracks: the One-Euro filter (Casiez, Roussel and Vogel, CHI 2012).

A first-order low-pass filter whose cut-off frequency rises with the signal's speed: slow motion is
smoothed strongly (no jitter), fast motion lightly (little lag). Plain arrays in and out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def one_euro(x: np.ndarray, t: np.ndarray | None = None, *, fps: float = 30.0, min_cutoff: float = 1.0,
             beta: float = 0.0, d_cutoff: float = 1.0) -> np.ndarray:
    """Filter a sequence with the One-Euro filter.

    Parameters
    ----------
    x : (T, ...) float array, samples in time order (any trailing shape, filtered element-wise).
        NaN entries (a missing joint) are passed through as NaN and do not disturb the state.
    t : (T,) timestamps in seconds (strictly increasing); default ``arange(T) / fps``. Gaps in ``t``
        (missed frames) are handled by the larger time step.
    fps : frames per second, used when ``t`` is None.
    min_cutoff : Hz, cut-off at rest (lower = smoother, more lag).
    beta : speed coefficient, s/unit (higher = less lag on fast motion).
    d_cutoff : Hz, cut-off of the speed estimate.

    Returns
    -------
    (T, ...) float64 array, the filtered sequence (the first valid sample is kept as is).
    """
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    x = x.reshape(shape[0], -1)  # (T, elements): the state is one value per element
    n = x.shape[0]
    if t is None:
        t = np.arange(n, dtype=np.float64) / float(fps)
    t = np.asarray(t, dtype=np.float64)
    if t.shape != (n,):
        raise ValueError(f"t must have shape ({n},), got {t.shape}")
    if n > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("t must be strictly increasing")
    out = np.full_like(x, np.nan)
    x_prev = np.full(x.shape[1:], np.nan)
    dx_prev = np.zeros(x.shape[1:])
    t_prev = np.full(x.shape[1:], np.nan)
    for i in range(n):
        xi = x[i]
        ok = ~np.isnan(xi)
        first = ok & np.isnan(x_prev)
        step = ok & ~first
        if np.any(step):
            dt = t[i] - t_prev[step]
            dx = (xi[step] - x_prev[step]) / dt
            a_d = _alpha(d_cutoff, dt)
            dx_hat = a_d * dx + (1 - a_d) * dx_prev[step]
            a = _alpha(min_cutoff + beta * np.abs(dx_hat), dt)
            x_prev[step] = a * xi[step] + (1 - a) * x_prev[step]
            dx_prev[step] = dx_hat
        x_prev[first] = xi[first]
        t_prev[ok] = t[i]
        out[i][ok] = x_prev[ok]
    return out.reshape(shape)


def smooth_keypoints(keypoints: pd.DataFrame, fps: float, *, min_cutoff: float = 1.0, beta: float = 0.05,
                     min_visibility: float = 0.5) -> pd.DataFrame:
    """One-Euro smoothing of a Scene's keypoint table, per track and joint.

    ``keypoints`` has columns ``frame, track_id, joint, x, y, visibility`` (pixels, visibility 0..1);
    joints below ``min_visibility`` are not used as samples (they neither move the filter nor are
    smoothed) and keep their raw values. Returns a copy with smoothed ``x, y``.
    """
    out = keypoints.copy()
    if out.empty:
        return out
    xy = np.array(out[["x", "y"]].to_numpy(dtype=np.float64))  # a writable copy
    good = out["visibility"].to_numpy() >= min_visibility
    frame = out["frame"].to_numpy().astype(np.int64)
    joint = out["joint"].to_numpy().astype(np.int64)
    n_joints = int(joint.max()) + 1
    for _, rows in out.groupby("track_id").indices.items():
        rows = rows[good[rows]]
        if rows.size == 0:
            continue
        # one (frames, joints, 2) array per track: the filter runs on all joints at once
        frames, fi = np.unique(frame[rows], return_inverse=True)
        seq = np.full((frames.size, n_joints, 2), np.nan)
        seq[fi, joint[rows]] = xy[rows]
        sm = one_euro(seq, t=frames / float(fps), min_cutoff=min_cutoff, beta=beta)
        xy[rows] = sm[fi, joint[rows]]
    out[["x", "y"]] = xy
    return out
