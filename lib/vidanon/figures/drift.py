"""Figures of 04_drift: drift curves, the summary bars, the filmstrip of one track and the embedding
trajectories (matplotlib static figures are what the HTML render shows; plotly for the trajectories)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from vidanon.core.versions import evenly_spaced
from vidanon.io.crops import read_crop


def figure_drift_curves(frames: pd.DataFrame, model: str, column: str = "to_original", max_clips: int = 12):
    """One panel per clip (its longest track): ``column`` over frames, one line per method."""
    import matplotlib.pyplot as plt

    from vidanon.figures.style import method_color, sort_methods, style

    f = frames[(frames["model"] == model) & frames[column].notna()]
    clips = list(dict.fromkeys(f["clip"]))[:max_clips]
    label = {"to_original": "distance to the original crop", "to_first": "distance to the first crop",
             "to_previous": "distance to the previous crop"}[column]
    with style():
        ncol = min(3, max(len(clips), 1))
        nrow = max(1, math.ceil(len(clips) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.4 * nrow), squeeze=False, sharey=True)
        for ax, clip in zip(axes.flat, clips):
            g = f[f["clip"] == clip]
            tid = g.groupby("track_id").size().idxmax()
            g = g[g["track_id"] == tid]
            for m in sort_methods(g["method"].unique()):
                h = g[g["method"] == m].sort_values("frame")
                ax.plot(h["frame"], h[column], marker="o", ms=2, lw=1.2, color=method_color(m), label=m)
            ax.set_title(f"{clip} · track {tid}")
            ax.set_xlabel("frame")
        for ax in axes.flat[len(clips):]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(f"cosine {label.split(' ', 1)[0]}")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6))
        fig.suptitle(f"{label} over time ({model})")
    return fig


def figure_summary(summary: pd.DataFrame, temporal: pd.DataFrame):
    """Bars per method: mean distance to the original (per model), identity switches per 100 frame
    steps (per model), tLP x100 and the warping-error excess in the regions (x1000)."""
    import matplotlib.pyplot as plt

    from vidanon.figures.style import method_color, sort_methods, style

    methods = sort_methods(summary["method"].unique())
    models = list(dict.fromkeys(summary["model"]))
    panels = [("to_original_mean", "mean distance to original", "higher = identity hidden"),
              ("switches_per_100", "identity switches / 100 steps", "lower = stable")]
    with style():
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
        width = 0.8 / max(len(models), 1)
        for ax, (col, title, note) in zip(axes[:2], panels):
            values = pd.to_numeric(summary[col], errors="coerce")
            if col == "switches_per_100" and not (values.fillna(0) > 0).any():  # an empty panel says so
                ax.set_axis_off()
                ax.text(0.5, 0.5, "no identity switch\nin any method or model", ha="center", va="center",
                        transform=ax.transAxes, fontsize=11, color="#444")
                ax.set_title(f"{title}\n({note})")
                continue
            for k, model in enumerate(models):
                s = summary[summary["model"] == model].set_index("method").reindex(methods)
                ax.bar(np.arange(len(methods)) + k * width, s[col], width,
                       color=[method_color(m) for m in methods], alpha=1 - 0.45 * k,
                       hatch=None if k == 0 else "//", edgecolor="white", label=model)
            ax.set_xticks(np.arange(len(methods)) + width * (len(models) - 1) / 2, methods, rotation=45, ha="right")
            ax.set_title(f"{title}\n({note})")
            ax.legend(fontsize=7)
        t = temporal.set_index("method").reindex(methods)
        for ax, col, title in ((axes[2], "tlp_x100", "tLP x100\n(lower = as steady as the original)"),
                               (axes[3], "warp_error_region_excess_x1000",
                                "warping-error excess in regions x1000\n(lower = no flicker)")):
            if col in t:
                ax.bar(methods, t[col], color=[method_color(m) for m in methods])
            ax.set_title(title)
            ax.tick_params(axis="x", rotation=45)
            for lab in ax.get_xticklabels():
                lab.set_ha("right")
    return fig


def pick_track(frames: pd.DataFrame, model: str) -> tuple[str, int]:
    """The (clip, track) with the most anonymized frames of ``model``: the filmstrip's default."""
    f = frames[(frames["model"] == model) & (frames["method"] != "original")]
    if f.empty:
        f = frames[frames["model"] == model]
    clip, tid = f.groupby(["clip", "track_id"]).size().idxmax()
    return clip, int(tid)


def figure_filmstrip(frames: pd.DataFrame, crops: pd.DataFrame, model: str, *, clip: str | None = None,
                     track_id: int | None = None, n: int = 6):
    """The explorer's content as a static figure: one row per version (original first), ``n`` evenly
    spaced frames of one track, each anonymized crop titled with its distance to the original."""
    import matplotlib.pyplot as plt

    from vidanon.figures.style import method_color, sort_methods, style

    if clip is None or track_id is None:
        clip, track_id = pick_track(frames, model)
    c = crops[(crops["clip"] == clip) & (crops["track_id"] == track_id)]
    f = frames[(frames["model"] == model) & (frames["clip"] == clip) & (frames["track_id"] == track_id)]
    methods = sort_methods(c["method"].unique())
    all_frames = sorted(c.loc[c["method"] == "original", "frame"].unique()) or sorted(c["frame"].unique())
    pick = [all_frames[i] for i in evenly_spaced(len(all_frames), n)]
    with style():
        fig, axes = plt.subplots(len(methods), len(pick), figsize=(1.3 * len(pick), 2.5 * len(methods)),
                                 squeeze=False)
        for r, m in enumerate(methods):
            for k, t in enumerate(pick):
                ax = axes[r, k]
                ax.set_xticks([]), ax.set_yticks([])
                ax.grid(False)
                hit = c[(c["method"] == m) & (c["frame"] == t)]
                if len(hit):
                    ax.imshow(read_crop(hit["path"].iloc[0]))
                d = f[(f["method"] == m) & (f["frame"] == t)]["to_original"]
                title = f"t={t}" if r == 0 else (f"{d.iloc[0]:.2f}" if len(d) and np.isfinite(d.iloc[0]) else "")
                ax.set_title(title, fontsize=8, color="black" if r == 0 else method_color(m))
                for s in ax.spines.values():
                    s.set_visible(True)
                    s.set_color(method_color(m))
            axes[r, 0].set_ylabel(m, color=method_color(m))
        fig.suptitle(f"{clip} · track {track_id}: crops over time; titles = distance to the original ({model})")
    return fig


def trajectory_figure(points: pd.DataFrame, info: dict, title: str = "Embedding trajectories"):
    """A plotly figure: one line per (clip, track) and method, in time order; hover shows the clip,
    track, person id and frame; a larger marker at each trajectory's first frame."""
    import plotly.graph_objects as go

    from vidanon.figures.style import method_color, plotly_template, sort_methods

    fig = go.Figure()
    methods = sort_methods(points["method"].unique())
    dashes = ["solid", "dot", "dash", "longdash", "dashdot", "longdashdot"]
    tracks = list(points.groupby(["clip", "track_id"]).groups)
    for m in methods:
        first = True
        for k, (clip, tid) in enumerate(tracks):
            g = points[(points["method"] == m) & (points["clip"] == clip) & (points["track_id"] == tid)]
            if g.empty:
                continue
            g = g.sort_values("frame")
            pid = int(g["pid"].iloc[0])
            sizes = np.full(len(g), 5)
            sizes[0] = 11
            fig.add_trace(go.Scatter(
                x=g["x"], y=g["y"], mode="lines+markers", name=m, legendgroup=m, showlegend=first,
                line=dict(color=method_color(m), width=1.5, dash=dashes[k % len(dashes)]),
                marker=dict(size=sizes, color=method_color(m)),
                customdata=np.stack([g["frame"], np.full(len(g), tid), np.full(len(g), pid)], axis=1),
                text=[clip] * len(g),
                hovertemplate=(f"{m}<br>clip %{{text}} · track %{{customdata[1]}} · pid %{{customdata[2]}}"
                               "<br>frame %{customdata[0]}<extra></extra>")))
            first = False
    ex = info.get("explained")
    ax = ["PC1", "PC2"] if info["projection"].startswith("PCA") else ["t-SNE 1", "t-SNE 2"]
    if ex:
        ax = [f"{a} ({100 * e:.0f}% of the originals' variance)" for a, e in zip(ax, ex)]
    fig.update_layout(template=plotly_template(), title=f"{title}<br><sup>{info['projection']}; "
                      "large marker = first frame; one dash style per track</sup>",
                      xaxis_title=ax[0], yaxis_title=ax[1], legend_title="method", width=900, height=650)
    return fig
