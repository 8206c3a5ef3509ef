"""Stage 02_crop: person crops as a re-identification data set (Market-1501 names) and their manifest.

For every clip, the "original" (the clip's source frames) and each anonymized version
(``work/<run>/anonymized/<method>/<clip>.mp4``, frames t = 0..n-1 of the clip) give crops in two modes:

- ``aligned``: the boxes of the ORIGINAL frame's tracks (scene persons, detected or interpolated)
  are cut from the original and from the anonymized frame alike, so the pairing is exact;
- ``independent``: persons are detected again on each anonymized frame (the params' person
  detector) and matched one-to-one (IoU >= 0.5) to the original's boxes of that frame: a matched
  detection is cut with its own box and keeps the original track's identity; the fraction found (on
  the sampled frames below) is the detection recall. For the "original" itself the re-detection
  equals the scene's detections, so it is not run again.

Two more modes, ``crops.leak_modes``, tell apart what an attacker uses (03_reid's "what leaks"): the
aligned box with only the person (``person-only``: everything outside the scene's mask of that
person grey) or with only the surroundings (``context``: the mask, grown by ``CONTEXT_GROW`` of the
box height, grey; its outline stays). Original and anonymized crops are cut alike, with the mask of
the ORIGINAL frame's person; a (frame, track) without a mask gives no crop in these modes.

All modes use the same sampled (frame, track) pairs: every ``crops.stride``-th frame, boxes at least
``crops.min_height`` pixels high, at most ``crops.max_per_track`` evenly spaced crops per track.

Names follow Market-1501, ``{pid:04d}_c{cam}s{seq}_{frame:06d}_{k:02d}.jpg``: ``cam`` = index of the
clip in ``params.clips`` + 1, ``seq`` = time segment of ``crops.segment_seconds`` + 1, ``frame`` = the
clip frame, ``k`` = index among crops of the same pid, cam, seq and frame. The manifest's ``camid`` is
``cam * 1000 + seq`` (one value per clip and segment). Persons not in the ground truth (pid -1) are
kept with Market-1501's junk label ``-1`` in the name: evaluation across clips leaves them out; within
a clip their ``track_id`` still tells them apart.

The crops of one clip x version are cut again only when what they depend on changes (the version's
video content, the scene key, the crops section, the clip's number and, for independent mode, the
person detector): :mod:`vidanon.io.cache`.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from vidanon.core.versions import (ORIGINAL, anonymized_path, encode_camid, evenly_spaced, segment_of,
                                   version_names)
from vidanon.io.crops import MANIFEST_COLUMNS, cut_crop, empty_manifest, market_name, write_crop
from vidanon.scene.masks import rle_decode
from vidanon.stages import clip_jobs

RECALL_COLUMNS = ["clip", "method", "n_original", "n_detected", "n_matched", "recall", "mean_iou"]
LEAK_MODES = ("person-only", "context")
GREY = 128  # what a leak mode puts where it hides pixels
CONTEXT_GROW = 0.03  # context mode: the person's mask grown by this fraction of the box height


def leak_view(rgb: np.ndarray, mask: np.ndarray, mode: str, box_height: float) -> np.ndarray:
    """A copy of the frame with the part a leak mode hides set to :data:`GREY`.

    ``mask``: the person's (H, W) bool mask; ``mode``: ``"person-only"`` (hide what is outside it) or
    ``"context"`` (hide it, grown by :data:`CONTEXT_GROW` x ``box_height`` pixels so that its edge
    pixels do not stay)."""
    import cv2

    mask = _fit(mask, rgb.shape)
    out = rgb.copy()
    if mode == "person-only":
        out[~mask] = GREY
    elif mode == "context":
        r = max(1, int(round(CONTEXT_GROW * box_height)))
        grown = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        out[grown.astype(bool)] = GREY
    else:
        raise ValueError(f"unknown leak mode {mode!r} (expected one of {LEAK_MODES})")
    return out


def _fit(mask: np.ndarray, shape) -> np.ndarray:
    """A frame's mask at the size of a video frame (an anonymized video is padded to even sides by
    the H.264 writer)."""
    if mask.shape == tuple(shape[:2]):
        return mask
    full = np.zeros(shape[:2], bool)
    h, w = min(mask.shape[0], full.shape[0]), min(mask.shape[1], full.shape[1])
    full[:h, :w] = mask[:h, :w]
    return full


def leak_crop(rgb: np.ndarray, mask: np.ndarray, mode: str, box, *, pad: float, size: tuple[int, int]) -> np.ndarray:
    """``cut_crop(leak_view(rgb, mask, mode, box height), box, pad, size)``, with the view made on the
    crop's window only (plus the context mode's growth), not on the whole frame: the same pixels."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    h, w = rgb.shape[:2]
    r = max(1, int(round(CONTEXT_GROW * (y2 - y1)))) + 1  # what the dilation reads beyond the window
    px, py = (x2 - x1) * pad, (y2 - y1) * pad
    wx0, wy0 = max(0, int(np.floor(x1 - px)) - r), max(0, int(np.floor(y1 - py)) - r)
    wx1, wy1 = min(w, int(np.ceil(x2 + px)) + r), min(h, int(np.ceil(y2 + py)) + r)
    if wx1 <= wx0 or wy1 <= wy0:  # no pixel of the box in the frame: cut_crop says so
        return cut_crop(rgb, box, pad, size)
    view = leak_view(rgb[wy0:wy1, wx0:wx1], _fit(mask, rgb.shape)[wy0:wy1, wx0:wx1], mode, y2 - y1)
    return cut_crop(view, np.array([x1 - wx0, y1 - wy0, x2 - wx0, y2 - wy0]), pad, size)


def select_boxes(persons: pd.DataFrame, stride: int, min_height: int, max_per_track: int) -> pd.DataFrame:
    """The (frame, track) boxes to crop: detected or interpolated (never carried), tracked, on every
    ``stride``-th clip frame, at least ``min_height`` px high and wider than 0 px, and at most
    ``max_per_track`` per track, evenly spaced in time."""
    p = persons[persons["source"].isin(["detected", "interpolated"]) & (persons["track_id"] >= 0)]
    p = p[(p["frame"] % stride == 0) & ((p["y2"] - p["y1"]) >= min_height) & ((p["x2"] - p["x1"]) > 0)]
    p = p.sort_values(["track_id", "frame"]).drop_duplicates(["frame", "track_id"])
    keep = [g.iloc[evenly_spaced(len(g), max_per_track)] for _, g in p.groupby("track_id")]
    return pd.concat(keep).sort_values(["frame", "track_id"]) if keep else p.iloc[0:0]


def crop_clip(clip, scene, *, clip_index: int, method: str, video_path: Path | None, crops, out_dir: Path,
              detector=None, modes=("aligned", "independent")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crops of one clip in one version (``method``; ``"original"`` reads the clip itself).

    ``crops`` is ``params.crops``; ``detector`` (for independent mode on anonymized videos) a person
    detector; files go to ``out_dir/<method>/<mode>/<clip>/``. Returns (manifest rows, recall row)
    with ``path`` relative to ``out_dir``.
    """
    from vidanon.metrics.detection import match_boxes

    sel = select_boxes(scene.persons, crops.stride, crops.min_height, crops.max_per_track)
    ref = scene.persons[(scene.persons["source"] == "detected") & (scene.persons["track_id"] >= 0)]
    wanted = {t: g for t, g in sel.groupby("frame")}
    refs = {t: g for t, g in ref[ref["frame"] % crops.stride == 0].groupby("frame")}
    for mode in modes:
        shutil.rmtree(out_dir / method / mode / clip.id, ignore_errors=True)
    rows, counts, n_bad = [], np.zeros(3, dtype=int), 0
    iou_sum = 0.0
    cam = clip_index + 1
    frames = clip.version_frames(None if method == ORIGINAL else video_path, crops.stride)
    for t, rgb in frames:
        r = refs.get(t) if t in wanted else None  # recall over the sampled frames: fewer detector runs
        found = {}  # track_id -> box re-detected on this frame
        if "independent" in modes and r is not None:
            if method == ORIGINAL or detector is None:
                dets = r[["x1", "y1", "x2", "y2"]].to_numpy(float)
            else:
                dets = detector(rgb)[:, :4]
            ri, di, iou = match_boxes(r[["x1", "y1", "x2", "y2"]].to_numpy(float), dets, 0.5)
            counts += (len(r), len(dets), len(ri))
            iou_sum += float(iou.sum())
            found = {int(r["track_id"].iloc[i]): dets[j] for i, j in zip(ri, di)}
        w = wanted.get(t)
        if w is None:
            continue
        seq = int(segment_of(t, clip.fps, crops.segment_seconds)) + 1
        k_of: dict[int, int] = {}
        for row in w.itertuples():
            pid = int(scene.pids.get(int(row.track_id), -1))
            k = k_of[pid] = k_of.get(pid, -1) + 1
            boxes = {"aligned": np.array([row.x1, row.y1, row.x2, row.y2])}
            if int(row.track_id) in found:
                boxes["independent"] = found[int(row.track_id)]
            rle = scene.masks.get((t, int(row.track_id))) if set(LEAK_MODES) & set(modes) else None
            if rle is not None:
                mask = rle_decode(rle, rgb.shape)
                boxes |= {m: boxes["aligned"] for m in LEAK_MODES if m in modes}
            for mode, box in boxes.items():
                if mode not in modes:
                    continue
                try:
                    crop = (leak_crop(rgb, mask, mode, box, pad=crops.pad, size=tuple(crops.size)) if mode in LEAK_MODES
                            else cut_crop(rgb, box, crops.pad, tuple(crops.size)))
                except ValueError as e:
                    n_bad += 1
                    warnings.warn(f"clip {clip.id!r} frame {t}: {e}; skipped")
                    continue
                rel = Path(method) / mode / clip.id / market_name(pid, cam, seq, t, k)
                write_crop(out_dir / rel, crop)
                rows.append((clip.id, method, mode, t, int(row.track_id), pid, encode_camid(cam, seq),
                             *map(float, box[:4]), str(rel)))
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS) if rows else empty_manifest()
    n_ref, n_det, n_match = (int(c) for c in counts)
    recall = pd.DataFrame([(clip.id, method, n_ref, n_det, n_match, n_match / n_ref if n_ref else np.nan,
                            iou_sum / n_match if n_match else np.nan)], columns=RECALL_COLUMNS)
    return manifest.astype({"frame": "int64", "track_id": "int64", "pid": "int64", "camid": "int64"}), recall


def _cached_crop_clip(ctx, clip, scene, *, clip_index: int, method: str, modes, detector, skey: str):
    """:func:`crop_clip`, or its earlier result when nothing it depends on changed."""
    from vidanon.io import cache

    p = ctx.params
    out_dir = ctx.work / "crops"
    video = None if method == ORIGINAL else anonymized_path(ctx.work, method, clip.id)
    source = clip.path if video is None else video
    if video is not None and not video.is_file():  # crop_clip's own error names the stage to run
        return crop_clip(clip, scene, clip_index=clip_index, method=method, video_path=video, crops=p.crops,
                         out_dir=out_dir, detector=detector, modes=modes)
    k = cache.key({"crops": p.crops.model_dump(mode="json"), "scene": skey, "cam": clip_index + 1,
                   "modes": list(modes), "source": cache.file_hash(source), "start": clip.start,
                   "detector": p.detect.person.model_dump(mode="json") if "independent" in modes and video else None})
    part = out_dir / "parts" / method / f"{clip.id}.parquet"
    info = cache.lookup(part, k)
    if info is not None:
        return pd.read_parquet(part), pd.DataFrame([info["recall"]], columns=RECALL_COLUMNS)
    manifest, recall = crop_clip(clip, scene, clip_index=clip_index, method=method, video_path=video,
                                 crops=p.crops, out_dir=out_dir, detector=detector, modes=modes)
    from vidanon.core.atomic import atomic_path

    with atomic_path(part) as tmp:
        manifest.to_parquet(tmp, index=False)
    cache.record(part, k, {"recall": recall.iloc[0].to_dict()})
    return manifest, recall


def _modes(params) -> tuple[str, ...]:
    base = ("aligned", "independent") if params.crops.mode == "both" else (params.crops.mode,)
    return base + tuple(m for m in LEAK_MODES if m in params.crops.leak_modes)


def _clip_job(job) -> tuple[list, list, dict]:
    """Versions of one clip in a worker: (manifest parts, recall rows, the clip's summary row)."""
    from vidanon import scene as scene_mod
    from vidanon.core import executor
    from vidanon.core.versions import resolve_device
    from vidanon.models import detect

    ctx, index, names = job
    p = ctx.params
    modes = _modes(p)
    clip, scene = scene_mod.scene_of(ctx, index)
    detector = None
    if "independent" in modes:
        spec = p.detect.person
        detector = executor.cached(("person", spec.model_dump_json(), p.device),
                                   lambda: detect.get_person_detector(spec, device=resolve_device(p.device)))
    skey = scene_mod.cache_key(clip, p)
    parts, recalls = [], []
    for method in names:
        m, r = _cached_crop_clip(ctx, clip, scene, clip_index=index, method=method, modes=modes,
                                 detector=detector, skey=skey)
        parts.append(m)
        recalls.append(r)
    if scene.persons.empty and ORIGINAL in names:
        warnings.warn(f"clip {clip.id!r}: no person, no crops")
    det = scene.persons[scene.persons["source"] == "detected"]
    summary = {"clip": clip.id, "frames": scene.n_frames,
               "persons_per_frame": round(len(det) / max(scene.n_frames, 1), 2),
               "tracks": int(scene.persons["track_id"].nunique()),
               "pids": ",".join(str(v) for v in sorted(set(scene.pids.values())))}
    return parts, recalls, summary


def run(ctx) -> dict[str, pd.DataFrame]:
    """Crops of every clip, for the original and every method of ``params.anonymize.methods``, clips
    in parallel by the context's executor.

    Writes ``work/<run>/crops/manifest.parquet`` (paths relative to that folder; see
    :func:`vidanon.io.crops.load_manifest`), and the tables ``crops_detection_recall`` (independent
    re-detection on each version vs the original's detections) and ``crops_summary`` (persons,
    tracks, crops per clip), both also as Markdown, and returns them.
    """
    from vidanon import scene as scene_mod
    from vidanon.core import executor
    from vidanon.core.atomic import atomic_path
    from vidanon.io.crops import manifest_path

    clips = [c for c, _ in scene_mod.analyze_all(ctx)]  # every scene cached before the jobs start
    jobs, costs = clip_jobs(ctx, clips, version_names(ctx.params))
    done = executor.of(ctx).map(_clip_job, jobs, label="crops", costs=costs)
    parts = [m for clip_parts, _, _ in done for m in clip_parts]
    recalls = [r for _, clip_recalls, _ in done for r in clip_recalls]
    manifest = pd.concat([m for m in parts if len(m)], ignore_index=True) if any(len(m) for m in parts) \
        else empty_manifest()
    if manifest.empty:
        warnings.warn("no crops at all: no person was found in any clip; the manifest is empty")
    with atomic_path(manifest_path(ctx.work)) as tmp:
        manifest.to_parquet(tmp, index=False)
    summary = pd.DataFrame(list({row["clip"]: row for _, _, row in done}.values()))  # one row per clip
    first = _modes(ctx.params)[0]
    per_clip = manifest[(manifest["method"] == ORIGINAL) & (manifest["mode"] == first)].groupby("clip").size()
    summary["crops_per_version"] = summary["clip"].map(per_clip).fillna(0).astype(int)
    tables = {"crops_detection_recall": pd.concat(recalls, ignore_index=True), "crops_summary": summary}
    for name, df in tables.items():
        ctx.save_table(df, name, formats=("csv", "md"))
    return tables


def contact_sheet(manifest: pd.DataFrame, versions: list[str], *, n: int = 4, thumb: tuple[int, int] = (128, 64),
                  mode: str = "aligned") -> tuple[np.ndarray, list[int]]:
    """One row per ground-truth identity: ``n`` of its crops (evenly spaced over all its clips) in
    each version, side by side in ``versions`` order (``manifest`` with absolute paths, see
    ``load_manifest``). Returns the RGB uint8 image (rows x (len(versions) * n) thumbnails of
    ``thumb`` = (height, width), grey where a version has no such crop) and the pids of the rows."""
    import cv2

    m = manifest[(manifest["mode"] == mode) & (manifest["pid"] >= 0)]
    ref = m[m["method"] == versions[0]].sort_values(["pid", "clip", "frame"])
    by_key = m.set_index(["method", "clip", "frame", "track_id"])["path"]
    by_key = by_key[~by_key.index.duplicated()]
    th, tw = thumb
    pids = sorted(int(p) for p in ref["pid"].unique())
    sheet = np.full((max(len(pids), 1) * th, len(versions) * n * tw, 3), 128, np.uint8)
    for r, pid in enumerate(pids):
        rows = ref[ref["pid"] == pid]
        picks = rows.iloc[evenly_spaced(len(rows), n)]
        for j, key in enumerate(picks[["clip", "frame", "track_id"]].itertuples(index=False)):
            for v, version in enumerate(versions):
                path = by_key.get((version, *key))
                img = cv2.imread(str(path)) if path is not None else None
                if img is None:
                    continue
                x = (v * n + j) * tw
                sheet[r * th:(r + 1) * th, x:x + tw] = cv2.resize(img, (tw, th))[:, :, ::-1]
    return sheet, pids


def recall_by_method(recall: pd.DataFrame) -> pd.DataFrame:
    """Detection recall of each version over all clips (``crops_detection_recall`` rows pooled):
    ``method, n_original, n_matched, recall`` (matched / original detections, 0..1) in input order."""
    tot = recall.groupby("method", sort=False)[["n_original", "n_matched"]].sum()
    tot["recall"] = tot["n_matched"] / tot["n_original"].where(tot["n_original"] > 0)
    return tot.reset_index()
