"""The anonymize stage: every clip x (original + methods), cached by method options and scene; the previews."""

from __future__ import annotations

import pandas as pd
import pytest

from vidanon import anonymize
from vidanon.core.context import Context
from vidanon.core.versions import anonymized_path
from vidanon.figures.anonymize import frame_grid
from vidanon.io import cache, data, video
from vidanon.stages import anonymize as stage
from vidanon.core.params import AnonymizeSection, ClipSpec, MethodSpec, Params

from test_anonymize import make_scene  # noqa: E402  (the hand-made scene of the method tests)


@pytest.fixture
def ctx(data_dir, tmp_path):
    params = Params(name="t", clips=[ClipSpec(id="female", sample="female", max_frames=4)],
                    anonymize=AnonymizeSection(methods=[MethodSpec(name="solid", method="face-solid"),
                                                        MethodSpec(name="mosaic", method="body-pixelate",
                                                                   options={"blocks": 4})]))
    return Context(params, tmp_path, "01_anonymize")


@pytest.fixture
def scenes(ctx):
    clip = data.open_clip(ctx.params.clips[0])
    return [(clip, make_scene((clip.height, clip.width), n_frames=clip.n_frames))]


def test_videos_are_written_and_cached(ctx, scenes):
    runs = stage.make_videos(ctx, scenes)
    assert list(runs["method"]) == ["original", "solid", "mosaic"] and not runs["cached"].any()
    for p in runs["path"]:
        assert not p.startswith("/") and video.probe(ctx.root / p).n_frames == 4  # relative to the root
    assert cache.side_car(anonymized_path(ctx.work, "solid", "female")).is_file()
    again = stage.make_videos(ctx, scenes)
    assert again["cached"].all() and (again["frames"] == 4).all()
    ctx.params.anonymize.methods[0].options["shape"] = "box"  # changed options: that method reruns
    third = stage.make_videos(ctx, scenes)
    assert list(third["cached"]) == [True, False, True]


def test_unknown_method_is_refused_before_work(ctx, scenes):
    ctx.params.anonymize.methods.append(MethodSpec(name="x", method="face-smudge"))
    with pytest.raises(anonymize.UnknownMethodError, match="face-smudge"):
        stage.make_videos(ctx, scenes)
    assert not (ctx.work / "anonymized").exists()


def test_previews(ctx, scenes, tmp_path):
    runs = stage.make_videos(ctx, scenes)
    rows = stage.grid_frames(ctx, "solid", scenes)
    assert rows[0][0] == "female" and 0 <= rows[0][1] < 4 and rows[0][2].shape == rows[0][3].shape
    fig = frame_grid(rows, "solid")
    assert len(fig.axes) == 2
    clip = scenes[0][0]
    pairs = [(clip.id, anonymized_path(ctx.work, "original", clip.id), anonymized_path(ctx.work, "solid", clip.id),
              clip.fps)]
    out = stage.side_by_side_video(pairs, "solid", tmp_path / "sbs.mp4", seconds=1.0, height=90)
    info = video.probe(out)
    assert info.height == 90 and info.n_frames >= 4
    speed = stage.speed_table(runs)
    assert set(speed.index) == {"original", "solid", "mosaic"} and "all" in speed.columns
    leaks = pd.DataFrame({"clip": ["female"] * 2, "method": ["original", "solid"], "leaked_frames": [4, 0],
                          "frames": [4, 4]})
    table = stage.leak_table(leaks)
    assert table.loc["solid", "total"] == 0 and table.loc["original", "rate"] == 1.0


def test_leak_check_of_every_version_is_kept_beside_its_video(ctx, scenes, monkeypatch):
    """The leak check reads all versions of a clip together and keeps each one's counts beside the video:
    a second check of unchanged videos runs no detector (a stand-in detector, labelled: the test is
    about the bookkeeping, not the faces)."""
    import numpy as np

    from vidanon.core import executor

    runs = stage.make_videos(ctx, scenes)
    clip, scene = scenes[0]
    videos = {r.method: ctx.root / r.path for r in runs.itertuples()}
    calls = []

    class StandIn:
        name = "stand-in"

        def __call__(self, rgb):
            calls.append(rgb.shape)
            return np.array([[2, 2, 30, 30, 0.9]], np.float32)  # one face at the same place on every frame

    monkeypatch.setattr(executor, "cached", lambda key, make: StandIn())
    first = stage.leak_check_videos(ctx, clip, scene, videos)
    assert len(calls) == 3 * clip.n_frames and all(s == (clip.height, clip.width, 3) for s in calls)
    assert [r["method"] for r in first] == ["original", "solid", "mosaic"]
    assert all(r["frames"] == clip.n_frames and r["face_frames"] == clip.n_frames for r in first)
    assert first[0]["detector"] == "stand-in"
    again = stage.leak_check_videos(ctx, clip, scene, videos)
    assert len(calls) == 3 * clip.n_frames and again == first  # read from the side-cars
