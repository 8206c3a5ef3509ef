"""Stage 03_reid: how often an attacker re-identifies anonymized people.

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
- ``finetuned`` (``reid.finetuned``, off by default: minutes per method on a CPU): the standard strong
  attacker of Hanisch et al. 2023. The OSNet embedder is trained further (vidanon.models.embed.finetune)
  on the method's anonymized crops of OTHER identities (leave-identities-out folds: each query is
  ranked by the model of the fold that never saw its identity), then matches anonymized against
  anonymized as the parrot does.
- ``adaptive``: the strongest of naive, parrot, learned (and finetuned) for each method x embedder x
  protocol x mode (highest Rank-1, then mAP): an attacker who knows the method uses whichever attack
  works best, and is never weaker than the naive one. The choice is made on the test queries, so it is
  a worst case for the method (slightly optimistic for the attacker); its note names the attack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from vidanon.core.versions import ORIGINAL, PROTOCOLS, camids_for
from vidanon.io.crops import read_market_folder
from vidanon.metrics import attacks, ranking
from vidanon.models.embed import embed_files

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["method", "embedder", "protocol", "attacker", "mode", "direction", "rank1", "rank1_lo", "rank1_hi",
                   "rank5", "rank10", "mAP", "mAP_lo", "mAP_hi", "mINP", "chance_rank1", "chance_mAP",
                   "privacy_level", "n_queries", "n_gallery", "n_identities", "note"]


def _pairs(anon: pd.DataFrame, orig: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of aligned (anonymized, original) crops: same clip, frame and track."""
    key = ["clip", "frame", "track_id"]
    a = anon.reset_index(drop=True).reset_index(names="ia")[key + ["ia"]]
    o = orig.reset_index(drop=True).reset_index(names="io")[key + ["io"]].drop_duplicates(key)
    m = a.merge(o, on=key)
    return m["ia"].to_numpy(), m["io"].to_numpy()


def top_k(distmat, q_pids, g_pids, q_camids, g_camids, *, query: int, k: int = 5) -> pd.DataFrame:
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

    @classmethod
    def of(cls, rows: pd.DataFrame, feats: dict, protocol: str) -> "Side":
        """The side of manifest ``rows`` with ``feats`` (path -> feature) under ``protocol``."""
        return cls(rows, np.stack([feats[p] for p in rows["path"]]), rows["pid"].to_numpy(),
                   camids_for(rows, protocol))


@dataclass
class _Tables:
    """What evaluate_manifest collects: summary rows, per-identity and ranked-gallery frames."""

    rows: list = field(default_factory=list)
    per_id: list = field(default_factory=list)
    ranked: list = field(default_factory=list)


def _record(out: _Tables, label: dict, q: Side, g: Side, *, n_boot: int, seed: int, top: int, note: str = "",
            ranked: bool = True, dist: np.ndarray | None = None) -> dict:
    """Score q against g (cosine distances of their features, or ``dist`` (Q, G) when given) and append
    the summary row, the per-identity rows and (``ranked``) the top-``top`` gallery of the first query of
    each identity to ``out``; returns the summary row."""
    dist = ranking.cosine_distmat(q.feats, g.feats) if dist is None else dist
    ev = ranking.score(dist, q.pids, g.pids, q.cams, g.cams, n_boot=n_boot, seed=seed)
    row = label | ev.row | ({"note": note} if note and not ev.row["note"] else {})
    out.rows.append(row)
    per_query = pd.DataFrame(ev.per_query)
    if per_query.empty:
        return row
    grp = per_query.groupby("pid")
    out.per_id.append(pd.DataFrame(label | {
        "pid": grp.size().index, "n_queries": grp.size().to_numpy(),
        "rank1": grp["first_rank"].apply(lambda r: float((r == 1).mean())).to_numpy(),
        "mAP": grp["ap"].mean().to_numpy()}))
    if not ranked:
        return row
    for qi in grp["query"].first():
        t = top_k(dist, q.pids, g.pids, q.cams, g.cams, query=int(qi), k=top)
        out.ranked.append(pd.DataFrame(label | {
            "query_path": q.df["path"].iloc[qi], "query_pid": int(q.pids[qi]), "rank": t["rank"],
            "gallery_path": g.df["path"].iloc[t["gallery"]].to_numpy(), "gallery_pid": g.pids[t["gallery"]],
            "distance": t["distance"], "is_match": t["is_match"]}))
    return row


def _label(*, method: str, embedder: str, protocol: str, mode: str, attacker: str, direction: str) -> dict:
    """The columns that name one scored setting, in the tables' order."""
    return dict(method=method, embedder=embedder, protocol=protocol, attacker=attacker, mode=mode,
                direction=direction)


def _attack_method(out: _Tables, label, *, anon: pd.DataFrame, orig: pd.DataFrame, q: Side, g: Side,
                   reverse: bool, adaptive: bool, scoring: dict, protocol: str = "", finetuned: "Tuned | None" = None,
                   learned: dict | None = None) -> None:
    """Every attacker on the anonymized queries ``q`` of one method (see the module doc); ``learned``
    keeps the learned attacker's features between protocols (they do not depend on the camids)."""
    naive = _record(out, label(attacker="naive", direction="anonymized->original"), q, g, **scoring)
    if reverse:
        _record(out, label(attacker="naive", direction="original->anonymized"), g, q, **scoring, ranked=False)
    if not adaptive:
        return
    parrot = _record(out, label(attacker="parrot", direction="anonymized->anonymized"), q, q, **scoring,
                     note="gallery anonymized with the same method", ranked=False)
    learned = {} if learned is None else learned
    if "features" not in learned:
        pair_q, pair_g = _pairs(anon, orig)
        learned["features"] = attacks.learned_features(q.feats, anon["pid"].to_numpy(), g.feats, pair_q=pair_q,
                                                       pair_g=pair_g)
    qa, ga, note = learned["features"]
    learned = _record(out, label(attacker="learned", direction="anonymized->original"), replace(q, feats=qa),
                      replace(g, feats=ga),
                      **scoring, note=note, ranked=False)
    rows = [naive, parrot, learned]
    if finetuned is not None:  # a Tuned of finetuned_distmat
        rows.append(_record(out, label(attacker="finetuned", direction="anonymized->anonymized"), q, q, **scoring,
                            note=finetuned.note + _seed_spread(finetuned, protocol), ranked=False,
                            dist=finetuned.dist))
    out.rows.append(attacks.strongest(rows))


def _seed_spread(tuned: "Tuned", protocol: str) -> str:
    """``"; each seed alone: Rank-1 a-b %"`` for an ensemble of several seeds (under ``protocol``), so the
    training noise is seen beside the bootstrap CI; "" for one seed."""
    r1 = tuned.seed_rank1.get(protocol)
    if not r1:
        return ""
    return f"; each seed alone: Rank-1 {100 * np.nanmin(r1):.1f}-{100 * np.nanmax(r1):.1f} %"


def identity_folds(pids: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Fold (0 .. folds-1) of each row: identities dealt at random (seeded) into ``folds`` groups of
    about equal size, so that no identity is in two folds."""
    ids = np.unique(pids)
    perm = np.random.default_rng(seed).permutation(ids)
    fold_of = {int(pid): i % folds for i, pid in enumerate(perm)}
    return np.array([fold_of[int(p)] for p in pids], int)


class Tuned(NamedTuple):
    """The fine-tuned attacker on one crop set: ``dist`` (N, N) cosine distances (the mean over seeds),
    the ``note`` of its rows, and, for several seeds, each seed's own Rank-1 under each protocol
    (``seed_rank1``: ``{protocol: [fraction, ...]}``; empty for one seed)."""

    dist: np.ndarray
    note: str
    seed_rank1: dict


def finetuned_distmat(anon: pd.DataFrame, *, recipe, folds: int, seeds: int = 1, cache_dir: Path | None = None,
                      label: str = "", executor=None) -> Tuned | None:
    """(N, N) cosine distances between a method's anonymized crops (``anon``: manifest rows, pid >= 0)
    under the fine-tuned attacker, with the note for its rows (:class:`Tuned`); None when a fold would
    train on fewer than 2 identities. Row i comes from the model fine-tuned on the folds that do not hold
    row i's identity (:func:`identity_folds`; vidanon.models.embed.finetune with ``recipe``), so no query
    is ranked by a model that saw its person. ``seeds`` > 1: as many models per fold, each with its own
    seed (``recipe.seed + s``) and its own folds, and the distances are their mean (an ensemble: training
    noise averages out). The training time goes to the log. See :func:`finetuned_distmats` (several
    methods at once, each fold a job of ``executor``)."""
    return finetuned_distmats({label: anon}, recipe=recipe, folds=folds, seeds=seeds, cache_dir=cache_dir,
                              executor=executor)[label]


def finetuned_distmats(anons: dict, *, recipe, folds: int, seeds: int = 1, cache_dir: Path | None = None,
                       executor=None) -> dict:
    """:func:`finetuned_distmat` of several crop sets at once (``{label: manifest rows}``), every fold of
    every seed of every set trained as one job of ``executor`` (in parallel); ``{label: Tuned or None}``."""
    from vidanon.core.executor import Serial
    from vidanon.io import cache

    out, jobs, plan = {}, [], []
    for label, anon in anons.items():
        pids = anon["pid"].to_numpy().astype(int)
        recipes = [replace(recipe, seed=recipe.seed + s) for s in range(seeds)]
        splits = [identity_folds(pids, folds, r.seed) for r in recipes]
        if any(np.unique(pids[fold != f]).size < 2 for fold in splits for f in range(folds)):
            log.info("finetuned attacker %s: too few identities (%d) for %d folds; left out", label,
                     np.unique(pids).size, folds)
            out[label] = None
            continue
        paths = [str(p) for p in anon["path"]]
        keys = [cache.file_hash(p) for p in paths]
        for s, (r, fold) in enumerate(zip(recipes, splits)):
            for f in range(folds):
                jobs.append((paths, keys, pids, np.flatnonzero(fold != f), r, cache_dir))
                plan.append((label, s, f, fold))
    done = (executor or Serial()).map(_finetune_fold, jobs, label="finetuned attacker")
    note = (f"{recipe.base} fine-tuned {recipe.epochs} epochs on the method's crops of other identities "
            f"({folds} leave-identities-out folds{f', ensemble of {seeds} seeds' if seeds > 1 else ''}); "
            f"gallery anonymized with the same method")
    per_seed: dict = {}
    seconds: dict = {}
    for (label, s, f, fold), (feats, secs) in zip(plan, done):
        dists = per_seed.setdefault(label, {})
        if s not in dists:
            dists[s] = np.empty((len(fold), len(fold)), np.float64)
        test = fold == f
        dists[s][test] = ranking.cosine_distmat(feats[test], feats)
        seconds[label] = seconds.get(label, 0.0) + secs
    for label, dists in per_seed.items():
        mats = [dists[s] for s in sorted(dists)]
        spread = {}
        if len(mats) > 1:  # each seed alone, under each protocol (only the ensemble's distances are kept)
            pids = anons[label]["pid"].to_numpy()
            for protocol in PROTOCOLS:
                cams = camids_for(anons[label], protocol)
                spread[protocol] = [ranking.score(d, pids, pids, cams, cams, n_boot=0).row["rank1"] for d in mats]
        out[label] = Tuned(mats[0] if len(mats) == 1 else np.mean(mats, axis=0), note, spread)
    for label, secs in seconds.items():
        anon = anons[label]
        log.info("finetuned attacker %s: %d crops of %d identities, %d folds x %d seeds, trained in %.0f s%s", label,
                 len(anon), anon["pid"].nunique(), folds, seeds, secs, " (cached)" if secs == 0 else "")
    return out


def _finetune_fold(job) -> tuple[np.ndarray, float]:
    """One fold in a worker: the model trained on the other folds' rows, every crop embedded by it."""
    from vidanon.io.crops import read_crops
    from vidanon.models.embed import finetune as ft

    paths, keys, pids, train, recipe, cache_dir = job
    crops = read_crops(paths)
    model = ft.finetune([crops[i] for i in train], pids[train], recipe=recipe, crop_keys=[keys[i] for i in train],
                        cache_dir=cache_dir)
    return model.embed(crops), model.seconds


def _score_mode(job) -> _Tables:
    """One embedder x crop mode in a worker: the reference and every attacker of every method under
    every protocol (the rows in :func:`evaluate_manifest`'s order)."""
    emb_name, mode, orig, rows, feats, opts = job
    out = _Tables()
    learned_by: dict = {}  # the learned attacker's features do not depend on the protocol
    scoring = opts["scoring"]
    for protocol in opts["protocols"]:
        g = Side.of(orig, feats, protocol)
        _record(out, _label(method=ORIGINAL, embedder=emb_name, protocol=protocol, mode=mode, attacker="reference",
                            direction="original->original"), g, g, **scoring)
        for m in opts["methods"]:
            anon = rows[rows["method"] == m].reset_index(drop=True)
            if anon.empty:
                continue
            label = partial(_label, method=m, embedder=emb_name, protocol=protocol, mode=mode)
            _attack_method(out, label, anon=anon, orig=orig, q=Side.of(anon, feats, protocol), g=g,
                           reverse=opts["reverse"], adaptive=opts["adaptive"], scoring=scoring, protocol=protocol,
                           finetuned=opts["tuned"].get(m), learned=learned_by.setdefault(m, {}))
    return out


def evaluate_manifest(manifest: pd.DataFrame, embedders, *, protocols=PROTOCOLS, reverse: bool = False,
                      adaptive: bool = True, n_boot: int = 1000, seed: int = 0, top: int = 5,
                      cache_dir: Path | None = None, finetune: dict | None = None, executor=None):
    """Every method x embedder x protocol x attacker of a crops manifest.

    ``manifest``: the crops contract (docs/architecture.md) with absolute ``path``; rows with pid < 0
    are left out. ``embedders``: objects of vidanon.models.embed. Returns (summary, per_identity, ranked):
    the summary table (SUMMARY_COLUMNS), per-identity Rank-1/mAP, and for each method x embedder x
    protocol the top-``top`` gallery of one query of each identity (paths, true match marked).
    ``cache_dir``: where crop features are kept between runs (:func:`vidanon.models.embed.embed_files`).
    ``finetune``: ``{"recipe": finetune.Recipe, "folds": int, "seeds": int (optional, 1), "modes": [...],
    "cache_dir": Path}`` adds the
    fine-tuned attacker (:func:`finetuned_distmat`) for the embedder named ``recipe.base``, in those crop
    modes, to the adaptive attacker's choice.
    ``executor``: embeds the crops, trains the fine-tuned attacker's folds and scores each embedder x crop
    mode in its workers.
    """
    from vidanon.core.executor import Serial

    df = manifest[manifest["pid"] >= 0].reset_index(drop=True)
    if df.empty:
        raise ValueError("manifest: no crop with a known identity (pid >= 0); check the ground truth")
    if ORIGINAL not in set(df["method"]):
        raise ValueError(f"manifest: no '{ORIGINAL}' crops to form the gallery")
    methods = [m for m in dict.fromkeys(df["method"]) if m != ORIGINAL]
    paths = df["path"].drop_duplicates().tolist()
    scoring = {"n_boot": n_boot, "seed": seed, "top": top}
    out = _Tables()
    tuned_by: dict = {}
    if adaptive and finetune and finetune["recipe"].base in [e.name for e in embedders]:
        sets = {(m, mode): df[(df["method"] == m) & (df["mode"] == mode)].reset_index(drop=True)
                for m in methods for mode in finetune["modes"]}
        tuned_by = finetuned_distmats({k: v for k, v in sets.items() if len(v)}, recipe=finetune["recipe"],
                                      folds=finetune["folds"], seeds=finetune.get("seeds", 1),
                                      cache_dir=finetune.get("cache_dir"), executor=executor)
    jobs = []
    orig_all = df[df["method"] == ORIGINAL]
    for emb in embedders:
        # each crop file embedded once (and kept: 04_drift reads the same features)
        feats = dict(zip(paths, embed_files(emb, paths, cache_dir=cache_dir, executor=executor)))
        for mode in sorted(set(df["mode"])):  # each crop mode scored by a job of its own
            orig = orig_all[orig_all["mode"] == mode] if mode in set(orig_all["mode"]) else orig_all
            orig = orig.drop_duplicates("path").reset_index(drop=True)
            rows = df[(df["method"] != ORIGINAL) & (df["mode"] == mode)]
            tuned = ({m: tuned_by.get((m, mode)) for m in methods}
                     if finetune and emb.name == finetune["recipe"].base else {})
            jobs.append((emb.name, mode, orig, rows, {p: feats[p] for p in pd.concat([orig, rows])["path"]},
                         dict(methods=methods, protocols=list(protocols), reverse=reverse, adaptive=adaptive,
                              scoring=scoring, tuned=tuned)))
    for part in (executor or Serial()).map(_score_mode, jobs, label="re-ID scoring", costs=[len(j[3]) for j in jobs]):
        out.rows += part.rows
        out.per_id += part.per_id
        out.ranked += part.ranked
    concat = lambda parts: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()  # noqa: E731
    summary = pd.DataFrame(out.rows)
    summary = summary[SUMMARY_COLUMNS]
    return summary, concat(out.per_id), concat(out.ranked)


LEAK_VIEWS = {"aligned": "full crop", "person-only": "person only", "context": "context only"}


def leak_table(summary: pd.DataFrame) -> pd.DataFrame:
    """What leaks: per method and crop view (full crop, person only, context only; 02_crop's modes
    ``aligned``, ``person-only``, ``context``), the strongest re-ID attack's Rank-1 with its CI and
    chance, and the attack that won (embedder / protocol / attacker).

    Strongest = highest Rank-1 over every embedder, protocol and attacker of that view (the
    ``adaptive`` rows are already among them), leaving out settings whose chance Rank-1 is 1 (a
    gallery of one identity asks no question) unless nothing else is there. ``original`` rows are the
    reference attacker: how much each view holds at best. Fractions in [0, 1]."""
    cols = ["method", "view", "rank1", "rank1_lo", "rank1_hi", "chance_rank1", "n_queries", "attack"]
    df = summary[summary["mode"].isin(list(LEAK_VIEWS))].copy()
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["view"] = df["mode"].map(LEAK_VIEWS)
    df["attack"] = df["embedder"].astype(str) + " / " + df["protocol"].astype(str) + " / " + df["attacker"].astype(str)
    asks = df["chance_rank1"].isna() | (df["chance_rank1"] < 1 - 1e-9)
    key = ["method", "view"]
    has_question = df[asks].groupby(key).size()
    df = df[asks | ~df.set_index(key).index.isin(has_question.index)]
    best = df.sort_values("rank1", ascending=False, kind="stable", na_position="last").drop_duplicates(key)
    order = {m: i for i, m in enumerate(dict.fromkeys(summary["method"]))}
    best = best.assign(_m=best["method"].map(order), _v=best["view"].map(
        {v: i for i, v in enumerate(LEAK_VIEWS.values())})).sort_values(["_m", "_v"])
    return best[cols].reset_index(drop=True)


def describe_leaks(leaks: pd.DataFrame) -> list[str]:
    """One sentence per anonymized method from :func:`leak_table`: which view re-identifies it more, the
    person alone or the context alone, with both Rank-1s, their CIs and chance (percent)."""
    out = []
    pct = lambda r: (f"{100 * r.rank1:.0f}% [{100 * r.rank1_lo:.0f}, {100 * r.rank1_hi:.0f}] (chance "  # noqa: E731
                     f"{100 * r.chance_rank1:.0f}%, {r.attack})")
    for method, g in leaks[leaks["method"] != ORIGINAL].groupby("method", sort=False):
        views = {r.view: r for r in g.itertuples()}
        person, context = views.get("person only"), views.get("context only")
        if person is None or context is None:
            continue
        overlap = not (person.rank1_lo > context.rank1_hi or context.rank1_lo > person.rank1_hi)
        lead = ("the person and the context re-identify it about equally (the CIs overlap)" if overlap
                else "the person re-identifies it more than the context" if person.rank1 > context.rank1
                else "the context re-identifies it more than the person")
        out.append(f"**{method}**: {lead}: person only {pct(person)}, context only {pct(context)}.")
    return out


def run(ctx) -> dict[str, pd.DataFrame]:
    """03_reid: reads the crops manifest and saves the tables ``reid_summary`` (also Markdown),
    ``reid_per_identity``, ``reid_ranked`` (paths relative to work/<run>/) and, when ``crops.leak_modes`` are
    set, ``reid_leaks`` (:func:`leak_table`), and returns them. The
    face identification table comes from :func:`vidanon.stages.faceid.run`."""
    from vidanon.io.crops import load_manifest
    from vidanon.models import embed

    p = ctx.params.reid
    manifest = load_manifest(ctx.work)
    embedders = [embed.get(n, device=ctx.params.device) for n in p.embedders]
    finetune = None
    if p.finetuned:
        from vidanon.core.errors import ParamsError
        from vidanon.models.embed.finetune import Recipe

        # the smallest OSNet first: the fine-tuning runs on the CPU (Hanisch et al.'s attacker is x0.25)
        bases = sorted((n for n in p.embedders if n.startswith("osnet")), key=lambda n: "x0_25" not in n)
        if not bases:
            raise ParamsError("reid.finetuned: fine-tuning needs an OSNet embedder in reid.embedders")
        finetune = {"recipe": Recipe(base=bases[0], epochs=p.finetune_epochs, seed=p.seed), "folds": p.finetune_folds,
                    "seeds": p.finetune_seeds, "modes": ["aligned"], "cache_dir": ctx.work / "finetuned"}
    from vidanon.core import executor

    summary, per_id, ranked = evaluate_manifest(manifest, embedders, protocols=p.protocols, reverse=p.reverse,
                                                adaptive=p.adaptive, n_boot=p.bootstrap, seed=p.seed,
                                                cache_dir=ctx.work / "features", finetune=finetune,
                                                executor=executor.of(ctx))
    if len(ranked):
        ranked = ranked.assign(query_path=[_rel(x, ctx.work) for x in ranked["query_path"]],
                               gallery_path=[_rel(x, ctx.work) for x in ranked["gallery_path"]])
    tables = {"reid_summary": summary, "reid_per_identity": per_id, "reid_ranked": ranked}
    if set(ctx.params.crops.leak_modes) & set(summary["mode"]):
        tables["reid_leaks"] = leak_table(summary)
    for name, df in tables.items():
        ctx.save_table(df, name, formats=("csv", "md") if name == "reid_summary" else ("csv",))
    return tables


def _rel(path: str, work: Path) -> str:
    """A crop path relative to work/<run>/ (tables never hold machine paths)."""
    try:
        return str(Path(path).relative_to(Path(work)))
    except ValueError:
        return str(path)


def evaluate_folders(query_dir, gallery_dir, embedder, *, camid: str = "cam", n_boot: int = 1000,
                     seed: int = 0, max_rank: int = 50) -> tuple[dict, np.ndarray]:
    """Rank-k, mAP, mINP, CIs, chance and privacy level of a query folder against a gallery folder
    (both Market-1501-style). Returns (summary dict, CMC curve). DataError when no query identity
    can be matched in the gallery."""
    from vidanon.core.errors import DataError

    q, g = read_market_folder(query_dir, camid), read_market_folder(gallery_dir, camid)
    common = np.intersect1d(q["pid"], g["pid"])
    if len(common) == 0:
        raise DataError(f"no query identity of {query_dir} (pids {sorted(set(q['pid']))[:10]}) appears in "
                        f"{gallery_dir} (pids {sorted(set(g['pid']))[:10]}): the folders do not match")
    qf, gf = embed_files(embedder, q["path"]), embed_files(embedder, g["path"])
    dist = ranking.cosine_distmat(qf, gf)
    ev = ranking.score(dist, q["pid"].to_numpy(), g["pid"].to_numpy(), q["camid"].to_numpy(),
                       g["camid"].to_numpy(), n_boot=n_boot, seed=seed, max_rank=max_rank)
    if ev.result is None:
        raise DataError(f"every true match of the queries in {query_dir} lies in the same camera (camid) in "
                        f"{gallery_dir}, and the protocol removes those; nothing to rank. Use crops of "
                        "other cameras / segments, or --camid cam-seq to split cameras by segment.")
    row = {"query_dir": str(query_dir), "gallery_dir": str(gallery_dir), "model": embedder.name,
           "n_query_files": len(q), "n_gallery_files": len(g)} | ev.row
    return row, ev.result.cmc
