"""Person crops on disk: Market-1501 file names, the crops manifest, crop images and Market-1501-style
folders (the seed study's ``query/`` and ``bounding_box_test/``).

Names follow Market-1501, ``{pid:04d}_c{cam}s{seq}_{frame:06d}_{k:02d}.jpg``; pid -1 (a person not in
the ground truth) is written ``-1`` as Market's junk label. The manifest
(``work/<run>/crops/manifest.parquet``) has the columns of :data:`MANIFEST_COLUMNS` with ``path``
relative to that folder; :func:`load_manifest` makes them absolute.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from vidanon.core.errors import DataError

MANIFEST_COLUMNS = ["clip", "method", "mode", "frame", "track_id", "pid", "camid",
                    "x1", "y1", "x2", "y2", "path"]
MARKET_RE = re.compile(r"^(-1|\d{4})_c(\d+)s(\d+)_(\d{6})_(\d{2})\.jpg$")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
JPEG_QUALITY = 95


# --- names ---------------------------------------------------------------------------------------

def market_name(pid: int, cam: int, seq: int, frame: int, k: int) -> str:
    """Market-1501 file name; pid -1 (not in the ground truth) is written ``-1`` as Market's junk."""
    head = "-1" if pid < 0 else f"{pid:04d}"
    return f"{head}_c{cam}s{seq}_{frame:06d}_{k:02d}.jpg"


def parse_market_name(name: str) -> dict:
    """``{pid, cam, seq, frame, k}`` of a Market-1501 file name; ValueError naming it otherwise."""
    m = MARKET_RE.match(Path(name).name)
    if not m:
        raise ValueError(f"{name}: not a Market-1501 name ({{pid:04d}}_c{{cam}}s{{seq}}_{{frame:06d}}_{{k:02d}}.jpg)")
    pid, cam, seq, frame, k = m.groups()
    return {"pid": int(pid), "cam": int(cam), "seq": int(seq), "frame": int(frame), "k": int(k)}


# --- crop geometry and images ------------------------------------------------------------------------

def crop_box(rgb: np.ndarray, box, pad: float = 0.0) -> tuple[np.ndarray, int, int]:
    """Cut a box (padded by ``pad`` x its size on each side) from a frame, clipped to the frame.

    Returns the crop (a view) and its top-left (x0, y0) in frame pixels; the crop may be empty."""
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    px, py = (x2 - x1) * pad, (y2 - y1) * pad
    x0, y0 = max(0, int(np.floor(x1 - px))), max(0, int(np.floor(y1 - py)))
    xe, ye = min(w, int(np.ceil(x2 + px))), min(h, int(np.ceil(y2 + py)))
    return rgb[y0:max(y0, ye), x0:max(x0, xe)], x0, y0


def cut_crop(rgb: np.ndarray, box, pad: float, size: tuple[int, int]) -> np.ndarray:
    """The box (padded by ``pad`` x its width/height on each side, clipped to the frame) resized to
    ``size`` = (height, width). ValueError for a box with no pixels inside the frame."""
    crop, _, _ = crop_box(rgb, box, pad)
    if crop.shape[0] < 1 or crop.shape[1] < 1:
        raise ValueError(f"box {list(np.round(box[:4], 1))} has no pixels inside the {rgb.shape[1]}x{rgb.shape[0]} frame")
    return cv2.resize(crop, (size[1], size[0]), interpolation=cv2.INTER_AREA if crop.shape[0] > size[0]
                      else cv2.INTER_LINEAR)


def read_crop(path) -> np.ndarray:
    """An image file as RGB uint8 (H, W, 3); DataError naming a file that cannot be read."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DataError(f"{path}: missing or unreadable crop image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_crops(paths) -> list[np.ndarray]:
    """RGB uint8 images of crop files (see :func:`read_crop`)."""
    return [read_crop(p) for p in paths]


def write_crop(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB crop as JPEG (quality 95), creating its folder; DataError when it cannot be written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise DataError(f"{path}: could not write the crop")


# --- the manifest ------------------------------------------------------------------------------------

def empty_manifest() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="object") for c in MANIFEST_COLUMNS})
    return df.astype({c: "int64" for c in ("frame", "track_id", "pid", "camid")} |
                     {c: "float64" for c in ("x1", "y1", "x2", "y2")})


def manifest_path(work: Path) -> Path:
    return Path(work) / "crops" / "manifest.parquet"


def load_manifest(work: Path) -> pd.DataFrame:
    """The crops manifest of a run with ``path`` made absolute (``work`` = ``ctx.work``)."""
    path = manifest_path(work)
    if not path.is_file():
        raise DataError(f"{path}: no crops manifest; run the crops stage (02_crop) first")
    df = pd.read_parquet(path)
    df["path"] = [str(Path(work) / "crops" / p) for p in df["path"]]
    return df


# --- Market-1501-style folders (the `reid` and `faceid` commands) ------------------------------------------

def read_market_folder(folder, camid: str = "cam") -> pd.DataFrame:
    """The crops of a Market-1501-style folder: columns path, pid, camid (junk pid -1 left out, as
    torchreid does). ``camid``: 'cam' (the c<N> of the name, Market-1501's rule) or 'cam-seq'
    (cam * 1000 + seq: one camid per clip and time segment, as vidanon's crops). DataError for a
    missing or empty folder or a file name that is not Market-1501's."""
    from vidanon.core.versions import encode_camid

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: no crop images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
    rows = []
    for p in files:
        try:
            m = parse_market_name(p.name.rsplit(".", 1)[0] + ".jpg")
        except ValueError:
            raise DataError(f"{p}: not a Market-1501 file name; expected {{pid:04d}}_c{{cam}}s{{seq}}_"
                            "{frame:06d}_{k:02d}.jpg, e.g. 0002_c1s1_000451_03.jpg") from None
        cam = m["cam"] if camid == "cam" else encode_camid(m["cam"], m["seq"])
        rows.append({"path": str(p), "pid": m["pid"], "camid": cam})
    df = pd.DataFrame(rows)
    df = df[df["pid"] >= 0].reset_index(drop=True)
    if df.empty:
        raise DataError(f"{folder}: only junk crops (pid -1), nothing to evaluate")
    return df
