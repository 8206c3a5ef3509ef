"""A faces-only Scene for anonymizing a video without the full scene analysis (the command line,
the deface benchmark): the face detector runs on every frame, IoU linking joins the faces into
tracks, and each track's missed frames are interpolated / carried over for up to ``max_gap``
frames. That carry-over is what a per-frame tool such as deface lacks.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

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
    rows, n, held, last_key = [], 0, [], None
    frames = clip.frames()
    if progress:
        frames = tqdm(frames, total=clip.n_frames, desc=f"faces {clip.id}", leave=False)

    def link(t, dets):
        rows.extend((t, int(tid), *map(float, d), "detected") for d, tid in zip(dets, linker.update(t, dets)))

    def detect(rgb):
        return np.asarray(detector(rgb), dtype=np.float32).reshape(-1, 5)

    for t, rgb in frames:
        n += 1
        if t % detect_every and t != clip.n_frames - 1:
            held.append((t, rgb))
            continue
        dets = detect(rgb)
        if held and (last_key is None or not same_faces(last_key, dets, min_iou)):
            for th, frame in held:  # the faces changed between keyframes: look at every frame
                link(th, detect(frame))
        held = []
        link(t, dets)
        last_key = dets
    for th, frame in held:  # the clip had fewer frames than announced: no closing keyframe
        link(th, detect(frame))
    df = pd.DataFrame(rows, columns=FACE_COLUMNS) if rows else pd.DataFrame(columns=FACE_COLUMNS)
    df = df.astype({"frame": "int64", "track_id": "int64", "x1": float, "y1": float, "x2": float,
                    "y2": float, "score": float, "source": object})
    faces = fill_gaps(df, max_gap, n)
    return Scene(clip.id, clip.width, clip.height, n, clip.fps, faces=faces)


def same_faces(a: np.ndarray, b: np.ndarray, min_iou: float) -> bool:
    """True when the boxes of ``a`` and ``b`` pair up one-to-one with IoU >= ``min_iou`` (greedy)."""
    if len(a) != len(b):
        return False
    m = iou(a[:, :4], b[:, :4])
    for _ in range(len(a)):
        i, j = np.unravel_index(np.argmax(m), m.shape)
        if m[i, j] < min_iou:
            return False
        m[i, :], m[:, j] = -1, -1
    return True


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
