"""Pose-conditioned avatar: each person is removed and replaced by the same neutral articulated
figure drawn from their smoothed keypoints, so pose and action stay visible and appearance does not.

The person is removed by filling their region with background: a temporal median of the clip
(person pixels excluded) where the camera is static, inpainting (OpenCV Telea) otherwise or where
the median never saw the background. Keypoints (MediaPipe Pose, 33 joints) are One-Euro smoothed
per track so the figure does not jitter. This is the offline stand-in for a pose-conditioned
generator: no learned appearance, identical look for every person.
"""

from __future__ import annotations

import logging
import warnings

import cv2
import numpy as np

from vidanon.anonymize.regions import blend, feather_alpha, grow, person_targets
from vidanon.smoothing import smooth_keypoints

log = logging.getLogger(__name__)

# MediaPipe Pose joints: 0 nose, 7/8 ears, 11/12 shoulders, 13/14 elbows, 15/16 wrists,
# 19/20 index fingers, 23/24 hips, 25/26 knees, 27/28 ankles, 31/32 foot tips
LIMBS = [(11, 13), (13, 15), (15, 19), (12, 14), (14, 16), (16, 20),
         (23, 25), (25, 27), (27, 31), (24, 26), (26, 28), (28, 32)]
TORSO = [11, 12, 24, 23]
HEAD = [0, 7, 8]


class Avatar:
    """Neutral articulated figure over a removed person.

    Options: ``dilation`` (px grown around person masks), ``feather`` (px of soft edge),
    ``color`` (RGB of the figure), ``min_visibility`` (joints below it are not drawn),
    ``min_cutoff``/``beta`` (One-Euro smoothing), ``static_threshold`` (mean absolute grey-level
    difference of the background between frames under which the camera counts as static),
    ``median_frames`` (frames sampled for the background), ``hold`` (frames a track's last pose is
    reused when its keypoints are missing).
    """

    name = "avatar"

    def __init__(self, dilation: int = 10, feather: int = 3,
                 color: tuple[int, int, int] = (70, 130, 200), min_visibility: float = 0.5, min_cutoff: float = 1.0, beta: float = 0.05,
                 static_threshold: float = 8.0, median_frames: int = 30, hold: int = 5, region: str = "mask"):
        self.dilation, self.feather = int(dilation), int(feather)
        self.color = tuple(int(c) for c in color)
        self.min_visibility, self.min_cutoff, self.beta = float(min_visibility), float(min_cutoff), float(beta)
        self.static_threshold, self.median_frames, self.hold = float(static_threshold), int(median_frames), int(hold)
        if region not in ("mask", "box"):
            raise ValueError(f"region must be 'mask' or 'box', got {region!r}")
        self.region = region
        self.background: np.ndarray | None = None  # (H, W, 3) uint8 from prepare(), None = inpaint
        self.static: bool | None = None
        self._kp_scene = None
        self._kp: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    # --- per clip --------------------------------------------------------------------------
    def prepare(self, frames, scene) -> None:
        """Estimate the clip's background from ``frames`` (an iterable of ``(t, rgb)``, read once,
        only ``median_frames`` of them kept) and decide whether the camera is static."""
        n = max(scene.n_frames, 1)
        keep = set(np.linspace(0, n - 1, min(self.median_frames, n)).round().astype(int).tolist())
        stack, masks = [], []
        for t, rgb in frames:
            if t in keep:
                stack.append(rgb)
                masks.append(self._person_mask(t, scene, rgb.shape, extra=self.dilation))
        self.background, self.static = estimate_background(stack, masks, self.static_threshold)
        log.info("avatar %s: camera %s", scene.clip, "static, median background" if self.static
                 else "moving, inpainting")

    def _person_mask(self, t, scene, shape, extra: int = 0) -> np.ndarray:
        m = np.zeros(shape[:2], bool)
        for tg in person_targets(t, scene, shape, self.dilation + extra, self.feather + 1, self.region == "mask"):
            m[tg.y0:tg.y1, tg.x0:tg.x1] |= tg.mask
        return m

    def _keypoints(self, scene) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Smoothed keypoints per track: (frames (F,), xyv (F, 33, 3)); computed once per scene."""
        if self._kp_scene is not scene:
            kp = smooth_keypoints(scene.keypoints, scene.fps or 25.0, self.min_cutoff, self.beta,
                                  self.min_visibility)
            self._kp = {}
            for tid, g in kp.groupby("track_id"):
                frames = np.unique(g["frame"].to_numpy().astype(int))
                arr = np.zeros((frames.size, 33, 3))
                fi = np.searchsorted(frames, g["frame"].to_numpy().astype(int))
                j = g["joint"].to_numpy().astype(int)
                ok = j < 33
                arr[fi[ok], j[ok]] = g[["x", "y", "visibility"]].to_numpy()[ok]
                self._kp[int(tid)] = (frames, arr)
            self._kp_scene = scene
        return self._kp

    def _pose_at(self, scene, tid: int, t: int) -> np.ndarray | None:
        entry = self._keypoints(scene).get(tid)
        if entry is None:
            return None
        frames, arr = entry
        i = int(np.searchsorted(frames, t, side="right")) - 1  # latest pose at or before t
        if i >= 0 and t - frames[i] <= self.hold:
            return arr[i]
        if i + 1 < frames.size and frames[i + 1] - t <= self.hold:
            return arr[i + 1]
        return None

    # --- per frame -------------------------------------------------------------------------
    def _figure(self, t, scene, shape) -> tuple[np.ndarray, np.ndarray]:
        """The figures of frame t: colour layer (H, W, 3) and coverage alpha (H, W) in [0, 1]."""
        layer = np.zeros(shape[:2], np.uint8)
        for row in scene.persons_at(t).itertuples(index=False):
            pose = self._pose_at(scene, int(row.track_id), t)
            if pose is not None:
                draw_figure(layer, pose, row.y2 - row.y1, self.min_visibility, bottom=row.y2)
        colour = np.empty((*shape[:2], 3), np.uint8)
        colour[:] = self.color
        return colour, layer.astype(np.float32) / 255.0

    def regions(self, t: int, scene, shape) -> np.ndarray:
        removed = feather_alpha(self._person_mask(t, scene, shape), self.feather) > 0
        return removed | (self._figure(t, scene, shape)[1] > 0)

    def apply(self, rgb: np.ndarray, t: int, scene) -> np.ndarray:
        out = rgb.copy()
        hard = self._person_mask(t, scene, rgb.shape)
        if hard.any():
            fill = None
            if self.static and self.background is not None:
                fill = self.background
            if fill is None:
                fill = cv2.inpaint(rgb, grow(hard, 2).astype(np.uint8), 5, cv2.INPAINT_TELEA)
            blend(out, fill, feather_alpha(hard, self.feather))
        colour, alpha = self._figure(t, scene, rgb.shape)
        blend(out, colour, alpha)
        return out


def estimate_background(frames: list[np.ndarray], person_masks: list[np.ndarray],
                        static_threshold: float = 8.0) -> tuple[np.ndarray | None, bool]:
    """Per-pixel temporal median of ``frames`` (RGB uint8) ignoring pixels under ``person_masks``.

    Returns ``(background, static)``: ``static`` is True when the frames' non-person pixels differ
    from the median by less than ``static_threshold`` grey levels on average (a fixed camera).
    Pixels that were covered in every frame are inpainted. ``(None, False)`` for fewer than 3 frames.
    """
    if len(frames) < 3:
        return None, False
    stack = np.stack(frames).astype(np.float32)
    covered = np.stack(person_masks)
    stack[covered] = np.nan
    with warnings.catch_warnings():  # pixels covered in every frame give NaN, inpainted below
        warnings.simplefilter("ignore", RuntimeWarning)
        bg = np.nanmedian(stack, axis=0)
    hole = np.isnan(bg).any(axis=2)
    bg = np.nan_to_num(bg).clip(0, 255).astype(np.uint8)
    if hole.any():
        bg = cv2.inpaint(bg, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    diffs = [np.abs(f.astype(np.float32) - bg).mean(axis=2)[~m].mean() for f, m in zip(frames, person_masks)
             if (~m).any()]
    static = bool(diffs) and float(np.median(diffs)) < static_threshold
    return bg, static


def draw_figure(layer: np.ndarray, pose: np.ndarray, height: float, min_visibility: float = 0.5,
                bottom: float | None = None) -> None:
    """Draw one neutral figure (capsule limbs, filled torso, round head) into a uint8 coverage
    ``layer`` (255 = figure) from ``pose`` (33, 3) = x, y (pixels), visibility; ``height`` (pixels,
    the person box height) sets the limb thickness. ``bottom`` (pixel row, the box's lower edge)
    closes the torso of a person whose hips are out of view (upper-body shots)."""
    vis = pose[:, 2] >= min_visibility
    xy = pose[:, :2].astype(np.float64)

    def p(v) -> tuple[int, int]:  # 4 fractional bits: smooth sub-pixel motion
        return tuple(int(c) for c in np.round(np.asarray(v) * 16))

    th = max(int(height / 14), 2)
    kw = dict(color=255, lineType=cv2.LINE_AA, shift=4)
    shoulders = vis[11] and vis[12]
    if vis[TORSO].all():
        cv2.fillConvexPoly(layer, np.array([p(xy[j]) for j in TORSO]).reshape(-1, 1, 2), **kw)
    elif shoulders and bottom is not None:
        low = [(xy[12][0], bottom), (xy[11][0], bottom)]
        cv2.fillConvexPoly(layer, np.array([p(xy[11]), p(xy[12]), p(low[0]), p(low[1])]).reshape(-1, 1, 2), **kw)
    for a, b in LIMBS:
        if vis[a] and vis[b]:
            cv2.line(layer, p(xy[a]), p(xy[b]), thickness=th, **kw)
    head = [j for j in HEAD if vis[j]]
    r = max(height / 14, 3.0)
    centre = None
    if head:
        centre = xy[head].mean(axis=0)
    elif shoulders:  # head turned away or hidden: above the shoulders' midpoint
        span = float(np.linalg.norm(xy[11] - xy[12]))
        centre = xy[[11, 12]].mean(axis=0) - np.array([0.0, 0.7 * span])
        r = max(r, 0.3 * span)
    if centre is not None:
        if shoulders:  # the neck joins head and shoulders
            cv2.line(layer, p(centre), p(xy[[11, 12]].mean(axis=0)), thickness=th, **kw)
        cv2.circle(layer, p(centre), int(r * 16), thickness=-1, **kw)
