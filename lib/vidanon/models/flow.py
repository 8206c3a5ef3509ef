"""Dense optical flow between two frames (OpenCV's Farneback; the temporal metrics use the flow of
the ORIGINAL video, see vidanon.metrics.temporal)."""

from __future__ import annotations

import numpy as np


def optical_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow from RGB uint8 frame ``a`` to ``b`` (OpenCV Farneback, pixels).

    Computed on the grey images with ``pyr_scale=0.5, levels=4, winsize=15, iterations=3,
    poly_n=5, poly_sigma=1.2``.

    Parameters
    ----------
    a : (H, W, 3) ndarray of uint8
        RGB frame t.
    b : (H, W, 3) ndarray of uint8
        RGB frame t+1, same shape.

    Returns
    -------
    flow : (H, W, 2) ndarray of float64
        ``flow[y, x] = (dx, dy)`` in pixels: the pixel (x, y) of ``a`` is at (x + dx, y + dy) in
        ``b``.
    """
    import cv2

    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 15, 3, 5, 1.2, 0).astype(np.float64)
