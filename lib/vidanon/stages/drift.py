"""Stage 04_drift: does the anonymized identity stay put, and do the pixels stay steady over time?

Identity drift (per track and frame, from the crops stage's aligned crops): the cosine distance of
the anonymized crop's embedding (``params.drift.embedder``, OSNet) to the track's first anonymized
crop, to its previous crop, and to the original person's crop of the same frame; the same with the
dlib face descriptor at the faces 03's face identification describes (the scene's faces at the crops'
sampled frames that dlib's detector confirms in the original; described once for both stages).
Summaries per method: mean,
95th percentile and identity switches (a frame-to-frame jump above ``drift.switch_threshold``).
"original" is a row too: the drift of the unmodified person (pose, light) is the floor.

Temporal consistency of the pixels: SSIM and perceptual distance between consecutive crops of a
track, tLP (|d(orig[t-1], orig[t]) - d(anon[t-1], anon[t])|) on those crops, and the warping error
(Lai et al. 2018) of whole frames with optical flow of the ORIGINAL video over non-occluded pixels,
on the frame and inside the method's regions, next to the original's own warping error.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from vidanon.core.atomic import write_text
from vidanon.core.errors import BackendUnavailable, VidanonError
from vidanon.core.versions import ORIGINAL, frame_stride, resolve_device, version_names
from vidanon.io.crops import load_manifest, read_crop
from vidanon.io.video import read_lockstep, version_videos
from vidanon.metrics import drift as dm
from vidanon.metrics import quality as qm
from vidanon.io.video import downscale, downscale_mask
from vidanon.metrics import temporal as tm
from vidanon.models.flow import optical_flow

KEYS = ["clip", "method", "track_id"]


def aligned_crops(ctx) -> pd.DataFrame:
    """The aligned crops of the original and every method, sorted by clip, method, track, frame."""
    m = load_manifest(ctx.work)
    names = version_names(ctx.params)
    m = m[(m["mode"] == "aligned") & m["method"].isin(names) & (m["track_id"] >= 0)]
    return m.sort_values(["clip", "method", "track_id", "frame"]).reset_index(drop=True)


def embed_crops(crops: pd.DataFrame, embedder, cache_dir=None, executor=None) -> pd.DataFrame:
    """``crops`` (manifest rows) with ``model`` and ``emb`` (one unit-norm float32 vector per row).
    ``cache_dir``: the run's feature cache (work/<run>/features), which 03_reid has filled for the
    crops it ranked: only the others are embedded here (by ``executor``'s workers when given)."""
    from vidanon.models.embed import embed_files

    feats = embed_files(embedder, crops["path"].tolist(), cache_dir=cache_dir, executor=executor)
    out = crops[KEYS + ["pid", "frame", "path"]].copy()
    out["model"] = embedder.name
    out["emb"] = list(feats)
    return out


def face_embeddings(clip, scene, videos: dict, embedder, *, samples: pd.DataFrame, per_track: int,
                    store=None) -> pd.DataFrame:
    """dlib descriptors (L2-normalized) of the faces of the scene at the crops' sampled (frame, track)
    pairs (``samples``; at most ``per_track`` per track, :meth:`vidanon.scene.Scene.sampled_faces`),
    taken at the same box in the original and in each anonymized video (what an attacker's aligner
    would see), where dlib's detector confirms the face in the original: 03's face identification
    describes the same faces (``store``, :func:`vidanon.models.embed.face.describe_versions`).
    ``videos``: ``{version: video}``, None for the clip's own frames (the original)."""
    from vidanon.models.embed.face import describe_versions

    cols = KEYS + ["pid", "frame", "path", "model", "emb"]
    rows = scene.sampled_faces(samples, per_track)
    if rows.empty:
        return pd.DataFrame(columns=cols)
    described = describe_versions(embedder, clip, videos, rows, store=store)
    ok = described[next(iter(videos))][1]  # confirmed in the original
    out = []
    for method, (desc, _) in described.items():
        path = str(videos[method] if videos[method] is not None else clip.path)
        for r, d in zip(rows[ok].itertuples(index=False), desc[ok]):
            n = np.linalg.norm(d)
            out.append({"clip": clip.id, "method": method, "track_id": int(r.track_id),
                        "pid": int(scene.pids.get(int(r.track_id), -1)), "frame": int(r.frame), "path": path,
                        "model": embedder.name, "emb": (d / n if n > 0 else d).astype(np.float32)})
    return pd.DataFrame(out, columns=cols)


def drift_frames(emb: pd.DataFrame) -> pd.DataFrame:
    """Per (model, clip, method, track, frame): ``to_first``, ``to_previous`` and ``to_original``
    (cosine distances, see vidanon.metrics.drift); ``to_original`` is NaN where the original has no
    embedding of that frame."""
    out = []
    orig = {(m, c, t): g.set_index("frame")["emb"]
            for (m, c, t), g in emb[emb["method"] == "original"].groupby(["model", "clip", "track_id"])}
    for (model, clip, method, tid), g in emb.groupby(["model", "clip", "method", "track_id"], sort=False):
        g = g.sort_values("frame")
        x = np.stack(g["emb"].to_numpy())
        o_series = orig.get((model, clip, tid))
        o = np.full_like(x, np.nan, dtype=np.float64)
        if o_series is not None:
            for i, f in enumerate(g["frame"]):
                if f in o_series.index:
                    o[i] = o_series[f]
        c = dm.drift_curves(x, o)
        out.append(pd.DataFrame({"model": model, "clip": clip, "method": method, "track_id": tid,
                                 "pid": g["pid"].to_numpy(), "frame": g["frame"].to_numpy(),
                                 "to_first": c["to_first"], "to_previous": c["to_previous"],
                                 "to_original": c["to_original"]}))
    cols = ["model", "clip", "method", "track_id", "pid", "frame", "to_first", "to_previous", "to_original"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def summarize_drift(frames: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per (model, method): tracks, frames, mean and p95 of each distance, identity switches (jumps
    above ``threshold``, summed over tracks) and switches per 100 frame steps."""
    rows = []
    for (model, method), g in frames.groupby(["model", "method"], sort=False):
        row = {"model": model, "method": method, "tracks": g.groupby(["clip", "track_id"]).ngroups,
               "frames": len(g)}
        for c in ("to_first", "to_previous", "to_original"):
            s = dm.summarize(g[c].to_numpy(float))
            row[f"{c}_mean"], row[f"{c}_p95"] = s["mean"], s["p95"]
        steps = int(g["to_previous"].notna().sum())
        row["switches"] = sum(dm.identity_switches(t["to_previous"].to_numpy(float), threshold)
                              for _, t in g.groupby(["clip", "track_id"]))
        row["switches_per_100"] = 100.0 * row["switches"] / steps if steps else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


PAIRS_PER_BATCH = 16  # crop pairs read and scored at once: the perceptual network's activations bound the memory


def crop_temporal(crops: pd.DataFrame, perceptual=None) -> pd.DataFrame:
    """Per track and crop (from its second on): SSIM and perceptual distance to the track's previous
    crop (``dt`` frames earlier), the original's perceptual distance over the same step, and tLP."""
    from vidanon.core.progress import tqdm

    orig_d: dict[tuple, float] = {}
    rows = []
    groups = list(crops.groupby(["clip", "method", "track_id"], sort=False))
    # originals first: their distances are the reference of tLP
    groups.sort(key=lambda kv: kv[0][1] != "original")
    for (clip, method, tid), g in tqdm(groups, desc="crop temporal", leave=False):
        g = g.sort_values("frame")
        if len(g) < 2:
            continue
        paths, frames = g["path"].tolist(), g["frame"].to_numpy()
        shape = None  # every crop at the size of the track's first one
        for start in range(0, len(paths) - 1, PAIRS_PER_BATCH):  # a batch at a time: memory flat in length
            imgs = [read_crop(p) for p in paths[start:start + PAIRS_PER_BATCH + 1]]
            shape = shape or imgs[0].shape
            imgs = np.stack([i if i.shape == shape else _resize(i, shape) for i in imgs])
            a, b = imgs[:-1], imgs[1:]
            steps = np.c_[np.arange(len(a)), np.arange(1, len(a) + 1)]  # each crop's features once
            perc = perceptual.distances(imgs, steps) if perceptual is not None else np.full(len(a), np.nan)
            for k in range(len(a)):
                i = start + k
                key = (clip, tid, int(frames[i]), int(frames[i + 1]))
                if method == "original":
                    orig_d[key] = float(perc[k])
                d0 = orig_d.get(key, float("nan"))
                rows.append({"clip": clip, "method": method, "track_id": int(tid), "frame": int(frames[i + 1]),
                             "dt": int(frames[i + 1] - frames[i]), "ssim_prev": qm.ssim(a[k], b[k], 255.0),
                             "perceptual_prev": float(perc[k]), "perceptual_prev_original": d0,
                             "tlp": float(tm.tlp([d0], [perc[k]])[0])})
    cols = ["clip", "method", "track_id", "frame", "dt", "ssim_prev", "perceptual_prev",
            "perceptual_prev_original", "tlp"]
    return pd.DataFrame(rows, columns=cols)


def _resize(img: np.ndarray, shape) -> np.ndarray:
    import cv2

    return cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def clip_warping(clip, scene, videos: dict, anonymizers: dict, *, max_pairs: int | None = None,
                 max_side: int | None = None) -> pd.DataFrame:
    """Warping error of every method's video on frame pairs (t, t+1) of one clip, with the flow of
    ``videos["original"]`` (the re-encoded original) and its forward-backward occlusion mask;
    frames longer than ``max_side`` (the working size) on copies scaled down to it (None: native).

    Rows: ``clip, method, frame`` (= t), ``warp_error`` (whole frame, frames in [0, 1]),
    ``warp_error_region`` (inside the method's regions at t; NaN when it has none),
    ``warp_error_original`` (the original's own error over the same pixels) and ``valid_fraction``.
    ``method == "original"`` rows hold the original's own error (its delta is 0 by definition).
    """
    from vidanon.core.progress import tqdm

    n_pairs = clip.n_frames - 1
    if n_pairs < 1:
        return pd.DataFrame()
    stride = frame_stride(n_pairs, 1, max_pairs)
    starts = set(range(0, n_pairs, stride))
    needed = starts | {t + 1 for t in starts}  # only these frames are converted from the codec's YUV
    names = list(videos)
    rows, prev = [], None
    for t, frames in tqdm(read_lockstep([videos[n] for n in names], clip.n_frames, only=needed),
                          total=len(needed), desc=f"warping {clip.id}", leave=False):
        native_shape = frames[0].shape
        frames = [downscale(f, max_side) for f in frames]  # the working size (unchanged when it fits)
        if prev is not None and t - 1 in starts:
            t0 = t - 1
            o0, o1 = prev[0], frames[0]
            fw, bw = optical_flow(o0, o1), optical_flow(o1, o0)
            valid = tm.non_occluded(fw, bw)
            warper = tm.Warper(fw)  # the sampling planned once for every version
            # each version's t+1 warped back once, on its uint8 pixels; errors of frames in [0, 1]
            errs = [tm.squared_error_map(p, warper(f), 255.0) for p, f in zip(prev, frames)]
            e_orig = tm.masked_error(errs[0], valid)
            for i, name in enumerate(names):
                region = (downscale_mask(anonymizers[name].regions(t0, scene, native_shape), max_side)
                          if name in anonymizers else None)
                in_region = region is not None and region.any()
                rows.append({
                    "clip": clip.id, "method": name, "frame": t0,
                    "warp_error": e_orig if i == 0 else tm.masked_error(errs[i], valid),
                    "warp_error_original": e_orig,
                    "warp_error_region": tm.masked_error(errs[i], valid, region=region) if in_region else np.nan,
                    "warp_error_region_original": (tm.masked_error(errs[0], valid, region=region) if in_region
                                                   else np.nan),
                    "valid_fraction": float(valid.mean())})
        prev = frames if t in starts else None
    return pd.DataFrame(rows)


def summarize_temporal(crop_t: pd.DataFrame, warp: pd.DataFrame, perceptual_name: str | None,
                       warp_size: str | None = None) -> pd.DataFrame:
    """Per method: mean consecutive-crop SSIM and perceptual distance, mean tLP (x100, as TecoGAN),
    mean warping error (x1000) on the frame and in the regions, and their excess over the original's.
    ``warp_size``: the frame size the warping error was computed at, as a ``warp_error_at`` column."""
    rows = []
    methods = list(dict.fromkeys(list(warp.get("method", [])) + list(crop_t.get("method", []))))
    for m in methods:
        c = crop_t[crop_t["method"] == m] if len(crop_t) else crop_t
        w = warp[warp["method"] == m] if len(warp) else warp
        row = {"method": m, "crop_pairs": len(c), "frame_pairs": len(w),
               "ssim_consecutive": float(c["ssim_prev"].mean()) if len(c) else np.nan,
               "perceptual_consecutive": float(c["perceptual_prev"].mean()) if len(c) else np.nan,
               "tlp_x100": 100 * float(c["tlp"].mean()) if len(c) else np.nan}
        if len(w):
            row["warp_error_x1000"] = 1000 * float(w["warp_error"].mean())
            row["warp_error_excess_x1000"] = 1000 * float((w["warp_error"] - w["warp_error_original"]).mean())
            row["warp_error_region_x1000"] = 1000 * float(w["warp_error_region"].mean())
            row["warp_error_region_excess_x1000"] = 1000 * float(
                (w["warp_error_region"] - w["warp_error_region_original"]).mean())
        row["perceptual_metric"] = perceptual_name
        if warp_size is not None:
            row["warp_error_at"] = warp_size
        rows.append(row)
    return pd.DataFrame(rows)


def trajectories(emb: pd.DataFrame, projection: str = "pca", seed: int = 0) -> dict[str, tuple[pd.DataFrame, dict]]:
    """``{model: (points, info)}``: each model's embeddings projected to 2-D (:func:`project`), for
    :func:`vidanon.figures.drift.trajectory_figure`; models with fewer than 3 rows are left out."""
    out = {}
    for model, g in emb.groupby("model", sort=False):
        if len(g) >= 3:
            out[model] = project(g.reset_index(drop=True), projection, seed)
    return out


def project(emb: pd.DataFrame, projection: str = "pca", seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """``emb`` rows of ONE model with ``x, y`` added, and info (``projection``, ``explained``).

    PCA is fitted on the rows with ``method == "original"`` (all rows if there are none)."""
    if emb["model"].nunique() > 1:
        raise ValueError(f"project one embedding model at a time, got {sorted(emb['model'].unique())}")
    x = np.stack(emb["emb"].to_numpy()).astype(np.float64)
    out = emb.drop(columns=["emb"]).copy()
    if projection == "pca":
        fit_on = x[(emb["method"] == "original").to_numpy()]
        mean, comps, ratio = dm.pca_fit(fit_on if len(fit_on) >= 2 else x)
        xy = (x - mean) @ comps.T
        info = {"projection": "PCA fitted on the originals", "explained": ratio.tolist()}
    elif projection == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            raise BackendUnavailable("t-SNE needs scikit-learn (pip install scikit-learn==1.9.1)") from None
        perplexity = float(min(30, max(2, (len(x) - 1) / 3)))
        xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
        info = {"projection": "t-SNE of all points", "explained": None}
    else:
        raise VidanonError(f"drift.trajectory_projection: expected 'pca' or 'tsne', got {projection!r}")
    out["x"], out["y"] = xy[:, 0], xy[:, 1]
    return out, info


def _clip_job(job):
    """One clip in a worker: face embeddings, warping errors and crop-to-crop consistency of every
    version, and the perceptual distance's name."""
    from vidanon import anonymize
    from vidanon.core import executor
    from vidanon.models import embed
    from vidanon.models.embed import perceptual
    from vidanon.scene import scene_of

    ctx, index, crops = job
    p = ctx.params
    clip, scene = scene_of(ctx, index)
    videos = version_videos(ctx.work, p, clip.id)
    faces = pd.DataFrame()
    if p.drift.face_embedder:
        from vidanon.io.cache import VectorStore
        from vidanon.models.embed.face import store_path

        face_model = executor.cached(("embed", p.drift.face_embedder), lambda: embed.get(p.drift.face_embedder))
        store = VectorStore(store_path(ctx.work, clip.id))  # the faces 03's face identification described
        sources = {name: None if name == ORIGINAL else path for name, path in videos.items()}
        faces = face_embeddings(clip, scene, sources, face_model, samples=crops[crops["method"] == ORIGINAL],
                                per_track=p.drift.face_frames_per_track, store=store)
        store.save()
    warp = clip_warping(clip, scene, videos, anonymize.for_params(p), max_pairs=p.drift.max_pairs,
                        max_side=p.quality.max_side)
    device = resolve_device(p.device)
    perc = executor.cached(("perceptual", p.quality.model_dump_json(), device),
                           lambda: perceptual.from_params(p.quality, device))
    return faces, warp, crop_temporal(crops, perc), (perc.name if perc is not None else None)


def run(ctx) -> dict[str, pd.DataFrame]:
    """Identity drift and temporal consistency of every clip x method. Saves and returns the tables
    ``drift_frames``, ``drift_summary``, ``temporal_crops``, ``warping``, ``temporal_summary`` and
    ``trajectory_points_<model>`` (2-D embedding trajectories); the per-crop embeddings are kept in
    work/<run>/drift/ (:func:`load_embeddings`) and the projections' info in
    work/<run>/drift/trajectories.json (:func:`load_trajectories`)."""
    from vidanon import scene as scene_mod
    from vidanon.core import executor
    from vidanon.core.errors import DataError
    from vidanon.models import embed

    p = ctx.params
    crops = aligned_crops(ctx)
    if crops.empty:
        raise DataError(f"{ctx.work / 'crops'}: no aligned person crops (no person found in any clip, or the "
                        "crops stage ran with crops.mode: independent); identity drift needs them")
    device = resolve_device(p.device)
    emb = [embed_crops(crops, embed.get(p.drift.embedder, device=device), cache_dir=ctx.work / "features",
                       executor=executor.of(ctx))]
    clips = [c for c, _ in scene_mod.analyze_all(ctx)]  # every scene cached before the jobs start
    jobs = [(ctx, i, crops[crops["clip"] == spec.id]) for i, spec in enumerate(p.clips)]
    costs = [min(c.n_frames, p.drift.max_pairs or c.n_frames) * c.width * c.height for c in clips]  # frame pairs
    done = executor.of(ctx).map(_clip_job, jobs, label="drift", costs=costs)
    emb = pd.concat([e for e in emb + [faces for faces, _, _, _ in done] if len(e)], ignore_index=True)
    frames = drift_frames(emb)
    parts = [crop_t for _, _, crop_t, _ in done]
    # the originals' rows first, as crop_temporal orders one table (their distances are tLP's reference)
    crop_t = pd.concat([c[c["method"] == "original"] for c in parts] + [c[c["method"] != "original"] for c in parts],
                       ignore_index=True)
    warp = pd.concat([w for _, w, _, _ in done], ignore_index=True)
    perceptual_name = next((name for _, _, _, name in done if name), None)
    out = {"drift_frames": frames, "drift_summary": summarize_drift(frames, p.drift.switch_threshold),
           "temporal_crops": crop_t, "warping": warp,
           "temporal_summary": summarize_temporal(crop_t, warp, perceptual_name, warp_size=qm.working_size_label(
               p.quality.max_side) if any(max(c.width, c.height) > (p.quality.max_side or np.inf) for c in clips)
               else None)}  # a column only where a clip was scaled to the working size
    traj = trajectories(emb, p.drift.trajectory_projection, p.seed)
    out |= {f"trajectory_points_{model}": pts for model, (pts, _) in traj.items()}
    for k, df in out.items():
        ctx.save_table(df, k)
    save_embeddings(ctx, emb)
    write_text(ctx.work / "drift" / "trajectories.json", json.dumps({m: info for m, (_, info) in traj.items()}))
    return out


def load_trajectories(ctx) -> dict[str, tuple[pd.DataFrame, dict]]:
    """``{model: (points, info)}`` as :func:`run` saved them."""
    from vidanon.core.errors import DataError

    path = ctx.work / "drift" / "trajectories.json"
    if not path.is_file():
        raise DataError(f"{path}: missing; run the drift stage (04_drift) first")
    return {m: (ctx.load_metrics(f"trajectory_points_{m}"), info) for m, info in json.loads(path.read_text()).items()}


def save_embeddings(ctx, emb: pd.DataFrame):
    from vidanon.core.atomic import atomic_path

    path = ctx.work / "drift" / "embeddings.parquet"
    df = emb.copy()
    df["emb"] = [np.asarray(e, np.float32).tolist() for e in df["emb"]]
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


def load_embeddings(ctx) -> pd.DataFrame:
    """The per-crop embeddings the drift stage kept (``emb`` as float32 arrays)."""
    from vidanon.core.errors import DataError

    path = ctx.work / "drift" / "embeddings.parquet"
    if not path.is_file():
        raise DataError(f"{path}: missing; run the drift stage (04_drift) first")
    df = pd.read_parquet(path)
    df["emb"] = [np.asarray(e, np.float32) for e in df["emb"]]
    return df
