"""Real person crops cut from the sample videos, shared by the re-ID / embedder / face-ID tests
(a helper module, not a test file: pytest puts tests/ on sys.path)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from vidanon.io import data
from vidanon.io.crops import cut_crop, market_name

# one-by-one: six people, each seen at three moments (frame, box from YOLOv5n), pid 13..18
ONE_BY_ONE = {
    13: [(100, (382, 12, 512, 389)), (140, (385, 17, 513, 388)), (180, (386, 15, 519, 394))],
    14: [(300, (379, 2, 542, 379)), (360, (382, 2, 543, 379)), (420, (380, 3, 543, 380))],
    15: [(560, (394, 1, 551, 386)), (600, (409, 0, 566, 390)), (640, (411, 2, 568, 389))],
    16: [(780, (367, 36, 511, 377)), (800, (364, 27, 507, 388)), (840, (362, 30, 507, 388))],
    17: [(980, (384, 6, 519, 383)), (1060, (384, 8, 519, 383)), (1140, (385, 11, 519, 381))],
    18: [(1280, (344, 4, 525, 400)), (1300, (354, 0, 526, 397)), (1320, (351, 0, 526, 396))],
}


@lru_cache(maxsize=1)
def one_by_one_crops() -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """(crops 256x128 RGB, pids, moment index 0..2) of the six people of one-by-one."""
    from vidanon.io.video import read_frames

    want = {f: (pid, k, box) for pid, v in ONE_BY_ONE.items() for k, (f, box) in enumerate(v)}
    crops, pids, moments = [], [], []
    path = data.fetch("one-by-one")
    for f, rgb in read_frames(path, 100, 1321, 20):
        if f in want:
            pid, k, box = want[f]
            crops.append(cut_crop(rgb, box, 0.05, (256, 128)))
            pids.append(pid)
            moments.append(k)
    return tuple(crops), np.array(pids), np.array(moments)


def hide_head(crop: np.ndarray) -> np.ndarray:
    """Test-only 'anonymization': the top fifth of a person crop (the head) painted grey."""
    out = crop.copy()
    out[: crop.shape[0] // 5] = 128
    return out


# head-pose clips: (sample, clip frames used, {pid: x-centre range}); pids from the ground truth
HEAD_POSE = [("female", (0, 6, 12, 18), {1: (0.0, 1.0)}),
             ("male", (0, 6, 12, 18), {2: (0.0, 1.0)}),
             ("female-and-male", (0, 10, 20, 30), {1: (0.0, 0.5), 2: (0.5, 1.0)})]


def head_pose_manifest(root: Path) -> pd.DataFrame:
    """A crops manifest (docs/architecture.md contract) of real YOLOv5n person crops of the woman
    (pid 1) and the man (pid 2) in three clips, 'original' and 'hide-head' (see hide_head), aligned,
    written as Market-1501 files under ``root``. camid = cam * 1000 + seq (seq: frames 0-11 -> 1)."""
    from vidanon.models.detect import get_person_detector
    from vidanon.io.video import read_frames

    det = get_person_detector("yolov5-onnx")
    rows = []
    for cam, (sample, frames, rules) in enumerate(HEAD_POSE, start=1):
        for t, rgb in read_frames(data.fetch(sample), 0, max(frames) + 1):
            if t not in frames:
                continue
            for x1, y1, x2, y2, _ in det(rgb):
                cx = (x1 + x2) / 2 / rgb.shape[1]
                pid = next((p for p, (lo, hi) in rules.items() if lo <= cx < hi), -1)
                seq = 1 + t // 12
                crop = cut_crop(rgb, (x1, y1, x2, y2), 0.05, (256, 128))
                for method, img in (("original", crop), ("hide-head", hide_head(crop))):
                    path = root / method / market_name(pid, cam, seq, t, 0)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
                    rows.append(dict(clip=sample, method=method, mode="aligned", frame=t, track_id=pid,
                                     pid=pid, camid=cam * 1000 + seq, x1=x1, y1=y1, x2=x2, y2=y2,
                                     path=str(path)))
    return pd.DataFrame(rows)
