"""The frames, crops and organize commands on small sample inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from vidanon.io import data
from vidanon.cli import main


@pytest.fixture(scope="module")
def gif(data_dir):
    return str(data.fetch("female-and-male"))


def test_frames_every_start_end_and_no_overwrite(gif, tmp_path, capsys):
    out = tmp_path / "frames"
    assert main(["frames", gif, "-o", str(out), "--every", "4", "--start", "2", "--end", "12"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["frame_000002.png", "frame_000006.png", "frame_000010.png"]
    assert main(["frames", gif, "-o", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["frames", gif, "-o", str(out), "--start", "999"]) == 2
    assert main(["frames", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "x")]) == 2


def test_crops_of_images_and_of_a_video_then_organize(gif, tmp_path, weights_dir):
    frames = tmp_path / "frames"
    assert main(["frames", gif, "-o", str(frames), "--every", "28", "--format", "jpg"]) == 0
    icrops = tmp_path / "icrops"
    assert main(["crops", "--input_dir", str(frames), "-o", str(icrops)]) == 0
    m = pd.read_csv(icrops / "manifest.csv")
    assert len(m) == 4 and (m["track_id"] == -1).all()  # 2 images x 2 people
    assert all((icrops / p).is_file() for p in m["path"])

    from vidanon.io.video import VideoWriter, read_frames

    short = tmp_path / "short.mp4"  # the first 12 frames, to keep the test short
    with VideoWriter(short, 12.5) as w:
        for _, rgb in read_frames(gif, 0, 12):
            w.write(rgb)
    vcrops = tmp_path / "vcrops"
    assert main(["crops", "--input_dir", str(short), "-o", str(vcrops), "--every", "4", "--size", "128", "64"]) == 0
    v = pd.read_csv(vcrops / "manifest.csv")
    assert v["track_id"].nunique() == 2 and len(v) == 6  # 3 sampled frames x 2 tracks
    assert v["path"].str.match(r"^[^/]+/000[12]_c1s\d_\d{6}_00\.jpg$").all()
    assert main(["crops", "--input_dir", gif, "-o", str(vcrops)]) == 2  # refuses to overwrite

    market = tmp_path / "market"
    assert main(["organize", "--input_dir", str(vcrops), "-o", str(market)]) == 0
    om = pd.read_csv(market / "manifest.csv")
    assert (om["split"] == "query").sum() == 2 and (om["split"] == "bounding_box_test").sum() == 4
    assert len(list((market / "query").iterdir())) == 2
    assert len(list((market / "bounding_box_test").iterdir())) == 4


def test_crops_and_organize_bad_inputs(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["crops", "--input_dir", str(empty), "-o", str(tmp_path / "o")]) == 2
    assert "no videos" in capsys.readouterr().err
    assert main(["organize", "--input_dir", str(empty), "-o", str(tmp_path / "o")]) == 2
    assert "no Market-1501-named crops" in capsys.readouterr().err
    (empty / "a").mkdir()
    (empty / "b").mkdir()
    (empty / "a" / "0001_c1s1_000000_00.jpg").write_bytes(b"x")
    (empty / "b" / "0001_c1s1_000000_00.jpg").write_bytes(b"x")
    assert main(["organize", "--input_dir", str(empty), "-o", str(tmp_path / "o")]) == 2
    assert "two crops are named" in capsys.readouterr().err


def test_help_explains_every_option(capsys):
    for cmd in ("frames", "crops", "organize"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        text = capsys.readouterr().out
        assert "--overwrite" in text and "-o" in text
