"""Warping error and tLP: zero for an unmodified video, a known value for a synthetic flicker."""

import numpy as np
import pytest

from vidanon.metrics import temporal as tm


def _moving(h=40, w=60, dx=3):
    rng = np.random.default_rng(1)
    base = rng.random((h, w + 10, 3))
    f0 = base[:, 5:5 + w]
    f1 = base[:, 5 - dx:5 - dx + w]  # content moves right by dx pixels
    fw = np.zeros((h, w, 2))
    fw[..., 0] = dx
    bw = -fw
    return f0, f1, fw, bw


def test_warp_recovers_translation():
    f0, f1, fw, bw = _moving()
    valid = tm.non_occluded(fw, bw)
    assert not valid[:, -3:].any() and valid[:, :-3].all()  # pixels leaving the frame are excluded
    assert tm.warping_error(f0, f1, fw, valid) == pytest.approx(0.0, abs=1e-20)


def test_unmodified_video_has_zero_error_and_flicker_a_known_one():
    f0, f1, fw, bw = _moving()
    valid = tm.non_occluded(fw, bw)
    c = 0.05
    a0, a1 = np.clip(f0 + c, 0, 1), np.clip(f1 - c, 0, 1)
    # brightness flicker of +-c: squared difference (2c)^2 where no clipping happened
    keep = valid & (f0 + c <= 1).all(2) & (f1 - c >= 0).all(2)
    keep &= tm.warp(((f1 - c) >= 0).all(2).astype(float), fw) == 1
    assert tm.warping_error(a0, a1, fw, keep) == pytest.approx((2 * c) ** 2, rel=1e-9)


def test_occlusion_detected_for_inconsistent_flows():
    fw = np.zeros((10, 10, 2))
    bw = np.zeros((10, 10, 2))
    bw[2:5, 2:5, 0] = 4.0  # backward flow disagrees there
    valid = tm.non_occluded(fw, bw)
    assert not valid[2:5, 2:5].any() and valid.sum() == 100 - 9


def test_region_restriction_and_empty():
    f0, f1, fw, bw = _moving()
    valid = tm.non_occluded(fw, bw)
    region = np.zeros(valid.shape, bool)
    assert np.isnan(tm.warping_error(f0, f1, fw, valid, region=region))


def test_tlp():
    d_orig = np.array([0.1, 0.2, 0.3])
    assert np.allclose(tm.tlp(d_orig, d_orig), 0)
    assert np.allclose(tm.tlp(d_orig, d_orig + 0.05), 0.05)
    with pytest.raises(ValueError):
        tm.tlp(d_orig, d_orig[:2])
