"""Per-method "fingerprints": every normalized metric of a method at a glance.

Each metric is put on [0, 1] with 1 = best (see :func:`vidanon.report.summary.normalized`): a long
bar is good whatever the metric's own direction. A method that is private but useless has long
privacy bars and short utility bars; the ideal method has long bars everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from vidanon.figures import style as plots
from vidanon.report.summary import METRIC, normalized


def fingerprints_figure(summary: pd.DataFrame, ncols: int = 4):
    """Small multiples (matplotlib): one panel per method, one bar per normalized metric,
    coloured by group (privacy, temporal, quality, utility, speed)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    norm = normalized(summary)
    if norm.empty or not len(norm.columns):
        raise ValueError("no metric to draw: the summary has no numeric metric column")
    methods = list(norm.index)
    ncols = max(1, min(ncols, len(methods)))
    nrows = math.ceil(len(methods) / ncols)
    labels = [METRIC[c].label for c in norm.columns]
    colors = [plots.GROUP_COLORS[METRIC[c].group] for c in norm.columns]
    y = np.arange(len(labels))
    with plots.style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.3 * ncols + 1.6, 0.22 * len(labels) * nrows + 0.9),
                                 sharex=True, sharey=True, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(methods):
                ax.axis("off")
                continue
            m = methods[k]
            v = norm.loc[m].to_numpy(float)
            ax.barh(y, np.nan_to_num(v), color=colors, height=0.75)
            for j in np.flatnonzero(np.isnan(v)):
                ax.text(0.02, y[j], "n/a", va="center", fontsize=6, color="#888888")
            ax.set_title(m, color=plots.method_color(m), fontweight="bold")
            ax.set_xlim(0, 1)
            ax.set_yticks(y, labels)
            ax.grid(axis="y", visible=False)
        axes[0, 0].invert_yaxis()  # shared y: inverting once flips every panel (privacy on top)
        for ax in axes[-1]:
            ax.set_xlabel("normalized (1 = best)")
        groups = list(dict.fromkeys(METRIC[c].group for c in norm.columns))
        fig.legend(handles=[Patch(color=plots.GROUP_COLORS[g], label=g) for g in groups],
                   loc="outside lower center", ncols=len(groups), frameon=False)
    return fig


def fingerprints_plotly(summary: pd.DataFrame):
    """Interactive heatmap (methods x normalized metrics); hover shows the raw value too."""
    import plotly.graph_objects as go

    norm = normalized(summary)
    if norm.empty or not len(norm.columns):
        raise ValueError("no metric to draw: the summary has no numeric metric column")
    raw = summary.reindex(columns=norm.columns)
    labels = [METRIC[c].label for c in norm.columns]
    text = [[("n/a" if pd.isna(raw.iat[i, j]) else METRIC[c].fmt.format(raw.iat[i, j]))
             for j, c in enumerate(norm.columns)] for i in range(len(norm))]
    fig = go.Figure(go.Heatmap(
        z=norm.to_numpy(float), x=labels, y=list(norm.index), zmin=0, zmax=1, colorscale="Viridis",
        text=text, texttemplate="%{text}", customdata=text,
        hovertemplate="%{y}<br>%{x}: %{customdata}<br>normalized %{z:.2f} (1 = best)<extra></extra>",
        colorbar=dict(title="1 = best"),
    ), layout=dict(template=plots.plotly_template()))
    fig.update_layout(title="Method fingerprints (normalized metrics)", xaxis=dict(tickangle=-40),
                      yaxis=dict(autorange="reversed"), height=160 + 40 * len(norm),
                      width=max(700, 60 * len(labels) + 200))
    return fig
