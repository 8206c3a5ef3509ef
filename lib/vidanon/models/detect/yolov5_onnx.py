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
    """Callable ``rgb (H, W, 3) uint8 -> (N, 5) float32 [x1, y1, x2, y2, score]`` in frame pixels."""

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
        img, r, (left, top) = letterbox(rgb, self.input_size)
        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=self.dtype) / self.dtype(255)
        pred = self.session.run(None, {self.input_name: x})[0][0].astype(np.float32)  # (25200, 85)
        return decode(pred, r, (left, top), rgb.shape, threshold=self.threshold, nms_iou=self.nms_iou)


def decode(pred: np.ndarray, r: float, pad: tuple[float, float], shape, *, threshold: float,
           nms_iou: float) -> np.ndarray:
    """YOLOv5 raw output (K, 5 + classes) -> person boxes in original pixels (YOLOv5's NMS rules)."""
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
