"""Stage 03_reid, face part: are anonymized faces still recognised by a face recognition model?

dlib's ResNet face descriptor (vidanon.models.embed.face) is computed at the same face box in the original
and in the anonymized frame (the attacker knows where the head is: aligned by the original's tracks).
Query = anonymized faces, gallery = the same people's ORIGINAL faces in other clips (``cross-clip``)
or other time segments (``cross-segment``), Euclidean distance, Market-1501 protocol. Reported:
Rank-1 (with CI, chance, privacy level), mAP, the share of anonymized faces still VERIFIED as their
true identity (some gallery face of the same person closer than dlib's 0.6), the share IDENTIFIED
(the nearest gallery face is the true person and closer than 0.6), the share with a FALSE MATCH
(another person's face closer than 0.6: when it is as high as ``verified``, verification says
nothing about identity, e.g. blank faces that all look alike to the model), and the share where
dlib's own HOG detector still finds a face (detection rate). Only faces that dlib's detector
confirms in the original frame are used. The reference rows use the original faces as queries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from vidanon.core.progress import tqdm

from vidanon.core.versions import ORIGINAL, anonymized_path, camids_for, version_names
from vidanon.metrics.faceid import leakage_row
from vidanon.models.embed.face import DLIB_THRESHOLD

COLUMNS = ["method", "protocol", "attacker", "n_faces", "detection_rate", "rank1", "rank1_lo", "rank1_hi",
           "mAP", "chance_rank1", "verified", "verified_lo", "verified_hi", "identified", "false_match",
           "privacy_level", "n_queries", "n_identities", "note"]


def evaluate(descs: dict, faces: pd.DataFrame, protocols, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The leakage table from descriptors per version (``descs['original']`` and one per method, rows
    aligned with ``faces``: columns clip, pid, camid, found_<version>)."""
    rows = []
    pids = faces["pid"].to_numpy()
    for protocol in protocols:
        cams = camids_for(faces, protocol)
        for method, d in descs.items():
            row = leakage_row(d, descs["original"], pids, pids, cams, cams, threshold=DLIB_THRESHOLD,
                              n_boot=n_boot, seed=seed)
            rows.append({"method": method, "protocol": protocol,
                         "attacker": "reference" if method == "original" else "naive",
                         "n_faces": len(faces), "detection_rate": float(faces[f"found_{method}"].mean())} | row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _clip_job(job):
    """One clip in a worker: its sampled faces (with ``found_<version>``) and each version's
    descriptors at them, or None when the clip has no face of a known identity. Descriptors are kept
    in work/<run>/features/faces/<clip>.npz (04_drift's face drift reads the same faces there)."""
    from vidanon.core import executor
    from vidanon.io.cache import VectorStore
    from vidanon.models import embed
    from vidanon.models.embed.face import describe_versions, store_path
    from vidanon.scene import scene_of

    ctx, index, samples = job
    clip, scene = scene_of(ctx, index)
    boxes = scene.sampled_faces(samples, ctx.params.reid.faceid_max_per_track)
    if boxes.empty:
        return None
    meta = samples.drop_duplicates(["frame", "track_id"])[["frame", "track_id", "pid", "camid"]]
    boxes = boxes.merge(meta, on=["frame", "track_id"], how="left").assign(clip=clip.id)
    face = executor.cached(("dlib_face_resnet",), lambda: embed.get("dlib_face_resnet"))
    store = VectorStore(store_path(ctx.work, clip.id))
    videos = {v: None if v == ORIGINAL else anonymized_path(ctx.work, v, clip.id) for v in version_names(ctx.params)}
    described = describe_versions(face, clip, videos, boxes, store=store)
    store.save()
    descs = {}
    for version, (desc, found) in described.items():
        descs[version], boxes[f"found_{version}"] = desc, found
    return boxes, descs


def run(ctx) -> dict[str, pd.DataFrame]:
    """Face identification leakage of every method: faces of the scene at the crops' sampled frames of
    known identities, at most ``reid.faceid_max_per_track`` per track and clip. Saves and returns
    ``faceid_summary`` (also Markdown); nothing when ``reid.faceid`` is off."""
    from vidanon import scene as scene_mod
    from vidanon.core import executor
    from vidanon.io.crops import load_manifest

    p = ctx.params
    if not p.reid.faceid:
        return {}
    manifest = load_manifest(ctx.work)
    samples = manifest[(manifest["method"] == ORIGINAL) & (manifest["pid"] >= 0)]
    scene_mod.analyze_all(ctx)  # every scene cached before the jobs start
    jobs = [(ctx, i, samples[samples["clip"] == spec.id]) for i, spec in enumerate(p.clips)]
    costs = [len(job[2]) for job in jobs]  # the faces to describe follow the sampled crops
    done = [d for d in executor.of(ctx).map(_clip_job, jobs, label="faceid", costs=costs) if d is not None]
    parts = [boxes for boxes, _ in done]
    descs = {v: [d[v] for _, d in done] for v in version_names(p)}
    if not parts:
        table = pd.DataFrame([{"method": "original", "note": "no face of a known identity in any clip"}],
                             columns=COLUMNS)
    else:
        faces = pd.concat(parts, ignore_index=True)
        # only faces dlib's own detector confirms in the original: its descriptor is made for those,
        # and unconfirmed (profile, tiny) faces give weak descriptors that a blank face lands near
        # (describe_versions describes the other versions at these faces only)
        ok = faces["found_original"].to_numpy(bool)
        table = evaluate({k: np.concatenate(v)[ok] for k, v in descs.items()}, faces[ok].reset_index(drop=True),
                         p.reid.protocols, n_boot=p.reid.bootstrap, seed=p.reid.seed)
        table["note"] = table["note"].fillna("").astype(str) + (
            f" {int(ok.sum())} of {len(ok)} scene faces confirmed by dlib's detector in the original")
    ctx.save_table(table, "faceid_summary", formats=("csv", "md"))
    return {"faceid_summary": table}


def evaluate_folders(original_dir, anonymized_dir, *, camid: str = "cam", upsample: int = 2,
                     n_boot: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """The `faceid` command: crops of the same names in two Market-1501-style folders. dlib's HOG
    detector finds the face in each ORIGINAL crop (largest one); descriptors are taken at that box in
    both versions. Returns (per-file table, summary dict with the 'original' reference and
    the 'anonymized' rows per protocol-free camid rule)."""
    from vidanon.models import embed
    from vidanon.core.errors import DataError
    from vidanon.io.crops import read_crops, read_market_folder

    o = read_market_folder(original_dir, camid)
    a = read_market_folder(anonymized_dir, camid)
    o["name"] = [p.rsplit("/", 1)[-1] for p in o["path"]]
    a["name"] = [p.rsplit("/", 1)[-1] for p in a["path"]]
    both = o.merge(a[["name", "path"]], on="name", suffixes=("", "_anon"))
    if both.empty:
        raise DataError(f"{original_dir} and {anonymized_dir} share no file name: the anonymized crops must "
                        "keep the names of the original crops they come from")
    face = embed.get("dlib_face_resnet")
    rows, d_o, d_a = [], [], []
    for _, r in tqdm(both.iterrows(), total=len(both), desc="faces", disable=len(both) < 50):
        img_o, img_a = read_crops([r["path"], r["path_anon"]])
        boxes = face.detect(img_o, upsample)
        found_a = len(face.detect(img_a, upsample)) > 0
        if len(boxes) == 0:
            rows.append({"name": r["name"], "pid": r["pid"], "camid": r["camid"], "face": False,
                         "found_anonymized": found_a})
            continue
        box = boxes[np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))][None]
        d_o.append(face.descriptors(img_o, box)[0])
        d_a.append(face.descriptors(img_a, box)[0])
        rows.append({"name": r["name"], "pid": r["pid"], "camid": r["camid"], "face": True,
                     "found_anonymized": found_a})
    per_file = pd.DataFrame(rows)
    faces = per_file[per_file["face"]].reset_index(drop=True)
    if faces.empty:
        raise DataError(f"dlib's face detector finds no face in the crops of {original_dir}: nothing to identify")
    pids, cams = faces["pid"].to_numpy(), faces["camid"].to_numpy()
    summary = {"n_files": len(per_file), "n_faces": len(faces),
               "original_face_rate": float(per_file["face"].mean()),
               "anonymized_detection_rate": float(per_file["found_anonymized"].mean()),
               "reference": leakage_row(np.stack(d_o), np.stack(d_o), pids, pids, cams, cams,
                                        threshold=DLIB_THRESHOLD, n_boot=n_boot, seed=seed),
               "anonymized": leakage_row(np.stack(d_a), np.stack(d_o), pids, pids, cams, cams,
                                         threshold=DLIB_THRESHOLD, n_boot=n_boot, seed=seed)}
    return per_file, summary
