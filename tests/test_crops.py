"""Market-1501 crops and their manifest; bad inputs. The synthetic clips here are drawn rectangles:
the 'detector' passed to crop_clip in these unit tests is a stand-in that returns fixed boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from vidanon.core.versions import anonymized_path
from vidanon.io import crops as crop_io
from vidanon.stages import crops
from vidanon.io import data
from vidanon.core.errors import DataError
from vidanon.core.params import ClipSpec, CropsSection, MethodSpec, Params
from vidanon.scene import PERSON_COLUMNS, Scene
from vidanon.io.video import VideoWriter

BOX = (20.0, 10.0, 60.0, 90.0)


def _crop(clip, scene, clip_index, method, video, cfg, out, **kw):
    return crops.crop_clip(clip, scene, clip_index=clip_index, method=method, video_path=video, crops=cfg,
                           out_dir=out, **kw)


def _video(path, n, shift=0):
    with VideoWriter(path, 10) as w:
        for t in range(n):
            rgb = np.full((100, 160, 3), 200, np.uint8)
            cv2.rectangle(rgb, (20 + shift, 10), (60 + shift, 90), (200, 30, 30), -1)
            w.write(rgb)
    return path


@pytest.fixture
def synthetic(tmp_path):
    n = 8
    path = _video(tmp_path / "clip.mp4", n)
    clip = data.Clip("syn", path, 0, n, 10.0, 160, 100)
    rows = [(t, 1, *BOX, 0.9, "detected") for t in range(n) if t != 3]
    rows += [(3, 1, *BOX, 0.9, "interpolated"), (4, 2, 100, 10, 140, 30, 0.8, "detected")]  # 2: too small
    persons = pd.DataFrame(rows, columns=PERSON_COLUMNS)
    scene = Scene("syn", 160, 100, n, 10.0, persons=persons, pids={1: 5, 2: -1})
    return clip, scene


def test_market_names_round_trip():
    assert crop_io.market_name(5, 2, 3, 40, 0) == "0005_c2s3_000040_00.jpg"
    assert crop_io.market_name(-1, 1, 1, 7, 2) == "-1_c1s1_000007_02.jpg"
    assert crop_io.parse_market_name("dir/0005_c2s3_000040_01.jpg") == {"pid": 5, "cam": 2, "seq": 3,
                                                                       "frame": 40, "k": 1}
    assert crop_io.parse_market_name("-1_c1s1_000007_02.jpg")["pid"] == -1
    with pytest.raises(ValueError, match="not a Market-1501 name"):
        crop_io.parse_market_name("person_1.jpg")


def test_select_boxes_stride_size_and_spacing(synthetic):
    _, scene = synthetic
    extra = pd.DataFrame([(8, 1, *BOX, 0.9, "carried")], columns=PERSON_COLUMNS)
    sel = crops.select_boxes(pd.concat([scene.persons, extra]), stride=2, min_height=48, max_per_track=3)
    assert sel["frame"].tolist() == [0, 4, 6] and set(sel["track_id"]) == {1}  # of 0, 2, 4, 6: 3 evenly
    assert len(crops.select_boxes(scene.persons, 1, 48, 100)) == 8  # interpolated frame 3 kept


def test_crop_clip_original_and_anonymized(synthetic, tmp_path):
    clip, scene = synthetic
    cfg = CropsSection(stride=1, segment_seconds=0.5, max_per_track=100)
    m, r = _crop(clip, scene, 2, "original", None, cfg, tmp_path / "out")
    assert list(m.columns) == crop_io.MANIFEST_COLUMNS
    assert len(m) == 15 and set(m["mode"]) == {"aligned", "independent"}  # frame 3 (interpolated): aligned only
    assert set(m["pid"]) == {5} and set(m["camid"]) == {3001, 3002}  # clip 3, 5-frame segments
    row = m[(m["frame"] == 6) & (m["mode"] == "aligned")].iloc[0]
    assert row["path"] == "original/aligned/syn/0005_c3s2_000006_00.jpg"
    img = cv2.imread(str(tmp_path / "out" / row["path"]))
    assert img.shape == (256, 128, 3)
    assert r["recall"].iloc[0] == 1.0

    anon = _video(tmp_path / "anon.mp4", 8, shift=4)
    found = lambda rgb: np.array([[24, 10, 64, 90, 0.9]], np.float32)  # noqa: E731 - stand-in detector
    m2, r2 = _crop(clip, scene, 2, "blur", anon, cfg, tmp_path / "out", detector=found)
    ind = m2[m2["mode"] == "independent"]
    assert len(ind) == 7 and (ind["x1"] == 24).all()  # its own re-detected box; frame 3 has no reference
    assert (m2[m2["mode"] == "aligned"]["x1"] == 20).all()  # the original's box
    # references: detected rows only (7 of track 1, 1 of track 2, which the stand-in misses)
    assert r2["n_original"].iloc[0] == 8 and r2["recall"].iloc[0] == pytest.approx(7 / 8)
    lost = lambda rgb: np.zeros((0, 5), np.float32)  # noqa: E731
    m3, r3 = _crop(clip, scene, 2, "blur", anon, cfg, tmp_path / "out", detector=lost)
    assert (m3["mode"] == "aligned").all() and r3["recall"].iloc[0] == 0.0


def test_frame_count_mismatch_and_missing_video(synthetic, tmp_path):
    clip, scene = synthetic
    short = _video(tmp_path / "short.mp4", 5)
    with pytest.raises(DataError, match="5 frames, but clip 'syn' has 8"):
        _crop(clip, scene, 0, "blur", short, CropsSection(), tmp_path / "out")
    with pytest.raises(DataError, match="run the anonymization stage"):
        _crop(clip, scene, 0, "blur", tmp_path / "none.mp4", CropsSection(), tmp_path / "out")


def test_unreadable_video(synthetic, tmp_path):
    clip, scene = synthetic
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(DataError, match="bad.mp4"):
        _crop(clip, scene, 0, "blur", bad, CropsSection(), tmp_path / "out")


def test_zero_size_box_is_skipped_with_a_warning(synthetic, tmp_path):
    clip, scene = synthetic
    scene.persons.loc[scene.persons["frame"] == 2, ["x1", "x2"]] = [200.0, 260.0]  # outside the frame
    with pytest.warns(UserWarning, match="no pixels inside"):
        m, _ = _crop(clip, scene, 0, "original", None, CropsSection(stride=2), tmp_path / "o")
    assert 2 not in set(m["frame"]) and len(m[m["mode"] == "aligned"]) == 3
    with pytest.raises(ValueError, match="no pixels"):
        crop_io.cut_crop(np.zeros((10, 10, 3), np.uint8), (5, 5, 5, 5), 0.0, (256, 128))


def test_no_person_gives_an_empty_valid_manifest(synthetic, tmp_path):
    clip, _ = synthetic
    empty = Scene("syn", 160, 100, 8, 10.0)
    m, r = _crop(clip, empty, 0, "original", None, CropsSection(), tmp_path / "o")
    assert m.empty and list(m.columns) == crop_io.MANIFEST_COLUMNS and np.isnan(r["recall"].iloc[0])


def test_run_stage_on_a_real_clip(tmp_path, data_dir, weights_dir):
    from vidanon.core.context import Context

    params = Params(name="t", clips=[ClipSpec(id="f", sample="female", max_frames=4)],
                    anonymize={"methods": [MethodSpec(name="blur", method="face-blur")]},
                    detect={"keypoints": False}, crops={"stride": 2})
    ctx = Context(params, tmp_path, "02_crop")
    clip = data.open_clip(params.clips[0])
    out = anonymized_path(ctx.work, "blur", clip.id)
    out.parent.mkdir(parents=True)
    with VideoWriter(out, clip.fps) as w:
        for _, rgb in clip.frames():
            w.write(cv2.GaussianBlur(rgb, (0, 0), 2))
    crops.run(ctx)
    m = crop_io.load_manifest(ctx.work)
    assert len(m) == 2 * 2 * 2 and set(m["pid"]) == {1} and set(m["method"]) == {"original", "blur"}
    assert all(__import__("os").path.isfile(p) for p in m["path"])
    rec = ctx.load_metrics("crops_detection_recall").set_index("method")
    assert rec.loc["original", "recall"] == 1.0 and rec.loc["blur", "recall"] == 1.0  # light blur
    assert ctx.load_metrics("crops_summary")["pids"].tolist() == ["1"]
    # a second run finds every clip x version in the crops cache and cuts nothing again
    part = tmp_path / "work" / "t" / "crops" / "parts" / "blur" / "f.parquet"
    before = part.stat().st_mtime_ns
    crops.run(ctx)
    assert part.stat().st_mtime_ns == before and crop_io.load_manifest(ctx.work).equals(m)


def test_contact_sheet_rows_per_identity(synthetic, tmp_path):
    clip, scene = synthetic
    cfg = CropsSection(stride=2)
    parts = [_crop(clip, scene, 0, "original", None, cfg, tmp_path, modes=("aligned",))[0]]
    anon = _video(tmp_path / "anon.mp4", 8)
    parts.append(_crop(clip, scene, 0, "blur", anon, cfg, tmp_path, modes=("aligned",))[0])
    m = pd.concat(parts)
    m["path"] = [str(tmp_path / p) for p in m["path"]]
    sheet, pids = crops.contact_sheet(m, ["original", "blur", "missing"], n=3, thumb=(32, 16))
    assert pids == [5] and sheet.shape == (32, 3 * 3 * 16, 3) and sheet.dtype == np.uint8
    assert (sheet[:, 6 * 16:] == 128).all()  # no crops of the 'missing' version: grey
    assert sheet[:, :16, 0].mean() > sheet[:, :16, 1].mean()  # the red rectangle of the clip


def test_recall_by_method_pools_clips():
    r = pd.DataFrame({"clip": ["a", "b", "a", "b"], "method": ["original", "original", "blur", "blur"],
                      "n_original": [2, 0, 2, 0], "n_detected": [2, 0, 1, 0], "n_matched": [2, 0, 1, 0],
                      "recall": [1, np.nan, 0.5, np.nan], "mean_iou": [1, np.nan, 0.8, np.nan]})
    out = crops.recall_by_method(r)
    assert out["method"].tolist() == ["original", "blur"] and out["recall"].tolist() == [1.0, 0.5]


def test_leak_views_hide_the_person_or_the_context():
    from vidanon.stages.crops import GREY, leak_view

    rgb = np.full((40, 30, 3), 200, np.uint8)
    mask = np.zeros((40, 30), bool)
    mask[10:30, 10:20] = True
    person = leak_view(rgb, mask, "person-only", box_height=20)
    assert (person[mask] == 200).all() and (person[~mask] == GREY).all()
    context = leak_view(rgb, mask, "context", box_height=100)  # grown by 3 px
    assert (context[mask] == GREY).all() and (context[8:32, 8:22] == GREY).all()
    assert (context[0] == 200).all() and (rgb == 200).all()  # the frame itself is untouched
    padded = np.zeros((40, 32, 3), np.uint8)  # an anonymized video padded to an even width
    assert leak_view(padded, mask[:, :29], "person-only", 20).shape == padded.shape
    with pytest.raises(ValueError, match="unknown leak mode"):
        leak_view(rgb, mask, "background", 20)


@pytest.mark.parametrize("mode", ["person-only", "context"])
def test_leak_crop_equals_the_view_of_the_whole_frame(mode):
    """leak_crop makes the view on the crop's window only: the same pixels as the whole frame's view
    cut afterwards, for boxes inside, across and beyond the frame's edges and a padded video frame."""
    from vidanon.io.crops import cut_crop
    from vidanon.stages.crops import leak_crop, leak_view

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 159), bool)  # one column short: the video was padded to an even width
    mask[20:110, 40:100] = rng.random((90, 60)) > 0.2
    for box in ([38.2, 18.7, 101.5, 111.0], [-10, -5, 50, 60], [120, 70, 175, 140], [0, 0, 160, 120]):
        box = np.array(box, float)
        want = cut_crop(leak_view(rgb, mask, mode, box[3] - box[1]), box, 0.05, (64, 32))
        np.testing.assert_array_equal(leak_crop(rgb, mask, mode, box, pad=0.05, size=(64, 32)), want)
    with pytest.raises(ValueError, match="no pixels"):
        leak_crop(rgb, mask, mode, np.array([200.0, 10, 240, 50]), pad=0.05, size=(64, 32))
