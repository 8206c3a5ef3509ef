"""Ranking metrics against torchreid's reference implementation (Market-1501 protocol)."""

import warnings

import numpy as np
import pytest

from vidanon.metrics import ranking

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torchreid warns that its Cython evaluator is not built
    from torchreid.reid.metrics.rank import evaluate_rank as tr_evaluate_rank


def _random_case(seed, nq=60, ng=200, n_ids=15, n_cams=3):
    rng = np.random.default_rng(seed)
    d = rng.random((nq, ng)).astype(np.float32)
    return (d, rng.integers(0, n_ids, nq), rng.integers(0, n_ids, ng),
            rng.integers(0, n_cams, nq), rng.integers(0, n_cams, ng))


def _agw_minp(distmat, q_pids, g_pids, q_camids, g_camids):
    """mINP written out as the AGW reference (ReID-Survey tools/eval_metrics.py) does, per query."""
    indices = np.argsort(distmat, axis=1)
    matches = (g_pids[indices] == q_pids[:, None]).astype(np.int32)
    inps = []
    for i in range(len(q_pids)):
        order = indices[i]
        remove = (g_pids[order] == q_pids[i]) & (g_camids[order] == q_camids[i])
        orig = matches[i][~remove]
        if not orig.any():
            continue
        cmc = orig.cumsum()
        last = np.max(np.where(orig == 1))
        inps.append(cmc[last] / (last + 1.0))
    return float(np.mean(inps))


@pytest.mark.parametrize("seed", range(5))
def test_equals_torchreid_on_random_matrices(seed):
    d, qp, gp, qc, gc = _random_case(seed)
    ref_cmc, ref_map = tr_evaluate_rank(d, qp, gp, qc, gc, max_rank=50, use_cython=False)
    r = ranking.evaluate_rank(d, qp, gp, qc, gc, max_rank=50, block_elements=1000)  # several blocks
    np.testing.assert_allclose(r.cmc, ref_cmc, atol=1e-6)
    assert r.mAP == pytest.approx(ref_map, abs=1e-9)
    assert r.mINP == pytest.approx(_agw_minp(d, qp, gp, qc, gc), abs=1e-9)


def test_ties_rank_as_torchreid():
    rng = np.random.default_rng(7)
    d = rng.integers(0, 4, (40, 30)).astype(np.float32)  # many exact ties
    qp, gp = rng.integers(0, 5, 40), rng.integers(0, 5, 30)
    qc, gc = rng.integers(0, 2, 40), rng.integers(0, 2, 30)
    ref_cmc, ref_map = tr_evaluate_rank(d, qp, gp, qc, gc, max_rank=10, use_cython=False)
    r = ranking.evaluate_rank(d, qp, gp, qc, gc, max_rank=10)
    np.testing.assert_allclose(r.cmc, ref_cmc, atol=1e-6)
    assert r.mAP == pytest.approx(ref_map, abs=1e-9)


def test_small_gallery_and_skipped_queries():
    # query 2 has pid 9, absent from the gallery: skipped, as torchreid does
    d = np.array([[0.1, 0.5, 0.3], [0.4, 0.2, 0.9], [0.3, 0.3, 0.3]])
    qp, gp = np.array([1, 2, 9]), np.array([1, 2, 1])
    qc, gc = np.array([0, 0, 0]), np.array([1, 1, 0])
    r = ranking.evaluate_rank(d, qp, gp, qc, gc)
    # torchreid itself fails here: query 0 keeps 2 of the 3 gallery items, so its per-query CMC rows have
    # unequal lengths, which numpy 2 refuses to stack (issue 18, item 6)
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr_evaluate_rank(d, qp, gp, qc, gc, max_rank=50, use_cython=False)
    assert len(r.cmc) == 3 and r.n_valid == 2
    np.testing.assert_allclose(r.cmc, [1, 1, 1])
    assert r.mAP == pytest.approx(1.0)
    assert list(r.first_rank) == [1, 1, 0]
    # query 0: its same-camid twin (gallery 2) is removed, so only 2 items are kept
    assert list(r.n_kept) == [2, 3, 3]


def test_errors():
    with pytest.raises(ValueError, match="no query identity"):
        ranking.evaluate_rank(np.zeros((2, 2)), [1, 2], [3, 4], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="g_pids"):
        ranking.evaluate_rank(np.zeros((2, 3)), [1, 2], [1, 2], [0, 0], [0, 0, 0])
    with pytest.raises(ValueError, match="2-D"):
        ranking.evaluate_rank(np.zeros(3), [1], [1], [0], [0])


def test_chance_levels_match_simulation():
    rng = np.random.default_rng(0)
    n_true, n_kept = np.array([1, 3, 5]), np.array([10, 12, 20])
    sims_r1, sims_r5, sims_ap = [], [], []
    for _ in range(4000):
        r1, r5, aps = [], [], []
        for m, n in zip(n_true, n_kept):
            hits = np.zeros(n, bool)
            hits[rng.choice(n, m, replace=False)] = True
            r1.append(hits[0])
            r5.append(hits[:5].any())
            aps.append((np.cumsum(hits) / np.arange(1, n + 1))[hits].mean())
        sims_r1.append(np.mean(r1)), sims_r5.append(np.mean(r5)), sims_ap.append(np.mean(aps))
    assert ranking.chance_rank(n_true, n_kept, 1) == pytest.approx(np.mean([0.1, 0.25, 0.25]))
    assert ranking.chance_rank(n_true, n_kept, 5) == pytest.approx(np.mean(sims_r5), abs=0.01)
    assert ranking.chance_ap(n_true, n_kept) == pytest.approx(np.mean(sims_ap), abs=0.01)


def test_bootstrap_ci_brackets_mean():
    v = np.r_[np.ones(30), np.zeros(70)]
    lo, hi = ranking.bootstrap_ci(v, n_boot=500, seed=1)
    assert lo < 0.3 < hi and 0.15 < lo and hi < 0.45
    glo, ghi = ranking.bootstrap_ci(v, n_boot=500, groups=np.repeat(np.arange(10), 10))
    assert glo <= 0.3 <= ghi and (ghi - glo) > (hi - lo)  # 10 clustered identities: wider
    assert np.isnan(ranking.bootstrap_ci([], n_boot=10)[0])


@pytest.mark.parametrize("r1, band", [(0.0, "excellent"), (0.099, "excellent"), (0.10, "good"),
                                      (0.2, "good"), (0.25, "moderate"), (0.5, "moderate"),
                                      (0.51, "poor"), (1.0, "poor")])
def test_privacy_level(r1, band):
    assert ranking.privacy_level(r1) == band


def test_privacy_level_rejects_percent():
    with pytest.raises(ValueError, match="fraction"):
        ranking.privacy_level(42.0)
