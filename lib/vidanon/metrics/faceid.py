"""Face verification and identification leakage: the verified, identified and false-match shares
of query face descriptors against a gallery (pure numpy; the stage is ``vidanon.stages.faceid``)."""

from __future__ import annotations

import numpy as np

from vidanon.metrics import ranking


def verified(distmat, q_pids, g_pids, q_camids, g_camids, *, threshold: float,
             impostor: bool = False) -> np.ndarray:
    """Per query: 1/0 whether a kept gallery face of the SAME identity (``impostor``: of ANOTHER
    identity) lies closer than ``threshold``; NaN where the protocol leaves the query no true match.
    Same-pid, same-camid gallery faces are removed as in the ranking."""
    d = np.asarray(distmat)
    same = np.asarray(g_pids)[None, :] == np.asarray(q_pids)[:, None]
    kept = ~(same & (np.asarray(g_camids)[None, :] == np.asarray(q_camids)[:, None]))
    true = same & kept
    cand = (~same & kept) if impostor else true
    best = np.where(cand, d, np.inf).min(axis=1)
    return np.where(true.any(axis=1), (best < threshold).astype(float), np.nan)


def leakage_row(q_desc, g_desc, q_pids, g_pids, q_camids, g_camids, *, threshold: float, n_boot: int = 1000,
                seed: int = 0) -> dict:
    """Rank-1 (CI, chance, privacy level), mAP and the verified share (CI) of query face descriptors
    against gallery face descriptors (raw descriptors, Euclidean; ``threshold``: the model's
    same-person distance, 0.6 for dlib); also the identified and false-match shares (fractions)."""
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
