"""Stage 05_quality: how much of the video survives anonymization, and do faces still get found.

For every clip and method, frame by frame against the re-encoded original (the same codec path, so
the codec's own loss cancels): PSNR and SSIM (Wang's settings) on the whole frame, inside the
method's regions and outside them (the background it should leave intact); a perceptual distance
under its real name (LPIPS(alex) when its backbone is available, else the named MobileNetV2 proxy);
and the face detection rate of the evaluation face detector (``params.detect.face_eval``, another
family than the anonymizer's) on the anonymized frames, next to its rate on the original frames.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from vidanon.core.versions import frame_stride, resolve_device
from vidanon.io.video import read_lockstep, version_videos
from vidanon.metrics import quality as qm
from vidanon.io.video import downscale, downscale_mask

FACE_IOU = 0.5  # a face found again at the same place (IoU >= 0.5) counts as re-detected


def _face_counts(det, ref_boxes, frame) -> tuple[int, int]:
    from vidanon.metrics.detection import match_boxes

    boxes = det(frame)
    matched = len(match_boxes(ref_boxes, boxes, FACE_IOU)[0]) if len(ref_boxes) and len(boxes) else 0
    return len(boxes), matched


def perceptual_label(perceptual, max_side: int | None) -> str | None:
    """The perceptual metric's name as tables print it, with the frame size it was computed at."""
    if perceptual is None:
        return None
    return perceptual.name + (f", frames at <= {max_side} px" if max_side else ", native frame size")


def clip_quality(clip, scene, videos: dict[str, Path], anonymizers: dict, *, face_detector=None,
                 perceptual=None, stride: int = 1, perceptual_max_side: int | None = None,
                 max_side: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-frame quality rows and per-method face detection counts of one clip.

    ``videos``: ``{"original": path, method: path, ...}``; ``anonymizers``: ``{method: obj with
    .regions}``; ``face_detector``: callable ``rgb -> (N, 5)`` boxes or None. Frames are uint8
    (data range 255); PSNR in dB, SSIM in [-1, 1], perceptual in its own unit (lower = closer).
    ``max_side``: the working size; frames (and region masks) with a longer side are compared, and
    faces detected, on copies scaled down to it (None: native size).
    """
    from vidanon.core.progress import tqdm

    methods = [m for m in videos if m != "original"]
    rows = []
    faces = {m: {"faces": 0, "face_frames": 0, "matched": 0} for m in ["original"] + methods}
    n_used = 0
    it = read_lockstep([videos["original"]] + [videos[m] for m in methods], clip.n_frames, stride)
    for t, frames in tqdm(it, total=math.ceil(clip.n_frames / stride), desc=f"quality {clip.id}", leave=False):
        native_shape = frames[0].shape
        frames = [downscale(f, max_side) for f in frames]  # the working size (unchanged when it fits)
        orig = frames[0]
        n_used += 1
        ref = np.zeros((0, 5))
        if face_detector is not None:
            ref = face_detector(orig)
            faces["original"]["faces"] += len(ref)
            faces["original"]["face_frames"] += int(len(ref) > 0)
            faces["original"]["matched"] += len(ref)
        if perceptual is not None and methods:  # one batch per frame, the original's features once
            small = np.stack([downscale(f, perceptual_max_side) for f in frames])  # for speed; see params
            perc = perceptual.distances(small, [(0, i) for i in range(1, len(frames))])
        for i, (m, anon) in enumerate(zip(methods, frames[1:])):
            region = downscale_mask(anonymizers[m].regions(t, scene, native_shape), max_side) if m in anonymizers else None
            r = qm.region_quality(orig, anon, region, 255.0)
            r.update(clip=clip.id, method=m, frame=t,
                     region_fraction=float(region.mean()) if region is not None else float("nan"))
            if perceptual is not None:
                r["perceptual"] = float(perc[i])
            rows.append(r)
            if face_detector is not None:
                n, matched = _face_counts(face_detector, ref, anon)
                faces[m]["faces"] += n
                faces[m]["face_frames"] += int(n > 0)
                faces[m]["matched"] += matched
    cols = ["clip", "method", "frame", "psnr", "ssim", "psnr_in", "ssim_in", "psnr_out", "ssim_out",
            "region_fraction"] + (["perceptual"] if perceptual is not None else [])
    frame_df = pd.DataFrame(rows)[cols] if rows else pd.DataFrame(columns=cols)
    face_rows = []
    if face_detector is not None:
        base = faces["original"]
        for m, c in faces.items():
            face_rows.append({"clip": clip.id, "method": m, "frames": n_used, "faces": c["faces"],
                              "face_frames": c["face_frames"], "faces_original": base["faces"],
                              "face_frames_original": base["face_frames"], "refound": c["matched"]})
    return frame_df, pd.DataFrame(face_rows)


def summarize_quality(frames: pd.DataFrame, perceptual_name: str | None, working_size: str | None = None
                      ) -> pd.DataFrame:
    """Per method: means over frames (PSNR over finite values: identical frames give inf).
    ``working_size``: the frame size PSNR/SSIM were computed at, as a ``compared_at`` column."""
    rows = []
    for m, g in frames.groupby("method", sort=False):
        row = {"method": m, "frames": len(g)}
        if working_size is not None:
            row["compared_at"] = working_size
        for c in ("psnr", "psnr_in", "psnr_out"):
            v = g[c].to_numpy(float)
            v = v[np.isfinite(v)]
            row[c] = float(v.mean()) if v.size else float("nan")
        for c in ("ssim", "ssim_in", "ssim_out", "region_fraction"):
            row[c] = float(g[c].mean())
        if "perceptual" in g:
            row["perceptual"] = float(g["perceptual"].mean())
            row["perceptual_metric"] = perceptual_name
        rows.append(row)
    return pd.DataFrame(rows)


def summarize_faces(faces: pd.DataFrame) -> pd.DataFrame:
    """Per method over clips: face detection rate (frames with a face / frames) on the anonymized
    frames, the same on the original frames, and the share of the original's faces found again at
    the same place (IoU >= 0.5). Lower is better for an anonymizer; "original" is the reference."""
    g = faces.groupby("method", sort=False)[["frames", "faces", "face_frames", "faces_original",
                                             "face_frames_original", "refound"]].sum().reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        g["rate"] = g["face_frames"] / g["frames"]
        g["rate_original"] = g["face_frames_original"] / g["frames"]
        g["refound_share"] = g["refound"] / g["faces_original"]
    return g


def _clip_job(job):
    """One clip in a worker: its quality rows, face-detection counts and the perceptual metric's label."""
    from vidanon import anonymize
    from vidanon.core import executor
    from vidanon.models.detect import get_face_detector
    from vidanon.models.embed import perceptual
    from vidanon.scene import scene_of

    ctx, index = job
    p = ctx.params
    clip, scene = scene_of(ctx, index)
    device = resolve_device(p.device)
    perc = executor.cached(("perceptual", p.quality.model_dump_json(), device),
                           lambda: perceptual.from_params(p.quality, device))
    det = executor.cached(("face_eval", p.detect.face_eval.model_dump_json()),
                          lambda: get_face_detector(p.detect.face_eval))
    stride = frame_stride(clip.n_frames, p.quality.frame_stride, p.quality.max_frames)
    f, fc = clip_quality(clip, scene, version_videos(ctx.work, p, clip.id), anonymize.for_params(p),
                         face_detector=det, perceptual=perc, stride=stride,
                         perceptual_max_side=p.quality.perceptual_max_side, max_side=p.quality.max_side)
    return f, fc, perceptual_label(perc, p.quality.perceptual_max_side)


def run(ctx) -> dict[str, pd.DataFrame]:
    """Quality of every clip x method (clips in parallel by the context's executor); saves and returns
    ``quality_frames``, ``quality_summary``, ``face_detection`` (per clip) and ``face_detection_summary``
    (per method)."""
    from vidanon import scene as scene_mod
    from vidanon.core import executor

    p = ctx.params
    clips = [c for c, _ in scene_mod.analyze_all(ctx)]  # every scene cached before the jobs start
    costs = [min(c.n_frames, p.quality.max_frames or c.n_frames) * c.width * c.height for c in clips]  # frames used
    done = executor.of(ctx).map(_clip_job, [(ctx, i) for i in range(len(p.clips))], label="quality", costs=costs)
    frames = pd.concat([f for f, _, _ in done], ignore_index=True)
    faces = pd.concat([fc for _, fc, _ in done], ignore_index=True)
    faces.insert(2, "detector", p.detect.face_eval.backend)
    name = done[0][2] if done else None
    big = any(max(c.width, c.height) > (p.quality.max_side or math.inf) for c in clips)
    size = qm.working_size_label(p.quality.max_side) if big else None  # a column only where a clip was scaled
    out = {"quality_frames": frames, "quality_summary": summarize_quality(frames, name, size),
           "face_detection": faces, "face_detection_summary": summarize_faces(faces)}
    for k, df in out.items():
        ctx.save_table(df, k)
    return out
