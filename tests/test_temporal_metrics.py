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
    assert tm.non_occluded(fw, bw).all()  # Lai et al. keep pixels that leave the frame
    valid = tm.non_occluded(fw, bw, out_of_frame=True)
    assert not valid[:, -3:].any() and valid[:, :-3].all()  # the option excludes them
    assert tm.warping_error(f0, f1, fw, valid) == pytest.approx(0.0, abs=1e-20)


def test_motion_boundaries_masked():
    fw = np.zeros((20, 20, 2))
    fw[:, 10:, 0] = 3.0  # the right half moves: a motion boundary between columns 9 and 10
    bw = -fw
    valid = tm.non_occluded(fw, bw)
    assert not valid[:, 9].any() and valid[:, :9].all()
    assert tm.non_occluded(fw, bw, motion_boundaries=False)[:, 9].all()


def test_no_pixel_left_falls_back_as_lai():
    f0, f1, fw, _ = _moving()
    none = np.zeros(f0.shape[:2], bool)
    assert tm.warping_error(f0, f1, fw, none) == 0.0  # their masked sum over all pixels


# --- reference: Lai et al. 2018, github.com/phoenix104104/fast_blind_video_consistency ---------------
# utils.compute_flow_magnitude / compute_flow_gradients / detect_occlusion and the loop of
# evaluate_WarpError.py, transcribed with their names; their Resample2d (bilinear, indices clamped
# to the frame) is scipy's map_coordinates(order=1, mode="nearest") here. compute_flow_occlusion.py calls
# detect_occlusion(bw_flow, fw_flow) to get the occlusion of frame t.

def _lai_magnitude(flow):
    return flow[:, :, 0] ** 2 + flow[:, :, 1] ** 2


def _lai_gradients(flow):
    H, W = flow.shape[:2]
    flow_x_du, flow_x_dv = np.zeros((H, W)), np.zeros((H, W))
    flow_y_du, flow_y_dv = np.zeros((H, W)), np.zeros((H, W))
    flow_x, flow_y = flow[:, :, 0], flow[:, :, 1]
    flow_x_du[:, :-1] = flow_x[:, :-1] - flow_x[:, 1:]
    flow_x_dv[:-1, :] = flow_x[:-1, :] - flow_x[1:, :]
    flow_y_du[:, :-1] = flow_y[:, :-1] - flow_y[:, 1:]
    flow_y_dv[:-1, :] = flow_y[:-1, :] - flow_y[1:, :]
    return flow_x_du, flow_x_dv, flow_y_du, flow_y_dv


def _lai_warp(img, flow):
    from scipy.ndimage import map_coordinates

    H, W = flow.shape[:2]
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    coords = [ys + flow[..., 1], xs + flow[..., 0]]
    if img.ndim == 2:
        return map_coordinates(img, coords, order=1, mode="nearest")
    return np.stack([map_coordinates(img[..., c], coords, order=1, mode="nearest") for c in range(img.shape[2])], -1)


def _lai_detect_occlusion(fw_flow, bw_flow):
    fw_flow_w = _lai_warp(fw_flow, bw_flow).astype(np.float64)
    fb_flow_sum = fw_flow_w + bw_flow
    fb_flow_mag = _lai_magnitude(fb_flow_sum)
    fw_flow_w_mag = _lai_magnitude(fw_flow_w)
    bw_flow_mag = _lai_magnitude(bw_flow)
    mask1 = fb_flow_mag > 0.01 * (fw_flow_w_mag + bw_flow_mag) + 0.5
    fx_du, fx_dv, fy_du, fy_dv = _lai_gradients(bw_flow)
    fx_mag = fx_du ** 2 + fx_dv ** 2
    fy_mag = fy_du ** 2 + fy_dv ** 2
    mask2 = (fx_mag + fy_mag) > 0.01 * bw_flow_mag + 0.002
    mask = np.logical_or(mask1, mask2)
    occlusion = np.zeros((fw_flow.shape[0], fw_flow.shape[1]))
    occlusion[mask == 1] = 1
    return occlusion


def _lai_warp_error(frames, fw_flows, bw_flows):
    err = 0
    for t in range(1, len(frames)):
        img1, img2 = frames[t - 1], frames[t]
        flow = fw_flows[t - 1]
        occ_mask = _lai_detect_occlusion(bw_flows[t - 1], flow)[..., None].repeat(3, axis=2)
        noc_mask = 1 - occ_mask
        warp_img2 = _lai_warp(img2, flow).astype(np.float64)
        diff = np.multiply(warp_img2 - img1, noc_mask)
        N = np.sum(noc_mask)
        if N == 0:
            N = diff.shape[0] * diff.shape[1] * diff.shape[2]
        err += np.sum(np.square(diff)) / N
    return err / (len(frames) - 1), noc_mask


def test_warping_error_matches_lai_et_al_on_real_frames(data_dir):
    """A walking person of a sample clip (real frames, Farneback flows as the stage computes
    them): vidanon's occlusion mask and warping error against the transcription above."""
    from vidanon.io import data
    from vidanon.io.video import read_frames
    from vidanon.models.flow import optical_flow

    frames = [rgb for _, rgb in read_frames(data.fetch("walking"), 10, 16)]
    small = frames  # 480x270: the sample as it is
    fws = [optical_flow(a, b) for a, b in zip(small, small[1:])]
    bws = [optical_flow(b, a) for a, b in zip(small, small[1:])]
    imgs = [f / 255.0 for f in small]
    ref, ref_noc = _lai_warp_error(imgs, fws, bws)
    ours = []
    for t in range(1, len(imgs)):
        valid = tm.non_occluded(fws[t - 1], bws[t - 1])
        ours.append(tm.warping_error(imgs[t - 1], imgs[t], fws[t - 1], valid))
    last = tm.non_occluded(fws[-1], bws[-1])
    assert (last == (ref_noc[..., 0] == 1)).all()
    assert 0.01 < 1 - last.mean() < 0.5  # the mask removes a real share of pixels on this footage
    assert np.mean(ours) == pytest.approx(ref, rel=1e-9)


def test_unmodified_video_has_zero_error_and_flicker_a_known_one():
    f0, f1, fw, bw = _moving()
    valid = tm.non_occluded(fw, bw, out_of_frame=True)  # the edge pixels would be compared to a smear
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
