"""Leak check: does a face detector that did NOT drive the anonymizer still find faces on the
anonymized persons?

The check runs an independent face detector (``params.detect.face_eval``, MediaPipe BlazeFace by
default, while the anonymizer's regions come from CenterFace) on every anonymized frame and counts
the faces that lie inside a region the scene knows holds a person (a person box, or a face box
grown by the anonymizer's mask scale). A frame with at least one such face is a leaked frame.
With no scene (a face-only tool such as deface) every face found counts. Given the original
frames too, a leaked face whose pixels the method left (nearly) unchanged is also counted as
``unchanged``: a face the method missed, not a processed head that still looks like a face.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from vidanon.anonymize.regions import scale_box


def fraction_inside(boxes: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Fraction (0..1) of each ``x1, y1, x2, y2`` box's area (pixels) covered by the bool ``region``."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    out = np.zeros(len(boxes))
    h, w = region.shape
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        xa, xb = int(np.clip(np.floor(x1), 0, w)), int(np.clip(np.ceil(x2), 0, w))
        ya, yb = int(np.clip(np.floor(y1), 0, h)), int(np.clip(np.ceil(y2), 0, h))
        if xb > xa and yb > ya:
            out[i] = region[ya:yb, xa:xb].mean()
    return out


def person_region(scene, t: int, shape, mask_scale: float = 1.3) -> np.ndarray:
    """Bool (H, W): the person boxes and the (grown) face boxes of frame ``t``; detected, carried and
    interpolated rows alike."""
    region = np.zeros(shape[:2], bool)
    boxes = [r[["x1", "y1", "x2", "y2"]].to_numpy(float) for r in (scene.persons_at(t), scene.faces_at(t))]
    boxes[1] = np.array([scale_box(b, mask_scale) for b in boxes[1]]).reshape(-1, 4)
    h, w = shape[:2]
    for x1, y1, x2, y2 in np.concatenate(boxes):
        region[max(int(y1), 0):min(int(np.ceil(y2)), h), max(int(x1), 0):min(int(np.ceil(x2)), w)] = True
    return region


def check_video(frames, detector, scene=None, min_inside: float = 0.5, mask_scale: float = 1.3,
                progress: bool = False, originals=None, changed: float = 10.0) -> pd.DataFrame:
    """Run ``detector`` (``rgb -> (N, 5)``) on ``frames`` (iterable of ``(t, rgb)``) and count faces.

    Returns one row per frame: ``frame, faces`` (all faces found), ``leaked`` (faces with at least
    ``min_inside`` of their area inside ``person_region`` of the scene; all faces without a scene)
    and, when ``originals`` (the original ``(t, rgb)`` frames, same order) is given, ``unchanged``:
    leaked faces whose box differs from the original by less than ``changed`` grey levels (mean
    absolute difference, 0..255).
    """
    rows = []
    it = tqdm(frames, desc="leak check", leave=False) if progress else frames
    originals = iter(originals) if originals is not None else None
    for t, rgb in it:
        orig = next(originals, (None, None))[1] if originals is not None else None
        dets = np.asarray(detector(rgb)).reshape(-1, 5)
        if scene is None or not len(dets):
            hit = np.ones(len(dets), bool)
        else:
            hit = fraction_inside(dets[:, :4], person_region(scene, t, rgb.shape, mask_scale)) >= min_inside
        row = [t, len(dets), int(hit.sum())]
        if originals is not None:
            row.append(sum(mean_abs_diff(rgb, orig, box) < changed for box in dets[hit, :4]) if orig is not None else 0)
        rows.append(tuple(row))
    return pd.DataFrame(rows, columns=["frame", "faces", "leaked"] + (["unchanged"] if originals is not None else []))


def mean_abs_diff(a: np.ndarray, b: np.ndarray, box) -> float:
    """Mean absolute difference (grey levels, 0..255) of two frames inside an ``x1, y1, x2, y2`` box
    (clipped to the frame); inf when the frames differ in shape or the box is empty."""
    if a.shape != b.shape:
        return float("inf")
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(x1, 0), max(y1, 0)
    pa, pb = a[y1:y2 + 1, x1:x2 + 1], b[y1:y2 + 1, x1:x2 + 1]
    return float(np.abs(pa.astype(np.int16) - pb).mean()) if pa.size else float("inf")


def summarize(per_frame: pd.DataFrame) -> dict:
    """``frames``, ``face_frames`` (frames with any face), ``leaked_frames``, ``leaked_faces``,
    ``leak_rate`` and, when the check had the originals, ``unchanged_frames`` (frames with a leaked
    face the method left unchanged)."""
    n = len(per_frame)
    leaked = int((per_frame["leaked"] > 0).sum())
    out = {"frames": n, "face_frames": int((per_frame["faces"] > 0).sum()), "leaked_frames": leaked,
           "leaked_faces": int(per_frame["leaked"].sum()), "leak_rate": leaked / n if n else float("nan")}
    if "unchanged" in per_frame:
        out["unchanged_frames"] = int((per_frame["unchanged"] > 0).sum())
    return out


def run_stage(ctx, runs: pd.DataFrame, scenes: list | None = None) -> pd.DataFrame:
    """Leak check of every anonymized video of ``runs`` (``anonymize.run_stage``'s table).

    Returns one row per (clip, method): ``clip, method, frames, face_frames, leaked_frames,
    leaked_faces, leak_rate, unchanged_frames, detector``; the "original" row is the number to beat.
    """
    from vidanon import detect
    from vidanon.scene import analyze_all
    from vidanon.video import read_frames

    pairs = scenes if scenes is not None else analyze_all(ctx)
    clips = {clip.id: clip for clip, _ in pairs}
    scenes = {clip.id: scene for clip, scene in pairs}
    spec = ctx.params.detect.face_eval
    det = detect.get_face_detector(spec)
    rows = []
    try:
        for r in tqdm(list(runs.itertuples(index=False)), desc="leak check", leave=False):
            per_frame = check_video(read_frames(r.path), det, scenes[r.clip],
                                    mask_scale=ctx.params.anonymize.mask_scale, originals=clips[r.clip].frames())
            rows.append({"clip": r.clip, "method": r.method, **summarize(per_frame),
                         "detector": getattr(det, "name", spec.backend)})
    finally:
        detect.close(det)
    return pd.DataFrame(rows)
