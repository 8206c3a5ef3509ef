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
        from vidanon.io.weights import REGISTRY, resolve

        entry = REGISTRY.get(Path(weights).name)
        pin = sha256 or (entry.sha256 if entry else None)
        if pin is None:
            raise WeightsError(f"{weights}: a .pt checkpoint runs code when unpickled; give its sha256 in the "
                               "params (detect.person.weights + a pinned hash) so it can be checked first")
        path = resolve(weights, sha256=pin)  # refuses a file whose hash differs
        try:
            import torch
            import yolov5
        except ImportError as e:
            raise BackendUnavailable(f"backend 'yolov5-pt' needs the yolov5 package ({e}); {INSTALL}") from None
        _load = torch.load

        def _trusted_load(*a, **k):  # the hash was checked above: full unpickling is allowed here
            k["weights_only"] = False
            return _load(*a, **k)

        torch.load = _trusted_load
        try:
            self.model = yolov5.load(str(path.resolve()), device=device)
        finally:
            torch.load = _load
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
