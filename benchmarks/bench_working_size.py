"""Detector working sizes against today's detections: YOLOv5n person detection at 320, 416 and 640
(today's default) and CenterFace at detection scales 1.0 (today's), 0.75 and 0.5, on every frame of
the default params' clips. Prints, per clip and pooled, the time per frame and the RECALL of today's
detections (a today's box found again at IoU >= 0.5 by the cheaper setting), then the rule vidanon
uses to size the person detector to the footage (``detect.person.input_size: auto``).

    .venv/bin/python benchmarks/bench_working_size.py [--params params/default.yaml] [--every 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--every", type=int, default=1, help="use every n-th frame of each clip")
    ap.add_argument("--min-height", type=int, default=24, help="persons shorter than this (px) are not counted")
    args = ap.parse_args(argv)

    from vidanon.io import data
    from vidanon.metrics.detection import match_boxes
    from vidanon.models import detect
    from vidanon.core.params import DetectorSpec

    params = data.load_params(args.params)
    yolo = {s: detect.get_person_detector(DetectorSpec(backend="yolov5-onnx", weights="yolov5n.onnx",
                                                       threshold=0.35, input_size=s)) for s in (640, 416, 320)}
    from vidanon.models.detect.centerface import CenterFace

    cf = {s: CenterFace(threshold=0.2, scale=s) for s in (1.0, 0.75, 0.5)}
    rows = []
    for spec in params.clips:
        clip = data.open_clip(spec)
        times = {k: 0.0 for k in [f"yolo{s}" for s in yolo] + [f"cf{s}" for s in cf]}
        found = {k: [0, 0] for k in times}
        n = 0
        for t, rgb in clip.frames(args.every):
            n += 1
            ref_p = ref_f = None
            for s, det in yolo.items():
                t0 = time.perf_counter()
                b = det(rgb)
                times[f"yolo{s}"] += time.perf_counter() - t0
                b = b[(b[:, 3] - b[:, 1]) >= args.min_height]
                if ref_p is None:
                    ref_p = b
                m = len(match_boxes(ref_p[:, :4], b[:, :4], 0.5)[0]) if len(ref_p) and len(b) else 0
                found[f"yolo{s}"][0] += m
                found[f"yolo{s}"][1] += len(ref_p)
            for s, det in cf.items():
                t0 = time.perf_counter()
                b = det(rgb)
                times[f"cf{s}"] += time.perf_counter() - t0
                if ref_f is None:
                    ref_f = b
                m = len(match_boxes(ref_f[:, :4], b[:, :4], 0.5)[0]) if len(ref_f) and len(b) else 0
                found[f"cf{s}"][0] += m
                found[f"cf{s}"][1] += len(ref_f)
        for k in times:
            rows.append({"clip": clip.id, "size": f"{clip.width}x{clip.height}", "setting": k, "frames": n,
                         "ms_per_frame": 1000 * times[k] / max(n, 1), "matched": found[k][0], "reference": found[k][1]})
    df = pd.DataFrame(rows)
    df["recall"] = df["matched"] / df["reference"].where(df["reference"] > 0)
    with pd.option_context("display.width", 160, "display.max_rows", 500):
        print(df.pivot_table(index=["clip", "size"], columns="setting", values="recall", sort=False).round(3))
        print()
        print(df.pivot_table(index=["clip", "size"], columns="setting", values="ms_per_frame", sort=False).round(1))
    tot = df.groupby("setting", sort=False)[["matched", "reference", "frames"]].sum()
    ms = df.groupby("setting", sort=False).apply(lambda g: (g["ms_per_frame"] * g["frames"]).sum() / g["frames"].sum())
    print("\npooled: recall of today's detections and ms per frame")
    for k in tot.index:
        print(f"  {k:9s} recall {tot.loc[k, 'matched'] / max(tot.loc[k, 'reference'], 1):.3f}   {ms[k]:6.1f} ms/frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
