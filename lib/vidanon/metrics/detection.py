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
    """Intersection over union of every pair of boxes of two sets.

    Same definition as ``torchvision.ops.box_iou``: continuous coordinates, no +1.

    Parameters
    ----------
    a : (N, 4) array_like of float
        Boxes ``x1, y1, x2, y2`` in pixels; further columns (a score) are ignored.
    b : (M, 4) array_like of float
        Boxes ``x1, y1, x2, y2`` in pixels; further columns are ignored.

    Returns
    -------
    iou : (N, M) ndarray of float
        IoU of ``a[i]`` and ``b[j]``, in [0, 1]; 0 where the union is empty.

    Raises
    ------
    ValueError
        If a non-empty ``a`` or ``b`` is not a 2-D array with at least 4 columns.
    """
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

    Parameters
    ----------
    ref : (N, 4) array_like of float
        Reference boxes ``x1, y1, x2, y2`` in pixels (a score column is ignored).
    pred : (M, 4) array_like of float
        Predicted boxes ``x1, y1, x2, y2`` in pixels (a score column is ignored).
    iou_threshold : float, optional
        Smallest IoU, in [0, 1], of a matched pair. Default 0.5.
    method : {'hungarian', 'greedy'}, optional
        ``'hungarian'`` (default) maximises the total IoU (scipy's ``linear_sum_assignment``),
        then drops the pairs below the threshold; ``'greedy'`` takes the highest-IoU pair first, as
        COCO's evaluation.

    Returns
    -------
    ref_idx : (K,) ndarray of int
        Indices into ``ref`` of the matched pairs.
    pred_idx : (K,) ndarray of int
        Indices into ``pred`` of the matched pairs.
    iou : (K,) ndarray of float
        IoU of each matched pair, in [``iou_threshold``, 1].

    Raises
    ------
    ValueError
        If the boxes are malformed (see :func:`box_iou`), or ``method`` is unknown (checked only
        when both sets are non-empty).
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
    """Detection counts of one frame (or summed over many frames with ``+``).

    Attributes
    ----------
    n_ref : int
        Detections on the original frame (the reference).
    n_pred : int
        Detections on the anonymized frame.
    n_matched : int
        Reference detections matched one-to-one by an anonymized detection.
    iou_sum : float
        Sum of the IoUs of the matched pairs.
    recall : float
        ``n_matched / n_ref``, in [0, 1] (NaN when there is no reference detection).
    mean_iou : float
        Mean IoU over the matched pairs, in [0, 1] (NaN when none).
    n_extra : int
        Anonymized detections without a reference (``n_pred - n_matched``).
    """

    n_ref: int
    n_pred: int
    n_matched: int
    iou_sum: float

    @property
    def recall(self) -> float:
        """Share of the reference detections found again, ``n_matched / n_ref``.

        Returns
        -------
        recall : float
            Fraction in [0, 1]; NaN when ``n_ref`` is 0.
        """
        return self.n_matched / self.n_ref if self.n_ref else float("nan")

    @property
    def mean_iou(self) -> float:
        """Mean IoU over the matched pairs, ``iou_sum / n_matched``.

        Returns
        -------
        mean_iou : float
            IoU in [0, 1]; NaN when no pair was matched.
        """
        return self.iou_sum / self.n_matched if self.n_matched else float("nan")

    @property
    def n_extra(self) -> int:
        """Anonymized detections without a reference, ``n_pred - n_matched``.

        Returns
        -------
        n_extra : int
            Count of unmatched anonymized detections.
        """
        return self.n_pred - self.n_matched

    def __add__(self, other: "Preservation") -> "Preservation":
        """Counts of two frames (or sets of frames) summed.

        Parameters
        ----------
        other : Preservation
            The counts to add.

        Returns
        -------
        total : Preservation
            Every count (and ``iou_sum``) summed.
        """
        return Preservation(self.n_ref + other.n_ref, self.n_pred + other.n_pred,
                            self.n_matched + other.n_matched, self.iou_sum + other.iou_sum)


def detection_preservation(ref, pred, iou_threshold: float = 0.5, method: str = "hungarian") -> Preservation:
    """How many of the original frame's detections are found again in the anonymized frame.

    ``ref`` and ``pred`` come from the same detector, on the original and on the anonymized frame;
    they are matched one-to-one at IoU >= ``iou_threshold`` (:func:`match_boxes`).

    Parameters
    ----------
    ref : (N, 4) array_like of float
        Detections on the original frame, ``x1, y1, x2, y2`` in pixels (a score column is ignored).
    pred : (M, 4) array_like of float
        Detections on the anonymized frame, ``x1, y1, x2, y2`` in pixels (a score column is ignored).
    iou_threshold : float, optional
        Smallest IoU, in [0, 1], of a matched pair. Default 0.5.
    method : {'hungarian', 'greedy'}, optional
        Matching method (see :func:`match_boxes`). Default ``'hungarian'``.

    Returns
    -------
    counts : Preservation
        The frame's counts: ``n_ref = N``, ``n_pred = M``, matched pairs and their IoU sum.

    Raises
    ------
    ValueError
        If the boxes are malformed or ``method`` is unknown (see :func:`match_boxes`).
    """
    ref, pred = _boxes(ref, "ref"), _boxes(pred, "pred")
    _, _, iou = match_boxes(ref, pred, iou_threshold, method)
    return Preservation(len(ref), len(pred), len(iou), float(iou.sum()))
