"""Detection preservation: are the people (or faces) found in the original frame still found, at the
same place, in the anonymized frame?

Pure numpy/scipy. Boxes are ``(N, 4)`` arrays ``x1, y1, x2, y2`` in pixels. The detections on the
ORIGINAL frame are the reference; the same detector's detections on the anonymized frame are
matched to them one-to-one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


def _boxes(b, name: str) -> np.ndarray:
    b = np.asarray(b, dtype=float)
    if b.size == 0:
        return b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] < 4:
        raise ValueError(f"{name}: expected boxes of shape (N, 4) x1, y1, x2, y2, got {b.shape}")
    return b[:, :4]  # a score column, if any, is ignored


def box_iou(a, b) -> np.ndarray:
    """Intersection over union ``(N, M)`` in [0, 1] of boxes ``a (N, 4)`` and ``b (M, 4)``
    (same definition as ``torchvision.ops.box_iou``: continuous coordinates, no +1)."""
    a, b = _boxes(a, "a"), _boxes(b, "b")
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def match_boxes(ref, pred, iou_threshold: float = 0.5,
                method: str = "hungarian") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matching of ``pred`` boxes to ``ref`` boxes with IoU >= ``iou_threshold``.

    ``method``: ``"hungarian"`` (maximises the total IoU, scipy's linear_sum_assignment) or
    ``"greedy"`` (highest IoU pair first, as COCO's evaluation). Returns ``(ref_idx, pred_idx, iou)``
    of the matched pairs.
    """
    iou = box_iou(ref, pred)
    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    if iou.size == 0:
        return empty
    if method == "hungarian":
        r, p = linear_sum_assignment(-iou)
        keep = iou[r, p] >= iou_threshold
        r, p = r[keep], p[keep]
    elif method == "greedy":
        r_list, p_list = [], []
        used_r, used_p = set(), set()
        for flat in np.argsort(-iou, axis=None, kind="stable"):
            i, j = np.unravel_index(flat, iou.shape)
            if iou[i, j] < iou_threshold:
                break
            if i in used_r or j in used_p:
                continue
            used_r.add(i), used_p.add(j)
            r_list.append(i), p_list.append(j)
        r, p = np.array(r_list, int), np.array(p_list, int)
    else:
        raise ValueError(f"method: expected 'hungarian' or 'greedy', got {method!r}")
    return r, p, iou[r, p]


@dataclass(frozen=True)
class Preservation:
    """Counts of one frame (or summed over many): ``recall = n_matched / n_ref``; ``mean_iou`` over
    the matched pairs (NaN when none); ``n_extra`` = anonymized detections without a reference."""

    n_ref: int
    n_pred: int
    n_matched: int
    iou_sum: float

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_ref if self.n_ref else float("nan")

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.n_matched if self.n_matched else float("nan")

    @property
    def n_extra(self) -> int:
        return self.n_pred - self.n_matched

    def __add__(self, other: "Preservation") -> "Preservation":
        return Preservation(self.n_ref + other.n_ref, self.n_pred + other.n_pred,
                            self.n_matched + other.n_matched, self.iou_sum + other.iou_sum)


def detection_preservation(ref, pred, iou_threshold: float = 0.5, method: str = "hungarian") -> Preservation:
    """How many of the original frame's detections ``ref`` are found again in ``pred`` (detections of
    the same detector on the anonymized frame), matched one-to-one at IoU >= ``iou_threshold``."""
    ref, pred = _boxes(ref, "ref"), _boxes(pred, "pred")
    _, _, iou = match_boxes(ref, pred, iou_threshold, method)
    return Preservation(len(ref), len(pred), len(iou), float(iou.sum()))
