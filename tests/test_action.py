"""The MMAction2 plumbing: a real TSN recognizer built from a config inside the mmaction2 wheel,
WITHOUT pretrained weights (none is available offline), run on a real sample clip. Its scores are
MEANINGLESS (random weights): the test proves the adapter works end to end, nothing more."""

import numpy as np
import pytest

pytest.importorskip("mmaction")

from vidanon.models import mmaction as action  # noqa: E402
from vidanon.core.errors import ParamsError, WeightsError  # noqa: E402
from vidanon.core.params import ActionSection  # noqa: E402

TSN = "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py"


def test_wheel_configs_and_bad_names():
    assert action.config_file(TSN).is_file()
    with pytest.raises(ParamsError, match="neither a file nor a config"):
        action.config_file("recognition/tsn/nope.py")
    with pytest.raises(ParamsError, match="enabled is false"):
        action.from_params(ActionSection())
    with pytest.raises(ParamsError, match="'config' and 'checkpoint' are required"):
        action.from_params(ActionSection(enabled=True))


@pytest.mark.slow
def test_tsn_without_weights_runs_on_a_sample_clip(tmp_path, monkeypatch):
    import torch

    from vidanon.io import data
    from vidanon.core.params import ClipSpec

    try:
        clip = data.open_clip(ClipSpec(id="asl-help", sample="asl-help", max_frames=24))
    except Exception as e:  # the sample is not on this machine
        pytest.skip(f"sample not available: {e}")
    rec = action.Recognizer(TSN)  # random weights: scores mean nothing
    assert not rec.pretrained and rec.num_classes == 400
    scores = rec.predict(clip.frames(), clip.n_frames)
    assert scores.shape == (400,) and np.isfinite(scores).all()
    assert scores.sum() == pytest.approx(1.0, abs=1e-4)  # probabilities over the 400 classes
    assert len(rec.top_k(scores, 5)) == 5 and rec.top_k(scores, 1)[0].startswith("class_")
    with pytest.raises(ValueError, match="ended before"):
        rec.predict(clip.frames(), clip.n_frames + 100)

    # checkpoint plumbing with a file written here (again random weights): OpenMMLab's name carries
    # the first 8 hex digits of the SHA-256, which is checked before the file is unpickled
    monkeypatch.setenv("VIDANON_WEIGHTS_DIR", str(tmp_path))
    path = tmp_path / "tsn_test-00000000.pth"
    torch.save({"state_dict": rec.model.state_dict(), "meta": {"note": "random weights, test only"}}, path)
    with pytest.raises(WeightsError, match="does not start with"):
        action.Recognizer(TSN, path.name)
    from vidanon.io.cache import file_hash

    good = tmp_path / f"tsn_test-{file_hash(path)[:8]}.pth"
    path.rename(good)
    rec2 = action.Recognizer(TSN, good.name)
    assert rec2.pretrained
    np.testing.assert_allclose(rec2.predict(clip.frames(), clip.n_frames), scores, atol=1e-5)


@pytest.mark.slow
def test_action_table_end_to_end_with_a_random_checkpoint(tmp_path, monkeypatch):
    """vidanon.stages.action.action_table over an original and a copied 'anonymized' video, with a TSN
    checkpoint of RANDOM weights written here (meaningless scores; plumbing only)."""
    import torch

    from vidanon.stages import action as utility
    from vidanon.io import data
    from vidanon.core.params import Params
    from vidanon.io.video import VideoWriter
    from vidanon.io.cache import file_hash

    p = Params.model_validate(dict(name="t", clips=[dict(id="asl-help", sample="asl-help", max_frames=12)],
                                   anonymize=dict(methods=[dict(name="copy", method="face-blur")])))
    try:
        clip = data.open_clip(p.clips[0])
    except Exception as e:
        pytest.skip(f"sample not available: {e}")
    ctx = type("Ctx", (), {"params": p, "work": tmp_path / "work"})()
    for name in ("original", "copy"):
        with VideoWriter(ctx.work / "anonymized" / name / "asl-help.mp4", fps=clip.fps) as w:
            for _, rgb in clip.frames():
                w.write(rgb)
    weights = tmp_path / "weights"
    weights.mkdir()
    monkeypatch.setenv("VIDANON_WEIGHTS_DIR", str(weights))
    raw = weights / "raw.pth"
    torch.save({"state_dict": action.Recognizer(TSN).model.state_dict()}, raw)
    ckpt = weights / f"tsn_random-{file_hash(raw)[:8]}.pth"
    raw.rename(ckpt)
    (weights / "labels.txt").write_text("\n".join(["help"] + [f"other_{i}" for i in range(399)]))
    p.utility.action.enabled = True
    p.utility.action.config, p.utility.action.checkpoint, p.utility.action.labels = TSN, ckpt.name, "labels.txt"

    table = utility.action_table(ctx, [clip], ["original", "copy"])
    assert list(table["method"]) == ["original", "copy"] and (table["label"] == "help").all()
    assert table["top1_agreement"].tolist() == [1.0, 1.0]  # the same frames give the same top-1
    assert table["top1_correct"].isin([0.0, 1.0]).all() and len(table["topk"][0].split(" | ")) == 5


def test_action_command_help_and_errors(tmp_path, capsys):
    from vidanon import cli

    with pytest.raises(SystemExit):
        cli.main(["action", "--help"])
    assert "--checkpoint" in capsys.readouterr().out
    assert cli.main(["action", str(tmp_path / "none.mp4"), "--config", TSN, "--checkpoint", "x.pth"]) == 2
    assert "no such video file" in capsys.readouterr().err
