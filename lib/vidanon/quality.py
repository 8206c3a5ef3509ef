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
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from vidanon.errors import DataError
from vidanon.metrics import quality as qm

FACE_IOU = 0.5  # a face found again at the same place (IoU >= 0.5) counts as re-detected


def lockstep(paths: list[Path], n_frames: int, stride: int = 1) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Yield ``(t, [frame of each video])`` for ``t = 0, stride, ...`` < n_frames, streaming all videos
    together (frames cropped to the first video's size: the H.264 writer pads odd sizes by a pixel)."""
    from vidanon.video import read_frames

    readers = [read_frames(p, 0, n_frames) for p in paths]
    for t, frames in enumerate(zip(*readers)):
        if t % stride:
            continue
        h, w = frames[0][1].shape[:2]
        yield t, [f[:h, :w] for _, f in frames]


def frame_stride(n_frames: int, stride: int, max_frames: int | None) -> int:
    """The stride that keeps at most ``max_frames`` evenly spaced frames (never below ``stride``)."""
    if max_frames:
        stride = max(stride, math.ceil(n_frames / max_frames))
    return stride


def method_videos(ctx, clip_id: str) -> dict[str, Path]:
    """``{method name: video}`` of a clip: "original" (re-encoded) first, then the params' methods.
    Raises DataError naming the missing file and the stage that writes it."""
    from vidanon.anonymize import output_path

    names = ["original"] + [m.name for m in ctx.params.anonymize.methods]
    out = {}
    for name in names:
        p = output_path(ctx, name, clip_id)
        if not p.is_file():
            raise DataError(f"{p}: missing; run the 01_anonymize stage first")
        out[name] = p
    return out


def region_functions(params) -> dict[str, object]:
    """``{method name: anonymizer}`` whose ``.regions(t, scene, shape)`` gives what it changes."""
    from vidanon import anonymize

    sec = params.anonymize
    return {m.name: anonymize.get(m.method, **anonymize.method_options(sec, m)) for m in sec.methods}


def perceptual_metric(params):
    """The perceptual distance the params ask for (None when quality.perceptual is 'none')."""
    from vidanon import perceptual

    kind = params.quality.perceptual
    if kind == "none":
        return None
    return perceptual.get(kind, backbone=params.quality.lpips_backbone, device=_device(params))


def _device(params) -> str:
    if params.device == "cpu":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _face_counts(det, ref_boxes, frame) -> tuple[int, int]:
    from vidanon.metrics.detection import match_boxes

    boxes = det(frame)
    matched = len(match_boxes(ref_boxes, boxes, FACE_IOU)[0]) if len(ref_boxes) and len(boxes) else 0
    return len(boxes), matched


def downscale(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """``rgb`` resized (area interpolation) so that its long side is at most ``max_side`` pixels."""
    import cv2

    h, w = rgb.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return rgb
    f = max_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def perceptual_label(perceptual, max_side: int | None) -> str | None:
    """The perceptual metric's name as tables print it, with the frame size it was computed at."""
    if perceptual is None:
        return None
    return perceptual.name + (f", frames at <= {max_side} px" if max_side else ", native frame size")


def clip_quality(clip, scene, videos: dict[str, Path], anonymizers: dict, face_detector=None,
                 perceptual=None, stride: int = 1, perceptual_max_side: int | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-frame quality rows and per-method face detection counts of one clip.

    ``videos``: ``{"original": path, method: path, ...}``; ``anonymizers``: ``{method: obj with
    .regions}``; ``face_detector``: callable ``rgb -> (N, 5)`` boxes or None. Frames are uint8
    (data range 255); PSNR in dB, SSIM in [-1, 1], perceptual in its own unit (lower = closer).
    """
    from tqdm.auto import tqdm

    methods = [m for m in videos if m != "original"]
    rows = []
    faces = {m: {"faces": 0, "face_frames": 0, "matched": 0} for m in ["original"] + methods}
    n_used = 0
    it = lockstep([videos["original"]] + [videos[m] for m in methods], clip.n_frames, stride)
    for t, frames in tqdm(it, total=math.ceil(clip.n_frames / stride), desc=f"quality {clip.id}", leave=False):
        orig = frames[0]
        n_used += 1
        ref = np.zeros((0, 5))
        if face_detector is not None:
            ref = face_detector(orig)
            faces["original"]["faces"] += len(ref)
            faces["original"]["face_frames"] += int(len(ref) > 0)
            faces["original"]["matched"] += len(ref)
        if perceptual is not None and methods:  # one batch per frame
            small = [downscale(f, perceptual_max_side) for f in frames]  # for speed; see params
            perc = perceptual.distance(np.stack([small[0]] * len(methods)), np.stack(small[1:]))
        for i, (m, anon) in enumerate(zip(methods, frames[1:])):
            region = anonymizers[m].regions(t, scene, orig.shape) if m in anonymizers else None
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


def summarize_quality(frames: pd.DataFrame, perceptual_name: str | None) -> pd.DataFrame:
    """Per method: means over frames (PSNR over finite values: identical frames give inf)."""
    rows = []
    for m, g in frames.groupby("method", sort=False):
        row = {"method": m, "frames": len(g)}
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


def run_stage(ctx) -> dict[str, pd.DataFrame]:
    """Quality of every clip x method; saves and returns ``quality_frames``, ``quality_summary``,
    ``face_detection`` (per clip) and ``face_detection_summary`` (per method)."""
    from vidanon import scene as scene_mod
    from vidanon.detect import get_face_detector

    p = ctx.params
    anonymizers = region_functions(p)
    perc = perceptual_metric(p)
    name = perceptual_label(perc, p.quality.perceptual_max_side)
    all_frames, all_faces = [], []
    det = get_face_detector(p.detect.face_eval)
    try:
        for clip, scene in scene_mod.analyze_all(ctx):
            videos = method_videos(ctx, clip.id)
            stride = frame_stride(clip.n_frames, p.quality.frame_stride, p.quality.max_frames)
            f, fc = clip_quality(clip, scene, videos, anonymizers, det, perc, stride, p.quality.perceptual_max_side)
            all_frames.append(f)
            all_faces.append(fc)
    finally:
        if hasattr(det, "close"):
            det.close()
    frames = pd.concat(all_frames, ignore_index=True)
    faces = pd.concat(all_faces, ignore_index=True)
    faces.insert(2, "detector", p.detect.face_eval.backend)
    out = {"quality_frames": frames, "quality_summary": summarize_quality(frames, name),
           "face_detection": faces, "face_detection_summary": summarize_faces(faces)}
    for k, df in out.items():
        ctx.save_table(df, k)
    return out


# --- figures -------------------------------------------------------------------------------------

def figure_quality(summary: pd.DataFrame, faces: pd.DataFrame | None = None):
    """Bars per method: SSIM and PSNR outside vs inside the regions, the perceptual distance (named),
    and the face detection rate on anonymized frames next to the original's."""
    import matplotlib.pyplot as plt

    from vidanon.plots import method_color, sort_methods, style

    methods = sort_methods(summary["method"].unique())
    s = summary.set_index("method").reindex(methods)
    x = np.arange(len(methods))
    colors = [method_color(m) for m in methods]
    n = 4 if faces is not None and len(faces) else 3
    with style():
        fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.3))
        for ax, metric, unit in ((axes[0], "ssim", "SSIM"), (axes[1], "psnr", "PSNR (dB)")):
            ax.bar(x - 0.2, s[f"{metric}_out"], 0.4, color=colors, label="outside regions")
            ax.bar(x + 0.2, s[f"{metric}_in"], 0.4, color=colors, alpha=0.45, hatch="//", edgecolor="white",
                   label="inside regions")
            ax.set_xticks(x, methods, rotation=45, ha="right")
            ax.set_title(f"{unit}: outside (solid) vs inside (hatched)")
        axes[0].legend(fontsize=7)
        if "perceptual" in s:
            axes[2].bar(x, s["perceptual"], color=colors)
            axes[2].set_title(s["perceptual_metric"].dropna().iloc[0].replace(", ", "\n", 1) + "\n(lower = closer)",
                              fontsize=8)
        axes[2].set_xticks(x, methods, rotation=45, ha="right")
        if n == 4:
            f = faces.set_index("method")
            ms = [m for m in sort_methods(f.index) if m in f.index]
            xf = np.arange(len(ms))
            axes[3].bar(xf - 0.2, f.loc[ms, "rate_original"], 0.4, color="#bbbbbb", label="original frames")
            axes[3].bar(xf + 0.2, f.loc[ms, "rate"], 0.4, color=[method_color(m) for m in ms],
                        label="anonymized frames")
            axes[3].set_xticks(xf, ms, rotation=45, ha="right")
            axes[3].set_ylim(0, 1.05)
            axes[3].set_title("face detection rate (frames with a face)\nlower on anonymized = better")
            axes[3].legend(fontsize=7)
    return fig
