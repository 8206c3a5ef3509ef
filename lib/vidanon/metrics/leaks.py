"""Leaked faces: how much of a face box lies inside a region, whether a method changed its pixels,
and the per-video counts (pure numpy; the leak check itself is ``vidanon.stages.anonymize``)."""

from __future__ import annotations

import numpy as np


def fraction_inside(boxes: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Fraction of each box's area covered by a region.

    Parameters
    ----------
    boxes : (N, 4) array_like of float
        Boxes ``x1, y1, x2, y2`` in pixels (further columns, e.g. a score, are ignored);
        each covers the pixels ``floor(x1)..ceil(x2)`` and ``floor(y1)..ceil(y2)`` (end excluded),
        clipped to the frame.
    region : (H, W) ndarray of bool
        The region (e.g. the person pixels of a frame).

    Returns
    -------
    frac : (N,) ndarray of float
        Fraction in [0, 1] of each box's pixels inside ``region``; 0 for a box with no pixel in
        the frame.
    """
    boxes = np.asarray(boxes, dtype=float)
    boxes = boxes.reshape(-1, boxes.shape[-1] if boxes.ndim == 2 else 4)[:, :4]  # (N, 5) with scores too
    out = np.zeros(len(boxes))
    h, w = region.shape
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        xa, xb = int(np.clip(np.floor(x1), 0, w)), int(np.clip(np.ceil(x2), 0, w))
        ya, yb = int(np.clip(np.floor(y1), 0, h)), int(np.clip(np.ceil(y2), 0, h))
        if xb > xa and yb > ya:
            out[i] = region[ya:yb, xa:xb].mean()
    return out


def mean_abs_diff(a: np.ndarray, b: np.ndarray, box) -> float:
    """Mean absolute difference of two frames inside a box.

    Parameters
    ----------
    a : (H, W, 3) ndarray of uint8
        A frame (RGB, or any uint8 array of the same shape as ``b``). It is cast to int16, so
        float frames in [0, 1] would be truncated: pass uint8.
    b : (H, W, 3) ndarray of uint8
        The other frame.
    box : sequence of 4 float
        ``x1, y1, x2, y2`` in pixels, rounded to integers; the rows ``y1..y2`` and columns
        ``x1..x2`` are included (end included), clipped to the frame.

    Returns
    -------
    mad : float
        Mean absolute difference in grey levels, 0..255, over the box's pixels and channels; inf
        when the frames differ in shape or the box is empty.
    """
    if a.shape != b.shape:
        return float("inf")
    x1, y1, x2, y2 = (int(round(v)) for v in box[:4])
    x1, y1 = max(x1, 0), max(y1, 0)
    x2, y2 = max(x2 + 1, x1), max(y2 + 1, y1)  # a box left of or above the frame is empty, never wrapped
    pa, pb = a[y1:y2, x1:x2], b[y1:y2, x1:x2]
    return float(np.abs(pa.astype(np.int16) - pb).mean()) if pa.size else float("inf")


def summarize(faces, leaked, unchanged=None) -> dict:
    """Counts of one video from its per-frame counts.

    Parameters
    ----------
    faces : (F,) array_like of int
        Faces found, per frame.
    leaked : (F,) array_like of int
        Leaked faces (faces inside a person), per frame.
    unchanged : (F,) array_like of int, optional
        Leaked faces the method left as they were, per frame. None (default): no
        ``unchanged_frames``.

    Returns
    -------
    counts : dict
        ``frames`` (F), ``face_frames`` (frames with any face), ``leaked_frames``, ``leaked_faces``,
        ``leak_rate`` (leaked frames / frames, a fraction in [0, 1], NaN without frames) and, with
        ``unchanged``, ``unchanged_frames``.
    """
    faces, leaked = np.asarray(faces), np.asarray(leaked)
    n = len(faces)
    n_leaked = int((leaked > 0).sum())
    out = {"frames": n, "face_frames": int((faces > 0).sum()), "leaked_frames": n_leaked,
           "leaked_faces": int(leaked.sum()), "leak_rate": n_leaked / n if n else float("nan")}
    if unchanged is not None:
        out["unchanged_frames"] = int((np.asarray(unchanged) > 0).sum())
    return out
