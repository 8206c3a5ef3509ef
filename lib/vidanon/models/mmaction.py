"""Action recognition with MMAction2 (the seed study's utility check): an adapter over its own
inference API (``mmaction.apis.init_recognizer`` + the config's test-time pipeline).

Configs come from inside the mmaction2 wheel (``mmaction/.mim/configs``; e.g.
``recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py``) or from a file;
checkpoints by name, path or URL through :func:`vidanon.io.weights.resolve`. mmcv-lite is enough for
TSN/TSM on the CPU. Frames are streamed: only the frames the config's ``SampleFrames`` picks are kept.

No action checkpoint ships with any package, so action recognition is off by default
(``utility.action.enabled``); a recognizer without weights is only for testing the plumbing and its
scores mean nothing.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from vidanon.core.errors import BackendUnavailable, ParamsError, WeightsError

# Transforms that open/decode a video file: replaced by ArrayDecode over the frames we streamed.
_FILE_INIT = ("DecordInit", "OpenCVInit", "PyAVInit")
_FILE_DECODE = ("DecordDecode", "OpenCVDecode", "PyAVDecode", "PyAVDecodeMotionVector", "RawFrameDecode")


def _mmaction_dir() -> Path:
    spec = importlib.util.find_spec("mmaction")
    if spec is None or spec.origin is None:
        raise BackendUnavailable("MMAction2 is not installed: pip install --no-deps mmaction2==1.2.0 "
                                 "mmengine==0.10.7 mmcv-lite==2.1.0 (see requirements/nodeps.txt)")
    return Path(spec.origin).parent


def configs_dir() -> Path:
    """The configs shipped inside the mmaction2 wheel.

    Returns
    -------
    path : Path
        ``<mmaction package>/.mim/configs``.

    Raises
    ------
    BackendUnavailable
        If MMAction2 is not installed.
    """
    return _mmaction_dir() / ".mim" / "configs"


def config_file(config: str | Path) -> Path:
    """A config by path, or relative to the wheel's configs (``recognition/tsn/....py``).

    Parameters
    ----------
    config : str or Path
        A config file, or a path relative to :func:`configs_dir`.

    Returns
    -------
    path : Path
        The config file.

    Raises
    ------
    ParamsError
        If it is neither a file nor a config inside the wheel.
    BackendUnavailable
        If MMAction2 is not installed.
    """
    p = Path(config).expanduser()
    for cand in (p, configs_dir() / p):
        if cand.is_file():
            return cand
    raise ParamsError(f"utility.action.config: {config} is neither a file nor a config inside the mmaction2 "
                      f"wheel ({configs_dir()}); e.g. recognition/tsn/"
                      "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py")


def _stand_in_drn() -> None:
    """mmaction2 1.2.0's wheel lacks ``models/localizers/drn`` but its ``localizers/__init__`` imports it
    (open-mmlab/mmaction2#2714). Register a stand-in module before mmaction's models are imported;
    installed files are never edited. The stand-in refuses to build (DRN is a localizer we never use)."""
    name = "mmaction.models.localizers.drn"
    if name in sys.modules or (_mmaction_dir() / "models" / "localizers" / "drn").is_dir():
        return
    _register_drn(name)


def _no_multimodal() -> None:
    """mmaction imports its VindLU (multimodal) models whenever ``transformers`` is installed, and they
    fail to import with transformers >= 5. vidanon uses only recognizers: have mmaction register its
    placeholders instead (a module attribute set before mmaction's models are imported)."""
    if "mmaction.models" in sys.modules:
        return
    from mmaction.utils import dependency

    dependency.WITH_MULTIMODAL = False


def _register_drn(name: str) -> None:
    class DRN:  # noqa: D401 - a stand-in
        def __init__(self, *args, **kwargs):
            raise BackendUnavailable("DRN is missing from the mmaction2 wheel (open-mmlab/mmaction2#2714)")

    pkg = types.ModuleType(name)
    pkg.__path__ = []  # a package, so "drn.drn" resolves
    mod = types.ModuleType(name + ".drn")
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules[name] = pkg
    sys.modules[name + ".drn"] = mod


def _openmmlab_prefix(path: Path) -> str | None:
    """OpenMMLab names checkpoints ``..._<date>-<first 8 hex of the SHA-256>.pth``."""
    m = re.search(r"-([0-9a-f]{8})\.pth$", path.name)
    return m.group(1) if m else None


def load_checkpoint_file(model, path: Path, sha256: str | None) -> None:
    """Load an MMAction2 checkpoint into ``model``.

    Full unpickling (MMEngine checkpoints hold non-tensor metadata) is done only for a file whose
    hash was checked: ``sha256`` (checked by vidanon.io.weights.resolve) or OpenMMLab's 8-hex hash
    prefix in the file name (``..._<date>-<8 hex>.pth``). ``module.`` prefixes are removed; keys
    the model lacks are ignored.

    Parameters
    ----------
    model : torch.nn.Module
        The recognizer built from the config; loaded in place.
    path : Path
        The checkpoint file.
    sha256 : str or None
        The full SHA-256 the file was already checked against, or None.

    Raises
    ------
    WeightsError
        If the file's hash does not start with the prefix its name gives, it needs full unpickling
        but no hash was checked, or it lacks weights the model needs.
    """
    import torch

    from vidanon.io.cache import file_hash

    verified = sha256 is not None
    prefix = _openmmlab_prefix(path)
    if not verified and prefix is not None:
        got = file_hash(path)
        if not got.startswith(prefix):
            raise WeightsError(f"{path}: SHA-256 {got} does not start with {prefix} as its name says; refused.")
        verified = True
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        if not verified:
            raise WeightsError(f"{path}: this checkpoint needs full unpickling, which runs code from the file; "
                               "give utility.action.checkpoint_sha256 so that its hash is checked first.") from None
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
    state = {k.removeprefix("module."): v for k, v in state.items()}
    res = model.load_state_dict(state, strict=False)
    if res.missing_keys:
        raise WeightsError(f"{path}: does not fit the config's model; missing {len(res.missing_keys)} weights, "
                           f"e.g. {res.missing_keys[:3]}")


def read_labels(path: str | Path | None, n: int) -> list[str]:
    """Class names, one per line (MMAction2's label maps); ``class_<i>`` when no file is given.

    Parameters
    ----------
    path : str or Path or None
        Label-map file, one class name per line (blank lines skipped). None: generic names.
    n : int
        Number of classes of the model.

    Returns
    -------
    labels : list of str
        ``n`` class names, in class-index order.

    Raises
    ------
    ParamsError
        If the file does not exist or does not hold ``n`` names.
    """
    if path is None:
        return [f"class_{i}" for i in range(n)]
    p = Path(path).expanduser()
    if not p.is_file():
        raise ParamsError(f"utility.action.labels: {p} does not exist (a label map, one class name per line)")
    names = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if len(names) != n:
        raise ParamsError(f"utility.action.labels: {p} has {len(names)} names but the model has {n} classes")
    return names


class Recognizer:
    """An MMAction2 recognizer built from a config, with or without a checkpoint.

    ``predict(frames, n_frames)`` returns class probabilities ``(num_classes,)`` float32.

    Parameters
    ----------
    config : str or Path
        A config file or one inside the wheel (:func:`config_file`).
    checkpoint : str or Path, optional
        Weights name, path or URL (:func:`vidanon.io.weights.resolve`). None (default): untrained
        weights, only for testing the plumbing (its scores mean nothing).
    sha256 : str, optional
        SHA-256 of the checkpoint, checked before loading. None (default): the registry's hash, if
        any, is checked on resolving, and full unpickling needs the 8-hex prefix of an OpenMMLab
        file name (see :func:`load_checkpoint_file`).
    labels : str or Path, optional
        Label-map file (:func:`read_labels`). None (default): ``class_<i>``.
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.
    view : {'val', 'test'}, optional
        ``"val"`` (default) uses the config's single-view validation pipeline (center crop; cheap on
        a CPU), ``"test"`` its multi-view test pipeline (the numbers MMAction2's model zoo reports).

    Raises
    ------
    ParamsError
        If the config is not found, ``view`` is unknown, its pipeline has no ``SampleFrames`` step
        (only frame-sampling recognizers are supported) or the labels do not fit.
    WeightsError
        If the checkpoint is missing, fails its hash check or does not fit the config's model.
    BackendUnavailable
        If MMAction2 is not installed.
    """

    def __init__(self, config: str | Path, checkpoint: str | Path | None = None, *, sha256: str | None = None,
                 labels: str | Path | None = None, device: str = "cpu", view: str = "val"):
        _stand_in_drn()
        _no_multimodal()
        from mmengine import Config
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope

        from mmaction.apis import init_recognizer

        self.config = config_file(config)
        cfg = Config.fromfile(str(self.config))
        model = init_recognizer(cfg, None, device=device)
        self.pretrained = checkpoint is not None
        if checkpoint is not None:
            from vidanon.io.weights import resolve

            path = resolve(checkpoint, sha256=sha256)
            load_checkpoint_file(model, path, sha256)
            model.to(device)
        self.model = model
        self.device = device
        self.name = self.config.stem
        key = {"val": "val_pipeline", "test": "test_pipeline"}.get(view)
        if key is None or key not in cfg:
            raise ParamsError(f"utility.action.view: expected 'val' or 'test' (a pipeline of {self.config.name}), "
                              f"got {view!r}")
        steps = [dict(s) for s in cfg[key] if s["type"] not in _FILE_INIT]
        i = next((k for k, s in enumerate(steps) if s["type"] == "SampleFrames"), None)
        if i is None:
            raise ParamsError(f"{self.config}: its {key} has no SampleFrames step; only frame-sampling "
                              "recognizers (TSN, TSM, I3D, SlowFast...) are supported")
        rest = [dict(type="ArrayDecode") if s["type"] in _FILE_DECODE else s for s in steps[i + 1:]]
        init_default_scope(cfg.get("default_scope", "mmaction"))
        self._sample = Compose([steps[i]])
        self._rest = Compose(rest)
        self.num_classes = int(cfg.model.cls_head.num_classes)
        self.labels = read_labels(labels, self.num_classes)

    def predict(self, frames: Iterable[tuple[int, np.ndarray]], n_frames: int) -> np.ndarray:
        """Class probabilities of a clip given as streamed ``(t, rgb)`` pairs.

        Only the frames the config's ``SampleFrames`` picks are kept in memory; the stream is read until
        the last of them.

        Parameters
        ----------
        frames : iterable of (int, ndarray)
            ``(t, rgb)`` pairs in increasing ``t`` = 0..n_frames-1, ``rgb`` a (H, W, 3) uint8 RGB frame.
        n_frames : int
            Number of frames of the clip (>= 1), from which the frames to sample are chosen.

        Returns
        -------
        scores : (num_classes,) ndarray of float32
            The model's ``pred_score`` per class.

        Raises
        ------
        ValueError
            If ``n_frames`` < 1, or the stream ends before a sampled frame.
        """
        import torch
        from mmengine.dataset import pseudo_collate

        if n_frames < 1:
            raise ValueError("n_frames must be >= 1")
        data = self._sample(dict(total_frames=int(n_frames), start_index=0, modality="RGB", label=-1))
        wanted = np.unique(data["frame_inds"])
        kept = {}
        for t, rgb in frames:
            if t in wanted:
                kept[t] = rgb
            if len(kept) == len(wanted) or t >= wanted[-1]:
                break
        missing = sorted(set(wanted.tolist()) - set(kept))
        if missing:
            raise ValueError(f"the clip ended before frames {missing[:5]} (n_frames={n_frames} was given)")
        pos = {t: k for k, t in enumerate(wanted.tolist())}
        data["array"] = np.stack([kept[t] for t in wanted.tolist()])
        data["frame_inds"] = np.vectorize(pos.get)(data["frame_inds"])
        data = self._rest(data)
        with torch.no_grad():
            out = self.model.test_step(pseudo_collate([data]))[0]
        return out.pred_score.detach().cpu().numpy().astype(np.float32)

    def top_k(self, scores: np.ndarray, k: int = 5) -> list[str]:
        """The ``k`` best class names, best first.

        Parameters
        ----------
        scores : (num_classes,) ndarray of float
            Class scores, e.g. of :meth:`predict`.
        k : int, optional
            Number of names. Default 5.

        Returns
        -------
        names : list of str
            At most ``k`` class names, by decreasing score (ties in class order).
        """
        return [self.labels[i] for i in np.argsort(-scores, kind="stable")[:k]]


def from_params(section, device: str = "cpu") -> Recognizer:
    """The recognizer of ``params.utility.action``; it must be enabled and name a config and checkpoint.

    Parameters
    ----------
    section : ActionSection
        ``params.utility.action`` (``enabled``, ``config``, ``checkpoint``, ``checkpoint_sha256``,
        ``labels``, ``view``).
    device : str, optional
        Torch device, ``'cpu'`` (default) or ``'cuda'``.

    Returns
    -------
    recognizer : Recognizer
        The configured recognizer.

    Raises
    ------
    ParamsError
        If action recognition is disabled, ``config`` or ``checkpoint`` is missing, or as
        :class:`Recognizer`.
    WeightsError
        If the checkpoint or the label file cannot be resolved, or as :class:`Recognizer`.
    """
    if not section.enabled:
        raise ParamsError("utility.action.enabled is false: action recognition is off")
    if not section.config or not section.checkpoint:
        raise ParamsError("utility.action: enabled, so 'config' and 'checkpoint' are required "
                          "(see params/thesis.yaml for a TSN Kinetics-400 example)")
    labels = None
    if section.labels:
        from vidanon.io.weights import resolve

        labels = resolve(section.labels)  # a path, or a file in the weights directory
    return Recognizer(section.config, section.checkpoint, sha256=section.checkpoint_sha256,
                      labels=labels, device=device, view=section.view)
