"""Figures of 03_reid: Rank-1 bars with CIs, chance and privacy bands; Rank-1 per identity; the
ranked gallery of a query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _rank1_bars(ax, x, sub: pd.DataFrame, width: float, **bar_kw) -> None:
    """Rank-1 bars (percent) of ``sub`` (rows in x order) with 95% CI whiskers and the chance level as a
    black tick."""
    y = 100 * sub["rank1"].to_numpy(float)
    err = np.abs(100 * sub[["rank1_lo", "rank1_hi"]].to_numpy(float).T - y)
    ax.bar(x, y, width * 0.95, yerr=np.nan_to_num(err), capsize=2, edgecolor="black", linewidth=0.5, **bar_kw)
    ax.scatter(x, 100 * sub["chance_rank1"].to_numpy(float), marker="_", s=120, color="black", zorder=5)


def _method_axis(ax, methods: list[str], ylabel: str) -> None:
    """Methods on the x axis in their colours, Rank-1 from 0 to 100 % on the y axis."""
    from vidanon.figures import style as plots

    ax.set_xticks(np.arange(len(methods)), methods, rotation=30, ha="right")
    for label in ax.get_xticklabels():
        label.set_color(plots.method_color(label.get_text()))
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)


def figure_rank1(summary: pd.DataFrame, protocol: str, mode: str | None = None,
                 direction: str = "anonymized->original"):
    """Bars of Rank-1 (percent) per method, one bar per embedder (colour) and attacker (hatched =
    adaptive; the 'original' reference sits in the naive slot), 95% CI whiskers,
    the chance level as a black tick, over the shaded privacy bands. Embedders by their real names."""
    import matplotlib.pyplot as plt

    from vidanon.figures import style as plots

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
            _rank1_bars(ax, x, sub, width, label=f"{emb} ({att})", color=palette[embedders.index(emb) % len(palette)],
                        hatch="//" if att == "adaptive" else None)
        _method_axis(ax, methods, "Rank-1 re-identification (%)")
        ax.set_title(f"Re-identification of anonymized people ({protocol}); black tick = chance")
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.3),
                  title="embedder (attacker); hatched = adaptive",
                  title_fontsize=7)
    return fig


def figure_leaks(leaks: pd.DataFrame):
    """What leaks (vidanon.stages.reid.leak_table): per method, the strongest attack's Rank-1 (percent,
    95% CI whiskers) on the full crop, on the person alone and on the context alone, the chance level
    as a black tick, over the shaded privacy bands."""
    import matplotlib.pyplot as plt

    from vidanon.figures import style as plots

    methods = plots.sort_methods(leaks["method"])
    views = list(dict.fromkeys(leaks["view"]))
    colors = {"full crop": "#555555", "person only": "#0072B2", "context only": "#E69F00"}
    with plots.style():
        fig, ax = plt.subplots(figsize=(min(16.0, max(6.0, 2 + 0.3 * len(methods) * len(views))), 4.0))
        plots.shade_privacy_bands(ax, axis="y")
        width = 0.8 / max(len(views), 1)
        for vi, view in enumerate(views):
            sub = leaks[leaks["view"] == view].set_index("method").reindex(methods)
            x = np.arange(len(methods)) + (vi - (len(views) - 1) / 2) * width
            _rank1_bars(ax, x, sub, width, label=view, color=colors.get(view, "#999999"))
        _method_axis(ax, methods, "Rank-1, strongest attack (%)")
        ax.set_title("What leaks: the person alone, the context alone (black tick = chance)", fontsize=10)
        ax.legend(fontsize=8, ncol=len(views), loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


def figure_per_identity(per_id: pd.DataFrame, embedder: str, protocol: str, attacker: str = "naive"):
    """Heat map of Rank-1 (percent) per method (rows) and identity (columns) for one embedder."""
    import matplotlib.pyplot as plt

    from vidanon.figures import style as plots

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


def figure_ranked(ranked: pd.DataFrame, work, embedder: str, protocol: str, *, pid: int | None = None):
    """One row per method: a query crop and its top-k gallery crops, true matches framed green,
    wrong ones red (paths of ``ranked`` relative to ``work``)."""
    import cv2
    import matplotlib.pyplot as plt

    from vidanon.figures import style as plots

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
