"""Per-frame cost of the quality and temporal metrics on real footage (Tears of Steel, 640x360).

Prints milliseconds per frame (or frame pair) and ratios: our masked SSIM against scikit-image's own
call (the overhead of the inside/outside split), and each metric's throughput against the clip's
real-time rate (24 fps). Run: `.venv/bin/python benchmarks/bench_quality.py [n_frames]`.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def timed(fn, reps):
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main(n: int = 10) -> None:
    from skimage.metrics import structural_similarity

    from vidanon.models.embed import perceptual
    from vidanon.io.data import fetch
    from vidanon.models.flow import optical_flow
    from vidanon.metrics import quality as qm, temporal as tm
    from vidanon.io.video import read_frames

    frames = [f for _, f in read_frames(fetch("tears-of-steel"), 0, n + 1)]
    a, b = frames[0], frames[1]
    region = np.zeros(a.shape[:2], bool)
    region[60:300, 200:440] = True
    fps = 24.0
    rows = []
    sk = timed(lambda: structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True,
                                             sigma=1.5, use_sample_covariance=False), n)
    ours = timed(lambda: qm.region_quality(a, b, region, 255.0), n)
    rows.append(("SSIM, scikit-image call", sk))
    rows.append(("PSNR+SSIM whole/in/out (region_quality)", ours))
    fw = optical_flow(a, b)
    bw = optical_flow(b, a)
    rows.append(("Farneback flow, both directions", timed(lambda: (optical_flow(a, b), optical_flow(b, a)), n)))
    valid = tm.non_occluded(fw, bw)
    rows.append(("occlusion check", timed(lambda: tm.non_occluded(fw, bw), n)))
    rows.append(("warping error (one version)", timed(lambda: tm.warping_error(a / 255.0, b / 255.0, fw, valid), n)))
    p = perceptual.get("mobilenet-feature")
    p.distance(a, b)  # warm-up
    rows.append((f"{p.name}, 1 pair", timed(lambda: p.distance(a, b), max(2, n // 2))))
    for name, s in rows:
        print(f"{name:45s} {1000 * s:8.1f} ms   {1 / s / fps:6.2f}x real time")
    print(f"ratio region_quality / scikit-image SSIM: {ours / sk:.2f} (3 SSIM means + 3 PSNRs from one SSIM map)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
