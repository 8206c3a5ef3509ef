"""The schema of a parameter file (``params/*.yaml``), its loading and validation.

A params file is validated completely before any work starts: an unknown key, a wrong type or a
missing file is one :class:`~vidanon.core.errors.ParamsError` that names the file and the key
(the files are checked by :func:`vidanon.io.data.load_params`).
Each stage of the study has its own section; every section has defaults, so a params file only
says what differs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vidanon.core.errors import ParamsError


class Section(BaseModel):
    """Base of every section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ClipSpec(Section):
    """One input clip: a sample of the embedded registry, or a user's file."""

    id: str = Field(description="Short name used in tables and file names.")
    sample: str | None = Field(None, description="Key in vidanon.io.data's sample registry.")
    path: Path | None = Field(None, description="A user's video (relative to VIDANON_DATA_DIR or absolute).")
    start: int = Field(0, ge=0, description="First frame used.")
    max_frames: int | None = Field(None, ge=1, description="Use at most this many frames.")

    @model_validator(mode="after")
    def _one_source(self) -> "ClipSpec":
        if (self.sample is None) == (self.path is None):
            raise ValueError("give exactly one of 'sample' (a registry key) or 'path' (a video file)")
        return self


class DetectorSpec(Section):
    backend: str
    weights: str | None = Field(None, description="Weights name (registry) or a path.")
    sha256: str | None = Field(None, description="SHA-256 of weights the registry does not pin (checked before "
                                                "they are loaded; pickled .pt files need one).")
    threshold: float = Field(0.35, ge=0, le=1)
    nms_iou: float = Field(0.45, ge=0, le=1)
    input_size: int | Literal["auto"] = Field(
        "auto", description="Detector input: 'auto' = the frame's aspect at half its long side, 320..1280 px "
                            "(a working size sized to the footage); an int = a square input of that side.")


class DetectSection(Section):
    person: DetectorSpec = DetectorSpec(backend="yolov5-onnx", weights="yolov5n.pt", threshold=0.35)
    face: DetectorSpec = DetectorSpec(backend="centerface", threshold=0.2)
    # The evaluation stages need a face detector of another family than the anonymizer's.
    face_eval: DetectorSpec = DetectorSpec(backend="mediapipe-face", threshold=0.5)
    faces: bool = Field(True, description="Faces (the anonymizer's face detector, detect.face).")
    masks: bool = Field(True, description="Person masks (MediaPipe selfie segmentation) per person box.")
    keypoints: bool = Field(True, description="Body keypoints (MediaPipe Pose) per person box.")
    max_side: int | None = Field(
        1280, ge=32, description="Pixels on the long side of the frames the scene analysis sees (persons, tracks, "
                                 "faces, masks, pose): larger footage is scaled down as it is decoded, boxes and "
                                 "keypoints come back in the frame's pixels and masks stay at the working size "
                                 "(scaled up only where pixels are written), so 1080p and 4K cost about what 720p "
                                 "does. None: the full resolution.")
    min_person_height: int = Field(24, ge=1, description="Pixels of the frame; smaller person boxes are dropped.")
    small_faces_below: int | None = Field(
        None, ge=1, description="Faces of persons shorter than this (pixels, e.g. 120) are also searched on upscaled "
                                "tiles of their heads (vidanon.scene.faces.small_faces), on the face detector's "
                                "frames; None (default): the whole frame only (on the sample clips the tiles found "
                                "no face CenterFace missed: benchmarks/bench_small_faces.py).")
    face_every: int = Field(
        2, ge=1, description="Faces: the detector on every n-th frame; the frames between two keyframes that "
                             "see the same faces get them interpolated, the others the detector too (1: every frame).")


class TrackSection(Section):
    max_gap: int = Field(10, ge=0, description="Frames a missed track is carried over / interpolated.")
    track_thresh: float = Field(0.25, ge=0, le=1)
    match_thresh: float = Field(0.8, ge=0, le=1)
    track_buffer: int = Field(30, ge=1)


class MethodSpec(Section):
    name: str = Field(description="Label used in tables and figures, e.g. 'face-blur'.")
    method: str = Field(description="Anonymizer key, e.g. 'face-blur', 'body-solid', 'avatar', 'deepprivacy2'.")
    options: dict[str, Any] = Field(default_factory=dict)


class AnonymizeSection(Section):
    methods: list[MethodSpec] = Field(
        default_factory=lambda: [MethodSpec(name="face-blur", method="face-blur")]
    )
    mask_scale: float = Field(1.3, gt=0, description="Face region scale, as deface's --mask-scale.")
    dilation: int = Field(4, ge=0, description="Pixels added around body masks.")
    feather: int = Field(3, ge=0, description="Pixels of soft edge on region borders.")
    keep_audio: bool = True
    side_by_side_seconds: float = Field(4.0, gt=0, description="Length of the embedded preview clips.")


class CropsSection(Section):
    mode: Literal["aligned", "independent", "both"] = "both"
    stride: int = Field(2, ge=1, description="Use every n-th frame.")
    min_height: int = Field(48, ge=1, description="Pixels; smaller boxes give no crop.")
    pad: float = Field(0.05, ge=0, description="Fraction of the box added on each side.")
    size: tuple[int, int] = Field((256, 128), description="Crop (height, width), Market-1501's shape.")
    segment_seconds: float = Field(2.0, gt=0, description="Length of a time segment = one camid within a clip.")
    max_per_track: int = Field(60, ge=1, description="Evenly spaced crops kept per track and clip.")
    leak_modes: list[Literal["person-only", "context"]] = Field(
        default_factory=list, description="Also aligned crops with only the person ('person-only': the rest grey) "
                                          "or only the surroundings ('context': the person grey), for 03's "
                                          "'what leaks' table; these modes need detect.masks.")


class ReidSection(Section):
    embedders: list[str] = Field(default_factory=lambda: ["osnet_x0_25_msmt17", "hsv_histogram"])
    protocols: list[Literal["cross-clip", "cross-segment"]] = Field(
        default_factory=lambda: ["cross-clip", "cross-segment"]
    )
    reverse: bool = Field(False, description="Also anonymized gallery vs original queries.")
    adaptive: bool = Field(True, description="Also an attacker that adapts to each method.")
    finetuned: bool = Field(False, description="Also the fine-tuned attacker (Hanisch et al.): an OSNet embedder (x0.25 first) "
                                               "trained further on each method's aligned anonymized crops of other "
                                               "identities (leave-identities-out folds); minutes per method on a CPU.")
    finetune_epochs: int = Field(4, ge=1, description="Fine-tuned attacker: passes over the training crops.")
    finetune_folds: int = Field(2, ge=2, description="Fine-tuned attacker: leave-identities-out folds.")
    finetune_seeds: int = Field(1, ge=1, description="Fine-tuned attacker: training seeds (each its own folds and "
                                                     "model; the attack is their ensemble, the mean of their "
                                                     "distances, and its note gives each seed's own Rank-1). "
                                                     "Training noise moves one seed's Rank-1 by up to ~12 points; "
                                                     "each seed costs the training time again.")
    bootstrap: int = Field(1000, ge=0, description="Bootstrap resamples for the CIs (0 = none).")
    faceid: bool = Field(True, description="dlib face identification leakage.")
    faceid_max_per_track: int = Field(10, ge=1, description="Face identification: at most this many evenly "
                                                           "spaced faces per track and clip.")
    seed: int = 0


class DriftSection(Section):
    embedder: str = "osnet_x0_25_msmt17"
    switch_threshold: float = Field(0.3, gt=0, description="Cosine-distance jump counted as an identity switch.")
    trajectory_projection: Literal["pca", "tsne"] = "pca"
    face_embedder: str | None = Field(
        "dlib_face_resnet", description="Face embedding for drift where a face is visible (None: body only).")
    face_frames_per_track: int = Field(
        10, ge=1, description="Face embeddings: at most this many evenly spaced faces per track, at the crops' "
                              "sampled frames (equal to reid.faceid_max_per_track: the faces 03 described, not "
                              "described again).")
    max_pairs: int | None = Field(
        150, ge=1, description="Warping error: at most this many evenly spaced frame pairs (t, t+1) per clip.")


class QualitySection(Section):
    perceptual: Literal["auto", "lpips-alex", "mobilenet-feature", "none"] = Field(
        "auto", description="'auto': LPIPS(alex) when its backbone is available, else the named proxy."
    )
    lpips_backbone: str | None = Field(
        None, description="Path of torchvision's alexnet-owt-7be5be79.pth for LPIPS (else weights dir / torch hub cache).")
    frame_stride: int = Field(1, ge=1)
    max_frames: int | None = Field(
        30, ge=1, description="At most this many evenly spaced frames per clip (None: every frame_stride-th).")
    perceptual_max_side: int | None = Field(
        320, ge=32, description="Whole-frame perceptual distance on frames downscaled to this long side (None: native).")
    max_side: int | None = Field(
        1280, ge=64, description="Working size: PSNR, SSIM, face re-detection and the warping error's flow on frames "
                                 "whose long side is longer are computed on copies scaled down to it (area "
                                 "interpolation; None: native size). Footage of 720p and below is compared as it is.")


class ActionSection(Section):
    enabled: bool = False
    config: str | None = Field(None, description="MMAction2 config inside the wheel, e.g. 'recognition/tsn/...py'.")
    checkpoint: str | None = Field(None, description="Weights name, path or URL (hash-checked).")
    checkpoint_sha256: str | None = None
    labels: str | None = Field(None, description="Label-map file of the checkpoint's classes (name or path).")
    view: Literal["val", "test"] = Field(
        "val", description="'val': the config's single-view pipeline (CPU-friendly); 'test': its multi-view one.")
    top_k: int = Field(5, ge=1, description="Top-k reported per clip.")


class UtilitySection(Section):
    pck_thresholds: list[float] = Field(default_factory=lambda: [0.05, 0.1],
                                        description="PCK thresholds, as fractions of the person box size.")
    frame_stride: int = Field(
        2, ge=1, description="Evaluate every n-th frame (motion is measured per step). 2: half the pose runs of "
                             "every frame; the mean OKS's CI, a bootstrap over person tracks, hardly changes.")
    max_frames: int | None = Field(
        150, ge=2, description="At most this many evenly spaced frames per clip: the stride of a longer clip is "
                               "raised to ceil(frames / max_frames) (None: every frame_stride-th frame).")
    iou_threshold: float = Field(0.5, gt=0, le=1, description="Detection matching IoU (original vs anonymized).")
    face_methods: list[str] = Field(
        default_factory=lambda: ["deepprivacy2-face", "deepprivacy2-body", "deepprivacy2"],
        description="Anonymizer keys meant to keep faces detectable (face detection preservation is "
                    "reported for these and 'original' only).")
    bootstrap: int = Field(1000, ge=0, description="Bootstrap resamples (over person tracks) for the CIs.")
    action: ActionSection = ActionSection()


class ExecutorSection(Section):
    kind: Literal["local", "ray"] = Field(
        "local", description="'local': worker processes on this machine; 'ray': tasks on a Ray cluster.")
    workers: int | None = Field(None, ge=1, description="Parallel per-clip jobs (None: one per core; 1: serial).")
    address: str | None = Field(None, description="Ray: the cluster's address (else $RAY_ADDRESS, else a local Ray).")
    gpus_per_task: float = Field(1.0, ge=0, description="Ray: GPUs asked for per task when device is cuda.")


class Params(Section):
    """A whole study: which clips, which methods, how each stage is measured."""

    name: str = Field(description="Names the output folders figures/<name>/ and work/<name>/.")
    description: str = ""
    seed: int = 0
    clips: list[ClipSpec] = Field(min_length=1)
    ground_truth: Path | None = Field(
        None, description="Identity/label file; default: the sample's own (vidanon/samples/ground_truth.yaml)."
    )
    device: Literal["cpu", "cuda", "auto"] = "auto"
    detect: DetectSection = DetectSection()
    track: TrackSection = TrackSection()
    anonymize: AnonymizeSection = AnonymizeSection()
    crops: CropsSection = CropsSection()
    reid: ReidSection = ReidSection()
    drift: DriftSection = DriftSection()
    quality: QualitySection = QualitySection()
    utility: UtilitySection = UtilitySection()
    executor: ExecutorSection = Field(
        default_factory=ExecutorSection, description="Where per-clip work runs; never changes a result.")

    @model_validator(mode="after")
    def _unique_names(self) -> "Params":
        for what, names in (("clips", [c.id for c in self.clips]),
                            ("anonymize.methods", [m.name for m in self.anonymize.methods])):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{what}: duplicate names {dup}")
        if "original" in [m.name for m in self.anonymize.methods]:
            raise ValueError("anonymize.methods: 'original' is reserved for the unmodified video")
        return self

    # --- derived locations -------------------------------------------------------------
    source: Path | None = Field(None, exclude=True, description="The file these params came from.")

    def work_dir(self, root: Path | str = ".") -> Path:
        return Path(root) / "work" / self.name

    def figures_dir(self, root: Path | str = ".") -> Path:
        return Path(root) / "figures" / self.name

    def section_hash(self, *sections: str) -> str:
        """A short stable hash of some sections (all when none given), for cache keys."""
        data = self.model_dump(mode="json", exclude={"source", "description", "executor"})
        if sections:
            data = {s: data[s] for s in sections}
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid parameters"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = e["msg"]
        got = e.get("input")
        shown = "" if e["type"] in ("missing",) or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  - {key}: {msg}{shown}")
    return "\n".join(lines)


def load(path: str | Path) -> Params:
    """Read and validate a params file; raise ParamsError naming the file and the key.

    This checks the schema; :func:`vidanon.io.data.load_params` also checks that the clips it names
    exist (what the runner and the commands use before any work starts)."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such params file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of keys at the top level, got {type(raw).__name__}")
    raw.setdefault("name", path.stem)
    try:
        params = Params.model_validate(raw)
    except ValidationError as e:
        raise ParamsError(_format_errors(path, e)) from None
    params.source = path
    return params


def default(key: str) -> Any:
    """The schema's default of a dotted params key, e.g. ``default("crops.max_per_track")`` -> 60:
    the one source of defaults for the command line's options."""
    name, *rest = key.split(".")
    if name not in Params.model_fields:
        raise KeyError(f"{key}: no such params key")
    value = Params.model_fields[name].get_default(call_default_factory=True)
    for part in rest:
        value = getattr(value, part)
    return value
