"""Temporal consistency: warping error (Lai et al. 2018) and tLP (TecoGAN), as pure array functions.

Flows are (H, W, 2) float arrays in pixels, ``flow[y, x] = (dx, dy)``: the pixel (x, y) of frame t is
at (x + dx, y + dy) in frame t+1 (``flow_fw``, t -> t+1); ``flow_bw`` is t+1 -> t. The flows come
from the ORIGINAL video (the anonymized one would reward a method for moving its own artefacts
consistently), computed by the caller with any estimator (the stage uses OpenCV's Farneback).
Images are float arrays in [0, 1], (H, W) or (H, W, C).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import map_coordinates


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w]
    return xs.astype(np.float64), ys.astype(np.float64)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` (frame t+1) at ``x + flow(x)``: frame t+1 warped back onto frame t.

    Bilinear; samples outside the frame take the nearest edge value.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        Frame t+1 (any real dtype; e.g. float in [0, 1]), or any field to warp (e.g. a flow).
    flow : (H, W, 2) ndarray of float
        Forward flow t -> t+1 in pixels, ``flow[y, x] = (dx, dy)``.

    Returns
    -------
    warped : (H, W) or (H, W, C) ndarray of float64
        ``image`` sampled at ``(x + dx, y + dy)`` for every pixel (x, y) of frame t.

    Raises
    ------
    ValueError
        If ``flow`` is not (H, W, 2) for the image's H, W.
    """
    h, w = image.shape[:2]
    if flow.shape != (h, w, 2):
        raise ValueError(f"flow shape {flow.shape} does not match the image's {(h, w, 2)}")
    xs, ys = _grid(h, w)
    coords = [ys + flow[..., 1], xs + flow[..., 0]]
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        return map_coordinates(img, coords, order=1, mode="nearest")
    return np.stack([map_coordinates(img[..., c], coords, order=1, mode="nearest")
                     for c in range(img.shape[2])], axis=-1)


def non_occluded(flow_fw: np.ndarray, flow_bw: np.ndarray, alpha: float = 0.01,
                 beta: float = 0.5) -> np.ndarray:
    """Mask of the pixels of frame t that stay visible in t+1 (forward-backward check).

    A pixel is occluded when ``|F_fw + F_bw(x + F_fw)|^2 >= alpha (|F_fw|^2 + |F_bw(x + F_fw)|^2) + beta``
    (Sundaram et al. 2010, as used by Lai et al. and Ruder et al.), or when it leaves the frame.

    Parameters
    ----------
    flow_fw : (H, W, 2) ndarray of float
        Forward flow t -> t+1 in pixels, ``(dx, dy)``.
    flow_bw : (H, W, 2) ndarray of float
        Backward flow t+1 -> t in pixels.
    alpha : float, optional
        Relative tolerance of the check (dimensionless). Default 0.01.
    beta : float, optional
        Absolute tolerance in pixels^2. Default 0.5.

    Returns
    -------
    mask : (H, W) ndarray of bool
        True where the pixel of frame t is visible in t+1.

    Raises
    ------
    ValueError
        If ``flow_bw`` does not have the shape of ``flow_fw``.
    """
    h, w = flow_fw.shape[:2]
    bw = warp(flow_bw, flow_fw)
    diff = ((flow_fw + bw) ** 2).sum(axis=2)
    bound = alpha * ((flow_fw ** 2).sum(axis=2) + (bw ** 2).sum(axis=2)) + beta
    xs, ys = _grid(h, w)
    tx, ty = xs + flow_fw[..., 0], ys + flow_fw[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    return (diff < bound) & inside


def warping_error(frame_t: np.ndarray, frame_t1: np.ndarray, flow_fw: np.ndarray,
                  valid: np.ndarray, *, region: np.ndarray | None = None) -> float:
    """Mean squared difference between frame t and frame t+1 warped back with the original's flow.

    Squared differences are averaged over channels and pixels. Lai et al. report the mean over a
    video's frame pairs.

    Parameters
    ----------
    frame_t : (H, W) or (H, W, C) ndarray of float
        Frame t, values in [0, 1].
    frame_t1 : (H, W) or (H, W, C) ndarray of float
        Frame t+1, values in [0, 1], same shape.
    flow_fw : (H, W, 2) ndarray of float
        Forward flow t -> t+1 of the ORIGINAL video, in pixels.
    valid : (H, W) array_like of bool
        The non-occluded mask (:func:`non_occluded`).
    region : (H, W) array_like of bool, optional
        Restricts the mean to this area (e.g. the anonymized region). None (default): the whole
        frame.

    Returns
    -------
    err : float
        Mean squared difference, in [0, 1] for frames in [0, 1]; NaN when no pixel is left.

    Raises
    ------
    ValueError
        If the frames differ in shape, or ``flow_fw`` does not match them.
    """
    if frame_t.shape != frame_t1.shape:
        raise ValueError(f"frames differ in shape: {frame_t.shape} vs {frame_t1.shape}")
    return warped_error(frame_t, warp(frame_t1, flow_fw), valid, region=region)


def warped_error(frame_t: np.ndarray, warped_t1: np.ndarray, valid: np.ndarray, *,
                 region: np.ndarray | None = None) -> float:
    """:func:`warping_error` given frame t+1 already warped back onto frame t.

    The stage warps each version's frame t+1 once (``warp(frame_t1, flow_fw)``) and scores it on the
    whole frame and inside the method's regions.

    Parameters
    ----------
    frame_t : (H, W) or (H, W, C) ndarray of float
        Frame t, values in [0, 1].
    warped_t1 : ndarray of float, same shape
        Frame t+1 warped back onto t with the original's forward flow, values in [0, 1].
    valid : (H, W) array_like of bool
        The non-occluded mask (:func:`non_occluded`).
    region : (H, W) array_like of bool, optional
        Restricts the mean to this area. None (default): the whole frame.

    Returns
    -------
    err : float
        Mean squared difference, in [0, 1]; NaN when no pixel is left.

    Raises
    ------
    ValueError
        If the two frames differ in shape.
    """
    if frame_t.shape != warped_t1.shape:
        raise ValueError(f"frames differ in shape: {frame_t.shape} vs {warped_t1.shape}")
    m = np.asarray(valid, dtype=bool)
    if region is not None:
        m = m & np.asarray(region, dtype=bool)
    if not m.any():
        return float("nan")
    d = (np.asarray(frame_t, dtype=np.float64) - warped_t1) ** 2
    if d.ndim == 3:
        d = d.mean(axis=2)
    return float(d[m].mean())


def tlp(d_original: np.ndarray, d_anonymized: np.ndarray) -> np.ndarray:
    """tLP per frame pair: ``|d(orig[t-1], orig[t]) - d(anon[t-1], anon[t])|`` (TecoGAN).

    0 means the anonymized video changes from frame to frame exactly as much as the original.
    TecoGAN reports it x100 with LPIPS; the unit is that of the distance used.

    Parameters
    ----------
    d_original : (P,) array_like of float
        Perceptual distances between consecutive frames (or crops) of the original video.
    d_anonymized : (P,) array_like of float
        The same distances in the anonymized video, same length.

    Returns
    -------
    tlp : (P,) ndarray of float64
        Absolute difference per frame pair, >= 0, in the unit of the distance.

    Raises
    ------
    ValueError
        If the two arrays differ in shape.
    """
    a = np.asarray(d_original, dtype=np.float64)
    b = np.asarray(d_anonymized, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"distance arrays differ in shape: {a.shape} vs {b.shape}")
    return np.abs(a - b)
