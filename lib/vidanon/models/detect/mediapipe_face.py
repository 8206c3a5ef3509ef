"""MediaPipe face detection (mediapipe 0.10.14 ``solutions.face_detection``, BlazeFace), a second,
independent face detector family (the evaluation uses it when the anonymizer used CenterFace).

``model_selection`` 0 = short range (faces within ~2 m), 1 = full range (up to ~5 m, the default here).
"""

from __future__ import annotations

import warnings

import numpy as np

from vidanon.models.detect._boxes import EMPTY, clip_boxes
from vidanon.core.errors import BackendUnavailable

INSTALL = ("pip install --no-deps mediapipe==0.10.14 (plus absl-py, attrs, flatbuffers, protobuf<5; "
           "see requirements/)")


def solutions():
    """MediaPipe's ``solutions`` module.

    Returns
    -------
    solutions : module
        ``mediapipe.solutions``.

    Raises
    ------
    BackendUnavailable
        If mediapipe, or its solutions, cannot be imported.
    """
    try:
        import mediapipe as mp
        return mp.solutions
    except (ImportError, AttributeError) as e:
        raise BackendUnavailable(f"MediaPipe solutions are unavailable ({e}); {INSTALL}") from None


class Closing:
    """Context manager / ``close()`` for wrappers of a MediaPipe solution held in ``self._model``.

    ``_process`` runs it without protobuf's deprecation warning (raised inside mediapipe).
    """

    def _process(self, rgb):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
            return self._model.process(np.ascontiguousarray(rgb))

    def close(self) -> None:
        """Release the MediaPipe solution's native resources."""
        self._model.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MediaPipeFace(Closing):
    """Callable ``rgb -> (N, 5) float32 [x1, y1, x2, y2, score]``; use as a context manager or close().

    Parameters
    ----------
    threshold : float, optional
        MediaPipe's ``min_detection_confidence``, in [0, 1]. Default 0.5.
    model_selection : int, optional
        0 = short range (faces within ~2 m), 1 = full range (up to ~5 m). Default 1.

    Raises
    ------
    BackendUnavailable
        If MediaPipe's solutions are unavailable.
    """

    def __init__(self, threshold: float = 0.5, model_selection: int = 1):
        self._model = solutions().face_detection.FaceDetection(model_selection=model_selection,
                                                             min_detection_confidence=threshold)
        self.name = f"mediapipe-face:{'full' if model_selection else 'short'}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Detect the faces of one frame.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB frame.

        Returns
        -------
        dets : (N, 5) ndarray of float32
            ``[x1, y1, x2, y2, score]`` per face, in frame pixels clipped to the frame; score is
            MediaPipe's detection score in [0, 1].
        """
        h, w = rgb.shape[:2]
        res = self._process(rgb)
        if not res.detections:
            return EMPTY.copy()
        out = []
        for d in res.detections:
            b = d.location_data.relative_bounding_box
            out.append([b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h, d.score[0]])
        return clip_boxes(np.asarray(out), rgb.shape)
