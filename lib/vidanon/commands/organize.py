"""Arrange Market-1501-named person crops as a Market-1501 data set: OUT/query/ and
OUT/bounding_box_test/, plus OUT/manifest.csv (split, pid, cam, seq, frame, source and new path).

Crops are found recursively under --input-dir (e.g. the output of `vidanon crops`, or one
method/mode folder of a run's work/<name>/crops/). For every identity and camera, --query-per-camera
crops (chosen at random with --seed) go to query/, all others to bounding_box_test/. Identities with
pid -1 (not in the ground truth: Market-1501's junk label) go to the gallery only. As in Market-1501,
evaluation must ignore gallery crops of the same pid AND camera as the query.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "organize"
HELP = "split Market-1501-named crops into query/ and bounding_box_test/ with a manifest"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-dir", required=True, metavar="CROPS", help="folder with Market-1501-named crops")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="data set folder (created)")
    p.add_argument("--query-per-camera", type=int, default=1,
                   help="query crops per identity and camera (the rest are gallery)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the query choice")
    p.add_argument("--link", action="store_true", help="hard-link the crops instead of copying them")
    p.add_argument("--overwrite", action="store_true",
                   help="write into DIR even if it already holds a data set (same-named files are replaced)")


def split(names: list[str], query_per_camera: int, seed: int):
    """The split of Market-1501 crop names: a DataFrame ``name, pid, cam, seq, frame, k, split``."""
    import numpy as np
    import pandas as pd

    from vidanon.io.crops import parse_market_name

    df = pd.DataFrame([{"name": n, **parse_market_name(n)} for n in names])
    df["split"] = "bounding_box_test"
    rng = np.random.default_rng(seed)
    for (pid, _cam), g in df[df["pid"] >= 0].groupby(["pid", "cam"]):
        pick = rng.choice(g.index.to_numpy(), size=min(query_per_camera, len(g)), replace=False)
        df.loc[pick, "split"] = "query"
    return df


def run(args) -> int:
    from vidanon.io.crops import MARKET_RE
    from vidanon.core.atomic import atomic_path

    src, out = Path(args.input_dir), Path(args.output)
    if not src.is_dir():
        raise DataError(f"{src}: no such folder")
    if (out / "manifest.csv").exists() and not args.overwrite:
        raise VidanonError(f"{out} already holds a data set (manifest.csv); pass --overwrite to write into it")
    if args.query_per_camera < 1:
        raise VidanonError("--query-per-camera must be >= 1")
    files = sorted(p for p in src.rglob("*.jpg") if MARKET_RE.match(p.name) and out not in p.parents)
    if not files:
        raise DataError(f"{src}: no Market-1501-named crops ({{pid:04d}}_c{{cam}}s{{seq}}_{{frame:06d}}_{{k:02d}}.jpg) in it")
    seen: dict[str, Path] = {}
    for p in files:
        if p.name in seen:
            raise DataError(f"two crops are named {p.name} ({seen[p.name]} and {p}): organize one method/mode "
                            "folder at a time, or give the clips different camera numbers")
        seen[p.name] = p
    df = split([p.name for p in files], args.query_per_camera, args.seed)
    df["source"] = [str(seen[n]) for n in df["name"]]
    df["path"] = df["split"] + "/" + df["name"]
    for sub in ("query", "bounding_box_test"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for s, rel in zip(df["source"], df["path"]):
        dst = out / rel
        dst.unlink(missing_ok=True)
        if args.link:
            dst.hardlink_to(s)
        else:
            shutil.copy2(s, dst)
    with atomic_path(out / "manifest.csv") as tmp:
        df.drop(columns="name").to_csv(tmp, index=False)
    q = df["split"] == "query"
    print(f"{q.sum()} query and {(~q).sum()} gallery crops of {df.loc[df['pid'] >= 0, 'pid'].nunique()} "
          f"identities ({(df['pid'] < 0).sum()} junk) written to {out}")
    return 0
