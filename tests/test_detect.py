"""Detector backends on real sample frames (known numbers of people and faces)."""

from __future__ import annotations

import numpy as np
import pytest

from vidanon.io import data
from vidanon.models import detect
from vidanon.io import video
from vidanon.models.detect._boxes import letterbox, nms
from vidanon.core.errors import BackendUnavailable, ParamsError, WeightsError
from vidanon.core.params import DetectorSpec, DetectSection


@pytest.fixture(scope="module")
def frames(data_dir):
    """Frames with a known content: two people side by side; one person from behind; four seated."""
    return {"female-and-male": video.read_frame(data.fetch("female-and-male"), 5),
            "one-by-one": video.read_frame(data.fetch("one-by-one"), 300),
            "classroom": video.read_frame(data.fetch("classroom"), 10)}


@pytest.fixture(scope="module")
def yolo(weights_dir):
    return detect.get_person_detector(DetectSection().person)


def _check(dets, shape):
    assert dets.dtype == np.float32 and dets.ndim == 2 and dets.shape[1] == 5
    h, w = shape[:2]
    assert (dets[:, 0] < dets[:, 2]).all() and (dets[:, 1] < dets[:, 3]).all()
    assert (dets[:, [0, 2]] <= w).all() and (dets[:, [1, 3]] <= h).all() and (dets[:, :4] >= 0).all()


@pytest.mark.parametrize("key, n", [("female-and-male", 2), ("one-by-one", 1), ("classroom", 4)])
def test_yolov5_onnx_counts_people(frames, yolo, key, n):
    dets = yolo(frames[key])
    _check(dets, frames[key].shape)
    assert (dets[:, 4] >= 0.5).sum() == n


def test_yolov5_onnx_boxes_are_where_the_people_are(frames, yolo):
    dets = yolo(frames["female-and-male"])
    cx = np.sort((dets[:, 0] + dets[:, 2]) / 2 / frames["female-and-male"].shape[1])
    assert cx[0] < 0.4 < 0.6 < cx[1]  # the woman on the left, the man on the right


@pytest.mark.parametrize("backend", ["centerface", "mediapipe-face"])
def test_face_detectors_find_two_faces(frames, backend):
    det = detect.get_face_detector(backend)
    try:
        faces = det(frames["female-and-male"])
        assert len(det(frames["one-by-one"])) == 0  # seen from behind: no face
    finally:
        detect.close(det)
    _check(faces, frames["female-and-male"].shape)
    assert len(faces) == 2
    assert ((faces[:, 3] - faces[:, 1]) < 120).all()  # faces, not bodies


def test_centerface_detects_large_frames_at_its_working_size(frames):
    """A 4K frame is detected at 1280 px on its long side (cost bounded), boxes in 4K pixels."""
    import cv2

    from vidanon.models.detect.centerface import CenterFace

    det = CenterFace()
    seen = []

    class Recorder:  # the ORT session, recording its input's shape
        def __init__(self, session):
            self.session = session

        def run(self, names, feeds):
            seen.append(feeds["input.1"].shape)
            return self.session.run(names, feeds)

    det.session = Recorder(det.session)
    small = frames["female-and-male"]
    h, w = small.shape[:2]
    big = cv2.resize(small, (3840, round(3840 * h / w)), interpolation=cv2.INTER_CUBIC)
    ref, faces = det(cv2.resize(big, (1280, round(1280 * h / w)), interpolation=cv2.INTER_AREA)), det(big)
    assert max(seen[-1][2:]) == 1280 and seen[-1] == seen[-2]
    _check(faces, big.shape)
    assert len(faces) == len(ref) == 2
    assert np.allclose(faces[:, :4] / 3, ref[:, :4], atol=2)


def test_face_detector_from_spec_uses_threshold(frames):
    det = detect.get_face_detector(DetectorSpec(backend="centerface", threshold=0.99))
    assert len(det(frames["female-and-male"])) == 0


def test_segmenter_and_pose_per_box(frames, yolo):
    rgb = frames["female-and-male"]
    boxes = yolo(rgb)
    with detect.get_segmenter() as seg:
        masks = seg(rgb, boxes)
    assert masks.shape == (len(boxes), *rgb.shape[:2]) and masks.dtype == bool
    for m, b in zip(masks, boxes):
        area = (b[2] - b[0]) * (b[3] - b[1])
        assert 0.2 * area < m.sum() <= area + 1
        ys, xs = np.nonzero(m)
        assert xs.min() >= int(b[0]) and xs.max() <= int(np.ceil(b[2]))
    with detect.get_pose() as pose:
        kp = pose(rgb, boxes)
    assert kp.shape == (len(boxes), 33, 3)
    assert (kp[:, :, 2] >= 0).all() and (kp[:, :, 2] <= 1).all()
    nose = kp[:, 0, :2]  # MediaPipe joint 0 = nose: inside its person box, in the upper half
    assert ((nose[:, 0] > boxes[:, 0]) & (nose[:, 0] < boxes[:, 2])).all()
    assert (nose[:, 1] < (boxes[:, 1] + boxes[:, 3]) / 2).all()


def test_empty_boxes_give_empty_outputs(frames):
    rgb = frames["classroom"]
    with detect.get_segmenter() as seg, detect.get_pose() as pose:
        assert seg(rgb, np.zeros((0, 5))).shape == (0, *rgb.shape[:2])
        assert pose(rgb, np.zeros((0, 5))).shape == (0, 33, 3)


def test_unknown_backends_are_params_errors():
    with pytest.raises(ParamsError, match="detect.person.backend"):
        detect.get_person_detector(DetectorSpec(backend="yolo-nope"))
    with pytest.raises(ParamsError, match="known: centerface"):
        detect.get_face_detector("dlib")


def test_detectron2_says_what_to_install():
    pytest.importorskip("torch")
    try:
        import detectron2  # noqa: F401
        pytest.skip("detectron2 is installed here")
    except ImportError:
        pass
    with pytest.raises(BackendUnavailable, match="pip install .*detectron2"):
        detect.get_person_detector(DetectorSpec(backend="detectron2"))


def test_yolov5_pt_refuses_unpinned_or_tampered_checkpoint(tmp_path, weights_dir):
    bogus = tmp_path / "mine.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="sha256"):
        detect.get_person_detector(DetectorSpec(backend="yolov5-pt", weights=str(bogus)))
    fake = tmp_path / "yolov5n.pt"  # a registry name, but not the official file
    fake.write_bytes(b"pickled code")
    with pytest.raises(WeightsError, match="differs from the pinned"):
        detect.get_person_detector(DetectorSpec(backend="yolov5-pt", weights=str(fake)))


@pytest.mark.slow
def test_onnx_export_of_the_checkpoint_equals_the_official_onnx(frames, weights_dir):
    """yolov5n.pt exported here (float32, 640x640) against Ultralytics' own yolov5n.onnx (float16)."""
    pytest.importorskip("yolov5")
    official = detect.get_person_detector(DetectorSpec(backend="yolov5-onnx", weights="yolov5n.onnx"))
    exported = detect.get_person_detector(DetectorSpec(backend="yolov5-onnx", weights="yolov5n.pt", input_size=640))
    from vidanon.metrics.detection import match_boxes

    for key, rgb in frames.items():
        a, b = official(rgb), exported(rgb)
        ri, di, iou = match_boxes(a[:, :4], b[:, :4], 0.5)
        assert len(ri) == len(a) == len(b), key
        assert iou.min() > 0.98 and np.abs(a[ri, 4] - b[di, 4]).max() < 0.01, key


def test_working_shape_is_sized_to_the_footage():
    from vidanon.models.detect._boxes import working_shape

    assert working_shape(270, 480) == (192, 320)
    assert working_shape(480, 640) == (256, 320)
    assert working_shape(720, 1280) == (384, 640)
    assert working_shape(2160, 3840) == (736, 1280)
    assert working_shape(270, 480, 640) == (384, 640)
    img, r, (left, top) = letterbox(np.zeros((270, 480, 3), np.uint8), (192, 320))
    assert img.shape == (192, 320, 3) and r == pytest.approx(320 / 480) and left == 0 and top == 6


@pytest.mark.slow
def test_yolov5_pt_matches_onnx(frames, yolo, weights_dir):
    pytest.importorskip("yolov5")
    pt = detect.get_person_detector(DetectorSpec(backend="yolov5-pt", weights="yolov5n.pt"))
    official = detect.get_person_detector(DetectorSpec(backend="yolov5-onnx", weights="yolov5n.onnx"))
    a, b = official(frames["female-and-male"]), pt(frames["female-and-male"])
    assert len(a) == len(b) == 2
    order = lambda d: d[np.argsort(d[:, 0])]  # noqa: E731
    assert np.abs(order(a)[:, :4] - order(b)[:, :4]).max() < 4.0


def test_letterbox_and_nms():
    img, r, (left, top) = letterbox(np.zeros((270, 480, 3), np.uint8), 640)
    assert img.shape == (640, 640, 3) and r == pytest.approx(640 / 480) and left == 0 and top == 140
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], float)
    assert list(nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5)) == [0, 2]
