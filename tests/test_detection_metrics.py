"""vidanon.metrics.detection: IoU against torchvision, matching, recall/mean IoU on known boxes."""

import numpy as np
import pytest

from vidanon.metrics.detection import box_iou, detection_preservation, match_boxes


def test_box_iou_matches_torchvision():
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, size=(7, 2))
    a = np.concatenate([xy, xy + rng.uniform(1, 60, size=(7, 2))], axis=1)
    xy = rng.uniform(0, 100, size=(5, 2))
    b = np.concatenate([xy, xy + rng.uniform(1, 60, size=(5, 2))], axis=1)
    expected = ops.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(box_iou(a, b), expected, rtol=1e-9)


def test_known_iou_and_empty_inputs():
    assert box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(50 / 150)
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    p = detection_preservation(np.zeros((0, 4)), [[0, 0, 1, 1]])
    assert p.n_ref == 0 and np.isnan(p.recall) and p.n_extra == 1
    p = detection_preservation([[0, 0, 10, 10]], np.zeros((0, 5)))
    assert p.recall == 0.0 and np.isnan(p.mean_iou)


def test_hungarian_beats_greedy_on_a_conflict():
    # greedy takes the best pair (r0, p0) and leaves r1 unmatched; Hungarian matches both
    ref = [[0, 0, 10, 10], [6, 0, 16, 10]]
    pred = [[2, 0, 12, 10], [-4, 0, 6, 10]]
    r, p, _ = match_boxes(ref, pred, 0.3, "greedy")
    assert len(r) == 1
    r, p, iou = match_boxes(ref, pred, 0.3, "hungarian")
    assert sorted(zip(r.tolist(), p.tolist())) == [(0, 1), (1, 0)] and (iou >= 0.3).all()


def test_preservation_counts_and_sum():
    ref = [[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]]
    same = detection_preservation(ref, ref)
    assert same.recall == 1.0 and same.mean_iou == pytest.approx(1.0)
    one_shifted = [[0, 0, 10, 10], [25, 20, 35, 30], [100, 100, 110, 110], [0, 0, 1, 1]]
    p = detection_preservation(ref, one_shifted, iou_threshold=0.3)
    assert (p.n_matched, p.n_extra) == (2, 2)
    assert p.mean_iou == pytest.approx((1 + 50 / 150) / 2)
    total = same + p
    assert total.n_ref == 6 and total.recall == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="method"):
        match_boxes(ref, ref, method="best")
