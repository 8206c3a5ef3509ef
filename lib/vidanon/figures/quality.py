"""Figures of 05_quality: SSIM/PSNR inside and outside the regions, the perceptual distance (by its
real name) and the face detection rate on anonymized vs original frames."""

from __future__ import annotations

import numpy as np
import pandas as pd


def figure_quality(summary: pd.DataFrame, faces: pd.DataFrame | None = None):
    """Bars per method: SSIM and PSNR outside vs inside the regions, the perceptual distance (named),
    and the face detection rate on anonymized frames next to the original's."""
    import matplotlib.pyplot as plt

    from vidanon.figures.style import method_color, sort_methods, style

    methods = sort_methods(summary["method"].unique())
    s = summary.set_index("method").reindex(methods)
    x = np.arange(len(methods))
    colors = [method_color(m) for m in methods]
    n = 4 if faces is not None and len(faces) else 3
    with style():
        fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.3))
        for ax, metric, unit in ((axes[0], "ssim", "SSIM"), (axes[1], "psnr", "PSNR (dB)")):
            ax.bar(x - 0.2, s[f"{metric}_out"], 0.4, color=colors, label="outside regions")
            ax.bar(x + 0.2, s[f"{metric}_in"], 0.4, color=colors, alpha=0.45, hatch="//", edgecolor="white",
                   label="inside regions")
            ax.set_xticks(x, methods, rotation=45, ha="right")
            ax.set_title(f"{unit}: outside (solid) vs inside (hatched)")
        axes[0].legend(fontsize=7)
        if "perceptual" in s:
            axes[2].bar(x, s["perceptual"], color=colors)
            axes[2].set_title(s["perceptual_metric"].dropna().iloc[0].replace(", ", "\n", 1) + "\n(lower = closer)",
                              fontsize=8)
        axes[2].set_xticks(x, methods, rotation=45, ha="right")
        if n == 4:
            f = faces.set_index("method")
            ms = [m for m in sort_methods(f.index) if m in f.index]
            xf = np.arange(len(ms))
            axes[3].bar(xf - 0.2, f.loc[ms, "rate_original"], 0.4, color="#bbbbbb", label="original frames")
            axes[3].bar(xf + 0.2, f.loc[ms, "rate"], 0.4, color=[method_color(m) for m in ms],
                        label="anonymized frames")
            axes[3].set_xticks(xf, ms, rotation=45, ha="right")
            axes[3].set_ylim(0, 1.05)
            axes[3].set_title("face detection rate (frames with a face)\nlower on anonymized = better")
            axes[3].legend(fontsize=7)
    return fig
