"""ByteTrack over real detections, and gap filling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vidanon.io import data
from vidanon.models import detect
from vidanon.io import video
from vidanon.core.params import DetectSection
from vidanon.models.track import Tracker, fill_gaps


def test_tracker_keeps_one_id_per_person(data_dir, weights_dir):
    det = detect.get_person_detector(DetectSection().person)
    tracker = Tracker(fps=12.5)
    ids_left, ids_right = set(), set()
    for _, rgb in video.read_frames(data.fetch("female-and-male"), 0, 12):
        out = tracker.update(det(rgb))
        assert out.shape == (2, 6)
        cx = (out[:, 0] + out[:, 2]) / 2
        ids_left.add(int(out[cx.argmin(), 5]))
        ids_right.add(int(out[cx.argmax(), 5]))
    assert len(ids_left) == len(ids_right) == 1 and ids_left != ids_right


def test_tracker_survives_missed_frames():
    tracker = Tracker(fps=10)
    box = np.array([[10, 10, 50, 110, 0.9]], np.float32)
    first = tracker.update(box)
    assert tracker.update(np.zeros((0, 5))).shape == (0, 6)
    again = tracker.update(box + [2, 0, 2, 0, 0])
    assert first[0, 5] == again[0, 5]


def _table(frames, tid=1):
    return pd.DataFrame({"frame": frames, "track_id": tid, "x1": [float(f) for f in frames], "y1": 0.0,
                         "x2": [f + 10.0 for f in frames], "y2": 20.0, "score": 0.9, "source": "detected"})


def test_fill_gaps_interpolates_and_carries():
    out = fill_gaps(_table([2, 6]), max_gap=3, n_frames=9)
    by = out.set_index("frame")
    assert list(out["frame"]) == list(range(0, 9))
    assert by.loc[4, "source"] == "interpolated" and by.loc[4, "x1"] == pytest.approx(4.0)
    assert by.loc[0, "source"] == "carried" and by.loc[0, "x1"] == 2.0
    assert by.loc[8, "source"] == "carried" and by.loc[8, "x1"] == 6.0


def test_fill_gaps_leaves_long_gaps_and_untracked_rows():
    df = pd.concat([_table([0, 10]), _table([5], tid=-1)], ignore_index=True)
    out = fill_gaps(df, max_gap=3)
    assert sorted(out["frame"]) == [0, 5, 10]  # gap of 9 > max_gap; no carry without n_frames
    assert fill_gaps(df, max_gap=0).equals(df)
    assert fill_gaps(df.iloc[0:0], max_gap=3).empty
