"""The whole study end to end, side by side with a peer commit of vidanon (default: 618a031, the code
before the regrouping and the speed work), from empty work folders (cold scene caches):

- ``params/smoke.yaml`` with the peer and with this tree, one after the other in this run: wall time,
  peak memory of the whole process tree (runner, workers, notebook kernels), the speed ratio, and the
  tables of both compared with ``scripts/compare-tables.py``;
- with ``--default``: ``params/default.yaml`` with this tree, cold (empty work/) and warm (scene caches
  kept, the rest recomputed), against the issue's goals of 10 and 6 minutes and 4 GB.

Both trees run with ``MALLOC_PERTURB_=165``: the peer's H.264 encodes are only reproducible with it
(this tree fixes the heap itself), so that the tables can be compared.

    .venv/bin/python benchmarks/bench_study.py [--peer 618a031] [--default [--no-warm]] [--skip-peer] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def timed_run(cmd: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS of the process tree in GB sampled every 0.5 s, exit code); the CPU time
    of the whole tree (every process it started, once reaped) is kept in ``timed_run.cpu``."""
    import resource

    peak = [0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)

        def sample():
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                time.sleep(0.5)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        rc = proc.wait()
        wall = time.perf_counter() - t0
        th.join(timeout=2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed_run.cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, peak[0] / 2**30, rc


def stage_times(work: Path) -> str:
    """Where the time of a run went: each stage's compute (work/<run>/stages/*.json, in the study's order;
    01's includes the scene analysis) and each notebook (work/<run>/run.json)."""
    import json

    from vidanon.stages import ORDER

    lines = ["where the time went (compute per stage, then the notebooks, several at a time):"]
    for name in ORDER:
        rec = work / "stages" / f"{name}.json"
        if rec.is_file():
            lines.append(f"  {name:10s} {json.loads(rec.read_text())['seconds']:7.0f} s")
    run = work / "run.json"
    if run.is_file():
        nbs = json.loads(run.read_text())["stages"]
        lines.append("  notebooks  " + ", ".join(f"{k[:2]} {v['seconds']:.0f} s" for k, v in nbs.items()))
    return "\n".join(lines)


def cpu_line(label: str, wall: float) -> str:
    """How busy the cores were during the last timed_run: CPU seconds of the tree over cores x wall."""
    cores = os.cpu_count() or 1
    return (f"{label}: {timed_run.cpu:.0f} CPU-seconds over {wall:.0f} s on {cores} cores "
            f"({100 * timed_run.cpu / (wall * cores):.0f}% busy)")


def project_copy(dest: Path, source: Path) -> Path:
    """notebooks/, params/, scripts/ and lib/ of a tree: the run imports this copy of the library (see
    PYTHONPATH below), so that editing the tree while a long run goes on does not change the code under test."""
    dest.mkdir(parents=True, exist_ok=True)
    for sub in ("notebooks", "params", "scripts", "lib"):
        if (source / sub).is_dir():
            shutil.copytree(source / sub, dest / sub, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def compare(old: Path, new: Path) -> tuple[int, int, str]:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare-tables.py"), str(old), str(new)],
                         capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    differ = [ln for ln in lines if ln.startswith(("DIFFERS", "MISSING"))]
    total = int(lines[-1].split()[0]) if lines and lines[-1].split()[0].isdigit() else 0
    return len(differ), total, out.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer", default="618a031", help="git revision to compare with")
    ap.add_argument("--default", action="store_true", help="also time params/default.yaml, cold and warm")
    ap.add_argument("--keep", type=Path, default=None, help="scratch folder to keep (default: a temporary one)")
    ap.add_argument("--skip-peer", action="store_true", help="this tree only")
    ap.add_argument("--no-warm", action="store_true", help="with --default: the cold run only (half the time)")
    args = ap.parse_args(argv)

    scratch = (args.keep or Path(tempfile.mkdtemp(prefix="vidanon-bench-study-"))).resolve()
    env = dict(os.environ, MALLOC_PERTURB_="165", PYTHONUNBUFFERED="1")
    for var, sub in (("VIDANON_DATA_DIR", "data"), ("VIDANON_WEIGHTS_DIR", "weights")):
        if not env.get(var) and (ROOT.parent / "shared" / sub).is_dir():
            env[var] = str(ROOT.parent / "shared" / sub)
    py = sys.executable
    results = {}

    ours = project_copy(scratch / "ours", ROOT)
    if not args.skip_peer:
        peer = scratch / "peer"
        if not peer.exists():
            # a scratch folder deleted by hand leaves its worktree registered, and "add" then refuses
            subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=True)
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(peer), args.peer], check=True,
                           capture_output=True)
        peer_env = dict(env, PYTHONPATH=str(peer / "lib"))
        print(f"smoke, peer {args.peer} ...", flush=True)
        shutil.rmtree(peer / "work", ignore_errors=True)
        shutil.rmtree(peer / "figures" / "smoke", ignore_errors=True)
        results["peer"] = timed_run([py, "-m", "vidanon", "run", "params/smoke.yaml"], peer, peer_env,
                                    scratch / "peer-smoke.log")
    env = dict(env, PYTHONPATH=str(ours / "lib"))  # this tree's library as it was when the benchmark started
    print("smoke, this tree ...", flush=True)
    results["ours"] = timed_run([py, "-m", "vidanon", "run", "params/smoke.yaml"], ours, env, scratch / "ours-smoke.log")
    print(cpu_line("smoke, this tree", results["ours"][0]), flush=True)

    print(f"\n{'run':32s} {'wall (s)':>9s} {'peak RSS (GB)':>14s} {'exit':>5s}")
    for k, (wall, rss, rc) in results.items():
        print(f"smoke, {'peer ' + args.peer if k == 'peer' else 'this tree':25s} {wall:9.1f} {rss:14.2f} {rc:5d}")
    if "peer" in results:
        n_diff, n_tables, report = compare(scratch / "peer" / "figures" / "smoke", ours / "figures" / "smoke")
        print(f"\ntables: {n_diff} of {n_tables} differ from the peer's (tolerance 1e-9; what differs and by how much:)")
        print("\n".join("  " + ln for ln in report.splitlines() if not ln.startswith(("same", "skip"))))
        ratio = results["peer"][0] / results["ours"][0]
        print(f"target smoke-vs-{args.peer}: {ratio:.2f}x (goal >= 5x) {'met' if ratio >= 5 else 'missed'}")

    if args.default:
        print("\ndefault, this tree, cold (empty work/) ...", flush=True)
        shutil.rmtree(ours / "work" / "default", ignore_errors=True)
        cold = timed_run([py, "-m", "vidanon", "run", "params/default.yaml"], ours, env, scratch / "default-cold.log")
        print(cpu_line("default cold", cold[0]), flush=True)
        print(stage_times(ours / "work" / "default"), flush=True)
        if args.no_warm:
            print(f"default cold: {cold[0] / 60:.1f} min, peak {cold[1]:.2f} GB (exit {cold[2]})")
            print(f"target default-cold: {cold[0] / 60:.1f} min (goal <= 10 min) {'met' if cold[0] <= 600 else 'missed'}")
            print(f"target default-peak-memory: {cold[1]:.2f} GB, cold run only (goal <= 4 GB) "
                  f"{'met' if cold[1] <= 4 else 'missed'}")
            print(f"\nlogs and outputs: {scratch}")
            return 0
        work = ours / "work" / "default"
        for child in list(work.iterdir()) if work.is_dir() else []:
            if child.name != "scenes":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.rmtree(ours / "figures" / "default", ignore_errors=True)
        print("default, this tree, warm (scene caches kept) ...", flush=True)
        warm = timed_run([py, "-m", "vidanon", "run", "params/default.yaml"], ours, env, scratch / "default-warm.log")
        print(cpu_line("default warm", warm[0]), flush=True)
        print(f"default cold: {cold[0] / 60:.1f} min, peak {cold[1]:.2f} GB (exit {cold[2]}); "
              f"warm: {warm[0] / 60:.1f} min, peak {warm[1]:.2f} GB (exit {warm[2]})")
        print(f"target default-cold: {cold[0] / 60:.1f} min (goal <= 10 min) {'met' if cold[0] <= 600 else 'missed'}")
        print(f"target default-warm: {warm[0] / 60:.1f} min (goal <= 6 min) {'met' if warm[0] <= 360 else 'missed'}")
        peak = max(cold[1], warm[1])
        print(f"target default-peak-memory: {peak:.2f} GB (goal <= 4 GB) {'met' if peak <= 4 else 'missed'}")
    print(f"\nlogs and outputs: {scratch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
