"""The privacy-utility trade-off: one point per method, x = Rank-1 of the strongest attack measured
(lower = more private), y = utility (higher = more useful), with CIs, the privacy bands shaded and the
Pareto front marked. When no method is down to chance, an arrow from the chance line to the method that comes
closest says how many points above chance it stays and which attack keeps it there.

The ideal method sits top-left: nobody re-identified, everything still usable. A method is on the
Pareto front when no other method is both at least as private and at least as useful (and strictly
better in one of the two).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vidanon.figures import style as plots
from vidanon.metrics.pareto import pareto_front
from vidanon.report.findings import REFERENCE, nearest_to_chance


def _points(summary: pd.DataFrame) -> pd.DataFrame:
    need = {"rank1", "utility"}
    missing = need - set(summary.columns)
    if missing:
        raise KeyError(f"the summary lacks {sorted(missing)}: run stages 03_reid and 06_action first")
    pts = summary[[c for c in ("rank1", "rank1_lo", "rank1_hi", "utility", "utility_lo", "utility_hi",
                               "chance", "level", "attack") if c in summary.columns]].copy()
    return pts.dropna(subset=["rank1", "utility"])


def closest_gap(pts: pd.DataFrame) -> tuple[str, float, str] | None:
    """``(method, its chance Rank-1, label)`` of the anonymization closest to chance when none is down to
    it (the arrow of the figures: the label gives the gap in points and the attack), else None."""
    at_chance, m = nearest_to_chance(pts.drop(index=[REFERENCE], errors="ignore"))
    if at_chance or m is None:
        return None
    r = pts.loc[m]
    gap = float(r["rank1"] - r["chance"])
    attack = f"\n{r['attack']}" if isinstance(r.get("attack"), str) and r.get("attack") else ""
    return m, float(r["chance"]), f"{m}: {gap:.0f} points above chance{attack}"


def _err(pts, col):
    """Asymmetric error bar lengths (2, N) from <col>_lo/<col>_hi, zeros where unknown."""
    v = pts[col].to_numpy(float)
    lo = pts.get(f"{col}_lo", pd.Series(v, index=pts.index)).to_numpy(float)
    hi = pts.get(f"{col}_hi", pd.Series(v, index=pts.index)).to_numpy(float)
    return np.nan_to_num(np.vstack([v - lo, hi - v]).clip(min=0))


def tradeoff_figure(summary: pd.DataFrame, utility_label: str = "Utility", title: str | None = None):
    """Static (matplotlib) trade-off figure for the thesis; Rank-1 in percent, utility in [0, 1]."""
    import matplotlib.pyplot as plt

    pts = _points(summary)
    with plots.style():
        fig, ax = plt.subplots(figsize=(6.0, 5.0))
        plots.shade_privacy_bands(ax, "x")
        front = pts.index[pareto_front(pts["rank1"], pts["utility"])]
        if len(front) > 1:
            f = pts.loc[front]
            ax.step(f["rank1"], f["utility"], where="post", color="#333333", lw=1, ls="--", zorder=2,
                    label="Pareto front")
        xerr, yerr = _err(pts, "rank1"), _err(pts, "utility")
        placed: list[tuple[float, float, float]] = []  # label x span and y of the labels drawn
        for i, (m, r) in enumerate(pts.iterrows()):
            on = m in front
            ax.errorbar(r["rank1"], r["utility"], xerr=xerr[:, i:i + 1], yerr=yerr[:, i:i + 1],
                        fmt="o" if on else "s", ms=7 if on else 5, color=plots.method_color(m),
                        mec="black" if on else "none", capsize=2, lw=1, zorder=3, label=m)
            # direct labels: the figure stays readable in greyscale print
            right = r["rank1"] > 85  # keep labels inside the axes
            # methods on (nearly) the same point: stack their labels instead of printing them over each other
            # (a label spans ~16 % of the x axis, leftwards from points on the right)
            span = (r["rank1"] - 16, r["rank1"]) if right else (r["rank1"], r["rank1"] + 16)
            near = sum(a < span[1] and span[0] < b and abs(r["utility"] - y) < 0.04 for a, b, y in placed)
            placed.append((*span, r["utility"]))
            ax.annotate(m, (r["rank1"], r["utility"]), xytext=(-5 if right else 5, 4 - 9 * near),
                        textcoords="offset points", fontsize=7, color="#222222", zorder=4,
                        ha="right" if right else "left")
        if "chance" in pts.columns and pts["chance"].notna().any():
            chance = float(pts["chance"].mean())
            ax.axvline(chance, color="#555555", lw=0.8, ls=":", zorder=1, label=f"chance Rank-1 ({chance:.0f}%)")
        gap = closest_gap(pts)
        if gap is not None:  # how close the best one came, and the attack in the way
            m, ch, text = gap
            y = float(pts.loc[m, "utility"])
            ax.annotate("", xy=(float(pts.loc[m, "rank1"]), y), xytext=(ch, y), zorder=2,
                        arrowprops=dict(arrowstyle="<->", color="#555555", lw=0.8, shrinkA=0, shrinkB=5))
            ax.annotate(text, ((ch + float(pts.loc[m, "rank1"])) / 2, y), xytext=(0, -6), textcoords="offset points",
                        ha="center", va="top", fontsize=6.5, color="#444444", zorder=4)
        ax.set_xlim(-2, 102)  # markers at 0 % or 100 % stay whole
        ymax = max(1.0, float(np.nanmax(pts["utility"].to_numpy(float)))) if len(pts) else 1.0
        ax.set_ylim(-0.03 * ymax, 1.05 * ymax)
        ax.set_xlabel("Rank-1 of the strongest attack (%)  \u2190 more private")
        ax.set_ylabel(f"{utility_label}  \u2192 more useful")
        if title:
            ax.set_title(title, pad=14)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, frameon=False)
    return fig


def tradeoff_plotly(summary: pd.DataFrame, utility_label: str = "Utility", title: str | None = None):
    """Interactive (plotly) version of :func:`tradeoff_figure`, hover shows the method and its CIs."""
    import plotly.graph_objects as go

    pts = _points(summary)
    fig = go.Figure(layout=dict(template=plots.plotly_template()))
    plots.plotly_privacy_bands(fig, "x")
    front = pts.index[pareto_front(pts["rank1"], pts["utility"])]
    if len(front) > 1:
        f = pts.loc[front]
        fig.add_trace(go.Scatter(x=f["rank1"], y=f["utility"], mode="lines", line=dict(shape="hv", dash="dash",
                                 color="#333333", width=1), name="Pareto front", hoverinfo="skip"))
    xerr, yerr = _err(pts, "rank1"), _err(pts, "utility")
    for i, (m, r) in enumerate(pts.iterrows()):
        on = m in front
        fig.add_trace(go.Scatter(
            x=[r["rank1"]], y=[r["utility"]], mode="markers+text", name=m, text=[m],
            textposition="top left" if r["rank1"] > 85 else "top right", textfont=dict(size=10),
            marker=dict(color=plots.method_color(m), size=12 if on else 9, symbol="circle" if on else "square",
                        line=dict(color="black", width=1.5 if on else 0)),
            error_x=dict(type="data", symmetric=False, array=[xerr[1, i]], arrayminus=[xerr[0, i]], width=3),
            error_y=dict(type="data", symmetric=False, array=[yerr[1, i]], arrayminus=[yerr[0, i]], width=3),
            hovertemplate=(f"<b>{m}</b><br>Rank-1 %{{x:.1f}}% ({r.get('level', '')})<br>"
                           f"{utility_label} %{{y:.3f}}" + ("<br>Pareto optimal" if on else "")
                           + "<extra></extra>"),
        ))
    if "chance" in pts.columns and pts["chance"].notna().any():
        chance = float(pts["chance"].mean())
        fig.add_vline(x=chance, line=dict(color="#555555", width=1, dash="dot"),
                      annotation_text=f"chance {chance:.0f}%", annotation_position="bottom right",
                      annotation_font_size=10)
    gap = closest_gap(pts)
    if gap is not None:
        m, ch, text = gap
        x, y = float(pts.loc[m, "rank1"]), float(pts.loc[m, "utility"])
        fig.add_annotation(x=x, y=y, ax=ch, ay=y, axref="x", ayref="y", showarrow=True, arrowhead=2, arrowside="end+start",
                           arrowwidth=1, arrowcolor="#555555", text="")
        fig.add_annotation(x=(ch + x) / 2, y=y, text=text.replace("\n", "<br>"), showarrow=False, yshift=-18,
                           font=dict(size=10, color="#444444"))
    fig.update_layout(title=title, xaxis=dict(title="Rank-1 of the strongest attack (%) \u2190 more private", range=[-2, 102]),
                      yaxis=dict(title=f"{utility_label} \u2192 more useful", rangemode="tozero"),
                      width=820, height=520)
    return fig
