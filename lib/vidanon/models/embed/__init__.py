"""Embedders: crops in, L2-normalized feature rows out (one file per model).

``get(name)`` returns an object with ``.name`` (what the model really is), ``.description``,
``.kind`` (``"reid"``, ``"imagenet"``, ``"handcrafted"`` or ``"face"``) and
``.embed(list of RGB uint8 crops) -> (N, D) float32`` with unit-norm rows.

Names: ``osnet_<arch>_<dataset>`` (torchreid OSNet, checkpoint ``<name>.pth`` via vidanon.io.weights,
e.g. ``osnet_x0_25_msmt17``; or any torchreid OSNet architecture with ``weights=`` a path/URL),
``agw`` (ReID-Survey AGW: not supported, fails with an explanation), ``mobilenet_v2_imagenet``
(ImageNet features, not re-ID trained), ``hsv_histogram`` (hand-crafted colour/texture baseline),
``dlib_face_resnet`` (dlib's 128-d face descriptor, for face crops).
"""

from __future__ import annotations

import numpy as np

from vidanon.core.errors import VidanonError


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), float32.

    Parameters
    ----------
    x : (N, D) array_like of float
        Feature rows.

    Returns
    -------
    xn : (N, D) ndarray of float32
        Each row divided by its L2 norm.
    """
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def check_crops(crops) -> list[np.ndarray]:
    """The crops as a list of RGB uint8 (H, W, 3) arrays; ValueError naming the bad one.

    Parameters
    ----------
    crops : iterable of array_like
        Image crops, each (H, W, 3) uint8 RGB with H, W >= 1 (sizes may differ).

    Returns
    -------
    crops : list of ndarray
        The crops as (H, W, 3) uint8 arrays.

    Raises
    ------
    ValueError
        If a crop is not a non-empty (H, W, 3) uint8 array (the message gives its position).
    """
    out = []
    for i, c in enumerate(crops):
        c = np.asarray(c)
        if c.ndim != 3 or c.shape[2] != 3 or c.dtype != np.uint8 or min(c.shape[:2]) < 1:
            raise ValueError(f"crop {i}: expected an RGB uint8 array (H, W, 3), got {c.dtype} {c.shape}")
        out.append(c)
    return out


NAMES = ("osnet_x0_25_msmt17", "osnet_x0_25_market1501", "mobilenet_v2_imagenet", "hsv_histogram",
         "dlib_face_resnet", "agw")


def get(name: str, device: str = "cpu", **options):
    """An embedder by name (see the module doc).

    Parameters
    ----------
    name : str
        One of ``NAMES`` or any ``osnet_<arch>_<dataset>`` (``agw`` and ``agw_*`` fail with an
        explanation).
    device : str, optional
        ``'cpu'`` (default), ``'cuda'`` or ``'auto'`` for the torch models (OSNet, MobileNetV2);
        the histogram and dlib embedders run on the CPU and ignore it.
    **options
        Go to the embedder's constructor (e.g. ``weights=`` path or URL and ``sha256=`` for an
        OSNet checkpoint).

    Returns
    -------
    embedder : object
        With ``.name``, ``.kind``, ``.description`` and ``.embed(crops) -> (N, D) float32``
        (unit-norm rows).

    Raises
    ------
    VidanonError
        If the name is unknown; a :class:`WeightsError` or :class:`BackendUnavailable` (its
        subclasses) when the model's weights or package are missing.
    """
    obj = _make(name, device, options)
    obj.spec = {"name": name, "device": device, **options}  # what rebuilds it in a worker (embed_files)
    return obj


def _make(name: str, device: str, options: dict):
    if name.startswith("osnet"):
        from vidanon.models.embed.osnet import OSNetEmbedder

        return OSNetEmbedder(name, device=device, **options)
    if name == "agw" or name.startswith("agw_"):
        from vidanon.models.embed.agw import AGWEmbedder

        return AGWEmbedder(name, device=device, **options)
    if name == "mobilenet_v2_imagenet":
        from vidanon.models.embed.generic import MobileNetV2ImageNet

        return MobileNetV2ImageNet(device=device, **options)
    if name == "hsv_histogram":
        from vidanon.models.embed.histogram import HSVHistogram

        return HSVHistogram(**options)
    if name == "dlib_face_resnet":
        from vidanon.models.embed.face import DlibFaceEmbedder

        return DlibFaceEmbedder(**options)
    raise VidanonError(f"unknown embedder {name!r}; known: {', '.join(NAMES)} "
                       "(or any osnet_<arch>_<dataset> with its checkpoint)")


def torch_batches(crops, size_hw: tuple[int, int], device: str | None, batch: int = 64):
    """Yield float tensors (B, 3, H, W) of resized crops, ImageNet mean/std normalized (numpy arrays
    when ``device`` is None, for ONNX Runtime).

    Parameters
    ----------
    crops : sequence of ndarray
        RGB uint8 (h, w, 3) crops of any size.
    size_hw : tuple of int
        (H, W) the crops are resized to (bilinear), in pixels.
    device : str or None
        Torch device of the tensors; None: numpy arrays.
    batch : int, optional
        Largest batch size B. Default 64.

    Yields
    ------
    x : (B, 3, H, W) torch.Tensor or ndarray of float32
        RGB scaled to [0, 1], minus the ImageNet mean and divided by its std, on ``device``.
    """
    import cv2

    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    h, w = size_hw
    for s in range(0, len(crops), batch):
        arr = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in crops[s:s + batch]])
        arr = ((arr.astype(np.float32) / 255.0 - mean) / std).transpose(0, 3, 1, 2).copy()
        if device is None:
            yield arr
        else:
            import torch

            yield torch.from_numpy(arr).to(device)


class OnnxModule:
    """A torch module run with ONNX Runtime on the CPU, where it is several times faster than torch for
    these small networks (OSNet x0.25: 7x on this project's 2-core machines) with the same outputs
    to about 1e-6. Exported once with a free batch dimension and kept in vidanon's weights cache as
    ``<name>.onnx``; ``name`` must identify the weights (e.g. carry the checkpoint's hash).

    Parameters
    ----------
    module : torch.nn.Module
        The network in eval mode, on the CPU.
    example_shape : tuple of int
        Shape (B, C, H, W) of an input, for the export.
    name : str
        File stem in the weights cache.
    folder : str or Path, optional
        Where the export is kept instead of the weights cache (a run's own models, e.g. the
        fine-tuned attacker's, stay in its work folder).
    """

    def __init__(self, module, example_shape: tuple[int, ...], name: str, folder=None):
        from pathlib import Path

        import onnxruntime as ort

        from vidanon.core.atomic import atomic_path
        from vidanon.io import weights
        from vidanon.models.detect._onnx import export, session_options

        path = Path(folder or weights.cache_dir()) / f"{name}.onnx"
        if not path.is_file():
            import torch

            with atomic_path(path) as tmp:
                export(module, torch.zeros(example_shape), tmp, opset_version=17, input_names=["x"],
                       output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        self.session = ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run the network.

        Parameters
        ----------
        x : (B, C, H, W) ndarray of float32
            Input batch.

        Returns
        -------
        y : ndarray of float32
            The module's output.
        """
        return self.session.run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]


def use_onnx(runtime: str, device: str) -> bool:
    """Whether an embedder runs with ONNX Runtime: ``runtime`` 'onnx', or 'auto' on the CPU (torch on CUDA).

    Parameters
    ----------
    runtime : {'auto', 'onnx', 'torch'}
        The embedder's runtime setting.
    device : str
        The resolved device, ``'cpu'`` or ``'cuda'``.

    Returns
    -------
    onnx : bool
        True for ONNX Runtime.
    """
    if runtime not in ("auto", "onnx", "torch"):
        raise VidanonError(f"embedder runtime: expected 'auto', 'onnx' or 'torch', got {runtime!r}")
    return runtime == "onnx" or (runtime == "auto" and device == "cpu")


def embed_files(embedder, paths, batch: int = 256, cache_dir=None, *, executor=None) -> np.ndarray:
    """Features of crop image files, read and embedded in batches (memory bounded by ``batch``).

    Parameters
    ----------
    embedder : object
        An embedder of :func:`get` (``.name``, ``.embed`` and, for the cache, ``.description``).
    paths : iterable of str or PathLike
        Crop image files.
    batch : int, optional
        Crops read and embedded at a time. Default 256.
    cache_dir : str or PathLike, optional
        Features are kept in ``<cache_dir>/<embedder name>-<tag>.npz`` (tag: a hash of the
        embedder's ``description``, which names its checkpoint), keyed by the SHA-256 of each crop
        file's content (:mod:`vidanon.io.cache`), so a re-run, or another stage with the same
        embedder, embeds only crops that are new or changed. None (default): no cache.
    executor : vidanon.core.executor executor, optional
        Embeds the batches in its workers (an embedder made by :func:`get`, rebuilt there from its
        ``spec``); the batches are the same as in one process, so the features are too.

    Returns
    -------
    feats : (N, D) ndarray of float32
        One row per path, in order; (0, 1) when there are no paths.

    Raises
    ------
    DataError
        If a crop file cannot be read.
    """
    from pathlib import Path

    from vidanon.io import cache

    paths = [str(p) for p in paths]
    if cache_dir is None:
        return _embed(embedder, paths, batch, executor)
    keys = [cache.file_hash(p) for p in paths]
    tag = cache.key(str(getattr(embedder, "description", "")))[:8]
    store = cache.VectorStore(Path(cache_dir) / f"{embedder.name}-{tag}.npz")
    todo = store.missing(keys)
    if todo:
        path_of = dict(zip(keys, paths))  # identical bytes: any of their paths will do
        store.add(todo, _embed(embedder, [path_of[k] for k in todo], batch, executor))
        store.save()
    return store.get(keys) if keys else np.zeros((0, 1), np.float32)


def _embed(embedder, paths: list, batch: int, executor=None) -> np.ndarray:
    from vidanon.core.progress import tqdm

    from vidanon.io.crops import read_crops

    chunks = [paths[s:s + batch] for s in range(0, len(paths), batch)]
    spec = getattr(embedder, "spec", None)
    if executor is not None and getattr(executor, "workers", 1) > 1 and spec is not None and len(chunks) > 1:
        parts = executor.map(_embed_job, [(spec, c) for c in chunks], label=f"embed {embedder.name}")
    else:
        parts = [embedder.embed(read_crops(c)) for c in tqdm(chunks, desc=f"embed {embedder.name}", leave=False,
                                                             disable=len(chunks) <= 1)]
    return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)


def _embed_job(job) -> np.ndarray:
    """One batch of crop files embedded in a worker (the embedder built once per worker)."""
    from vidanon.core import executor
    from vidanon.io.crops import read_crops

    spec, paths = job
    key = ("embed", tuple(sorted((k, str(v)) for k, v in spec.items())))
    embedder = executor.cached(key, lambda: get(**spec))
    return embedder.embed(read_crops(paths))
