"""One module per notebook of the study; each ``run(ctx)`` computes its stage from the work/ tables
and videos of the stages before it, saves its own tables and returns them. A stage never imports
another stage: stages share data only through work/ (tables, videos, crops, caches).

:func:`run_cached` is how the runner and the notebooks call a stage: it computes the stage only when
its key changed (the params, the library's source, the input clips and the keys of the stages before
it) and otherwise loads the tables the last run saved, in seconds. Records live in
``work/<run>/stages/<stage>.json``.
"""

from __future__ import annotations

import importlib
import json
import logging
import time

ORDER = ("anonymize", "crops", "reid", "faceid", "drift", "quality", "action")

log = logging.getLogger("vidanon.stages")


def _record_path(ctx, name: str):
    return ctx.work / "stages" / f"{name}.json"


def inputs_key(params) -> str:
    """What every stage depends on besides the params: the content of the clips and of the ground truth."""
    from vidanon.io import cache, data

    files = [str(cache.file_hash(data.clip_path(c))) for c in params.clips]
    if params.ground_truth is not None:
        files.append(cache.file_hash(params.ground_truth))
    return cache.key(files)


def stage_keys(params) -> dict[str, str]:
    """``{stage: key}`` for every stage in :data:`ORDER`; each key chains the ones before it."""
    from vidanon.io import cache

    base = cache.key(params.section_hash(), cache.library_hash(), inputs_key(params))
    keys, previous = {}, base
    for name in ORDER:
        previous = keys[name] = cache.key(name, previous)
    return keys


def key_parts(params) -> dict[str, str]:
    """The parts of every stage's key, by what a user would call them (for the reason a stage runs again)."""
    from vidanon.io import cache

    sections = [k for k in type(params).model_fields if k not in ("source", "description", "executor", "name")]
    parts = {f"params section {k}": params.section_hash(k) for k in sections}
    parts.update({"library": cache.library_hash(), "clips or ground truth": inputs_key(params)})
    return parts


def stale_reason(ctx, name: str) -> str:
    """Why stage ``name``'s saved tables do not match now (see :func:`vidanon.io.cache.what_changed`)."""
    from vidanon.io import cache

    try:
        record = json.loads(_record_path(ctx, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    return cache.what_changed(record.get("parts"), key_parts(ctx.params))


def is_fresh(ctx, name: str, keys: dict[str, str] | None = None) -> bool:
    """Whether the stage's saved tables were made from what it depends on now."""
    path = _record_path(ctx, name)
    if not path.is_file():
        return False
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    keys = keys or stage_keys(ctx.params)
    tables = record.get("tables", [])
    if not getattr(ctx, "scratch", False) and record.get("tables_in", _tables_in(ctx)) != _tables_in(ctx):
        return False  # computed in a notebook (work/<run>/interactive/): the run's figures lack its CSVs
    return record.get("key") == keys[name] and all((ctx.work / "metrics" / f"{t}.parquet").is_file() for t in tables)


def _tables_in(ctx) -> str:
    """Where a context writes its stages' CSV tables, relative to the project root."""
    try:
        return ctx.figures.parent.relative_to(ctx.root).as_posix()
    except ValueError:
        return ctx.figures.parent.as_posix()


def load(ctx, name: str) -> dict:
    """The tables the stage's last run saved, by name."""
    record = json.loads(_record_path(ctx, name).read_text(encoding="utf-8"))
    return {t: ctx.load_metrics(t) for t in record["tables"]}


class StaleStage(RuntimeError):
    """A notebook asked for a stage's tables that do not match the params, and may not compute them."""


def run_cached(ctx, name: str, *, force: bool = False) -> dict:
    """The tables of stage ``name``: loaded when its key is unchanged (and ``force`` is False), else
    computed with ``vidanon.stages.<name>.run(ctx)``, after the stages before it where those are stale.

    A context that may not compute (``ctx.recompute`` False: a notebook opened in JupyterLab without
    asking to recompute) raises :class:`StaleStage` instead, saying why and how to get the tables."""
    from vidanon.core.atomic import write_text

    if name not in ORDER:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(ORDER)}")
    keys = stage_keys(ctx.params)
    todo = [b for b in ORDER[:ORDER.index(name)] if not is_fresh(ctx, b, keys)]
    if force or not is_fresh(ctx, name, keys):
        todo.append(name)
    if todo and not getattr(ctx, "recompute", True):
        first = todo[0]
        raise StaleStage(
            f"stage {first!r} has no tables for these params ({stale_reason(ctx, first)}): run "
            f"`python -m vidanon run {ctx.params.source or 'params/<name>.yaml'} --only {FOLDER[name][:2]}`, or set "
            f"recompute = True in the parameters cell (this notebook then computes it, minutes, and writes its "
            f"figures under work/<run>/interactive/)")
    tables = None
    for b in todo:
        reason = "asked to (force)" if force and b == name else stale_reason(ctx, b)
        log.info("%s: computing (%s)%s", b, reason, f"; {name} needs it" if b != name else "")
        tables = _compute(ctx, b, keys[b], write_text)
    if todo and todo[-1] == name:
        return tables
    log.info("%s: tables unchanged, loaded", name)
    return load(ctx, name)


def _compute(ctx, name: str, key: str, write_text) -> dict:
    from dataclasses import replace

    stage = importlib.import_module(f"vidanon.stages.{name}")
    ctx = replace(ctx, stage=FOLDER[name])  # its tables go to its own notebook's folder
    t0 = time.perf_counter()
    tables = stage.run(ctx)
    seconds = time.perf_counter() - t0
    write_text(_record_path(ctx, name), json.dumps({"key": key, "parts": key_parts(ctx.params), "tables": list(tables),
                                                    "seconds": round(seconds, 1), "finished": time.time(),
                                                    "tables_in": _tables_in(ctx)}))
    log.info("%s: computed in %.1f s", name, seconds)
    return tables


LONG_CLIP = 300  # frames: a longer clip's versions are jobs of their own (they would keep one worker busy alone)


def clip_jobs(ctx, clips: list, items: list | None = None) -> tuple[list[tuple], list[float]]:
    """``(jobs, costs)`` of a stage's per-clip work for its executor: per clip, ``(ctx, clip index,
    items)`` (e.g. its versions), or one job per item for a clip longer than :data:`LONG_CLIP` frames
    (``(ctx, clip index)`` when ``items`` is None); costs in frames x pixels x items, so that the
    executor starts the costliest first (a long job started last leaves the other workers idle)."""
    jobs, costs = [], []
    for i, clip in enumerate(clips):
        pixels = clip.n_frames * clip.width * clip.height
        if items is None:
            jobs.append((ctx, i))
            costs.append(pixels)
            continue
        for part in ([[item] for item in items] if clip.n_frames > LONG_CLIP else [list(items)]):
            jobs.append((ctx, i, part))
            costs.append(pixels * len(part))
    return jobs, costs


#: The notebook folder (figures/<run>/<folder>/) each stage writes its tables into.
FOLDER = {"anonymize": "01_anonymize", "crops": "02_crop", "reid": "03_reid", "faceid": "03_reid",
          "drift": "04_drift", "quality": "05_quality", "action": "06_action"}
