"""One summary row per method from the tables of stages 01-06.

The stage tables are read by name (``Context.load_metrics``); a table or column that is missing
gives a note ("stage 04_drift not run: no table 'temporal'") and NaN cells, never an exception, so a
partial run still gets a report that says what it lacks.

Units in the summary: Rank-1, Rank-5, mAP, chance and their CIs in PERCENT (0-100; fractions in the
stage tables are converted); rates (leaked frames, face detection, face identification) as fractions
in [0, 1]; PSNR in dB; SSIM, OKS, PCK, recall in [0, 1]; drift as the embedder's distance; fps in
frames per second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from vidanon.figures.style import privacy_level, sort_methods


@dataclass(frozen=True)
class Metric:
    """A column of the summary: where it comes from and which direction is better."""

    name: str  # column in the summary
    label: str  # for tables and figures
    group: str  # privacy | temporal | quality | utility | speed
    better: str  # "lower" | "higher"
    bounds: tuple[float, float] | None = None  # fixed range for normalization (else 0..largest value)
    fmt: str = "{:.3f}"


METRICS = [
    Metric("rank1", "Rank-1, strongest attack (%)", "privacy", "lower", (0, 100), "{:.1f}"),
    Metric("mAP", "mAP, strongest attack (%)", "privacy", "lower", (0, 100), "{:.1f}"),
    Metric("rank1_naive", "Re-ID Rank-1, pretrained attacker (%)", "privacy", "lower", (0, 100), "{:.1f}"),
    Metric("rank1_adaptive", "Re-ID Rank-1, adaptive attacker (%)", "privacy", "lower", (0, 100), "{:.1f}"),
    Metric("faceid_rank1", "Face-ID Rank-1 (%)", "privacy", "lower", (0, 100), "{:.1f}"),
    Metric("faceid_verified", "Faces verified (share)", "privacy", "lower", (0, 1), "{:.2f}"),
    Metric("leaked_rate", "Leaked-face frames (share)", "privacy", "lower", (0, 1), "{:.3f}"),
    # of those, frames with a face the method left unchanged (missed), not a processed face-like head
    Metric("missed_rate", "Missed-face frames (share)", "privacy", "lower", (0, 1), "{:.3f}"),
    Metric("drift_mean", "Identity drift (mean)", "temporal", "lower"),
    Metric("drift_p95", "Identity drift (p95)", "temporal", "lower"),
    Metric("switches", "Identity switches", "temporal", "lower", None, "{:.0f}"),
    Metric("tLP", "tLP (x100)", "temporal", "lower", None, "{:.2f}"),
    Metric("warping_error", "Warping error (x1000)", "temporal", "lower", None, "{:.2f}"),
    Metric("psnr", "PSNR (dB)", "quality", "higher", None, "{:.1f}"),
    Metric("ssim", "SSIM", "quality", "higher", (0, 1)),
    Metric("perceptual", "Perceptual distance", "quality", "lower"),
    Metric("psnr_outside", "PSNR outside regions (dB)", "quality", "higher", None, "{:.1f}"),
    Metric("ssim_outside", "SSIM outside regions", "quality", "higher", (0, 1)),
    Metric("face_det_rate", "Face detection rate", "privacy", "lower", (0, 1), "{:.2f}"),
    Metric("utility", "Utility", "utility", "higher", (0, 1)),
    Metric("oks", "Pose OKS", "utility", "higher", (0, 1)),
    Metric("pck", "Pose PCK", "utility", "higher", (0, 1)),
    Metric("motion_error", "Motion error", "utility", "lower"),
    Metric("det_recall", "Person detection recall", "utility", "higher", (0, 1)),
    Metric("action_agreement", "Action top-1 agreement", "utility", "higher", (0, 1)),
    Metric("fps", "Speed (fps)", "speed", "higher", None, "{:.1f}"),
]
METRIC = {m.name: m for m in METRICS}


@dataclass(frozen=True)
class Source:
    """Columns taken from one stage table (the first of ``tables`` that exists; names of the stages'
    tables, older names after the current one): ``columns`` maps a summary column to candidate source
    columns (mean over the method's rows), ``sums`` likewise (sum), ``ratio`` to a (numerator,
    denominator) pair (sum / sum). ``absent`` is the note when no table exists."""

    stage: str
    tables: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ratio: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    sums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    absent: str | None = None
    agg: str = "mean"  # "max" for privacy leakage: the strongest attack (protocol) counts
    percent: tuple[str, ...] = ()  # summary columns converted from fractions to percent
    first_of: str | None = None  # keep only the rows of the first value of this column (e.g. one model)


SOURCES = [
    Source("01_anonymize", ("anonymize_speed", "anonymize_runs", "anonymize"),
           ratio={"fps": ("frames", "seconds")}),
    Source("01_anonymize", ("leaks", "leak_check"), ratio={"leaked_rate": ("leaked_frames", "frames"),
                                                           "missed_rate": ("unchanged_frames", "frames")},
           sums={"leaked_frames": ("leaked_frames",)}),
    Source("03_reid", ("faceid_summary", "faceid"), columns={
        "faceid_rank1": ("rank1", "faceid_rank1"), "faceid_verified": ("verified", "faceid_verified"),
    }, agg="max", percent=("faceid_rank1",)),
    # drift: distance of a track's anonymized crops to its first one (identity invariance), first model
    # of the table (04_drift lists the body re-ID model first; face-embedding distances have another scale)
    Source("04_drift", ("drift_summary",), columns={"drift_mean": ("to_first_mean", "mean", "drift_mean"),
                                                    "drift_p95": ("to_first_p95", "p95", "drift_p95")},
           sums={"switches": ("switches",)}, first_of="model"),
    Source("04_drift", ("temporal_summary", "temporal"), columns={"tLP": ("tlp_x100",),
                                                                  "warping_error": ("warp_error_x1000",)}),
    Source("05_quality", ("quality_summary", "quality"), columns={
        "psnr": ("psnr",), "ssim": ("ssim",), "perceptual": ("perceptual",),
        "psnr_outside": ("psnr_out", "psnr_outside"), "ssim_outside": ("ssim_out", "ssim_outside"),
    }),
    Source("05_quality", ("face_detection_summary", "face_detection_rate"), columns={
        "face_det_rate": ("rate", "face_detection_rate", "detection_rate"),
    }),
    Source("06_action", ("utility_summary",), columns={
        "oks": ("oks",), "oks_lo": ("oks_lo",), "oks_hi": ("oks_hi",),
        "pck": ("pck@0.1", "pck", "pck@0.05"), "motion_error": ("motion_error",),
        "det_recall": ("person_recall", "det_recall", "detection_recall"),
    }),
    Source("06_action", ("utility_action",), columns={"action_agreement": ("top1_agreement", "action_agreement")},
           absent="action recognition not run (06_action: utility.action is off or has no checkpoint)"),
]

ALL_TABLES = ["reid_summary", "reid", "utility_score", "privacy_body_shape"] + [t for s in SOURCES for t in s.tables]


def load_tables(load: Callable[[str], pd.DataFrame], names=None) -> dict[str, pd.DataFrame]:
    """Read the stage tables with ``load(name)`` (e.g. ``ctx.load_metrics``); missing ones are left out."""
    out = {}
    for name in names or ALL_TABLES:
        try:
            out[name] = load(name)
        except (FileNotFoundError, OSError):
            continue
    return out


def _pick(df: pd.DataFrame, candidates) -> str | None:
    for c in candidates:
        if c in df.columns:
            return c
    return None


def _as_percent(s: pd.Series) -> pd.Series:
    """Rank-1/mAP may come as fractions (all values <= 1) or percent; return percent."""
    s = pd.to_numeric(s, errors="coerce")
    finite = s.dropna()
    return s * 100.0 if len(finite) and finite.abs().max() <= 1.0 else s


NO_QUESTION_CHANCE = 99.999  # percent: chance Rank-1 of a gallery holding one identity only
MIN_QUERIES = 10  # an attack scored on fewer queries never wins unless it is all there is
MIN_IDENTITIES = 2  # nor one whose queries are all of one person (its CI, resampled by identity, is a point)
PRIMARY_ATTACKERS = ("naive", "reference")  # 03_reid: pretrained attacker; "reference" = original row


def _attack_name(df: pd.DataFrame) -> pd.Series:
    parts = [c for c in ("embedder", "protocol", "attacker", "mode") if c in df.columns]
    return df[parts].astype(str).agg(" / ".join, axis=1) if parts else pd.Series("", index=df.index)


def _best_per_method(df: pd.DataFrame) -> pd.DataFrame:
    """The row with the highest Rank-1 of each method (NaN last)."""
    return df.sort_values("rank1", ascending=False, kind="stable", na_position="last").drop_duplicates("method")


def select_reid(reid: pd.DataFrame, embedder: str | None = None, protocol: str | None = None, *,
                mode: str | None = None, faceid: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """One privacy row per method, Rank-1/Rank-5/mAP/chance and CIs in PERCENT.

    The headline (``rank1`` with its CI, ``mAP``, ``chance``, ``level``, and ``attack`` naming it) is
    the STRONGEST attack measured for the method: the highest Rank-1 of any re-ID attack in ``reid``
    (03_reid's: any embedder, protocol, crop mode and attacker, adaptive ones included; :func:`summarize`
    adds 06's body-shape attack) and of dlib face
    identification (``faceid``), since privacy is only as good as the best attacker's failure; a
    setting whose chance Rank-1 is 100 % (one identity in the gallery: no question asked), or scored on
    fewer than ``MIN_QUERIES`` queries or on the queries of fewer than ``MIN_IDENTITIES`` persons, never
    wins unless it is all a method has. Beside
    it: ``rank1_naive``, the pretrained (naive) attacker with ``embedder`` (default: the first in the
    table, i.e. the first of params.reid.embedders), ``protocol`` (default: the first, cross-clip) and
    ``mode`` (default: aligned crops), and ``rank1_adaptive`` in that setting. Returns ``(table indexed
    by method, {"attack": the naive setting})``."""
    df = reid.copy()
    if "chance" not in df.columns and "chance_rank1" in df.columns:
        df["chance"] = df["chance_rank1"]
    for col in ("rank1", "rank1_lo", "rank1_hi", "rank5", "mAP", "chance"):
        if col in df.columns:
            df[col] = _as_percent(df[col])
    df["attack"] = _attack_name(df)
    sel = df
    setting = {}
    for col, want in (("embedder", embedder), ("protocol", protocol),
                      ("mode", mode if mode is not None else ("aligned" if "aligned" in set(df.get("mode", ())) else None))):
        if col in sel.columns and len(sel):
            want = want if want is not None else sel[col].iloc[0]
            sel = sel[sel[col] == want]
            setting[col] = want
    primary = sel[sel["attacker"].isin(PRIMARY_ATTACKERS)] if "attacker" in sel.columns else sel
    out = pd.DataFrame({"rank1_naive": _best_per_method(primary).set_index("method")["rank1"]})
    if "attacker" in sel.columns:
        out["rank1_adaptive"] = _best_per_method(sel[sel["attacker"] == "adaptive"]).set_index("method")["rank1"]
    attacks = [df]
    if faceid is not None and {"method", "rank1"} <= set(faceid.columns) and len(faceid):
        f = faceid.copy()
        if "chance" not in f.columns and "chance_rank1" in f.columns:
            f["chance"] = f["chance_rank1"]
        for col in ("rank1", "rank1_lo", "rank1_hi", "mAP", "chance"):
            if col in f.columns:
                f[col] = _as_percent(f[col])
        f["attack"] = "dlib face identification" + (" / " + f["protocol"].astype(str) if "protocol" in f else "")
        attacks.append(f)
    keep = ["method", "rank1", "rank1_lo", "rank1_hi", "rank5", "mAP", "chance", "attack"]
    every = pd.concat([a[[c for c in keep + ["n_queries", "n_identities"] if c in a.columns]] for a in attacks],
                      ignore_index=True)
    asks = pd.Series(True, index=every.index)
    if "chance" in every.columns:
        # a gallery of one identity (chance 100 %) asks no identification question: its Rank-1 of 100 %
        # is no evidence of a leak, so it never wins unless a method has nothing else
        asks &= every["chance"].isna() | (every["chance"] < NO_QUESTION_CHANCE)
    if "n_queries" in every.columns:  # nor does a Rank-1 of 2 queries (e.g. 06's body shape on few tracks)
        asks &= every["n_queries"].isna() | (every["n_queries"] >= MIN_QUERIES)
    if "n_identities" in every.columns:  # nor the queries of one person (the default run's body-blur: 21 of one)
        asks &= every["n_identities"].isna() | (every["n_identities"] >= MIN_IDENTITIES)
    every = every[asks | ~every["method"].isin(every.loc[asks, "method"])]
    strongest = _best_per_method(every).set_index("method")
    out = strongest[[c for c in keep[1:] if c in strongest.columns]].join(out, how="outer")
    out["level"] = [privacy_level(v) for v in out["rank1"]]
    setting["attacker"] = "naive (pretrained)"
    return out, setting


def _aggregate(df: pd.DataFrame, src: Source, table: str, notes: list[str]) -> pd.DataFrame:
    if "method" not in df.columns:
        notes.append(f"table '{table}' ({src.stage}) has no 'method' column: skipped")
        return pd.DataFrame()
    if src.first_of and src.first_of in df.columns and df[src.first_of].nunique() > 1:
        first = df[src.first_of].iloc[0]
        notes.append(f"table '{table}' ({src.stage}): {src.first_of} {first!r} summarized "
                     f"(others: {sorted(map(str, set(df[src.first_of]) - {first}))})")
        df = df[df[src.first_of] == first]
    g = df.groupby("method", sort=False)
    out = pd.DataFrame(index=pd.Index(list(g.groups), name="method"))
    for dst, cands in src.columns.items():
        col = _pick(df, cands)
        if col is None:
            if not dst.endswith(("_lo", "_hi")):
                notes.append(f"table '{table}' ({src.stage}) has no column for {dst} (looked for {list(cands)})")
            continue
        v = _as_percent(df[col]) if dst in src.percent else pd.to_numeric(df[col], errors="coerce")
        out[dst] = v.groupby(df["method"], sort=False).agg(src.agg)
    for dst, cands in src.sums.items():
        col = _pick(df, cands)
        if col is not None:
            out[dst] = g[col].apply(lambda s: pd.to_numeric(s, errors="coerce").sum())
    for dst, (num, den) in src.ratio.items():
        if num in df.columns and den in df.columns:
            n = g[num].apply(lambda s: pd.to_numeric(s, errors="coerce").sum())
            d = g[den].apply(lambda s: pd.to_numeric(s, errors="coerce").sum())
            out[dst] = (n / d.replace(0, np.nan)).astype(float)
        else:
            notes.append(f"table '{table}' ({src.stage}) lacks '{num}'/'{den}' for {dst}")
    return out


def utility_column(tables: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, str, str]:
    """The utility number per method with its CI, a short label and its definition.

    THE utility number is defined once, by 06_action (``vidanon.stages.action.utility_score``, saved as the
    table 'utility_score': ``method, utility, ci_low, ci_high, definition``). Without that table the
    pose OKS of 'utility_summary' is used and labelled as such (never renamed "utility")."""
    score = tables.get("utility_score")
    if score is not None and len(score) and {"method", "utility"} <= set(score.columns):
        df = score.rename(columns={"ci_low": "utility_lo", "ci_high": "utility_hi"})
        cols = [c for c in ("utility", "utility_lo", "utility_hi") if c in df.columns]
        definition = str(df["definition"].dropna().iloc[0]) if "definition" in df and df["definition"].notna().any() \
            else "vidanon.stages.action.utility_score"
        short = definition.split(" (")[0].split(";")[0].strip()
        return df.groupby("method", sort=False)[cols].mean(), f"Utility: {short}", definition
    summ = tables.get("utility_summary")
    if summ is not None and len(summ) and {"method", "oks"} <= set(summ.columns):
        cols = {"oks": "utility", "oks_lo": "utility_lo", "oks_hi": "utility_hi"}
        sub = summ[["method"] + [c for c in cols if c in summ.columns]].rename(columns=cols)
        return (sub.groupby("method", sort=False).mean(), "Pose preservation (OKS)",
                "mean OKS of 06_action's utility_summary (table 'utility_score' missing)")
    return pd.DataFrame(), "", ""


def summarize(tables: Mapping[str, pd.DataFrame], embedder: str | None = None, protocol: str | None = None
              ) -> tuple[pd.DataFrame, list[str], dict]:
    """Combine the stage tables into one row per method.

    Returns ``(summary, notes, info)``: ``summary`` is indexed by method (canonical order, see
    vidanon.figures.style.sort_methods) with the columns of :data:`METRICS` that could be computed plus CIs
    (``rank1_lo/hi``, ``utility_lo/hi``), ``level``, ``chance`` and ``attack``; ``notes`` lists what was
    missing; ``info`` holds labels (``utility_label``, ``perceptual_name``)."""
    notes: list[str] = []
    info: dict = {"utility_label": "", "utility_definition": "", "perceptual_name": None, "reid_setting": {}}
    parts = []
    reid = next((tables[t] for t in ("reid_summary", "reid") if t in tables and len(tables[t])), None)
    shape = tables.get("privacy_body_shape")  # 06's body-shape attack: one more re-ID attack
    if reid is not None and shape is not None and len(shape) and {"method", "rank1"} <= set(shape.columns):
        reid = pd.concat([reid, shape], ignore_index=True)
    if reid is not None and {"method", "rank1"} <= set(reid.columns):
        table, setting = select_reid(reid, embedder, protocol, faceid=tables.get("faceid_summary"))
        parts.append(table)
        info["reid_setting"] = setting
    else:
        notes.append("stage 03_reid not run: no table 'reid_summary' (privacy Rank-1 missing)")
    for src in SOURCES:
        table = next((t for t in src.tables if t in tables and len(tables[t])), None)
        if table is None:
            notes.append(src.absent or f"stage {src.stage} not run: no table '{src.tables[0]}'")
            continue
        parts.append(_aggregate(tables[table], src, table, notes))
    for t in ("quality_summary", "quality"):
        col = _pick(tables.get(t, pd.DataFrame()), ("perceptual_metric", "perceptual_name"))
        if col is not None:
            info["perceptual_name"] = ", ".join(map(str, tables[t][col].dropna().unique())) or None
            break
    util, label, definition = utility_column(tables)
    if len(util):
        parts.append(util)
        info["utility_label"], info["utility_definition"] = label, definition
    else:
        notes.append("stage 06_action not run: no table 'utility_score' or 'utility_summary' (utility missing)")
    parts = [p for p in parts if len(p.columns)]
    if not parts:
        return pd.DataFrame(index=pd.Index([], name="method")), notes, info
    summary = pd.concat(parts, axis=1)
    summary = summary.loc[:, ~summary.columns.duplicated()]
    summary.index.name = "method"
    return summary.reindex(sort_methods(summary.index)), notes, info


def normalized(summary: pd.DataFrame, metrics=None) -> pd.DataFrame:
    """Every metric of the summary on [0, 1] with 1 = best, for fingerprints.

    Metrics with a fixed range (:attr:`Metric.bounds`, e.g. Rank-1 0-100) are scaled by it; the others
    (all non-negative: drift, tLP, PSNR, fps, ...) by [0, largest finite value of the methods shown],
    so 0 drift scores 1 and they compare the methods of THIS run only. 'lower is better' metrics are
    flipped; inf (PSNR of an unchanged video) is the best end. All-NaN metrics are dropped."""
    out = {}
    for m in metrics or METRICS:
        if m.name not in summary.columns:
            continue
        v = pd.to_numeric(summary[m.name], errors="coerce").astype(float)
        if v.isna().all():
            continue
        if m.bounds:
            lo, hi = m.bounds
        else:
            finite = v[np.isfinite(v)]
            lo, hi = 0.0, (float(finite.max()) if len(finite) else 0.0)
        span = hi - lo
        x = ((v - lo) / span if span > 0 else v * 0.0).clip(0, 1)
        out[m.name] = 1 - x if m.better == "lower" else x
    return pd.DataFrame(out, index=summary.index)
