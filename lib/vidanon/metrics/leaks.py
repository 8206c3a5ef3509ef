"""Leaked faces: how much of a face box lies inside a region, whether a method changed its pixels,
and the per-video counts (pure numpy; the leak check itself is ``vidanon.stages.anonymize``)."""

from __future__ import annotations

import numpy as np


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


def mean_abs_diff(a: np.ndarray, b: np.ndarray, box) -> float:
    """Mean absolute difference (grey levels, 0..255) of two frames inside an ``x1, y1, x2, y2`` box
    (clipped to the frame); inf when the frames differ in shape or the box is empty."""
    if a.shape != b.shape:
        return float("inf")
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(x1, 0), max(y1, 0)
    pa, pb = a[y1:y2 + 1, x1:x2 + 1], b[y1:y2 + 1, x1:x2 + 1]
    return float(np.abs(pa.astype(np.int16) - pb).mean()) if pa.size else float("inf")


def summarize(faces, leaked, unchanged=None) -> dict:
    """Counts of one video from per-frame counts: ``faces`` (faces found), ``leaked`` (faces inside a
    person) and optionally ``unchanged`` (leaked faces the method left as they were).

    Returns ``frames``, ``face_frames`` (frames with any face), ``leaked_frames``, ``leaked_faces``,
    ``leak_rate`` (leaked frames / frames, 0..1) and, with ``unchanged``, ``unchanged_frames``."""
    faces, leaked = np.asarray(faces), np.asarray(leaked)
    n = len(faces)
    n_leaked = int((leaked > 0).sum())
    out = {"frames": n, "face_frames": int((faces > 0).sum()), "leaked_frames": n_leaked,
           "leaked_faces": int(leaked.sum()), "leak_rate": n_leaked / n if n else float("nan")}
    if unchanged is not None:
        out["unchanged_frames"] = int((np.asarray(unchanged) > 0).sum())
    return out
