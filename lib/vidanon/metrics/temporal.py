"""Temporal consistency: warping error (Lai et al. 2018) and tLP (TecoGAN), as pure array functions.

Flows are (H, W, 2) float arrays in pixels, ``flow[y, x] = (dx, dy)``: the pixel (x, y) of frame t is
at (x + dx, y + dy) in frame t+1 (``flow_fw``, t -> t+1); ``flow_bw`` is t+1 -> t. The flows come
from the ORIGINAL video (the anonymized one would reward a method for moving its own artefacts
consistently), computed by the caller with any estimator (the stage uses OpenCV's Farneback).
Images are float arrays in [0, 1], (H, W) or (H, W, C).
"""

from __future__ import annotations

import numpy as np


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w]
    return xs.astype(np.float64), ys.astype(np.float64)


class Warper:
    """Bilinear sampling at ``x + flow(x)``, planned once per flow and applied to any number of images
    (the stage warps every version's frame t+1 with the original's one flow).

    Samples outside the frame take the nearest edge value (``scipy.ndimage.map_coordinates(order=1,
    mode='nearest')``, and Lai et al.'s Resample2d, which clamps its indices).

    Parameters
    ----------
    flow : (H, W, 2) ndarray of float
        Forward flow t -> t+1 in pixels, ``flow[y, x] = (dx, dy)``.
    """

    def __init__(self, flow: np.ndarray):
        flow = np.asarray(flow, dtype=np.float64)
        if flow.ndim != 3 or flow.shape[2] != 2:
            raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
        h, w = flow.shape[:2]
        xs, ys = _grid(h, w)
        x = np.clip(xs + flow[..., 0], 0, w - 1).ravel()
        y = np.clip(ys + flow[..., 1], 0, h - 1).ravel()
        x0, y0 = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
        x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
        fx, fy = x - x0, y - y0
        self.shape = (h, w)
        self._index = (y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1)
        self._weight = ((1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Sample ``image`` at ``x + flow(x)``.

        Parameters
        ----------
        image : (H, W) or (H, W, C) ndarray
            Any real dtype (e.g. a frame as float in [0, 1] or uint8, or a flow); the weights are
            float64, so a uint8 frame warped and then divided by 255 equals the float frame warped.

        Returns
        -------
        warped : ndarray of float64, the shape of ``image``

        Raises
        ------
        ValueError
            If ``image`` is not of the flow's H, W.
        """
        img = np.asarray(image)
        if img.dtype.kind not in "uif":
            img = img.astype(np.float64)
        if img.shape[:2] != self.shape:
            raise ValueError(f"flow shape {self.shape + (2,)} does not match the image's {img.shape[:2] + (2,)}")
        chans = img[..., None] if img.ndim == 2 else img
        out = np.empty(chans.shape, dtype=np.float64)
        for c in range(chans.shape[2]):  # 1-D gathers per channel: twice as fast as row gathers
            ch = np.ascontiguousarray(chans[..., c]).ravel()  # gathered in its own dtype (uint8: 3x faster)
            acc = np.take(ch, self._index[0]) * self._weight[0]
            for i, wt in zip(self._index[1:], self._weight[1:]):
                acc += np.take(ch, i) * wt
            out[..., c] = acc.reshape(self.shape)
        return out[..., 0] if img.ndim == 2 else out


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` (frame t+1) at ``x + flow(x)``: frame t+1 warped back onto frame t.

    Bilinear; samples outside the frame take the nearest edge value (see :class:`Warper`, which
    plans the sampling once for many images).

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
    return Warper(flow)(image)


def flow_gradients(flow: np.ndarray) -> np.ndarray:
    """Squared spatial gradient magnitude of a flow, ``|grad u|^2 + |grad v|^2``, as Lai et al.'s code.

    Forward differences (``f[x] - f[x + 1]``, 0 in the last column / row), as ``compute_flow_gradients``
    of Lai et al.'s evaluation code.

    Parameters
    ----------
    flow : (H, W, 2) ndarray of float
        A flow in pixels, ``(dx, dy)``.

    Returns
    -------
    g : (H, W) ndarray of float64
        ``du_x^2 + dv_x^2 + du_y^2 + dv_y^2`` in pixels^2 per pixel^2.
    """
    f = np.asarray(flow, dtype=np.float64)
    d_col = np.zeros_like(f)
    d_row = np.zeros_like(f)
    d_col[:, :-1] = f[:, :-1] - f[:, 1:]
    d_row[:-1, :] = f[:-1, :] - f[1:, :]
    return (d_col ** 2).sum(axis=2) + (d_row ** 2).sum(axis=2)


def non_occluded(flow_fw: np.ndarray, flow_bw: np.ndarray, alpha: float = 0.01,
                 beta: float = 0.5, *, motion_boundaries: bool = True, out_of_frame: bool = False) -> np.ndarray:
    """Mask of the pixels of frame t that stay visible in t+1, as Lai et al. (2018) compute it.

    A pixel is occluded when the forward-backward check fails,
    ``|F_fw + F_bw(x + F_fw)|^2 > alpha (|F_fw|^2 + |F_bw(x + F_fw)|^2) + beta``, or when it lies on a
    motion boundary, ``|grad F_fw|^2 > 0.01 |F_fw|^2 + 0.002`` (both from Sundaram et al. 2010, as in
    Lai et al.'s ``detect_occlusion``, called with the flows in the order of their evaluation).

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
    motion_boundaries : bool, optional
        Also mask motion boundaries (default True, as Lai et al.).
    out_of_frame : bool, optional
        Also mask the pixels whose flow leaves the frame (default False: Lai et al. keep them; the
        warp then samples the nearest edge pixel).

    Returns
    -------
    mask : (H, W) ndarray of bool
        True where the pixel of frame t is visible in t+1.

    Raises
    ------
    ValueError
        If ``flow_bw`` does not have the shape of ``flow_fw``.
    """
    if flow_bw.shape != flow_fw.shape:
        raise ValueError(f"flow shapes differ: {flow_fw.shape} vs {flow_bw.shape}")
    h, w = flow_fw.shape[:2]
    fw = np.asarray(flow_fw, dtype=np.float64)
    bw = Warper(fw)(flow_bw)
    mag_fw = (fw ** 2).sum(axis=2)
    occluded = ((fw + bw) ** 2).sum(axis=2) > alpha * (mag_fw + (bw ** 2).sum(axis=2)) + beta
    if motion_boundaries:
        occluded |= flow_gradients(fw) > 0.01 * mag_fw + 0.002
    if out_of_frame:
        xs, ys = _grid(h, w)
        tx, ty = xs + fw[..., 0], ys + fw[..., 1]
        occluded |= ~((tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1))
    return ~occluded


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
        Mean squared difference, in [0, 1] for frames in [0, 1]. When ``valid`` keeps no pixel: 0.0
        over the whole frame (Lai et al.'s fallback), NaN inside a ``region``.

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
        Mean squared difference, in [0, 1]. When ``valid`` keeps no pixel: 0.0 over the whole frame
        (Lai et al.'s fallback), NaN inside a ``region``.

    Raises
    ------
    ValueError
        If the two frames differ in shape.
    """
    return masked_error(squared_error_map(frame_t, warped_t1), valid, region=region)


def squared_error_map(frame_t: np.ndarray, warped_t1: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per-pixel squared difference of frame t and the warped frame t+1, averaged over channels.

    Parameters
    ----------
    frame_t : (H, W) or (H, W, C) ndarray
        Frame t (any real dtype).
    warped_t1 : ndarray of float, same shape
        Frame t+1 warped back onto t, in the unit of ``frame_t``.
    scale : float, optional
        Both are divided by it first (255 for uint8 frames gives the error of frames in [0, 1]).
        Default 1.

    Returns
    -------
    err : (H, W) ndarray of float64

    Raises
    ------
    ValueError
        If the two frames differ in shape.
    """
    if np.shape(frame_t) != np.shape(warped_t1):
        raise ValueError(f"frames differ in shape: {np.shape(frame_t)} vs {np.shape(warped_t1)}")
    d = np.subtract(frame_t, warped_t1, dtype=np.float64)
    if scale != 1.0:
        d /= scale
    d *= d
    if d.ndim == 2:
        return d
    out = d[..., 0].copy()  # the channel mean, channel by channel (a strided mean is slow)
    for c in range(1, d.shape[2]):
        out += d[..., c]
    return out / d.shape[2]


def masked_error(err: np.ndarray, valid: np.ndarray, *, region: np.ndarray | None = None) -> float:
    """The mean of an error map (:func:`squared_error_map`) over the non-occluded pixels (and a region),
    with Lai et al.'s fallback: 0.0 when no pixel of the frame is left, NaN when none of the region is.

    Parameters
    ----------
    err : (H, W) ndarray of float
        Per-pixel error.
    valid : (H, W) array_like of bool
        The non-occluded mask (:func:`non_occluded`).
    region : (H, W) array_like of bool, optional
        Restricts the mean to this area. None (default): the whole frame.

    Returns
    -------
    mean : float
    """
    m = np.asarray(valid, dtype=bool)
    if region is not None:
        m = m & np.asarray(region, dtype=bool)
    n = int(np.count_nonzero(m))
    if not n:  # Lai et al.: every pixel occluded -> the masked sum (0) over all pixels
        return float("nan") if region is not None else 0.0
    return float(np.sum(err, where=m) / n)


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
