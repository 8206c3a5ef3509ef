#!/usr/bin/env python3
"""Compare the tables of two runs: every CSV under OLD with the same-named CSV under NEW.

    python scripts/compare-tables.py OLD NEW [--tol 1e-9] [--ignore REGEX ...]

OLD and NEW are folders such as figures/smoke (every */tables/*.csv and *.csv.gz below them is compared).
Numbers must agree to ``--tol`` (absolute, or relative to the larger magnitude, whichever is
looser); text must be equal. Columns that measure time (seconds, fps, the ``cached`` flag) and the
per-clip speed table are left out by default: they differ between any two runs. Paths are compared
from their ``work/<run>/`` part on, so two checkouts in different folders compare equal.
Prints one line per table and exits 1 when any table differs (or is missing on one side).

Make both runs with ``MALLOC_PERTURB_`` set (e.g. ``MALLOC_PERTURB_=165 python -m vidanon run ...``):
the libx264 bundled with PyAV reads heap memory it never initialised, so without it the H.264 output,
and every metric computed on it, varies in the third decimal with whatever the process did before
(loading an ONNX Runtime model is enough). glibc then fills fresh memory with a fixed byte.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

TIMING = r"(^|_)(seconds|fps|wall|time|cached)($|_)"
TIMING_TABLES = ("anonymize_fps",)  # a table of frames per second only


def _tables(folder: Path) -> dict[str, Path]:
    # a long table is .csv.gz (since save_table gzips them): the same table as an older run's .csv
    return {str(p.relative_to(folder)).removesuffix(".gz"): p for p in sorted(folder.glob("**/tables/*.csv*"))}


def _unroot(value: str) -> str:
    """A path from its work/<run>/ (or figures/<run>/) component on; other text unchanged."""
    m = re.search(r".*(?:^|/)((?:work|figures)/[^/]+/.*)$", value)  # the last such component
    return m.group(1) if m and "/" in value else value


def compare_frames(old: pd.DataFrame, new: pd.DataFrame, tol: float, ignore: list[str]) -> list[str]:
    """Differences between two tables, as readable lines (empty when they agree)."""
    drop = [c for c in old.columns if any(re.search(p, str(c)) for p in ignore)]
    old, new = old.drop(columns=drop), new.drop(columns=[c for c in drop if c in new.columns])
    out = []
    if list(old.columns) != list(new.columns):
        gone, added = sorted(set(old.columns) - set(new.columns)), sorted(set(new.columns) - set(old.columns))
        out.append(f"columns differ: only in OLD {gone}, only in NEW {added}")
        common = [c for c in old.columns if c in new.columns]
        old, new = old[common], new[common]
    if len(old) != len(new):
        return out + [f"{len(old)} rows in OLD, {len(new)} in NEW"]
    for c in old.columns:
        a, b = old[c], new[c]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            both_nan = np.isnan(x) & np.isnan(y)
            same_inf = np.isinf(x) & (x == y)
            with np.errstate(invalid="ignore"):
                diff = np.abs(x - y)
            allowed = np.maximum(tol, tol * np.maximum(np.abs(x), np.abs(y)))
            bad = ~(both_nan | same_inf | (diff <= allowed))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                worst = float(np.nanmax(np.where(bad, diff, np.nan)))
                out.append(f"column {c!r}: {int(bad.sum())} value(s) differ, largest by {worst:.3g} "
                           f"(first at row {i}: {x[i]!r} vs {y[i]!r})")
        else:
            sa = a.fillna("<NA>").astype(str).map(_unroot)
            sb = b.fillna("<NA>").astype(str).map(_unroot)
            bad = (sa != sb).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                out.append(f"column {c!r}: {int(bad.sum())} value(s) differ (first at row {i}: "
                           f"{sa.iloc[i]!r} vs {sb.iloc[i]!r})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--tol", type=float, default=1e-9, help="absolute/relative tolerance of numbers")
    ap.add_argument("--ignore", nargs="*", default=[TIMING], help="regexes of column names left out")
    args = ap.parse_args(argv)
    old, new = _tables(args.old), _tables(args.new)
    if not old:
        print(f"{args.old}: no */tables/*.csv below it", file=sys.stderr)
        return 2
    n_bad = 0
    for name in sorted(set(old) | set(new)):
        if name not in new or name not in old:
            print(f"MISSING {name}: only in {'OLD' if name in old else 'NEW'}")
            n_bad += 1
            continue
        if Path(name).name.split(".")[0] in TIMING_TABLES:
            print(f"skip    {name} (timings only)")
            continue
        diffs = compare_frames(pd.read_csv(old[name]), pd.read_csv(new[name]), args.tol, args.ignore)
        print(("DIFFERS " if diffs else "same    ") + name)
        for d in diffs:
            print(f"        {d}")
        n_bad += bool(diffs)
    print(f"{len(set(old) | set(new))} tables, {n_bad} differ (tolerance {args.tol:g})")
    return 1 if n_bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
