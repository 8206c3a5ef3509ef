"""OSNet re-ID embeddings through torchreid, from a torchreid model-zoo checkpoint.

The name ``osnet_x0_25_msmt17`` means architecture ``osnet_x0_25`` and checkpoint file
``osnet_x0_25_msmt17.pth`` (resolved by vidanon.io.weights: weights directory, cache, or download with
a pinned hash). Other zoo models (``osnet_x1_0_*``, ``osnet_ain_x1_0_*``) work the same way given
``weights=`` (path or URL) and ``sha256=``. Input: RGB resized to 256x128, ImageNet mean/std;
output: the 512-d feature of ``model.eval()``, L2-normalized.
"""

from __future__ import annotations

import warnings

import numpy as np

from vidanon.io import weights as weights_mod
from vidanon.models.embed import OnnxModule, check_crops, l2_normalize, torch_batches, use_onnx
from vidanon.core.versions import resolve_device
from vidanon.core.errors import BackendUnavailable, WeightsError

ARCHS = ("osnet_ain_x0_25", "osnet_ain_x0_5", "osnet_ain_x0_75", "osnet_ain_x1_0", "osnet_ibn_x1_0",
         "osnet_x0_25", "osnet_x0_5", "osnet_x0_75", "osnet_x1_0")


def split_name(name: str) -> tuple[str, str]:
    """('osnet_x0_25', 'msmt17') from 'osnet_x0_25_msmt17' (the longest known architecture prefix).

    Parameters
    ----------
    name : str
        ``<arch>_<dataset>`` with ``arch`` one of ``ARCHS``, or an architecture alone.

    Returns
    -------
    arch : str
        The architecture.
    dataset : str
        The rest of the name (``''`` for an architecture alone).

    Raises
    ------
    WeightsError
        If ``name`` does not start with a known OSNet architecture.
    """
    for arch in sorted(ARCHS, key=len, reverse=True):
        if name == arch or name.startswith(arch + "_"):
            return arch, name[len(arch) + 1:]
    raise WeightsError(f"{name!r}: not an OSNet name; expected <arch>_<dataset> with arch one of {ARCHS}")


def load_state_dict(path) -> dict:
    """A torchreid checkpoint as a plain state dict ('state_dict' wrapper and 'module.' prefixes removed).

    Loaded with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : str or PathLike
        The checkpoint file.

    Returns
    -------
    state : dict of str to torch.Tensor
        Parameter name -> tensor, on the CPU.
    """
    import torch

    sd = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    return {k.removeprefix("module."): v for k, v in sd.items()}


class OSNetEmbedder:
    """OSNet re-ID embedder (torchreid), from a model-zoo checkpoint: 512-d L2-normalized features.

    Parameters
    ----------
    name : str, optional
        ``<arch>_<dataset>`` (see :func:`split_name`); the checkpoint is ``<name>.pth`` unless
        ``weights`` is given. Default ``'osnet_x0_25_msmt17'``.
    device : str, optional
        ``'cpu'`` (default), ``'cuda'`` or ``'auto'`` (:func:`vidanon.core.versions.resolve_device`).
    weights : str, optional
        Path or URL of a torchreid checkpoint (resolved by :func:`vidanon.io.weights.resolve`).
        None (default): ``<name>.pth``.
    sha256 : str, optional
        SHA-256 the checkpoint must have. None (default): the registry's, if any.
    batch : int, optional
        Crops per forward pass. Default 64.
    runtime : {'auto', 'onnx', 'torch'}, optional
        'auto' (default): ONNX Runtime on the CPU (the network exported once, same features to about
        1e-6, several times faster), torch on CUDA.

    Raises
    ------
    BackendUnavailable
        If torchreid is not installed.
    WeightsError
        If the name is not an OSNet name, names an architecture without a trained checkpoint, or
        the checkpoint is missing or does not fit the architecture.
    """
    kind = "reid"

    def __init__(self, name: str = "osnet_x0_25_msmt17", *, device: str = "cpu", weights: str | None = None,
                 sha256: str | None = None, batch: int = 64, runtime: str = "auto"):
        arch, dataset = split_name(name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torchreid: "Cython evaluation is unavailable"
                from torchreid.reid.models import build_model
        except ImportError as e:
            raise BackendUnavailable(f"OSNet needs torchreid (pip install torchreid==0.2.5 gdown tensorboard): {e}")
        if weights is None and not dataset:
            raise WeightsError(f"{name!r} names an architecture, not a trained model: use e.g. '{arch}_msmt17' "
                               f"(checkpoint {arch}_msmt17.pth in the weights directory) or give weights= a "
                               "torchreid model-zoo checkpoint; ImageNet-only OSNet weights are not re-ID trained")
        path = weights_mod.resolve(weights or f"{name}.pth", sha256=sha256)
        sd = load_state_dict(path)
        n_classes = sd["classifier.weight"].shape[0] if "classifier.weight" in sd else 1
        model = build_model(arch, num_classes=n_classes, loss="softmax", pretrained=False)
        missing, unexpected = model.load_state_dict(sd, strict=False)
        bad = [k for k in missing if not k.startswith("classifier.")] + list(unexpected)
        if bad:
            raise WeightsError(f"{path}: does not fit {arch} ({len(bad)} mismatched keys, e.g. {bad[:3]})")
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device)
        self.name, self.batch = name, batch
        self.description = (f"OSNet {arch} re-ID model (torchreid) trained on {dataset or path.name}"
                            f"; {weights_mod.describe(path.name)}")
        self.onnx = None
        if use_onnx(runtime, self.device):
            from vidanon.io.cache import file_hash

            self.onnx = OnnxModule(self.model, (1, 3, 256, 128), f"{name}-{file_hash(path)[:12]}")
            self.description += "; run with ONNX Runtime"

    def embed(self, crops) -> np.ndarray:
        """Re-ID features of crops resized to 256x128 (height x width), ImageNet-normalized.

        Parameters
        ----------
        crops : iterable of array_like
            Crops, each (H, W, 3) uint8 RGB of any size.

        Returns
        -------
        feats : (N, 512) ndarray of float32
            The feature of ``model.eval()``, rows of unit L2 norm.

        Raises
        ------
        ValueError
            If a crop is not an (H, W, 3) uint8 array.
        """
        import torch

        crops = check_crops(crops)
        if not crops:
            return np.zeros((0, 512), np.float32)
        if self.onnx is not None:
            out = [self.onnx(x) for x in torch_batches(crops, (256, 128), None, self.batch)]
            return l2_normalize(np.concatenate(out))
        out = []
        with torch.no_grad():
            for x in torch_batches(crops, (256, 128), self.device, self.batch):
                out.append(self.model(x).float().cpu().numpy())
        return l2_normalize(np.concatenate(out))
