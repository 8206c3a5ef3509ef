"""Leak check: faces found by an independent detector inside anonymized person regions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vidanon import anonymize
from vidanon.metrics import leaks as lm
from vidanon.stages import anonymize as leaks
from vidanon.io import data
from vidanon.models import detect
from vidanon.io import video
from vidanon.scene import Scene


def test_fraction_inside_and_region():
    region = np.zeros((10, 10), bool)
    region[:, :5] = True
    f = lm.fraction_inside(np.array([[0, 0, 4, 4], [5, 0, 9, 4], [3, 0, 7, 4]]), region)
    assert np.allclose(f, [1, 0, 0.5])
    assert lm.fraction_inside(np.zeros((0, 4)), region).shape == (0,)
    persons = pd.DataFrame([(0, 1, 2.0, 2.0, 4.0, 4.0, 0.9, "carried")],
                           columns=["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"])
    scene = Scene("s", 10, 10, 1, 10.0, persons=persons)
    r = leaks.person_region(scene, 0, (10, 10))
    assert r[2:4, 2:4].all() and r.sum() == 4


def test_independent_detector_counts_leaks(data_dir):
    """MediaPipe finds the woman's face in the original frames and not under a solid face mask."""
    path = data.fetch("female")
    frames = list(video.read_frames(path, 0, 4))
    cf = detect.get_face_detector("centerface")
    faces = pd.DataFrame([(t, 1, *b[:5], "detected") for t, rgb in frames for b in cf(rgb)],
                         columns=["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"])
    h, w = frames[0][1].shape[:2]
    scene = Scene("female", w, h, 4, 12.5, faces=faces)
    solid = anonymize.get("face-solid")
    with detect.get_face_detector("mediapipe-face") as mp:
        orig = leaks.summarize_leaks(leaks.check_video(frames, mp, scene))
        anon = leaks.summarize_leaks(leaks.check_video(((t, solid.apply(rgb, t, scene)) for t, rgb in frames), mp, scene))
        empty = leaks.check_video(frames, mp, Scene("female", w, h, 4, 12.5))
    assert orig["leaked_frames"] == 4 and orig["leak_rate"] == 1.0
    assert anon["leaked_frames"] == 0 and anon["face_frames"] == 0
    assert (empty["faces"] == 1).all() and (empty["leaked"] == 0).all()   # no person known: not inside


def test_unchanged_counts_only_faces_the_method_left_as_they_were():
    # unit test with a scripted detector (no model): it "finds" the same face in every frame
    box = np.array([[10, 10, 30, 30, 0.9]], np.float32)
    original = [(t, np.full((40, 40, 3), 100, np.uint8)) for t in range(3)]
    anonymized = [(0, original[0][1].copy()), (1, original[1][1].copy()), (2, original[2][1].copy())]
    anonymized[1][1][10:31, 10:31] = 0      # processed: the face box was filled
    anonymized[2][1][10:31, 10:31] += 3     # barely touched: 3 grey levels
    per_frame = leaks.check_video(anonymized, lambda rgb: box, originals=original)
    assert per_frame["leaked"].tolist() == [1, 1, 1]
    assert per_frame["unchanged"].tolist() == [1, 0, 1]
    s = leaks.summarize_leaks(per_frame)
    assert s["leaked_frames"] == 3 and s["unchanged_frames"] == 2
    assert "unchanged" not in leaks.check_video(anonymized, lambda rgb: box)


def test_boxes_outside_the_frame_and_extra_columns():
    a = np.zeros((20, 20, 3), np.uint8)
    b = np.full((20, 20, 3), 90, np.uint8)
    assert lm.mean_abs_diff(a, b, (-20, 10, -10, 15)) == float("inf")  # left of the frame: empty, not wrapped
    assert lm.mean_abs_diff(a, b, (2, 2, 5, 5, 0.9)) == 90.0
    region = np.zeros((10, 10), bool)
    region[:, :5] = True
    np.testing.assert_allclose(lm.fraction_inside(np.array([[0, 0, 4, 4, 0.9], [5, 0, 9, 4, 0.8]]), region), [1, 0])
