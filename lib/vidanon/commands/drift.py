"""Identity drift of one person's crops (evaluate_identity_drift_osnet.py + visualize_identity_drift.py).

FRAMES_DIR holds the crops of one person in time order (image files sorted by name, e.g. the output
of `vidanon crops` or Market-1501 names). Each crop is embedded with a re-ID model (OSNet by default)
and compared with the first crop and the previous crop (cosine distance, 0 = same direction); with
--original-dir (the same file names, un-anonymized) also with the original crop of the same frame.
Writes the drift figure (--plot-path, PNG/PDF/SVG by extension) and a CSV of the per-frame distances
beside it, and prints the summary: mean, 95th percentile and identity switches (frame-to-frame jumps
above --threshold).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "drift"
HELP = "identity drift curve and summary of a folder of one person's crops"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vidanon.core.params import default

    p.add_argument("--frames-dir", type=Path, required=True,
                   help="folder of one person's crops in time order (sorted by file name)")
    p.add_argument("--plot-path", type=Path, required=True,
                   help="drift figure to write (.png, .pdf or .svg); the CSV goes beside it (.csv)")
    p.add_argument("--model", default=default("drift.embedder"),
                   help="embedder (vidanon.models.embed names, e.g. osnet_x0_25_msmt17, osnet_x0_25_market1501)")
    p.add_argument("--original-dir", type=Path, default=None,
                   help="the same crops before anonymization (same file names): adds the distance to the original")
    p.add_argument("--threshold", type=float, default=default("drift.switch_threshold"),
                   help="cosine-distance jump between consecutive crops counted as an identity switch")
    p.add_argument("--device", default=default("device"), choices=["auto", "cpu", "cuda"], help="where the embedder runs")
    p.add_argument("--overwrite", action="store_true", help="replace the figure and CSV if they exist")


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder sorted by name; DataError when it has none."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def drift_plot(df, title: str, threshold: float | None = None):
    """A matplotlib figure of the drift curves (columns to_first, to_previous, to_original) by index."""
    import matplotlib.pyplot as plt

    from vidanon.figures.style import style

    with style():
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for col, label in (("to_first", "to first crop"), ("to_previous", "to previous crop"),
                           ("to_original", "to original crop")):
            if col in df and df[col].notna().any():
                ax.plot(df["index"], df[col], marker="o", ms=3, label=label)
        if threshold is not None:
            ax.axhline(threshold, color="#cc3311", ls="--", lw=1, label=f"switch threshold {threshold}")
        ax.set_xlabel("crop (time order)")
        ax.set_ylabel("cosine distance")
        ax.set_title(title)
        ax.legend(fontsize=8)
    return fig


def run(args) -> int:
    import numpy as np
    import pandas as pd

    from vidanon.core.versions import resolve_device
    from vidanon.models import embed
    from vidanon.io.crops import read_crop
    from vidanon.metrics import drift as dm
    from vidanon.core.atomic import atomic_path

    plot, csv = args.plot_path, args.plot_path.with_suffix(".csv")
    if plot.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise VidanonError(f"--plot-path {plot}: expected a .png, .pdf or .svg file")
    for out in (plot, csv):
        if out.exists() and not args.overwrite:
            raise VidanonError(f"{out} exists; pass --overwrite to replace it")
    if args.threshold <= 0:
        raise VidanonError(f"--threshold must be > 0, got {args.threshold}")
    files = list_images(args.frames_dir)
    originals = None
    if args.original_dir is not None:
        originals = [args.original_dir / f.name for f in files]
        missing = [str(o) for o in originals if not o.is_file()]
        if missing:
            raise DataError(f"--original-dir: {len(missing)} crop(s) have no original of the same name, "
                            f"e.g. {missing[0]}")
    model = embed.get(args.model, device=resolve_device(args.device))
    emb = model.embed([read_crop(f) for f in files])
    orig = model.embed([read_crop(f) for f in originals]) if originals else None
    curves = dm.drift_curves(emb, orig)
    df = pd.DataFrame({"index": np.arange(len(files)), "file": [f.name for f in files], **curves})
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False)
    fig = drift_plot(df, f"Identity drift ({model.name}): {args.frames_dir.name}", args.threshold)
    with atomic_path(plot) as tmp:
        fig.savefig(tmp, dpi=200, bbox_inches="tight", format=plot.suffix[1:].lower())
    print(f"{len(files)} crops, model {model.name}")
    for col in curves:
        s = dm.summarize(curves[col])
        print(f"  {col:12s} mean {s['mean']:.3f}  p95 {s['p95']:.3f}")
    print(f"  identity switches (jump > {args.threshold}): {dm.identity_switches(curves['to_previous'], args.threshold)}")
    print(f"wrote {plot} and {csv}")
    return 0
