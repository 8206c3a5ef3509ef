"""Figures of 06_action: pose preservation scores, per-joint PCK and an example frame with both
skeletons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vidanon.metrics import pose as P


# COCO's skeleton on MediaPipe indices, plus the hands' index fingers, for drawing only.
_EDGES = [(11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24), (23, 25), (25, 27),
          (24, 26), (26, 28), (0, 2), (0, 5), (2, 7), (5, 8), (15, 19), (16, 20)]


def figure_scores(summary: pd.DataFrame, thresholds=(0.05, 0.1)):
    """Bars per method: OKS and PCK@alpha with 95 % CIs (1 = the original's poses are kept); None
    when there is nothing to draw (as the other figure functions)."""
    import matplotlib.pyplot as plt

    if summary.empty:
        return None
    cols = ["oks"] + [f"pck@{a:g}" for a in thresholds]
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(summary), 3.2))
    width = 0.8 / len(cols)
    x = np.arange(len(summary))
    for k, c in enumerate(cols):
        v = summary[c].to_numpy(float)
        err = np.abs(np.stack([v - summary[f"{c}_lo"], summary[f"{c}_hi"] - v]))
        ax.bar(x + (k - (len(cols) - 1) / 2) * width, np.nan_to_num(v), width, yerr=np.nan_to_num(err),
               capsize=2, label=c.upper() if c == "oks" else c.replace("pck", "PCK"))
    ax.set_xticks(x, summary["method"], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pose preservation")
    ax.legend(fontsize=8, ncol=len(cols), loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def figure_joints(joints: pd.DataFrame):
    """Heat map method x joint of PCK (which joints each method breaks); blank: joint never visible."""
    import matplotlib.pyplot as plt

    if joints.empty:
        return None
    m = joints.pivot(index="method", columns="joint_index", values="pck")
    m = m.reindex(list(dict.fromkeys(joints["method"])))
    fig, ax = plt.subplots(figsize=(11, 0.5 + 0.45 * len(m)))
    im = ax.imshow(m.to_numpy(float), vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
    ax.set_yticks(range(len(m)), m.index)
    ax.set_xticks(range(m.shape[1]), [P.MEDIAPIPE_JOINTS[j] for j in m.columns], rotation=90, fontsize=7)
    fig.colorbar(im, ax=ax, label="PCK", fraction=0.03)
    fig.tight_layout()
    return fig


def figure_examples(frames: dict, examples: pd.DataFrame, clip_id: str | None = None):
    """One panel per method: the anonymized frame (``frames``: version -> rgb, as
    :func:`vidanon.stages.action.example_frames` gives them) with the original's keypoints (green)
    and the keypoints found on the anonymized frame (red) drawn over it."""
    import matplotlib.pyplot as plt

    if examples.empty:
        return None
    clip_id = clip_id or examples["clip"].iloc[0]
    ex = examples[examples["clip"] == clip_id]
    methods = list(dict.fromkeys(ex["method"]))
    frame = int(ex["frame"].iloc[0])
    fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3.0), squeeze=False)
    for ax, m in zip(axes[0], methods):
        rgb = frames[m]
        ax.imshow(rgb)
        # the reference first, so that the anonymized keypoints (x) are drawn over it
        for (_, kind, _tid), g in ex[ex["method"] == m].assign(o=lambda d: d["kind"] != "reference").groupby(
                ["o", "kind", "track_id"]):
            k = g.sort_values("joint")[["x", "y", "visibility"]].to_numpy(float)
            color = "lime" if kind == "reference" else "red"
            for a, b in _EDGES:
                if k[a, 2] >= P.VISIBILITY_THRESHOLD and k[b, 2] >= P.VISIBILITY_THRESHOLD:
                    ax.plot(k[[a, b], 0], k[[a, b], 1], color=color, lw=1.2, alpha=0.8)
            vis = k[:, 2] >= P.VISIBILITY_THRESHOLD
            ax.scatter(k[vis, 0], k[vis, 1], s=6, c=color, marker="o" if kind == "reference" else "x")
        ax.set_xlim(0, rgb.shape[1])
        ax.set_ylim(rgb.shape[0], 0)  # keypoints outside the frame must not rescale the panel
        ax.set_title(m, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{clip_id}, frame {frame}: original keypoints (green), on the anonymized frame (red)",
                 fontsize=9)
    fig.tight_layout()
    return fig
