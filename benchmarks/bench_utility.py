"""Speed of the utility stage's parts on the CPU (or a GPU with --device cuda): per evaluated frame,
MediaPipe Pose per person box, the person detector and the evaluation face detector; per clip, the
MMAction2 recognizer (random weights: the timing is what counts, never the scores) with its
single-view ('val') and multi-view ('test') pipelines.

    VIDANON_DATA_DIR=../shared/data VIDANON_WEIGHTS_DIR=../shared/weights \
        .venv/bin/python benchmarks/bench_utility.py [--clip asl-help] [--frames 30] [--no-action]

Prints milliseconds per frame / per clip and the ratio of the whole utility pass to real time.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from vidanon.io import data
from vidanon.models import detect
from vidanon.core.params import ClipSpec, DetectSection

ACTION_CONFIGS = [
    "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py",
    "recognition/tsm/tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="asl-help", help="sample key (default asl-help, 640x480)")
    ap.add_argument("--frames", type=int, default=30, help="frames timed (default 30)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (person detector and recognizer)")
    ap.add_argument("--no-action", action="store_true", help="skip the MMAction2 timings")
    args = ap.parse_args()

    clip = data.open_clip(ClipSpec(id=args.clip, sample=args.clip, max_frames=args.frames))
    frames = [rgb for _, rgb in clip.frames()]
    d = DetectSection()
    person = detect.get_person_detector(d.person, device=args.device)
    face = detect.get_face_detector(d.face_eval)
    pose = detect.get_pose()
    times = {"person detector": [], "face detector (eval)": [], "pose per person": []}
    n_persons = 0
    for rgb in frames:
        t0 = time.perf_counter()
        boxes = person(rgb)
        t1 = time.perf_counter()
        face(rgb)
        t2 = time.perf_counter()
        if len(boxes):
            pose(rgb, boxes[:, :4])
        t3 = time.perf_counter()
        times["person detector"].append(t1 - t0)
        times["face detector (eval)"].append(t2 - t1)
        if len(boxes):
            times["pose per person"].append((t3 - t2) / len(boxes))
            n_persons += len(boxes)
    for obj in (face, pose):
        detect.close(obj)
    print(f"clip {args.clip}: {len(frames)} frames {clip.width}x{clip.height} @ {clip.fps:.1f} fps, "
          f"{n_persons} person boxes, device {args.device}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (a shared machine inflates every number)")
    for k, v in times.items():
        print(f"  {k:24s} {1000 * np.median(v):7.1f} ms (median)")
    per_frame = sum(np.median(v) for v in times.values() if v) if n_persons else 0.0
    print(f"  utility pass per frame   {1000 * per_frame:7.1f} ms = {per_frame * clip.fps:.2f}x real time "
          "(one person, one method)")
    if args.no_action:
        return
    from vidanon.models import mmaction as action

    full = data.open_clip(ClipSpec(id=args.clip, sample=args.clip))
    for cfg in ACTION_CONFIGS:
        for view in ("val", "test"):
            rec = action.Recognizer(cfg, device=args.device, view=view)  # random weights: timing only
            rec.predict(full.frames(), full.n_frames)  # warm-up
            t0 = time.perf_counter()
            rec.predict(full.frames(), full.n_frames)
            dt = time.perf_counter() - t0
            print(f"  MMAction2 {rec.name[:48]:48s} {view:4s} {dt:6.2f} s per clip ({full.n_frames} frames)")


if __name__ == "__main__":
    main()
