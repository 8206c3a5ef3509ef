"""What a reader sees of the anonymized videos: a frame grid (original | anonymized, one row per
clip) and a short side-by-side H.264 video per method (small enough to embed in an HTML report).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidanon.video import VideoWriter, read_frame, read_frames


def busiest_frame(scene, n_frames: int) -> int:
    """The frame with the most persons and faces (nearest the middle among ties): a frame that shows
    what the method does."""
    if scene is None or (scene.persons.empty and scene.faces.empty):
        return n_frames // 2
    counts = np.zeros(n_frames)
    for df in (scene.persons, scene.faces):
        f = df["frame"].to_numpy().astype(int)
        np.add.at(counts, f[(f >= 0) & (f < n_frames)], 1)
    best = np.flatnonzero(counts == counts.max())
    return int(best[np.argmin(np.abs(best - n_frames // 2))])


def frame_grid(pairs: list[tuple[str, str | Path, str | Path, int]], method: str, width: float = 7.0):
    """A matplotlib figure: one row per ``(clip id, original video, anonymized video, frame)``,
    columns original | ``method``."""
    import matplotlib.pyplot as plt

    n = len(pairs)
    fig, axes = plt.subplots(n, 2, figsize=(width, 2.1 * n + 0.4), squeeze=False)
    for row, (clip_id, orig, anon, t) in zip(axes, pairs):
        for ax, path, title in ((row[0], orig, "original"), (row[1], anon, method)):
            ax.imshow(read_frame(path, t))
            ax.set_title(f"{clip_id} · {title} · frame {t}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def _label(img: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def side_by_side_video(pairs: list[tuple[str, str | Path, str | Path, float]], method: str, out: str | Path,
                       seconds: float = 4.0, height: int = 180, fps: float = 12.0) -> Path:
    """Write an H.264 MP4 (atomically) that shows, clip after clip, the first ``seconds`` of each
    ``(clip id, original video, anonymized video, clip fps)`` as original | anonymized at ``height``
    pixels, resampled to ``fps``. Frames are streamed, never all held."""
    sizes = []
    for _, orig, _, _ in pairs:
        h, w = read_frame(orig, 0).shape[:2]
        sizes.append(int(round(w * height / h / 2)) * 2)
    width = 2 * max(sizes)
    with VideoWriter(out, fps=fps, crf=28) as wr:
        for (clip_id, orig, anon, clip_fps), w in zip(pairs, sizes):
            want = {int(round(k / fps * clip_fps)) for k in range(int(seconds * fps))}
            stop = max(want) + 1
            for (t, a), (_, b) in zip(read_frames(orig, 0, stop), read_frames(anon, 0, stop)):
                if t not in want:
                    continue
                canvas = np.zeros((height, width, 3), np.uint8)
                left = _label(cv2.resize(a, (w, height), interpolation=cv2.INTER_AREA), f"{clip_id} original")
                right = _label(cv2.resize(b, (w, height), interpolation=cv2.INTER_AREA), method)
                x0 = (width - 2 * w) // 2
                canvas[:, x0:x0 + w], canvas[:, x0 + w:x0 + 2 * w] = left, right
                wr.write(canvas)
    return Path(out)


def method_pairs(runs, scenes: list, method: str, for_video: bool = False) -> list[tuple]:
    """Inputs of ``frame_grid`` (``for_video=False``: the busiest frame of each clip) or of
    ``side_by_side_video`` (the clip's fps) for one method, from ``anonymize.run_stage``'s table
    and ``scene.analyze_all``'s ``[(Clip, Scene)]``."""
    path = {(r.clip, r.method): r.path for r in runs.itertuples(index=False)}
    out = []
    for clip, scene in scenes:
        if (clip.id, method) not in path:
            continue
        extra = clip.fps if for_video else busiest_frame(scene, clip.n_frames)
        out.append((clip.id, path[(clip.id, "original")], path[(clip.id, method)], extra))
    return out


def speed_table(runs):
    """Frames per second of each method (rows) on each clip (columns) and over all clips ("all":
    total frames / total seconds), as measured when the video was written (prepare pass included)."""
    import pandas as pd

    per_clip = runs.pivot_table(index="method", columns="clip", values="fps", sort=False)
    tot = runs.groupby("method", sort=False)[["frames", "seconds"]].sum()
    per_clip["all"] = tot["frames"] / tot["seconds"]
    return pd.DataFrame(per_clip).round(1)


def leak_table(leak_df):
    """Leaked frames (a face found by the independent detector inside a person) per method and clip,
    with totals, the rate over all frames and (when the check had the originals) ``unchanged``: the
    leaked frames where the face's pixels were left as they were (a face the method missed)."""
    t = leak_df.pivot_table(index="method", columns="clip", values="leaked_frames", sort=False, aggfunc="sum")
    tot = leak_df.groupby("method", sort=False)[["leaked_frames", "frames"]].sum()
    t["total"] = tot["leaked_frames"]
    t["rate"] = (tot["leaked_frames"] / tot["frames"]).round(3)
    if "unchanged_frames" in leak_df:
        t["unchanged"] = leak_df.groupby("method", sort=False)["unchanged_frames"].sum()
    return t
