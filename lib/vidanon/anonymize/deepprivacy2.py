"""DeepPrivacy2 (Hukkelås and Lindseth, WACV 2023; github.com/hukkelas/deep_privacy2) driven through
its own Python API, as its ``anonymize.py`` does.

DeepPrivacy2 finds its own regions (DSFD faces, or Mask R-CNN + DensePose-CSE bodies) and
generates a new face / body. Temporal consistency: its tracker keeps one latent per track, which
only matters when the latent is not collapsed to the mean; so multi-modal truncation is on and
the truncation value above 0 by default.

It is not on PyPI: the package (``dp2``), ``tops``, detectron2 + DensePose and the generator
weights must be installed by hand (GPU machine); without them every entry point raises
BackendUnavailable naming what is missing.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

from vidanon.core.errors import BackendUnavailable

CONFIGS = {"face": "configs/anonymizers/face.py", "body": "configs/anonymizers/FB_cse_mask_face.py"}
INSTALL = (
    "DeepPrivacy2 is not installed. It is not on PyPI: on a GPU machine, `git clone "
    "https://github.com/hukkelas/deep_privacy2` and `pip install -e deep_privacy2` (it brings `tops`), "
    "install detectron2 and DensePose from github.com/facebookresearch/detectron2, and put the generator "
    "weights (Hugging Face Spaces haakohu/deep_privacy2 and haakohu/deep_privacy2_face, "
    "torch_home/hub/checkpoints) in $TORCH_HOME/hub/checkpoints. Set VIDANON_DP2_ROOT to the clone so its "
    "configs are found. Missing here: {missing}")


def _require() -> tuple:
    missing = []
    mods = []
    for name in ("dp2", "tops", "detectron2"):
        try:
            mods.append(importlib.import_module(name))
        except ImportError as e:
            missing.append(f"{name} ({e})")
    if missing:
        raise BackendUnavailable(INSTALL.format(missing=", ".join(missing)))
    return tuple(mods)


def _config_path(part: str, config: str | None) -> Path:
    rel = Path(config or CONFIGS[part])
    if rel.is_absolute() and rel.is_file():
        return rel
    roots = [os.environ.get("VIDANON_DP2_ROOT")]
    dp2 = importlib.import_module("dp2")
    roots.append(str(Path(dp2.__file__).resolve().parents[1]))  # an editable clone's root
    for root in filter(None, roots):
        if (Path(root) / rel).is_file():
            return Path(root) / rel
    raise BackendUnavailable(f"DeepPrivacy2 config {rel} not found under {[r for r in roots if r]}; "
                             "set VIDANON_DP2_ROOT to the deep_privacy2 clone")


class DeepPrivacy2:
    """Adapter: ``part`` 'face' (face.py) or 'body' (FB_cse_mask_face.py)."""

    def __init__(self, *, part: str = "face", config: str | None = None, score_threshold: float = 0.3,
                 truncation_value: float = 0.5, multi_modal_truncation: bool = True, amp: bool = True,
                 track: bool = True):
        if part not in CONFIGS:
            raise ValueError(f"part must be one of {sorted(CONFIGS)}, got {part!r}")
        self.part, self.config = part, config
        self.score_threshold, self.truncation_value = float(score_threshold), float(truncation_value)
        self.multi_modal_truncation, self.amp, self.track = bool(multi_modal_truncation), bool(amp), bool(track)
        self.name = f"deepprivacy2-{part}"
        dp2, tops, _ = _require()
        self._dp2, self._tops = dp2, tops
        self._anonymizer = None
        self._last: tuple[int, np.ndarray, np.ndarray] | None = None

    def prepare(self, frames, scene) -> None:
        """Build the anonymizer once per clip; its tracker (one latent per track) restarts."""
        cfg = self._dp2.utils.load_config(str(_config_path(self.part, self.config)))
        cfg.detector.score_threshold = self.score_threshold
        self._anonymizer = self._tops.config.instantiate(cfg.anonymizer, load_cache=False)
        if self.track:
            self._anonymizer.initialize_tracker(scene.fps or 25.0)

    def apply(self, rgb: np.ndarray, t: int, scene) -> np.ndarray:
        if self._anonymizer is None:
            self.prepare((), scene)
        im = self._dp2.utils.im2torch(rgb, to_float=False, normalize=False)[0]
        out = self._anonymizer(im, amp=self.amp, multi_modal_truncation=self.multi_modal_truncation,
                               truncation_value=self.truncation_value, text_prompt=None,
                               text_prompt_strength=0.5)
        res = np.ascontiguousarray(self._dp2.utils.im2numpy(out)).astype(np.uint8)
        self._last = (t, rgb, res)
        return res

    def regions(self, t: int, scene, shape) -> np.ndarray:
        """DeepPrivacy2 chooses its own regions: the pixels it changed at frame t (after apply)."""
        if self._last is None or self._last[0] != t:
            raise RuntimeError("DeepPrivacy2 regions are known only after apply() on the same frame")
        _, a, b = self._last
        return np.any(a != b, axis=2)
