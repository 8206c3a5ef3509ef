"""Dense optical flow between two frames (OpenCV's Farneback; the temporal metrics use the flow of
the ORIGINAL video, see vidanon.metrics.temporal)."""

from __future__ import annotations

import numpy as np


def optical_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow (H, W, 2) from RGB uint8 frame ``a`` to ``b`` (OpenCV Farneback, pixels)."""
    import cv2

    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 15, 3, 5, 1.2, 0).astype(np.float64)
