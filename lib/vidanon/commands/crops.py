"""Person crops from a video, a folder of videos or a folder of frame images (YOLOv5 by default).

Videos: persons are detected on every frame and linked into tracks (ByteTrack); a track is one
person within its video. Crops are named as Market-1501, {pid:04d}_c{cam}s{seq}_{frame:06d}_{k:02d}.jpg,
with pid = the track id, cam = the video's number (1, 2, ... in name order) and seq = its time segment
(--segment-seconds). Images: every image is detected on its own (no tracks) and crops are named
<image name>_<k>.jpg. Either way OUT/manifest.csv lists each crop with its source, frame, track and box.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "crops"
HELP = "YOLOv5 person crops (with ByteTrack tracks for videos) and a manifest"

VIDEO_EXT = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".gif", ".m4v")
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vidanon.core.params import default

    p.add_argument("--input-dir", required=True, metavar="FRAMES_OR_VIDEO",
                   help="a video file, a folder of videos, or a folder of frame images")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the crops and manifest.csv")
    p.add_argument("--detector", default=default("detect.person.backend"), choices=["yolov5-onnx", "yolov5-pt", "detectron2"],
                   help="person detector backend")
    p.add_argument("--weights", default=None,
                   help="detector weights: registry name (yolov5n.pt, or the static yolov5n.onnx) or a path")
    p.add_argument("--threshold", type=float, default=default("detect.person.threshold"), help="person detection score threshold")
    p.add_argument("--min-height", type=int, default=default("crops.min_height"), help="pixels; smaller person boxes give no crop")
    p.add_argument("--pad", type=float, default=default("crops.pad"), help="fraction of the box added on each side")
    p.add_argument("--size", type=int, nargs=2, default=list(default("crops.size")), metavar=("H", "W"),
                   help="crop size in pixels (Market-1501 uses 128 64; re-ID models take 256 128)")
    p.add_argument("--every", type=int, default=default("crops.stride"), metavar="N", help="videos: crop every N-th frame")
    p.add_argument("--max-per-track", type=int, default=default("crops.max_per_track"),
                   help="videos: at most this many crops per track, evenly spaced in time")
    p.add_argument("--segment-seconds", type=float, default=default("crops.segment_seconds"), help="videos: length of a time segment (seq)")
    p.add_argument("--max-gap", type=int, default=default("track.max_gap"),
                   help="videos: frames of a missed track filled by interpolation (its crops too)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into DIR even if it already holds a manifest (same-named files are replaced)")


def _inputs(src: Path) -> tuple[str, list[Path]]:
    if src.is_file():
        return "videos", [src]
    if not src.is_dir():
        raise DataError(f"{src}: no such file or folder")
    files = sorted(p for p in src.iterdir() if p.is_file())
    videos = [p for p in files if p.suffix.lower() in VIDEO_EXT]
    images = [p for p in files if p.suffix.lower() in IMAGE_EXT]
    if videos and images:
        raise DataError(f"{src}: holds both videos and images; give a folder of one kind")
    if not videos and not images:
        raise DataError(f"{src}: no videos ({', '.join(VIDEO_EXT)}) or images ({', '.join(IMAGE_EXT)}) in it")
    return ("videos", videos) if videos else ("images", images)


def _write(path: Path, crop) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise VidanonError(f"{path}: could not write the crop")


def crop_images(images: list[Path], detector, args, out: Path) -> list[dict]:
    import cv2
    from tqdm.auto import tqdm

    from vidanon.io.crops import cut_crop

    rows = []
    for path in tqdm(images, desc="images"):
        bgr = cv2.imread(str(path))
        if bgr is None:
            raise DataError(f"{path}: not a readable image")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        dets = detector(rgb)
        dets = dets[(dets[:, 3] - dets[:, 1]) >= args.min_height]
        for k, d in enumerate(dets):
            name = f"{path.stem}_{k:02d}.jpg"
            _write(out / name, cut_crop(rgb, d, args.pad, tuple(args.size)))
            rows.append({"source": path.name, "frame": -1, "track_id": -1, "x1": d[0], "y1": d[1],
                         "x2": d[2], "y2": d[3], "score": d[4], "path": name})
    return rows


def crop_video(path: Path, cam: int, detector, args, *, out: Path) -> list[dict]:
    import pandas as pd
    from tqdm.auto import tqdm

    from vidanon.core.versions import segment_of
    from vidanon.io.crops import cut_crop, market_name
    from vidanon.stages.crops import select_boxes
    from vidanon.scene import PERSON_COLUMNS
    from vidanon.models.track import Tracker, fill_gaps
    from vidanon.io.video import probe, read_frames

    info = probe(path)
    tracker = Tracker(fps=info.fps)
    rows = []
    for t, rgb in tqdm(read_frames(path), total=info.n_frames, desc=f"detect {path.name}"):
        for x1, y1, x2, y2, s, tid in tracker.update(detector(rgb)):
            rows.append((t, int(tid), x1, y1, x2, y2, s, "detected"))
    persons = fill_gaps(pd.DataFrame(rows, columns=PERSON_COLUMNS), args.max_gap)
    sel = select_boxes(persons, args.every, args.min_height, args.max_per_track)
    wanted = {t: g for t, g in sel.groupby("frame")}
    out_rows = []
    for t, rgb in read_frames(path, stride=args.every):
        for r in wanted.get(t, sel.iloc[0:0]).itertuples():
            seq = int(segment_of(t, info.fps, args.segment_seconds)) + 1
            name = f"{path.stem}/{market_name(int(r.track_id), cam, seq, t, 0)}"
            _write(out / name, cut_crop(rgb, (r.x1, r.y1, r.x2, r.y2), args.pad, tuple(args.size)))
            out_rows.append({"source": path.name, "frame": t, "track_id": int(r.track_id), "x1": r.x1,
                             "y1": r.y1, "x2": r.x2, "y2": r.y2, "score": r.score, "path": name})
    return out_rows


def run(args) -> int:
    import pandas as pd

    from vidanon.models import detect
    from vidanon.core.atomic import atomic_path
    from vidanon.core.params import DetectorSpec

    src, out = Path(args.input_dir), Path(args.output)
    if (out / "manifest.csv").exists() and not args.overwrite:
        raise VidanonError(f"{out} already holds crops (manifest.csv); pass --overwrite to write into it")
    if args.every < 1 or args.min_height < 1 or min(args.size) < 1:
        raise VidanonError("need --every >= 1, --min-height >= 1 and a positive --size")
    kind, files = _inputs(src)
    weights = args.weights or {"yolov5-onnx": "yolov5n.pt", "yolov5-pt": "yolov5n.pt"}.get(args.detector)
    detector = detect.get_person_detector(DetectorSpec(backend=args.detector, weights=weights,
                                                       threshold=args.threshold))
    out.mkdir(parents=True, exist_ok=True)
    if kind == "images":
        rows = crop_images(files, detector, args, out)
    else:
        rows = [r for cam, f in enumerate(files, 1) for r in crop_video(f, cam, detector, args, out=out)]
    manifest = pd.DataFrame(rows, columns=["source", "frame", "track_id", "x1", "y1", "x2", "y2", "score", "path"])
    with atomic_path(out / "manifest.csv") as tmp:
        manifest.to_csv(tmp, index=False)
    tracks = manifest.groupby("source")["track_id"].nunique().sum() if kind == "videos" else 0
    print(f"{len(manifest)} person crops from {len(files)} {kind}"
          + (f" ({tracks} tracks)" if kind == "videos" else "") + f" written to {out}")
    if manifest.empty:
        print("warning: no person was found (check --threshold and --min-height)")
    return 0
