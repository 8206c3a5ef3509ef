"""Frames per second of DeepPrivacy2 through vidanon's adapter, per DP2 anonymizer config, on this machine.

    <python that has DeepPrivacy2> benchmarks/bench_dp2.py [--frames 6] [--clip tears-of-steel]
        [--configs face FB_cse FB_cse_mask_face] [--detections dp2|scene]

For each config the adapter (vidanon.anonymize.deepprivacy2) is built once (not timed), anonymizes one
warm-up frame (not timed), then ``--frames`` frames of the sample clip at its own resolution (Tears of Steel
from frame 56: 640x360, 2-3 persons and faces a frame); vidanon's
scene of those frames (its tracks give the latents) is analysed first. Prints one line per config,
``dp2 <config>: <fps> frames/s (<n> frames, <WxH>)``, and how the time splits: DP2's detectors per frame,
its generators (with the pasting) per detection. Without DeepPrivacy2 it says so and exits 0 (``make
benchmark`` runs it with the project's venv, which has none; see the adapter's docstring to install it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

CONFIGS = {  # name -> (adapter part, config relative to the deep_privacy2 clone)
    "face": ("face", "configs/anonymizers/face.py"),
    "FB_cse": ("body", "configs/anonymizers/FB_cse.py"),
    "FB_cse_mask_face": ("body", "configs/anonymizers/FB_cse_mask_face.py"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=6, help="timed frames per config (after one warm-up frame)")
    ap.add_argument("--clip", default="tears-of-steel", help="sample key (vidanon.io.data)")
    ap.add_argument("--start", type=int, default=56, help="first frame (Tears of Steel: 2-3 persons and faces from 56)")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--detections", default="dp2", choices=["dp2", "scene"],
                    help="the adapter's detections option: DP2's own detectors, or vidanon's regions")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)

    from vidanon.anonymize import deepprivacy2 as dp2a
    from vidanon.core.errors import BackendUnavailable, VidanonError

    try:
        dp2a._require()
    except BackendUnavailable as e:
        missing = str(e).split("Missing here: ")[-1]
        print(f"dp2: skipped: DeepPrivacy2 is not importable with {sys.executable} (missing: {missing})")
        return 0

    import torch

    from vidanon.core.params import ClipSpec, Params
    from vidanon.io import data
    from vidanon.io.video import read_frames
    from vidanon.scene import analyze

    n = args.frames + 1
    params = Params(name="bench-dp2", clips=[ClipSpec(id=args.clip, sample=args.clip, start=args.start, max_frames=n)])
    try:
        clip = data.open_clip(params.clips[0])
    except VidanonError as e:
        print(f"dp2: skipped: sample {args.clip!r} not available ({e})")
        return 0
    frames = [rgb for _, rgb in read_frames(clip.path, clip.start, clip.start + n)]
    with tempfile.TemporaryDirectory() as tmp:
        scene = analyze(clip, params, Path(tmp), None)
    h, w = frames[0].shape[:2]
    random = os.environ.get("VIDANON_DP2_RANDOM_WEIGHTS") == "1"
    print(f"DeepPrivacy2 {dp2a.DP2_COMMIT[:7]}, torch {torch.__version__} on {'cuda' if torch.cuda.is_available() else 'cpu'} "
          f"({torch.get_num_threads()} threads), detections={args.detections}"
          + (", RANDOM weights (same compute, meaningless pixels)" if random else ""), flush=True)
    print(f"scene: {len(scene.persons)} person rows, {len(scene.faces)} face rows over {len(frames)} frames", flush=True)
    for name in args.configs:
        part, config = CONFIGS[name]
        a = dp2a.DeepPrivacy2(part=part, config=config, detections=args.detections)
        t0 = time.perf_counter()
        try:
            a.prepare(frames, scene)
        except BackendUnavailable as e:
            print(f"dp2 {name}: skipped: {e}")
            continue
        build = time.perf_counter() - t0
        a.apply(frames[0], 0, scene)  # warm-up
        a.timings.update(frames=0, detections=0, detect_s=0.0, generate_s=0.0)
        t0, c0 = time.perf_counter(), time.process_time()
        for t, rgb in enumerate(frames[1:], start=1):
            a.apply(rgb, t, scene)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        k = a.timings
        print(f"dp2 {name}: {k['frames'] / secs:.3f} frames/s ({k['frames']} frames, {w}x{h})", flush=True)
        print(f"  {secs / k['frames']:.1f} s/frame wall, {cpu / k['frames']:.1f} s/frame CPU time (all threads; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
        per_det = f"{k['generate_s'] / k['detections'] * 1e3:.0f} ms per detection" if k["detections"] else "no detection"
        print(f"  detectors {k['detect_s'] / k['frames'] * 1e3:.0f} ms/frame, generators {per_det} "
              f"({k['detections'] / k['frames']:.1f} detections/frame), build {build:.0f} s", flush=True)
        del a
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
