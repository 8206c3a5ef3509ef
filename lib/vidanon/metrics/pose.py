"""Pose and motion preservation: how well the keypoints of an anonymized person match the original's.

Pure numpy. Keypoints are MediaPipe Pose's 33 joints as arrays ``(..., 33, 3)`` of ``x, y`` in
pixels and a visibility in [0, 1]; a joint that was not found is NaN (or visibility 0). The
ORIGINAL video's keypoints are always the reference ("ground truth"), the anonymized video's the
prediction.

OKS follows COCO's keypoint evaluation (pycocotools ``COCOeval.computeOks``) on the 17 MediaPipe
joints that have a COCO counterpart, with COCO's per-keypoint sigmas. MediaPipe -> COCO mapping
(MediaPipe index -> COCO index, name):

    0 -> 0 nose,          2 -> 1 left_eye,      5 -> 2 right_eye,     7 -> 3 left_ear,
    8 -> 4 right_ear,    11 -> 5 left_shoulder, 12 -> 6 right_shoulder, 13 -> 7 left_elbow,
    14 -> 8 right_elbow, 15 -> 9 left_wrist,   16 -> 10 right_wrist,  23 -> 11 left_hip,
    24 -> 12 right_hip,  25 -> 13 left_knee,   26 -> 14 right_knee,   27 -> 15 left_ankle,
    28 -> 16 right_ankle

(MediaPipe's eye points 2 and 5 are the eye centres; its inner/outer eye corners, mouth, hands and
feet points have no COCO counterpart and no published sigma, so OKS leaves them out; PCK and the
per-joint tables use all 33.)
"""

from __future__ import annotations

import numpy as np

N_JOINTS = 33

MEDIAPIPE_JOINTS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)

COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)

#: MediaPipe index of each COCO keypoint, in COCO order.
MEDIAPIPE_TO_COCO = np.array([0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])

#: COCO's per-keypoint sigmas (pycocotools COCOeval.Params.kpt_oks_sigmas), in COCO order.
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62,
                        1.07, 1.07, .87, .87, .89, .89]) / 10.0

#: Visibility at or above which a MediaPipe joint counts as visible.
VISIBILITY_THRESHOLD = 0.5


def _split(kps: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    kps = np.asarray(kps, dtype=float)
    if kps.ndim < 2 or kps.shape[-1] != 3:
        raise ValueError(f"{name}: expected keypoints of shape (..., J, 3) (x, y, visibility), got {kps.shape}")
    xy = kps[..., :2]
    vis = np.nan_to_num(kps[..., 2], nan=0.0)
    vis = np.where(np.isfinite(xy).all(axis=-1), vis, 0.0)  # a joint without coordinates is not visible
    return xy, vis


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Area of boxes in pixels^2.

    Parameters
    ----------
    boxes : (..., 4) array_like of float
        Boxes ``x1, y1, x2, y2`` in pixels.

    Returns
    -------
    area : (...) ndarray of float
        ``(x2 - x1) * (y2 - y1)`` in pixels^2, a negative side counting as 0.
    """
    b = np.asarray(boxes, dtype=float)
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)


def box_size(boxes: np.ndarray) -> np.ndarray:
    """The larger side of boxes in pixels: the PCK normalisation used here.

    Parameters
    ----------
    boxes : (..., 4) array_like of float
        Boxes ``x1, y1, x2, y2`` in pixels.

    Returns
    -------
    size : (...) ndarray of float
        ``max(x2 - x1, y2 - y1)`` in pixels (not clipped at 0).
    """
    b = np.asarray(boxes, dtype=float)
    return np.maximum(b[..., 2] - b[..., 0], b[..., 3] - b[..., 1])


def joint_distances(ref: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Euclidean distance in pixels per joint between two sets of keypoints.

    Parameters
    ----------
    ref : (..., J, 3) array_like of float
        Reference keypoints: ``x, y`` in pixels and a visibility in [0, 1]; NaN for a missing joint.
    pred : (..., J, 3) array_like of float
        Predicted keypoints, same layout, broadcastable against ``ref``.

    Returns
    -------
    d : (..., J) ndarray of float
        Distance in pixels; inf where ``pred`` has no joint (or ``ref`` has none: any NaN
        coordinate). Visibility is not used.

    Raises
    ------
    ValueError
        If an input is not of shape (..., J, 3).
    """
    rxy, _ = _split(ref, "ref")
    pxy, _ = _split(pred, "pred")
    d = np.linalg.norm(pxy - rxy, axis=-1)
    return np.where(np.isfinite(d), d, np.inf)


def keypoint_similarity(ref: np.ndarray, pred: np.ndarray, area: np.ndarray | float,
                        vis_thresh: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """COCO's per-keypoint similarity ``exp(-d^2 / (2 s^2 k^2))`` on the 17 COCO joints.

    As pycocotools: ``k = 2 sigma`` with COCO's per-keypoint sigmas, ``d`` the distance in pixels
    and ``s^2`` the object scale.

    Parameters
    ----------
    ref : (..., 33, 3) array_like of float
        Reference MediaPipe keypoints: ``x, y`` in pixels and a visibility in [0, 1].
    pred : (..., 33, 3) array_like of float
        Predicted MediaPipe keypoints, same layout.
    area : (...) array_like of float or float
        Object scale s^2 in pixels^2 (COCO uses the segment area; here the person box area),
        broadcast over ``...``.
    vis_thresh : float, optional
        Visibility, in [0, 1], at or above which a reference joint counts as visible. Default
        ``VISIBILITY_THRESHOLD`` (0.5).

    Returns
    -------
    ks : (..., 17) ndarray of float
        Similarity in [0, 1], in COCO order; NaN where the reference joint is not visible; 0 where
        the predicted joint is missing.

    Raises
    ------
    ValueError
        If ``ref`` or ``pred`` does not have 33 joints of 3 values.
    """
    ref, pred = np.asarray(ref, dtype=float), np.asarray(pred, dtype=float)
    for a, n in ((ref, "ref"), (pred, "pred")):
        if a.shape[-2] != N_JOINTS:
            raise ValueError(f"{n}: expected {N_JOINTS} MediaPipe joints, got shape {a.shape}")
    r, p = ref[..., MEDIAPIPE_TO_COCO, :], pred[..., MEDIAPIPE_TO_COCO, :]
    _, rvis = _split(r, "ref")
    d = joint_distances(r, p)
    var = (2 * COCO_SIGMAS) ** 2  # as pycocotools: vars = (sigmas * 2) ** 2
    area = np.asarray(area, dtype=float)[..., None]
    e = d ** 2 / var / (area + np.spacing(1)) / 2
    ks = np.exp(-e)
    return np.where(rvis >= vis_thresh, ks, np.nan)


def oks(ref: np.ndarray, pred: np.ndarray, area: np.ndarray | float,
        vis_thresh: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """Object keypoint similarity (COCO): mean keypoint similarity over the reference's visible joints.

    Only the 17 COCO joints count (:func:`keypoint_similarity`). A missing predicted joint scores 0.

    Parameters
    ----------
    ref : (..., 33, 3) array_like of float
        Reference MediaPipe keypoints: ``x, y`` in pixels and a visibility in [0, 1].
    pred : (..., 33, 3) array_like of float
        Predicted MediaPipe keypoints, same layout.
    area : (...) array_like of float or float
        Object scale s^2 in pixels^2 (here the person box area, e.g. :func:`box_area`).
    vis_thresh : float, optional
        Visibility, in [0, 1], at or above which a reference joint counts as visible. Default
        ``VISIBILITY_THRESHOLD`` (0.5).

    Returns
    -------
    oks : (...) ndarray of float
        OKS in [0, 1]; NaN where the reference has no visible COCO joint.

    Raises
    ------
    ValueError
        If ``ref`` or ``pred`` does not have 33 joints of 3 values.
    """
    ks = keypoint_similarity(ref, pred, area, vis_thresh)
    n = np.isfinite(ks).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, np.nansum(ks, axis=-1) / np.maximum(n, 1), np.nan)


def pck(ref: np.ndarray, pred: np.ndarray, size: np.ndarray | float, alpha: float,
        *, vis_thresh: float = VISIBILITY_THRESHOLD, per_joint: bool = False) -> np.ndarray:
    """Percentage of correct keypoints, as a fraction in [0, 1].

    A joint is correct when it lies within ``alpha * size`` pixels of the reference joint. Only
    joints visible in the reference count; all J joints are used (33 for MediaPipe).

    Parameters
    ----------
    ref : (..., J, 3) array_like of float
        Reference keypoints: ``x, y`` in pixels and a visibility in [0, 1].
    pred : (..., J, 3) array_like of float
        Predicted keypoints, same layout.
    size : (...) array_like of float or float
        Person box size in pixels, e.g. :func:`box_size`.
    alpha : float
        Tolerance as a fraction of ``size``.
    vis_thresh : float, optional
        Visibility, in [0, 1], at or above which a reference joint counts as visible. Default
        ``VISIBILITY_THRESHOLD`` (0.5).
    per_joint : bool, optional
        False (default): the fraction per person; True: the per-joint results.

    Returns
    -------
    pck : (...) or (..., J) ndarray of float
        Fractions in [0, 1] (NaN: no visible reference joint), or with ``per_joint`` a (..., J)
        array of 1/0/NaN (NaN: joint not visible in the reference).

    Raises
    ------
    ValueError
        If an input is not of shape (..., J, 3).
    """
    _, rvis = _split(ref, "ref")
    d = joint_distances(ref, pred)
    thr = alpha * np.asarray(size, dtype=float)[..., None]
    ok = np.where(rvis >= vis_thresh, (d <= thr).astype(float), np.nan)
    if per_joint:
        return ok
    n = np.isfinite(ok).sum(axis=-1)
    return np.where(n > 0, np.nansum(ok, axis=-1) / np.maximum(n, 1), np.nan)


def visibility_agreement(ref: np.ndarray, pred: np.ndarray,
                         vis_thresh: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """Fraction of joints whose visible/not-visible state is the same in prediction and reference.

    A joint is visible when its visibility is >= ``vis_thresh`` (a joint without coordinates is not
    visible); all J joints count.

    Parameters
    ----------
    ref : (..., J, 3) array_like of float
        Reference keypoints: ``x, y`` in pixels and a visibility in [0, 1].
    pred : (..., J, 3) array_like of float
        Predicted keypoints, same layout.
    vis_thresh : float, optional
        Visibility threshold in [0, 1]. Default ``VISIBILITY_THRESHOLD`` (0.5).

    Returns
    -------
    agreement : (...) ndarray of float
        Fraction in [0, 1] of the J joints.

    Raises
    ------
    ValueError
        If an input is not of shape (..., J, 3).
    """
    _, rvis = _split(ref, "ref")
    _, pvis = _split(pred, "pred")
    return ((rvis >= vis_thresh) == (pvis >= vis_thresh)).mean(axis=-1)


def velocity_error(ref: np.ndarray, pred: np.ndarray, scale: np.ndarray | float = 1.0,
                   vis_thresh: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """Motion preservation: per-joint error of frame-to-frame velocities along one trajectory.

    For each step t -> t+1 where the joint is visible in both frames of the reference AND found
    (visibility > 0) in both frames of the prediction, the error is
    ``|| (p[t+1] - p[t]) - (r[t+1] - r[t]) || / scale[t]``. A method that keeps each single pose
    but scrambles motion scores high; identical trajectories score 0.

    Parameters
    ----------
    ref : (T, J, 3) array_like of float
        Reference keypoints of ONE person over consecutive sampled frames: ``x, y`` in pixels and
        a visibility in [0, 1].
    pred : (T, J, 3) array_like of float
        Predicted keypoints of the same person and frames.
    scale : (T,) array_like of float or float, optional
        Divides the velocities (e.g. the person's box size, so the error is in box sizes per frame
        step); step t -> t+1 uses ``scale[t]``. Default 1: pixels per step.
    vis_thresh : float, optional
        Visibility, in [0, 1], at or above which a reference joint counts as visible. Default
        ``VISIBILITY_THRESHOLD`` (0.5).

    Returns
    -------
    err : (T-1, J) ndarray of float
        Velocity error per step and joint, in pixels / ``scale`` per step; NaN where a step is not
        measurable; (0, J) when T < 2.

    Raises
    ------
    ValueError
        If ``ref`` and ``pred`` are not two (T, J, 3) arrays of the same shape.
    """
    rxy, rvis = _split(ref, "ref")
    pxy, pvis = _split(pred, "pred")
    if rxy.ndim != 3 or rxy.shape != pxy.shape:
        raise ValueError(f"expected two (T, J, 3) trajectories of the same shape, got {ref.shape} and {pred.shape}")
    if rxy.shape[0] < 2:
        return np.full((0, rxy.shape[1]), np.nan)
    scale = np.broadcast_to(np.asarray(scale, dtype=float), (rxy.shape[0],))[:-1, None]
    ok = (rvis[1:] >= vis_thresh) & (rvis[:-1] >= vis_thresh) & (pvis[1:] > 0) & (pvis[:-1] > 0)
    err = np.linalg.norm(np.diff(pxy, axis=0) - np.diff(rxy, axis=0), axis=-1) / scale
    return np.where(ok, err, np.nan)
