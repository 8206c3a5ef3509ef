"""detectron2 person detector (Mask R-CNN / Keypoint R-CNN, the seed's and DeepPrivacy2's family).

Optional: detectron2 is not on PyPI and not in the default environment. When it is installed,
``weights`` names a model-zoo config (e.g. ``COCO-Keypoints/keypoint_rcnn_R_50_FPN_3x.yaml``) whose
checkpoint detectron2 fetches, or a local ``.pkl``/``.pth`` path with ``config`` given in the params.
"""

from __future__ import annotations

import numpy as np

from vidanon.models.detect._boxes import EMPTY, clip_boxes
from vidanon.core.errors import BackendUnavailable

INSTALL = ("backend 'detectron2' needs detectron2, which is not on PyPI: install it from source with "
           "`pip install 'git+https://github.com/facebookresearch/detectron2.git'` (needs a C++ compiler "
           "and a matching torch), and its model-zoo weights (downloaded by detectron2 on first use, or "
           "given as a local path)")

DEFAULT_CONFIG = "COCO-Keypoints/keypoint_rcnn_R_50_FPN_3x.yaml"


class Detectron2Person:
    """Callable ``rgb -> (N, 5) float32 [x1, y1, x2, y2, score]`` (COCO class person).

    Parameters
    ----------
    weights : str, optional
        A model-zoo config ending in ``.yaml`` (its checkpoint fetched by detectron2), or a local
        ``.pkl`` / ``.pth`` checkpoint (used with ``DEFAULT_CONFIG``). None (default), or any other
        string: ``DEFAULT_CONFIG``, ``COCO-Keypoints/keypoint_rcnn_R_50_FPN_3x.yaml``, with its
        model-zoo checkpoint.
    threshold : float, optional
        Score threshold of the ROI heads, in [0, 1]. Default 0.5.
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.

    Raises
    ------
    BackendUnavailable
        If detectron2 is not installed.
    """

    def __init__(self, weights: str | None = None, threshold: float = 0.5, device: str = "cpu"):
        try:
            from detectron2 import model_zoo
            from detectron2.config import get_cfg
            from detectron2.engine import DefaultPredictor
        except ImportError:
            raise BackendUnavailable(INSTALL) from None
        config = weights if weights and weights.endswith(".yaml") else DEFAULT_CONFIG
        local = weights if weights and weights.endswith((".pkl", ".pth")) else None
        cfg = get_cfg()
        cfg.merge_from_file(model_zoo.get_config_file(config))
        cfg.MODEL.WEIGHTS = local or model_zoo.get_checkpoint_url(config)
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = threshold
        cfg.MODEL.DEVICE = device
        self.predictor = DefaultPredictor(cfg)
        self.name = f"detectron2:{config}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Detect the persons of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame (given to detectron2 as BGR).

        Returns
        -------
        dets : (N, 5) ndarray of float32
            ``[x1, y1, x2, y2, score]`` per person (COCO class 0), in frame pixels clipped to the frame.
        """
        inst = self.predictor(np.ascontiguousarray(rgb[:, :, ::-1]))["instances"].to("cpu")
        keep = inst.pred_classes.numpy() == 0
        if not keep.any():
            return EMPTY.copy()
        boxes = inst.pred_boxes.tensor.numpy()[keep]
        return clip_boxes(np.column_stack([boxes, inst.scores.numpy()[keep]]), rgb.shape)
