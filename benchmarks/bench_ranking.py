"""Ranking speed: vidanon.metrics.ranking.evaluate_rank vs torchreid's evaluate_rank.

Ranks and scores an N x N random distance matrix (default 10,000 x 10,000, 1,000 identities,
6 cameras) with both and prints their times, the speed ratio and the largest difference.
Usage: python benchmarks/bench_ranking.py [--n 10000] [--ids 1000] [--skip-torchreid]
"""

import argparse
import time
import warnings

import numpy as np

from vidanon.metrics.ranking import evaluate_rank


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="queries = gallery items")
    ap.add_argument("--ids", type=int, default=1_000, help="number of identities")
    ap.add_argument("--skip-torchreid", action="store_true", help="time vidanon only")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    d = rng.random((args.n, args.n), dtype=np.float32)
    qp, gp = rng.integers(0, args.ids, args.n), rng.integers(0, args.ids, args.n)
    qc, gc = rng.integers(0, 6, args.n), rng.integers(0, 6, args.n)

    t = time.perf_counter()
    r = evaluate_rank(d, qp, gp, qc, gc, max_rank=50)
    ours = time.perf_counter() - t
    print(f"vidanon  evaluate_rank {args.n} x {args.n}: {ours:7.2f} s  "
          f"(R1 {r.cmc[0]:.4f} mAP {r.mAP:.4f} mINP {r.mINP:.4f}, {r.n_valid} valid queries)")
    if args.skip_torchreid:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torchreid.reid.metrics.rank import IS_CYTHON_AVAI, evaluate_rank as tr_rank
    t = time.perf_counter()
    cmc, m_ap = tr_rank(d, qp, gp, qc, gc, max_rank=50)
    theirs = time.perf_counter() - t
    impl = "Cython" if IS_CYTHON_AVAI else "Python (its Cython extension is not built)"
    print(f"torchreid evaluate_rank [{impl}]: {theirs:7.2f} s  (R1 {cmc[0]:.4f} mAP {m_ap:.4f})")
    print(f"ratio torchreid / vidanon: {theirs / ours:.1f}x faster; "
          f"max |CMC diff| {np.abs(cmc - r.cmc).max():.2e}, |mAP diff| {abs(m_ap - r.mAP):.2e}")
    ratio = theirs / ours
    print(f"target ranking-vs-torchreid: {ratio:.1f}x at {args.n} x {args.n} (goal >= 20x) "
          f"{'met' if ratio >= 20 else 'missed'}")


if __name__ == "__main__":
    main()
