"""What is in each frame of a clip, computed once and cached: persons and their tracks, faces,
person masks and body keypoints, and the person id (pid) of each track from the ground truth.

The contract (docs/architecture.md) is the ``Scene`` dataclass below; ``analyze`` fills it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PERSON_COLUMNS = ["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"]
FACE_COLUMNS = ["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"]
KEYPOINT_COLUMNS = ["frame", "track_id", "joint", "x", "y", "visibility"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object" if c == "source" else "float64") for c in columns})


@dataclass
class Scene:
    """Per-clip detections. Frames are clip frames (0-based); boxes in pixels (x1, y1, x2, y2)."""

    clip: str
    width: int
    height: int
    n_frames: int
    fps: float
    persons: pd.DataFrame = field(default_factory=lambda: _empty(PERSON_COLUMNS))
    faces: pd.DataFrame = field(default_factory=lambda: _empty(FACE_COLUMNS))
    keypoints: pd.DataFrame = field(default_factory=lambda: _empty(KEYPOINT_COLUMNS))
    masks: dict[tuple[int, int], dict] = field(default_factory=dict)  # (frame, track_id) -> RLE
    pids: dict[int, int] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def persons_at(self, t: int) -> pd.DataFrame:
        return self.persons[self.persons["frame"] == t]

    def faces_at(self, t: int) -> pd.DataFrame:
        return self.faces[self.faces["frame"] == t]

    def person_mask(self, t: int, track_id: int | None = None) -> np.ndarray:
        """Bool (H, W) mask of one person (or all persons when track_id is None) at frame t."""
        from vidanon.masks import rle_decode

        out = np.zeros(self.shape, dtype=bool)
        for (f, tid), rle in self.masks.items():
            if f == t and (track_id is None or tid == track_id):
                out |= rle_decode(rle)
        return out
