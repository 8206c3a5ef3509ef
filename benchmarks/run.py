"""Run every benchmark (benchmarks/bench_*.py) in turn; each prints its numbers and ratios against a
peer and ends with one line per target, ``target <name>: <measured> (goal <goal>) met|missed``; the
target lines of all of them are repeated at the end.

    make benchmark          # or: .venv/bin/python benchmarks/run.py [names...] [-- args of bench_study]

Timings depend on the machine and its load: read them side by side within one run, not across runs.
``make benchmark BENCH="study --default"`` also times the default study (about half an hour here).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")]
    extra = [a for a in argv if a.startswith("-")]
    wanted = set(names)
    failed, targets = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n=== {script.name} ===", flush=True)
        proc = subprocess.Popen([sys.executable, str(script)] + (extra if name == "study" else []), cwd=HERE.parent,
                                stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("target "):
                targets.append(line.rstrip())
        if proc.wait():
            failed.append(script.name)
    print("\n=== targets ===")
    print("\n".join(targets) or "(none printed)")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
