"""Pose-conditioned avatar: each person is removed and replaced by the same neutral mannequin
(tapered capsule limbs, torso, neck, elliptic head without a face, one skin tone and plain clothes,
simple shading) drawn from their smoothed keypoints, so pose and action stay visible (MediaPipe
Pose finds the mannequin's pose again) and appearance does not (every person looks the same).

The head has no face by default (``face="plain"``): with the schematic eyes, nose and mouth of
``face="schematic"``, CenterFace, MediaPipe's face detector and dlib's HOG detector all took the
mannequin's head for a face (in 23, 26 and 18 of 28 sampled smoke frames with a person), so every
face metric and any downstream face detector counted a face that is no one's. The plain head is
found by none of them, at a cost in pose: mean OKS of MediaPipe Pose re-detected on the avatar
against the original's 0.61 instead of 0.91 over all 33 joints, 0.86 instead of 0.98 over the body's
22 (the face landmarks have nothing to lock on; the same 39 person-frames).

A person whose pose is only partly found (no shoulders or no head joint seen, or the joints
outside their box) is removed and not drawn: a floating torso or a fragment of a limb would be a
figure in the wrong place (``figures_skipped`` counts them).

``avatar-neutral`` in the default params is this avatar with ``proportions="canonical"`` (every
figure has the same bone lengths, :mod:`vidanon.anonymize.retarget`) and ``background="grey"`` (the
frame is a uniform grey under the figures): built from 03's leak table, where the surroundings alone
re-identified people within a clip and the body-shape attacker used bone-length ratios.

The person is removed by filling their region with background: a temporal median of the clip
(person pixels excluded) where the camera is static, inpainting (OpenCV Telea) otherwise or where
the median never saw the background. Keypoints (MediaPipe Pose, 33 joints) are One-Euro smoothed
per track so the figure does not jitter. This is the offline stand-in for a pose-conditioned
generator: no learned appearance, identical look for every person.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np

from vidanon.anonymize.regions import blend, feather_alpha, grow, person_targets
from vidanon.anonymize.retarget import canonical_track
from vidanon.anonymize.smoothing import smooth_keypoints

log = logging.getLogger(__name__)

# MediaPipe Pose joints: 0 nose, 2/5 eyes, 7/8 ears, 9/10 mouth, 11/12 shoulders, 13/14 elbows,
# 15/16 wrists, 17/19/21 + 18/20/22 fingers, 23/24 hips, 25/26 knees, 27/28 ankles, 31/32 foot tips
# Body parts of the mannequin as (joint a, joint b, radius at a, radius at b), radii in units of
# the figure's scale u (about the shoulder width). Left (odd MediaPipe indices) and right side.
ARM = [(11, 13, 0.13, 0.10), (13, 15, 0.10, 0.07)]
LEG = [(23, 25, 0.19, 0.13), (25, 27, 0.13, 0.08)]
CLOTH = (70, 80, 100)  # plain grey-blue shirt; trousers and shoes are darker
RIM, RIM_SIGMA = 0.6, 0.01  # rim darkening (fraction) and its width (fraction of the frame size)
HAIR = (70, 58, 50)
GREY = 128  # background="grey": every pixel that is not a figure
SKIN = (215, 175, 145)  # one neutral skin tone for everyone: pose detectors need skin-like parts
# far-side limbs are darker; part outlines (1 = none: dark cartoon outlines made YOLOv5 miss the figure)
FAR_SHADE, EDGE_SHADE = 0.78, 1.0


class Avatar:
    """Neutral mannequin over a removed person.

    Options: ``dilation`` (px grown around person masks), ``feather`` (px of soft edge),
    ``color`` (RGB skin tone of the mannequin), ``cloth_color`` (RGB of its plain shirt; trousers and
    shoes are darker), ``min_visibility`` (joints below it are not drawn),
    ``min_cutoff``/``beta`` (One-Euro smoothing), ``static_threshold`` (mean absolute grey-level
    difference of the background between frames under which the camera counts as static),
    ``median_frames`` (frames sampled for the background), ``hold`` (frames a track's last pose is
    reused when its keypoints are missing), ``limbs`` (the removed region also covers the pose's
    limbs, see :func:`vidanon.anonymize.regions.person_targets`), ``face`` ("plain": a head no
    face detector takes for a face; "schematic": dark eyes, nose and mouth dots, which keep more of
    the pose for pose models and are found as a face by them), ``proportions`` ("own": the figure
    follows the person's joints; "canonical": the same bone lengths for everyone, the joint angles
    kept, :mod:`vidanon.anonymize.retarget`), ``background`` ("clip": the person's surroundings as
    they were, the removed region filled from the clip's background; "grey": the whole frame a
    uniform grey under the figures, so nothing of the place is left), ``inpaint_side`` (where the camera
    moves, the removed region is inpainted on a copy of the frame at most this many pixels on its long
    side, and the fill scaled back: Telea's cost grows with the masked pixels, and its fill is smooth
    anyway; 0: at full resolution).
    """

    name = "avatar"
    VERSION = 3  # bump when the drawing changes: the anonymize stage's cache key holds it (resolved_options)

    def __init__(self, *, dilation: int = 10, feather: int = 3,
                 color: tuple[int, int, int] = SKIN, cloth_color: tuple[int, int, int] = CLOTH,
                 min_visibility: float = 0.5, min_cutoff: float = 1.0, beta: float = 0.05,
                 static_threshold: float = 8.0, median_frames: int = 30, hold: int = 5, region: str = "mask",
                 limbs: bool = True, face: str = "plain", proportions: str = "own", background: str = "clip",
                 inpaint_side: int = 320):
        self.dilation, self.feather = int(dilation), int(feather)
        self.color = tuple(int(c) for c in color)
        self.cloth_color = tuple(int(c) for c in cloth_color)
        self.min_visibility, self.min_cutoff, self.beta = float(min_visibility), float(min_cutoff), float(beta)
        self.static_threshold, self.median_frames, self.hold = float(static_threshold), int(median_frames), int(hold)
        if region not in ("mask", "box"):
            raise ValueError(f"region must be 'mask' or 'box', got {region!r}")
        if face not in ("plain", "schematic"):
            raise ValueError(f"face must be 'plain' or 'schematic', got {face!r}")
        if proportions not in ("own", "canonical"):
            raise ValueError(f"proportions must be 'own' or 'canonical', got {proportions!r}")
        if background not in ("clip", "grey"):
            raise ValueError(f"background must be 'clip' or 'grey', got {background!r}")
        self.region, self.limbs, self.face = region, bool(limbs), face
        self.proportions, self.background_mode = proportions, background
        self.inpaint_side = int(inpaint_side)
        self.region_counts: Counter = Counter()  # removed person regions by source, "figures_skipped"
        self.background: np.ndarray | None = None  # (H, W, 3) uint8 from prepare(), None = inpaint
        self.static: bool | None = None
        self._kp_scene = None
        self._kp: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    # --- per clip --------------------------------------------------------------------------
    def prepare(self, frames, scene) -> None:
        """Estimate the clip's background from ``frames`` (an iterable of ``(t, rgb)``, read once,
        only ``median_frames`` of them kept) and decide whether the camera is static."""
        if self.background_mode == "grey":  # nothing of the clip is shown: no background to estimate
            self.background, self.static = None, None
            return
        n = max(scene.n_frames, 1)
        keep = set(np.linspace(0, n - 1, min(self.median_frames, n)).round().astype(int).tolist())
        stack, masks = [], []
        for t, rgb in frames:
            if t in keep:
                stack.append(rgb)
                masks.append(self._person_mask(t, scene, rgb.shape, extra=self.dilation))
        self.background, self.static = estimate_background(stack, masks, self.static_threshold)
        log.debug("avatar %s: camera %s", scene.clip, "static, median background" if self.static
                 else "moving, inpainting")

    def _person_mask(self, t, scene, shape, *, extra: int = 0, count: bool = False) -> np.ndarray:
        m = np.zeros(shape[:2], bool)
        for tg in person_targets(t, scene, shape, dilation=self.dilation + extra, margin=self.feather + 1,
                                 use_mask=self.region == "mask", limbs=self.limbs):
            m[tg.y0:tg.y1, tg.x0:tg.x1] |= tg.mask
            if count:
                self.region_counts[tg.source] += 1
        return m

    def _keypoints(self, scene) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Smoothed keypoints per track: (frames (F,), xyv (F, 33, 3)); computed once per scene."""
        if self._kp_scene is not scene:
            kp = smooth_keypoints(scene.keypoints, scene.fps or 25.0, min_cutoff=self.min_cutoff, beta=self.beta,
                                  min_visibility=self.min_visibility)
            self._kp = {}
            for tid, g in kp.groupby("track_id"):
                frames = np.unique(g["frame"].to_numpy().astype(int))
                arr = np.zeros((frames.size, 33, 3))
                fi = np.searchsorted(frames, g["frame"].to_numpy().astype(int))
                j = g["joint"].to_numpy().astype(int)
                ok = j < 33
                arr[fi[ok], j[ok]] = g[["x", "y", "visibility"]].to_numpy()[ok]
                if self.proportions == "canonical":
                    arr = canonical_track(arr, min_visibility=self.min_visibility)
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
    def _figure(self, t, scene, shape, count: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The figures of frame t: colour layer (H, W, 3) and coverage alpha (H, W) in [0, 1]."""
        layer = np.zeros(shape[:2], np.uint8)
        colour = np.zeros((*shape[:2], 3), np.uint8)
        rows = sorted(scene.persons_at(t).itertuples(index=False), key=lambda r: r.y2)  # nearer (lower) last
        for row in rows:
            pose = self._pose_at(scene, int(row.track_id), t)
            if pose is None or not drawable(pose, (row.x1, row.y1, row.x2, row.y2), self.min_visibility):
                self.region_counts["figures_skipped"] += count
                continue
            draw_figure(colour, layer, pose, row.y2 - row.y1, min_visibility=self.min_visibility, bottom=row.y2,
                        width=row.x2 - row.x1, colour=self.color, cloth=self.cloth_color,
                        features=self.face == "schematic")
        if layer.any():  # soft rim darkening: the parts read as rounded
            sigma = max(1.0, RIM_SIGMA * max(shape[:2]))
            depth = cv2.GaussianBlur(layer, (0, 0), sigma).astype(np.float32) / 255.0
            colour = (colour * (1 - RIM + RIM * depth[..., None])).astype(np.uint8)
        return colour, layer.astype(np.float32) / 255.0

    def regions(self, t: int, scene, shape) -> np.ndarray:
        if self.background_mode == "grey":
            return np.ones(shape[:2], bool)  # every pixel is replaced
        removed = feather_alpha(self._person_mask(t, scene, shape), self.feather) > 0
        return removed | (self._figure(t, scene, shape)[1] > 0)

    def apply(self, rgb: np.ndarray, t: int, scene) -> np.ndarray:
        hard = self._person_mask(t, scene, rgb.shape, count=True)  # counted as removed in either mode
        if self.background_mode == "grey":
            out = np.full_like(rgb, GREY)  # the persons go with everything else
        else:
            out = rgb.copy()
            if hard.any():
                fill = self.background if self.static and self.background is not None else \
                    inpaint(rgb, grow(hard, 2), self.inpaint_side)
                blend(out, fill, feather_alpha(hard, self.feather))
        colour, alpha = self._figure(t, scene, rgb.shape, count=True)
        blend(out, colour, alpha)
        return out


HEAD_JOINTS = (0, 2, 5, 7, 8)  # nose, eyes, ears


def drawable(pose: np.ndarray, box, min_visibility: float = 0.5, inside: float = 0.8) -> bool:
    """Whether a pose (33, 3: x, y pixels, visibility) is whole enough to draw a mannequin from:
    both shoulders and a head joint seen, and at least ``inside`` of the seen joints within the
    person ``box`` (x1, y1, x2, y2) grown by 20 % each side. Otherwise the figure would float (an
    occluded person's torso) or stand in the wrong place (a pose found on a neighbour)."""
    vis = (pose[:, 2] >= min_visibility) & np.isfinite(pose[:, :2]).all(axis=1)
    if not (vis[11] and vis[12] and vis[list(HEAD_JOINTS)].any()):
        return False
    x1, y1, x2, y2 = (float(v) for v in box)
    px, py = 0.2 * (x2 - x1), 0.2 * (y2 - y1)
    xy = pose[vis, :2]
    ok = (xy[:, 0] >= x1 - px) & (xy[:, 0] <= x2 + px) & (xy[:, 1] >= y1 - py) & (xy[:, 1] <= y2 + py)
    return bool(ok.mean() >= inside)


def inpaint(rgb: np.ndarray, mask: np.ndarray, max_side: int = 0, radius: int = 5) -> np.ndarray:
    """The frame with the pixels of ``mask`` filled by OpenCV's Telea inpainting (``radius`` px), computed
    on a copy at most ``max_side`` pixels on its long side (area-downscaled; a pixel is masked there when
    any of its area is) and scaled back (bilinear). Outside ``mask`` the result is the frame itself (at
    the working size: blurred); 0 or a frame that fits: at full resolution. At 640x360 with half the frame
    masked, 320 px costs about a quarter of the full-resolution fill."""
    from vidanon.io.video import downscale

    h, w = mask.shape
    m = np.asarray(mask, dtype=np.uint8)
    if not max_side or max(h, w) <= max_side:
        return cv2.inpaint(rgb, m, radius, cv2.INPAINT_TELEA)
    small_mask = (downscale(m.astype(np.float32), max_side) > 0).astype(np.uint8)
    fill = cv2.inpaint(downscale(rgb, max_side), small_mask, radius, cv2.INPAINT_TELEA)
    return cv2.resize(fill, (w, h), interpolation=cv2.INTER_LINEAR)


def estimate_background(frames: list[np.ndarray], person_masks: list[np.ndarray],
                        static_threshold: float = 8.0) -> tuple[np.ndarray | None, bool]:
    """Per-pixel temporal median of ``frames`` (RGB uint8) ignoring pixels under ``person_masks``.

    Returns ``(background, static)``: ``static`` is True when the frames' non-person pixels differ
    from the median by less than ``static_threshold`` grey levels on average (a fixed camera).
    Pixels that were covered in every frame are inpainted. ``(None, False)`` for fewer than 3 frames.
    """
    if len(frames) < 3:
        return None, False
    bg, hole = masked_median(np.stack(frames), np.stack(person_masks))
    if hole.any():
        bg = cv2.inpaint(bg, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    diffs = [np.abs(f.astype(np.float32) - bg).mean(axis=2)[~m].mean() for f, m in zip(frames, person_masks)
             if (~m).any()]
    static = bool(diffs) and float(np.median(diffs)) < static_threshold
    return bg, static


def masked_median(stack: np.ndarray, covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over frames of the pixels not ``covered``, as ``np.nanmedian`` of the stack with
    covered pixels set to NaN and then truncated to uint8 (the mean of the two middle values for an
    even count), computed by one integer sort (about 10x faster).

    Parameters
    ----------
    stack : (N, H, W, C) ndarray of uint8
        Frames.
    covered : (N, H, W) ndarray of bool
        Pixels to leave out, per frame.

    Returns
    -------
    median : (H, W, C) ndarray of uint8
        The median (0 where every frame was covered).
    hole : (H, W) ndarray of bool
        Pixels covered in every frame.
    """
    s = stack.astype(np.uint16)
    s[covered] = 256  # sorts after every pixel value
    s.sort(axis=0)
    n = np.broadcast_to((~covered).sum(axis=0)[..., None], s.shape[1:])
    last = len(s) - 1
    lo = np.take_along_axis(s, np.clip((n - 1) // 2, 0, last)[None], 0)[0].astype(np.int32)
    hi = np.take_along_axis(s, np.clip(n // 2, 0, last)[None], 0)[0].astype(np.int32)
    hole = n[..., 0] == 0
    median = ((lo + hi) // 2).astype(np.uint8)  # floor of the mean: nanmedian's value truncated to uint8
    median[hole] = 0
    return median, hole


def _side(j: int, right: bool) -> int:
    return j + 1 if right else j  # MediaPipe's right joints follow the left ones (11/12, 13/14, ...)


def figure_scale(xy: np.ndarray, vis: np.ndarray, height: float, width: float | None = None) -> float:
    """The figure's unit u in pixels (about the shoulder width) from the keypoints: the largest of
    the shoulder span, 0.8 x the torso length, 0.12 x the person box ``height`` and
    0.4 x min(box ``width``, 0.6 x ``height``), so that side views (small span), upper-body shots
    (no hips) and people cut by the frame's edge still get a body of plausible thickness."""
    u = 0.12 * height
    if width is not None:
        u = max(u, 0.4 * min(width, 0.6 * height))
    if vis[11] and vis[12]:
        u = max(u, float(np.linalg.norm(xy[11] - xy[12])))
        if vis[23] and vis[24]:
            u = max(u, 0.8 * float(np.linalg.norm(xy[[11, 12]].mean(0) - xy[[23, 24]].mean(0))))
    return max(u, 4.0)


class _Pen:
    """What draws one mannequin: the canvas and its coverage, the figure's unit ``u`` (pixels), the
    outline width and the skin colour. Coordinates go to OpenCV with 4 fractional bits (smooth
    sub-pixel motion)."""

    def __init__(self, canvas: np.ndarray, alpha: np.ndarray, u: float, skin: np.ndarray):
        self.canvas, self.alpha, self.u, self.skin = canvas, alpha, u, skin
        self.edge = max(1.0, 0.03 * u)

    @staticmethod
    def p(v) -> np.ndarray:
        return np.round(np.asarray(v, np.float64) * 16).astype(np.int32)

    def col(self, f: float, tone=None) -> tuple[int, ...]:
        return tuple(int(c) for c in np.clip((self.skin if tone is None else tone) * f, 0, 255))

    def capsule(self, a, b, radii, shade, *, tone=None) -> None:
        """A tapered capsule from a to b (``radii`` at a and at b, pixels), outlined."""
        ra, rb = radii
        for grow_, f in ((self.edge, shade * EDGE_SHADE), (0.0, shade)):
            self._fill_capsule(a, b, (ra + grow_, rb + grow_), self.col(f, tone))

    def _fill_capsule(self, a, b, radii, colour) -> None:
        """Filled tapered capsule (convex hull of two discs) on the canvas and its coverage."""
        ra, rb = radii
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        d = b - a
        n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
        quad = self.p(np.array([a + n * ra, b + n * rb, b - n * rb, a - n * ra])).reshape(-1, 1, 2)
        for img, c in ((self.canvas, colour), (self.alpha, 255)):
            cv2.fillConvexPoly(img, quad, c, cv2.LINE_AA, 4)
            cv2.circle(img, tuple(self.p(a)), int(ra * 16), c, -1, cv2.LINE_AA, 4)
            cv2.circle(img, tuple(self.p(b)), int(rb * 16), c, -1, cv2.LINE_AA, 4)

    def poly(self, pts, shade, tone=None) -> None:
        pts = self.p(np.asarray(pts)).reshape(-1, 1, 2)
        width_ = max(1, int(2 * self.edge))
        cv2.polylines(self.canvas, [pts], True, self.col(shade * EDGE_SHADE, tone), width_, cv2.LINE_AA, 4)
        cv2.polylines(self.alpha, [pts], True, 255, width_, cv2.LINE_AA, 4)
        cv2.fillPoly(self.canvas, [pts], self.col(shade, tone), cv2.LINE_AA, 4)
        cv2.fillPoly(self.alpha, [pts], 255, cv2.LINE_AA, 4)

    def ellipse(self, centre, axes, angle, colour, *, coverage: bool = False) -> None:
        cv2.ellipse(self.canvas, tuple(self.p(centre)), tuple(self.p(axes)), angle, 0, 360, colour, -1,
                    cv2.LINE_AA, 4)
        if coverage:
            cv2.ellipse(self.alpha, tuple(self.p(centre)), tuple(self.p(axes)), angle, 0, 360, 255, -1,
                        cv2.LINE_AA, 4)


@dataclass
class _Body:
    """One person's keypoints as the drawing needs them: positions (33, 2) in pixels, which are seen,
    the box's lower edge (pixel row, or None) and the clothes' colours (RGB, float)."""

    xy: np.ndarray
    vis: np.ndarray
    bottom: float | None
    shirt: np.ndarray
    pants: np.ndarray
    shoe: np.ndarray


def _draw_limbs(pen: _Pen, body: _Body, *, right: bool, shade: float, chain) -> None:
    """One arm or leg (``chain``: ARM or LEG) of one side, with its hand or foot."""
    xy, vis, u = body.xy, body.vis, pen.u
    tones = [body.shirt, None] if chain is ARM else [body.pants, body.pants]
    for (a, b, ra, rb), tone in zip(chain, tones):
        a, b = _side(a, right), _side(b, right)
        if vis[a] and vis[b]:
            pen.capsule(xy[a], xy[b], (ra * u, rb * u), shade, tone=tone)
        elif vis[a] and body.bottom is not None and xy[a][1] + 0.9 * u > body.bottom:
            # the limb leaves the frame: hang it straight down out of view
            pen.capsule(xy[a], xy[a] + np.array([0.0, 1.2 * u]), (ra * u, rb * u), shade, tone=tone)
    a, b = _side(chain[-1][1], right), _side(chain[-1][0], right)
    tip = {15: (17, 19, 21), 27: (31,)}[chain[-1][1]]
    tips = [_side(j, right) for j in tip if vis[_side(j, right)]]
    if vis[a] and vis[b] and tips:  # hand / foot: towards the finger or toe keypoints
        end = xy[tips].mean(0)
        if chain is ARM:
            end = xy[a] + (end - xy[a]) * 1.3
            pen.capsule(xy[a], end, (0.075 * u, 0.06 * u), shade)
        else:
            pen.capsule(xy[a], end, (0.08 * u, 0.06 * u), shade, tone=body.shoe)


def _head_geometry(body: _Body, u: float):
    """Centre (pixels, or None), rotation (degrees, with the eye line) and half width of the head,
    centred on the ears / eyes / nose; above the shoulders when the face is turned away."""
    xy, vis = body.xy, body.vis
    shoulders = bool(vis[11] and vis[12])
    neck_base = xy[[11, 12]].mean(0) if shoulders else None
    head = [j for j in (7, 8, 2, 5, 0) if vis[j]]
    centre, angle, a_ax = None, 0.0, 0.22 * u
    if head:
        centre = xy[[j for j in head if j in (7, 8)] or head].mean(0)
        if vis[7] and vis[8]:
            a_ax = max(a_ax, 0.6 * float(np.linalg.norm(xy[7] - xy[8])))
        if shoulders and vis[0]:  # nose to shoulder line is about one head height
            a_ax = max(a_ax, 0.32 * float(np.linalg.norm(xy[0] - neck_base)))
        if vis[2] and vis[5]:
            d = xy[2] - xy[5]
            angle = float(np.degrees(np.arctan2(d[1], d[0])))
            if abs(angle) > 90:
                angle -= 180 * np.sign(angle)
    elif shoulders:  # head turned away or hidden: above the shoulders' midpoint
        centre = neck_base - np.array([0.0, 0.65 * u])
    return centre, angle, a_ax


def _draw_torso(pen: _Pen, body: _Body, head_centre) -> None:
    """Shoulders to hips (or to the box's lower edge), and the neck that joins the head."""
    xy, vis, u = body.xy, body.vis, pen.u
    if not (vis[11] and vis[12]):
        return
    neck_base = xy[[11, 12]].mean(0)
    s = xy[12] - xy[11]
    out = s / (np.linalg.norm(s) + 1e-9) * 0.12 * u
    top = [xy[11] - out, xy[11] * 0.75 + xy[12] * 0.25, xy[11] * 0.25 + xy[12] * 0.75, xy[12] + out]
    lift = np.array([out[1], -out[0]]) * (2.5 if out[0] >= 0 else -2.5)  # towards the head
    top[1], top[2] = top[1] + lift, top[2] + lift  # the trapezius slopes up to the neck
    if vis[23] and vis[24]:
        h = xy[24] - xy[23]
        hout = h / (np.linalg.norm(h) + 1e-9) * 0.1 * u
        pen.poly(top + [xy[24] + hout, xy[23] - hout], 0.95, body.shirt)
    elif body.bottom is not None:
        pen.poly(top + [(top[3][0], body.bottom + u), (top[0][0], body.bottom + u)], 0.95, body.shirt)
    if head_centre is not None:  # the neck joins head and shoulders
        pen.capsule(neck_base, neck_base + (head_centre - neck_base) * 0.8, (0.16 * u, 0.15 * u), 0.9)


def _draw_head(pen: _Pen, body: _Body, *, centre, angle: float, a_ax: float, hair, features: bool) -> None:
    """The elliptic head with a cap of ``hair``, plain or (``features``) with a schematic generic
    face; hair only when the person is seen from behind (their left shoulder on the image's left)."""
    xy, vis, u = body.xy, body.vis, pen.u
    b_ax = 1.3 * a_ax
    pen.ellipse(centre, (a_ax + pen.edge, b_ax + pen.edge), angle, pen.col(EDGE_SHADE), coverage=True)
    up = np.array([np.sin(np.radians(angle)), -np.cos(np.radians(angle))])
    hair_c = None if hair is None else np.array(hair, np.float64)
    back = bool(vis[11] and vis[12]) and xy[11][0] < xy[12][0] - 0.2 * u
    if hair is not None and back:
        pen.ellipse(centre, (a_ax, b_ax), angle, pen.col(1.0, hair_c))
        return
    if hair is not None:  # a short generic cap of hair: the head-and-shoulders outline of a person
        pen.ellipse(centre, (a_ax, b_ax), angle, pen.col(1.0, hair_c))
        face_c, face_ax = centre - up * 0.1 * b_ax, (0.92 * a_ax, 0.9 * b_ax)
    else:
        face_c, face_ax = centre, (a_ax, b_ax)
    pen.ellipse(face_c, face_ax, angle, pen.col(1.05))
    if not features:
        return
    # schematic generic face where the eyes are seen: dark dots and a mouth line
    p, feature = pen.p, pen.col(0.45)
    r_eye = max(1.0, 0.035 * u)
    for j in (2, 5):
        if vis[0] and np.isfinite(xy[j]).all():
            cv2.circle(pen.canvas, tuple(p(xy[j])), int(r_eye * 16), feature, -1, cv2.LINE_AA, 4)
    if vis[0]:  # nose
        cv2.circle(pen.canvas, tuple(p(xy[0])), int(0.6 * r_eye * 16), pen.col(0.75), -1, cv2.LINE_AA, 4)
    if vis[0] and np.isfinite(xy[[9, 10]]).all():
        cv2.line(pen.canvas, tuple(p(xy[9])), tuple(p(xy[10])), feature, max(1, int(0.6 * r_eye)),
                 cv2.LINE_AA, 4)


def draw_figure(canvas: np.ndarray, alpha: np.ndarray, pose: np.ndarray, height: float, *,
                min_visibility: float = 0.5, bottom: float | None = None, width: float | None = None,
                colour: tuple[int, int, int] = SKIN, cloth: tuple[int, int, int] = CLOTH,
                hair: tuple[int, int, int] | None = HAIR, features: bool = False) -> None:
    """Draw one neutral mannequin into ``canvas`` (H, W, 3 uint8 RGB) and its coverage into
    ``alpha`` (H, W uint8, 255 = figure) from ``pose`` (33, 3) = x, y (pixels), visibility.

    Tapered capsule limbs, a torso polygon from shoulders and hips, neck, an elliptic head with a
    cap of ``hair`` (only hair for a person seen from behind), plain or with a schematic generic face
    when ``features`` (eyes, nose, mouth dots: pose models find the head's landmarks on it, and face
    detectors take it for a face; no identity), hands and feet, in one
    ``colour`` of skin and plain clothes (``cloth`` shirt, darker trousers and shoes). Joints below
    ``min_visibility`` are not drawn. Thickness scales with the person (see
    :func:`figure_scale`; ``height``, ``width`` = person box size in pixels). ``bottom`` (pixel row,
    the box's lower edge) closes the torso of a person whose hips are out of view (upper-body shots)
    and marks limbs that leave the frame (drawn hanging down out of view). The side with the lower
    mean visibility is taken as the far side: drawn first and darker.
    """
    vis = pose[:, 2] >= min_visibility
    xy = pose[:, :2].astype(np.float64)
    pen = _Pen(canvas, alpha, figure_scale(xy, vis, height, width), np.array(colour, np.float64))
    shirt = np.array(cloth, np.float64)
    body = _Body(xy, vis, bottom, shirt, shirt * 0.75, np.array(cloth, np.float64) * 0.45)
    side_vis = [pose[[_side(j, r) for j in (11, 13, 15, 23, 25, 27)], 2].mean() for r in (False, True)]
    far, near = (True, False) if side_vis[1] < side_vis[0] else (False, True)
    # far side first, darker; the near arm over the torso
    _draw_limbs(pen, body, right=far, shade=FAR_SHADE, chain=LEG)
    _draw_limbs(pen, body, right=far, shade=FAR_SHADE, chain=ARM)
    _draw_limbs(pen, body, right=near, shade=1.0, chain=LEG)
    centre, angle, a_ax = _head_geometry(body, pen.u)
    _draw_torso(pen, body, centre)
    _draw_limbs(pen, body, right=near, shade=1.0, chain=ARM)
    if centre is not None:
        _draw_head(pen, body, centre=centre, angle=angle, a_ax=a_ax, hair=hair, features=features)
