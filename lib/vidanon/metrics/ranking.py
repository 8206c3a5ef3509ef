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

    The per-query arrays have one entry per query (for bootstrapping and per-identity breakdowns).

    Attributes
    ----------
    cmc : (max_rank,) ndarray of float
        ``cmc[k-1]`` is the Rank-k accuracy, a fraction in [0, 1] of the valid queries.
    mAP : float
        Mean average precision over the valid queries, in [0, 1].
    mINP : float
        Mean inverse negative penalty (AGW paper) over the valid queries, in [0, 1].
    valid : (Q,) ndarray of bool
        The query has a true match left after the same-pid, same-camid removal.
    first_rank : (Q,) ndarray of int
        1-based rank of the query's first true match among the kept gallery items; 0 when not
        valid.
    ap : (Q,) ndarray of float
        Average precision in [0, 1]; NaN when not valid.
    inp : (Q,) ndarray of float
        Inverse negative penalty in [0, 1]; NaN when not valid.
    n_true : (Q,) ndarray of int
        True matches kept.
    n_kept : (Q,) ndarray of int
        Gallery items kept.
    n_valid : int
        Number of valid queries.
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
        """Number of valid queries (those with a true match left after removal).

        Returns
        -------
        n : int
            Count of ``True`` in ``valid``.
        """
        return int(self.valid.sum())

    def rank(self, k: int) -> float:
        """Rank-k accuracy: fraction of valid queries whose first true match is within the top k.

        Parameters
        ----------
        k : int
            Rank, >= 1; a k beyond the CMC curve's length gives its last value.

        Returns
        -------
        acc : float
            Fraction in [0, 1].
        """
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
    distmat : (num_query, num_gallery) array_like
        Distances, smaller = more similar (any real dtype).
    q_pids : (num_query,) array_like of int
        Identity labels of the queries.
    g_pids : (num_gallery,) array_like of int
        Identity labels of the gallery items.
    q_camids : (num_query,) array_like
        Camera / segment labels of the queries; gallery items with the same pid AND the same camid
        as the query are removed.
    g_camids : (num_gallery,) array_like
        Camera / segment labels of the gallery items.
    max_rank : int, optional
        Length of the CMC curve (reduced to num_gallery when the gallery is smaller). Default 50.
    block_elements : int, optional
        Memory bound: queries are ranked in blocks of about this many matrix cells. Default
        4,000,000.

    Returns
    -------
    result : Ranking
        CMC curve, mAP, mINP and the per-query arrays.

    Raises
    ------
    ValueError
        If ``distmat`` is not 2-D or is empty, for mismatched lengths, and when no query has a true
        match in the gallery (where torchreid asserts).
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
    (for k = 1: ``m / n``).

    Parameters
    ----------
    n_true : (Q,) array_like of int
        True matches kept per query (``Ranking.n_true``); queries with 0 are left out.
    n_kept : (Q,) array_like of int
        Gallery items kept per query (``Ranking.n_kept``).
    k : int, optional
        Rank. Default 1.

    Returns
    -------
    chance : float
        Fraction in [0, 1]; NaN when no query has a true match.
    """
    m, n = _valid_counts(n_true, n_kept)
    if len(m) == 0:
        return float("nan")
    miss = np.ones_like(m)
    for i in range(k):  # product of (n-m-i)/(n-i): no true match among the first k draws
        miss *= np.clip(n - m - i, 0, None) / np.maximum(n - i, 1)
    return float(np.mean(1.0 - miss))


def chance_ap(n_true, n_kept) -> float:
    """Expected AP of a random ranking, averaged over valid queries.

    Exact, Bestgen 2015 form: ``E[AP] = (1/n) * (m - 1)/(n - 1) * (n - H_n) + H_n / n``, with
    ``m`` true matches among ``n`` kept items and ``H_n`` the n-th harmonic number (1 when n = 1).

    Parameters
    ----------
    n_true : (Q,) array_like of int
        True matches kept per query (``Ranking.n_true``); queries with 0 are left out.
    n_kept : (Q,) array_like of int
        Gallery items kept per query (``Ranking.n_kept``).

    Returns
    -------
    chance : float
        Expected AP in [0, 1]; NaN when no query has a true match.
    """
    m, n = _valid_counts(n_true, n_kept)
    if len(m) == 0:
        return float("nan")
    h = digamma(n + 1) + np.euler_gamma  # harmonic number H_n
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(n > 1, ((m - 1) / np.maximum(n - 1, 1)) * (n - h) / n + h / n, 1.0)
    return float(np.mean(e))


def bootstrap_ci(values, n_boot: int = 1000, *, alpha: float = 0.05, seed: int = 0,
                 groups=None) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of per-query values.

    Parameters
    ----------
    values : (Q,) array_like of float
        Per-query values (e.g. 1/0 Rank-1 hits or APs); NaNs are dropped.
    n_boot : int, optional
        Number of bootstrap resamples; 0 gives (nan, nan). Default 1000.
    alpha : float, optional
        Two-sided error rate in (0, 1): the interval runs from the ``alpha / 2`` to the
        ``1 - alpha / 2`` quantile. Default 0.05, a 95% interval.
    seed : int, optional
        Seed of numpy's ``default_rng``. Default 0.
    groups : (Q,) array_like, optional
        One label per value: resample whole groups (e.g. identities) instead of single queries,
        which is honest when queries of one person are correlated. None (default): single queries.

    Returns
    -------
    low : float
        Lower bound, in the unit of ``values``; NaN when there are no values or ``n_boot`` is 0.
    high : float
        Upper bound; NaN in the same cases.
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
    """The project's privacy band of a Rank-1 accuracy.

    Bands: < 0.10 'excellent', 0.10-0.25 'good', 0.25-0.50 'moderate', > 0.50 'poor'
    (0.10 is 'good', 0.25 and 0.50 are 'moderate').

    Parameters
    ----------
    rank1 : float or None
        Rank-1 accuracy as a fraction in [0, 1]; None, NaN or inf give 'n/a'.

    Returns
    -------
    level : str
        ``'excellent'``, ``'good'``, ``'moderate'``, ``'poor'`` or ``'n/a'``.

    Raises
    ------
    ValueError
        If ``rank1`` is finite but outside [0, 1] (e.g. a percentage).
    """
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
    """Cosine distance ``1 - q.g`` between L2-normalized feature rows.

    Parameters
    ----------
    q_feats : (Q, D) array_like of float
        Query features, rows of unit L2 norm (not checked).
    g_feats : (G, D) array_like of float
        Gallery features, rows of unit L2 norm (not checked).

    Returns
    -------
    d : (Q, G) ndarray of float32
        Cosine distances, range [0, 2] for unit rows (not clipped).
    """
    q = np.asarray(q_feats, dtype=np.float32)
    g = np.asarray(g_feats, dtype=np.float32)
    return 1.0 - q @ g.T


def euclidean_distmat(a, b) -> np.ndarray:
    """Euclidean distances between the rows of two arrays.

    Parameters
    ----------
    a : (N, D) array_like of float
        First set of rows.
    b : (M, D) array_like of float
        Second set of rows.

    Returns
    -------
    d : (N, M) ndarray of float64
        Distance of ``a[i]`` and ``b[j]``, in the unit of the features.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(d2, 0, None))


@dataclass
class Scored:
    """One scored ranking (:func:`score`).

    Attributes
    ----------
    row : dict
        The summary row: Rank-1/5/10, mAP, mINP, CIs, chance, privacy level, counts, note.
    per_query : dict of str to ndarray
        Arrays of the valid queries: ``query`` (index), ``pid``, ``first_rank``, ``ap``, ``inp``.
    result : Ranking or None
        The full :class:`Ranking`; None when nothing could be ranked.
    """

    row: dict
    per_query: dict
    result: Ranking | None = None


def score(distmat, q_pids, g_pids, q_camids, g_camids, *, n_boot: int = 1000, seed: int = 0,
          max_rank: int = 50) -> Scored:
    """Rank-1/5/10, mAP, mINP, bootstrap CIs, chance levels and privacy level of one distance matrix.

    All accuracies are fractions in [0, 1]. A matrix where no query has a true match (or any other
    ValueError of :func:`evaluate_rank`, e.g. mismatched lengths) gives NaN metrics, privacy level
    'n/a' and the reason as ``note``.

    Parameters
    ----------
    distmat : (num_query, num_gallery) ndarray
        Distances, smaller = more similar.
    q_pids : (num_query,) array_like of int
        Identity labels of the queries.
    g_pids : (num_gallery,) array_like of int
        Identity labels of the gallery items.
    q_camids : (num_query,) array_like
        Camera / segment labels of the queries (same pid AND camid gallery items are removed).
    g_camids : (num_gallery,) array_like
        Camera / segment labels of the gallery items.
    n_boot : int, optional
        Bootstrap resamples for the Rank-1 and mAP intervals (0: NaN intervals). Default 1000.
    seed : int, optional
        Seed of the bootstrap. Default 0.
    max_rank : int, optional
        Length of the CMC curve. Default 50.

    Returns
    -------
    scored : Scored
        ``row`` with ``n_gallery``, ``n_identities``, ``rank1`` (``rank1_lo``, ``rank1_hi``: 95%
        CI), ``rank5``, ``rank10``, ``mAP`` (``mAP_lo``, ``mAP_hi``), ``mINP``, ``chance_rank1``,
        ``chance_mAP``, ``privacy_level``, ``n_queries`` and ``note``; the per-query arrays; the
        :class:`Ranking` (None on failure).
    """
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
