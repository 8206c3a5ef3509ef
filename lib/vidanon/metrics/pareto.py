"""The Pareto front of a privacy-utility trade-off: the methods no other method beats on both."""

from __future__ import annotations

import numpy as np


def pareto_front(x, y) -> np.ndarray:
    """Indices of the non-dominated points, where LOWER x and HIGHER y are better.

    A point is dominated when another has x' <= x and y' >= y with at least one strict inequality.
    NaN (or infinite) points are never on the front.

    Parameters
    ----------
    x : (N,) array_like of float
        First criterion, lower is better.
    y : (N,) array_like of float
        Second criterion, higher is better.

    Returns
    -------
    front : (K,) ndarray of int
        Indices of the points on the front, sorted by x.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` are not 1-D arrays of the same length.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    idx = np.flatnonzero(ok)
    front = []
    for i in idx:
        dominated = np.any((x[idx] <= x[i]) & (y[idx] >= y[i]) & ((x[idx] < x[i]) | (y[idx] > y[i])))
        if not dominated:
            front.append(i)
    front = np.array(front, dtype=int)
    return front[np.argsort(x[front], kind="stable")] if len(front) else front
