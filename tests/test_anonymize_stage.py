"""run_stage: every clip x (original + methods), cached by method options and scene; the previews."""

from __future__ import annotations

import pandas as pd
import pytest

from vidanon import anonymize, data, video
from vidanon.anonymize import preview
from vidanon.outputs import Context
from vidanon.params import AnonymizeSection, ClipSpec, MethodSpec, Params

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


def test_run_stage_writes_and_caches(ctx, scenes):
    runs = anonymize.run_stage(ctx, scenes=scenes)
    assert list(runs["method"]) == ["original", "solid", "mosaic"] and not runs["cached"].any()
    for p in runs["path"]:
        assert video.probe(p).n_frames == 4
    assert anonymize.output_path(ctx, "solid", "female").with_suffix(".json").is_file()
    again = anonymize.run_stage(ctx, scenes=scenes)
    assert again["cached"].all() and (again["frames"] == 4).all()
    ctx.params.anonymize.methods[0].options["shape"] = "box"  # changed options: that method reruns
    third = anonymize.run_stage(ctx, scenes=scenes)
    assert list(third["cached"]) == [True, False, True]


def test_run_stage_refuses_unknown_method_before_work(ctx, scenes):
    ctx.params.anonymize.methods.append(MethodSpec(name="x", method="face-smudge"))
    with pytest.raises(anonymize.UnknownMethodError, match="face-smudge"):
        anonymize.run_stage(ctx, scenes=scenes)
    assert not (ctx.work / "anonymized").exists()


def test_previews(ctx, scenes, tmp_path):
    runs = anonymize.run_stage(ctx, scenes=scenes)
    pairs = preview.method_pairs(runs, scenes, "solid")
    assert pairs[0][0] == "female" and 0 <= pairs[0][3] < 4
    fig = preview.frame_grid(pairs, "solid")
    assert len(fig.axes) == 2
    out = preview.side_by_side_video(preview.method_pairs(runs, scenes, "solid", for_video=True), "solid",
                                     tmp_path / "sbs.mp4", seconds=1.0, height=90)
    info = video.probe(out)
    assert info.height == 90 and info.n_frames >= 4
    speed = preview.speed_table(runs)
    assert set(speed.index) == {"original", "solid", "mosaic"} and "all" in speed.columns
    leaks = pd.DataFrame({"clip": ["female"] * 2, "method": ["original", "solid"], "leaked_frames": [4, 0],
                          "frames": [4, 4]})
    table = preview.leak_table(leaks)
    assert table.loc["solid", "total"] == 0 and table.loc["original", "rate"] == 1.0
