"""Per-person masks (MediaPipe selfie segmentation) and body keypoints (MediaPipe Pose, 33 joints),
both run on each person's box crop so that every person gets their own mask and skeleton.

MediaPipe Pose with ``model_complexity=1`` is the only variant the 0.10.14 wheel ships (the lite and
heavy models would be downloaded at run time).
"""

from __future__ import annotations

import numpy as np

from vidanon.io.crops import crop_box
from vidanon.models.detect.mediapipe_face import Closing, solutions

N_JOINTS = 33


class Segmenter(Closing):
    """``seg(rgb, boxes) -> (N, H, W) bool``: the person pixels of each box (mask is zero outside it).

    Parameters
    ----------
    threshold : float, optional
        The segmentation probability above which a pixel is a person (0..1). Default 0.5.
    pad : float, optional
        Fraction of the box size added around it (on each side) before segmenting; context helps
        the model. Default 0.1.
    model_selection : int, optional
        MediaPipe SelfieSegmentation's ``model_selection``: 0 (default) general, 1 landscape.

    Raises
    ------
    BackendUnavailable
        If MediaPipe's solutions are unavailable.
    """

    def __init__(self, threshold: float = 0.5, pad: float = 0.1, model_selection: int = 0):
        self._model = solutions().selfie_segmentation.SelfieSegmentation(model_selection=model_selection)
        self.threshold, self.pad = threshold, pad

    def __call__(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Person mask of each box of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame.
        boxes : (N, 4) array_like of float
            Person boxes ``x1, y1, x2, y2`` in frame pixels (further columns, e.g. a score, are ignored).

        Returns
        -------
        masks : (N, H, W) ndarray of bool
            The person pixels of each box, False outside the box; all False where the padded crop is
            smaller than 2 pixels or MediaPipe returns no mask.
        """
        h, w = rgb.shape[:2]
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, np.shape(boxes)[-1] if len(boxes) else 4)
        out = np.zeros((len(boxes), h, w), dtype=bool)
        for i, b in enumerate(boxes):
            crop, x0, y0 = crop_box(rgb, b, self.pad)
            if crop.shape[0] < 2 or crop.shape[1] < 2:
                continue
            prob = self._process(crop).segmentation_mask
            if prob is None:
                continue
            m = np.zeros((h, w), dtype=bool)
            m[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = prob > self.threshold
            bx1, by1 = max(0, int(np.floor(b[0]))), max(0, int(np.floor(b[1])))
            bx2, by2 = min(w, int(np.ceil(b[2]))), min(h, int(np.ceil(b[3])))
            out[i, by1:by2, bx1:bx2] = m[by1:by2, bx1:bx2]
        return out


class Pose(Closing):
    """``pose(rgb, boxes) -> (N, 33, 3) float32``: x, y in frame pixels and visibility in [0, 1].

    One row per MediaPipe joint; a person where no pose is found gets NaN x, y and visibility 0.

    Parameters
    ----------
    min_confidence : float, optional
        MediaPipe's ``min_detection_confidence``, in [0, 1]. Default 0.5.
    pad : float, optional
        Fraction of the box size added around it (on each side) before the pose is run. Default
        0.15.

    Raises
    ------
    BackendUnavailable
        If MediaPipe's solutions are unavailable.
    """

    def __init__(self, min_confidence: float = 0.5, pad: float = 0.15):
        self._model = solutions().pose.Pose(static_image_mode=True, model_complexity=1,
                                            enable_segmentation=False,
                                            min_detection_confidence=min_confidence)
        self.pad = pad

    def __call__(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Body keypoints of each box of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame.
        boxes : (N, 4) array_like of float
            Person boxes ``x1, y1, x2, y2`` in frame pixels (further columns are ignored).

        Returns
        -------
        kps : (N, 33, 3) ndarray of float32
            x, y in frame pixels and visibility in [0, 1] per MediaPipe joint; NaN x, y and visibility
            0 for a person without a pose (or whose padded crop is smaller than 8 pixels).
        """
        boxes = np.asarray(boxes, dtype=np.float32)
        out = np.full((len(boxes), N_JOINTS, 3), np.nan, dtype=np.float32)
        out[:, :, 2] = 0.0
        for i, b in enumerate(boxes):
            crop, x0, y0 = crop_box(rgb, b, self.pad)
            if crop.shape[0] < 8 or crop.shape[1] < 8:
                continue
            res = self._process(crop)
            if res.pose_landmarks is None:
                continue
            ch, cw = crop.shape[:2]
            lm = res.pose_landmarks.landmark
            out[i, :, 0] = [p.x * cw + x0 for p in lm]
            out[i, :, 1] = [p.y * ch + y0 for p in lm]
            out[i, :, 2] = [p.visibility for p in lm]
        return out
