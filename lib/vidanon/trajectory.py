"""Embedding trajectories: each tracked person's per-frame embedding, original and anonymized, in 2-D.

The projection is fitted on the ORIGINAL embeddings only (PCA), so the axes are "directions in which
real people differ", and each anonymized version is placed in that same map: a good anonymization
moves a person far from their original trajectory and keeps them there (a short, steady path); a
weak one stays on top of it; an unstable one jumps around. t-SNE (``projection="tsne"``) is fitted
on all points together (it cannot place new points in an existing map), so its distances between
versions are only qualitative.

Input: a DataFrame with ``clip, method, track_id, pid, frame, model, emb`` (one unit-norm vector per
row), as ``vidanon.drift.run_stage`` returns and ``vidanon.drift.load_embeddings`` reads back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vidanon.errors import BackendUnavailable, VidanonError


def pca_fit(x: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of rows ``x`` (N, D): ``(mean (D,), components (k, D), explained variance ratio (k,))``.
    Component signs are fixed (largest absolute loading positive) so maps are reproducible."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"PCA needs at least 2 rows of (N, D) data, got shape {x.shape}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    comps = vt[:n_components]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    var = s ** 2
    ratio = var[:n_components] / var.sum() if var.sum() > 0 else np.zeros(len(comps))
    if len(comps) < n_components:  # fewer dimensions than asked: pad with zero axes
        comps = np.vstack([comps, np.zeros((n_components - len(comps), x.shape[1]))])
        ratio = np.concatenate([ratio, np.zeros(n_components - len(ratio))])
    return mean, comps, ratio


def project(emb: pd.DataFrame, projection: str = "pca", seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """``emb`` rows of ONE model with ``x, y`` added, and info (``projection``, ``explained``).

    PCA is fitted on the rows with ``method == "original"`` (all rows if there are none)."""
    if emb["model"].nunique() > 1:
        raise ValueError(f"project one embedding model at a time, got {sorted(emb['model'].unique())}")
    x = np.stack(emb["emb"].to_numpy()).astype(np.float64)
    out = emb.drop(columns=["emb"]).copy()
    if projection == "pca":
        fit_on = x[(emb["method"] == "original").to_numpy()]
        mean, comps, ratio = pca_fit(fit_on if len(fit_on) >= 2 else x)
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


def figure(points: pd.DataFrame, info: dict, title: str = "Embedding trajectories"):
    """A plotly figure: one line per (clip, track) and method, in time order; hover shows the clip,
    track, person id and frame; a larger marker at each trajectory's first frame."""
    import plotly.graph_objects as go

    from vidanon.plots import method_color, plotly_template, sort_methods

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


def trajectory_figures(emb: pd.DataFrame, projection: str = "pca", seed: int = 0) -> dict:
    """``{model: (figure, points)}`` for every embedding model in ``emb``."""
    out = {}
    for model, g in emb.groupby("model", sort=False):
        if len(g) < 3:
            continue
        pts, info = project(g.reset_index(drop=True), projection, seed)
        out[model] = (figure(pts, info, f"Embedding trajectories ({model})"), pts)
    return out


def run_stage(ctx, emb: pd.DataFrame | None = None) -> dict:
    """The trajectory figures of a run (HTML + PNG under figures/<run>/04_drift/): embeddings from
    the drift stage (``emb``, else read back from work/<run>/drift/)."""
    from vidanon.drift import load_embeddings

    emb = load_embeddings(ctx) if emb is None else emb
    figs = trajectory_figures(emb, ctx.params.drift.trajectory_projection, ctx.params.seed)
    for model, (fig, pts) in figs.items():
        ctx.save_figure(fig, f"trajectories_{model}", formats=("png",))
        ctx.save_table(pts, f"trajectory_points_{model}")
    return figs
