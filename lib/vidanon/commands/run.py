"""Run the whole study for a params file: execute notebooks 01..07 with papermill and render
them to HTML under figures/<params name>/. Stages whose inputs are unchanged are skipped."""

from __future__ import annotations

import logging
import sys

NAME = "run"
HELP = "execute the numbered notebooks for a params file (papermill), render HTML"


def add_arguments(p) -> None:
    p.add_argument("params", help="params file, e.g. params/default.yaml")
    p.add_argument("--only", nargs="+", metavar="NN",
                   help="run only these stages, by number or name (e.g. 03 05_quality)")
    p.add_argument("--force", action="store_true", help="run stages even when their inputs are unchanged")


def run(args) -> int:
    from vidanon import runner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    for noisy in ("papermill", "traitlets", "nbconvert"):  # keep the log to one line per stage
        logging.getLogger(noisy).setLevel(logging.WARNING)
    results = runner.run(args.params, only=args.only, force=args.force)
    ran = [r for r in results if r.status == "ran"]
    print(f"{len(ran)} stage(s) ran, {len(results) - len(ran)} unchanged; "
          f"open {results[-1].html.parent / 'index.html'}" if results else "nothing to run")
    return 0
