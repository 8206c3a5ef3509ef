"""Face verification and identification leakage: the verified, identified and false-match shares
of query face descriptors against a gallery (pure numpy; the stage is ``vidanon.stages.faceid``)."""

from __future__ import annotations

import numpy as np

from vidanon.metrics import ranking


def verified(distmat, q_pids, g_pids, q_camids, g_camids, *, threshold: float,
             impostor: bool = False) -> np.ndarray:
    """Per query: whether a kept gallery face of the same identity lies closer than ``threshold``.

    With ``impostor``, the same for a gallery face of ANOTHER identity (a false match). Same-pid,
    same-camid gallery faces are removed as in the ranking.

    Parameters
    ----------
    distmat : (Q, G) array_like of float
        Query x gallery distances, smaller = more similar (e.g. Euclidean distances of raw dlib
        descriptors).
    q_pids : (Q,) array_like
        Identity label of each query.
    g_pids : (G,) array_like
        Identity label of each gallery face.
    q_camids : (Q,) array_like
        Camera / segment label of each query.
    g_camids : (G,) array_like
        Camera / segment label of each gallery face.
    threshold : float
        Same-person distance, in the unit of ``distmat`` (0.6 for dlib's Euclidean distance); a
        face must be strictly closer.
    impostor : bool, optional
        False (default): faces of the query's own identity; True: faces of other identities.

    Returns
    -------
    hit : (Q,) ndarray of float
        1.0 or 0.0 per query; NaN where the protocol leaves the query no true match.
    """
    d = np.asarray(distmat)
    same = np.asarray(g_pids)[None, :] == np.asarray(q_pids)[:, None]
    kept = ~(same & (np.asarray(g_camids)[None, :] == np.asarray(q_camids)[:, None]))
    true = same & kept
    cand = (~same & kept) if impostor else true
    # initial=inf: an empty gallery (G = 0) leaves every query without a match instead of raising
    best = np.where(cand, d, np.inf).min(axis=1, initial=np.inf)
    return np.where(true.any(axis=1), (best < threshold).astype(float), np.nan)


def leakage_row(q_desc, g_desc, q_pids, g_pids, q_camids, g_camids, *, threshold: float, n_boot: int = 1000,
                seed: int = 0) -> dict:
    """Face identification leakage of query face descriptors against gallery face descriptors.

    Rank-1 (CI, chance, privacy level), mAP and the verified share (CI) of the queries, on the
    Euclidean distances of the raw descriptors, plus the identified share (the nearest kept face is
    the true person AND closer than ``threshold``) and the false-match share.

    Parameters
    ----------
    q_desc : (Q, D) array_like of float
        Raw (not normalized) query face descriptors, e.g. dlib's (Q, 128).
    g_desc : (G, D) array_like of float
        Raw gallery face descriptors.
    q_pids : (Q,) array_like
        Identity label of each query.
    g_pids : (G,) array_like
        Identity label of each gallery face.
    q_camids : (Q,) array_like
        Camera / segment label of each query.
    g_camids : (G,) array_like
        Camera / segment label of each gallery face; same-pid, same-camid faces are removed.
    threshold : float
        The model's same-person distance (Euclidean, raw descriptors): 0.6 for dlib.
    n_boot : int, optional
        Bootstrap resamples for the confidence intervals (0: NaN intervals). Default 1000.
    seed : int, optional
        Seed of the bootstrap. Default 0.

    Returns
    -------
    row : dict
        ``rank1``, ``rank1_lo``, ``rank1_hi``, ``mAP``, ``chance_rank1``, ``privacy_level``,
        ``n_queries``, ``n_identities`` and ``note`` as in :func:`vidanon.metrics.ranking.score`,
        and ``verified``, ``verified_lo``, ``verified_hi``, ``identified`` and ``false_match``:
        fractions in [0, 1] (NaN when no query has a true match).
    """
    dist = ranking.euclidean_distmat(q_desc, g_desc)
    ev = ranking.score(dist, q_pids, g_pids, q_camids, g_camids, n_boot=n_boot, seed=seed)
    v = verified(dist, q_pids, g_pids, q_camids, g_camids, threshold=threshold)
    false = verified(dist, q_pids, g_pids, q_camids, g_camids, threshold=threshold, impostor=True)
    lo, hi = ranking.bootstrap_ci(v, n_boot, seed=seed)
    # identified: the nearest kept face is the true person AND closer than the threshold
    identified = np.nan
    if ev.result is not None:
        keep_q = ev.result.valid
        first_ok = ev.result.first_rank[keep_q] == 1
        near = v[keep_q] == 1
        identified = float(np.mean(first_ok & near)) if keep_q.any() else np.nan
    keys = ("rank1", "rank1_lo", "rank1_hi", "mAP", "chance_rank1", "privacy_level", "n_queries", "n_identities",
            "note")
    share = lambda x: float(np.nanmean(x)) if np.isfinite(x).any() else np.nan  # noqa: E731
    return {k: ev.row[k] for k in keys} | {"verified": share(v), "verified_lo": lo, "verified_hi": hi,
                                          "identified": identified, "false_match": share(false)}
