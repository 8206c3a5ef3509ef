"""Memory flat in video length: every stage on a 2-s clip and on the same clip looped 10 times, each
stage in a process of its own (the stages before it already computed), serial (one process): the
peak resident memory of the long run over that of the short one. Frames are streamed, so the ratio
should stay near 1 (goal: at most 1.2 for every stage).

    .venv/bin/python benchmarks/bench_memory.py [--seconds 2] [--loops 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

STAGES = ["anonymize", "crops", "reid", "faceid", "drift", "quality", "action"]

CHILD = """
import json, resource, sys
from pathlib import Path
from vidanon import stages
from vidanon.core.context import Context
from vidanon.io.data import load_params
params = load_params(sys.argv[1]); params.executor.workers = 1
stages.run_cached(Context(params, Path(sys.argv[2]), stages.FOLDER[sys.argv[3]]), sys.argv[3])
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _video(path: Path, frames, loops: int, fps: float) -> Path:
    from vidanon.io.video import VideoWriter

    with VideoWriter(path, fps=fps, crf=12) as w:
        for _ in range(loops):
            for rgb in frames:
                w.write(rgb)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="length of the short clip")
    ap.add_argument("--loops", type=int, default=10, help="times the long clip repeats the short one")
    ap.add_argument("--sample", default="tears-of-steel")
    args = ap.parse_args(argv)

    from vidanon.io import data, video

    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    src = data.fetch(args.sample)
    info = video.probe(src)
    frames = [rgb for _, rgb in video.read_frames(src, 0, int(args.seconds * info.fps))]
    gt = folder / "gt.yaml"
    gt.write_text(yaml.safe_dump({"clips": {c: {"persons": [{"pid": 1}]} for c in ("short", "long")}}))
    peaks = {}
    for name, loops in (("short", 1), ("long", args.loops)):
        clip = _video(folder / f"{name}.mp4", frames, loops, info.fps)
        params = {"name": name, "clips": [{"id": name, "path": str(clip)}], "ground_truth": str(gt),
                  "anonymize": {"methods": [{"name": m, "method": m} for m in ("face-blur", "body-solid", "avatar")]},
                  "reid": {"embedders": ["osnet_x0_25_msmt17"], "bootstrap": 50},
                  "executor": {"workers": 1}}
        pfile = folder / f"{name}.yaml"
        pfile.write_text(yaml.safe_dump(params))
        for stage in STAGES:
            out = subprocess.run([sys.executable, "-c", CHILD, str(pfile), str(folder / "root"), stage],
                                 capture_output=True, text=True)
            if out.returncode:
                print(out.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"stage {stage} failed on the {name} clip")
            peaks[(name, stage)] = json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]
            print(f"{name:5s} ({len(frames) * loops:4d} frames) {stage:9s} peak {peaks[(name, stage)]:7.0f} MB", flush=True)
    worst, worst_stage = 0.0, None
    print(f"\n{'stage':9s} {'short (MB)':>10s} {'long (MB)':>10s} {'ratio':>6s}")
    for stage in STAGES:
        r = peaks[("long", stage)] / peaks[("short", stage)]
        print(f"{stage:9s} {peaks[('short', stage)]:10.0f} {peaks[('long', stage)]:10.0f} {r:6.2f}")
        if r > worst:
            worst, worst_stage = r, stage
    print(f"target memory-flat: {worst:.2f}x at most, in {worst_stage} ({args.loops}x longer clip; goal <= 1.2x) "
          f"{'met' if worst <= 1.2 else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
