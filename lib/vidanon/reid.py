"""The re-identification stage (03_reid): how often an attacker re-identifies anonymized people.

Query = anonymized crops of one method, gallery = original crops (``reverse``: the other way round),
ranked by cosine distance of each embedder's features, scored with vidanon.metrics.ranking
(Market-1501 protocol). Two protocols set the camid that excludes a query's own twins:

- ``cross-clip``: camid = clip. A query only counts matches of its person in OTHER clips (identities
  recur across clips in the sample's ground truth): the hardest, fairest setting.
- ``cross-segment``: camid = clip x time segment (the manifest's camid): matches in other segments of
  the same clip count, same-segment ones are removed.

Attackers (all scored against the same labelled gallery identities):

- ``reference``: original queries vs the original gallery: what the attacker can do at all.
- ``naive``: the pretrained embedder on anonymized queries vs the original gallery.
- ``parrot``: the attacker knows the method and runs it on their own labelled footage, then matches
  anonymized queries against that anonymized gallery (Newton, Sweeney & Malin 2005's "parrot"
  recognition). Here the anonymized gallery is the method's own crops with the ground-truth pids;
  the protocol's camid rule removes each query's own crop and its time segment / clip.
- ``learned``: query and gallery features are each centred on their own mean (removes the shift the
  method gives every feature), then a ridge map from anonymized to original features, fitted on the
  aligned crop pairs of the OTHER identities (leave-one-identity-out), is applied to the queries.
- ``adaptive``: the strongest of naive, parrot and learned for each method x embedder x protocol x
  mode (highest Rank-1, then mAP): an attacker who knows the method uses whichever attack works
  best, and is never weaker than the naive one. The choice is made on the test queries, so it is a
  worst case for the method (slightly optimistic for the attacker); its note names the attack.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from vidanon.metrics import ranking

ORIGINAL = "original"
PROTOCOLS = ("cross-clip", "cross-segment")
SUMMARY_COLUMNS = ["method", "embedder", "protocol", "attacker", "mode", "direction", "rank1", "rank1_lo", "rank1_hi",
                   "rank5", "rank10", "mAP", "mAP_lo", "mAP_hi", "mINP", "chance_rank1", "chance_mAP",
                   "privacy_level", "n_queries", "n_gallery", "n_identities", "note"]


def read_crops(paths) -> list[np.ndarray]:
    """RGB uint8 images of crop files; DataError naming a file that cannot be read."""
    import cv2

    from vidanon.errors import DataError

    out = []
    for p in paths:
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DataError(f"{p}: not a readable image")
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return out


def embed_paths(embedder, paths, batch: int = 256, cache_dir: Path | None = None) -> np.ndarray:
    """Features (N, D) of crop files, read and embedded in batches (memory bounded by ``batch``).

    ``cache_dir``: features are kept in ``<cache_dir>/<embedder name>-<tag>.npz`` (tag: a hash of the
    embedder's ``description``, which names its checkpoint) keyed by the SHA-1 of each crop file's
    bytes, so a re-run embeds only crops that are new or changed (a rewritten but identical crop is
    found again). The file is replaced atomically."""
    paths = list(paths)
    if cache_dir is None:
        return _embed(embedder, paths, batch)
    import hashlib

    from vidanon.outputs import atomic_path

    keys = [hashlib.sha1(Path(p).read_bytes()).hexdigest() for p in paths]
    tag = hashlib.sha1(str(getattr(embedder, "description", "")).encode()).hexdigest()[:8]
    cache = Path(cache_dir) / f"{embedder.name}-{tag}.npz"
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        try:
            with np.load(cache) as z:
                known = dict(zip(z["keys"].tolist(), z["feats"]))
        except (OSError, ValueError, KeyError):  # unreadable cache: embed everything again
            known = {}
    todo = list(dict.fromkeys(k for k in keys if k not in known))
    if todo:
        path_of = dict(zip(keys, paths))  # identical bytes: any of their paths will do
        known.update(zip(todo, _embed(embedder, [path_of[k] for k in todo], batch)))
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp, open(tmp, "wb") as f:
            np.savez(f, keys=np.array(list(known)), feats=np.stack(list(known.values())).astype(np.float32))
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)


def _embed(embedder, paths: list, batch: int) -> np.ndarray:
    parts = [embedder.embed(read_crops(paths[s:s + batch]))
             for s in tqdm(range(0, len(paths), batch), desc=f"embed {embedder.name}", leave=False,
                           disable=len(paths) <= batch)]
    return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)


@dataclass
class Evaluation:
    """One scored ranking: the summary row and the per-query frame (pid, first_rank, ap, inp)."""

    row: dict
    per_query: pd.DataFrame
    result: ranking.Ranking | None = None


def score(distmat, q_pids, g_pids, q_camids, g_camids, n_boot: int = 1000, seed: int = 0,
          max_rank: int = 50) -> Evaluation:
    """Rank-1/5/10, mAP, mINP, bootstrap CIs over queries, chance levels and the privacy level of one
    distance matrix. A matrix where no query has a true match gives NaN metrics and a note."""
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    base = {"n_gallery": int(distmat.shape[1]), "n_identities": int(len(np.intersect1d(q_pids, g_pids)))}
    try:
        r = ranking.evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=max_rank)
    except ValueError as e:
        row = dict(base, rank1=np.nan, rank1_lo=np.nan, rank1_hi=np.nan, rank5=np.nan, rank10=np.nan,
                   mAP=np.nan, mAP_lo=np.nan, mAP_hi=np.nan, mINP=np.nan, chance_rank1=np.nan,
                   chance_mAP=np.nan, privacy_level="n/a", n_queries=0, note=str(e))
        return Evaluation(row, pd.DataFrame(columns=["query", "pid", "first_rank", "ap", "inp"]))
    v = r.valid
    hit1 = (r.first_rank[v] == 1).astype(float)
    lo, hi = ranking.bootstrap_ci(hit1, n_boot, seed=seed)
    mlo, mhi = ranking.bootstrap_ci(r.ap[v], n_boot, seed=seed)
    row = dict(base, rank1=r.rank(1), rank1_lo=lo, rank1_hi=hi, rank5=r.rank(5), rank10=r.rank(10),
               mAP=r.mAP, mAP_lo=mlo, mAP_hi=mhi, mINP=r.mINP,
               chance_rank1=ranking.chance_rank(r.n_true, r.n_kept, 1),
               chance_mAP=ranking.chance_ap(r.n_true, r.n_kept), privacy_level=ranking.privacy_level(r.rank(1)),
               n_queries=r.n_valid, n_identities=int(len(np.unique(q_pids[v]))), note="")
    pq = pd.DataFrame({"query": np.flatnonzero(v), "pid": q_pids[v], "first_rank": r.first_rank[v],
                       "ap": r.ap[v], "inp": r.inp[v]})
    return Evaluation(row, pq, r)


def camids_for(df: pd.DataFrame, protocol: str) -> np.ndarray:
    """The camid of each manifest row under a protocol (see the module doc)."""
    if protocol == "cross-clip":
        return pd.factorize(df["clip"].astype(str))[0] if "clip" in df else np.asarray(df["camid"]) // 1000
    if protocol == "cross-segment":
        return np.asarray(df["camid"])
    raise ValueError(f"protocol: expected one of {PROTOCOLS}, got {protocol!r}")


def _ridge_map(xa: np.ndarray, xo: np.ndarray, alpha: float) -> np.ndarray:
    """W such that xa + xa @ W ~ xo (ridge on the residual: little data -> W ~ 0, the naive attacker)."""
    n, d = xa.shape
    lam = alpha * max(n, 1)
    if n < d:  # dual form: the same W, an n x n system instead of d x d
        return xa.T @ np.linalg.solve(xa @ xa.T + lam * np.eye(n, dtype=xa.dtype), xo - xa)
    return np.linalg.solve(xa.T @ xa + lam * np.eye(d, dtype=xa.dtype), xa.T @ (xo - xa))


def adapt_queries(q_feats, q_pids, train_anon, train_orig, train_pids, alpha: float = 0.1,
                  max_folds: int = 10) -> np.ndarray:
    """The ``learned`` attacker's query features: each query mapped by a ridge map fitted only on pairs
    (anonymized feature, its aligned original feature) of OTHER identities. Identity folds: one
    identity out when there are at most ``max_folds`` identities, else ``max_folds`` folds.
    Queries with no other identity to learn from keep their naive features. Rows re-normalized."""
    q = np.asarray(q_feats, np.float64).copy()
    ids = np.unique(q_pids)
    folds = [ids[i::max_folds] for i in range(min(max_folds, len(ids)))]
    for fold in folds:
        train = ~np.isin(train_pids, fold)
        if train.sum() < 2 or len(np.unique(train_pids[train])) < 1:
            continue
        w = _ridge_map(train_anon[train].astype(np.float64), train_orig[train].astype(np.float64), alpha)
        sel = np.isin(q_pids, fold)
        q[sel] = q[sel] + q[sel] @ w
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    return q.astype(np.float32)


def adaptive_features(qdf: pd.DataFrame, qf: np.ndarray, gdf: pd.DataFrame, gf: np.ndarray,
                      alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``learned`` attacker's (query, gallery) features and a note. Each side is first centred on
    its own mean (no labels needed: it removes the method's common shift of every feature), then the
    queries go through :func:`adapt_queries` trained on the aligned pairs of the other identities."""
    def centred(x):
        x = x - x.mean(axis=0)
        return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    qc, gc = centred(qf), centred(gf)
    ia, io = _pairs(qdf, gdf)
    q_pid = qdf["pid"].to_numpy()
    n_ids = len(np.unique(q_pid))
    n_train = len(np.unique(q_pid[ia])) - 1 if len(ia) else 0
    note = f"learned: centred features, ridge map learned on {max(n_train, 0)} other identities per fold"
    if n_train < 3:
        note += " (few identities: a closed-set guess among very few people; read with the chance level)"
    return adapt_queries(qc, q_pid, qc[ia], gc[io], q_pid[ia], alpha) if n_ids > 1 else qc, gc, note


def _pairs(anon: pd.DataFrame, orig: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of aligned (anonymized, original) crops: same clip, frame and track."""
    key = ["clip", "frame", "track_id"]
    a = anon.reset_index(drop=True).reset_index(names="ia")[key + ["ia"]]
    o = orig.reset_index(drop=True).reset_index(names="io")[key + ["io"]].drop_duplicates(key)
    m = a.merge(o, on=key)
    return m["ia"].to_numpy(), m["io"].to_numpy()


def top_k(distmat, q_pids, g_pids, q_camids, g_camids, query: int, k: int = 5) -> pd.DataFrame:
    """The ranked gallery of one query under the protocol (same pid + camid items removed):
    columns rank (1-based), gallery (row index), distance, is_match."""
    d = np.asarray(distmat)[query]
    keep = ~((g_pids == q_pids[query]) & (g_camids == q_camids[query]))
    idx = np.flatnonzero(keep)[np.argsort(d[keep], kind="stable")[:k]]
    return pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "gallery": idx, "distance": d[idx],
                         "is_match": g_pids[idx] == q_pids[query]})


@dataclass
class Side:
    """One side of a ranking: manifest rows, their features, pids and camids (under a protocol)."""

    df: pd.DataFrame
    feats: np.ndarray
    pids: np.ndarray
    cams: np.ndarray


def _record(out: dict, label: dict, q: Side, g: Side, n_boot: int, seed: int, top: int, note: str = "",
            ranked: bool = True) -> dict:
    """Score q against g and append the summary row, the per-identity rows and (``ranked``) the
    top-``top`` gallery of the first query of each identity to ``out``; returns the summary row."""
    dist = ranking.cosine_distmat(q.feats, g.feats)
    ev = score(dist, q.pids, g.pids, q.cams, g.cams, n_boot, seed)
    row = label | ev.row | ({"note": note} if note and not ev.row["note"] else {})
    out["rows"].append(row)
    if ev.per_query.empty:
        return row
    grp = ev.per_query.groupby("pid")
    out["per_id"].append(pd.DataFrame(label | {
        "pid": grp.size().index, "n_queries": grp.size().to_numpy(),
        "rank1": grp["first_rank"].apply(lambda r: float((r == 1).mean())).to_numpy(),
        "mAP": grp["ap"].mean().to_numpy()}))
    if not ranked:
        return row
    for qi in grp["query"].first():
        t = top_k(dist, q.pids, g.pids, q.cams, g.cams, int(qi), top)
        out["ranked"].append(pd.DataFrame(label | {
            "query_path": q.df["path"].iloc[qi], "query_pid": int(q.pids[qi]), "rank": t["rank"],
            "gallery_path": g.df["path"].iloc[t["gallery"]].to_numpy(), "gallery_pid": g.pids[t["gallery"]],
            "distance": t["distance"], "is_match": t["is_match"]}))
    return row


def strongest(rows: list[dict]) -> dict:
    """The ``adaptive`` row: a copy of the row with the highest Rank-1 (then mAP; earlier rows win
    ties, so naive when nothing beats it), attacker set to ``adaptive`` and a note naming the attack.
    ``rows``: summary rows of the same method x embedder x protocol x mode, naive first."""
    def key(i):
        r = rows[i]
        return (np.nan_to_num(r["rank1"], nan=-1.0), np.nan_to_num(r["mAP"], nan=-1.0), -i)

    best = rows[max(range(len(rows)), key=key)]
    note = f"strongest of {'/'.join(r['attacker'] for r in rows)} on these queries: {best['attacker']}"
    # direction: anonymized queries re-identified as the original people, whichever gallery won
    return best | {"attacker": "adaptive", "direction": "anonymized->original",
                   "note": note + (f"; {best['note']}" if best["note"] else "")}


def evaluate_manifest(manifest: pd.DataFrame, embedders, protocols=PROTOCOLS, reverse: bool = False,
                      adaptive: bool = True, n_boot: int = 1000, seed: int = 0, top: int = 5,
                      cache_dir: Path | None = None):
    """Every method x embedder x protocol x attacker of a crops manifest.

    ``manifest``: the crops contract (docs/architecture.md) with absolute ``path``; rows with pid < 0
    are left out. ``embedders``: objects of vidanon.embed. Returns (summary, per_identity, ranked):
    the summary table (SUMMARY_COLUMNS), per-identity Rank-1/mAP, and for each method x embedder x
    protocol the top-``top`` gallery of one query of each identity (paths, true match marked).
    ``cache_dir``: where crop features are kept between runs (see :func:`embed_paths`).
    """
    df = manifest[manifest["pid"] >= 0].reset_index(drop=True)
    if df.empty:
        raise ValueError("manifest: no crop with a known identity (pid >= 0); check the ground truth")
    if ORIGINAL not in set(df["method"]):
        raise ValueError(f"manifest: no '{ORIGINAL}' crops to form the gallery")
    methods = [m for m in dict.fromkeys(df["method"]) if m != ORIGINAL]
    paths = df["path"].drop_duplicates().tolist()
    out = {"rows": [], "per_id": [], "ranked": []}
    for emb in embedders:
        feats = dict(zip(paths, embed_paths(emb, paths, cache_dir=cache_dir)))  # each crop file embedded once
        orig_all = df[df["method"] == ORIGINAL]
        for mode in sorted(set(df["mode"])):
            orig = orig_all[orig_all["mode"] == mode] if mode in set(orig_all["mode"]) else orig_all
            orig = orig.drop_duplicates("path").reset_index(drop=True)
            for protocol in protocols:
                def side(rows: pd.DataFrame) -> Side:
                    return Side(rows, np.stack([feats[p] for p in rows["path"]]), rows["pid"].to_numpy(),
                                camids_for(rows, protocol))

                def label(method, attacker, direction):
                    return dict(method=method, embedder=emb.name, protocol=protocol, attacker=attacker,
                                mode=mode, direction=direction)

                g = side(orig)
                _record(out, label(ORIGINAL, "reference", "original->original"), g, g, n_boot, seed, top)
                for m in methods:
                    anon = df[(df["method"] == m) & (df["mode"] == mode)].reset_index(drop=True)
                    if anon.empty:
                        continue
                    q = side(anon)
                    naive = _record(out, label(m, "naive", "anonymized->original"), q, g, n_boot, seed, top)
                    if reverse:
                        _record(out, label(m, "naive", "original->anonymized"), g, q, n_boot, seed, top,
                                ranked=False)
                    if adaptive:
                        parrot = _record(out, label(m, "parrot", "anonymized->anonymized"), q, q, n_boot, seed,
                                         top, note="gallery anonymized with the same method", ranked=False)
                        qa, ga, note = adaptive_features(anon, q.feats, orig, g.feats)
                        learned = _record(out, label(m, "learned", "anonymized->original"), replace(q, feats=qa),
                                          replace(g, feats=ga), n_boot, seed, top, note=note, ranked=False)
                        out["rows"].append(strongest([naive, parrot, learned]))
    concat = lambda parts: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()  # noqa: E731
    return pd.DataFrame(out["rows"])[SUMMARY_COLUMNS], concat(out["per_id"]), concat(out["ranked"])


def run_stage(ctx):
    """03_reid: reads the crops manifest, writes the tables ``reid_summary``, ``reid_per_identity`` and
    ``reid_ranked`` (paths relative to work/<run>/); returns the summary DataFrame. The face
    identification tables come from vidanon.faceid.run_stage."""
    from vidanon import crops, embed

    p = ctx.params.reid
    manifest = crops.load_manifest(ctx.work)
    embedders = [embed.get(n, device=ctx.params.device) for n in p.embedders]
    summary, per_id, ranked = evaluate_manifest(manifest, embedders, p.protocols, p.reverse, p.adaptive,
                                                p.bootstrap, p.seed, cache_dir=ctx.work / "features")
    ctx.save_table(summary, "reid_summary", formats=("csv", "md"))
    ctx.save_table(per_id, "reid_per_identity")
    if len(ranked):
        ranked = ranked.assign(query_path=[_rel(x, ctx.work) for x in ranked["query_path"]],
                               gallery_path=[_rel(x, ctx.work) for x in ranked["gallery_path"]])
    ctx.save_table(ranked, "reid_ranked")
    return summary


def _rel(path: str, work: Path) -> str:
    """A crop path relative to work/<run>/ (tables never hold machine paths)."""
    try:
        return str(Path(path).relative_to(Path(work)))
    except ValueError:
        return str(path)


# --- Market-1501-style folders (the `reid` command) ----------------------------------------

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def read_market_folder(folder, camid: str = "cam") -> pd.DataFrame:
    """The crops of a Market-1501-style folder: columns path, pid, camid (junk pid -1 left out, as
    torchreid does). ``camid``: 'cam' (the c<N> of the name, Market-1501's rule) or 'cam-seq'
    (cam * 1000 + seq: one camid per clip and time segment, as vidanon's crops). DataError for a
    missing or empty folder or a file name that is not Market-1501's."""
    from vidanon.crops import parse_market_name
    from vidanon.errors import DataError

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: no crop images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
    rows = []
    for p in files:
        try:
            m = parse_market_name(p.name.rsplit(".", 1)[0] + ".jpg")
        except ValueError:
            raise DataError(f"{p}: not a Market-1501 file name; expected {{pid:04d}}_c{{cam}}s{{seq}}_"
                            "{frame:06d}_{k:02d}.jpg, e.g. 0002_c1s1_000451_03.jpg") from None
        cam = m["cam"] if camid == "cam" else m["cam"] * 1000 + m["seq"]
        rows.append({"path": str(p), "pid": m["pid"], "camid": cam})
    df = pd.DataFrame(rows)
    df = df[df["pid"] >= 0].reset_index(drop=True)
    if df.empty:
        raise DataError(f"{folder}: only junk crops (pid -1), nothing to evaluate")
    return df


def evaluate_folders(query_dir, gallery_dir, embedder, camid: str = "cam", n_boot: int = 1000,
                     seed: int = 0, max_rank: int = 50) -> tuple[dict, np.ndarray]:
    """Rank-k, mAP, mINP, CIs, chance and privacy level of a query folder against a gallery folder
    (both Market-1501-style). Returns (summary dict, CMC curve). DataError when no query identity
    can be matched in the gallery."""
    from vidanon.errors import DataError

    q, g = read_market_folder(query_dir, camid), read_market_folder(gallery_dir, camid)
    common = np.intersect1d(q["pid"], g["pid"])
    if len(common) == 0:
        raise DataError(f"no query identity of {query_dir} (pids {sorted(set(q['pid']))[:10]}) appears in "
                        f"{gallery_dir} (pids {sorted(set(g['pid']))[:10]}): the folders do not match")
    qf, gf = embed_paths(embedder, q["path"]), embed_paths(embedder, g["path"])
    dist = ranking.cosine_distmat(qf, gf)
    ev = score(dist, q["pid"].to_numpy(), g["pid"].to_numpy(), q["camid"].to_numpy(), g["camid"].to_numpy(),
               n_boot, seed, max_rank)
    if ev.result is None:
        raise DataError(f"every true match of the queries in {query_dir} lies in the same camera (camid) in "
                        f"{gallery_dir}, and the protocol removes those; nothing to rank. Use crops of "
                        "other cameras / segments, or --camid cam-seq to split cameras by segment.")
    row = {"query_dir": str(query_dir), "gallery_dir": str(gallery_dir), "model": embedder.name,
           "n_query_files": len(q), "n_gallery_files": len(g)} | ev.row
    return row, ev.result.cmc


# --- figures of 03_reid --------------------------------------------------------------------

def figure_rank1(summary: pd.DataFrame, protocol: str, mode: str | None = None,
                 direction: str = "anonymized->original"):
    """Bars of Rank-1 (percent) per method, one bar per embedder (colour) and attacker (hatched =
    adaptive; the 'original' reference sits in the naive slot), 95% CI whiskers,
    the chance level as a black tick, over the shaded privacy bands. Embedders by their real names."""
    import matplotlib.pyplot as plt

    from vidanon import plots

    df = summary[(summary["protocol"] == protocol) & summary["attacker"].isin(["reference", "naive", "adaptive"])
                 & summary["direction"].isin([direction, "original->original"])]
    if mode is not None:
        df = df[df["mode"] == mode]
    methods = plots.sort_methods(df["method"])
    groups = list(dict.fromkeys(zip(df["embedder"], df["attacker"].replace({"reference": "naive"}))))
    with plots.style():
        n_bars = len(methods) * max(1, len(groups))
        fig, ax = plt.subplots(figsize=(min(16.0, max(6.0, 2 + 0.16 * n_bars)), 4.0))  # ~0.16 in a bar
        plots.shade_privacy_bands(ax, axis="y")
        width = 0.8 / max(len(groups), 1)
        embedders = list(dict.fromkeys(e for e, _ in groups))
        palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
        for gi, (emb, att) in enumerate(groups):
            sub = df[(df["embedder"] == emb) & ((df["attacker"] == att)
                                                | ((att == "naive") & (df["attacker"] == "reference")))]
            sub = sub.set_index("method").reindex(methods)
            x = np.arange(len(methods)) + (gi - (len(groups) - 1) / 2) * width
            y = 100 * sub["rank1"].to_numpy(float)
            err = np.abs(100 * sub[["rank1_lo", "rank1_hi"]].to_numpy(float).T - y)
            ax.bar(x, y, width * 0.95, yerr=np.nan_to_num(err), capsize=2, label=f"{emb} ({att})",
                   color=palette[embedders.index(emb) % len(palette)], edgecolor="black", linewidth=0.5,
                   hatch="//" if att == "adaptive" else None)
            ax.scatter(x, 100 * sub["chance_rank1"].to_numpy(float), marker="_", s=120, color="black", zorder=5)
        ax.set_xticks(np.arange(len(methods)), methods, rotation=30, ha="right")
        for label in ax.get_xticklabels():
            label.set_color(plots.method_color(label.get_text()))
        ax.set_ylim(0, 100)
        ax.set_ylabel("Rank-1 re-identification (%)")
        ax.set_title(f"Re-identification of anonymized people ({protocol}); black tick = chance")
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.3),
                  title="embedder (attacker); hatched = adaptive",
                  title_fontsize=7)
    return fig


def figure_per_identity(per_id: pd.DataFrame, embedder: str, protocol: str, attacker: str = "naive"):
    """Heat map of Rank-1 (percent) per method (rows) and identity (columns) for one embedder."""
    import matplotlib.pyplot as plt

    from vidanon import plots

    df = per_id[(per_id["embedder"] == embedder) & (per_id["protocol"] == protocol)
                & per_id["attacker"].isin([attacker, "reference"])
                & per_id["direction"].isin(["anonymized->original", "original->original"])]
    table = df.pivot_table(index="method", columns="pid", values="rank1", aggfunc="mean") * 100
    table = table.reindex(plots.sort_methods(table.index))
    with plots.style():
        fig, ax = plt.subplots(figsize=(1.2 + 0.6 * table.shape[1], 0.8 + 0.35 * table.shape[0]))
        im = ax.imshow(table.to_numpy(float), vmin=0, vmax=100, cmap="RdYlGn_r", aspect="auto")
        ax.set_xticks(range(table.shape[1]), [f"pid {c}" for c in table.columns])
        ax.set_yticks(range(table.shape[0]), table.index)
        ax.grid(False)
        for (i, j), v in np.ndenumerate(table.to_numpy(float)):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7)
        fig.colorbar(im, ax=ax, label="Rank-1 (%)")
        ax.set_title(f"Rank-1 per identity: {embedder}, {protocol}, {attacker} attacker")
    return fig


def figure_ranked(ranked: pd.DataFrame, work, embedder: str, protocol: str, pid: int | None = None):
    """One row per method: a query crop and its top-k gallery crops, true matches framed green,
    wrong ones red (paths of ``ranked`` relative to ``work``)."""
    import cv2
    import matplotlib.pyplot as plt

    from vidanon import plots

    df = ranked[(ranked["embedder"] == embedder) & (ranked["protocol"] == protocol)]
    if pid is None:
        pid = int(df["query_pid"].mode().iloc[0])
    df = df[df["query_pid"] == pid]
    methods = plots.sort_methods(df["method"])
    k = int(df["rank"].max())

    def show(ax, rel, colour=None, title=""):
        img = cv2.imread(str(Path(work) / rel))
        if img is not None:
            ax.imshow(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        ax.set_xticks([]), ax.set_yticks([])
        ax.grid(False)
        if colour:
            for s in ax.spines.values():
                s.set_visible(True), s.set_color(colour), s.set_linewidth(3)
        ax.set_title(title, fontsize=7)

    with plots.style():
        fig, axes = plt.subplots(len(methods), k + 1, figsize=(1.1 * (k + 1), 2.1 * len(methods)), squeeze=False)
        for i, m in enumerate(methods):
            rows = df[df["method"] == m]
            rows = rows[rows["query_path"] == rows["query_path"].iloc[0]].sort_values("rank")
            show(axes[i, 0], rows["query_path"].iloc[0], "black", f"{m}\nquery pid {pid}")
            for j, (_, r) in enumerate(rows.iterrows(), start=1):
                show(axes[i, j], r["gallery_path"], "#1a9850" if r["is_match"] else "#d73027",
                     f"#{r['rank']} pid {r['gallery_pid']}\nd={r['distance']:.2f}")
            for j in range(len(rows) + 1, k + 1):
                axes[i, j].axis("off")
        fig.suptitle(f"Ranked original gallery ({embedder}, {protocol}): green = same person", fontsize=9)
    return fig
