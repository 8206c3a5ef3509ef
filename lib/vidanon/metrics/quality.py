"""Full-reference image quality: PSNR and SSIM, on the whole frame or inside / outside a region mask.

Images are arrays of the same shape, (H, W) or (H, W, C); ``data_range`` is always explicit (255 for
uint8 frames, 1.0 for floats in [0, 1]). SSIM follows Wang et al. (2004) as scikit-image implements
it with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``; the same formula runs on
OpenCV's separable Gaussian filter in float32 (about 4x faster than scikit-image's float64 scipy
filters; equal to it within 1e-5, tested). A region mask is a bool (H, W) array; the masked means use
the same pixels as scikit-image's own mean (a border of half the window is left out), so an all-True
mask gives ``skimage.metrics.structural_similarity``.

Footage larger than the working size is compared on copies scaled down to it
(``vidanon.io.video.downscale``, ``downscale_mask``): a full-reference metric of a 4K frame then costs
what it costs at the working size, and the tables name that size (:func:`working_size_label`).
"""

from __future__ import annotations

import cv2
import numpy as np

# Wang et al.'s settings (REFERENCE.md section 3)
SSIM_SIGMA = 1.5
_TRUNCATE = 3.5  # scikit-image's Gaussian truncation: window 11 at sigma 1.5
SSIM_WIN = 2 * int(_TRUNCATE * SSIM_SIGMA + 0.5) + 1
SSIM_PAD = (SSIM_WIN - 1) // 2
K1, K2 = 0.01, 0.03


def working_size_label(max_side: int | None) -> str:
    """How the tables name the frame size full-reference metrics were computed at.

    Parameters
    ----------
    max_side : int or None
        The working size (long side, pixels) the frames were scaled down to; None: not scaled.

    Returns
    -------
    label : str
        ``"long side <= N px"`` or ``"native frame size"``.
    """
    return f"long side <= {max_side} px" if max_side else "native frame size"


def _check_pair(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if mask is not None and np.shape(mask) != a.shape[:2]:
        raise ValueError(f"mask shape {np.shape(mask)} does not match the image's {a.shape[:2]}")


def mse(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean squared difference of two images over all channels.

    Parameters
    ----------
    a : (H, W) or (H, W, C) ndarray
        An image (any real dtype).
    b : (H, W) or (H, W, C) ndarray
        The other image, same shape.
    mask : (H, W) ndarray of bool, optional
        Pixels to average over (any 0/1 or bool array; taken as bool).
        None (default): every pixel.

    Returns
    -------
    mse : float
        Mean squared difference in the images' units squared (grey levels^2 for uint8 frames);
        NaN when ``mask`` selects no pixel.

    Raises
    ------
    ValueError
        If the images differ in shape or ``mask`` is not (H, W).
    """
    _check_pair(a, b, mask)
    return _masked_mean(_squared_error(a, b), mask)


def _squared_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W) float64: the squared difference of each pixel, averaged over channels (exact for
    integer images: the differences are squared and summed in integers)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "ui" and b.dtype.kind in "ui" and max(a.dtype.itemsize, b.dtype.itemsize) == 1:
        d = np.subtract(a, b, dtype=np.int32)
        d *= d
        d = d.sum(axis=2, dtype=np.int64) if d.ndim == 3 else d
        return d / (a.shape[2] if a.ndim == 3 else 1)
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    return d.mean(axis=2) if d.ndim == 3 else d


def _masked_mean(values: np.ndarray, mask: np.ndarray | None) -> float:
    if mask is None:
        return float(values.mean()) if values.size else float("nan")
    mask = np.asarray(mask, dtype=bool)
    n = int(np.count_nonzero(mask))
    return float(np.sum(values, where=mask) / n) if n else float("nan")


def _psnr_of(m: float, data_range: float) -> float:
    if np.isnan(m):
        return float("nan")
    if m == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range ** 2 / m))


def psnr(a: np.ndarray, b: np.ndarray, data_range: float, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range**2 / MSE)``.

    Equals ``skimage.metrics.peak_signal_noise_ratio`` when ``mask`` is None.

    Parameters
    ----------
    a : (H, W) or (H, W, C) ndarray
        Reference image.
    b : (H, W) or (H, W, C) ndarray
        The other image, same shape.
    data_range : float
        Value range of the images: 255 for uint8 frames, 1.0 for floats in [0, 1].
    mask : (H, W) ndarray of bool, optional
        Pixels to compare (any 0/1 or bool array; taken as bool).
        None (default): every pixel.

    Returns
    -------
    psnr : float
        PSNR in dB; ``inf`` for identical images, NaN for an empty mask.

    Raises
    ------
    ValueError
        If the images differ in shape or ``mask`` is not (H, W).
    """
    return _psnr_of(mse(a, b, mask), data_range)


def ssim_map(a: np.ndarray, b: np.ndarray, data_range: float) -> np.ndarray:
    """Per-pixel SSIM with Wang's settings, averaged over channels for colour images.

    scikit-image's ``structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, full=True)`` (the same Gaussian window, 11 taps, and border rule,
    scipy's 'reflect'); the map includes the border of ``SSIM_PAD`` pixels that :func:`ssim` leaves
    out. Computed in float32 with OpenCV's filter on the images centred at half ``data_range`` (so
    the local variances are not differences of large squares): within 1e-5 of scikit-image.

    Parameters
    ----------
    a : (H, W) or (H, W, C) ndarray
        Reference image.
    b : (H, W) or (H, W, C) ndarray
        The other image, same shape.
    data_range : float
        Value range of the images: 255 for uint8 frames, 1.0 for floats in [0, 1].

    Returns
    -------
    s : (H, W) ndarray of float64
        Local SSIM in [-1, 1] (1 = identical).

    Raises
    ------
    ValueError
        If the images differ in shape, or are smaller than the 11-pixel window.
    """
    _check_pair(a, b, None)
    if min(np.shape(a)[:2]) < SSIM_WIN:
        raise ValueError(f"images of {np.shape(a)[:2]} are smaller than SSIM's {SSIM_WIN}-pixel window")
    half = np.float32(data_range / 2)
    x = np.asarray(a, dtype=np.float32) - half
    y = np.asarray(b, dtype=np.float32) - half

    def blur(z):  # Wang's Gaussian window; BORDER_REFLECT is scipy's 'reflect'
        return cv2.GaussianBlur(z, (SSIM_WIN, SSIM_WIN), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    ux, uy = blur(x), blur(y)
    vxy = blur(x * y) - ux * uy  # covariances of the centred images equal the originals'
    vsum = blur(x * x) + blur(y * y) - ux * ux - uy * uy
    ux += half  # the local means of the images themselves
    uy += half
    c1, c2 = np.float32((K1 * data_range) ** 2), np.float32((K2 * data_range) ** 2)
    num = (2 * ux * uy + c1) * (2 * vxy + c2)
    den = (ux * ux + uy * uy + c1) * (vsum + c2)
    s = num / den
    if s.ndim == 2:
        return s.astype(np.float64)
    out = s[..., 0].astype(np.float64)  # the channel mean, channel by channel (a strided mean is slow)
    for c in range(1, s.shape[2]):
        out += s[..., c]
    return out / s.shape[2]


def ssim(a: np.ndarray, b: np.ndarray, data_range: float, mask: np.ndarray | None = None) -> float:
    """Mean SSIM, over ``mask`` pixels when given.

    The mean leaves out the border of half a window (``SSIM_PAD`` pixels), as scikit-image's own
    mean does, so with no mask it equals ``skimage.metrics.structural_similarity``.

    Parameters
    ----------
    a : (H, W) or (H, W, C) ndarray
        Reference image.
    b : (H, W) or (H, W, C) ndarray
        The other image, same shape.
    data_range : float
        Value range of the images: 255 for uint8 frames, 1.0 for floats in [0, 1].
    mask : (H, W) ndarray of bool, optional
        Pixels to average over. None (default): every pixel.

    Returns
    -------
    ssim : float
        Mean SSIM in [-1, 1] (1 = identical); NaN if no pixel is left after the border of half a
        window is excluded.

    Raises
    ------
    ValueError
        If the images differ in shape or ``mask`` is not (H, W).
    """
    _check_pair(a, b, mask)
    s = ssim_map(a, b, data_range)
    keep = np.zeros(s.shape, dtype=bool)
    p = SSIM_PAD
    keep[p:s.shape[0] - p, p:s.shape[1] - p] = True
    if mask is not None:
        keep &= np.asarray(mask, dtype=bool)
    return _masked_mean(s, keep)


def region_quality(original: np.ndarray, anonymized: np.ndarray, region: np.ndarray | None,
                   data_range: float = 255.0) -> dict[str, float]:
    """PSNR (dB) and SSIM on the whole frame, inside and outside a region.

    Outside the region is the background an anonymizer should leave intact (high is good); inside
    is what it changed (low means it changed a lot).

    Parameters
    ----------
    original : (H, W) or (H, W, C) ndarray
        The original frame (the reference).
    anonymized : (H, W) or (H, W, C) ndarray
        The anonymized frame, same shape.
    region : (H, W) array_like of bool or None
        The anonymized region (cast to bool). None: the in/out values are NaN.
    data_range : float, optional
        Value range of the frames. Default 255.0, for uint8 frames (1.0 for floats in [0, 1]).

    Returns
    -------
    q : dict of str to float
        ``psnr``, ``psnr_in``, ``psnr_out`` in dB (inf where identical) and ``ssim``, ``ssim_in``,
        ``ssim_out`` in [-1, 1]; NaN for an empty part.

    Raises
    ------
    ValueError
        If the frames differ in shape or ``region`` is not (H, W).
    """
    s = ssim_map(original, anonymized, data_range)
    keep = np.zeros(s.shape, dtype=bool)
    p = SSIM_PAD
    keep[p:s.shape[0] - p, p:s.shape[1] - p] = True

    def mean_over(m):
        return _masked_mean(s, keep & m)

    err = _squared_error(original, anonymized)  # once, for the three PSNRs
    out = {"psnr": _psnr_of(_masked_mean(err, None), data_range), "ssim": mean_over(np.ones_like(keep))}
    if region is None:
        out.update(psnr_in=float("nan"), psnr_out=float("nan"), ssim_in=float("nan"), ssim_out=float("nan"))
    else:
        region = np.asarray(region, dtype=bool)
        _check_pair(original, anonymized, region)
        out.update(psnr_in=_psnr_of(_masked_mean(err, region), data_range),
                   psnr_out=_psnr_of(_masked_mean(err, ~region), data_range),
                   ssim_in=mean_over(region), ssim_out=mean_over(~region))
    return out
