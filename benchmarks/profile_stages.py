"""Where the time goes: every stage of a params file run in ONE process under cProfile, from an
empty work folder (or a warm one with --keep), printing per-stage wall times and, per stage, the
functions with the most cumulative time.

    .venv/bin/python benchmarks/profile_stages.py params/smoke.yaml [--top 12] [--keep] [--out DIR]

The work folder is a scratch copy (``--out``, default a temporary folder); the project's own work/
and figures/ are never touched.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["anonymize", "crops", "reid", "faceid", "drift", "quality", "action"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("params", type=Path)
    ap.add_argument("--top", type=int, default=12, help="functions listed per stage")
    ap.add_argument("--out", type=Path, default=None, help="scratch project root (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep what --out already holds (warm caches)")
    ap.add_argument("--stages", nargs="+", default=STAGES, choices=STAGES)
    ap.add_argument("--workers", type=int, default=1,
                    help="per-clip jobs in parallel (1: serial, in this process, so cProfile sees everything)")
    args = ap.parse_args(argv)

    import importlib

    from vidanon.core import executor as executor_mod
    from vidanon.core.context import Context
    from vidanon.io.data import load_params

    root = (args.out or Path(tempfile.mkdtemp(prefix="vidanon-profile-"))).resolve()
    params = load_params(args.params)
    params.executor.workers = args.workers
    executor = executor_mod.from_params(params)
    if not args.keep:
        shutil.rmtree(params.work_dir(root), ignore_errors=True)
    t_all = time.perf_counter()
    rows = []
    for name in args.stages:
        stage = importlib.import_module(f"vidanon.stages.{name}")
        ctx = Context(params, root, name, executor=executor)
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        stage.run(ctx)
        prof.disable()
        dt = time.perf_counter() - t0
        rows.append((name, dt))
        s = io.StringIO()
        st = pstats.Stats(prof, stream=s).sort_stats("cumulative")
        st.print_stats(args.top)
        print(f"\n=== {name}: {dt:.1f} s")
        lines = [ln for ln in s.getvalue().splitlines() if ln.strip()]
        start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
        print("\n".join(lines[start:start + args.top + 1]))
    executor.close()
    total = time.perf_counter() - t_all
    print("\n=== per stage (one process, compute only, no notebooks)")
    for name, dt in rows:
        print(f"{name:10s} {dt:7.1f} s")
    print(f"{'total':10s} {total:7.1f} s   (root: {root})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
