"""vidanon.metrics.pose on known inputs, and OKS against pycocotools' COCOeval.computeOks."""

import numpy as np
import pytest

from vidanon.metrics import pose as P


def _person(seed=0, n=1, vis=1.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(100, 300, size=(n, 33, 2))
    v = np.full((n, 33, 1), vis)
    return np.concatenate([xy, v], axis=-1)


def test_mapping_names_agree():
    assert len(P.MEDIAPIPE_TO_COCO) == len(P.COCO_JOINTS) == len(P.COCO_SIGMAS) == 17
    for mp_idx, coco_name in zip(P.MEDIAPIPE_TO_COCO, P.COCO_JOINTS):
        assert P.MEDIAPIPE_JOINTS[mp_idx] == coco_name


def test_identity_scores_one():
    k = _person(n=4)
    area = np.full(4, 200.0 * 200.0)
    np.testing.assert_allclose(P.oks(k, k, area), 1.0)
    np.testing.assert_allclose(P.pck(k, k, 200.0, 0.05), 1.0)
    np.testing.assert_allclose(P.visibility_agreement(k, k), 1.0)


def test_known_shift_gives_known_oks_and_pck():
    k = _person()
    shifted = k.copy()
    shifted[..., 0] += 3.0  # every joint 3 px to the right
    area = 100.0 * 100.0
    expected = np.mean(np.exp(-9.0 / (2 * area * P.COCO_SIGMAS ** 2 * 4)))
    np.testing.assert_allclose(P.oks(k, shifted, area), expected, rtol=1e-9)
    # 3 px against thresholds of 0.05 * 50 = 2.5 px (all wrong) and 0.1 * 50 = 5 px (all right)
    assert P.pck(k, shifted, 50.0, 0.05)[0] == 0.0
    assert P.pck(k, shifted, 50.0, 0.1)[0] == 1.0


def test_missing_prediction_scores_zero_and_invisible_reference_is_ignored():
    k = _person()
    missing = np.full_like(k, np.nan)
    assert P.oks(k, missing, 1e4)[0] == 0.0
    assert P.pck(k, missing, 100.0, 0.1)[0] == 0.0
    assert P.visibility_agreement(k, missing)[0] == 0.0
    hidden = k.copy()
    hidden[..., 2] = 0.0
    assert np.isnan(P.oks(hidden, k, 1e4)[0]) and np.isnan(P.pck(hidden, k, 100.0, 0.1)[0])
    # half the reference joints hidden: only the visible ones count
    half = k.copy()
    half[0, 16:, 2] = 0.1
    wrong = k.copy()
    wrong[0, 16:, :2] += 500
    assert P.pck(half, wrong, 100.0, 0.1)[0] == 1.0


def test_oks_matches_pycocotools():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(3)
    ref = _person(seed=1)[0]
    ref[rng.random(33) < 0.3, 2] = 0.0  # some joints not visible
    pred = ref.copy()
    pred[:, :2] += rng.normal(0, 6, size=(33, 2))
    box = [80.0, 90.0, 240.0, 230.0]  # x, y, w, h
    area = box[2] * box[3]

    def coco_kps(k, v):
        c = k[P.MEDIAPIPE_TO_COCO]
        return np.stack([c[:, 0], c[:, 1], v], axis=1).ravel().tolist()

    vis = (ref[P.MEDIAPIPE_TO_COCO, 2] >= 0.5) * 2
    gt = COCO()
    gt.dataset = {"images": [{"id": 1, "width": 640, "height": 480}],
                  "categories": [{"id": 1, "name": "person"}],
                  "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": box,
                                   "area": area, "num_keypoints": int((vis > 0).sum()),
                                   "keypoints": coco_kps(ref, vis)}]}
    gt.createIndex()
    dt = gt.loadRes([{"image_id": 1, "category_id": 1, "score": 1.0,
                      "keypoints": coco_kps(pred, np.ones(17))}])
    ev = COCOeval(gt, dt, "keypoints")
    ev._prepare()
    expected = ev.computeOks(1, 1)[0, 0]
    np.testing.assert_allclose(P.oks(ref, pred, area), expected, rtol=1e-9)


def test_velocity_error():
    traj = _person(n=6)  # (T=6, 33, 3)
    assert np.nanmax(P.velocity_error(traj, traj)) == 0.0
    moved = traj.copy()
    moved[..., 0] += 10.0  # constant offset: same motion
    np.testing.assert_allclose(P.velocity_error(traj, moved), 0.0, atol=1e-9)
    scrambled = traj[[0, 2, 1, 3, 5, 4]]  # the same poses in another order
    assert np.nanmean(P.velocity_error(traj, scrambled)) > 0
    # known: prediction moves 4 px per frame more in y, scale 2 -> error 2
    drift = traj.copy()
    drift[..., 1] += 4.0 * np.arange(6)[:, None]
    np.testing.assert_allclose(P.velocity_error(traj, drift, scale=2.0), 2.0)
    gone = traj.copy()
    gone[3] = np.nan
    err = P.velocity_error(traj, gone)
    assert np.isnan(err[2]).all() and np.isnan(err[3]).all() and (err[0] == 0).all()


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="33"):
        P.oks(np.zeros((17, 3)), np.zeros((17, 3)), 1.0)
    with pytest.raises(ValueError, match="x, y, visibility"):
        P.pck(np.zeros((33, 2)), np.zeros((33, 2)), 1.0, 0.1)
