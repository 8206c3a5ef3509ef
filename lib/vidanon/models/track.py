"""Tracking: ByteTrack (``supervision``) over per-frame person boxes, and gap filling.

A track id is a person's identity within one clip. ``fill_gaps`` fills the frames a track was
missed (detector misses, ByteTrack's one-frame activation delay) so that an anonymizer never lets
a person through for a frame: interior gaps are interpolated linearly, and a track is carried over
(its first/last box held) for up to ``max_gap`` frames before its start and after its end.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


class Tracker:
    """ByteTrack over one clip: ``update(dets (N, 5)) -> (M, 6) [x1, y1, x2, y2, score, track_id]``.

    Thresholds as ``params.TrackSection``; the returned boxes are the detector's boxes (not the
    Kalman prediction).

    Parameters
    ----------
    track_thresh : float, optional
        Detection score, in [0, 1], needed to start a track (supervision's
        ``track_activation_threshold``). Default 0.25.
    match_thresh : float, optional
        supervision's ``minimum_matching_threshold``, in [0, 1]. Default 0.8.
    track_buffer : int, optional
        Frames a lost track is kept, counted at 30 fps (supervision's ``lost_track_buffer``).
        Default 30.
    fps : float, optional
        Frame rate of the clip in frames per second (at least 1 is passed on). Default 30.0.
    """

    def __init__(self, track_thresh: float = 0.25, match_thresh: float = 0.8, track_buffer: int = 30,
                 fps: float = 30.0):
        import supervision as sv

        with warnings.catch_warnings():  # sv 0.30 marks ByteTrack deprecated (moved to `trackers`)
            warnings.simplefilter("ignore", FutureWarning)
            self._bt = sv.ByteTrack(track_activation_threshold=track_thresh, lost_track_buffer=track_buffer,
                                    minimum_matching_threshold=match_thresh, frame_rate=max(fps, 1.0))
        self._sv = sv

    @classmethod
    def from_params(cls, track, fps: float) -> "Tracker":
        """A tracker with the thresholds of a ``params.track`` section.

        Parameters
        ----------
        track : TrackSection
            ``params.track`` (``track_thresh``, ``match_thresh``, ``track_buffer``).
        fps : float
            Frame rate of the clip, in frames per second.

        Returns
        -------
        tracker : Tracker
            A new tracker for one clip.
        """
        return cls(track.track_thresh, track.match_thresh, track.track_buffer, fps)

    def update(self, dets: np.ndarray) -> np.ndarray:
        """Track the detections of the next frame.

        Parameters
        ----------
        dets : (N, 5) array_like of float
            Detections ``[x1, y1, x2, y2, score]`` of one frame, in pixels; frames in order.

        Returns
        -------
        tracks : (M, 6) ndarray of float32
            ``[x1, y1, x2, y2, score, track_id]`` of the detections that belong to a track (the
            detector's boxes).
        """
        dets = np.asarray(dets, dtype=np.float32).reshape(-1, 5)
        d = self._sv.Detections(xyxy=dets[:, :4].copy(), confidence=dets[:, 4].copy(),
                                class_id=np.zeros(len(dets), dtype=int))
        out = self._bt.update_with_detections(d)
        if len(out) == 0:
            return np.zeros((0, 6), dtype=np.float32)
        return np.column_stack([out.xyxy, out.confidence, out.tracker_id]).astype(np.float32)


BOX = ["x1", "y1", "x2", "y2"]


def fill_gaps(df: pd.DataFrame, max_gap: int, n_frames: int | None = None) -> pd.DataFrame:
    """Fill missed frames of each track of a box table (``frame, track_id, x1, y1, x2, y2, score, source``).

    - a gap of up to ``max_gap`` frames between two boxes of a track: linear interpolation of the
      box (``source='interpolated'``, score = the lower of the two ends);
    - when ``n_frames`` is given: the first/last box is held for up to ``max_gap`` frames before the
      track's start and after its end, within ``0 .. n_frames-1`` (``source='carried'``).

    Rows with ``track_id`` -1 (no track) are kept as they are; when a track has several boxes in
    one frame the best-scoring one is used for filling.

    Parameters
    ----------
    df : pandas.DataFrame
        Box table with columns ``frame``, ``track_id``, ``x1, y1, x2, y2`` (pixels), ``score`` and
        ``source`` (optional); no other columns (the added rows are built with only these).
    max_gap : int
        Longest gap filled, and frames carried at each end, in frames; <= 0 fills nothing.
    n_frames : int, optional
        Number of frames of the clip. None (default): no carrying before or after a track.

    Returns
    -------
    filled : pandas.DataFrame
        A new table sorted by frame, track (index reset); with ``max_gap`` <= 0 or an empty
        ``df``, an unsorted copy of ``df``.
    """
    if max_gap <= 0 or df.empty:
        return df.copy()
    rows = []
    tracked = df[df["track_id"] >= 0].sort_values("score", ascending=False)
    tracked = tracked.drop_duplicates(["frame", "track_id"]).sort_values("frame")
    for tid, g in tracked.groupby("track_id"):
        f = g["frame"].to_numpy(dtype=int)
        b = g[BOX].to_numpy(dtype=float)
        s = g["score"].to_numpy(dtype=float)
        for i in np.flatnonzero((np.diff(f) > 1) & (np.diff(f) <= max_gap + 1)):
            for t in range(f[i] + 1, f[i + 1]):
                a = (t - f[i]) / (f[i + 1] - f[i])
                rows.append((t, tid, *((1 - a) * b[i] + a * b[i + 1]), min(s[i], s[i + 1]), "interpolated"))
        if n_frames is not None:
            for t in range(max(0, f[0] - max_gap), f[0]):
                rows.append((t, tid, *b[0], s[0], "carried"))
            for t in range(f[-1] + 1, min(n_frames, f[-1] + max_gap + 1)):
                rows.append((t, tid, *b[-1], s[-1], "carried"))
    if not rows:
        return df.sort_values(["frame", "track_id"], kind="stable").reset_index(drop=True)
    extra = pd.DataFrame(rows, columns=["frame", "track_id", *BOX, "score", "source"])
    extra = extra.astype({"frame": df["frame"].dtype, "track_id": df["track_id"].dtype})
    out = pd.concat([df, extra[df.columns]], ignore_index=True)
    return out.sort_values(["frame", "track_id"], kind="stable").reset_index(drop=True)
