"""Hand-crafted colour/texture histogram baseline (no learning): what clothing colours alone give away.

Each crop is resized to 128x64 and cut into 6 horizontal stripes (head to feet). Per stripe: a joint
HSV colour histogram (8 hue x 4 saturation x 4 value bins) and a gradient-orientation histogram
(8 unsigned orientations, magnitude-weighted) as texture. Each part is normalized to sum 1, square-
rooted (so that the cosine of two features is the Bhattacharyya coefficient) and the concatenation
(6 x 136 = 816-d) L2-normalized.
"""

from __future__ import annotations

import numpy as np

from vidanon.models.embed import check_crops, l2_normalize

STRIPES, H_BINS, S_BINS, V_BINS, O_BINS = 6, 8, 4, 4, 8


def _normalized_sqrt(h: np.ndarray) -> np.ndarray:
    s = h.sum(axis=-1, keepdims=True)
    return np.sqrt(h / np.maximum(s, 1e-12))


def hsv_histogram(rgb: np.ndarray) -> np.ndarray:
    """The (816,) float32 feature of one RGB uint8 crop (not yet L2-normalized).

    Parameters
    ----------
    rgb : (H, W, 3) ndarray of uint8
        RGB crop of any size (resized to 128x64, height x width).

    Returns
    -------
    feat : (816,) ndarray of float32
        Per stripe (6, head to feet): 128 colour bins then 8 orientation bins, each part
        normalized to sum 1 and square-rooted.
    """
    import cv2

    img = cv2.resize(rgb, (64, 128), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # H in [0, 180), S, V in [0, 255]
    colour = ((hsv[..., 0].astype(int) * H_BINS // 180) * S_BINS * V_BINS
              + (hsv[..., 1].astype(int) * S_BINS // 256) * V_BINS + hsv[..., 2].astype(int) * V_BINS // 256)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    mag = np.hypot(gx, gy)
    orient = ((np.arctan2(gy, gx) % np.pi) / np.pi * O_BINS).astype(int).clip(0, O_BINS - 1)
    stripe = np.arange(128) * STRIPES // 128
    rows = np.broadcast_to(stripe[:, None], colour.shape)
    n_col = H_BINS * S_BINS * V_BINS
    col = np.bincount((rows * n_col + colour).ravel(), minlength=STRIPES * n_col).reshape(STRIPES, n_col)
    tex = np.bincount((rows * O_BINS + orient).ravel(), weights=mag.ravel(),
                      minlength=STRIPES * O_BINS).reshape(STRIPES, O_BINS)
    return np.concatenate([_normalized_sqrt(col.astype(float)), _normalized_sqrt(tex)], axis=1).ravel().astype(
        np.float32)


class HSVHistogram:
    """Hand-crafted HSV colour + gradient-orientation stripe histogram (no learning), 816-d."""
    name = "hsv_histogram"
    kind = "handcrafted"
    description = "hand-crafted HSV colour + gradient-orientation stripe histogram (no learning)"

    def embed(self, crops) -> np.ndarray:
        """Stripe histograms of crops, L2-normalized.

        Parameters
        ----------
        crops : iterable of array_like
            Crops, each (H, W, 3) uint8 RGB of any size.

        Returns
        -------
        feats : (N, 816) ndarray of float32
            Rows of unit L2 norm (the cosine of two rows is the mean of their parts' Bhattacharyya
            coefficients when no part is empty).

        Raises
        ------
        ValueError
            If a crop is not an (H, W, 3) uint8 array.
        """
        crops = check_crops(crops)
        if not crops:
            return np.zeros((0, STRIPES * (H_BINS * S_BINS * V_BINS + O_BINS)), np.float32)
        return l2_normalize(np.stack([hsv_histogram(c) for c in crops]))
