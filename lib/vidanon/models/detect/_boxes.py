"""Box helpers shared by the detector backends: letterboxing, NMS, clipping (numpy only)."""

from __future__ import annotations

import cv2
import numpy as np

EMPTY = np.zeros((0, 5), dtype=np.float32)


def letterbox(rgb: np.ndarray, size: int, color: int = 114) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio and pad to (size, size), as YOLOv5's ``letterbox(auto=False)``.

    Returns the padded image, the scale (new / old) and the (left, top) padding in pixels.
    """
    h, w = rgb.shape[:2]
    r = min(size / h, size / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (size - nw) / 2, (size - nh) / 2
    img = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else rgb
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(color,) * 3)
    return img, r, (left, top)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first (boxes x1, y1, x2, y2)."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        ovr = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[ovr < iou]
    return np.asarray(keep, dtype=np.int64)


def clip_boxes(dets: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Clip x1, y1, x2, y2 to an image of ``shape`` (H, W); returns float32 (N, 5)."""
    out = np.asarray(dets, dtype=np.float32).reshape(-1, 5).copy()
    h, w = shape[:2]
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out
