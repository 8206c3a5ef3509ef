"""The 04_drift and 05_quality stages end to end on 6 frames of one sample clip (real models:
YOLOv5n, CenterFace, MediaPipe, OSNet, dlib), plus the trajectory command on the same videos."""


import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, data_dir, weights_dir):
    from vidanon.core import params
    from vidanon.core.context import Context
    from vidanon.stages import anonymize, crops

    root = tmp_path_factory.mktemp("stages")
    p = root / "p.yaml"
    p.write_text(yaml.safe_dump({
        "name": "t", "clips": [{"id": "female", "sample": "female", "max_frames": 6}],
        "anonymize": {"methods": [{"name": "face-blur", "method": "face-blur"}]},
        "quality": {"perceptual": "mobilenet-feature"},
        "crops": {"mode": "aligned", "stride": 1}}))
    c = Context(params.load(p), root, "04_drift")
    anonymize.run(c)
    crops.run(c)
    return c


@pytest.fixture(scope="module")
def drift_out(ctx):
    from vidanon.stages import drift

    return drift.run(ctx)


def test_drift_tables(drift_out):
    f = drift_out["drift_frames"]
    assert set(f["method"]) == {"original", "face-blur"}
    assert {"osnet_x0_25_msmt17", "dlib_face_resnet"} <= set(f["model"])
    # the unmodified video: zero distance to the original, zero tLP, zero warping-error excess
    o = f[f["method"] == "original"]
    assert np.allclose(o["to_original"], 0, atol=1e-6)
    s = drift_out["drift_summary"].set_index(["model", "method"])
    assert s.loc[("osnet_x0_25_msmt17", "face-blur"), "to_original_mean"] > 0.01
    t = drift_out["temporal_summary"].set_index("method")
    assert t.loc["original", "tlp_x100"] == pytest.approx(0, abs=1e-9)
    assert t.loc["original", "warp_error_excess_x1000"] == pytest.approx(0, abs=1e-12)
    assert t.loc["face-blur", "warp_error_region_x1000"] > 0
    assert t.loc["face-blur", "perceptual_metric"].startswith("MobileNetV2")
    w = drift_out["warping"]
    assert len(w) == 2 * 5 and (w["valid_fraction"] > 0.5).all()


def test_trajectory_and_explorer_from_the_stage(ctx, drift_out):
    from vidanon.figures import explorer
    from vidanon.figures.drift import trajectory_figure
    from vidanon.stages import drift

    traj = drift.load_trajectories(ctx)
    assert "osnet_x0_25_msmt17" in traj
    assert (ctx.figures / "tables" / "trajectory_points_osnet_x0_25_msmt17.csv").is_file()
    points, info = traj["osnet_x0_25_msmt17"]
    assert len(trajectory_figure(points, info).data) == 2  # one track, two versions
    ex = explorer.from_context(ctx)
    frames = list(ex.slider.options)
    ex.slider.value = frames[-1]
    assert ex.marker_frame == frames[-1] and len(ex.anonymized.value) > 100


def test_quality_stage(ctx):
    from vidanon.stages import quality

    out = quality.run(ctx)
    q = out["quality_summary"].set_index("method")
    assert q.loc["face-blur", "ssim_out"] > q.loc["face-blur", "ssim_in"]
    assert q.loc["face-blur", "psnr_out"] > 35
    f = out["face_detection_summary"].set_index("method")
    assert f.loc["original", "rate"] == f.loc["original", "rate_original"] > 0.5
    assert f.loc["face-blur", "rate"] <= f.loc["original", "rate"]
    assert (ctx.figures / "tables" / "quality_summary.csv").is_file()


def test_trajectory_command(ctx, tmp_path):
    from vidanon.cli import main
    from vidanon.core.versions import anonymized_path

    out = tmp_path / "t.html"
    args = ["trajectory", "--original", str(anonymized_path(ctx.work, "original", "female")),
            "--anonymized", str(anonymized_path(ctx.work, "face-blur", "female")), "-o", str(out)]
    assert main(args) == 0
    assert out.is_file() and out.with_suffix(".png").is_file() and out.with_suffix(".csv").is_file()
    assert main(args) == 2  # refuses to overwrite


def test_crop_temporal_in_batches_equals_one_batch(tmp_path, monkeypatch):
    """Crop pairs are read and scored a batch at a time (memory flat in track length): the rows are
    those of one batch over the whole track, sizes resized to the track's first crop as before."""
    import numpy as np
    import pandas as pd

    from vidanon.io.crops import write_crop
    from vidanon.stages import drift

    class Perceptual:  # a stand-in for the perceptual model (this test is about batching, not the metric)
        def distances(self, images, pairs):
            pairs = np.asarray(pairs)
            a, b = images[pairs[:, 0]], images[pairs[:, 1]]
            return np.abs(a.astype(float) - b.astype(float)).mean(axis=(1, 2, 3))

    rng = np.random.default_rng(0)
    rows = []
    for method in ("original", "face-blur"):
        for t in range(11):
            p = tmp_path / method / f"{t}.jpg"
            write_crop(p, rng.integers(0, 255, (40 + (t == 3), 20, 3), dtype=np.uint8))
            rows.append({"clip": "c", "method": method, "track_id": 1, "frame": 2 * t, "path": str(p)})
    crops = pd.DataFrame(rows)
    whole = drift.crop_temporal(crops, Perceptual())
    monkeypatch.setattr(drift, "PAIRS_PER_BATCH", 3)
    batched = drift.crop_temporal(crops, Perceptual())
    assert len(whole) == 20
    pd.testing.assert_frame_equal(whole, batched)
