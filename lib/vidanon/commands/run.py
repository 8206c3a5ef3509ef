"""Run the whole study for a params file: execute notebooks 01..07 with papermill and render
them to HTML under figures/<params name>/. Stages whose inputs are unchanged are skipped."""

from __future__ import annotations

import logging

NAME = "run"
HELP = "execute the numbered notebooks for a params file (papermill), render HTML"


def add_arguments(p) -> None:
    p.add_argument("params", help="params file, e.g. params/default.yaml")
    p.add_argument("--only", nargs="+", metavar="NN",
                   help="run only these stages, by number or name (e.g. 03 05_quality)")
    p.add_argument("--force", action="store_true", help="run stages even when their inputs are unchanged")


def run(args) -> int:
    from vidanon import runner
    from vidanon.io import data

    params = data.load_params(args.params)  # a bad file fails here, before anything is redirected
    native_log = params.work_dir(runner.project_root()) / "logs" / "native-stderr.log"
    # what C++ libraries (MediaPipe, TFLite, absl, libx264) and the kernels print on the process's
    # stderr goes to the log file; the run's own log lines still reach the terminal
    with runner.native_stderr_to(native_log) as terminal:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                            stream=terminal, force=True)
        logging.captureWarnings(True)  # Python warnings of this process as log lines, on the terminal
        for noisy in ("papermill", "py.warnings"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        for noisy in ("traitlets", "nbconvert", "NbConvertApp"):  # e.g. "Alternative text is missing"
            logging.getLogger(noisy).setLevel(logging.ERROR)
        try:
            results = runner.run(args.params, only=args.only, force=args.force)
        finally:
            logging.captureWarnings(False)
        ran = [r for r in results if r.status == "ran"]
        if results:
            print(f"{len(ran)} stage(s) ran, {len(results) - len(ran)} unchanged; "
                  f"open {results[-1].html.parent / 'index.html'} (library messages: {native_log})")
        else:
            print("nothing to run")
    return 0
