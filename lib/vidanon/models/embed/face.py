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


def store_path(work, clip_id: str) -> Path:
    """Where a run keeps a clip's face descriptors (:func:`describe_versions`'s ``store``): 03's face
    identification fills it, 04's face drift reads the same faces there.

    Parameters
    ----------
    work : str or Path
        The run's work folder (``work/<run>``).
    clip_id : str
        The clip.

    Returns
    -------
    path : Path
        ``<work>/features/faces/<clip_id>.npz``.
    """
    return Path(work) / "features" / "faces" / f"{clip_id}.npz"


def face_region(rgb: np.ndarray, box, scale: float = 2.0) -> np.ndarray:
    """The face box enlarged ``scale`` times about its centre, clipped to the frame: where
    :func:`describe_versions` looks for a face with dlib's detector.

    Parameters
    ----------
    rgb : (H, W, 3) ndarray
        The frame.
    box : array_like of float
        ``x1, y1, x2, y2`` in pixels.
    scale : float, optional
        Growth of the box's width and height. Default 2.

    Returns
    -------
    region : ndarray
        A view of the frame (possibly empty).
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * scale, (y2 - y1) * scale
    hh, ww = rgb.shape[:2]
    a, b = int(max(0, cx - w / 2)), int(max(0, cy - h / 2))
    return rgb[b:int(min(hh, cy + h / 2)), a:int(min(ww, cx + w / 2))]


def describe_versions(embedder: DlibFaceEmbedder, clip, videos: dict, boxes, *, store=None,
                      confirm: bool = True, upsample: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """dlib descriptors of faces at fixed boxes in every version of a clip, each computed once.

    The attacker knows where each head is (the boxes come from the original's scene) and describes
    what each version shows there; dlib's HOG detector says whether a face is still found in the box
    grown twice (:func:`face_region`).

    Parameters
    ----------
    embedder : DlibFaceEmbedder
        The descriptor and the detector.
    clip : vidanon.io.data.Clip
        The clip.
    videos : dict of str to path or None
        ``{version: video}``, the reference version first; None stands for the clip's own frames.
    boxes : pandas.DataFrame
        One row per face: ``frame`` (clip frame) and ``x1, y1, x2, y2`` (pixels).
    store : vidanon.io.cache.VectorStore, optional
        Results kept by the version's content, frame and box: a face already described (by 03's face
        identification, for 04's drift) is not described again. The caller saves it.
    confirm : bool, optional
        Describe the other versions only at the faces dlib's detector finds in the reference version
        (dlib's descriptor is made for those; the rest is NaN there). Default True.
    upsample : int, optional
        dlib detector's upsampling. Default 1.

    Returns
    -------
    out : dict of str to (desc, found)
        Per version: raw descriptors (N, 128) float32 (NaN rows where not described) and whether the
        detector finds a face at each box (N,) bool.
    """
    from vidanon.io import cache

    frames = boxes["frame"].to_numpy().astype(int)
    coords = boxes[["x1", "y1", "x2", "y2"]].to_numpy(float)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    todo = np.ones(len(boxes), bool)
    for k, (version, video) in enumerate(videos.items()):
        source = (f"{cache.file_hash(clip.path)}@{clip.start}" if video is None else cache.file_hash(video))
        keys = [f"{source}|{t}|{','.join(f'{v:.3f}' for v in c)}|{upsample}" for t, c in zip(frames, coords)]
        desc = np.full((len(boxes), 128), np.nan, np.float32)
        found = np.zeros(len(boxes), bool)
        known = [i for i in np.flatnonzero(todo) if store is not None and keys[i] in store]
        missing = [i for i in np.flatnonzero(todo) if store is None or keys[i] not in store]
        if known:
            got = store.get([keys[i] for i in known])
            desc[known], found[known] = got[:, :128], got[:, 128] > 0.5
        if missing:
            at: dict[int, list[int]] = {}
            for i in missing:
                at.setdefault(int(frames[i]), []).append(i)
            h, w = clip.height, clip.width
            for t, rgb in clip.version_frames(video, only=set(at)):
                rows, rgb = at[t], rgb[:h, :w]  # the H.264 writer pads odd sizes by a pixel
                desc[rows] = embedder.descriptors(rgb, coords[rows])
                for i in rows:
                    region = face_region(rgb, coords[i])
                    found[i] = region.size > 0 and len(embedder.detect(np.ascontiguousarray(region), upsample)) > 0
            if store is not None:
                store.add([keys[i] for i in missing], np.c_[desc[missing], found[missing].astype(np.float32)])
        out[version] = (desc, found)
        if k == 0 and confirm:
            todo = found.copy()
    return out

