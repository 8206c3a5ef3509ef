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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vidanon.core import params as params_mod
from vidanon.core.errors import VidanonError
from vidanon.io import data
from vidanon.core.atomic import atomic_path, remove_stale_partials, write_text
from vidanon.core.context import RUNNER_ENV

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


def _notebook_parts(nb: Path, params: params_mod.Params, lib_hash: str, upstream: str) -> dict[str, str]:
    """What a notebook's outputs depend on, by name: its code cells' source (not its saved outputs),
    each params section, the library and the key of the last stage at or before it (stage keys chain
    every stage before them)."""
    from vidanon import stages

    parts = {"notebook code": hashlib.sha256(_code_source(nb).encode()).hexdigest()[:16]}
    parts.update({k: v for k, v in stages.key_parts(params).items() if k.startswith("params section")})
    parts.update({"library": lib_hash, "upstream stage tables": upstream})
    return parts


def _upstream_key(stage: str, keys: dict[str, str]) -> str:
    from vidanon.stages import FOLDER

    before = [name for name, folder in FOLDER.items() if folder[:2] <= stage[:2]]
    return keys[before[-1]] if before else ""


def _failure_message(nb: Path, err: Exception, kept: Path | None) -> str:
    cell = getattr(err, "exec_count", None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    where = f" in cell [{cell}]" if cell is not None else ""
    tail = f"\n  the executed notebook, with the traceback, is at {kept}" if kept else ""
    return f"notebook {nb.name} failed{where}: {ename}: {evalue}{tail}"


def run_stage(nb: Path, params_path: Path, out_nb: Path, html: Path, *, log_path: Path | None = None) -> None:
    """Execute one notebook with papermill into ``out_nb`` (atomically) and render ``html``.

    The parameters cell gets the params file's path relative to the notebook's folder (no path of
    this machine in the executed copy); stderr outputs and widget state leave the executed copy
    (:func:`vidanon.report.site.slim_notebook`), the stderr text goes to ``log_path``."""
    import nbformat
    import papermill as pm

    from vidanon.core.context import ensure_plotlyjs
    from vidanon.report.site import link_saved_figures, slim_notebook

    failed = out_nb.with_name(out_nb.stem + ".failed.ipynb")
    failed.unlink(missing_ok=True)
    rel_params = os.path.relpath(params_path, nb.parent)
    with atomic_path(out_nb) as tmp:
        try:
            pm.execute_notebook(
                str(nb), str(tmp), parameters={"params_path": rel_params},
                kernel_name=KERNEL, cwd=str(nb.parent), progress_bar=False, log_output=False,
            )
        except Exception as e:
            kept = None
            if tmp.is_file() and tmp.stat().st_size:
                os.replace(tmp, failed)
                kept = failed
            raise StageFailed(_failure_message(nb, e, kept)) from None
        executed = nbformat.read(str(tmp), as_version=4)
        stderr = slim_notebook(executed)
        link_saved_figures(executed, os.path.relpath(html.parent, out_nb.parent))  # saved PNGs: linked, not embedded
        meta = executed.metadata.get("papermill", {})
        root = nb.parent.parent  # no path of this machine in the copy: paths relative to the project root
        meta.update({"input_path": os.path.relpath(nb, root), "output_path": os.path.relpath(out_nb, root)})
        nbformat.write(executed, str(tmp))
    if log_path is not None:
        write_text(log_path, stderr)
    from vidanon.report.site import render_notebook

    render_notebook(out_nb, html, plotlyjs=ensure_plotlyjs(html.parent))


@contextmanager
def native_stderr_to(path: Path):
    """Point this process's file descriptor 2 (and so its children's: workers, kernels) at ``path``
    (appended) for the block; yields a text stream on the original stderr, for the run's own log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield terminal
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        terminal.close()


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
    wanted = _wanted(only, notebooks(root))
    jobs = jobs or max(1, min(4, os.cpu_count() or 1))
    env = {cache.LIB_HASH_ENV: lib_hash,  # the kernels started below agree with this process
           RUNNER_ENV: "1"}  # and write figures/<run>/ (a notebook opened by hand writes a scratch folder)
    if not sys.stderr.isatty():  # a log file or CI: no progress bars (the executor logs each clip instead)
        env["TQDM_DISABLE"] = os.environ.get("TQDM_DISABLE", "1")
    saved_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    _remove_partials(figures, params.work_dir(root))
    t_run = time.perf_counter()
    try:
        keys = stages.stage_keys(params)
        results, todo = _plan(notebooks(root), params, lib_hash=lib_hash, keys=keys, wanted=wanted, force=force,
                               figures=figures, stamps=stamps)
        _compute(params, root, [nb.stem for nb, _, _ in todo], force)
        results += _execute(todo, params_path, figures=figures, stamps=stamps, jobs=jobs,
                            logs=params.work_dir(root) / "logs")
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    order = {nb.stem: i for i, nb in enumerate(notebooks(root))}
    results.sort(key=lambda r: order[r.stage])
    _remove_partials(figures, params.work_dir(root))  # again: a killed run's processes may die late
    _write_run_record(params, root, results, time.perf_counter() - t_run)
    if figures.is_dir():  # the shared site, now that every render exists
        from vidanon.core.context import Context
        from vidanon.report import build_index_html

        build_index_html(Context(params, root, "07_report"))
    return results


def _remove_partials(*folders: Path) -> None:
    for folder in folders:
        gone = remove_stale_partials(folder)
        if gone:
            log.info("removed %d unfinished file(s) of an interrupted run under %s", len(gone), folder.name)


def _wanted(only, nbs) -> set[str] | None:
    """The stage numbers ``--only`` names; an unknown one is an error that lists the stages."""
    if not only:
        return None
    names = {nb.stem: nb.stem[:2] for nb in nbs}
    wanted = set()
    for o in only:
        num = o.split("_")[0].zfill(2)
        if num not in names.values() or ("_" in o and o not in names):
            raise VidanonError(f"--only {o}: no such stage; stages: {', '.join(names)}")
        wanted.add(num)
    return wanted


def _plan(nbs, params, *, lib_hash, keys, wanted, force, figures, stamps):
    """(skipped results, [(notebook, key, parts)] to run); logs why each notebook runs."""
    from vidanon.io import cache

    skipped, todo = [], []
    for nb in nbs:
        stage = nb.stem
        if wanted is not None and stage[:2] not in wanted:
            continue
        parts = _notebook_parts(nb, params, lib_hash, _upstream_key(stage, keys))
        key = cache.key(*parts.values())
        out_nb, html, stamp = figures / "notebooks" / nb.name, figures / f"{stage}.html", stamps / f"{stage}.json"
        old = {}
        if stamp.is_file():
            try:
                old = json.loads(stamp.read_text())
            except ValueError:
                old = {}
        if not force and out_nb.is_file() and html.is_file() and old.get("key") == key:
            log.info("%s: inputs unchanged, skipped (use --force to run it)", stage)
            skipped.append(StageResult(stage, "skipped", 0.0, out_nb, html))
            continue
        if force:
            why = "asked to (--force)"
        elif old.get("key") == key:
            why = "its executed notebook or render is missing"
        else:
            why = cache.what_changed(old.get("parts"), parts)
        log.info("%s: runs (%s)", stage, why)
        todo.append((nb, key, parts))
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
            executor.recycle()  # the peak memory is one stage's models, not every stage's
            log.info("%s: %s ready in %.1f s", folder, name, time.perf_counter() - t0)
    finally:
        executor.close()


def _execute(todo, params_path: Path, *, figures: Path, stamps: Path, jobs: int, logs: Path) -> list[StageResult]:
    """Execute and render the notebooks of ``todo``, ``jobs`` at a time, each in its own process
    (papermill changes the working directory of the process it runs in: two notebooks in threads of
    one process would start their kernels in each other's folders); the first failure is raised once
    the others have finished. What a notebook printed on stderr goes to ``logs/<stage>.log``."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results, failures = {}, {}

    def done(item, outcome):
        (nb, key, parts), (seconds, error) = item, outcome
        if error is not None:
            failures[nb.stem] = StageFailed(error)
            return
        write_text(stamps / f"{nb.stem}.json", json.dumps({"key": key, "parts": parts, "seconds": round(seconds, 1),
                                                           "finished": time.time()}))
        log.info("%s: notebook done in %.1f s", nb.stem, seconds)
        results[nb.stem] = StageResult(nb.stem, "ran", seconds, figures / "notebooks" / nb.name,
                                       figures / f"{nb.stem}.html")

    if jobs == 1 or len(todo) == 1:
        for nb, key, parts in todo:
            done((nb, key, parts), _run_one((nb, params_path, figures, logs)))
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_run_one, (nb, params_path, figures, logs)): (nb, key, parts)
                       for nb, key, parts in todo}
            for f in as_completed(futures):
                done(futures[f], f.result())
    if failures:
        raise next(failures[nb.stem] for nb, _, _ in todo if nb.stem in failures)  # the first in the study's order
    return [results[nb.stem] for nb, _, _ in todo]


def _run_one(item) -> tuple[float, str | None]:
    """One notebook, in a worker process: (seconds, None) or (seconds, the failure's message)."""
    nb, params_path, figures, logs = item
    t0 = time.perf_counter()
    try:
        run_stage(nb, params_path, figures / "notebooks" / nb.name, figures / f"{nb.stem}.html",
                  log_path=logs / f"{nb.stem}.log")
    except StageFailed as e:
        return time.perf_counter() - t0, str(e)
    return time.perf_counter() - t0, None


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
