"""Embedding trajectories of the persons of a video, original vs anonymized
(visualize_embedding_trajectory.py).

The persons of --original are detected and tracked (YOLOv5n + ByteTrack, as the notebooks do); the
same boxes are cut from the original and from each --anonymized video (same frames), embedded
(OSNet by default) and projected to 2-D with PCA fitted on the original crops (or t-SNE). Writes an
interactive plotly page (-o, .html: frame number on hover) and a static PNG beside it, plus the
points as CSV.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "trajectory"
HELP = "2-D embedding trajectories of each tracked person, original vs anonymized (HTML + PNG)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vidanon.core.params import default

    p.add_argument("--original", type=Path, required=True, help="the original video")
    p.add_argument("--anonymized", type=Path, nargs="+", required=True,
                   help="one or more anonymized versions of it (same frames); named by file stem")
    p.add_argument("--names", nargs="+", default=None,
                   help="method names of the --anonymized videos (default: file stems, else folder names)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="interactive figure (.html); the PNG and the points CSV go beside it")
    p.add_argument("--model", default=default("drift.embedder"), help="embedder (vidanon.models.embed names)")
    p.add_argument("--projection", default=default("drift.trajectory_projection"), choices=["pca", "tsne"],
                   help="pca: fitted on the originals; tsne: all points together (qualitative)")
    p.add_argument("--max-per-track", type=int, default=default("crops.max_per_track"),
                   help="evenly spaced crops per track")
    p.add_argument("--min-height", type=int, default=default("crops.min_height"), help="pixels; smaller persons are skipped")
    p.add_argument("--device", default=default("device"), choices=["auto", "cpu", "cuda"], help="where the embedder runs")
    p.add_argument("--seed", type=int, default=default("seed"), help="t-SNE seed")
    p.add_argument("--overwrite", action="store_true", help="replace the outputs if they exist")


def video_crops(path: Path, boxes, n_frames: int, *, pad: float, size) -> list:
    """Crops of ``boxes`` (rows frame, x1..y2) cut from a video, in the rows' order (streamed)."""
    from vidanon.io.crops import cut_crop
    from vidanon.io.video import read_frames

    by_frame = {}
    for i, r in enumerate(boxes.itertuples(index=False)):
        by_frame.setdefault(int(r.frame), []).append((i, (r.x1, r.y1, r.x2, r.y2)))
    out = [None] * len(boxes)
    for t, rgb in read_frames(path, 0, n_frames):
        for i, box in by_frame.get(t, []):
            out[i] = cut_crop(rgb, box, pad, size)
    if any(c is None for c in out):
        raise DataError(f"{path}: ended before frame {int(boxes['frame'].max())}")
    return out


def version_names(paths: list[Path], names: list[str] | None) -> list[str]:
    """Names of the anonymized versions: given, else file stems, else parent folder names."""
    if names is not None:
        if len(names) != len(paths):
            raise VidanonError(f"--names: {len(names)} names for {len(paths)} --anonymized videos")
    else:
        names = [p.stem for p in paths]
        if len(set(names)) != len(names):
            names = [p.parent.name for p in paths]
    if len(set(names)) != len(names) or "original" in names:
        raise VidanonError(f"the anonymized versions need unique names other than 'original' (got {names}); "
                           "give them with --names")
    return names


def run(args) -> int:
    import pandas as pd

    from vidanon import scene as scene_mod
    from vidanon.commands.anonymize import make_clip
    from vidanon.core.versions import resolve_device
    from vidanon.figures.drift import trajectory_figure
    from vidanon.models import embed
    from vidanon.stages.crops import select_boxes
    from vidanon.stages.drift import project
    from vidanon.core.atomic import atomic_path
    from vidanon.core.params import ClipSpec, CropsSection, Params
    from vidanon.io.video import probe

    out = args.output
    if out.suffix.lower() != ".html":
        raise VidanonError(f"-o {out}: expected an .html file")
    outs = [out, out.with_suffix(".png"), out.with_suffix(".csv")]
    for p in outs:
        if p.exists() and not args.overwrite:
            raise VidanonError(f"{p} exists; pass --overwrite to replace it")
    clip = make_clip(args.original)
    names = version_names(args.anonymized, args.names)
    for a in args.anonymized:
        if probe(a).n_frames != clip.n_frames:
            raise DataError(f"{a}: {probe(a).n_frames} frames, but {args.original} has {clip.n_frames}")
    params = Params(name="cli", clips=[ClipSpec(id=clip.id, path=clip.path)])
    params.detect.masks = params.detect.keypoints = False  # tracks only
    with tempfile.TemporaryDirectory(prefix="vidanon-scene-") as tmp:
        scene = scene_mod.analyze(clip, params, Path(tmp))
    boxes = select_boxes(scene.persons, 1, args.min_height, args.max_per_track)
    if boxes.empty:
        raise DataError(f"{args.original}: no tracked person at least {args.min_height} px high")
    crops = CropsSection()
    model = embed.get(args.model, device=resolve_device(args.device))
    parts = []
    for name, path in [("original", args.original)] + list(zip(names, args.anonymized)):
        e = model.embed(video_crops(path, boxes, clip.n_frames, pad=crops.pad, size=tuple(crops.size)))
        parts.append(pd.DataFrame({"clip": clip.id, "method": name, "track_id": boxes["track_id"].to_numpy(),
                                   "pid": boxes["track_id"].to_numpy(), "frame": boxes["frame"].to_numpy(),
                                   "model": model.name, "emb": list(e)}))
    emb = pd.concat(parts, ignore_index=True)
    pts, info = project(emb, args.projection, args.seed)
    fig = trajectory_figure(pts, info, f"Embedding trajectories ({model.name}): {args.original.name}")
    with atomic_path(out) as tmp:
        fig.write_html(tmp, include_plotlyjs=True, full_html=True)
    with atomic_path(outs[1]) as tmp:
        fig.write_image(tmp, format="png", scale=2)
    with atomic_path(outs[2]) as tmp:
        pts.to_csv(tmp, index=False)
    print(f"{boxes['track_id'].nunique()} tracks, {len(boxes)} crops per version, {len(names)} anonymized "
          f"version(s), model {model.name}, {info['projection']}")
    print("wrote " + ", ".join(str(p) for p in outs))
    return 0
