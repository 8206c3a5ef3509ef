"""Identity drift of one track: how its embedding moves over time, as pure array functions.

Embeddings are (T, D) float arrays, one row per frame of the track in time order, L2-normalized
(as every vidanon embedder returns them); rows of NaN mark frames without an embedding (e.g. no
face visible). Distances are cosine distances ``1 - cos`` in [0, 2]: 0 = same direction.
"""

from __future__ import annotations

import numpy as np


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine distance ``1 - cos`` of two sets of rows.

    Parameters
    ----------
    a : (N, D) or (D,) array_like of float
        Rows; a single (D,) row is broadcast against the rows of ``b``.
    b : (N, D) or (D,) array_like of float
        Rows; a single (D,) row is broadcast against the rows of ``a``.

    Returns
    -------
    d : (N,) ndarray of float64
        Cosine distance of each pair of rows, in [0, 2] (0 = same direction); NaN where a row has
        a NaN (or is all zero).
    """
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (a * b).sum(axis=1) / (na * nb)
    return np.clip(1.0 - cos, 0.0, 2.0)


def drift_curves(anonymized: np.ndarray, original: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-frame distances of a track's anonymized embeddings.

    Parameters
    ----------
    anonymized : (T, D) array_like of float
        The track's embeddings of the anonymized crops, one row per frame in time order; rows of
        NaN mark frames without an embedding.
    original : (T, D) array_like of float, optional
        The same frames' embeddings of the original crops. None (default): no ``to_original``.

    Returns
    -------
    curves : dict of str to (T,) ndarray of float64
        Cosine distances in [0, 2], NaN on frames without an embedding: ``to_first`` (to the first
        frame that has an embedding), ``to_previous`` (to the last earlier frame that has one; NaN
        for the first) and, when ``original`` is given, ``to_original`` (to the same frame's
        original crop).

    Raises
    ------
    ValueError
        If ``anonymized`` is not 2-D, or ``original`` does not have its shape.
    """
    x = np.asarray(anonymized, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected (T, D) embeddings, got shape {x.shape}")
    t = len(x)
    ok = ~np.isnan(x).any(axis=1)
    out = {"to_first": np.full(t, np.nan), "to_previous": np.full(t, np.nan)}
    idx = np.flatnonzero(ok)
    if idx.size:
        out["to_first"][idx] = cosine_distance(x[idx], x[idx[0]])
        if idx.size > 1:
            out["to_previous"][idx[1:]] = cosine_distance(x[idx[1:]], x[idx[:-1]])
    if original is not None:
        o = np.asarray(original, dtype=np.float64)
        if o.shape != x.shape:
            raise ValueError(f"original embeddings {o.shape} do not match the anonymized {x.shape}")
        out["to_original"] = cosine_distance(x, o)
    return out


def identity_switches(to_previous: np.ndarray, threshold: float) -> int:
    """Number of frame-to-frame jumps larger than ``threshold``.

    Parameters
    ----------
    to_previous : (T,) array_like of float
        Cosine distances to the previous frame (``to_previous`` of :func:`drift_curves`); NaNs are
        skipped.
    threshold : float
        Cosine distance, in [0, 2], that a jump must exceed (strictly) to count as a switch.

    Returns
    -------
    n : int
        Number of switches.
    """
    d = np.asarray(to_previous, dtype=np.float64)
    return int(np.sum(d[~np.isnan(d)] > threshold))


def summarize(values: np.ndarray) -> dict[str, float]:
    """Mean, 95th percentile and count of the non-NaN values.

    Parameters
    ----------
    values : array_like of float
        Values of any shape (e.g. a (T,) curve of :func:`drift_curves`); NaNs are left out.

    Returns
    -------
    stats : dict
        ``mean`` and ``p95`` (float, NaN when there are no values) and ``n`` (int, the number of
        non-NaN values).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if not v.size:
        return {"mean": float("nan"), "p95": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "p95": float(np.percentile(v, 95)), "n": int(v.size)}


def pca_fit(x: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of rows ``x``: mean, principal axes and explained variance ratios.

    Component signs are fixed (largest absolute loading positive) so maps are reproducible. When
    ``x`` has fewer dimensions (or rows) than ``n_components``, the missing axes are zero rows
    with ratio 0.

    Parameters
    ----------
    x : (N, D) array_like of float
        Data rows, N >= 2.
    n_components : int, optional
        Number k of principal axes. Default 2.

    Returns
    -------
    mean : (D,) ndarray of float64
        Column mean of ``x``.
    components : (k, D) ndarray of float64
        Principal axes (unit rows), by decreasing variance.
    ratio : (k,) ndarray of float64
        Explained variance ratio of each axis, in [0, 1].

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or has fewer than 2 rows.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"PCA needs at least 2 rows of (N, D) data, got shape {x.shape}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    comps = vt[:n_components]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    var = s ** 2
    ratio = var[:n_components] / var.sum() if var.sum() > 0 else np.zeros(len(comps))
    if len(comps) < n_components:  # fewer dimensions than asked: pad with zero axes
        comps = np.vstack([comps, np.zeros((n_components - len(comps), x.shape[1]))])
        ratio = np.concatenate([ratio, np.zeros(n_components - len(ratio))])
    return mean, comps, ratio
