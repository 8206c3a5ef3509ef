"""DeepPrivacy2 (Hukkelås and Lindseth, WACV 2023; github.com/hukkelas/deep_privacy2) driven through
its own Python API: its anonymizer configs, detectors, detection structures and generators.

Checked against DeepPrivacy2 commit f4d8f09d1eb8f758c89cf1795ae41f20533942d3 (master, December 2023),
with detectron2 + DensePose ff53992b1985b63bd3262b5a36167098e3dada02 (2023-07-06; DP2's setup.py pins
96c752ce, which fails to import with Pillow >= 10: ``Image.LINEAR``), tops (hukkelas/torch_ops)
f37203980a50, face_detection (hukkelas/DSFD-Pytorch-Inference) 382de8f715f9, motpy c77f85d27e37 and
CLIP b46f5ac7587d (needs setuptools < 70 for ``pkg_resources.packaging``), under Python 3.11, torch
2.14.1 / torchvision 0.29.1, numpy 2.4 and Pillow 13 on the CPU. The trained weights could not be
downloaded there, so that run used randomly initialised generator and detector weights: it checked
the code path, the tensor layouts and the cost, not the output's quality.

Configs: ``part='face'`` runs ``configs/anonymizers/face.py`` (DSFD faces, FDF256 StyleGAN),
``part='body'`` ``configs/anonymizers/FB_cse_mask_face.py`` (Mask R-CNN + DensePose-CSE bodies, faces
of persons without a body, FDH generators); ``config`` picks another one of the clone (e.g.
``configs/anonymizers/FB_cse.py``), relative to its root or absolute.

Regions: ``detections='dp2'`` (default, as in the original study): DeepPrivacy2's own detectors find
what it replaces. ``detections='scene'``: vidanon's regions (the Scene's person masks and face boxes)
are handed to DP2 in place of its Mask R-CNN and DSFD outputs, and DP2's own detector code combines
them (with its DensePose-CSE embeddings for bodies) into its detection structures; the anonymized
regions then are those the other methods and the leak check use.

Temporal consistency: one latent per track. DP2 seeds a generator's latent ``z`` (and, with
multi-modal truncation, its ``W`` cluster centre) by an integer per detection; here that integer
comes from the vidanon track a detection overlaps (``tracks='vidanon'``: the Scene's person/face
boxes at that frame, box IoU >= 0.3; a face also by its centre inside a person box), derived from
``seed`` and the track id, so a person keeps its synthetic identity over the clip whatever DP2's own
tracker does; detections that match no vidanon track fall back to DP2's motpy tracker (its
``Anonymizer.initialize_tracker``), as does everything with ``tracks='dp2'``. At truncation 0 without
multi-modal truncation every detection gets the mean latent, so tracking changes nothing: hence the
defaults ``truncation_value=0.5, multi_modal_truncation=True``. Multi-modal truncation needs the
``w_centers`` a trained checkpoint carries; a generator without them is refused at ``prepare``.

What the adapter has to do that DP2's own ``anonymize.py`` gets from running in the clone's root:
import ``dp2.utils`` (``import dp2`` does not), put the clone's root on ``sys.path`` (DP2's
anonymizer imports the top-level ``stylemc`` module, which no install makes importable), make the
anonymizer config's generator config paths (``configs/fdf/stylegan.py`` ...) absolute (DP2 opens
them relative to the working directory), and switch off the detection cache (its detectors create
``outputs/..._cache`` folders in the working directory otherwise). AMP is used only where CUDA is
(DP2 wraps the generator in ``torch.cuda.amp.autocast``, which on the CPU only warns).

It is not on PyPI: the package (``dp2``), ``tops``, ``face_detection``, ``motpy``, ``clip``,
detectron2 + DensePose and the generator weights must be installed by hand; without them every
entry point raises BackendUnavailable naming what is missing.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import logging
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from vidanon.core.errors import BackendUnavailable

log = logging.getLogger(__name__)

DP2_COMMIT = "f4d8f09d1eb8f758c89cf1795ae41f20533942d3"
CONFIGS = {"face": "configs/anonymizers/face.py", "body": "configs/anonymizers/FB_cse_mask_face.py"}
TRACKS = ("vidanon", "dp2")
DETECTIONS = ("dp2", "scene")
MATCH_IOU = 0.3  # a DP2 detection takes the latent of the vidanon track whose box it overlaps this much
_G_KEYS = ("face_G_cfg", "person_G_cfg", "cse_person_G_cfg", "car_G_cfg")  # Anonymizer's generator configs
_MODULES = ("dp2", "tops", "detectron2", "densepose", "face_detection", "motpy", "clip")
INSTALL = (
    "DeepPrivacy2 is not installed. It is not on PyPI: `git clone https://github.com/hukkelas/deep_privacy2` "
    f"(checked at commit {DP2_COMMIT[:7]}) and `pip install -e deep_privacy2`, with its git dependencies "
    "(`tops` from hukkelas/torch_ops, `face_detection` from hukkelas/DSFD-Pytorch-Inference, motpy, "
    "openai/CLIP) and detectron2 + DensePose (projects/DensePose) from github.com/facebookresearch/detectron2 "
    "(commit ff53992b or later with Pillow >= 10); "
    "put the generator weights (Hugging Face Spaces haakohu/deep_privacy2 and haakohu/deep_privacy2_face, "
    "torch_home/hub/checkpoints) in $TORCH_HOME/hub/checkpoints. Set VIDANON_DP2_ROOT to the clone so its "
    "configs are found. Missing here: {missing}")


def _require() -> None:
    """Raise BackendUnavailable naming the DP2 packages that are not importable (without importing them)."""
    missing = []
    for name in _MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError) as e:
            found, name = False, f"{name} ({e})"
        if not found:
            missing.append(name)
    if missing:
        raise BackendUnavailable(INSTALL.format(missing=", ".join(missing)))


def _roots() -> list[Path]:
    """Where a deep_privacy2 clone may be: $VIDANON_DP2_ROOT, then the folder above the ``dp2`` package."""
    roots = [Path(os.environ["VIDANON_DP2_ROOT"])] if os.environ.get("VIDANON_DP2_ROOT") else []
    spec = importlib.util.find_spec("dp2")
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p).resolve().parent for p in spec.submodule_search_locations]  # an editable clone's root
    return roots


def _config_path(part: str, config: str | None) -> tuple[Path, Path]:
    """(anonymizer config, clone root) of ``config`` (or the part's default)."""
    rel = Path(config or CONFIGS[part])
    roots = _roots()
    if rel.is_absolute() and rel.is_file():
        root = next((r for r in roots if rel.is_relative_to(r)), rel.parents[2])
        return rel, root
    for root in roots:
        if (root / rel).is_file() and (root / "configs").is_dir():
            return root / rel, root
    raise BackendUnavailable(f"DeepPrivacy2 config {rel} not found under {[str(r) for r in roots]}; "
                             "set VIDANON_DP2_ROOT to the deep_privacy2 clone")


class _Stdout(io.TextIOBase):
    """DP2 prints progress ('Saving outputs to', 'Calling face detector.') on stdout: to the debug log."""

    def write(self, s: str) -> int:
        if s.strip():
            log.debug("dp2: %s", s.rstrip())
        return len(s)


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(_Stdout()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.cuda\.amp\..* is deprecated", category=FutureWarning)
        yield


def _iou(a, b) -> np.ndarray:
    """IoU of boxes (N, 4) x (M, 4), (x1, y1, x2, y2): the scene's own (``scene.faces.iou``)."""
    from vidanon.scene.faces import iou

    return iou(np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4))


def _assign(iou: np.ndarray, threshold: float) -> list[int]:
    """Greedy one-to-one assignment by descending IoU: column index per row, -1 for none."""
    out = [-1] * iou.shape[0]
    if iou.size == 0:
        return out
    used_r, used_c = set(), set()
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        r, c = np.unravel_index(flat, iou.shape)
        if iou[r, c] < threshold:
            break
        if r in used_r or c in used_c:
            continue
        out[r] = int(c)
        used_r.add(r)
        used_c.add(c)
    return out


def track_seed(seed: int, track_id: int) -> int:
    """The integer DP2 seeds a detection's latent with, for vidanon track ``track_id`` (in [0, 2**32))."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(track_id)]).generate_state(1)[0])


class _SceneRegions:
    """vidanon's regions of one frame in the formats of DP2's sub-detectors: the person masks as its
    ``MaskRCNNDetector`` returns them and the face boxes as its detectors' ``_detect_faces`` do."""

    def __init__(self, torch, device):
        self.torch, self.device = torch, device
        self.t, self.scene = -1, None

    def set(self, t: int, scene) -> None:
        self.t, self.scene = t, scene

    def persons(self, im):
        from vidanon.scene.masks import rle_decode

        torch = self.torch
        H, W = im.shape[-2:]
        masks = []
        if self.scene is not None:
            for r in self.scene.persons_at(self.t).itertuples(index=False):
                rle = self.scene.masks.get((self.t, int(r.track_id)))
                if rle is not None:
                    m = rle_decode(rle, (H, W))
                else:  # no mask computed: the box
                    m = np.zeros((H, W), bool)
                    m[max(int(r.y1), 0):max(int(np.ceil(r.y2)), 0), max(int(r.x1), 0):max(int(np.ceil(r.x2)), 0)] = True
                if m.shape == (H, W) and m.any():
                    masks.append(m)
        seg = torch.from_numpy(np.stack(masks) if masks else np.zeros((0, H, W), bool)).to(self.device)
        n = len(masks)
        return {"scores": torch.ones(n, device=self.device), "segmentation": seg,
                "classes": torch.zeros(n, dtype=torch.long, device=self.device),
                "is_person": torch.ones(n, dtype=torch.bool, device=self.device)}

    def faces(self, im):
        H, W = im.shape[-2:]
        rows = self.scene.faces_at(self.t) if self.scene is not None else None
        boxes = np.zeros((0, 4), np.int64)
        if rows is not None and len(rows):
            b = np.round(rows[["x1", "y1", "x2", "y2"]].to_numpy(float))
            b[:, [0, 2]] = b[:, [0, 2]].clip(0, W)
            b[:, [1, 3]] = b[:, [1, 3]].clip(0, H)
            boxes = b[(b[:, 2] > b[:, 0] + 1) & (b[:, 3] > b[:, 1] + 1)].astype(np.int64)
        return self.torch.from_numpy(boxes)


class DeepPrivacy2:
    """Adapter: ``part`` 'face' (face.py) or 'body' (FB_cse_mask_face.py), or another anonymizer ``config``.

    Parameters
    ----------
    part : 'face' or 'body'
    config : an anonymizer config of the clone (relative to its root, or absolute); default: the part's
    score_threshold : DP2's detection threshold (all its detectors)
    truncation_value : in [0, 1]; 0 is the mean latent (or the track's cluster centre)
    multi_modal_truncation : truncate towards one of the generator's W cluster centres (chosen per track)
    amp : mixed precision for the generators where CUDA is available
    track : one latent per track (else a fresh latent for every detection in every frame)
    tracks : 'vidanon' (the Scene's tracks, DP2's motpy for the rest) or 'dp2' (motpy only)
    detections : 'dp2' (its own detectors) or 'scene' (vidanon's person masks and faces handed to DP2)
    seed : seeds the latents (of vidanon tracks, of DP2's tracks and of untracked detections)
    """

    VERSION = 2  # 2: run against DP2's real code (module docstring), latents per vidanon track

    def __init__(self, *, part: str = "face", config: str | None = None, score_threshold: float = 0.3,
                 truncation_value: float = 0.5, multi_modal_truncation: bool = True, amp: bool = True,
                 track: bool = True, tracks: str = "vidanon", detections: str = "dp2", seed: int = 0):
        if part not in CONFIGS:
            raise ValueError(f"part must be one of {sorted(CONFIGS)}, got {part!r}")
        if tracks not in TRACKS:
            raise ValueError(f"tracks must be one of {TRACKS}, got {tracks!r}")
        if detections not in DETECTIONS:
            raise ValueError(f"detections must be one of {DETECTIONS}, got {detections!r}")
        if not 0.0 <= float(truncation_value) <= 1.0:
            raise ValueError(f"truncation_value must be in [0, 1], got {truncation_value!r}")
        if not 0.0 <= float(score_threshold) <= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold!r}")
        self.part, self.config = part, config
        self.score_threshold, self.truncation_value = float(score_threshold), float(truncation_value)
        self.multi_modal_truncation, self.amp, self.track = bool(multi_modal_truncation), bool(amp), bool(track)
        self.tracks, self.detections, self.seed = tracks, detections, int(seed)
        self.name = f"deepprivacy2-{part}"
        _require()
        self._anonymizer = None
        self._source: _SceneRegions | None = None
        self._rng = np.random.RandomState(self.seed)
        self._dp2_z: dict = {}
        self._regions: dict[int, dict] = {}
        self._scene_note = False
        self.timings = {"frames": 0, "detections": 0, "detect_s": 0.0, "generate_s": 0.0}

    # --- building ----------------------------------------------------------------------------

    def _build(self):
        """DP2's Anonymizer from the config, as its anonymize.py builds it (plus what the module docstring says)."""
        path, root = _config_path(self.part, self.config)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))  # dp2.anonymizer imports the clone's top-level stylemc.py
        try:
            import torch

            self._torch = torch
            self._tops = importlib.import_module("tops")
            self._F = importlib.import_module("torchvision.transforms.functional")
            utils = importlib.import_module("dp2.utils")  # not imported by `import dp2`
            importlib.import_module("dp2.anonymizer")
            self._motpy = importlib.import_module("motpy")
        except Exception as e:  # an incomplete or incompatible install
            raise BackendUnavailable(INSTALL.format(missing=f"a working import of DeepPrivacy2 ({type(e).__name__}: {e})")) from e
        with _quiet():
            cfg = utils.load_config(str(path))
            cfg.detector.score_threshold = self.score_threshold
            if "cache_directory" in cfg.detector:
                cfg.detector.cache_directory = None  # else its detectors make outputs/..._cache here
            for key in _G_KEYS:  # DP2 opens these relative to the working directory
                rel = cfg.anonymizer.get(key)
                if rel is not None and not Path(str(rel)).is_absolute():
                    cfg.anonymizer[key] = str(root / str(rel))
            self._check_weights(utils, cfg, root)
            try:
                anonymizer = self._tops.config.instantiate(cfg.anonymizer, load_cache=False)
            except OSError as e:  # a weight file could not be downloaded (dead URL, no network)
                raise BackendUnavailable(
                    f"DeepPrivacy2 ({path.name}) could not load its weights ({type(e).__name__}: {e}): the generator "
                    "checkpoints (Hugging Face Spaces haakohu/deep_privacy2 and haakohu/deep_privacy2_face) go in "
                    "$TORCH_HOME/hub/checkpoints, with DSFD's; detectron2 downloads Mask R-CNN's and DensePose's "
                    "(dl.fbaipublicfiles.com) into its own cache on first use") from e
        if self.multi_modal_truncation:
            lacking = [cls.__name__ for cls, G in anonymizer.generators.items()
                       if G is not None and hasattr(G, "style_net") and not hasattr(G.style_net, "w_centers")]
            if lacking:
                raise BackendUnavailable(
                    f"DeepPrivacy2 ({path.name}): the generator(s) for {', '.join(lacking)} have no W cluster "
                    "centres (w_centers, stored in the trained checkpoints), which multi_modal_truncation needs: "
                    "use multi_modal_truncation: false, or compute them with DP2's tools/compute_cluster_means.py")
        if self.detections == "scene":
            self._source = _SceneRegions(self._torch, self._tops.get_device())
            det = anonymizer.detector
            if hasattr(det, "mask_rcnn"):
                det.mask_rcnn = self._source.persons  # DP2 combines these with its CSE (DensePose) detections
            if hasattr(det, "_detect_faces"):
                det._detect_faces = self._source.faces
        log.info("DeepPrivacy2 %s built from %s (generators: %s)", self.name, path,
                 ", ".join(c.__name__ for c, g in anonymizer.generators.items() if g is not None))
        return anonymizer

    def _check_weights(self, utils, cfg, root: Path) -> None:
        """Every generator checkpoint in place, with the MD5 its config gives, before DP2 builds anything
        (vidanon.io.weights.dp2_checkpoint): a missing file is BackendUnavailable, a wrong one WeightsError."""
        from vidanon.io.weights import dp2_checkpoint

        for key in _G_KEYS:
            path = cfg.anonymizer.get(key)
            if path is None:
                continue
            common = utils.load_config(str(path)).get("common", {})
            if common.get("model_url"):
                rel = os.path.relpath(str(path), root) if Path(str(path)).is_relative_to(root) else str(path)
                dp2_checkpoint(str(common["model_url"]), common.get("model_md5sum"), rel)

    def prepare(self, frames, scene) -> None:
        """Build DP2's anonymizer (once per instance) and restart the clip's tracks: DP2's motpy tracker,
        the latents of its tracks, the seed."""
        if self._anonymizer is None:
            self._anonymizer = self._build()
        self._rng = np.random.RandomState(self.seed)
        self._dp2_z = {}
        self._regions = {}
        if self.track:
            self._anonymizer.initialize_tracker(float(getattr(scene, "fps", None) or 25.0))

    # --- one frame -----------------------------------------------------------------------------

    @property
    def _synthesis(self) -> dict:
        return dict(multi_modal_truncation=self.multi_modal_truncation, truncation_value=self.truncation_value,
                    amp=self.amp and self._torch.cuda.is_available(), text_prompt=None, text_prompt_strength=0.5)

    def detect(self, im, t: int, scene) -> list:
        """DP2's detections of frame ``t`` (``im``: uint8 (3, H, W) on DP2's device), pre-processed."""
        if self._source is not None:
            self._source.set(t, scene)
        with _quiet():
            dets = self._anonymizer.detector(im)
            for d in dets:
                d.pre_process()
        return dets

    def _dp2_track_ids(self, dets) -> list:
        """Step DP2's motpy tracker as its Anonymizer.forward does (every detection's ``boxes``, every frame)."""
        boxes = [np.asarray(d.boxes, dtype=float).reshape(-1, 4) for d in dets]
        boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        tracker = self._anonymizer.tracker
        tracker.step([self._motpy.Detection(box=b) for b in boxes])
        return list(tracker.detections_matched_ids)

    def _region_boxes(self, d) -> np.ndarray:
        """(N, 4) image boxes of what a detection replaces (for matching to vidanon's tracks)."""
        n = len(d)
        if n == 0:
            return np.zeros((0, 4))
        if hasattr(d, "mask") and getattr(d.mask, "ndim", 0) == 4:  # Person/CSEPersonDetection: crop masks
            from dp2.detection.structures import get_dilated_boxes

            return get_dilated_boxes(d.boxes, d.mask.logical_not()).cpu().numpy().astype(float)
        return np.asarray(d.boxes, dtype=float).reshape(-1, 4)

    def _vidanon_track_ids(self, dets, t: int, scene) -> list:
        """The vidanon track id (or None) of every detection, in DP2's order."""
        out = []
        persons = scene.persons_at(t) if scene is not None else None
        faces = scene.faces_at(t) if scene is not None else None
        for d in dets:
            boxes = self._region_boxes(d)
            ids: list = [None] * len(boxes)
            kind = type(d).__name__
            if len(boxes) and persons is not None:
                if kind == "FaceDetection":
                    f = faces[faces["track_id"] >= 0]
                    got = _assign(_iou(boxes, f[["x1", "y1", "x2", "y2"]].to_numpy(float)), MATCH_IOU)
                    ids = [int(f["track_id"].iloc[j]) if j >= 0 else None for j in got]
                    pb = persons[["x1", "y1", "x2", "y2"]].to_numpy(float)
                    for i, b in enumerate(boxes):  # a face without a face row: the person box around it
                        if ids[i] is None and len(pb):
                            cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                            inside = (pb[:, 0] <= cx) & (cx <= pb[:, 2]) & (pb[:, 1] <= cy) & (cy <= pb[:, 3])
                            if inside.any():
                                area = (pb[:, 2] - pb[:, 0]) * (pb[:, 3] - pb[:, 1])
                                ids[i] = int(persons["track_id"].iloc[int(np.argmin(np.where(inside, area, np.inf)))])
                elif kind in ("PersonDetection", "CSEPersonDetection"):
                    got = _assign(_iou(boxes, persons[["x1", "y1", "x2", "y2"]].to_numpy(float)), MATCH_IOU)
                    ids = [int(persons["track_id"].iloc[j]) if j >= 0 else None for j in got]
            out += [i if i is not None and i >= 0 else None for i in ids]
        return out

    def latents(self, dets, t: int, scene) -> list:
        """The integer DP2 seeds each detection's latent with (``z_idx``), one array per detection object."""
        sizes = [len(d) for d in dets]
        n = sum(sizes)
        if not self.track:
            flat = list(self._rng.randint(0, 2**32 - 1, size=n, dtype=np.int64))
        else:
            dp2_ids = self._dp2_track_ids(dets)
            vid_ids = self._vidanon_track_ids(dets, t, scene) if self.tracks == "vidanon" else [None] * n
            flat = []
            for vid, tid in zip(vid_ids, dp2_ids):
                if vid is not None:
                    flat.append(track_seed(self.seed, vid))
                else:
                    if tid not in self._dp2_z:
                        self._dp2_z[tid] = int(self._rng.randint(0, 2**32 - 1, dtype=np.int64))
                    flat.append(self._dp2_z[tid])
        out, i = [], 0
        for s in sizes:
            out.append(np.array(flat[i:i + s], dtype=np.int64))
            i += s
        return out

    def _region_mask(self, dets, im) -> np.ndarray:
        """Bool (H, W): the pixels DP2's Anonymizer.anonymize_detections pastes for these detections
        (the crop masks of ``get_crop``, resized into the expanded boxes and cut at the frame's edge as it does)."""
        F = self._F
        H, W = im.shape[-2:]
        out = np.zeros((H, W), bool)
        for d in dets:
            for idx in range(len(d)):
                batch = d.get_crop(idx, im)
                x0, y0, x1, y1 = [int(v) for v in batch["boxes"][0]]
                if x1 <= x0 or y1 <= y0:
                    continue
                m = F.resize(batch["mask"][0], (y1 - y0, x1 - x0), interpolation=F.InterpolationMode.NEAREST).squeeze(0)
                pad = [max(-x0, 0), max(-y0, 0), max(x1 - W, 0), max(y1 - H, 0)]
                m = m[..., pad[1]:m.shape[-2] - pad[3], pad[0]:m.shape[-1] - pad[2]] <= 0.5
                out[max(y0, 0):min(y1, H), max(x0, 0):min(x1, W)] |= m.cpu().numpy()
        return out

    def apply(self, rgb: np.ndarray, t: int, scene) -> np.ndarray:
        """Anonymize frame ``t`` (RGB uint8 (H, W, 3)) through DP2: its detections, one latent per track,
        its ``anonymize_detections`` per detection object in its order (later ones paste over earlier)."""
        if self._anonymizer is None:
            self.prepare((), scene)
        from vidanon.scene.masks import rle_encode

        torch = self._torch
        im = self._tops.to_cuda(torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))))
        t0 = time.perf_counter()
        dets = self.detect(im, t, scene)
        t1 = time.perf_counter()
        zs = self.latents(dets, t, scene)
        region = self._region_mask(dets, im)
        with _quiet():
            for d, z in zip(dets, zs):
                im = self._anonymizer.anonymize_detections(im, d, z_idx=z, **self._synthesis)
        out = np.ascontiguousarray(im.cpu().numpy().transpose(1, 2, 0)).astype(np.uint8, copy=False)
        self.timings["frames"] += 1
        self.timings["detections"] += sum(len(d) for d in dets)
        self.timings["detect_s"] += t1 - t0
        self.timings["generate_s"] += time.perf_counter() - t1
        self._regions[t] = rle_encode(region | np.any(out != rgb, axis=2))
        return out

    def regions(self, t: int, scene, shape) -> np.ndarray:
        """DeepPrivacy2 chooses its own regions: after ``apply`` on frame t, the pixels it pasted at t;
        otherwise (another instance, e.g. a later stage) an estimate from the Scene (the face boxes, and
        for bodies the person masks grown by 4 px), which is what it pastes with ``detections='scene'``."""
        from vidanon.scene.masks import rle_decode

        if t in self._regions:
            return rle_decode(self._regions[t])
        from vidanon.anonymize.regions import face_targets, person_targets

        if not self._scene_note:
            log.info("%s: regions of frames not anonymized by this instance are estimated from the scene", self.name)
            self._scene_note = True
        out = np.zeros(shape[:2], bool)
        targets = face_targets(t, scene, shape, mask_scale=1.0, ellipse=False)
        if self.part != "face" or "FB_" in str(self.config or ""):
            targets += person_targets(t, scene, shape, dilation=4, limbs=False)  # DP2's own masks
        for tg in targets:
            out[tg.y0:tg.y1, tg.x0:tg.x1] |= tg.mask
        return out
