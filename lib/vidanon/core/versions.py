"""The versions of a run and the small conventions every stage shares.

A run compares versions of each clip: ``original`` (the clip re-encoded unchanged, the reference) and
one anonymized video per method of ``params.anonymize.methods``. This module names them, says where
their videos live, encodes the camid of a crop, picks evenly spaced samples, and resolves the device
that models run on. Nothing here reads a file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vidanon.core.errors import VidanonError

ORIGINAL = "original"
PROTOCOLS = ("cross-clip", "cross-segment")


# --- versions ------------------------------------------------------------------------------------

def versions(params) -> list:
    """``[MethodSpec]`` of a run: ``original`` first, then ``params.anonymize.methods`` in order."""
    from vidanon.core.params import MethodSpec

    return [MethodSpec(name=ORIGINAL, method=ORIGINAL)] + list(params.anonymize.methods)


def version_names(params) -> list[str]:
    """Names of the versions of a run: ``["original", <method name>, ...]``."""
    return [v.name for v in versions(params)]


def anonymized_path(work: str | Path, version: str, clip_id: str) -> Path:
    """Where the video of one version of a clip lives: ``work/<run>/anonymized/<version>/<clip>.mp4``."""
    return Path(work) / "anonymized" / version / f"{clip_id}.mp4"


# --- camids --------------------------------------------------------------------------------------

def encode_camid(cam: int, seq: int) -> int:
    """The camid of a crop: ``cam * 1000 + seq`` (cam = clip number from 1, seq = time segment from 1)."""
    return int(cam) * 1000 + int(seq)


def decode_camid(camid) -> tuple[np.ndarray, np.ndarray]:
    """``(cam, seq)`` of camid(s) made by :func:`encode_camid`."""
    camid = np.asarray(camid)
    return camid // 1000, camid % 1000


def camids_for(df, protocol: str) -> np.ndarray:
    """The camid of each crop row under a re-ID protocol.

    ``cross-clip``: one camid per clip (a query only counts its person in other clips);
    ``cross-segment``: one per clip and time segment (the manifest's ``camid``)."""
    import pandas as pd

    if protocol == "cross-clip":
        return pd.factorize(df["clip"].astype(str))[0] if "clip" in df else decode_camid(df["camid"])[0]
    if protocol == "cross-segment":
        return np.asarray(df["camid"])
    raise ValueError(f"protocol: expected one of {PROTOCOLS}, got {protocol!r}")


def segment_of(t, fps: float, segment_seconds: float) -> np.ndarray:
    """0-based time segment of clip frame(s) ``t`` (segments of ``segment_seconds`` at ``fps``)."""
    length = max(1, int(round(segment_seconds * (fps or 1.0))))
    return np.asarray(t) // length


# --- sampling ------------------------------------------------------------------------------------

def evenly_spaced(n: int, k: int | None) -> np.ndarray:
    """Indices of at most ``k`` evenly spaced items of ``n`` (first and last included; all when
    ``k`` is None or >= n)."""
    k = n if k is None else min(n, k)
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def frame_stride(n_frames: int, stride: int, max_frames: int | None) -> int:
    """The stride that keeps at most ``max_frames`` evenly spaced frames (never below ``stride``)."""
    if max_frames:
        stride = max(stride, math.ceil(n_frames / max_frames))
    return stride


# --- device --------------------------------------------------------------------------------------

def resolve_device(device: str) -> str:
    """The device models run on: ``'cpu'``, or ``'cuda'`` for ``'cuda'`` and, when torch sees a GPU,
    for ``'auto'``.

    Every torch model (OSNet, MobileNetV2, LPIPS, MMAction2, YOLOv5 .pt) and YOLOv5/CenterFace through
    ONNX Runtime (its CUDA provider, see :func:`onnx_providers`) follow it. What stays on the CPU:
    MediaPipe (its Python solutions run TFLite on the CPU) and dlib (the dlib-bin wheel has no CUDA).
    ``'cuda'`` on a machine without a GPU is an error, not a silent fallback."""
    if device == "cpu":
        return "cpu"
    if device not in ("auto", "cuda"):
        raise VidanonError(f"device: expected 'cpu', 'cuda' or 'auto', got {device!r}")
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if has_gpu:
        return "cuda"
    if device == "cuda":
        raise VidanonError("device: 'cuda' was asked for, but torch sees no CUDA GPU on this machine; "
                           "use device: auto or cpu")
    return "cpu"


def onnx_providers(device: str) -> list[str]:
    """ONNX Runtime execution providers for a resolved device: CUDA first when asked for and the
    installed onnxruntime has it (the pinned CPU wheel does not: install onnxruntime-gpu for that)."""
    if device == "cuda":
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]

