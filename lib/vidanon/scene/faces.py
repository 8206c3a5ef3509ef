"""A faces-only Scene for anonymizing a video without the full scene analysis (the command line,
the deface benchmark): the face detector runs on every frame, IoU linking joins the faces into
tracks, and each track's missed frames are interpolated / carried over for up to ``max_gap``
frames. That carry-over is what a per-frame tool such as deface lacks.
"""

from __future__ import annotations

import numpy as np
from vidanon.core.progress import tqdm

from vidanon.scene.analysis import FACE_COLUMNS, Scene


def face_scene(clip, detector, *, max_gap: int = 10, min_iou: float = 0.3, detect_every: int = 1,
               progress: bool = True) -> Scene:
    """Detect and track the faces of a ``data.Clip``; returns a Scene with only ``faces`` filled.

    ``detector``: callable ``rgb -> (N, 5) [x1, y1, x2, y2, score]`` (vidanon.models.detect). Every
    detection is kept; a face is linked to the track whose last box (seen within ``max_gap``
    frames) it overlaps most (IoU >= ``min_iou``), and each track's gaps are filled by
    ``vidanon.models.track.fill_gaps`` (interpolated inside, carried over at both ends).

    ``detect_every`` = n > 1: keyframes. The detector runs on every n-th frame (and the last); when
    two consecutive keyframes see the same faces (one-to-one IoU >= ``min_iou``), the n-1 frames
    between them are interpolated along the tracks; when a face appears, leaves or jumps, the
    detector also runs on every frame between them (held in memory: n-1 frames), so a face that
    enters between keyframes is found on its first frame. Needs ``max_gap >= n - 1``.
    """
    if detect_every < 1 or max_gap < detect_every - 1:
        raise ValueError(f"detect_every must be >= 1 and <= max_gap + 1, got {detect_every} (max_gap {max_gap})")
    import pandas as pd

    from vidanon.models.track import fill_gaps

    linker = _Linker(max_gap, min_iou)
    rows, n = [], 0
    frames = clip.frames()
    if progress:
        frames = tqdm(frames, total=clip.n_frames, desc=f"faces {clip.id}", leave=False)
    for t, _, dets, detected in keyframe_faces(frames, detector, detect_every, min_iou):
        n += 1
        if detected:  # interpolated frames are filled along the linked tracks below, by fill_gaps
            rows.extend((t, int(tid), *map(float, d), "detected") for d, tid in zip(dets, linker.update(t, dets)))
    df = pd.DataFrame(rows, columns=FACE_COLUMNS) if rows else pd.DataFrame(columns=FACE_COLUMNS)
    df = df.astype({"frame": "int64", "track_id": "int64", "x1": float, "y1": float, "x2": float,
                    "y2": float, "score": float, "source": object})
    faces = fill_gaps(df, max_gap, n)
    return Scene(clip.id, clip.width, clip.height, n, clip.fps, faces=faces)


def pair_faces(a: np.ndarray, b: np.ndarray, min_iou: float) -> list[tuple[int, int]] | None:
    """The one-to-one pairs ``(i, j)`` of the boxes of ``a`` and ``b`` (greedy, highest IoU first), or
    None when they do not all pair up with IoU >= ``min_iou`` (a face appeared, left or jumped).

    Parameters
    ----------
    a, b : (N, >=4) ndarray of float
        Face boxes ``x1, y1, x2, y2`` (pixels) of two frames.
    min_iou : float
        Least IoU, in [0, 1], of a pair.

    Returns
    -------
    pairs : list of (int, int) or None
        Row indices into ``a`` and ``b``.
    """
    if len(a) != len(b):
        return None
    m = iou(a[:, :4], b[:, :4])
    pairs = []
    for _ in range(len(a)):
        i, j = np.unravel_index(np.argmax(m), m.shape)
        if m[i, j] < min_iou:
            return None
        pairs.append((int(i), int(j)))
        m[i, :], m[:, j] = -1, -1
    return pairs


def keyframe_faces(frames, detector, every: int, min_iou: float = 0.3):
    """Yield ``(t, rgb, faces, detected)`` for a stream of ``(t, rgb)``, running ``detector`` only on
    keyframes when the faces are stable.

    The detector runs on every ``every``-th frame; the frames between two keyframes whose faces pair
    up one-to-one (:func:`pair_faces`) get the boxes interpolated linearly (score: the lower of the
    pair's), the others get the detector too, as do the frames after the last keyframe. At most
    ``every - 1`` frames are held. ``every`` 1: the detector on every frame.

    Parameters
    ----------
    frames : iterable of (int, ndarray)
        Clip frames ``(t, rgb)`` in order.
    detector : callable
        ``rgb -> (N, 5) [x1, y1, x2, y2, score]``.
    every : int
        Keyframe spacing in frames (>= 1).
    min_iou : float, optional
        Least IoU of a face between two keyframes to interpolate it. Default 0.3.

    Yields
    ------
    t : int
        The frame index.
    rgb : ndarray
        The frame.
    faces : (N, 5) ndarray of float32
        Its face boxes.
    detected : bool
        Whether the detector ran on this frame (False: interpolated).
    """
    def detect(rgb):
        return np.asarray(detector(rgb), dtype=np.float32).reshape(-1, 5)

    held, last_t, last = [], None, None
    for t, rgb in frames:
        if last is not None and t - last_t < every:
            held.append((t, rgb))
            continue
        dets = detect(rgb)
        pairs = pair_faces(last, dets, min_iou) if held else None
        for th, frame in held:
            if pairs is None:
                yield th, frame, detect(frame), True
            else:
                a = (th - last_t) / (t - last_t)
                boxes = [np.append((1 - a) * last[i, :4] + a * dets[j, :4], min(last[i, 4], dets[j, 4]))
                         for i, j in pairs]
                yield th, frame, np.array(boxes, np.float32).reshape(-1, 5), False
        held = []
        yield t, rgb, dets, True
        last_t, last = t, dets
    for th, frame in held:  # no closing keyframe
        yield th, frame, detect(frame), True


HEAD_TOP, HEAD_BOTTOM, HEAD_SIDE = 0.05, 0.45, 0.10  # the head region of a person box, as fractions of it


def small_faces(rgb: np.ndarray, persons: np.ndarray, detector, faces: np.ndarray | None = None, *,
                max_person_height: float = 240.0, target_height: float = 480.0, max_scale: float = 4.0,
                min_iou: float = 0.3) -> np.ndarray:
    """Faces too small for a face detector at the frame's own scale, found on upscaled head tiles.

    For each person box shorter than ``max_person_height`` pixels, the upper part of the box (from
    ``HEAD_TOP`` above its top to ``HEAD_BOTTOM`` of its height, ``HEAD_SIDE`` of its width on each
    side), scaled up so the person would be ``target_height`` pixels tall (at most ``max_scale``
    times, cubic interpolation), goes through ``detector``; its boxes are mapped back to the frame.
    A face of a 100-pixel-tall person (about 12 px) is then seen at about 50 px.

    Parameters
    ----------
    rgb : (H, W, 3) ndarray of uint8
        The frame.
    persons : (P, >=4) ndarray
        Person boxes ``x1, y1, x2, y2`` in frame pixels.
    detector : callable
        ``rgb -> (N, 5)`` face boxes ``x1, y1, x2, y2, score`` (e.g. CenterFace).
    faces : (F, >=4) ndarray, optional
        Faces already found on the whole frame: tile faces that overlap one of them (IoU >=
        ``min_iou``) are left out.

    Returns
    -------
    new : (M, 5) ndarray of float32
        The faces found only on the tiles, in frame pixels.
    """
    import cv2

    h_img, w_img = rgb.shape[:2]
    found = []
    boxes = np.asarray(persons, dtype=np.float64)
    for x1, y1, x2, y2 in (boxes.reshape(-1, boxes.shape[-1])[:, :4] if boxes.size else ()):
        w, h = x2 - x1, y2 - y1
        if h <= 0 or w <= 0 or h >= max_person_height:
            continue
        tx1, tx2 = int(max(0, x1 - HEAD_SIDE * w)), int(min(w_img, np.ceil(x2 + HEAD_SIDE * w)))
        ty1, ty2 = int(max(0, y1 - HEAD_TOP * h)), int(min(h_img, np.ceil(y1 + HEAD_BOTTOM * h)))
        if tx2 - tx1 < 4 or ty2 - ty1 < 4:
            continue
        scale = float(np.clip(target_height / h, 1.0, max_scale))
        tile = rgb[ty1:ty2, tx1:tx2]
        if scale > 1.0:
            tile = cv2.resize(tile, (round(tile.shape[1] * scale), round(tile.shape[0] * scale)),
                              interpolation=cv2.INTER_CUBIC)
        d = np.asarray(detector(np.ascontiguousarray(tile)), dtype=np.float32).reshape(-1, 5)
        if len(d):
            d[:, [0, 2]] = d[:, [0, 2]] * (tx2 - tx1) / tile.shape[1] + tx1
            d[:, [1, 3]] = d[:, [1, 3]] * (ty2 - ty1) / tile.shape[0] + ty1
            found.append(d)
    if not found:
        return np.zeros((0, 5), np.float32)
    new = np.concatenate(found)
    keep = []  # strongest first; one box per face (tiles of overlapping persons see the same face)
    for i in np.argsort(-new[:, 4]):
        if all(iou(new[i:i + 1, :4], new[j:j + 1, :4])[0, 0] < min_iou for j in keep):
            keep.append(i)
    new = new[keep]
    if faces is not None and len(faces) and len(new):
        new = new[iou(new[:, :4], np.asarray(faces, dtype=np.float64)[:, :4]).max(axis=1) < min_iou]
    return new.astype(np.float32)


def with_small_faces(detector, person_detector, below: int, *, min_person_height: int = 24):
    """``detector`` plus :func:`small_faces`, for the command line's faces-only scene (no person analysis
    runs there): both detectors run on every frame it is called on (face_scene's keyframes).

    Parameters
    ----------
    detector : callable
        ``rgb -> (N, 5)`` face boxes ``x1, y1, x2, y2, score`` (e.g. CenterFace).
    person_detector : callable
        ``rgb -> (P, 5)`` person boxes (e.g. YOLOv5).
    below : int
        Persons shorter than this (pixels) get their head searched on an upscaled tile.
    min_person_height : int, optional
        Shorter person boxes are ignored, as the scene analysis does. Default 24.

    Returns
    -------
    detect : callable
        ``rgb -> (M, 5) float32``: the whole frame's faces, then those found only on the tiles.
    """
    def detect(rgb: np.ndarray) -> np.ndarray:
        faces = np.asarray(detector(rgb), dtype=np.float32).reshape(-1, 5)
        persons = np.asarray(person_detector(rgb), dtype=np.float64).reshape(-1, 5)
        persons = persons[(persons[:, 3] - persons[:, 1]) >= min_person_height]
        tiles = small_faces(rgb, persons, detector, faces, max_person_height=below)
        return np.concatenate([faces, tiles]) if len(tiles) else faces
    return detect


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of ``x1, y1, x2, y2`` boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


class _Linker:
    """Greedy IoU linking of face boxes into tracks. Faces move little between frames and rarely
    overlap each other, so this is enough here; it also spares the command line the start-up of
    a full tracker library (supervision's ByteTrack costs ~1.5 s to import)."""

    def __init__(self, max_gap: int, min_iou: float):
        self.max_gap, self.min_iou = max_gap, min_iou
        self.boxes: dict[int, tuple[int, np.ndarray]] = {}  # track id -> (last frame, box)
        self.next_id = 0

    def update(self, t: int, dets: np.ndarray) -> np.ndarray:
        self.boxes = {k: v for k, v in self.boxes.items() if t - v[0] <= self.max_gap + 1}
        ids = np.full(len(dets), -1, dtype=int)
        if len(dets) and self.boxes:
            keys = list(self.boxes)
            m = iou(dets[:, :4], np.array([self.boxes[k][1] for k in keys]))
            while m.size and m.max() >= self.min_iou:
                i, j = np.unravel_index(np.argmax(m), m.shape)
                ids[i] = keys[j]
                m[i, :], m[:, j] = -1, -1
        for i in np.flatnonzero(ids < 0):
            ids[i], self.next_id = self.next_id, self.next_id + 1
        for i, k in enumerate(ids):
            self.boxes[int(k)] = (t, dets[i, :4].copy())
        return ids
