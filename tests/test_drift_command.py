"""`vidanon drift` on a folder of real person crops (OSNet x0.25 MSMT17 from the weights folder)."""

import numpy as np
import pandas as pd
import pytest

from vidanon.cli import main


@pytest.fixture(scope="module")
def crops_dirs(tmp_path_factory, data_dir, weights_dir):
    import cv2

    from vidanon.io.data import fetch
    from vidanon.io.video import read_frames

    d = tmp_path_factory.mktemp("drift")
    orig, anon = d / "orig", d / "anon"
    orig.mkdir(), anon.mkdir()
    for t, rgb in read_frames(fetch("female"), 0, 5):
        crop = rgb[20:260, 170:310]  # the woman, roughly
        blurred = cv2.GaussianBlur(crop, (31, 31), 0)
        cv2.imwrite(str(orig / f"{t:04d}.jpg"), crop[:, :, ::-1])
        cv2.imwrite(str(anon / f"{t:04d}.jpg"), blurred[:, :, ::-1])
    return orig, anon


@pytest.mark.slow  # loads a real model (> 10 s on 2 shared cores)
def test_drift_curve_and_summary(crops_dirs, tmp_path, capsys):
    orig, anon = crops_dirs
    plot = tmp_path / "drift.png"
    assert main(["drift", "--frames_dir", str(anon), "--original_dir", str(orig), "--plot_path", str(plot)]) == 0
    df = pd.read_csv(plot.with_suffix(".csv"))
    assert plot.stat().st_size > 1000 and len(df) == 5
    assert df["to_first"].iloc[0] == 0 and np.isnan(df["to_previous"].iloc[0])
    assert (df["to_original"] > 0.01).all()  # blurring moves the embedding away from the original
    out = capsys.readouterr().out
    assert "identity switches" in out and "osnet_x0_25_msmt17" in out


@pytest.mark.slow  # loads a real model (> 10 s on 2 shared cores)
def test_unmodified_crops_have_zero_distance_to_original(crops_dirs, tmp_path):
    orig, _ = crops_dirs
    plot = tmp_path / "d.png"
    assert main(["drift", "--frames_dir", str(orig), "--original_dir", str(orig), "--plot_path", str(plot)]) == 0
    assert np.allclose(pd.read_csv(plot.with_suffix(".csv"))["to_original"], 0, atol=1e-6)


def test_bad_inputs(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["drift", "--frames_dir", str(empty), "--plot_path", str(tmp_path / "p.png")]) == 2
    assert "holds no images" in capsys.readouterr().err
    assert main(["drift", "--frames_dir", str(empty), "--plot_path", str(tmp_path / "p.txt")]) == 2
    (tmp_path / "p.png").write_text("x")
    assert main(["drift", "--frames_dir", str(empty), "--plot_path", str(tmp_path / "p.png")]) == 2
    assert "--overwrite" in capsys.readouterr().err
