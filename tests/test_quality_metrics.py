"""PSNR/SSIM against scikit-image on known pairs; masked variants."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vidanon.metrics import quality as q


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    noise = rng.normal(0, 12, a.shape)
    b = np.clip(a + noise, 0, 255).astype(np.uint8)
    return a, b


def test_psnr_matches_skimage(pair):
    a, b = pair
    assert q.psnr(a, b, 255) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), rel=1e-12)


def test_psnr_known_value():
    a = np.zeros((8, 8), np.float64)
    b = np.full((8, 8), 0.1)
    assert q.psnr(a, b, 1.0) == pytest.approx(20.0)  # MSE 0.01 -> 20 dB
    assert q.psnr(a, a, 1.0) == np.inf


def test_ssim_matches_skimage_wang_settings(pair):
    a, b = pair
    ref = structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    # float32 on OpenCV's filter against scikit-image's float64: equal within 1e-5
    assert q.ssim(a, b, 255) == pytest.approx(ref, abs=1e-6)
    assert q.ssim(a, b, 255, mask=np.ones(a.shape[:2], bool)) == pytest.approx(ref, abs=1e-6)
    assert q.ssim(a, a, 255) == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(48, 64, 3), (40, 33), (11, 11)])
@pytest.mark.parametrize("data_range", [255.0, 1.0])
def test_ssim_map_matches_skimage_full(shape, data_range):
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, shape).astype(np.float64)
    b = np.clip(a + rng.normal(0, 40, shape), 0, 255)
    b[: shape[0] // 2] = 255 - a[: shape[0] // 2]  # structure reversed: SSIM near -1 there
    b[-3:] = a[-3:]  # identical rows: 1 there
    if data_range == 1.0:
        a, b = a / 255, b / 255
    _, ref = structural_similarity(a, b, data_range=data_range, channel_axis=2 if len(shape) == 3 else None,
                                   gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True)
    ref = ref.mean(axis=2) if ref.ndim == 3 else ref
    np.testing.assert_allclose(q.ssim_map(a, b, data_range), ref, atol=1e-5)
    flat = np.full(shape, 0.5 * data_range)  # no structure at all: the constants keep it defined
    np.testing.assert_allclose(q.ssim_map(flat, flat, data_range), 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="window"):
        q.ssim_map(a[:10], b[:10], data_range)


def test_region_quality_inside_outside(pair):
    a, _ = pair
    b = a.copy()
    region = np.zeros(a.shape[:2], bool)
    region[10:30, 20:40] = True
    b[region] = 0  # what an anonymizer changes
    r = q.region_quality(a, b, region, 255)
    assert r["psnr_out"] == np.inf
    assert r["psnr_in"] < 10
    assert r["ssim_in"] < 0.2
    assert r["ssim_out"] > r["ssim"] > r["ssim_in"]
    assert r["psnr"] == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255))


def test_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        q.psnr(np.zeros((4, 4)), np.zeros((4, 5)), 1.0)
    with pytest.raises(ValueError, match="mask"):
        q.ssim(np.zeros((20, 20)), np.zeros((20, 20)), 1.0, mask=np.ones((3, 3), bool))


def test_an_integer_mask_is_a_bool_mask():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    m = np.zeros((16, 16), bool)
    m[4:9, 2:12] = True
    assert q.mse(a, b, m.astype(int)) == q.mse(a, b, m)
    assert q.psnr(a, b, 255.0, m.astype(np.uint8)) == q.psnr(a, b, 255.0, m)


def test_working_size_helpers():
    from vidanon.io.video import downscale, downscale_mask
    from vidanon.metrics.quality import working_size_label

    frame = np.zeros((2160, 3840, 3), np.uint8)
    assert downscale(frame, 1280).shape == (720, 1280, 3) and downscale(frame, None) is frame
    small = np.zeros((360, 640, 3), np.uint8)
    assert downscale(small, 1280) is small  # footage that fits is compared as it is
    mask = np.zeros((2160, 3840), bool)
    mask[:1080, :1920] = True  # a quarter of the frame
    m = downscale_mask(mask, 1280)
    assert m.shape == (720, 1280) and m.dtype == bool and m.mean() == pytest.approx(0.25)
    assert downscale_mask(None, 1280) is None and downscale_mask(mask[:10, :10], 1280).shape == (10, 10)
    assert working_size_label(1280) == "long side <= 1280 px" and working_size_label(None) == "native frame size"
