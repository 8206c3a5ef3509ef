"""Where an anonymizer acts: face and person regions of a Scene frame, and the soft-edged blend
that changes pixels inside them and leaves every pixel outside bit-identical.

A region is a *target*: a rectangle of interest (ROI) of the frame and a hard bool mask inside it.
Feathering blends the new pixels into the old ones over ``feather`` pixels outside the hard mask,
so a region's footprint (``regions()``) is the hard mask grown by ``feather`` pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidanon.scene.masks import rle_decode, upscale


@dataclass
class Target:
    """A hard bool ``mask`` of the frame rectangle ``rgb[y0:y1, x0:x1]``; ``size`` (pixels) is the
    height and width of the object it covers (face or person), which sets blur and mosaic scales."""

    y0: int
    y1: int
    x0: int
    x1: int
    mask: np.ndarray
    size: tuple[int, int]
    track_id: int = -1
    source: str = ""  # persons: "mask", "pose" (the mask failed, the pose's limbs stand in) or "box"


def scale_box(box, scale: float) -> np.ndarray:
    """Grow an ``x1, y1, x2, y2`` box about its centre by ``scale`` in width and height (deface's
    --mask-scale: 1.3 makes a box 30% wider and taller)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * scale / 2, (y2 - y1) * scale / 2
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


def _roi(box, margin: int, shape) -> tuple[int, int, int, int] | None:
    h, w = shape[:2]
    x0 = max(int(np.floor(box[0])) - margin, 0)
    y0 = max(int(np.floor(box[1])) - margin, 0)
    x1 = min(int(np.ceil(box[2])) + margin + 1, w)
    y1 = min(int(np.ceil(box[3])) + margin + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    return y0, y1, x0, x1


def box_target(box, shape, *, ellipse: bool, margin: int, track_id: int = -1) -> Target | None:
    """A target of an axis-aligned box, filled as a box or as its inscribed ellipse."""
    roi = _roi(box, margin, shape)
    if roi is None:
        return None
    y0, y1, x0, x1 = roi
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    bx1, by1, bx2, by2 = box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0
    if ellipse:
        centre = (int(round((bx1 + bx2) / 2)), int(round((by1 + by2) / 2)))
        axes = (max(int(round((bx2 - bx1) / 2)), 1), max(int(round((by2 - by1) / 2)), 1))
        cv2.ellipse(m, centre, axes, 0, 0, 360, 1, -1)
    else:
        cv2.rectangle(m, (int(round(bx1)), int(round(by1))), (int(round(bx2)) - 1, int(round(by2)) - 1), 1, -1)
    if not m.any():
        return None
    size = (int(round(box[3] - box[1])), int(round(box[2] - box[0])))
    return Target(y0, y1, x0, x1, m.astype(bool), size, track_id)


def face_targets(t: int, scene, shape, *, mask_scale: float = 1.3, ellipse: bool = True,
                 margin: int = 0, from_pose: bool = False) -> list[Target]:
    """Targets of the faces of frame ``t`` (detected, carried and interpolated rows alike); with
    ``from_pose``, also a face estimated from the head keypoints of each person without a face row."""
    faces = scene.faces_at(t)
    boxes = [((r.x1, r.y1, r.x2, r.y2), int(r.track_id)) for r in faces.itertuples(index=False)]
    if from_pose:  # persons whose face the detector did not find (profile, tilted, small)
        seen = {tid for _, tid in boxes if tid >= 0}
        boxes += [(b, -1) for b in pose_face_boxes(t, scene, seen)]
    out = []
    for box, tid in boxes:
        tg = box_target(scale_box(box, mask_scale), shape, ellipse=ellipse, margin=margin, track_id=tid)
        if tg is not None:
            out.append(tg)
    return out


HEAD_JOINTS = list(range(11))  # MediaPipe Pose: nose, eyes, ears, mouth


def pose_face_boxes(t: int, scene, skip_tracks=(), min_visibility: float = 0.5) -> np.ndarray:
    """(N, 4) face boxes estimated from the head keypoints of the persons at frame ``t`` whose
    track is not in ``skip_tracks`` (those already have a detected face): a square around the
    visible head joints, sized by their spread or by half the shoulder width, whichever is larger."""
    kp = scene.keypoints
    if kp.empty:
        return np.zeros((0, 4))
    kp = kp[kp["frame"] == t]
    out = []
    for tid, g in kp.groupby("track_id"):
        if int(tid) in skip_tracks:
            continue
        j = g["joint"].to_numpy().astype(int)
        xy = g[["x", "y"]].to_numpy(float)
        vis = g["visibility"].to_numpy(float) >= min_visibility
        head = vis & np.isin(j, HEAD_JOINTS)
        if head.sum() < 2:
            continue
        c = xy[head].mean(axis=0)
        side = 1.6 * float(np.ptp(xy[head], axis=0).max())
        sh = vis & np.isin(j, [11, 12])
        if sh.sum() == 2:
            side = max(side, 0.6 * float(np.linalg.norm(np.diff(xy[sh], axis=0))))
        side = max(side, 8.0)
        out.append([c[0] - side / 2, c[1] - 0.6 * side, c[0] + side / 2, c[1] + 0.6 * side])
    return np.array(out).reshape(-1, 4)


# MediaPipe Pose bones that a person's region must cover: arms and hands, legs and feet, and the
# torso's outline. A segmenter run on the person's box misses limbs outside its blob (a raised
# sleeve) and whole persons in dark or crowded shots; the pose still finds them.
BONES = [(11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22),
         (23, 25), (25, 27), (27, 29), (27, 31), (24, 26), (26, 28), (28, 30), (28, 32),
         (11, 12), (11, 23), (12, 24), (23, 24), (0, 11), (0, 12)]
TORSO = [11, 12, 24, 23]
MIN_MASK_SHARE = 0.15  # a mask covering less of its box than this counts as failed


def pose_region(pose: np.ndarray, box, shape, *, min_visibility: float = 0.5) -> np.ndarray:
    """Bool (H, W): the body that one person's pose shows, as capsules along its visible bones
    (:data:`BONES`), the torso polygon and a disc on the head, kept within the person ``box``
    (x1, y1, x2, y2 pixels) grown by 10 % each side.

    ``pose`` is (33, 3) MediaPipe joints: x, y (pixels), visibility in [0, 1]; joints below
    ``min_visibility`` are not used. The bones' radius is 0.15 x the shoulder width (an upper arm is
    about a third of it across) or, without both shoulders, 0.03 x the box height; at least 2 px.
    All False when fewer than two joints of a bone are seen.
    """
    h, w = shape[:2]
    out = np.zeros((h, w), np.uint8)
    xy, vis = pose[:, :2], pose[:, 2] >= min_visibility
    vis &= np.isfinite(xy).all(axis=1)
    x1, y1, x2, y2 = (float(v) for v in box)
    if vis[11] and vis[12]:
        r = 0.15 * float(np.linalg.norm(xy[11] - xy[12]))
    else:
        r = 0.03 * (y2 - y1)
    r = max(2, int(round(r)))
    for a, b in BONES:
        if vis[a] and vis[b]:
            cv2.line(out, tuple(int(round(v)) for v in xy[a]), tuple(int(round(v)) for v in xy[b]), 1, 2 * r)
    if vis[TORSO].all():
        cv2.fillPoly(out, [np.round(xy[TORSO]).astype(np.int32).reshape(-1, 1, 2)], 1)
    if vis[0] and out.any():  # the head around the nose
        cv2.circle(out, tuple(int(round(v)) for v in xy[0]), int(round(1.5 * r)), 1, -1)
    px, py = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
    keep = np.zeros_like(out)
    keep[max(int(y1 - py), 0):max(int(np.ceil(y2 + py)), 0), max(int(x1 - px), 0):max(int(np.ceil(x2 + px)), 0)] = 1
    return (out & keep).astype(bool)


def pose_at(scene, t: int, track_id: int) -> np.ndarray | None:
    """(33, 3) keypoints of one person at frame ``t`` from ``scene.keypoints`` (x, y, visibility;
    joints without a row are NaN), or None when the scene has none for them."""
    kp = scene.keypoints
    if kp.empty:
        return None
    cached = getattr(scene, "_pose_index", None)
    if cached is None or cached[0] is not kp:  # indexed once per keypoints table
        index = {k: g.index.to_numpy() for k, g in kp.groupby(["frame", "track_id"])}
        cached = (kp, index)
        scene._pose_index = cached
    rows = cached[1].get((t, track_id))
    if rows is None:
        return None
    g = kp.loc[rows]
    out = np.full((33, 3), np.nan)
    j = g["joint"].to_numpy().astype(int)
    ok = (j >= 0) & (j < 33)
    out[j[ok]] = g[["x", "y", "visibility"]].to_numpy(float)[ok]
    out[np.isnan(out[:, 2]), 2] = 0.0
    return out


def person_targets(t: int, scene, shape, *, dilation: int = 0, margin: int = 0, use_mask: bool = True,
                   box_scale: float = 1.0, limbs: bool = True) -> list[Target]:
    """Targets of the persons of frame ``t``, grown by ``dilation`` pixels (masks miss hair and limb
    edges). Each person's region is, in this order:

    - ``"mask"``: the scene's segmentation mask for (t, track), joined with :func:`pose_region` of
      their keypoints when ``limbs`` (a limb outside the segmenter's blob is covered);
    - ``"pose"``: the pose region (with what the mask found) when the mask failed (missing, or under
      ``MIN_MASK_SHARE`` of the box, as in dark or crowded shots) and the pose was found;
    - ``"box"``: the (``box_scale``-grown) box when both failed, or when ``use_mask`` is False.

    The ``source`` of each target says which, so that a stage can count the rectangles. The targets of
    the frame last asked for are kept on the scene: the methods that share these settings (body blur,
    pixelate and solid fill) compute them once per frame.
    """
    key = (t, tuple(shape[:2]), dilation, margin, use_mask, box_scale, limbs)
    memo = getattr(scene, "_targets_memo", None)
    tables = (id(scene.persons), id(scene.keypoints), id(scene.masks))  # a table replaced: a new scene
    if memo is None or memo.get("t") != (t, tables):
        memo = {"t": (t, tables)}
        try:
            scene._targets_memo = memo
        except AttributeError:  # a scene-like object that takes no attributes: no memo
            pass
    if key not in memo:
        memo[key] = _person_targets(t, scene, shape, dilation=dilation, margin=margin, use_mask=use_mask,
                                    box_scale=box_scale, limbs=limbs)
    return list(memo[key])


def _person_targets(t: int, scene, shape, *, dilation: int, margin: int, use_mask: bool, box_scale: float,
                    limbs: bool) -> list[Target]:
    out = []
    for row in scene.persons_at(t).itertuples(index=False):
        tid = int(row.track_id)
        box = scale_box((row.x1, row.y1, row.x2, row.y2), box_scale)
        size = (int(round(row.y2 - row.y1)), int(round(row.x2 - row.x1)))
        full, source = None, "box"
        if use_mask:
            # the mask (and the pose region joined to it) at the scene analysis' working size; scaled to
            # the frame below, in the person's region only
            rle = scene.masks.get((t, tid))
            full = rle_decode(rle) if rle is not None else np.zeros(shape[:2], bool)
            sx, sy = full.shape[1] / shape[1], full.shape[0] / shape[0]  # mask pixels per frame pixel
            box_area = max((row.x2 - row.x1) * (row.y2 - row.y1), 1.0) * sx * sy
            source = "mask" if full.sum() >= MIN_MASK_SHARE * box_area else "box"
            pose = pose_at(scene, t, tid) if limbs else None
            body = (pose_region(pose * [sx, sy, 1.0], (row.x1 * sx, row.y1 * sy, row.x2 * sx, row.y2 * sy),
                                full.shape) if pose is not None else None)
            if body is not None and body.any():
                full |= body
                source = "pose" if source == "box" else source
        if source == "box":
            tg = box_target(box, shape, ellipse=False, margin=margin + dilation, track_id=tid)
            if tg is None:
                continue
            tg.size, tg.source = size, "box"
            if dilation:
                tg.mask = grow(tg.mask, dilation)
            out.append(tg)
            continue
        ys, xs = np.nonzero(full)
        if full.shape == tuple(shape[:2]):
            y0, y1, x0, x1 = _roi((xs.min(), ys.min(), xs.max(), ys.max()), margin + dilation, shape)
            m = full[y0:y1, x0:x1].copy()
        else:  # mask pixel j covers frame pixels [j / s, (j + 1) / s)
            bb = (xs.min() / sx, ys.min() / sy, (xs.max() + 1) / sx, (ys.max() + 1) / sy)
            y0, y1, x0, x1 = _roi(bb, margin + dilation + 1, shape)
            m = upscale(full, shape, (y0, y1, x0, x1))
        out.append(Target(y0, y1, x0, x1, grow(m, dilation) if dilation else m, size, tid, source))
    return out


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    """Dilate a bool mask by ``px`` pixels (a disc, so corners grow round)."""
    if px <= 0:
        return mask
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool)


def feather_alpha(mask: np.ndarray, feather: int) -> np.ndarray:
    """Blend weight in [0, 1]: 1 on the mask, falling linearly to 0 over ``feather`` pixels outside
    it; exactly 0 farther away (those pixels are left untouched)."""
    mask = np.asarray(mask, dtype=bool)
    if feather <= 0 or not mask.any():
        return mask.astype(np.float32)
    # distance of each pixel to the nearest mask pixel
    d = cv2.distanceTransform(cv2.compare(mask.view(np.uint8), 0, cv2.CMP_EQ), cv2.DIST_L2, 3)
    # clip(1 - d / (feather + 1), 0, 1) in place (float32; d >= 0, so the upper bound holds already)
    np.divide(d, feather + 1.0, out=d)
    np.subtract(1.0, d, out=d)
    return np.maximum(d, 0.0, out=d)


def _filled(new: np.ndarray, shape) -> np.ndarray:
    """``new`` broadcast to ``shape`` (H, W, C) as a contiguous uint8 array; a single colour is tiled
    along one row and the row repeated (numpy's per-element broadcast copy is about 10x slower)."""
    new = np.asarray(new, dtype=np.uint8)
    if new.ndim == 3 and new.strides[:2] == (0, 0):  # a colour broadcast to a region
        new = new[0, 0]
    if new.shape == tuple(shape):
        return np.ascontiguousarray(new)
    if new.size == shape[-1]:  # one colour
        h, w, c = shape
        return np.broadcast_to(np.tile(new.ravel(), w), (h, w * c)).copy().reshape(h, w, c)
    return np.ascontiguousarray(np.broadcast_to(new, shape))


def blend(dst: np.ndarray, new: np.ndarray, alpha: np.ndarray) -> None:
    """``dst = alpha * new + (1 - alpha) * dst`` in place (uint8 (H, W, 3), ``new`` broadcastable to it),
    only where alpha > 0: copied where alpha is 1 (the mask's interior), rounded half up in the feather
    band. The interior goes through OpenCV's masked copy and only the band's pixels are gathered, so
    the cost is a copy of the region, not float work on it."""
    full = np.ascontiguousarray(alpha >= 1)
    if full.any():
        cv2.copyTo(_filled(new, dst.shape), full.view(np.uint8), dst)  # in place, also on a view of a larger frame
    band = cv2.findNonZero(cv2.compare(alpha, 0, cv2.CMP_GT) & cv2.compare(full.view(np.uint8), 0, cv2.CMP_EQ))
    if band is None:
        return
    xs, ys = band[:, 0, 0], band[:, 0, 1]
    a = alpha[ys, xs][:, None]
    new = np.broadcast_to(new, dst.shape)
    dst[ys, xs] = np.clip(a * new[ys, xs].astype(np.float32) + (1 - a) * dst[ys, xs].astype(np.float32) + 0.5,
                          0, 255).astype(np.uint8)
