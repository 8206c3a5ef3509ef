"""YOLOv5 ``.pt`` checkpoints (yolov5s and larger, or a user's model) through the ``yolov5`` package.

A .pt checkpoint is a pickle that runs code when loaded: it is loaded only after its SHA-256 has
been checked by vidanon.io.weights.resolve (a registry name, or a path with ``sha256`` pinned).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidanon.models.detect._boxes import EMPTY, clip_boxes
from vidanon.core.errors import BackendUnavailable, WeightsError

INSTALL = ("pip install --no-deps yolov5==7.0.14 ultralytics==8.4.190 (plus setuptools<81, "
           "huggingface_hub<0.25, see requirements/)")


def checked_checkpoint(weights: str, sha256: str | None = None) -> Path:
    """The local path of a YOLOv5 ``.pt`` checkpoint whose SHA-256 matches its pin; nothing is unpickled.

    Parameters
    ----------
    weights : str
        Registry name or path of the checkpoint.
    sha256 : str, optional
        Its pin; None (default): the registry's hash for that file name.

    Returns
    -------
    path : Path
        The local, hash-checked file.

    Raises
    ------
    WeightsError
        If no pin is known, or the file is missing or differs.
    """
    from vidanon.io.weights import REGISTRY, resolve

    entry = REGISTRY.get(Path(weights).name)
    pin = sha256 or (entry.sha256 if entry else None)
    if pin is None:
        raise WeightsError(f"{weights}: a .pt checkpoint runs code when unpickled; give its SHA-256 in the "
                           "params (detect.person.sha256) so that it is checked first")
    return resolve(weights, sha256=pin)  # refuses a file whose hash differs


def _trusted(load):
    """Run ``load(yolov5)`` with torch's full unpickling: only ever on a checkpoint whose hash matched."""
    try:
        import torch
        import yolov5
    except ImportError as e:
        raise BackendUnavailable(f"YOLOv5 .pt checkpoints need the yolov5 package ({e}); {INSTALL}") from None
    _load = torch.load

    def _trusted_load(*a, **k):
        k["weights_only"] = False
        return _load(*a, **k)

    torch.load = _trusted_load
    try:
        return load(yolov5)
    finally:
        torch.load = _load


def load_model(checkpoint: Path):
    """YOLOv5's own ``DetectionModel`` of a checkpoint (what
    :func:`~vidanon.models.detect.yolov5_onnx.export_onnx` exports).

    Parameters
    ----------
    checkpoint : Path
        A checkpoint that :func:`checked_checkpoint` returned (unpickled only after that check).

    Returns
    -------
    model : torch.nn.Module
        The model, fused, in eval mode, float32, on the CPU.
    """
    def load(yolov5):
        from yolov5.models.experimental import attempt_load

        return attempt_load(str(Path(checkpoint).resolve()), device="cpu", fuse=True)

    return _trusted(load).float().eval()


class YoloV5Pt:
    """Callable ``rgb -> (N, 5) float32 [x1, y1, x2, y2, score]``, class person only.

    Parameters
    ----------
    weights : str, optional
        Registry name or path of a YOLOv5 ``.pt`` checkpoint. Default ``'yolov5n.pt'``.
    threshold : float, optional
        Score threshold, in [0, 1] (the model's ``conf``). Default 0.35.
    nms_iou : float, optional
        IoU threshold of the non-maximum suppression, in [0, 1]. Default 0.45.
    input_size : int, optional
        Inference size in pixels. Default 640.
    sha256 : str, optional
        SHA-256 the checkpoint must have, checked before it is unpickled. None (default): the
        registry's hash for that file name.
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.

    Raises
    ------
    WeightsError
        If no hash is known for the checkpoint, the file is missing or its hash differs.
    BackendUnavailable
        If torch or the yolov5 package is not installed.
    """

    def __init__(self, weights: str = "yolov5n.pt", *, threshold: float = 0.35, nms_iou: float = 0.45,
                 input_size: int = 640, sha256: str | None = None, device: str = "cpu"):
        path = checked_checkpoint(weights, sha256)
        self.model = _trusted(lambda yolov5: yolov5.load(str(path.resolve()), device=device))
        self.model.conf, self.model.iou, self.model.classes = threshold, nms_iou, [0]
        self.input_size = input_size
        self.name = f"yolov5-pt:{path.name}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Detect the persons of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame.

        Returns
        -------
        dets : (N, 5) ndarray of float32
            ``[x1, y1, x2, y2, score]`` per person, in frame pixels clipped to the frame.
        """
        res = self.model(rgb, size=self.input_size)
        det = res.xyxy[0].cpu().numpy()
        if not len(det):
            return EMPTY.copy()
        return clip_boxes(det[:, :5], rgb.shape)
