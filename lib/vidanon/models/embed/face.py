"""dlib's ResNet face descriptor (face-recognition-models + dlib-bin): 128-d identity embeddings.

dlib_face_recognition_resnet_model_v1 (99.38% on LFW) after aligning the face with the 5-point
landmark model. Two faces whose descriptors lie closer than 0.6 (Euclidean, raw descriptors) are
the same person by dlib's convention. The model files are found inside the installed
face_recognition_models package by importlib (its own loader needs pkg_resources).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from vidanon.models.embed import check_crops, l2_normalize
from vidanon.core.errors import BackendUnavailable

#: dlib's verification threshold on the Euclidean distance of raw descriptors.
DLIB_THRESHOLD = 0.6

_HOW = "pip install dlib-bin==20.0.1.post1 face-recognition-models==0.3.0"


def model_file(name: str) -> Path:
    """Path of a .dat file shipped by face-recognition-models, without importing the package.

    Parameters
    ----------
    name : str
        File name in the package's ``models`` folder, e.g.
        ``'shape_predictor_5_face_landmarks.dat'``.

    Returns
    -------
    path : Path
        The installed file.

    Raises
    ------
    BackendUnavailable
        If face-recognition-models is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(f"dlib face embeddings need face-recognition-models ({_HOW})")
    path = Path(spec.submodule_search_locations[0]) / "models" / name
    if not path.is_file():
        raise BackendUnavailable(f"{path}: missing from the face-recognition-models install; reinstall it ({_HOW})")
    return path


def _dlib():
    try:
        import dlib
    except ImportError:
        raise BackendUnavailable(f"dlib face embeddings need dlib ({_HOW})") from None
    return dlib


class DlibFaceEmbedder:
    """dlib's ResNet face descriptor (128-d): raw descriptors, unit-norm embeddings and a HOG detector.

    Raw descriptors closer than ``DLIB_THRESHOLD`` (0.6, Euclidean) are the same person by dlib's
    convention; :meth:`embed` returns them L2-normalized (the embedder contract).

    Parameters
    ----------
    num_jitters : int, optional
        dlib's ``num_jitters``: how many randomly jittered copies of each face are averaged into
        its descriptor. Default 0: none, the face as it is.

    Raises
    ------
    BackendUnavailable
        If dlib or face-recognition-models is not installed.
    """
    name = "dlib_face_resnet"
    kind = "face"
    description = "dlib ResNet face descriptor (128-d, 99.38% LFW), 5-point alignment"

    def __init__(self, num_jitters: int = 0):
        dlib = _dlib()
        self._dlib = dlib
        self.shape = dlib.shape_predictor(str(model_file("shape_predictor_5_face_landmarks.dat")))
        self.net = dlib.face_recognition_model_v1(str(model_file("dlib_face_recognition_resnet_model_v1.dat")))
        self.num_jitters = num_jitters
        self._detector = None

    def descriptors(self, rgb: np.ndarray, boxes) -> np.ndarray:
        """Raw dlib descriptors of the faces in ``boxes`` of one image.

        Compare them with Euclidean distance and ``DLIB_THRESHOLD``.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB image.
        boxes : (N, 4) array_like of float
            Face boxes ``x1, y1, x2, y2`` in pixels (rounded to integers), aligned with dlib's 5-point
            landmark model before the descriptor is computed.

        Returns
        -------
        desc : (N, 128) ndarray of float32
            Raw (not normalized) descriptors.
        """
        img = np.ascontiguousarray(rgb)
        out = []
        for x1, y1, x2, y2 in np.asarray(boxes, dtype=float).reshape(-1, 4):
            rect = self._dlib.rectangle(int(round(x1)), int(round(y1)), int(round(x2)), int(round(y2)))
            shape = self.shape(img, rect)
            out.append(np.array(self.net.compute_face_descriptor(img, shape, self.num_jitters), np.float32))
        return np.stack(out) if out else np.zeros((0, 128), np.float32)

    def crop_descriptors(self, crops) -> np.ndarray:
        """Raw descriptors of face crops (each crop taken as the face box).

        Parameters
        ----------
        crops : iterable of array_like
            Face crops, each (H, W, 3) uint8 RGB.

        Returns
        -------
        desc : (N, 128) ndarray of float32
            Raw (not normalized) descriptors, one per crop.

        Raises
        ------
        ValueError
            If a crop is not an (H, W, 3) uint8 array.
        """
        crops = check_crops(crops)
        rows = [self.descriptors(c, [(0, 0, c.shape[1] - 1, c.shape[0] - 1)]) for c in crops]
        return np.concatenate(rows) if rows else np.zeros((0, 128), np.float32)

    def embed(self, crops) -> np.ndarray:
        """L2-normalized descriptors of face crops (the embedder contract).

        Parameters
        ----------
        crops : iterable of array_like
            Face crops, each (H, W, 3) uint8 RGB.

        Returns
        -------
        feats : (N, 128) ndarray of float32
            Descriptors scaled to unit L2 norm.

        Raises
        ------
        ValueError
            If a crop is not an (H, W, 3) uint8 array.
        """
        return l2_normalize(self.crop_descriptors(crops))

    def detect(self, rgb: np.ndarray, upsample: int = 1) -> np.ndarray:
        """Faces found by dlib's HOG detector (another family than the anonymizers' CenterFace).

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            RGB image.
        upsample : int, optional
            Times dlib upsamples the image before detecting (finds smaller faces, slower). Default 1.

        Returns
        -------
        boxes : (N, 4) ndarray of float
            Face boxes ``x1, y1, x2, y2`` in pixels (dlib's left, top, right, bottom).
        """
        if self._detector is None:
            self._detector = self._dlib.get_frontal_face_detector()
        rects = self._detector(np.ascontiguousarray(rgb), upsample)
        return np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], dtype=float).reshape(-1, 4)
