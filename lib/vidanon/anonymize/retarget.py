"""Canonical body proportions for a pose track: every bone of a MediaPipe Pose skeleton (33 joints)
rescaled so that all persons share the same bone lengths, their joint angles kept.

The shape attacker of 06 and any body-shape re-identification read a person from the ratios of
their bone lengths (leg to torso, forearm to upper arm, shoulder to hip width). A figure drawn from
the retargeted pose carries the same ratios for everyone.

How (per track, so nothing jitters from frame to frame): the skeleton is a tree rooted at the
shoulders' midpoint (the avatar only draws poses with both shoulders seen). Each bone's own length
``L`` is a robust maximum (the 90th percentile) of its 2-D length over the frames where both of its
joints are seen: a bone turned towards the camera is shorter in the image, so the maximum is the
nearest to its real length. The track's size ``s`` is the least-squares fit of those lengths to the
canonical ratios ``c`` (``s = sum(L c) / sum(c^2)``). Every frame's bone vector is then multiplied by
``c s / L``: its direction and its foreshortening stay, its length becomes canonical. Joints are
rebuilt from the root down; a seen joint whose parent is not seen keeps its position.

The canonical ratios are adult averages in units of the torso (shoulders' midpoint to hips'
midpoint, about 0.5 m), measured between MediaPipe's joint positions (not the body's outline).
"""

from __future__ import annotations

import numpy as np

SHOULDER_MID, HIP_MID = 33, 34  # virtual joints appended to MediaPipe's 33

#: (parent, child, canonical length in torso units), parents before children
BONES: tuple[tuple[int, int, float], ...] = (
    (SHOULDER_MID, 11, 0.36), (SHOULDER_MID, 12, 0.36),  # half the shoulder width
    (11, 13, 0.60), (12, 14, 0.60),  # upper arms
    (13, 15, 0.52), (14, 16, 0.52),  # forearms
    (15, 17, 0.17), (16, 18, 0.17), (15, 19, 0.18), (16, 20, 0.18), (15, 21, 0.11), (16, 22, 0.11),  # hands
    (SHOULDER_MID, HIP_MID, 1.00),  # torso
    (HIP_MID, 23, 0.19), (HIP_MID, 24, 0.19),  # half the hip width
    (23, 25, 0.86), (24, 26, 0.86),  # thighs
    (25, 27, 0.82), (26, 28, 0.82),  # shins
    (27, 29, 0.13), (28, 30, 0.13), (27, 31, 0.36), (28, 32, 0.36),  # heels, feet
    (SHOULDER_MID, 0, 0.50),  # neck and head, to the nose
    (0, 1, 0.07), (0, 2, 0.08), (0, 3, 0.10), (0, 4, 0.07), (0, 5, 0.08), (0, 6, 0.10),  # eyes
    (0, 7, 0.19), (0, 8, 0.19), (0, 9, 0.06), (0, 10, 0.06),  # ears, mouth
)


def _with_mids(xyv: np.ndarray, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (F, 35, 2) with the shoulders' and hips' midpoints appended, and which are seen (F, 35)."""
    xy = xyv[..., :2].astype(np.float64)
    vis = (xyv[..., 2] >= min_visibility) & np.isfinite(xy).all(axis=-1)
    mids = [xy[:, [11, 12]].mean(1), xy[:, [23, 24]].mean(1)]
    seen = [vis[:, 11] & vis[:, 12], vis[:, 23] & vis[:, 24]]
    return np.concatenate([xy, np.stack(mids, 1)], 1), np.concatenate([vis, np.stack(seen, 1)], 1)


def bone_lengths(xyv: np.ndarray, *, min_visibility: float = 0.5, q: float = 90.0) -> np.ndarray:
    """Each bone's length in a track: the ``q``-th percentile of its 2-D length over the frames where
    both joints are seen.

    Parameters
    ----------
    xyv : (F, 33, 3) array
        x, y (pixels) and visibility of each joint in each frame of one track.
    min_visibility : float
        Joints below it count as not seen.
    q : float
        Percentile (0-100) of the per-frame lengths.

    Returns
    -------
    (len(BONES),) float array
        Lengths in pixels, in the order of :data:`BONES`; NaN for a bone never seen whole.
    """
    xy, vis = _with_mids(np.asarray(xyv), min_visibility)
    out = np.full(len(BONES), np.nan)
    for i, (a, b, _) in enumerate(BONES):
        ok = vis[:, a] & vis[:, b]
        if ok.any():
            out[i] = np.percentile(np.linalg.norm(xy[ok, b] - xy[ok, a], axis=1), q)
    return out


def canonical_track(xyv: np.ndarray, *, min_visibility: float = 0.5) -> np.ndarray:
    """A pose track with canonical bone lengths (see the module doc).

    Parameters
    ----------
    xyv : (F, 33, 3) array
        x, y (pixels) and visibility of each joint in each frame of one track.
    min_visibility : float
        Joints below it count as not seen (they are returned unchanged).

    Returns
    -------
    (F, 33, 3) float array
        The retargeted positions with the same visibilities; the shoulders' midpoint stays where it
        was. A track without any bone seen whole comes back unchanged.
    """
    xyv = np.asarray(xyv, np.float64)
    length = bone_lengths(xyv, min_visibility=min_visibility)
    canon = np.array([c for _, _, c in BONES])
    known = np.isfinite(length) & (length > 1e-6)
    if not known.any():
        return xyv.copy()
    size = float((length[known] * canon[known]).sum() / (canon[known] ** 2).sum())
    factor = np.where(known, canon * size / np.where(known, length, 1.0), 1.0)
    xy, vis = _with_mids(xyv, min_visibility)
    new = xy.copy()
    for (a, b, _), k in zip(BONES, factor):  # parents first: new[a] is already final
        ok = vis[:, a] & vis[:, b]
        new[ok, b] = new[ok, a] + (xy[ok, b] - xy[ok, a]) * k
    out = xyv.copy()
    out[..., :2] = np.where(vis[:, :33, None], new[:, :33], xyv[..., :2])
    return out
