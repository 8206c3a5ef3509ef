"""Run the study: execute the numbered notebooks in order with papermill, render them to HTML.

For each notebook ``notebooks/NN_<stage>.ipynb`` the runner injects ``params_path`` into the cell
tagged ``parameters``, executes it (cwd = notebooks/, kernel ``python3``), and writes under
``figures/<params name>/``: the executed notebook (``notebooks/NN_<stage>.ipynb``) and its HTML render
(``NN_<stage>.html``); the notebook itself writes its figures and tables into ``NN_<stage>/``.

A stage whose inputs are unchanged is skipped (logged as such): its key hashes the notebook, the
params, the library's source and the keys of the stages before it. Outputs are written under a
temporary name and renamed when complete; a failing notebook stops the run, naming the notebook,
the cell and the error, and leaves earlier stages' outputs in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vidanon.core import params as params_mod
from vidanon.core.errors import VidanonError
from vidanon.io import data
from vidanon.core.atomic import atomic_path, write_text

log = logging.getLogger("vidanon.runner")

KERNEL = "python3"


class StageFailed(VidanonError):
    """A notebook raised: the message names the notebook, the cell and the error."""


@dataclass
class StageResult:
    stage: str
    status: str  # "ran" | "skipped"
    seconds: float
    notebook: Path
    html: Path


def project_root() -> Path:
    """The project root: the folder holding notebooks/ and params/ (the CWD, or above the package)."""
    for cand in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (cand / "notebooks").is_dir() and (cand / "params").is_dir():
            return cand
    raise VidanonError("cannot find the project root (a folder with notebooks/ and params/); run from it")


def notebooks(root: Path) -> list[Path]:
    found = sorted(p for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise VidanonError(f"no numbered notebooks (NN_name.ipynb) in {root / 'notebooks'}")
    return found


def _tree_hash(folder: Path) -> str:
    from vidanon.io.cache import tree_hash

    return tree_hash(folder)


def _code_source(nb: Path) -> str:
    """The notebook's code cells' source: what it runs (its saved outputs and prose do not count)."""
    import nbformat

    return "\n\0".join(c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")


def _notebook_key(nb: Path, params: params_mod.Params, lib_hash: str, upstream: str) -> str:
    """What a notebook's outputs depend on: its code, the params, the library and the key of the last
    stage at or before it (stage keys chain every stage before them)."""
    h = hashlib.sha256()
    for part in (_code_source(nb), params.section_hash(), lib_hash, upstream):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _upstream_key(stage: str, keys: dict[str, str]) -> str:
    from vidanon.stages import FOLDER

    before = [name for name, folder in FOLDER.items() if folder[:2] <= stage[:2]]
    return keys[before[-1]] if before else ""


def _render_html(executed: Path, html: Path) -> None:
    # nbconvert's lab template without its CDN scripts: the shared site opens offline
    from vidanon.report.site import render_notebook

    render_notebook(executed, html)


def _failure_message(nb: Path, err: Exception, kept: Path | None) -> str:
    cell = getattr(err, "exec_count", None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    where = f" in cell [{cell}]" if cell is not None else ""
    tail = f"\n  the executed notebook, with the traceback, is at {kept}" if kept else ""
    return f"notebook {nb.name} failed{where}: {ename}: {evalue}{tail}"


def run_stage(nb: Path, params_path: Path, out_nb: Path, html: Path) -> None:
    """Execute one notebook with papermill into ``out_nb`` (atomically) and render ``html``."""
    import papermill as pm

    failed = out_nb.with_name(out_nb.stem + ".failed.ipynb")
    failed.unlink(missing_ok=True)
    with atomic_path(out_nb) as tmp:
        try:
            pm.execute_notebook(
                str(nb), str(tmp), parameters={"params_path": str(params_path)},
                kernel_name=KERNEL, cwd=str(nb.parent), progress_bar=False, log_output=False,
            )
        except Exception as e:
            kept = None
            if tmp.is_file() and tmp.stat().st_size:
                os.replace(tmp, failed)
                kept = failed
            raise StageFailed(_failure_message(nb, e, kept)) from None
    _render_html(out_nb, html)


def run(params_path: str | Path, *, only: list[str] | None = None, force: bool = False,
        root: Path | None = None, jobs: int | None = None) -> list[StageResult]:
    """Run the study for a params file; returns what ran and what was skipped, notebook by notebook.

    First every stage's computation runs in this process (``vidanon.stages.run_cached``: skipped when
    its key is unchanged), then the notebooks, ``jobs`` at a time (default: one per core, at most 4),
    load those tables, draw and explain; they are rendered to HTML, then the site is built.
    ``only``: stage numbers or names (e.g. ["03", "05_quality"]) to run; others are left as they are.
    ``force``: run even when the inputs are unchanged.
    """
    from vidanon import stages
    from vidanon.io import cache

    root = root or project_root()
    params_path = Path(params_path).resolve()
    params = data.load_params(params_path)  # validation before any work, the files it names included
    _check_inputs(params)
    figures = params.figures_dir(root)
    stamps = params.work_dir(root) / "stamps"
    lib_hash = _tree_hash(Path(__file__).resolve().parent)
    wanted = {o.split("_")[0].zfill(2) for o in only} if only else None
    jobs = jobs or max(1, min(4, os.cpu_count() or 1))
    saved_env = os.environ.get(cache.LIB_HASH_ENV)
    os.environ[cache.LIB_HASH_ENV] = lib_hash  # the kernels started below agree with this process
    if not sys.stderr.isatty():  # a log file or CI: no progress bars (the executor logs each clip instead)
        os.environ.setdefault("TQDM_DISABLE", "1")
    t_run = time.perf_counter()
    try:
        keys = stages.stage_keys(params)
        results, todo = _plan(notebooks(root), params, lib_hash=lib_hash, keys=keys, wanted=wanted, force=force,
                               figures=figures, stamps=stamps)
        _compute(params, root, [nb.stem for nb, _ in todo], force)
        results += _execute(todo, params_path, figures=figures, stamps=stamps, jobs=jobs)
    finally:
        if saved_env is None:
            os.environ.pop(cache.LIB_HASH_ENV, None)
        else:
            os.environ[cache.LIB_HASH_ENV] = saved_env
    order = {nb.stem: i for i, nb in enumerate(notebooks(root))}
    results.sort(key=lambda r: order[r.stage])
    _write_run_record(params, root, results, time.perf_counter() - t_run)
    if figures.is_dir():  # the shared site, now that every render exists
        from vidanon.core.context import Context
        from vidanon.report import build_index_html

        build_index_html(Context(params, root, "07_report"))
    return results


def _plan(nbs, params, *, lib_hash, keys, wanted, force, figures, stamps):
    """(skipped results, [(notebook, key)] to run)."""
    skipped, todo = [], []
    for nb in nbs:
        stage = nb.stem
        if wanted is not None and stage[:2] not in wanted:
            continue
        key = _notebook_key(nb, params, lib_hash, _upstream_key(stage, keys))
        out_nb, html, stamp = figures / "notebooks" / nb.name, figures / f"{stage}.html", stamps / f"{stage}.json"
        if not force and stamp.is_file() and out_nb.is_file() and html.is_file():
            if json.loads(stamp.read_text()).get("key") == key:
                log.info("%s: inputs unchanged, skipped (use --force to run it)", stage)
                skipped.append(StageResult(stage, "skipped", 0.0, out_nb, html))
                continue
        todo.append((nb, key))
    return skipped, todo


def _compute(params, root: Path, notebook_stems: list[str], force: bool) -> None:
    """The computations of the notebooks to run, in the study's order, in this process."""
    from vidanon import stages
    from vidanon.core import executor as executor_mod
    from vidanon.core.context import Context

    names = [n for n in stages.ORDER if stages.FOLDER[n] in notebook_stems]
    if not names:
        return
    executor = executor_mod.from_params(params)  # per-clip jobs in parallel (workers live for the run)
    log.info("computing %s on %d worker(s) (%s)", ", ".join(names), executor.workers, params.executor.kind)
    try:
        for name in names:
            folder = stages.FOLDER[name]
            t0 = time.perf_counter()
            stages.run_cached(Context(params, root, folder, executor=executor), name, force=force)
            log.info("%s: %s ready in %.1f s", folder, name, time.perf_counter() - t0)
    finally:
        executor.close()


def _execute(todo, params_path: Path, *, figures: Path, stamps: Path, jobs: int) -> list[StageResult]:
    """Execute and render the notebooks of ``todo``, ``jobs`` at a time; the first failure is raised
    once the others have finished."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item):
        nb, key = item
        stage = nb.stem
        out_nb, html = figures / "notebooks" / nb.name, figures / f"{stage}.html"
        log.info("%s: running", stage)
        t0 = time.perf_counter()
        run_stage(nb, params_path, out_nb, html)
        dt = time.perf_counter() - t0
        write_text(stamps / f"{stage}.json", json.dumps({"key": key, "seconds": round(dt, 1), "finished": time.time()}))
        log.info("%s: done in %.1f s", stage, dt)
        return StageResult(stage, "ran", dt, out_nb, html)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, item) for item in todo]
    results, failures = [], []
    for f in futures:
        try:
            results.append(f.result())
        except StageFailed as e:
            failures.append(e)
    if failures:
        raise failures[0]
    return results


def _check_inputs(params: params_mod.Params) -> None:
    """Every clip must be available (downloaded and hash-checked) before the first notebook starts."""
    for clip in params.clips:
        data.clip_path(clip)


def _write_run_record(params, root: Path, results: list[StageResult], seconds: float) -> None:
    # ru_maxrss of children: the largest kernel process (kilobytes on Linux)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    record = {
        "params": params.name,
        "wall_seconds": round(seconds, 1),
        "peak_kernel_rss_mb": round(peak_kb / 1024, 1),
        "stages": {r.stage: {"status": r.status, "seconds": round(r.seconds, 1)} for r in results},
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    write_text(params.work_dir(root) / "run.json", json.dumps(record, indent=2))
