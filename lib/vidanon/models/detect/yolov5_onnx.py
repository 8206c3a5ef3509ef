"""YOLOv5 person detector from the official ONNX export (v7.0 release), run with onnxruntime.

Pre- and post-processing follow YOLOv5's ``detect.py``: letterbox to ``input_size`` (grey 114 pad),
RGB in [0, 1], then ``non_max_suppression``: score = objectness x class score, best class per box,
class ``person`` (COCO 0) only, greedy NMS at ``nms_iou``.
"""

from __future__ import annotations

import numpy as np

from vidanon.models.detect._boxes import EMPTY, clip_boxes, letterbox, nms
from vidanon.core.errors import WeightsError

PERSON = 0  # COCO class index


class YoloV5Onnx:
    """Callable ``rgb (H, W, 3) uint8 -> (N, 5) float32 [x1, y1, x2, y2, score]`` in frame pixels.

    Parameters
    ----------
    weights : str, optional
        Registry name or path of a YOLOv5 ONNX export, resolved by
        :func:`vidanon.io.weights.resolve`. Default ``'yolov5n.onnx'``.
    threshold : float, optional
        Score threshold in [0, 1], on the objectness and on objectness x class score. Default 0.35.
    nms_iou : float, optional
        IoU threshold of the non-maximum suppression, in [0, 1]. Default 0.45.
    input_size : int, optional
        Side of the letterboxed square input, in pixels; a static export's own size replaces it.
        Default 640.
    providers : list of str, optional
        ONNX Runtime execution providers. None (default): ``["CPUExecutionProvider"]``.

    Raises
    ------
    WeightsError
        If the weights are missing, or onnxruntime cannot load them.
    """

    def __init__(self, weights: str = "yolov5n.onnx", *, threshold: float = 0.35, nms_iou: float = 0.45,
                 input_size: int = 640, providers: list[str] | None = None):
        import onnxruntime as ort

        from vidanon.io.weights import resolve

        path = resolve(weights)
        try:
            self.session = ort.InferenceSession(str(path), providers=providers or ["CPUExecutionProvider"])
        except Exception as e:
            raise WeightsError(f"{path}: onnxruntime cannot load it as a YOLOv5 model ({e})") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.dtype = np.float16 if "float16" in inp.type else np.float32
        fixed = inp.shape[-1] if isinstance(inp.shape[-1], int) else None
        if fixed is not None and fixed != input_size:
            input_size = fixed  # a static export only takes its own size
        self.input_size, self.threshold, self.nms_iou = input_size, threshold, nms_iou
        self.name = f"yolov5-onnx:{path.name}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Detect the persons of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame.

        Returns
        -------
        dets : (N, 5) ndarray of float32
            ``[x1, y1, x2, y2, score]`` per person, in frame pixels clipped to the frame; score =
            objectness x person score.
        """
        img, r, (left, top) = letterbox(rgb, self.input_size)
        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=self.dtype) / self.dtype(255)
        pred = self.session.run(None, {self.input_name: x})[0][0].astype(np.float32)  # (25200, 85)
        return decode(pred, r, (left, top), rgb.shape, threshold=self.threshold, nms_iou=self.nms_iou)


def decode(pred: np.ndarray, r: float, pad: tuple[float, float], shape, *, threshold: float,
           nms_iou: float) -> np.ndarray:
    """YOLOv5 raw output -> person boxes in original pixels (YOLOv5's NMS rules).

    Parameters
    ----------
    pred : (K, 5 + C) ndarray of float
        Raw predictions: ``cx, cy, w, h`` in letterboxed-input pixels, objectness and C class
        scores (C = 80 for COCO).
    r : float
        The letterbox scale, new / old.
    pad : tuple of float
        The letterbox (left, top) padding in pixels.
    shape : tuple of int
        Shape (H, W, ...) of the original frame, to clip to.
    threshold : float
        Score threshold in [0, 1], on the objectness and on objectness x class score.
    nms_iou : float
        IoU threshold of the non-maximum suppression.

    Returns
    -------
    dets : (N, 5) ndarray of float32
        ``[x1, y1, x2, y2, score]`` of the boxes whose best class is person (COCO 0), in original
        frame pixels; at most 300, best score first.
    """
    pred = pred[pred[:, 4] > threshold]
    if not len(pred):
        return EMPTY.copy()
    cls_scores = pred[:, 5:] * pred[:, 4:5]
    best = cls_scores.argmax(1)
    conf = cls_scores[np.arange(len(pred)), best]
    keep = (best == PERSON) & (conf > threshold)
    pred, conf = pred[keep], conf[keep]
    if not len(pred):
        return EMPTY.copy()
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    k = nms(boxes, conf, nms_iou)[:300]
    boxes, conf = boxes[k], conf[k]
    boxes[:, [0, 2]] = (boxes[:, [0, 2]] - pad[0]) / r
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - pad[1]) / r
    return clip_boxes(np.column_stack([boxes, conf]), shape)
