"""Stage 06_action: what survives anonymization - pose, motion, detectability, actions.

For every clip and every method (and "original", the unchanged clip re-encoded: the reference row),
the anonymized video is streamed once and compared with the ORIGINAL clip's scene:

- pose: MediaPipe Pose (``vidanon.models.detect.get_pose``) is run on the anonymized frame in each person box
  of the original's scene; its keypoints are compared with the scene's keypoints of the original
  frame (OKS, PCK@alpha of the box size, visibility agreement; ``vidanon.metrics.pose``);
- motion: per track, the error of joint velocities between consecutive evaluated frames (box sizes per
  frame); long clips are evaluated at a stride (``params.utility.max_frames`` frames at most);
- detection: the person detector (``params.detect.person``) on the anonymized frame against the
  original's detected boxes; faces (``params.detect.face_eval``, a detector of another family than the
  anonymizer's) only for methods meant to keep faces (``params.utility.face_methods`` and "original");
- actions (optional, ``params.utility.action``): MMAction2 top-1/top-5 per clip, original vs anonymized;
- body shape, a privacy attack that no appearance change stops: the same re-detected keypoints give each
  track's bone-length ratios (``vidanon.metrics.attacks.body_shape_features``), and anonymized tracks
  are ranked against the original's (naive) and against the method's own (parrot) across clips
  (:func:`body_shape_attack`, table ``privacy_body_shape``; 07_report counts it among the attacks).

THE utility number of the study (07_report's trade-off figure) is :func:`utility_score`: the mean OKS.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from vidanon.core.versions import ORIGINAL, anonymized_path, frame_stride, resolve_device, version_names
from vidanon.metrics import pose as P
from vidanon.metrics.detection import Preservation, detection_preservation
from vidanon.metrics.ranking import bootstrap_ci
from vidanon.stages import clip_jobs

log = logging.getLogger(__name__)

UTILITY_DEFINITION = ("mean OKS (COCO keypoint similarity, 17 joints, box-area scale) of MediaPipe Pose on the "
                      "anonymized frames against the original's, over all (frame, person) instances; "
                      "95% CI by bootstrap over person tracks")


SHAPE_EMBEDDER = "body shape (bone-length ratios)"  # the attack's name in the tables
SHAPE_MIN_BONES = 2  # a track with fewer ratios seen takes no part (upper-body shots: the two arm bones)


def shape_rows(trajectories: dict, clip_id: str, method: str, pids: dict) -> list[dict]:
    """One row per track: its body-shape features from the keypoints found on the anonymized frames
    (``trajectories`` as :func:`evaluate_clip` returns them), its pid and frame count."""
    from vidanon.metrics.attacks import SHAPE_BONES, body_shape_features

    rows = []
    for tid, frames in trajectories.items():
        pred = np.stack([frames[t][1] for t in sorted(frames)])
        feats = body_shape_features(pred)
        rows.append({"clip": clip_id, "method": method, "track_id": int(tid), "pid": int(pids.get(int(tid), -1)),
                     "frames": len(frames), **{f"shape_{b}": float(v) for b, v in zip(SHAPE_BONES, feats)}})
    return rows


def body_shape_attack(shape: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Re-identification by body shape, cross-clip (a match counts only in another clip), in 03_reid's
    summary columns (``embedder`` = :data:`SHAPE_EMBEDDER`, ``mode`` = ``keypoints``): ``reference``
    (original tracks vs original tracks), and per method ``naive`` (its tracks vs the original's),
    ``parrot`` (vs its own, other clips) and ``adaptive`` (the stronger of the two). Distances:
    :func:`vidanon.metrics.attacks.shape_distmat` scaled by the original tracks' spread per bone."""
    from vidanon.metrics import attacks, ranking

    cols = [c for c in shape.columns if c.startswith("shape_")]
    ok = shape[(shape["pid"] >= 0) & (shape[cols].notna().sum(axis=1) >= SHAPE_MIN_BONES)]
    gallery = ok[ok["method"] == ORIGINAL]
    if gallery.empty:
        return pd.DataFrame()
    clips = {c: i for i, c in enumerate(dict.fromkeys(shape["clip"]))}
    g = gallery[cols].to_numpy(float)
    spread = np.nanstd(g, axis=0) if len(g) > 1 else np.ones(len(cols))
    scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)

    def scored(q, gal, attacker, direction, *, note=""):
        dist = attacks.shape_distmat(q[cols].to_numpy(float), gal[cols].to_numpy(float), scale)
        ev = ranking.score(dist, q["pid"].to_numpy(), gal["pid"].to_numpy(), q["clip"].map(clips).to_numpy(),
                           gal["clip"].map(clips).to_numpy(), n_boot=n_boot, seed=seed)
        return {"method": q["method"].iloc[0], "embedder": SHAPE_EMBEDDER, "protocol": "cross-clip",
                "attacker": attacker, "mode": "keypoints", "direction": direction} | ev.row | (
                    {"note": note} if note and not ev.row["note"] else {})

    rows = [scored(gallery, gallery, "reference", "original->original")]
    for method, q in ok[ok["method"] != ORIGINAL].groupby("method", sort=False):
        naive = scored(q, gallery, "naive", "anonymized->original")
        parrot = scored(q, q, "parrot", "anonymized->anonymized", note="gallery anonymized with the same method")
        rows += [naive, parrot, attacks.strongest([naive, parrot])]
    return pd.DataFrame(rows)


# --- the one utility number ---------------------------------------------------------------

def utility_score(instances: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """THE utility number per method, used by 07_report's privacy-utility trade-off: mean OKS.

    ``instances``: the ``utility_pose`` table (one row per clip, method, frame, person with an ``oks``
    column in [0, 1]; 1 = the anonymized person's pose is found exactly where the original's is,
    0 = not found). Returns ``method, utility, ci_low, ci_high, n, definition`` (CI: 95 % percentile
    bootstrap over (clip, track) groups, since the frames of one person are correlated).
    """
    rows = []
    for method, g in instances.groupby("method", sort=False):
        groups = g["clip"].astype(str) + "/" + g["track_id"].astype(str)
        lo, hi = bootstrap_ci(g["oks"].to_numpy(float), n_boot=n_boot, seed=seed, groups=groups.to_numpy())
        rows.append(dict(method=method, utility=float(np.nanmean(g["oks"])) if g["oks"].notna().any() else np.nan,
                         ci_low=lo, ci_high=hi, n=int(g["oks"].notna().sum()), definition=UTILITY_DEFINITION))
    return pd.DataFrame(rows, columns=["method", "utility", "ci_low", "ci_high", "n", "definition"])


# --- per-clip evaluation --------------------------------------------------------------------

def reference_poses(scene) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per frame: ``(track_ids (N,), boxes (N, 4), keypoints (N, 33, 3))`` of the original's persons
    that have keypoints in the scene (the reference of the pose metrics)."""
    kp = scene.keypoints
    if kp.empty:
        return {}
    persons = scene.persons[scene.persons["source"] == "detected"]
    boxes = persons.set_index(["frame", "track_id"])[["x1", "y1", "x2", "y2"]]
    boxes = boxes[~boxes.index.duplicated()]
    out = {}
    for t, g in kp.groupby("frame"):
        tids = np.array(sorted(g["track_id"].unique()), dtype=int)
        tids = np.array([i for i in tids if (int(t), int(i)) in boxes.index], dtype=int)
        if not len(tids):
            continue
        arr = np.full((len(tids), P.N_JOINTS, 3), np.nan)
        arr[:, :, 2] = 0.0
        pos = {tid: k for k, tid in enumerate(tids)}
        for tid, j, x, y, v in g[["track_id", "joint", "x", "y", "visibility"]].itertuples(index=False):
            if tid in pos:
                arr[pos[tid], int(j)] = (x, y, v)
        out[int(t)] = (tids, boxes.loc[[(int(t), int(i)) for i in tids]].to_numpy(float), arr)
    return out


def _detected_boxes(scene, table: str) -> dict[int, np.ndarray]:
    df = getattr(scene, table)
    df = df[df["source"] == "detected"] if "source" in df else df
    return {int(t): g[["x1", "y1", "x2", "y2"]].to_numpy(float) for t, g in df.groupby("frame")}


def evaluate_clip(clip, scene, frames, method: str, *, pose_model, person_detector=None, face_detector=None,
                  face_reference: dict[int, np.ndarray] | None = None, pck_thresholds=(0.05, 0.1),
                  iou_threshold: float = 0.5, min_person_height: int = 0, example_frame: int | None = None):
    """Compare one anonymized version of a clip with the original's scene.

    ``frames``: iterable of ``(t, rgb)`` of the anonymized video (clip frames, any stride).
    ``pose_model(rgb, boxes) -> (N, 33, 3)``; ``person_detector(rgb) -> (N, 5)`` and
    ``face_detector(rgb) -> (N, 5)`` optional; ``face_reference``: per frame, the face detector's boxes on
    the ORIGINAL frame. Returns ``(pose_rows, joint_rows, detection_rows, trajectories, example)``:
    per-instance metric dicts, per-instance per-joint PCK/KS arrays, per-frame detection counts,
    ``{track_id: {t: (ref (33,3), pred (33,3), box_size)}}`` and the example frame's keypoints.
    """
    ref = reference_poses(scene)
    persons_ref = _detected_boxes(scene, "persons")
    inst, joints, dets, example = [], [], [], []
    traj: dict[int, dict[int, tuple]] = {}
    for t, rgb in frames:
        if t in ref:
            tids, boxes, rk = ref[t]
            pk = np.asarray(pose_model(rgb, boxes), dtype=float)
            size, area = P.box_size(boxes), P.box_area(boxes)
            oks = P.oks(rk, pk, area)
            pcks = {a: P.pck(rk, pk, size, a, per_joint=True) for a in pck_thresholds}
            ks = P.keypoint_similarity(rk, pk, area)
            vis = P.visibility_agreement(rk, pk)
            found = np.isfinite(pk[..., :2]).all(axis=-1).any(axis=-1)
            for k, tid in enumerate(tids):
                row = dict(clip=clip.id, method=method, frame=t, track_id=int(tid), box_size=float(size[k]),
                           found=bool(found[k]), oks=float(oks[k]), vis_agreement=float(vis[k]))
                for a, pj in pcks.items():
                    n = np.isfinite(pj[k]).sum()
                    row[f"pck@{a:g}"] = float(np.nansum(pj[k]) / n) if n else np.nan
                inst.append(row)
                joints.append({"pck": {a: pj[k] for a, pj in pcks.items()}, "ks": ks[k]})
                traj.setdefault(int(tid), {})[t] = (rk[k], pk[k], float(size[k]))
            if t == example_frame:
                example += [(int(tid), rk[k], pk[k]) for k, tid in enumerate(tids)]
        if person_detector is not None:
            got = np.asarray(person_detector(rgb), dtype=float).reshape(-1, 5)
            got = got[(got[:, 3] - got[:, 1]) >= min_person_height]
            pres = detection_preservation(persons_ref.get(t, np.zeros((0, 4))), got, iou_threshold)
            dets.append(dict(clip=clip.id, method=method, frame=t, kind="person", **_counts(pres)))
        if face_detector is not None and face_reference is not None:
            got = np.asarray(face_detector(rgb), dtype=float).reshape(-1, 5)
            pres = detection_preservation(face_reference.get(t, np.zeros((0, 4))), got, iou_threshold)
            dets.append(dict(clip=clip.id, method=method, frame=t, kind="face", **_counts(pres)))
    return inst, joints, dets, traj, example


def _counts(p: Preservation) -> dict:
    return dict(n_ref=p.n_ref, n_pred=p.n_pred, n_matched=p.n_matched, iou_sum=p.iou_sum)


def motion_table(trajectories: dict, clip_id: str, method: str, stride: int = 1) -> list[dict]:
    """Per track: mean joint-velocity error in box sizes PER FRAME (a step of ``stride`` frames is
    divided by ``stride``, so clips evaluated at different strides compare) and the fraction of the
    reference's measurable steps that could be measured on the anonymized video (``coverage``)."""
    rows = []
    for tid, by_t in trajectories.items():
        ts = sorted(by_t)
        if len(ts) < 2:
            continue
        grid = range(ts[0], ts[-1] + 1, stride)  # absent frames stay NaN, so steps never bridge a gap
        ref = np.full((len(grid), P.N_JOINTS, 3), np.nan)
        pred, size = ref.copy(), np.full(len(grid), np.nan)
        for k, t in enumerate(grid):
            if t in by_t:
                ref[k], pred[k], size[k] = by_t[t]
        err = P.velocity_error(ref, pred, scale=size * stride)
        rvis = np.nan_to_num(ref[..., 2]) >= P.VISIBILITY_THRESHOLD
        measurable = (rvis[1:] & rvis[:-1] & np.isfinite(size[1:, None]) & np.isfinite(size[:-1, None])).sum()
        n = int(np.isfinite(err).sum())
        rows.append(dict(clip=clip_id, method=method, track_id=int(tid),
                         motion_error=float(np.nanmean(err)) if n else np.nan,
                         n_steps=n, coverage=n / measurable if measurable else np.nan))
    return rows


def joint_table(joints: list[dict], methods: list[str], pck_alpha: float) -> pd.DataFrame:
    """Per method and MediaPipe joint: PCK@``pck_alpha`` (and COCO keypoint similarity where the joint
    has a COCO counterpart), over the instances where the reference joint is visible."""
    rows = []
    coco_of = {int(m): c for c, m in enumerate(P.MEDIAPIPE_TO_COCO)}
    for method, items in zip(methods, joints):
        if not items:
            continue
        pck = np.stack([it["pck"][pck_alpha] for it in items])
        ks = np.stack([it["ks"] for it in items])
        for j, name in enumerate(P.MEDIAPIPE_JOINTS):
            n = int(np.isfinite(pck[:, j]).sum())
            c = coco_of.get(j)
            rows.append(dict(method=method, joint=name, joint_index=j, n=n,
                             pck=float(np.nanmean(pck[:, j])) if n else np.nan,
                             ks=float(np.nanmean(ks[:, c])) if c is not None and np.isfinite(ks[:, c]).any()
                             else np.nan))
    return pd.DataFrame(rows, columns=["method", "joint", "joint_index", "n", "pck", "ks"])


def summarize(pose: pd.DataFrame, motion: pd.DataFrame, detection: pd.DataFrame, thresholds, *,
              n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per method: OKS and PCK with 95 % CIs (bootstrap over tracks), visibility agreement,
    motion error and coverage, person (and face) detection recall and mean IoU."""
    rows = []
    methods = list(dict.fromkeys(list(pose["method"]) + list(detection.get("method", []))))
    for m in methods:
        row: dict = dict(method=m)
        g = pose[pose["method"] == m]
        groups = (g["clip"].astype(str) + "/" + g["track_id"].astype(str)).to_numpy()
        for col in ["oks"] + [f"pck@{a:g}" for a in thresholds]:
            v = g[col].to_numpy(float)
            row[col] = float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
            row[f"{col}_lo"], row[f"{col}_hi"] = bootstrap_ci(v, n_boot=n_boot, seed=seed, groups=groups)
        row["vis_agreement"] = float(g["vis_agreement"].mean()) if len(g) else np.nan
        row["pose_found"] = float(g["found"].mean()) if len(g) else np.nan
        row["n_instances"] = len(g)
        mo = motion[motion["method"] == m] if len(motion) else motion
        w = mo["n_steps"].to_numpy(float) if len(mo) else np.zeros(0)
        ok = np.isfinite(mo["motion_error"].to_numpy(float)) if len(mo) else np.zeros(0, bool)
        row["motion_error"] = float(np.average(mo["motion_error"][ok], weights=w[ok])) if ok.any() and w[ok].sum() \
            else np.nan
        row["motion_coverage"] = float(np.nanmean(mo["coverage"])) if len(mo) and mo["coverage"].notna().any() \
            else np.nan
        for kind in ("person", "face"):
            d = detection[(detection["method"] == m) & (detection["kind"] == kind)] if len(detection) else detection
            tot = sum((Preservation(*r) for r in d[["n_ref", "n_pred", "n_matched", "iou_sum"]]
                       .itertuples(index=False, name=None)), Preservation(0, 0, 0, 0.0))
            row[f"{kind}_recall"] = tot.recall if len(d) else np.nan
            row[f"{kind}_iou"] = tot.mean_iou if len(d) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def face_keeping_methods(params) -> list[str]:
    """Names of the methods meant to keep faces detectable: "original" and every method whose
    anonymizer key is in ``params.utility.face_methods`` (face-replacing generators such as
    DeepPrivacy2). Face detection preservation is measured for these only: for a method that removes
    faces on purpose a lost face is success, not lost utility."""
    keys = params.utility.face_methods
    return [ORIGINAL] + [m.name for m in params.anonymize.methods if m.method in keys]


def _example_frame(scene) -> int | None:
    """The frame with the most persons that have keypoints (the middle one of the ties)."""
    if scene.keypoints.empty:
        return None
    counts = scene.keypoints.groupby("frame")["track_id"].nunique()
    best = counts[counts == counts.max()].index.to_numpy()
    return int(best[len(best) // 2])


# --- the stage --------------------------------------------------------------------------------

def _examples(clip_id: str, method: str, frame: int | None, keypoints: list) -> list[dict]:
    """Rows of ``utility_examples``: the reference and anonymized keypoints of one example frame."""
    return [dict(clip=clip_id, method=method, frame=frame, track_id=tid, kind=kind, joint=j,
                 x=arr[j, 0], y=arr[j, 1], visibility=arr[j, 2])
            for tid, rk, pk in keypoints for kind, arr in (("reference", rk), ("anonymized", pk))
            for j in range(P.N_JOINTS)]


def _clip_job(job) -> dict:
    """Every version of one clip in a worker: pose, joint, detection, motion and example rows."""
    from vidanon.core import executor
    from vidanon.models import detect
    from vidanon.scene import scene_of

    ctx, index, names = job
    p = ctx.params
    u = p.utility
    device = resolve_device(p.device)
    clip, scene = scene_of(ctx, index)
    pose_model = executor.cached(("pose",), detect.get_pose)
    person_det = executor.cached(("person", p.detect.person.model_dump_json(), device),
                                 lambda: detect.get_person_detector(p.detect.person, device=device))
    face_det = executor.cached(("face_eval", p.detect.face_eval.model_dump_json()),
                               lambda: detect.get_face_detector(p.detect.face_eval))
    face_names = face_keeping_methods(p)
    stride = frame_stride(clip.n_frames, u.frame_stride, u.max_frames)  # same rule as 05_quality
    face_ref = ({t: np.asarray(face_det(rgb), float).reshape(-1, 5)[:, :4] for t, rgb in clip.frames(stride)}
                if set(names) & set(face_names) else None)
    ex = _example_frame(scene)
    out = {"inst": [], "dets": [], "motion": [], "examples": [], "joints": {}, "shape": []}
    for name in names:
        frames = clip.version_frames(anonymized_path(ctx.work, name, clip.id), stride)
        keep_face = name in face_names
        i, j, d, traj, exk = evaluate_clip(
            clip, scene, frames, name, pose_model=pose_model, person_detector=person_det,
            face_detector=face_det if keep_face else None, face_reference=face_ref if keep_face else None,
            pck_thresholds=u.pck_thresholds, iou_threshold=u.iou_threshold,
            min_person_height=p.detect.min_person_height, example_frame=ex)
        out["inst"] += i
        out["joints"][name] = j
        out["dets"] += d
        out["motion"] += motion_table(traj, clip.id, name, stride)
        out["shape"] += shape_rows(traj, clip.id, name, scene.pids)
        out["examples"] += _examples(clip.id, name, ex, exk)
    return out


def run(ctx) -> dict[str, pd.DataFrame]:
    """Every clip x (original + params' methods): pose, motion, detection (and action) preservation.

    Needs the anonymized videos of 01_anonymize (``work/<run>/anonymized/<method>/<clip>.mp4``) and the
    scenes (``vidanon.scene.analyze_all``, cached). Saves and returns the tables ``utility_pose``
    (per instance), ``utility_joints`` (per joint), ``utility_motion`` (per track),
    ``utility_detection`` (per clip and kind), ``utility_summary`` (per method, with CIs),
    ``utility_score`` (THE utility number, :func:`utility_score`), ``utility_examples`` (keypoints of
    one example frame per clip), ``utility_body_shape`` (per track: body-shape features) and
    ``privacy_body_shape`` (:func:`body_shape_attack`) and, when enabled, ``utility_action``.
    """
    from vidanon import scene as scene_mod
    from vidanon.core import executor

    p = ctx.params
    u = p.utility
    device = resolve_device(p.device)
    names = version_names(p)
    log.debug("face detection preservation for: %s", ", ".join(face_keeping_methods(p)))
    scenes = scene_mod.analyze_all(ctx)  # every scene cached before the jobs start
    jobs, costs = clip_jobs(ctx, [c for c, _ in scenes], names)
    done = executor.of(ctx).map(_clip_job, jobs, label="action", costs=costs)
    inst = [r for d in done for r in d["inst"]]
    dets = [r for d in done for r in d["dets"]]
    motion = [r for d in done for r in d["motion"]]
    examples = [r for d in done for r in d["examples"]]
    joints = {n: [j for d in done for j in d["joints"].get(n, [])] for n in names}
    cols = ["clip", "method", "frame", "track_id", "box_size", "found", "oks", "vis_agreement"]
    pose_df = pd.DataFrame(inst, columns=cols + [f"pck@{a:g}" for a in u.pck_thresholds])
    det_df = pd.DataFrame(dets, columns=["clip", "method", "frame", "kind", "n_ref", "n_pred", "n_matched", "iou_sum"])
    motion_df = pd.DataFrame(motion, columns=["clip", "method", "track_id", "motion_error", "n_steps", "coverage"])
    tables = {
        "utility_pose": pose_df,
        "utility_joints": joint_table([joints[n] for n in names], names, max(u.pck_thresholds)),
        "utility_motion": motion_df,
        "utility_detection": _detection_per_clip(det_df),
        "utility_summary": summarize(pose_df, motion_df, det_df, u.pck_thresholds, n_boot=u.bootstrap, seed=p.seed),
        "utility_score": utility_score(pose_df, u.bootstrap, p.seed),
        "utility_examples": pd.DataFrame(examples, columns=["clip", "method", "frame", "track_id", "kind", "joint",
                                                            "x", "y", "visibility"]),
    }
    shape = pd.DataFrame([r for d in done for r in d["shape"]])
    if len(shape):
        tables["utility_body_shape"] = shape
        attack = body_shape_attack(shape, n_boot=u.bootstrap, seed=p.seed)
        if len(attack):  # empty when no labelled track shows enough of its body (upper-body shots)
            tables["privacy_body_shape"] = attack
        else:
            log.info("body-shape attack: no labelled track with %d or more lengths seen", SHAPE_MIN_BONES)
    if u.action.enabled:
        tables["utility_action"] = action_table(ctx, [c for c, _ in scenes], names, device)
    for name, df in tables.items():
        if name in ("utility_pose", "utility_examples", "utility_body_shape"):
            ctx.save_metrics(df, name)  # large: parquet only
        else:
            ctx.save_table(df, name)
    return tables


def example_frames(ctx, examples: pd.DataFrame, clip_id: str) -> dict[str, np.ndarray]:
    """``{version: rgb}``: the example frame of a clip in every version (for
    :func:`vidanon.figures.action.figure_examples`)."""
    from vidanon.io.video import read_frame

    ex = examples[examples["clip"] == clip_id]
    if ex.empty:
        return {}
    frame = int(ex["frame"].iloc[0])
    return {m: read_frame(anonymized_path(ctx.work, m, clip_id), frame) for m in dict.fromkeys(ex["method"])}


def _detection_per_clip(det: pd.DataFrame) -> pd.DataFrame:
    if det.empty:
        return pd.DataFrame(columns=["clip", "method", "kind", "n_ref", "n_pred", "n_matched", "recall", "mean_iou"])
    g = det.groupby(["clip", "method", "kind"], sort=False)[["n_ref", "n_pred", "n_matched", "iou_sum"]].sum()
    g = g.reset_index()
    g["recall"] = np.where(g["n_ref"] > 0, g["n_matched"] / g["n_ref"].clip(lower=1), np.nan)
    g["mean_iou"] = np.where(g["n_matched"] > 0, g["iou_sum"] / g["n_matched"].clip(lower=1), np.nan)
    return g.drop(columns="iou_sum")


# --- action recognition (optional) -----------------------------------------------------------

def action_table(ctx, clips, methods: list[str], device: str = "cpu") -> pd.DataFrame:
    """Per clip and method: MMAction2 top-1/top-5 (real checkpoint of ``params.utility.action``), top-1
    agreement with the original, and top-1 correctness where the clip's ground-truth label is one of
    the model's classes (otherwise NaN)."""
    from vidanon.io import data
    from vidanon.io.video import read_frames
    from vidanon.models import mmaction

    sec = ctx.params.utility.action
    rec = mmaction.from_params(sec, device=device)
    gt = data.load_ground_truth(ctx.params.ground_truth)
    rows = []
    for clip in clips:
        label = data.ground_truth_for(clip, gt).get("label")
        top1_orig = None
        for name in methods:
            path = anonymized_path(ctx.work, name, clip.id)
            scores = rec.predict(read_frames(path), clip.n_frames)
            top = rec.top_k(scores, sec.top_k)
            top1_orig = top[0] if name == ORIGINAL else top1_orig
            in_set = label is not None and label in rec.labels
            rows.append(dict(clip=clip.id, method=name, model=rec.name, top1=top[0], top1_score=float(scores.max()),
                             topk=" | ".join(top), label=label, top1_agreement=float(top[0] == top1_orig),
                             top1_correct=float(top[0] == label) if in_set else np.nan,
                             topk_correct=float(label in top) if in_set else np.nan))
    return pd.DataFrame(rows)
