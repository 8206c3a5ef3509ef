"""Inputs nobody here wrote: every one is refused with exit 2 and one message naming the input, or
handled (a one-frame clip, a clip without a person), and nothing is left behind: no output, no partial
file. The media are made on the fly (no file is committed)."""

from __future__ import annotations

import numpy as np
import pytest

from vidanon.cli import main
from vidanon.runner import project_root


def _video(path, frames: int, size=(96, 128), person: bool = False):
    from vidanon.io.video import VideoWriter

    h, w = size
    with VideoWriter(path, fps=10) as out:
        for t in range(frames):
            rgb = np.full((h, w, 3), 90 + 3 * t, np.uint8)  # a plain wall, changing a little
            out.write(rgb)
    return path


def _leftovers(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and ("partial" in p.name or p.name == "out.mp4"))


@pytest.fixture
def bad_videos(tmp_path):
    good = _video(tmp_path / "good.mp4", 12)
    zero = tmp_path / "zero.mp4"
    zero.write_bytes(b"")
    text = tmp_path / "text.mp4"
    text.write_text("this is not a video\n" * 50)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[:600])
    return {"zero": zero, "text": text, "truncated": truncated}


@pytest.mark.parametrize("kind", ["zero", "text", "truncated"])
def test_anonymize_refuses_unreadable_video(bad_videos, kind, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc = main(["anonymize", str(bad_videos[kind]), "-o", str(out_dir / "out.mp4"), "--method", "face-blur"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert bad_videos[kind].name in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert _leftovers(out_dir) == []


@pytest.mark.parametrize("kind", ["zero", "text"])
def test_quality_refuses_unreadable_video_before_loading_models(bad_videos, kind, tmp_path, capsys, monkeypatch):
    from vidanon.models.embed import perceptual

    def no_model(*a, **k):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(perceptual, "get", no_model)
    good = _video(tmp_path / "orig.mp4", 12)
    rc = main(["quality", "--original", str(good), "--anonymized", str(bad_videos[kind]), "-o", str(tmp_path / "q.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and bad_videos[kind].name in err and "Traceback" not in err
    assert not (tmp_path / "q.csv").exists() and not list(tmp_path.glob(".*partial*"))


def test_one_frame_clip(tmp_path, capsys):
    clip = _video(tmp_path / "one.mp4", 1)
    out = tmp_path / "out.mp4"
    assert main(["anonymize", str(clip), "-o", str(out), "--method", "body-solid"]) == 0
    from vidanon.io.video import probe

    assert probe(out).n_frames == 1


def test_clip_without_a_person_says_nothing_was_anonymized(tmp_path, capsys):
    clip = _video(tmp_path / "wall.mp4", 8)
    out = tmp_path / "out.mp4"
    with pytest.warns(UserWarning, match="found nothing to anonymize"):
        assert main(["anonymize", str(clip), "-o", str(out), "--method", "face-blur"]) == 0
    assert out.is_file()


BAD_PARAMS = {
    "unknown key": ("clips: [{id: a, sample: female}]\nbogus_key: 1\n", "bogus_key"),
    "python tag": ("clips: !!python/object/apply:os.system ['echo pwned']\n", "python/object"),
    "wrong type": ("clips: [{id: a, sample: female}]\nseed: not-a-number\n", "seed"),
    "missing clip": ("clips: [{id: a, path: no/such/clip.mp4}]\n", "no/such/clip.mp4"),
    "not a mapping": ("- just\n- a list\n", "mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMS))
def test_run_refuses_bad_params_and_writes_nothing(case, tmp_path, capsys, data_dir):
    body, named = BAD_PARAMS[case]
    name = f"bad-input-{case.replace(' ', '-')}"
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\n{body}" if not body.startswith("-") else body)
    rc = main(["run", str(path)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert named in err and path.name in err and "Traceback" not in err
    root = project_root()
    assert not (root / "figures" / name).exists() and not (root / "work" / name).exists()
