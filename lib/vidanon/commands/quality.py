"""Video quality and temporal consistency of an anonymized video against its original
(evaluation_vid_quality.py).

Frame by frame (every --stride-th frame, at most --max-frames evenly spaced): PSNR and SSIM (Wang's
settings, data range 255) and a perceptual distance under its real name (LPIPS(alex) when its
AlexNet backbone is on the machine or downloadable, else the MobileNetV2-ImageNet feature distance).
Over consecutive frame pairs: the warping error (Lai et al.) with optical flow of the ORIGINAL video
over non-occluded pixels (and the original's own error, so the excess is what the anonymization
adds), and tLP = |d(orig[t], orig[t+1]) - d(anon[t], anon[t+1])|. Both videos must have the same
frames (the anonymized one made from the original, e.g. by `vidanon anonymize`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "quality"
HELP = "PSNR/SSIM/perceptual and temporal metrics (warping error, tLP) of an anonymized video"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vidanon.core.params import default

    p.add_argument("--original", type=Path, required=True, help="the original video")
    p.add_argument("--anonymized", type=Path, required=True, help="the anonymized video (same frames)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="per-frame CSV to write; a JSON summary goes beside it (.json)")
    p.add_argument("--perceptual", default=default("quality.perceptual"), choices=["auto", "lpips-alex", "mobilenet-feature", "none"],
                   help="perceptual distance; 'auto' uses LPIPS(alex) when its backbone is available")
    p.add_argument("--lpips-backbone", default=None,
                   help="path of torchvision's alexnet-owt-7be5be79.pth for LPIPS")
    p.add_argument("--perceptual-max-side", type=int, default=default("quality.perceptual_max_side"),
                   help="perceptual distance on frames downscaled to this long side in pixels (0: native size)")
    p.add_argument("--max-side", type=int, default=default("quality.max_side"),
                   help="working size: frames with a longer side are compared (PSNR, SSIM, flow and warping error) "
                        "on copies scaled down to it, in pixels (0: native size)")
    p.add_argument("--stride", type=int, default=default("quality.frame_stride"), help="use every n-th frame (pairs are (t, t+1) at those t)")
    p.add_argument("--max-frames", type=int, default=default("quality.max_frames"),
                   help="at most this many evenly spaced frames (0: no limit)")
    p.add_argument("--overwrite", action="store_true", help="replace the CSV/JSON if they exist")


def evaluate(original: Path, anonymized: Path, *, perceptual=None, stride: int = 1, max_frames: int | None = None,
             perceptual_max_side: int | None = None, max_side: int | None = None):
    """Per-frame rows (PSNR, SSIM, perceptual, warping errors, tLP) of two videos with the same frames;
    frames longer than ``max_side`` (the working size) are compared on copies scaled down to it."""
    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm

    from vidanon.models.flow import optical_flow
    from vidanon.metrics import quality as qm, temporal as tm
    from vidanon.core.versions import frame_stride
    from vidanon.io.video import read_lockstep
    from vidanon.io.video import downscale
    from vidanon.io.video import probe

    a, b = probe(original), probe(anonymized)
    even = (a.width + a.width % 2, a.height + a.height % 2)  # the H.264 writer pads odd sizes
    if a.n_frames != b.n_frames or (b.width, b.height) not in {(a.width, a.height), even}:
        raise DataError(f"{anonymized}: {b.n_frames} frames of {b.width}x{b.height}, but {original} has "
                        f"{a.n_frames} of {a.width}x{a.height}; the anonymized video must hold the same frames")
    step = frame_stride(a.n_frames, stride, max_frames)
    rows, prev = [], None
    for t, (o, n) in tqdm(read_lockstep([original, anonymized], a.n_frames), total=a.n_frames, desc="quality",
                          leave=False):
        dd = None
        n = n[:o.shape[0], :o.shape[1]]  # the H.264 writer pads an odd size by one pixel
        if prev is not None or t % step == 0:  # only frames that are measured: at the working size
            o, n = downscale(o, max_side), downscale(n, max_side)
        if prev is not None:  # the pair (t-1, t): temporal metrics
            o0, n0 = prev
            fw, bw = optical_flow(o0, o), optical_flow(o, o0)
            valid = tm.non_occluded(fw, bw)
            row = rows[-1]
            row["warp_error"] = tm.warping_error(n0 / 255.0, n / 255.0, fw, valid)
            row["warp_error_original"] = tm.warping_error(o0 / 255.0, o / 255.0, fw, valid)
            if perceptual is not None:  # one batch: d(o0, o), d(n0, n), d(o, n)
                sm = np.stack([downscale(x, perceptual_max_side) for x in (o0, n0, o, n)])
                dd = perceptual.distances(sm, [(0, 2), (1, 3), (2, 3)])
                row["tlp"] = float(tm.tlp(dd[:1], dd[1:2])[0])
        prev = None
        if t % step:
            continue
        row = {"frame": t, "psnr": qm.psnr(o, n, 255.0), "ssim": qm.ssim(o, n, 255.0)}
        if perceptual is not None:
            row["perceptual"] = float(dd[2]) if dd is not None else float(
                perceptual.distance(downscale(o, perceptual_max_side), downscale(n, perceptual_max_side))[0])
        rows.append(row)
        prev = (o, n) if t + 1 < a.n_frames else None
    return pd.DataFrame(rows)


def run(args) -> int:
    import numpy as np

    from vidanon.models.embed import perceptual
    from vidanon.core.atomic import atomic_path, write_text
    from vidanon.metrics.quality import working_size_label
    from vidanon.stages.quality import perceptual_label

    if args.stride < 1 or args.max_frames < 0:
        raise VidanonError("--stride must be >= 1 and --max-frames >= 0")
    out = args.output
    if out is not None:
        for p in (out, out.with_suffix(".json")):
            if p.exists() and not args.overwrite:
                raise VidanonError(f"{p} exists; pass --overwrite to replace it")
    for p in (args.original, args.anonymized):
        if not p.is_file():
            raise DataError(f"{p}: no such video file")
    from vidanon.io.video import probe

    for p in (args.original, args.anonymized):  # an unreadable input fails before any model loads
        probe(p)
    perc = None if args.perceptual == "none" else perceptual.get(args.perceptual, backbone=args.lpips_backbone)
    df = evaluate(args.original, args.anonymized, perceptual=perc, stride=args.stride,
                  max_frames=args.max_frames or None, perceptual_max_side=args.perceptual_max_side or None,
                  max_side=args.max_side or None)
    src = probe(args.original)
    scaled = bool(args.max_side) and max(src.width, src.height) > args.max_side
    summary = {"original": str(args.original), "anonymized": str(args.anonymized), "frames": len(df),
               "compared_at": working_size_label(args.max_side if scaled else None),
               "perceptual_metric": perceptual_label(perc, args.perceptual_max_side or None)}
    for c in df.columns.drop("frame"):
        v = df[c].to_numpy(float)
        v = v[np.isfinite(v)]
        summary[c] = float(v.mean()) if v.size else None
    # identical frames have PSNR = inf; the mean above is over the others
    summary["identical_frames"] = int(np.isinf(df["psnr"].to_numpy(float)).sum())
    if summary.get("warp_error") is not None:
        summary["warp_error_excess"] = summary["warp_error"] - summary["warp_error_original"]
    if out is not None:
        with atomic_path(out) as tmp:
            df.to_csv(tmp, index=False)
        write_text(out.with_suffix(".json"), json.dumps(summary, indent=2))
    print(f"{args.anonymized} vs {args.original}: {len(df)} frames")
    for k in ("psnr", "ssim", "perceptual", "warp_error", "warp_error_original", "warp_error_excess", "tlp"):
        if summary.get(k) is not None:
            name = f" ({summary['perceptual_metric']})" if k in ("perceptual", "tlp") else ""
            print(f"  {k:20s} {summary[k]:.5g}{name}")
    if out is not None:
        print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0
