"""Anonymizers: frames + a clip's Scene in, frames out (docs/architecture.md, "Anonymizer").

``get(method, **options)`` builds one from its key (``METHODS``); every anonymizer has
``apply(rgb, t, scene) -> rgb`` (pixels outside its regions bit-identical) and
``regions(t, scene, shape) -> bool mask``; some have ``prepare(frames, scene)`` (a first pass
over the clip, e.g. the avatar's background). ``run_clip`` streams a clip through one into an
atomic H.264 MP4 (``run_clips``: several in one pass). The methods know nothing of evaluation: ``vidanon.stages.anonymize`` runs
every clip x version of a study and checks for leaked faces.
"""

from __future__ import annotations

import inspect
import logging
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from vidanon.core.errors import VidanonError

log = logging.getLogger(__name__)


class UnknownMethodError(VidanonError):
    """An anonymization method key or option that does not exist."""


def _lazy(module: str, cls_name: str, **fixed):
    def make(**options):
        import importlib

        return getattr(importlib.import_module(f"vidanon.anonymize.{module}"), cls_name)(**fixed, **options)
    make.target = (module, cls_name, fixed)
    return make


METHODS = {
    "original": _lazy("identity", "Original"),
    "face-blur": _lazy("filters", "FaceFilter", effect="blur"),
    "face-pixelate": _lazy("filters", "FaceFilter", effect="pixelate"),
    "face-solid": _lazy("filters", "FaceFilter", effect="solid"),
    "body-blur": _lazy("filters", "BodyFilter", effect="blur"),
    "body-pixelate": _lazy("filters", "BodyFilter", effect="pixelate"),
    "body-solid": _lazy("filters", "BodyFilter", effect="solid"),
    "silhouette": _lazy("filters", "Silhouette", effect="solid"),
    "avatar": _lazy("avatar", "Avatar"),
    "deepprivacy2-face": _lazy("deepprivacy2", "DeepPrivacy2", part="face"),
    "deepprivacy2-body": _lazy("deepprivacy2", "DeepPrivacy2", part="body"),
}
FACE_METHODS = ("face-blur", "face-pixelate", "face-solid")


def _class_of(method: str):
    import importlib

    module, cls_name, fixed = METHODS[method].target
    return getattr(importlib.import_module(f"vidanon.anonymize.{module}"), cls_name), fixed


def accepted_options(method: str) -> list[str]:
    """Option names a method takes (its constructor's keyword arguments)."""
    cls, fixed = _class_of(_check(method))
    return sorted(n for n in _defaults(cls) if n not in fixed)


def _defaults(cls) -> dict[str, Any]:
    """Keyword parameters of a class's constructors (base classes first) and their defaults."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # not object
        if "__init__" in vars(klass):
            for name, p in inspect.signature(klass.__init__).parameters.items():
                if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                    out[name] = p.default
    return out


def resolved_options(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """Every option of a method with its value (defaults filled in): what its output depends on,
    so that a changed default also invalidates the anonymize stage's cache; a class's ``VERSION`` (bumped when
    its drawing changes without a new option) is recorded too."""
    cls, fixed = _class_of(_check(method))
    version = {"_version": cls.VERSION} if hasattr(cls, "VERSION") else {}
    return {**_defaults(cls), **fixed, **options, **version}


def _check(method: str) -> str:
    if method not in METHODS:
        raise UnknownMethodError(f"unknown anonymization method {method!r}; known: {', '.join(METHODS)}")
    return method


def get(method: str, **options: Any):
    """An anonymizer by key (see ``METHODS``) with its options (e.g. ``mask_scale=1.3``)."""
    _check(method)
    bad = sorted(set(options) - set(accepted_options(method)))
    if bad:
        raise UnknownMethodError(f"method {method!r}: unknown option(s) {bad}; "
                                 f"accepted: {', '.join(accepted_options(method))}")
    try:
        return METHODS[method](**options)
    except (TypeError, ValueError) as e:
        raise UnknownMethodError(f"method {method!r}: bad option value: {e}") from None


def method_options(section, spec) -> dict[str, Any]:
    """A MethodSpec's options: the anonymize section's shared settings (mask_scale, dilation,
    feather) where the method takes them, overridden by ``spec.options``."""
    accepted = set(accepted_options(spec.method))
    shared = {k: getattr(section, k) for k in ("mask_scale", "dilation", "feather") if k in accepted}
    return {**shared, **dict(spec.options)}


def for_params(params) -> dict[str, Any]:
    """``{method name: anonymizer}`` of every method of ``params.anonymize`` (their ``.regions(t,
    scene, shape)`` say what each one changes)."""
    sec = params.anonymize
    return {m.name: get(m.method, **method_options(sec, m)) for m in sec.methods}


# --- video in, video out --------------------------------------------------------------------

def run_clip(clip, scene, method, out_path, *, keep_audio: bool = True, overwrite: bool = True,
             frames_dir: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Stream ``clip`` (a data.Clip) through ``method`` (an anonymizer or a key) into an H.264 MP4.

    The file appears at ``out_path`` only when complete (vidanon.io.video.VideoWriter); it holds exactly
    the clip's frames at its fps, plus the source's audio when ``keep_audio`` and the clip is the whole
    file. ``frames_dir``: also write each frame as ``{t:06d}.png`` there. Returns ``frames``,
    ``seconds`` (wall time, prepare pass included), ``fps`` (frames per second of processing),
    ``frames_changed`` and, for methods that cover persons, how each person-frame was covered:
    ``regions_pose`` (the segmentation failed, the pose's limbs stood in), ``regions_box`` (both
    failed: the box) and, for the avatar, ``figures_skipped`` (removed, not drawn: the pose was
    incomplete). A method that changed no frame warns that it found nothing to anonymize.
    """
    return run_clips(clip, scene, [(method, out_path)], keep_audio=keep_audio, overwrite=overwrite,
                     frames_dir=frames_dir, progress=progress)[0]


def run_clips(clip, scene, outputs: list, *, keep_audio: bool = True, overwrite: bool = True,
              frames_dir: str | Path | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """:func:`run_clip` of several methods in one pass over the clip: ``outputs`` is ``[(method,
    out_path)]``; each frame is decoded once and every method's version of it written, so the work
    the methods share on a frame (e.g. the person regions of the scene) is done once. Returns one
    stats dict per output (``seconds``: the method's own work, plus the decoding it would need
    alone). ``frames_dir`` takes a single output only."""
    from vidanon.core.progress import tqdm

    from vidanon.io.video import VideoWriter

    if frames_dir is not None and len(outputs) != 1:
        raise ValueError("frames_dir: one output at a time")
    anons = [get(m) if isinstance(m, str) else m for m, _ in outputs]
    whole = clip.start == 0
    audio = clip.path if keep_audio and whole else None
    if keep_audio and not whole:
        log.warning("%s: clip starts at frame %d; the audio is not copied", clip.id, clip.start)
    seconds = [0.0] * len(anons)
    for i, anon in enumerate(anons):
        if hasattr(anon, "prepare"):
            t0 = time.perf_counter()
            anon.prepare(clip.frames(), scene)
            seconds[i] += time.perf_counter() - t0
    if frames_dir is not None:
        frames_dir = Path(frames_dir)
        frames_dir.mkdir(parents=True, exist_ok=True)
    frames = clip.frames()
    if progress:
        names = ", ".join(getattr(a, "name", str(m)) for a, (m, _) in zip(anons, outputs))
        frames = tqdm(frames, total=clip.n_frames, desc=f"{names} {clip.id}", leave=False)
    changed = [0] * len(anons)
    counts = [getattr(a, "region_counts", None) for a in anons]
    before = [dict(c) if c is not None else {} for c in counts]
    with ExitStack() as stack:
        writers = [stack.enter_context(VideoWriter(out, fps=clip.fps, audio_from=audio, overwrite=overwrite))
                   for _, out in outputs]
        t_read = time.perf_counter()
        for t, rgb in frames:
            decoded = time.perf_counter()
            for i, (anon, w) in enumerate(zip(anons, writers)):
                t0 = time.perf_counter()
                out = anon.apply(rgb, t, scene)
                changed[i] += _differs(out, rgb)
                w.write(out)
                if frames_dir is not None:
                    _write_image(frames_dir / f"{t:06d}.png", out)
                seconds[i] += time.perf_counter() - t0 + (decoded - t_read)  # decoding: each would need it alone
            t_read = time.perf_counter()
    stats = []
    for i, (anon, (method, _), w) in enumerate(zip(anons, outputs, writers)):
        name = getattr(anon, "name", str(method))
        if changed[i] == 0 and name != "original" and w.frames:
            warnings.warn(f"{name} on clip {clip.id!r}: found nothing to anonymize in {w.frames} frames (no "
                          f"{'face' if name.startswith(('face-', 'deepprivacy2-face')) else 'person'} in the scene); "
                          f"the video is written unchanged", stacklevel=2)
        st = {"frames": w.frames, "seconds": seconds[i],
              "fps": w.frames / seconds[i] if seconds[i] > 0 else float("nan"), "frames_changed": changed[i]}
        if counts[i] is not None:
            for key, source in (("regions_pose", "pose"), ("regions_box", "box"), ("figures_skipped", "figures_skipped")):
                st[key] = int(counts[i].get(source, 0) - before[i].get(source, 0))
        stats.append(st)
    return stats


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two frames differ in any pixel (OpenCV's max-norm: a few times faster than numpy's
    array_equal on large frames)."""
    import cv2

    if a.shape != b.shape:
        return True
    return cv2.norm(np.ascontiguousarray(a), np.ascontiguousarray(b), cv2.NORM_INF) > 0


def _write_image(path: Path, rgb) -> None:
    import cv2

    from vidanon.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        ok, buf = cv2.imencode(path.suffix, rgb[:, :, ::-1])
        if not ok:
            raise VidanonError(f"{path}: could not encode the frame")
        tmp.write_bytes(buf.tobytes())
