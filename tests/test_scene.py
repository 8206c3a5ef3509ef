"""scene.analyze on real clips: tracks, faces, masks, keypoints, pids, the cache, an empty clip."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from vidanon import scene
from vidanon.io import data
from vidanon.core.params import ClipSpec, Params
from vidanon.io.video import VideoWriter


@pytest.fixture(scope="module")
def two(data_dir, weights_dir, tmp_path_factory):
    params = Params(name="t", clips=[ClipSpec(id="fm", sample="female-and-male", max_frames=6)])
    clip = data.open_clip(params.clips[0])
    cache = tmp_path_factory.mktemp("scenes")
    return clip, params, cache, scene.analyze(clip, params, cache, data.load_ground_truth())


def test_two_people_two_tracks_with_their_pids(two):
    clip, _, _, s = two
    assert s.n_frames == 6 and s.shape == (270, 480)
    assert set(s.persons["source"]) == {"detected"}
    assert s.persons.groupby("frame").size().tolist() == [2] * 6
    tracks = s.persons.groupby("track_id")["x1"].mean().sort_values()
    assert s.pids == {int(tracks.index[0]): 1, int(tracks.index[1]): 2}  # woman left (1), man right (2)


def test_faces_masks_keypoints_follow_the_tracks(two):
    _, _, _, s = two
    assert len(s.faces) == 12 and set(s.faces["track_id"]) == set(s.pids)
    assert len(s.masks) == 12
    m = s.person_mask(0)
    assert m.shape == s.shape and m.any()
    tid = next(iter(s.pids))
    assert s.person_mask(0, tid).sum() < m.sum()
    kp = s.keypoints
    assert set(kp["joint"]) <= set(range(33)) and kp["visibility"].between(0, 1).all()
    assert kp.groupby(["frame", "track_id"]).size().eq(33).all()


def test_second_call_loads_the_cache(two, caplog):
    clip, params, cache, s = two
    with caplog.at_level(logging.DEBUG, logger="vidanon.scene"):
        again = scene.analyze(clip, params, cache, data.load_ground_truth())
    assert "cached" in caplog.text
    pd.testing.assert_frame_equal(again.persons, s.persons)
    assert again.masks.keys() == s.masks.keys() and again.pids == s.pids
    assert np.array_equal(again.person_mask(3), s.person_mask(3))


def test_analysis_at_a_working_size_gives_frame_pixels(two, tmp_path):
    """detect.max_side 240 on the 480x270 clip: persons, faces and keypoints come back in the frame's
    pixels, near the full-size analysis' (each person box at IoU > 0.8 with one of them), the masks stay at
    the working size (240x135) through the cache, and person_mask gives the frame's size."""
    from vidanon.metrics.detection import box_iou

    clip, params, _, s = two
    small_params = params.model_copy(deep=True)
    small_params.detect.max_side = 240
    small = scene.analyze(clip, small_params, tmp_path, None)
    assert small.shape == s.shape and len(small.persons) == len(s.persons)
    for t in range(small.n_frames):
        a = small.persons_at(t)[["x1", "y1", "x2", "y2"]].to_numpy(float)
        b = s.persons_at(t)[["x1", "y1", "x2", "y2"]].to_numpy(float)
        assert box_iou(a, b).max(axis=1).min() > 0.8
    assert {tuple(r["size"]) for r in small.masks.values()} == {(135, 240)}
    assert small.keypoints["x"].between(-48, 528).all() and small.keypoints["x"].max() > 240
    assert len(small.faces) and small.faces["x2"].max() > 240  # frame pixels, not the working frame's
    assert small.person_mask(0).shape == (270, 480) and small.person_mask(0).any()
    again = scene.analyze(clip, small_params, tmp_path, None)
    assert again.masks[next(iter(again.masks))]["size"] == [135, 240]


def test_no_person_gives_an_empty_scene(tmp_path, weights_dir):
    path = tmp_path / "empty.mp4"
    with VideoWriter(path, 10) as w:
        for _ in range(3):
            w.write(np.full((64, 96, 3), 128, np.uint8))
    params = Params(name="t", clips=[ClipSpec(id="grey", path=path)])
    clip = data.open_clip(params.clips[0])
    with pytest.warns(UserWarning, match="no person"):
        s = scene.analyze(clip, params, tmp_path / "c", None)
    assert s.persons.empty and s.faces.empty and s.keypoints.empty and s.pids == {}
    assert list(s.persons.columns) == scene.PERSON_COLUMNS
    assert not s.person_mask(0).any()


def test_assign_pids_majority_vote():
    rows = [(t, 1, 10, 0, 30, 50, 0.9, "detected") for t in range(5)]
    rows += [(t, 2, 70, 0, 90, 50, 0.9, "detected") for t in range(5)]
    rows += [(5, 2, 10, 0, 30, 50, 0.9, "detected"), (6, 3, 45, 0, 55, 50, 0.9, "detected")]
    persons = pd.DataFrame(rows, columns=scene.PERSON_COLUMNS)
    rules = [{"pid": 7, "x": [0.0, 0.4]}, {"pid": 8, "x": [0.6, 1.0]}]
    assert scene.assign_pids(persons, rules, 100, 50) == {1: 7, 2: 8, 3: -1}
    # frames are source-file frames: clip start 100 shifts them
    assert scene.assign_pids(persons, [{"pid": 4, "frames": [100, 102]}], 100, 50, start=100) == {1: 4, 2: 4, 3: -1}
    assert scene.assign_pids(persons, [], 100, 50) == {1: -1, 2: -1, 3: -1}


def test_assign_faces_to_the_smallest_containing_box():
    persons = np.array([[0, 0, 100, 100, 0.9, 1], [40, 0, 80, 60, 0.9, 2]], np.float32)
    faces = np.array([[50, 10, 60, 20, 0.9], [5, 70, 15, 80, 0.9], [200, 200, 210, 210, 0.9]], np.float32)
    assert scene.assign_faces(faces, persons).tolist() == [2, 1, -1]


def standin_face(rgb):
    """A stand-in face detector for the small-face tests, NOT a model: the bounding box of the bright
    pixels, when it is at least 30 px wide."""
    ys, xs = np.nonzero(rgb[..., 0] > 200)
    if not len(xs) or xs.max() - xs.min() + 1 < 30:
        return np.zeros((0, 5), np.float32)
    return np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, 0.9]], np.float32)


def test_small_faces_on_upscaled_head_tiles():
    """A stand-in face detector (labelled so: it finds a bright square only when it is at least 30 px) misses
    a 10-px face on the whole frame; the head tile of its 80-px person, upscaled 4x, shows it at 40 px, and
    the box comes back in frame pixels. Tall persons get no tile; a face already found is not repeated."""
    from vidanon.scene.faces import small_faces

    standin_detector = standin_face
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[105:115, 305:315] = 255  # a 10 x 10 px face at the top of a person box
    person = np.array([[290.0, 100.0, 330.0, 180.0, 0.9, 1]])  # 80 px tall
    assert len(standin_detector(frame)) == 0
    found = small_faces(frame, person, standin_detector, max_person_height=120, target_height=320)
    assert found.shape == (1, 5)
    np.testing.assert_allclose(found[0, :4], [305, 105, 315, 115], atol=0.5)
    assert len(small_faces(frame, person, standin_detector, max_person_height=60)) == 0  # not small: no tile
    assert len(small_faces(frame, person, standin_detector, found, max_person_height=120)) == 0  # already found
    assert small_faces(frame, np.zeros((0, 6)), standin_detector).shape == (0, 5)


def test_with_small_faces_adds_the_tiles_of_small_persons_only():
    """The command line's face detector with tiles: stand-in detectors (labelled so, not models) for the face
    (a bright square of at least 30 px) and the persons (fixed boxes). A 10-px face of an 80-px person is
    found through its head tile; a person under the minimum height gets no tile."""
    from vidanon.scene.faces import with_small_faces

    frame = np.zeros((360, 640, 3), np.uint8)
    frame[105:115, 305:315] = 255
    person = np.array([[290.0, 100.0, 330.0, 180.0, 0.9]], np.float32)  # 80 px tall
    found = with_small_faces(standin_face, lambda rgb: person, 120)(frame)
    assert found.shape == (1, 5)
    np.testing.assert_allclose(found[0, :4], [305, 105, 315, 115], atol=0.5)
    assert with_small_faces(standin_face, lambda rgb: person, 120, min_person_height=100)(frame).shape == (0, 5)
    assert with_small_faces(standin_face, lambda rgb: np.zeros((0, 5)), 120)(frame).shape == (0, 5)
