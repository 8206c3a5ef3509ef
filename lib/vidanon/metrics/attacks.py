"""Attackers that adapt to an anonymization: the ``learned`` feature map and the choice of the
strongest attack (pure numpy; the stage that runs them is ``vidanon.stages.reid``).

- ``learned``: query and gallery features are each centred on their own mean (removes the shift the
  method gives every feature), then a ridge map from anonymized to original features, fitted on the
  aligned crop pairs of the OTHER identities (leave-one-identity-out), is applied to the queries.
- ``strongest``: of several scored attacks on the same queries, the one with the highest Rank-1
  (then mAP); earlier rows win ties, so the naive attack when nothing beats it.
"""

from __future__ import annotations

import numpy as np


def ridge_map(xa: np.ndarray, xo: np.ndarray, alpha: float) -> np.ndarray:
    """W (D, D) such that ``xa + xa @ W ~ xo`` (ridge on the residual, penalty ``alpha * n``: with
    little data W ~ 0, the naive attacker). ``xa``, ``xo``: (n, D) anonymized and original features."""
    n, d = xa.shape
    lam = alpha * max(n, 1)
    if n < d:  # dual form: the same W, an n x n system instead of d x d
        return xa.T @ np.linalg.solve(xa @ xa.T + lam * np.eye(n, dtype=xa.dtype), xo - xa)
    return np.linalg.solve(xa.T @ xa + lam * np.eye(d, dtype=xa.dtype), xa.T @ (xo - xa))


def adapt_queries(q_feats, q_pids, *, train_anon, train_orig, train_pids, alpha: float = 0.1,
                  max_folds: int = 10) -> np.ndarray:
    """The ``learned`` attacker's query features: each query mapped by a ridge map fitted only on pairs
    (anonymized feature, its aligned original feature) of OTHER identities. Identity folds: one
    identity out when there are at most ``max_folds`` identities, else ``max_folds`` folds.
    Queries with no other identity to learn from keep their naive features. Rows re-normalized."""
    q = np.asarray(q_feats, np.float64).copy()
    ids = np.unique(q_pids)
    folds = [ids[i::max_folds] for i in range(min(max_folds, len(ids)))]
    for fold in folds:
        train = ~np.isin(train_pids, fold)
        if train.sum() < 2 or len(np.unique(train_pids[train])) < 1:
            continue
        w = ridge_map(train_anon[train].astype(np.float64), train_orig[train].astype(np.float64), alpha)
        sel = np.isin(q_pids, fold)
        q[sel] = q[sel] + q[sel] @ w
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    return q.astype(np.float32)


def centred(x: np.ndarray) -> np.ndarray:
    """Rows minus their mean, re-normalized to unit L2 norm (float32)."""
    x = x - x.mean(axis=0)
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def learned_features(qf: np.ndarray, q_pids: np.ndarray, gf: np.ndarray, *, pair_q: np.ndarray,
                     pair_g: np.ndarray, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``learned`` attacker's (query, gallery) features and a note. ``pair_q``/``pair_g``: row
    positions of the aligned (anonymized query, original gallery) crop pairs it may learn from."""
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
    """The ``adaptive`` row: a copy of the row with the highest Rank-1 (then mAP; earlier rows win
    ties, so naive when nothing beats it), attacker set to ``adaptive`` and a note naming the attack.
    ``rows``: summary rows of the same method x embedder x protocol x mode, naive first."""
    def key(i):
        r = rows[i]
        return (np.nan_to_num(r["rank1"], nan=-1.0), np.nan_to_num(r["mAP"], nan=-1.0), -i)

    best = rows[max(range(len(rows)), key=key)]
    note = f"strongest of {'/'.join(r['attacker'] for r in rows)} on these queries: {best['attacker']}"
    # direction: anonymized queries re-identified as the original people, whichever gallery won
    return best | {"attacker": "adaptive", "direction": "anonymized->original",
                   "note": note + (f"; {best['note']}" if best["note"] else "")}
