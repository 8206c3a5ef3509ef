"""A faces-only Scene for anonymizing a video without the full scene analysis (the command line,
the deface benchmark): the face detector runs on every frame, ByteTrack links the faces into
tracks, and each track's missed frames are interpolated / carried over for up to ``max_gap``
frames. That carry-over is what a per-frame tool such as deface lacks.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from vidanon.scene import FACE_COLUMNS, Scene


def face_scene(clip, detector, max_gap: int = 10, track_thresh: float | None = None,
               progress: bool = True) -> Scene:
    """Detect and track the faces of a ``data.Clip``; returns a Scene with only ``faces`` filled.

    ``detector``: callable ``rgb -> (N, 5) [x1, y1, x2, y2, score]`` (vidanon.detect). Every
    detection is kept (track_id -1 when ByteTrack did not confirm it); tracked faces are gap-filled.
    """
    import pandas as pd

    from vidanon.track import Tracker, fill_gaps

    thresh = track_thresh if track_thresh is not None else float(getattr(detector, "threshold", 0.25))
    tracker = Tracker(track_thresh=thresh, match_thresh=0.8, track_buffer=max(max_gap, 1), fps=clip.fps or 25.0)
    rows, n = [], 0
    frames = clip.frames()
    if progress:
        frames = tqdm(frames, total=clip.n_frames, desc=f"faces {clip.id}", leave=False)
    for t, rgb in frames:
        n += 1
        dets = np.asarray(detector(rgb), dtype=np.float32).reshape(-1, 5)
        tids = _match(dets, tracker.update(dets))
        rows += [(t, int(tid), *map(float, d), "detected") for d, tid in zip(dets, tids)]
    df = pd.DataFrame(rows, columns=FACE_COLUMNS) if rows else pd.DataFrame(columns=FACE_COLUMNS)
    df = df.astype({"frame": "int64", "track_id": "int64", "x1": float, "y1": float, "x2": float,
                    "y2": float, "score": float, "source": object})
    faces = fill_gaps(df, max_gap, n)
    return Scene(clip.id, clip.width, clip.height, n, clip.fps, faces=faces)


def _match(dets: np.ndarray, tracked: np.ndarray) -> np.ndarray:
    """Track id of each detection (ByteTrack returns the detector's boxes it kept), else -1."""
    out = np.full(len(dets), -1, dtype=int)
    if len(dets) == 0 or len(tracked) == 0:
        return out
    d = np.abs(dets[:, None, :4] - tracked[None, :, :4]).max(axis=2)
    best = d.argmin(axis=1)
    ok = d[np.arange(len(dets)), best] < 0.5
    out[ok] = tracked[best[ok], 5].astype(int)
    return out
