"""`vidanon quality` on small synthetic videos: an unmodified copy scores perfectly, a flickering
one shows a warping-error excess; bad inputs fail with a clear message."""

import json

import numpy as np
import pytest

from vidanon.cli import main
from vidanon.io.video import VideoWriter


def _write(path, frames, fps=10):
    with VideoWriter(path, fps=fps) as w:
        for f in frames:
            w.write(f)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("qvid")
    yy, xx = np.mgrid[0:48, 0:64]
    frames = []
    for t in range(6):  # a smooth pattern moving right by 2 px per frame
        base = 128 + 60 * np.sin((xx - 2 * t) / 5.0) * np.cos(yy / 7.0)
        frames.append(np.repeat(base[..., None], 3, 2).clip(0, 255).astype(np.uint8))
    flicker = [np.clip(f.astype(int) + (25 if t % 2 else -25), 0, 255).astype(np.uint8)
               for t, f in enumerate(frames)]
    return _write(d / "orig.mp4", frames), _write(d / "flicker.mp4", flicker), _write(d / "short.mp4", frames[:4])


@pytest.mark.slow  # loads a real model (> 10 s on 2 shared cores)
def test_unmodified_video_is_perfect(videos, tmp_path, capsys):
    orig, _, _ = videos
    out = tmp_path / "q.csv"
    assert main(["quality", "--original", str(orig), "--anonymized", str(orig), "-o", str(out),
                 "--perceptual", "mobilenet-feature"]) == 0
    s = json.loads(out.with_suffix(".json").read_text())
    assert s["frames"] == 6 and s["psnr"] is None  # all frames identical: PSNR inf everywhere
    assert s["identical_frames"] == 6
    assert s["ssim"] == pytest.approx(1.0)
    assert s["warp_error_excess"] == pytest.approx(0.0, abs=1e-12)
    assert s["tlp"] == pytest.approx(0.0, abs=1e-6) and s["perceptual"] == pytest.approx(0.0, abs=1e-6)
    assert "LPIPS" not in s["perceptual_metric"]
    assert "ssim" in capsys.readouterr().out


def test_flicker_raises_warping_error(videos, tmp_path):
    orig, flicker, _ = videos
    out = tmp_path / "q.csv"
    assert main(["quality", "--original", str(orig), "--anonymized", str(flicker), "-o", str(out),
                 "--perceptual", "none"]) == 0
    s = json.loads(out.with_suffix(".json").read_text())
    # +-25 grey levels alternate: about (50/255)^2 = 0.038 more squared error per pixel (codec aside)
    assert 0.02 < s["warp_error_excess"] < 0.05
    assert s["psnr"] < 25


def test_working_size_compares_scaled_copies(videos, tmp_path):
    """--max-side: a frame longer than the working size is compared on a copy scaled down to it (the same
    numbers as evaluating videos scaled beforehand), and the summary says at what size."""
    import pandas as pd

    from vidanon.commands.quality import evaluate
    from vidanon.io.video import read_frames
    from vidanon.io.video import downscale

    orig, flicker, _ = videos
    small = {k: _write(tmp_path / f"{k}.mp4", [downscale(f, 32) for _, f in read_frames(v)])
             for k, v in (("o", orig), ("f", flicker))}
    at32 = evaluate(orig, flicker, max_side=32)
    native = evaluate(orig, flicker)
    assert len(at32) == len(native) == 6 and not np.allclose(at32["ssim"], native["ssim"])
    # the scaled-beforehand videos went through the codec once more: close, not equal
    pre = evaluate(small["o"], small["f"])
    assert np.allclose(at32["warp_error"].dropna(), pre["warp_error"].dropna(), atol=5e-3)
    out = tmp_path / "q.csv"
    assert main(["quality", "--original", str(orig), "--anonymized", str(flicker), "-o", str(out),
                 "--perceptual", "none", "--max-side", "32"]) == 0
    s = json.loads(out.with_suffix(".json").read_text())
    assert s["compared_at"] == "long side <= 32 px"
    assert pd.read_csv(out)["ssim"].tolist() == pytest.approx(at32["ssim"].tolist())
    assert main(["quality", "--original", str(orig), "--anonymized", str(flicker), "-o", str(out),
                 "--perceptual", "none", "--overwrite"]) == 0  # 64 px wide: fits the default working size
    assert json.loads(out.with_suffix(".json").read_text())["compared_at"] == "native frame size"


def test_refuses_overwrite_and_mismatched_videos(videos, tmp_path, capsys):
    orig, _, short = videos
    out = tmp_path / "q.csv"
    out.write_text("x")
    assert main(["quality", "--original", str(orig), "--anonymized", str(orig), "-o", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["quality", "--original", str(orig), "--anonymized", str(short), "--perceptual", "none"]) == 2
    assert "same frames" in capsys.readouterr().err
    assert main(["quality", "--original", str(tmp_path / "nope.mp4"), "--anonymized", str(orig)]) == 2
