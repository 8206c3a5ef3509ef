"""Run-length encoding of boolean masks (COCO-style, column-major counts), for compact caching, and
the mapping of masks computed at the scene analysis' working size back to the frame's size."""

from __future__ import annotations

import numpy as np


def rle_encode(mask: np.ndarray) -> dict:
    """Bool (H, W) -> {'size': [H, W], 'counts': [run lengths, starting with a run of False]}."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0] + counts
    return {"size": list(mask.shape), "counts": counts}


def rle_decode(rle: dict, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The bool mask of an RLE, at its own size, or at ``shape[:2]`` (H, W) pixels when given: a mask
    computed on a working-size copy of the frame (``detect.max_side``) is scaled to the frame
    (:func:`upscale`)."""
    h, w = rle["size"]
    counts = np.asarray(rle["counts"], dtype=np.int64)
    values = np.zeros(counts.size, dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    mask = flat.reshape((h, w), order="F")
    if shape is None or tuple(shape[:2]) == (h, w):
        return mask
    return upscale(mask, shape, (0, shape[0], 0, shape[1]))


def upscale(mask: np.ndarray, shape: tuple[int, ...], roi: tuple[int, int, int, int]) -> np.ndarray:
    """The part ``roi = (y0, y1, x0, x1)`` (frame pixels) of a bool ``mask`` scaled to a frame of
    ``shape[:2]`` (H, W) pixels: bilinear, a pixel is in when at least half of it is; pixel centres map
    onto pixel centres, as ``cv2.resize``. Only the region is computed, so the cost is that of its
    pixels, not the frame's."""
    import cv2

    y0, y1, x0, x1 = roi
    sy, sx = mask.shape[0] / shape[0], mask.shape[1] / shape[1]  # mask pixels per frame pixel
    # frame pixel (x, y) samples the mask at ((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5)
    m = np.float32([[sx, 0, (x0 + 0.5) * sx - 0.5], [0, sy, (y0 + 0.5) * sy - 0.5]])
    out = cv2.warpAffine(mask.astype(np.uint8) * 255, m, (x1 - x0, y1 - y0),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return out >= 128
