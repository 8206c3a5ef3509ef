"""Re-identification ranking metrics: CMC, mAP and mINP under the Market-1501 protocol.

``evaluate_rank`` gives the same CMC and mAP as ``torchreid.reid.metrics.rank.evaluate_rank``
(Market-1501 setting) on the same distance matrix, plus mINP as in the AGW paper (Ye et al. 2021),
but vectorized over blocks of queries instead of a Python loop per query. The gallery is ordered
with the same ``np.argsort`` call as torchreid, so even tied distances rank identically.

Protocol: for each query, gallery items with the same pid AND the same camid are removed (so a
crop cannot match its own twin from the same camera / time segment); queries left with no true
match are skipped; the CMC curve is cumulative (clipped at 1); AP is the mean of the precision at
each true match; INP = (number of true matches) / (rank of the hardest true match).

Also: the chance level of a gallery, bootstrap confidence intervals over queries, and the
project's privacy bands for Rank-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

#: Rank-1 bands (fractions): below 0.10 excellent, 0.10-0.25 good, 0.25-0.50 moderate, above poor.
PRIVACY_BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.10, "excellent"),
    (0.10, 0.25, "good"),
    (0.25, 0.50, "moderate"),
    (0.50, 1.0, "poor"),
)


@dataclass
class Ranking:
    """Result of :func:`evaluate_rank`.

    ``cmc[k-1]`` is Rank-k accuracy in [0, 1]; ``mAP`` and ``mINP`` in [0, 1]. Per-query arrays
    (length = number of queries, for bootstrapping and per-identity breakdowns): ``valid`` (the query
    has a true match left after removal), ``first_rank`` (1-based rank of its first true match, 0 when
    not valid), ``ap``, ``inp`` (NaN when not valid), ``n_true`` (true matches kept), ``n_kept``
    (gallery items kept).
    """

    cmc: np.ndarray
    mAP: float
    mINP: float
    valid: np.ndarray
    first_rank: np.ndarray
    ap: np.ndarray
    inp: np.ndarray
    n_true: np.ndarray
    n_kept: np.ndarray

    @property
    def n_valid(self) -> int:
        return int(self.valid.sum())

    def rank(self, k: int) -> float:
        """Rank-k accuracy (fraction of valid queries whose first true match is within the top k)."""
        return float(self.cmc[min(k, len(self.cmc)) - 1])


def _check_inputs(distmat, q_pids, g_pids, q_camids, g_camids):
    distmat = np.asarray(distmat)
    if distmat.ndim != 2:
        raise ValueError(f"distmat: expected a 2-D (num_query, num_gallery) array, got shape {distmat.shape}")
    nq, ng = distmat.shape
    if nq == 0 or ng == 0:
        raise ValueError(f"distmat: empty query or gallery (shape {distmat.shape})")
    arrays = []
    for name, a, n in (("q_pids", q_pids, nq), ("g_pids", g_pids, ng),
                       ("q_camids", q_camids, nq), ("g_camids", g_camids, ng)):
        a = np.asarray(a).ravel()
        if len(a) != n:
            raise ValueError(f"{name}: expected {n} entries to match distmat {distmat.shape}, got {len(a)}")
        arrays.append(a)
    return (distmat, *arrays)


def _rank_block(d, qp, gp_all, qc, gc_all):
    """Per-query first rank, AP, INP, n_true, n_kept of a block of queries (all vectorized)."""
    order = np.argsort(d, axis=1)  # the same call as torchreid: identical tie order
    gp, gc = gp_all[order], gc_all[order]
    same = gp == qp[:, None]
    keep = ~(same & (gc == qc[:, None]))
    hit = same & keep
    pos = np.cumsum(keep, axis=1, dtype=np.int32)  # 1-based rank among kept items, at hit positions
    nhit = np.cumsum(hit, axis=1, dtype=np.int32)
    n_true = nhit[:, -1]
    valid = n_true > 0
    rows = np.arange(len(d))
    first = np.where(valid, pos[rows, hit.argmax(axis=1)], 0)
    last_idx = hit.shape[1] - 1 - hit[:, ::-1].argmax(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(hit, nhit / np.maximum(pos, 1), 0.0)
        ap = np.where(valid, prec.sum(axis=1) / n_true, np.nan)
        inp = np.where(valid, n_true / pos[rows, last_idx], np.nan)
    return first, ap, inp, n_true, pos[:, -1]


def evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, *, max_rank: int = 50,
                  block_elements: int = 4_000_000) -> Ranking:
    """CMC, mAP and mINP of a query x gallery distance matrix (Market-1501 protocol).

    Parameters
    ----------
    distmat : (num_query, num_gallery) array, smaller = more similar (any real dtype).
    q_pids, g_pids : identity labels (ints) of queries and gallery items.
    q_camids, g_camids : camera / segment labels; same pid AND same camid gallery items are removed.
    max_rank : length of the CMC curve (reduced to num_gallery when the gallery is smaller).
    block_elements : memory bound: queries are ranked in blocks of about this many matrix cells.

    Raises ValueError for mismatched lengths, and when no query has a true match in the gallery
    (where torchreid asserts).
    """
    distmat, q_pids, g_pids, q_camids, g_camids = _check_inputs(distmat, q_pids, g_pids, q_camids, g_camids)
    nq, ng = distmat.shape
    max_rank = min(max_rank, ng)
    step = max(1, block_elements // ng)
    parts = [_rank_block(distmat[s:s + step], q_pids[s:s + step], g_pids, q_camids[s:s + step], g_camids)
             for s in range(0, nq, step)]
    first, ap, inp, n_true, n_kept = (np.concatenate(p) for p in zip(*parts))
    valid = n_true > 0
    if not valid.any():
        raise ValueError("no query identity appears in the gallery (after removing same-pid, same-camid "
                         "items): nothing to rank")
    fr = first[valid]
    cmc = (fr[:, None] <= np.arange(1, max_rank + 1)[None, :]).mean(axis=0)
    return Ranking(cmc=cmc, mAP=float(np.nanmean(ap)), mINP=float(np.nanmean(inp)), valid=valid,
                   first_rank=first, ap=ap, inp=inp, n_true=n_true, n_kept=n_kept)


def _valid_counts(n_true, n_kept) -> tuple[np.ndarray, np.ndarray]:
    """(true matches, kept items) as floats, of the queries that have a true match."""
    m, n = np.asarray(n_true, dtype=float), np.asarray(n_kept, dtype=float)
    return m[m > 0], n[m > 0]


def chance_rank(n_true, n_kept, k: int = 1) -> float:
    """Expected Rank-k accuracy of a random ranking, averaged over valid queries.

    For a query with ``m`` true matches among ``n`` kept gallery items, the probability that a
    random order puts at least one of them in the top k is ``1 - C(n-m, k) / C(n, k)``
    (for k = 1: ``m / n``). Inputs are the per-query ``Ranking.n_true`` and ``Ranking.n_kept``.
    """
    m, n = _valid_counts(n_true, n_kept)
    if len(m) == 0:
        return float("nan")
    miss = np.ones_like(m)
    for i in range(k):  # product of (n-m-i)/(n-i): no true match among the first k draws
        miss *= np.clip(n - m - i, 0, None) / np.maximum(n - i, 1)
    return float(np.mean(1.0 - miss))


def chance_ap(n_true, n_kept) -> float:
    """Expected AP of a random ranking, averaged over valid queries (exact, Bestgen 2015 form:
    E[AP] = (1/n) * (m - 1)/(n - 1) * (n - H_n) + H_n / n, with H_n the n-th harmonic number)."""
    m, n = _valid_counts(n_true, n_kept)
    if len(m) == 0:
        return float("nan")
    h = digamma(n + 1) + np.euler_gamma  # harmonic number H_n
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(n > 1, ((m - 1) / np.maximum(n - 1, 1)) * (n - h) / n + h / n, 1.0)
    return float(np.mean(e))


def bootstrap_ci(values, n_boot: int = 1000, *, alpha: float = 0.05, seed: int = 0,
                 groups=None) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of per-query ``values``.

    ``groups`` (optional, one label per value): resample whole groups (e.g. identities) instead of
    single queries, which is honest when queries of one person are correlated. NaNs are dropped.
    Returns (low, high); (nan, nan) when there are no values or ``n_boot`` is 0.
    """
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    v = v[ok]
    if len(v) == 0 or n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if groups is None:
        idx = rng.integers(0, len(v), size=(n_boot, len(v)))
        means = v[idx].mean(axis=1)
    else:
        g = np.asarray(groups)[ok]
        labels, inv = np.unique(g, return_inverse=True)
        sums = np.bincount(inv, weights=v, minlength=len(labels))
        counts = np.bincount(inv, minlength=len(labels))
        pick = rng.integers(0, len(labels), size=(n_boot, len(labels)))
        means = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def privacy_level(rank1: float) -> str:
    """The project's privacy band of a Rank-1 accuracy given as a fraction in [0, 1]:
    < 0.10 'excellent', 0.10-0.25 'good', 0.25-0.50 'moderate', > 0.50 'poor'."""
    if rank1 is None or not np.isfinite(rank1):
        return "n/a"
    if not 0.0 <= rank1 <= 1.0:
        raise ValueError(f"rank1: expected a fraction in [0, 1], got {rank1}")
    if rank1 < 0.10:
        return "excellent"
    if rank1 < 0.25:
        return "good"
    if rank1 <= 0.50:
        return "moderate"
    return "poor"


def cosine_distmat(q_feats, g_feats) -> np.ndarray:
    """Cosine distance ``1 - q.g`` (range [0, 2]) between L2-normalized feature rows."""
    q = np.asarray(q_feats, dtype=np.float32)
    g = np.asarray(g_feats, dtype=np.float32)
    return 1.0 - q @ g.T


def euclidean_distmat(a, b) -> np.ndarray:
    """Euclidean distances (N, M) between the rows of a (N, D) and b (M, D), float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(d2, 0, None))


@dataclass
class Scored:
    """One scored ranking (:func:`score`): the summary ``row`` (Rank-1/5/10, mAP, mINP, CIs, chance,
    privacy level, counts, note), ``per_query`` arrays of the valid queries (``query`` index, ``pid``,
    ``first_rank``, ``ap``, ``inp``) and the full :class:`Ranking` (None when nothing could be ranked)."""

    row: dict
    per_query: dict
    result: Ranking | None = None


def score(distmat, q_pids, g_pids, q_camids, g_camids, *, n_boot: int = 1000, seed: int = 0,
          max_rank: int = 50) -> Scored:
    """Rank-1/5/10, mAP, mINP, bootstrap CIs over queries, chance levels and the privacy level of one
    distance matrix (all fractions in [0, 1]). A matrix where no query has a true match gives NaN
    metrics, privacy level 'n/a' and the reason as ``note``."""
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    base = {"n_gallery": int(distmat.shape[1]), "n_identities": int(len(np.intersect1d(q_pids, g_pids)))}
    try:
        r = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=max_rank)
    except ValueError as e:
        row = dict(base, rank1=np.nan, rank1_lo=np.nan, rank1_hi=np.nan, rank5=np.nan, rank10=np.nan,
                   mAP=np.nan, mAP_lo=np.nan, mAP_hi=np.nan, mINP=np.nan, chance_rank1=np.nan,
                   chance_mAP=np.nan, privacy_level="n/a", n_queries=0, note=str(e))
        empty = np.zeros(0)
        return Scored(row, {"query": empty.astype(int), "pid": empty, "first_rank": empty, "ap": empty, "inp": empty})
    v = r.valid
    hit1 = (r.first_rank[v] == 1).astype(float)
    lo, hi = bootstrap_ci(hit1, n_boot, seed=seed)
    mlo, mhi = bootstrap_ci(r.ap[v], n_boot, seed=seed)
    row = dict(base, rank1=r.rank(1), rank1_lo=lo, rank1_hi=hi, rank5=r.rank(5), rank10=r.rank(10),
               mAP=r.mAP, mAP_lo=mlo, mAP_hi=mhi, mINP=r.mINP,
               chance_rank1=chance_rank(r.n_true, r.n_kept, 1),
               chance_mAP=chance_ap(r.n_true, r.n_kept), privacy_level=privacy_level(r.rank(1)),
               n_queries=r.n_valid, n_identities=int(len(np.unique(q_pids[v]))), note="")
    per_query = {"query": np.flatnonzero(v), "pid": q_pids[v], "first_rank": r.first_rank[v], "ap": r.ap[v],
                 "inp": r.inp[v]}
    return Scored(row, per_query, r)
