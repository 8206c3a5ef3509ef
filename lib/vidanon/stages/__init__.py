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
    return record.get("key") == keys[name] and all((ctx.work / "metrics" / f"{t}.parquet").is_file() for t in tables)


def load(ctx, name: str) -> dict:
    """The tables the stage's last run saved, by name."""
    record = json.loads(_record_path(ctx, name).read_text(encoding="utf-8"))
    return {t: ctx.load_metrics(t) for t in record["tables"]}


def run_cached(ctx, name: str, *, force: bool = False) -> dict:
    """The tables of stage ``name``: loaded when its key is unchanged (and ``force`` is False), else
    computed with ``vidanon.stages.<name>.run(ctx)``, after the stages before it where those are stale."""
    from vidanon.core.atomic import write_text

    if name not in ORDER:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(ORDER)}")
    keys = stage_keys(ctx.params)
    for before in ORDER[:ORDER.index(name)]:
        if not is_fresh(ctx, before, keys):
            log.info("%s: stale, computing it first (%s needs it)", before, name)
            _compute(ctx, before, keys[before], write_text)
    if not force and is_fresh(ctx, name, keys):
        log.info("%s: tables unchanged, loaded", name)
        return load(ctx, name)
    return _compute(ctx, name, keys[name], write_text)


def _compute(ctx, name: str, key: str, write_text) -> dict:
    from dataclasses import replace

    stage = importlib.import_module(f"vidanon.stages.{name}")
    ctx = replace(ctx, stage=FOLDER[name])  # its tables go to its own notebook's folder
    t0 = time.perf_counter()
    tables = stage.run(ctx)
    seconds = time.perf_counter() - t0
    write_text(_record_path(ctx, name), json.dumps({"key": key, "tables": list(tables), "seconds": round(seconds, 1),
                                                    "finished": time.time()}))
    log.info("%s: computed in %.1f s", name, seconds)
    return tables


#: The notebook folder (figures/<run>/<folder>/) each stage writes its tables into.
FOLDER = {"anonymize": "01_anonymize", "crops": "02_crop", "reid": "03_reid", "faceid": "03_reid",
          "drift": "04_drift", "quality": "05_quality", "action": "06_action"}
