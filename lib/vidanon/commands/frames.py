"""Write the frames of a video (MP4, MKV, GIF...) as numbered images: DIR/frame_000000.png, ...

Frame numbers are the video's own (0-based), so --start 100 --every 5 writes frame_000100,
frame_000105, ... Frames are decoded one at a time (memory does not grow with the video's length).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "frames"
HELP = "extract the frames of a video as numbered PNG/JPEG images"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", metavar="VIDEO", help="input video file")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the images (created)")
    p.add_argument("--every", type=int, default=1, metavar="N", help="keep every N-th frame")
    p.add_argument("--start", type=int, default=0, help="first frame index written (0-based)")
    p.add_argument("--end", type=int, default=None, help="stop before this frame index (default: the end)")
    p.add_argument("--format", choices=["png", "jpg"], default="png", help="image format (png is lossless)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into DIR even if it already holds images (same-named files are replaced)")


def existing_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")) \
        if folder.is_dir() else []


def run(args) -> int:
    import cv2
    from tqdm.auto import tqdm

    from vidanon.io.video import probe, read_frames

    src, out = Path(args.video), Path(args.output)
    if args.every < 1 or args.start < 0 or (args.end is not None and args.end <= args.start):
        raise VidanonError(f"need --every >= 1, --start >= 0 and --end > --start (got {args.every}, "
                           f"{args.start}, {args.end})")
    if existing_images(out) and not args.overwrite:
        raise VidanonError(f"{out} already holds images; pass --overwrite to write into it")
    info = probe(src)
    end = info.n_frames if args.end is None else min(args.end, info.n_frames)
    if args.start >= info.n_frames:
        raise DataError(f"{src}: --start {args.start} but the video has {info.n_frames} frames")
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    total = len(range(args.start, end, args.every))
    for i, rgb in tqdm(read_frames(src, args.start, end, args.every), total=total, desc="frames"):
        path = out / f"frame_{i:06d}.{args.format}"
        if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise VidanonError(f"{path}: could not write the image")
        n += 1
    print(f"{n} frames of {src} ({info.width}x{info.height}, {info.fps:g} fps) written to {out}")
    return 0
