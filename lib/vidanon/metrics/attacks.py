"""Attackers that adapt to an anonymization: the ``learned`` feature map and the choice of the
strongest attack (pure numpy; the stage that runs them is ``vidanon.stages.reid``).

- ``learned``: query and gallery features are each centred on their own mean (removes the shift the
  method gives every feature), then a ridge map from anonymized to original features, fitted on the
  aligned crop pairs of the OTHER identities (leave-one-identity-out), is applied to the queries.
- ``strongest``: of several scored attacks on the same queries, the one with the highest Rank-1
  (then mAP); earlier rows win ties, so the naive attack when nothing beats it.
- body shape: bone-length ratios of the keypoints a pose model finds again in the anonymized video
  (:func:`body_shape_features`, :func:`shape_distmat`): what an attacker can use when no pixel of the
  person's appearance is left (the stage that runs it is ``vidanon.stages.action``).
"""

from __future__ import annotations

import numpy as np


def ridge_map(xa: np.ndarray, xo: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge map ``W`` such that ``xa + xa @ W`` approximates ``xo``.

    A ridge regression on the residual ``xo - xa`` with penalty ``alpha * n``: with little data
    ``W ~ 0``, the naive attacker. With fewer rows than dimensions (``n < D``) the dual form gives
    the same ``W`` from an n x n system instead of a D x D one.

    Parameters
    ----------
    xa : (n, D) ndarray of float
        Anonymized features, one row per aligned crop pair.
    xo : (n, D) ndarray of float
        The aligned original features, row for row with ``xa``.
    alpha : float
        Ridge penalty per pair: the penalty is ``alpha * max(n, 1)``; larger values pull ``W``
        towards 0 (the naive attacker).

    Returns
    -------
    W : (D, D) ndarray of float
        The residual map, in the float dtype of the inputs.
    """
    n, d = xa.shape
    lam = alpha * max(n, 1)
    if n < d:  # dual form: the same W, an n x n system instead of d x d
        return xa.T @ np.linalg.solve(xa @ xa.T + lam * np.eye(n, dtype=xa.dtype), xo - xa)
    return np.linalg.solve(xa.T @ xa + lam * np.eye(d, dtype=xa.dtype), xa.T @ (xo - xa))


def adapt_queries(q_feats, q_pids, *, train_anon, train_orig, train_pids, alpha: float = 0.1,
                  max_folds: int = 10) -> np.ndarray:
    """The ``learned`` attacker's query features, each mapped by a ridge map of OTHER identities.

    Each query is mapped by a ridge map (:func:`ridge_map`) fitted only on pairs (anonymized
    feature, its aligned original feature) of OTHER identities. Identity folds: one identity out
    when there are at most ``max_folds`` identities, else ``max_folds`` folds (the sorted unique
    query identities dealt round-robin). Queries with no other identity to learn from (fewer than 2
    training pairs outside their fold) keep their naive features. Rows are re-normalized.

    Parameters
    ----------
    q_feats : (Q, D) array_like of float
        Query (anonymized) features.
    q_pids : (Q,) array_like
        Identity label of each query; the folds are made of these identities.
    train_anon : (P, D) ndarray of float
        Anonymized features of the aligned training pairs.
    train_orig : (P, D) ndarray of float
        The aligned original features, row for row with ``train_anon``.
    train_pids : (P,) ndarray
        Identity label of each training pair; pairs of a fold's own identities are left out of
        its fit.
    alpha : float, optional
        Ridge penalty per pair (see :func:`ridge_map`). Default 0.1.
    max_folds : int, optional
        At most this many folds, i.e. ridge fits. Default 10.

    Returns
    -------
    q : (Q, D) ndarray of float32
        The adapted query features, rows of unit L2 norm.
    """
    q = np.asarray(q_feats, np.float64).copy()
    ids = np.unique(q_pids)
    folds = [ids[i::max_folds] for i in range(min(max_folds, len(ids)))]
    for fold in folds:
        train = ~np.isin(train_pids, fold)
        if train.sum() < 2:
            continue
        w = ridge_map(train_anon[train].astype(np.float64), train_orig[train].astype(np.float64), alpha)
        sel = np.isin(q_pids, fold)
        q[sel] = q[sel] + q[sel] @ w
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    return q.astype(np.float32)


def centred(x: np.ndarray) -> np.ndarray:
    """Rows minus their mean, re-normalized to unit L2 norm.

    Parameters
    ----------
    x : (N, D) ndarray of float
        Feature rows.

    Returns
    -------
    xc : (N, D) ndarray of float32
        ``x`` minus its column mean, each row scaled to unit L2 norm (a row equal to the mean
        becomes a zero row).
    """
    x = x - x.mean(axis=0)
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def learned_features(qf: np.ndarray, q_pids: np.ndarray, gf: np.ndarray, *, pair_q: np.ndarray,
                     pair_g: np.ndarray, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``learned`` attacker's (query, gallery) features and a note.

    Query and gallery features are each centred on their own mean (:func:`centred`: removes the
    shift the method gives every feature); then, when there is more than one query identity, the
    queries are mapped by :func:`adapt_queries`, learning from the aligned (anonymized query,
    original gallery) crop pairs of the other identities.

    Parameters
    ----------
    qf : (Q, D) ndarray of float
        Anonymized query features.
    q_pids : (Q,) ndarray
        Identity label of each query.
    gf : (G, D) ndarray of float
        Original gallery features.
    pair_q : (P,) ndarray of int
        Row positions in ``qf`` of the aligned (anonymized query, original gallery) crop pairs it
        may learn from.
    pair_g : (P,) ndarray of int
        Row positions in ``gf`` of the same pairs, element for element with ``pair_q``.
    alpha : float, optional
        Ridge penalty per pair (see :func:`ridge_map`). Default 0.1.

    Returns
    -------
    q : (Q, D) ndarray of float32
        Attacked query features, rows of unit L2 norm.
    g : (G, D) ndarray of float32
        Centred gallery features, rows of unit L2 norm.
    note : str
        How the map was learned (number of other identities per fold); with fewer than 3 it warns
        that this is a closed-set guess among very few people, to read with the chance level.
    """
    qc, gc = centred(qf), centred(gf)
    n_ids = len(np.unique(q_pids))
    n_train = len(np.unique(q_pids[pair_q])) - 1 if len(pair_q) else 0
    note = f"learned: centred features, ridge map learned on {max(n_train, 0)} other identities per fold"
    if n_train < 3:
        note += " (few identities: a closed-set guess among very few people; read with the chance level)"
    q = (adapt_queries(qc, q_pids, train_anon=qc[pair_q], train_orig=gc[pair_g], train_pids=q_pids[pair_q], alpha=alpha)
         if n_ids > 1 else qc)
    return q, gc, note


def strongest(rows: list[dict]) -> dict:
    """The ``adaptive`` row: the strongest of several scored attacks on the same queries.

    A copy of the row with the highest Rank-1 (then mAP; NaN counts as lowest; earlier rows win
    ties, so naive when nothing beats it), with ``attacker`` set to ``'adaptive'``, ``direction``
    set to ``'anonymized->original'`` (anonymized queries re-identified as the original people,
    whichever gallery won) and a ``note`` naming the attack, followed by the winner's own note.

    Parameters
    ----------
    rows : list of dict
        Summary rows of the same method x embedder x protocol x mode, naive first (non-empty);
        each needs ``rank1`` and ``mAP`` (fractions in [0, 1] or NaN), ``attacker`` and ``note``.

    Returns
    -------
    row : dict
        The winning row with ``attacker``, ``direction`` and ``note`` replaced.
    """
    def key(i):
        r = rows[i]
        return (np.nan_to_num(r["rank1"], nan=-1.0), np.nan_to_num(r["mAP"], nan=-1.0), -i)

    best = rows[max(range(len(rows)), key=key)]
    note = f"strongest of {'/'.join(r['attacker'] for r in rows)} on these queries: {best['attacker']}"
    # direction: anonymized queries re-identified as the original people, whichever gallery won
    return best | {"attacker": "adaptive", "direction": "anonymized->original",
                   "note": note + (f"; {best['note']}" if best["note"] else "")}


# --- body shape: an attacker that no appearance change stops -------------------------------------

#: Lengths between MediaPipe Pose's 33 keypoints that, over the shoulder width, describe a body's
#: proportions (left and right averaged; the torso from mid-shoulder to mid-hip): torso, hip width,
#: upper arm, forearm, thigh, shin. The shoulders are the unit because they are seen in nearly every
#: shot, the upper-body ones of sign language included, where hips and legs are not.
SHAPE_BONES = {"torso": ((-1, -2),), "hips": ((23, 24),), "upper_arm": ((11, 13), (12, 14)),
               "forearm": ((13, 15), (14, 16)), "thigh": ((23, 25), (24, 26)), "shin": ((25, 27), (26, 28))}


def body_shape_features(keypoints: np.ndarray, min_visibility: float = 0.5) -> np.ndarray:
    """Body proportions of one person over frames: each length of :data:`SHAPE_BONES` over the shoulder
    width, per frame, then the median over the frames where its joints (and both shoulders) are seen.

    Scale-free (the shoulder width is the unit), so the camera's distance does not matter; pose and
    turning matter only through foreshortening, which the median over many frames damps.

    Parameters
    ----------
    keypoints : (T, 33, 3) ndarray
        MediaPipe Pose keypoints of one track, ``x, y`` in pixels and visibility in [0, 1]; NaN where a
        frame has none.
    min_visibility : float, optional
        Joints seen less than this count as missing. Default 0.5.

    Returns
    -------
    features : (len(SHAPE_BONES),) ndarray of float
        Ratios in :data:`SHAPE_BONES` order; NaN for a length never seen.
    """
    k = np.asarray(keypoints, dtype=float).reshape(-1, 33, 3)
    xy = np.where((k[..., 2:3] >= min_visibility) & np.isfinite(k[..., :2]), k[..., :2], np.nan)
    # two virtual joints: -1 mid-shoulder, -2 mid-hip
    xy = np.concatenate([xy, ((xy[:, 23] + xy[:, 24]) / 2)[:, None], ((xy[:, 11] + xy[:, 12]) / 2)[:, None]], axis=1)
    unit = np.linalg.norm(xy[:, 11] - xy[:, 12], axis=-1)
    unit = np.where(unit > 1e-6, unit, np.nan)
    out = []
    for pairs in SHAPE_BONES.values():
        sides = np.stack([np.linalg.norm(xy[:, a] - xy[:, b], axis=-1) for a, b in pairs])  # (sides, T)
        seen = np.isfinite(sides)
        lengths = np.where(seen, sides, 0.0).sum(axis=0) / np.where(seen.any(axis=0), seen.sum(axis=0), np.nan)
        ratio = (lengths / unit)[np.isfinite(lengths / unit)]
        out.append(float(np.median(ratio)) if ratio.size else np.nan)
    return np.array(out)


def shape_distmat(q: np.ndarray, g: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """Distances between body-shape feature vectors with missing values.

    The root mean square of the differences over the dimensions both vectors have, each divided by
    ``scale`` (e.g. the gallery's standard deviation per dimension); ``inf`` where they share none.

    Parameters
    ----------
    q : (Q, D) ndarray of float
        Query features (NaN = missing).
    g : (G, D) ndarray of float
        Gallery features (NaN = missing).
    scale : (D,) ndarray of float, optional
        Per-dimension scale (> 0). Default: ones.

    Returns
    -------
    dist : (Q, G) ndarray of float
        Non-negative distances, smaller = more alike.
    """
    q, g = np.asarray(q, float), np.asarray(g, float)
    s = np.ones(q.shape[1]) if scale is None else np.where(np.asarray(scale, float) > 0, scale, 1.0)
    d = (q[:, None, :] - g[None, :, :]) / s
    both = np.isfinite(d)
    n = both.sum(axis=2)
    ss = np.where(both, d, 0.0) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.sqrt(ss.sum(axis=2) / np.maximum(n, 1)), np.inf)
