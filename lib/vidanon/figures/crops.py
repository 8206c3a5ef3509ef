"""Figures of 02_crop: the contact sheet of aligned crops per identity and the detection recall."""

from __future__ import annotations

from textwrap import shorten

import numpy as np
import pandas as pd


def contact_sheet_figure(sheet: np.ndarray, pids: list[int], versions: list[str], *, n: int,
                         thumb: tuple[int, int] = (128, 64), names: dict[int, str] | None = None):
    """The image of :func:`vidanon.stages.crops.contact_sheet` (``n`` crops of ``thumb`` = (height,
    width) per version and identity) with identities on the y axis (``names``: pid -> a short
    description) and the versions on the x axis, separated by white lines."""
    import matplotlib.pyplot as plt

    names = names or {}
    th, tw = thumb
    fig, ax = plt.subplots(figsize=(min(2 + 0.55 * n * len(versions), 30), 1 + 1.1 * max(len(pids), 1)))
    ax.imshow(sheet)
    ax.set_yticks([th * (i + 0.5) for i in range(len(pids))],
                  [f"{p}: {shorten(names.get(p, ''), 30, placeholder='…')}" for p in pids])
    ax.set_xticks([tw * n * (v + 0.5) for v in range(len(versions))], versions, rotation=30, ha="right")
    for v in range(1, len(versions)):
        ax.axvline(v * n * tw - 0.5, color="white", lw=2)
    ax.set_title("Aligned crops per identity: original vs each method")
    return fig


def recall_figure(by_method: pd.DataFrame):
    """Bars of person detection recall per version (``vidanon.stages.crops.recall_by_method``'s
    table, 0..1), the original grey, labelled with their values."""
    import matplotlib.pyplot as plt

    tot = by_method.set_index("method")
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(tot), 3.5))
    bars = ax.bar(tot.index, tot["recall"], color=["grey"] + ["tab:blue"] * (len(tot) - 1))
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in tot["recall"].fillna(0)], padding=2)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("person detection recall")
    ax.set_title("Persons found again on anonymized frames (all clips)")
    ax.tick_params(axis="x", rotation=30)
    return fig
