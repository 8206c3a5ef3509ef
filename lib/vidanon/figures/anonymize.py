"""Figures of 01_anonymize: the frame grid (original | anonymized, one row per clip)."""

from __future__ import annotations

import numpy as np


def frame_grid(rows: list[tuple[str, int, np.ndarray, np.ndarray]], method: str, width: float = 7.0):
    """A matplotlib figure: one row per ``(clip id, frame, original rgb, anonymized rgb)`` (as
    :func:`vidanon.stages.anonymize.grid_frames` gives them), columns original | ``method``."""
    import matplotlib.pyplot as plt

    n = len(rows)
    fig, axes = plt.subplots(n, 2, figsize=(width, 2.1 * n + 0.4), squeeze=False)
    for row, (clip_id, t, orig, anon) in zip(axes, rows):
        for ax, img, title in ((row[0], orig, "original"), (row[1], anon, method)):
            ax.imshow(img)
            ax.set_title(f"{clip_id} · {title} · frame {t}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig
