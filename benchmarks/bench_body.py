"""Body methods end to end at 640x360: ``vidanon anonymize IN -o OUT --method M`` (decoding, person
detection, tracking, segmentation, pose for the avatar, the method, H.264 encoding, start-up included)
on Tears of Steel (640x360, two people in close-up) and on the first 300 frames of the Intel
one-by-one clip resized to 640x360 (people walking through the frame). Prints frames per second per
method and clip, and ends with the targets' lines (body methods >= 25 frames/s, the avatar >= 10).

    .venv/bin/python benchmarks/bench_body.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

BODY = ["body-blur", "body-pixelate", "body-solid", "silhouette"]


def _clip(key: str, folder: Path, frames: int | None) -> Path:
    from vidanon.io import data, video

    src = data.fetch(key)
    out = folder / f"{key}-640x360.mp4"
    info = video.probe(src)
    with video.VideoWriter(out, fps=info.fps, crf=12) as w:
        for _, rgb in video.read_frames(src, 0, frames):
            w.write(rgb if rgb.shape[:2] == (360, 640) else cv2.resize(rgb, (640, 360), interpolation=cv2.INTER_AREA))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per method and clip (best kept)")
    args = ap.parse_args(argv)

    from vidanon.io import video

    folder = Path(tempfile.mkdtemp(prefix="bench-body-"))
    clips = [_clip("tears-of-steel", folder, None), _clip("one-by-one", folder, 300)]
    rows = []
    for method in BODY + ["avatar"]:
        for clip in clips:
            n = video.probe(clip).n_frames
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "vidanon", "anonymize", str(clip), "-o",
                                str(folder / f"{method}-{clip.stem}.mp4"), "--method", method, "--overwrite"],
                               check=True, capture_output=True)
                best = min(best, time.perf_counter() - t0)
            rows.append((method, clip.stem, n, best))
            print(f"{method:14s} {clip.stem:28s} {n:4d} frames {best:6.1f} s  {n / best:6.1f} frames/s", flush=True)
    fps = {}
    for method, _, n, s in rows:
        a, b = fps.get(method, (0, 0.0))
        fps[method] = (a + n, b + s)
    body = min(fps[m][0] / fps[m][1] for m in BODY)
    slowest = min(BODY, key=lambda m: fps[m][0] / fps[m][1])
    avatar = fps["avatar"][0] / fps["avatar"][1]
    print(f"target body-methods-fps: {body:.1f} frames/s, slowest {slowest} (goal >= 25) {'met' if body >= 25 else 'missed'}")
    print(f"target avatar-fps: {avatar:.1f} frames/s (goal >= 10) {'met' if avatar >= 10 else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
