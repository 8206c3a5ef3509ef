"""Cost against resolution: Tears of Steel (640x360, two people in close-up) upscaled to 1280x720,
1920x1080 and 3840x2160, through ``vidanon anonymize`` (face-blur, body-solid) and ``vidanon quality``
(original against the face-blur output). The cost per frame is the marginal one, (t(long) - t(short)) /
(extra frames), from a short and a long clip of each size, so that start-up and model loading (the same
at every size) do not flatter the large sizes. Ends with one target line per size and command: per-frame
time at 1080p at most 1.5x that at 720p, at 4K at most 4x.

    .venv/bin/python benchmarks/bench_resolution.py [--short 4] [--long 124] [--repeat 3] [--commands ...]
        [--peer CHECKOUT]   # e.g. git worktree add /tmp/peer <commit>
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}
GOALS = {"1080p": 1.5, "4k": 4.0}
COMMANDS = ("face-blur", "body-solid", "quality")


def _clip(folder: Path, size: tuple[int, int], frames: int) -> Path:
    from vidanon.io import data, video

    src = data.fetch("tears-of-steel")
    out = folder / f"tos-{size[0]}x{size[1]}-{frames}.mp4"
    with video.VideoWriter(out, fps=video.probe(src).fps, crf=12) as w:
        for _, rgb in video.read_frames(src, 60, 60 + frames):  # from 2.5 s: both faces in view
            w.write(cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC))
    return out


def _time(args: list[str], lib: Path | None = None) -> float:
    env = dict(os.environ, PYTHONPATH=str(lib)) if lib else None  # a peer's package first on the path
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vidanon", *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def _run(command: str, clip: Path, folder: Path, lib: Path | None = None) -> float:
    out = folder / f"{command}-{clip.stem}"
    if command == "quality":
        blurred = folder / f"face-blur-{clip.stem}.mp4"  # written by the face-blur run before
        if not blurred.is_file():
            _run("face-blur", clip, folder)
        return _time(["quality", "--original", str(clip), "--anonymized", str(blurred), "-o", str(out) + ".csv",
                      "--max-frames", "0", "--overwrite"], lib)
    return _time(["anonymize", str(clip), "-o", str(out) + ".mp4", "--method", command, "--overwrite"], lib)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=4, help="frames of the short clip")
    # 120 extra frames and 3 runs: with 60 and 2, the start-up's noise (about half a second a run) still
    # moved the 720p body-solid cost between 41 and 70 ms a frame from one run of the benchmark to the next
    ap.add_argument("--long", type=int, default=124, help="frames of the long clip (at most 180: the sample has 240 from frame 60)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command and clip (the fastest counts)")
    ap.add_argument("--commands", nargs="+", default=list(COMMANDS), choices=COMMANDS)
    ap.add_argument("--peer", type=Path, default=None, metavar="CHECKOUT",
                    help="another commit's checkout (e.g. a git worktree): each run of this tree is followed by "
                         "the same run of the peer's lib/, so that both see the same machine")
    args = ap.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-resolution-"))
    extra = args.long - args.short
    trees = {"this tree": None}
    if args.peer:
        rev = subprocess.run(["git", "-C", str(args.peer), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip() or args.peer.name
        trees[f"peer {rev}"] = args.peer.resolve() / "lib"
    per_frame: dict[tuple[str, str, str], float] = {}
    print(f"{'tree':16s} {'command':11s} {'size':6s} {'short (s)':>9s} {'long (s)':>9s} {'ms/frame':>9s} {'x 720p':>7s}")
    for name, size in SIZES.items():
        clips = [_clip(folder, size, n) for n in (args.short, args.long)]
        for command in args.commands:
            runs = {(tree, c): [] for tree in trees for c in clips}
            for _ in range(args.repeat):  # interleaved: a slower spell of the machine hits both trees
                for c in clips:
                    for tree, lib in trees.items():
                        runs[tree, c].append(_run(command, c, folder, lib))
            for tree in trees:
                t_short, t_long = (min(runs[tree, c]) for c in clips)
                ms = max(t_long - t_short, 1e-6) / extra * 1000
                per_frame[tree, command, name] = ms
                ratio = ms / per_frame[tree, command, "720p"]
                print(f"{tree:16s} {command:11s} {name:6s} {t_short:9.1f} {t_long:9.1f} {ms:9.1f} {ratio:7.2f}",
                      flush=True)
    for name, goal in GOALS.items():
        px = SIZES[name][0] * SIZES[name][1] / (1280 * 720)
        for command in args.commands:
            r = per_frame["this tree", command, name] / per_frame["this tree", command, "720p"]
            peers = "".join(f"   ({tree}: {per_frame[tree, command, name] / per_frame[tree, command, '720p']:.2f}x)"
                            for tree in trees if tree != "this tree")
            print(f"target {name}-vs-720p-{command}: {r:.2f}x per frame ({px:.2f}x the pixels) "
                  f"(goal <= {goal}x) {'met' if r <= goal else 'missed'}{peers}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
