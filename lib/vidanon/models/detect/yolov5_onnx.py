"""YOLOv5 person detector run with ONNX Runtime: the official ONNX export (v7.0 release, a static
640x640 float16 model), or the official PyTorch checkpoint exported to ONNX here, once per input shape
and cached beside the weights, so that detection runs at a working size sized to the footage
(:func:`vidanon.models.detect._boxes.working_shape`).

Pre- and post-processing follow YOLOv5's ``detect.py``: letterbox to the input shape (grey 114 pad),
RGB in [0, 1], then ``non_max_suppression``: score = objectness x class score, best class per box,
class ``person`` (COCO 0) only, greedy NMS at ``nms_iou``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from vidanon.core.errors import WeightsError
from vidanon.models.detect._boxes import EMPTY, clip_boxes, letterbox, nms, working_shape
from vidanon.models.detect._onnx import export, session_options

log = logging.getLogger(__name__)

PERSON = 0  # COCO class index


class YoloV5Onnx:
    """Callable ``rgb (H, W, 3) uint8 -> (N, 5) float32 [x1, y1, x2, y2, score]`` in frame pixels.

    Parameters
    ----------
    weights : str, optional
        Registry name or path of a YOLOv5 ONNX export (its own input size is used), or of a YOLOv5
        ``.pt`` checkpoint with a pinned SHA-256, which is exported to ONNX once per input shape
        (:func:`export_onnx`). Default ``'yolov5n.pt'``.
    threshold : float, optional
        Score threshold in [0, 1], on the objectness and on objectness x class score. Default 0.35.
    nms_iou : float, optional
        IoU threshold of the non-maximum suppression, in [0, 1]. Default 0.45.
    input_size : int or 'auto', optional
        ``'auto'`` (default): the frame's aspect ratio at a working size sized to the footage
        (:func:`~vidanon.models.detect._boxes.working_shape`); an int: a square input of that side,
        as YOLOv5's own ``detect.py``. A static ``.onnx`` export only takes its own size.
    sha256 : str, optional
        Pin of a ``.pt`` checkpoint the registry does not know.
    providers : list of str, optional
        ONNX Runtime execution providers. None (default): ``["CPUExecutionProvider"]``.

    Raises
    ------
    WeightsError
        If the weights are missing, or onnxruntime cannot load them.
    """

    def __init__(self, weights: str = "yolov5n.pt", *, threshold: float = 0.35, nms_iou: float = 0.45,
                 input_size: int | str = "auto", sha256: str | None = None, providers: list[str] | None = None):
        from vidanon.io.weights import resolve

        self.providers = providers or ["CPUExecutionProvider"]
        self.threshold, self.nms_iou, self.input_size = threshold, nms_iou, input_size
        self._sessions: dict[tuple[int, int], object] = {}
        if str(weights).endswith(".pt"):
            from vidanon.models.detect.yolov5_pt import checked_checkpoint

            self._pt = checked_checkpoint(weights, sha256)
            self.name = f"yolov5-onnx:{self._pt.name} (input {input_size})"
        else:
            self._pt = None
            path = resolve(weights, sha256=sha256)
            session = self._session(path)
            inp = session.get_inputs()[0]
            fixed = inp.shape[-2:] if all(isinstance(d, int) for d in inp.shape[-2:]) else None
            self._static = (session, tuple(fixed) if fixed else None)
            self.name = f"yolov5-onnx:{path.name}"

    def _session(self, path: Path):
        import onnxruntime as ort

        try:
            return ort.InferenceSession(str(path), session_options(), providers=self.providers)
        except Exception as e:
            raise WeightsError(f"{path}: onnxruntime cannot load it as a YOLOv5 model ({e})") from None

    def _for(self, shape) -> tuple[object, tuple[int, int]]:
        """The session and input (height, width) for frames of ``shape``."""
        if self._pt is None:
            session, fixed = self._static
            size = fixed or ((self.input_size,) * 2 if self.input_size != "auto" else (640, 640))
            return session, size
        size = ((int(self.input_size),) * 2 if self.input_size != "auto"
                else working_shape(shape[0], shape[1], "auto"))
        if size not in self._sessions:
            self._sessions[size] = self._session(export_onnx(self._pt, size))
        return self._sessions[size], size

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
        session, size = self._for(rgb.shape)
        inp = session.get_inputs()[0]
        dtype = np.float16 if "float16" in inp.type else np.float32
        img, r, (left, top) = letterbox(rgb, size)
        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=dtype) / dtype(255)
        pred = session.run(None, {inp.name: x})[0][0].astype(np.float32)  # (anchors, 85)
        return decode(pred, r, (left, top), rgb.shape, threshold=self.threshold, nms_iou=self.nms_iou)


def export_onnx(checkpoint: Path, size: tuple[int, int]) -> Path:
    """A static ONNX export (float32, input ``1 x 3 x size``) of a hash-checked YOLOv5 ``.pt``
    checkpoint, made once with YOLOv5's own model code and kept in vidanon's weights cache (named by
    the checkpoint's hash and the size); written atomically.

    Parameters
    ----------
    checkpoint : Path
        The checkpoint, already checked against its pinned SHA-256.
    size : tuple of int
        Input (height, width) in pixels, multiples of 32.

    Returns
    -------
    path : Path
        The ONNX file.
    """
    from vidanon.core.atomic import atomic_path
    from vidanon.io import cache, weights

    h, w = size
    out = weights.cache_dir() / f"{Path(checkpoint).stem}-{cache.file_hash(checkpoint)[:12]}-{h}x{w}.onnx"
    if out.is_file():
        return out
    import torch

    from vidanon.models.detect.yolov5_pt import load_model

    model = load_model(checkpoint)
    for m in model.modules():
        if type(m).__name__ == "Detect":  # YOLOv5's head (its package imports itself as `models`)
            m.inplace, m.export, m.dynamic = False, True, False
    log.info("exporting %s to ONNX at %dx%d (once; cached in %s)", Path(checkpoint).name, w, h, out.parent)
    with atomic_path(out) as tmp:
        export(model, torch.zeros(1, 3, h, w), tmp, opset_version=12, do_constant_folding=True,
               input_names=["images"], output_names=["output0"])
    return out


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
