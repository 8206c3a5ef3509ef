"""What is in each frame of a clip, computed once and cached: persons and their tracks, faces,
person masks and body keypoints, and the person id (pid) of each track from the ground truth.

The contract (docs/architecture.md) is the ``Scene`` dataclass below; ``analyze`` fills it.
"""

from __future__ import annotations

import gzip
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

PERSON_COLUMNS = ["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"]
FACE_COLUMNS = ["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"]
KEYPOINT_COLUMNS = ["frame", "track_id", "joint", "x", "y", "visibility"]

log = logging.getLogger(__name__)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object" if c == "source" else "float64") for c in columns})


@dataclass
class Scene:
    """Per-clip detections. Frames are clip frames (0-based); boxes in pixels (x1, y1, x2, y2)."""

    clip: str
    width: int
    height: int
    n_frames: int
    fps: float
    persons: pd.DataFrame = field(default_factory=lambda: _empty(PERSON_COLUMNS))
    faces: pd.DataFrame = field(default_factory=lambda: _empty(FACE_COLUMNS))
    keypoints: pd.DataFrame = field(default_factory=lambda: _empty(KEYPOINT_COLUMNS))
    # (frame, track_id) -> RLE, at the analysis' working size (detect.max_side): rle_decode(rle, scene.shape)
    masks: dict[tuple[int, int], dict] = field(default_factory=dict)
    pids: dict[int, int] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def persons_at(self, t: int) -> pd.DataFrame:
        return self.persons[self.persons["frame"] == t]

    def faces_at(self, t: int) -> pd.DataFrame:
        return self.faces[self.faces["frame"] == t]

    def sampled_faces(self, at: pd.DataFrame | None = None, per_track: int = 10) -> pd.DataFrame:
        """The best face (highest score) of each (frame, track) of a tracked person, at the
        ``(frame, track_id)`` pairs of ``at`` (every face when None), at most ``per_track`` evenly
        spaced in time per track: columns ``frame, track_id, x1, y1, x2, y2`` (detected, carried and
        interpolated rows alike). 03's face identification and 04's face drift describe these."""
        from vidanon.core.versions import evenly_spaced

        f = self.faces[self.faces["track_id"] >= 0]
        f = f.sort_values("score", ascending=False, kind="stable").drop_duplicates(["frame", "track_id"])
        if at is not None:
            f = f.merge(at[["frame", "track_id"]].drop_duplicates(), on=["frame", "track_id"])
        parts = [g.iloc[evenly_spaced(len(g), per_track)] for _, g in f.sort_values("frame").groupby("track_id")]
        cols = ["frame", "track_id", "x1", "y1", "x2", "y2"]
        return pd.concat(parts)[cols].reset_index(drop=True) if parts else pd.DataFrame(columns=cols)

    def person_mask(self, t: int, track_id: int | None = None) -> np.ndarray:
        """Bool (H, W) mask of one person (or all persons when track_id is None) at frame t."""
        from vidanon.scene.masks import rle_decode

        out = np.zeros(self.shape, dtype=bool)
        for (f, tid), rle in self.masks.items():
            if f == t and (track_id is None or tid == track_id):
                out |= rle_decode(rle, self.shape)
        return out


# --- ground truth: track -> pid ------------------------------------------------------------

def _rule_matches(rule: dict, cx: np.ndarray, cy: np.ndarray, frame: np.ndarray) -> np.ndarray:
    ok = np.ones(len(cx), dtype=bool)
    for key, values in (("x", cx), ("y", cy), ("frames", frame)):
        if key in rule:
            lo, hi = rule[key]
            ok &= (values >= lo) & (values <= hi)
    return ok


def assign_pids(persons: pd.DataFrame, rules: list[dict], width: int, height: int,
                *, start: int = 0) -> dict[int, int]:
    """``{track_id: pid}`` by majority vote of each track's detected boxes over the ground-truth rules.

    A rule (see samples/ground_truth.yaml) is ``{pid, x: [lo, hi], y: [lo, hi], frames: [a, b]}``
    where ``x``/``y`` bound the box centre in [0, 1] of the frame width/height and ``frames`` bounds
    the SOURCE file's frame index (clip frame + ``start``), both inclusive; a missing key matches
    everything. The first matching rule wins per box. Tracks with no matching box get -1.
    """
    det = persons[persons["source"] == "detected"] if "source" in persons else persons
    tids = sorted(int(t) for t in persons["track_id"].unique() if t >= 0)
    if not rules or det.empty:
        return {t: -1 for t in tids}
    cx = ((det["x1"] + det["x2"]) / 2 / width).to_numpy()
    cy = ((det["y1"] + det["y2"]) / 2 / height).to_numpy()
    frame = det["frame"].to_numpy() + start
    label = np.full(len(det), -1, dtype=int)
    for rule in reversed(rules):  # reversed so that the first matching rule is written last
        label[_rule_matches(rule, cx, cy, frame)] = int(rule["pid"])
    votes = pd.DataFrame({"track_id": det["track_id"].to_numpy(), "pid": label})
    votes = votes[votes["pid"] >= 0]
    out = {t: -1 for t in tids}
    for tid, g in votes.groupby("track_id"):
        out[int(tid)] = int(g["pid"].value_counts().idxmax())
    return out


# --- analysis and its cache ----------------------------------------------------------------

SCENE_VERSION = 2  # bump when analyze() changes what it computes


def cache_key(clip, params) -> str:
    """Hash of what a Scene depends on: the detect and track sections, the clip file's content and
    the clip's frame range (:mod:`vidanon.io.cache`)."""
    from vidanon.io import cache

    return cache.key({"v": SCENE_VERSION, "params": params.section_hash("detect", "track"),
                      "content": cache.file_hash(clip.path), "start": clip.start, "n": clip.n_frames})


def _cache_paths(cache_dir: Path, clip_id: str, key: str) -> dict[str, Path]:
    stem = Path(cache_dir) / f"{clip_id}-{key}"
    return {"persons": Path(f"{stem}.persons.parquet"), "faces": Path(f"{stem}.faces.parquet"),
            "keypoints": Path(f"{stem}.keypoints.parquet"), "masks": Path(f"{stem}.masks.json.gz"),
            "meta": Path(f"{stem}.json")}


def save(scene: Scene, cache_dir: Path, key: str) -> None:
    """Write a Scene's tables (parquet), masks (gzipped JSON of RLE) and metadata (last, atomically)."""
    from vidanon.core.atomic import atomic_path, write_text

    paths = _cache_paths(cache_dir, scene.clip, key)
    for name in ("persons", "faces", "keypoints"):
        with atomic_path(paths[name]) as tmp:
            getattr(scene, name).to_parquet(tmp, index=False)
    masks = [[int(f), int(t), rle["counts"]] for (f, t), rle in scene.masks.items()]
    sizes = {tuple(rle["size"]) for rle in scene.masks.values()} or {(scene.height, scene.width)}
    if len(sizes) > 1:
        raise ValueError(f"scene {scene.clip!r}: masks of several sizes {sorted(sizes)}")
    with atomic_path(paths["masks"]) as tmp:
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            json.dump({"size": list(sizes.pop()), "masks": masks}, fh)
    meta = {"clip": scene.clip, "width": scene.width, "height": scene.height, "n_frames": scene.n_frames,
            "fps": scene.fps, "key": key}
    write_text(paths["meta"], json.dumps(meta))


def load(cache_dir: Path, clip_id: str, key: str) -> Scene | None:
    """The cached Scene of a clip (without pids), or None when there is no complete cache."""
    paths = _cache_paths(cache_dir, clip_id, key)
    if not all(p.is_file() for p in paths.values()):
        return None
    meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
    with gzip.open(paths["masks"], "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    masks = {(f, t): {"size": raw["size"], "counts": counts} for f, t, counts in raw["masks"]}
    return Scene(meta["clip"], meta["width"], meta["height"], meta["n_frames"], meta["fps"],
                 persons=pd.read_parquet(paths["persons"]), faces=pd.read_parquet(paths["faces"]),
                 keypoints=pd.read_parquet(paths["keypoints"]), masks=masks)


def assign_faces(faces: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Track id of the person box that contains each face's centre (the smallest such box), else -1.

    ``faces`` (F, >=4) boxes; ``persons`` (P, 6) ``[x1, y1, x2, y2, score, track_id]``."""
    out = np.full(len(faces), -1, dtype=int)
    if not len(faces) or not len(persons):
        return out
    cx, cy = (faces[:, 0] + faces[:, 2]) / 2, (faces[:, 1] + faces[:, 3]) / 2
    inside = ((cx[:, None] >= persons[None, :, 0]) & (cx[:, None] <= persons[None, :, 2])
              & (cy[:, None] >= persons[None, :, 1]) & (cy[:, None] <= persons[None, :, 3]))
    area = (persons[:, 2] - persons[:, 0]) * (persons[:, 3] - persons[:, 1])
    cost = np.where(inside, area[None, :], np.inf)
    best = cost.argmin(1)
    has = np.isfinite(cost[np.arange(len(faces)), best])
    out[has] = persons[best[has], 5].astype(int)
    return out


def _frame_tables(t, tracked, faces, face_tids, *, kps, face_source: str = "detected"):
    prow = [(t, int(p[5]), *map(float, p[:5]), "detected") for p in tracked]
    frow = [(t, int(tid), *map(float, f[:5]), face_source) for f, tid in zip(faces, face_tids)]
    krow = [(t, int(p[5]), j, float(k[j, 0]), float(k[j, 1]), float(k[j, 2]))
            for p, k in zip(tracked, kps) for j in range(k.shape[0]) if np.isfinite(k[j, 0])]
    return prow, frow, krow


def _to_frame(tracked, faces, kps, to_frame: tuple[float, float]):
    """Person boxes ``(P, >=4)``, face boxes ``(F, >=4)`` and keypoints ``(P, J, 3)`` of a working-size
    frame in the frame's pixels (``to_frame``: frame pixels per working pixel, x and y); the same arrays
    when the frame was not scaled."""
    if to_frame == (1.0, 1.0):
        return tracked, faces, kps
    fx, fy = to_frame

    def scaled(boxes):
        boxes = np.array(boxes, dtype=np.float64, copy=True)
        if boxes.size:
            boxes[:, [0, 2]] *= fx
            boxes[:, [1, 3]] *= fy
        return boxes

    kps = np.array(kps, dtype=np.float64, copy=True)
    if kps.size:
        kps[..., 0] *= fx
        kps[..., 1] *= fy
    return scaled(tracked), scaled(faces), kps


def _table(rows: list, columns: list[str]) -> pd.DataFrame:
    if not rows:
        df = _empty(columns)
    else:
        df = pd.DataFrame(rows, columns=columns)
    ints = [c for c in ("frame", "track_id", "joint") if c in columns]
    return df.astype({c: "int64" for c in ints})


def analyze(clip, params, cache_dir: Path, gt: dict | None = None) -> Scene:
    """Detect, track and describe every frame of a clip once (streamed), or load it from the cache.

    Persons (``params.detect.person``, boxes shorter than ``detect.min_person_height`` dropped),
    ByteTrack tracks (``params.track``), faces (``params.detect.face``, the anonymizer's detector; for
    persons shorter than ``detect.small_faces_below`` also on upscaled head tiles) assigned to the person
    box that contains them, per-person masks (RLE) and 33 pose keypoints per
    person box when enabled, then gap filling (``track.max_gap``) of persons and faces. All of it runs
    on frames scaled to ``detect.max_side`` on their long side when they are larger; boxes and
    keypoints are given in the frame's pixels, masks at that working size. The pids
    come from ``gt`` (``data.load_ground_truth()``), recomputed on every call so that editing the
    ground truth needs no new analysis. A clip without any person gives an empty Scene and a warning.
    """
    from vidanon.core.progress import tqdm

    from vidanon.core.versions import resolve_device
    from vidanon.io.data import ground_truth_for
    from vidanon.io.video import working_size
    from vidanon.models import detect
    from vidanon.scene.faces import keyframe_faces, small_faces
    from vidanon.scene.masks import rle_encode
    from vidanon.models.track import Tracker, fill_gaps

    key = cache_key(clip, params)
    scene = load(cache_dir, clip.id, key)
    if scene is not None:
        log.debug("%s: scene cached (%s)", clip.id, key)
    else:
        d = params.detect
        device = resolve_device(params.device)
        person_det = detect.get_person_detector(d.person, device=device)
        face_det = (detect.get_face_detector(d.face, device=device) if d.faces
                    else (lambda rgb: np.zeros((0, 5), np.float32)))  # no face rows
        seg = detect.get_segmenter() if d.masks else None
        pose = detect.get_pose() if d.keypoints else None
        tracker = Tracker.from_params(params.track, clip.fps)
        prows, frows, krows, masks = [], [], [], {}
        n_read = 0
        size = working_size(clip.width, clip.height, d.max_side)
        to_frame = (clip.width / size[0], clip.height / size[1])  # frame pixels per working pixel (x, y)
        try:
            frames = tqdm(clip.frames(max_side=d.max_side), total=clip.n_frames, desc=f"analyze {clip.id}",
                          leave=False)
            for t, rgb, faces, face_detected in keyframe_faces(frames, face_det, d.face_every):
                n_read += 1
                boxes = person_det(rgb)
                boxes = boxes[(boxes[:, 3] - boxes[:, 1]) * to_frame[1] >= d.min_person_height]
                tracked = tracker.update(boxes)
                if d.faces and d.small_faces_below and face_detected and len(tracked):  # faces of small persons
                    tiles = small_faces(rgb, tracked, face_det, faces,
                                        max_person_height=d.small_faces_below / to_frame[1])
                    faces = np.concatenate([np.asarray(faces, np.float32).reshape(-1, 5), tiles]) if len(tiles) else faces
                kps = pose(rgb, tracked) if pose is not None and len(tracked) else np.zeros((len(tracked), 0, 3))
                if seg is not None and len(tracked):
                    for p, m in zip(tracked, seg(rgb, tracked)):
                        masks[(t, int(p[5]))] = rle_encode(m)
                tracked, faces, kps = _to_frame(tracked, faces, kps, to_frame)
                pr, fr, kr = _frame_tables(t, tracked, faces, assign_faces(faces, tracked), kps=kps,
                                           face_source="detected" if face_detected else "interpolated")
                prows += pr
                frows += fr
                krows += kr
        finally:
            for obj in (face_det, seg, pose):
                detect.close(obj)
        persons = fill_gaps(_table(prows, PERSON_COLUMNS), params.track.max_gap, n_read)
        # faces follow their person's track through gaps and at its ends, as the person boxes do
        faces_df = fill_gaps(_table(frows, FACE_COLUMNS), params.track.max_gap, n_read)
        scene = Scene(clip.id, clip.width, clip.height, n_read, clip.fps, persons=persons, faces=faces_df,
                      keypoints=_table(krows, KEYPOINT_COLUMNS), masks=masks)
        if n_read != clip.n_frames:
            warnings.warn(f"clip {clip.id!r}: {n_read} frames decoded, {clip.n_frames} expected")
        save(scene, Path(cache_dir), key)
    if scene.persons.empty:
        warnings.warn(f"clip {clip.id!r} ({clip.path.name}): no person was detected; the scene is empty")
    rules = (ground_truth_for(clip, gt) if gt else {}).get("persons") or []
    scene.pids = assign_pids(scene.persons, rules, scene.width, scene.height, start=clip.start)
    return scene


def is_cached(clip, params, cache_dir: Path) -> bool:
    """Whether the clip's scene is in the cache (nothing is loaded)."""
    return all(p.is_file() for p in _cache_paths(cache_dir, clip.id, cache_key(clip, params)).values())


def _analyze_job(job) -> None:
    """One clip's analysis in a worker: computed and cached; the caller loads it from the cache."""
    from vidanon.io import data

    params, cache_dir, index = job
    analyze(data.open_clip(params.clips[index]), params, Path(cache_dir))


def analyze_all(ctx) -> list[tuple]:
    """``[(Clip, Scene)]`` for every clip of ``ctx.params`` (cached under ``ctx.work / 'scenes'``);
    clips not yet analysed are analysed in parallel by the context's executor."""
    from vidanon.core import executor
    from vidanon.io import data

    gt = data.load_ground_truth(ctx.params.ground_truth)
    cache_dir = ctx.work / "scenes"
    clips = [data.open_clip(spec) for spec in ctx.params.clips]
    todo = [i for i, clip in enumerate(clips) if not is_cached(clip, ctx.params, cache_dir)]
    if len(todo) > 1:  # the longest clips first (costs: frames x pixels)
        executor.of(ctx).map(_analyze_job, [(ctx.params, cache_dir, i) for i in todo], label="scene analysis",
                             costs=[clips[i].n_frames * clips[i].width * clips[i].height for i in todo])
    return [(clip, analyze(clip, ctx.params, cache_dir, gt)) for clip in clips]


def scene_of(ctx, index: int, gt: dict | None = None) -> tuple:
    """``(Clip, Scene)`` of the params' clip ``index`` (its scene from the cache when there): what a
    per-clip job in a worker starts from."""
    from vidanon.io import data

    gt = gt if gt is not None else data.load_ground_truth(ctx.params.ground_truth)
    clip = data.open_clip(ctx.params.clips[index])
    return clip, analyze(clip, ctx.params, ctx.work / "scenes", gt)
