"""Box helpers shared by the detector backends: letterboxing, NMS, clipping (numpy only)."""

from __future__ import annotations

import cv2
import numpy as np

EMPTY = np.zeros((0, 5), dtype=np.float32)


def letterbox(rgb: np.ndarray, size, color: int = 114) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio and pad to ``size``, as YOLOv5's ``letterbox(auto=False)``.

    Parameters
    ----------
    rgb : (H, W, 3) ndarray of uint8
        RGB frame.
    size : int or (int, int)
        Side of the square output, or its (height, width), in pixels.
    color : int, optional
        Grey level, 0..255, of the padding. Default 114 (YOLOv5's grey).

    Returns
    -------
    img : (height, width, 3) ndarray of uint8
        The resized (bilinear) and padded image.
    r : float
        The scale, new / old.
    pad : tuple of int
        The (left, top) padding in pixels.
    """
    h, w = rgb.shape[:2]
    sh, sw = (size, size) if np.isscalar(size) else size
    r = min(sh / h, sw / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (sw - nw) / 2, (sh - nh) / 2
    img = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else rgb
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(color,) * 3)
    return img, r, (left, top)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first.

    Parameters
    ----------
    boxes : (N, 4) ndarray of float
        Boxes ``x1, y1, x2, y2`` in pixels.
    scores : (N,) ndarray of float
        Score of each box.
    iou : float
        IoU threshold in [0, 1]: a box overlapping a kept box with IoU >= ``iou`` is suppressed.

    Returns
    -------
    keep : (K,) ndarray of int64
        Indices into ``boxes`` of the kept boxes, by decreasing score.
    """
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
    """Clip ``x1, y1, x2, y2`` to an image of the given shape.

    Parameters
    ----------
    dets : (N, 5) array_like of float
        Detections ``[x1, y1, x2, y2, score]`` in pixels (reshaped to (-1, 5)).
    shape : tuple of int
        The image's shape (H, W, ...); only H and W are used.

    Returns
    -------
    dets : (N, 5) ndarray of float32
        A copy with x in [0, W] and y in [0, H]; scores unchanged.
    """
    out = np.asarray(dets, dtype=np.float32).reshape(-1, 5).copy()
    h, w = shape[:2]
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out


def working_shape(height: int, width: int, long_side: int | str = "auto", stride: int = 32) -> tuple[int, int]:
    """The (height, width) of a detector's input for frames of ``height`` x ``width`` pixels: the frame's
    aspect ratio at ``long_side`` pixels on its long side, each side rounded up to a multiple of
    ``stride``. ``"auto"``: half the frame's long side, at least 320 and at most 1280 (a 480x270 GIF is
    detected at 320x192, 640x480 at 320x256, 1280x720 at 640x384, 4K at 1280x736).

    Parameters
    ----------
    height, width : int
        Frame size in pixels.
    long_side : int or 'auto', optional
        Pixels on the input's long side. Default ``'auto'``.
    stride : int, optional
        The network's stride; both sides are multiples of it. Default 32.

    Returns
    -------
    shape : tuple of int
        (height, width) in pixels.
    """
    big = max(height, width)
    if long_side == "auto":
        long_side = int(min(1280, max(320, -(-big // 2 // stride) * stride)))
    r = int(long_side) / big
    up = lambda v: max(stride, -(-int(round(v * r)) // stride) * stride)  # noqa: E731
    return up(height), up(width)
