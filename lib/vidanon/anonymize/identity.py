"""The reference row of every comparison: the clip re-encoded unchanged ("original").

Re-encoding through the same H.264 writer as the anonymizers means that quality metrics compare
like with like (the codec's own loss is in the reference too).
"""

from __future__ import annotations

import numpy as np


class Original:
    name = "original"

    def regions(self, t: int, scene, shape) -> np.ndarray:
        return np.zeros(shape[:2], bool)

    def apply(self, rgb: np.ndarray, t: int, scene) -> np.ndarray:
        return rgb
