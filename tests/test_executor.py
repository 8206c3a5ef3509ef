"""The executor: jobs in worker processes come back in order and equal the serial results."""

import os

from vidanon.core import executor
from vidanon.core.params import ClipSpec, Params


def square_and_threads(x):  # top level: workers import it by name
    return x * x, os.environ.get("OMP_NUM_THREADS")


def test_local_workers_return_results_in_order_with_one_thread_each():
    ex = executor.Local(workers=2)
    try:
        out = ex.map(square_and_threads, range(7))
    finally:
        ex.close()
    assert [v for v, _ in out] == [x * x for x in range(7)]
    assert {threads for _, threads in out} == {"1"}
    assert executor.Serial().map(square_and_threads, [3])[0][0] == 9


def worker_pid(_):
    return os.getpid()


def test_recycle_ends_the_workers_and_the_next_map_starts_new_ones():
    # between stages the runner recycles: a stage's cached models leave with its workers
    ex = executor.Local(workers=2)
    try:
        before = set(ex.map(worker_pid, range(4)))
        ex.recycle()
        assert ex._pool is None
        after = set(ex.map(worker_pid, range(4)))
    finally:
        ex.close()
    assert before and after and not before & after
    executor.Serial().recycle()  # the serial executor just drops this process's models


def cache_and_count(x):
    executor.cached(("test-model", x), object)
    return len(executor._MODELS)


def test_a_new_map_drops_the_models_the_last_one_cached():
    # a worker starting another map's jobs (another embedder, after fine-tuning) frees the old models
    ex = executor.Local(workers=2)
    try:
        first = ex.map(cache_and_count, range(6))
        second = ex.map(cache_and_count, [10, 11])
    finally:
        ex.close()
    assert max(first) >= 3  # 6 jobs on 2 workers: one held at least 3 models
    assert max(second) <= 2


def test_from_params_and_cached_models():
    p = Params(name="t", clips=[ClipSpec(id="a", sample="female")])
    p.executor.workers = 1
    assert isinstance(executor.from_params(p), executor.Serial)
    p.executor.workers = 3
    assert isinstance(executor.from_params(p), executor.Local)
    made = []
    for _ in range(3):
        executor.cached(("test", 1), lambda: made.append(1) or object())
    assert len(made) == 1
    executor.release()
    executor.cached(("test", 1), lambda: made.append(1) or object())
    assert len(made) == 2
    executor.release()


def test_executor_settings_never_change_stage_keys():
    from vidanon.core.params import Params

    a = Params(name="t", clips=[ClipSpec(id="a", sample="female")])
    b = a.model_copy(deep=True)
    b.executor.kind, b.executor.workers = "ray", 8
    assert a.section_hash() == b.section_hash()


def sleep_long(x):  # top level: workers import it by name
    import time

    time.sleep(120)
    return x


def test_sigterm_stops_the_workers_at_once():
    """A terminated run (SIGTERM to the runner, as `kill` or a scheduler sends it) stops its workers now:
    it does not wait for their jobs to finish."""
    import signal
    import threading
    import time

    import pytest

    from vidanon.core.atomic import exit_on_sigterm

    old = signal.getsignal(signal.SIGTERM)
    exit_on_sigterm()
    ex = executor.Local(workers=2)
    try:
        threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
        t0 = time.perf_counter()
        with pytest.raises(SystemExit):
            ex.map(sleep_long, range(4))
        assert time.perf_counter() - t0 < 30  # the jobs would take 240 s
        assert ex._pool is None
        import multiprocessing as mp

        assert not [c for c in mp.active_children() if "resource_tracker" not in c.name]  # the workers are gone
    finally:
        signal.signal(signal.SIGTERM, old)
        ex.close()


def test_embedding_in_workers_equals_one_process(tmp_path):
    """embed_files with an executor embeds the same batches in worker processes (the embedder rebuilt
    there from its spec): the same features as in one process, kept in the same cache."""
    import numpy as np

    from vidanon.io.crops import write_crop
    from vidanon.models import embed

    rng = np.random.default_rng(0)
    paths = []
    for i in range(11):
        paths.append(tmp_path / "crops" / f"{i:02d}.jpg")
        write_crop(paths[-1], rng.integers(0, 256, (64, 32, 3), dtype=np.uint8))
    hsv = embed.get("hsv_histogram")
    serial = embed.embed_files(hsv, paths, batch=4)
    pool = executor.Local(2)
    try:
        parallel = embed.embed_files(hsv, paths, batch=4, cache_dir=tmp_path / "features", executor=pool)
    finally:
        pool.close()
    np.testing.assert_array_equal(parallel, serial)
    assert embed.embed_files(hsv, paths, batch=4, cache_dir=tmp_path / "features").shape == serial.shape


def test_clip_jobs_split_long_clips_and_cost_them():
    """A long clip's versions are jobs of their own; costs are frames x pixels x versions, and the
    executor starts the costliest first but returns results in the jobs' order."""
    from types import SimpleNamespace

    from vidanon import stages

    short = SimpleNamespace(n_frames=50, width=40, height=30)
    long = SimpleNamespace(n_frames=stages.LONG_CLIP + 1, width=40, height=30)
    jobs, costs = stages.clip_jobs("ctx", [short, long], ["original", "blur"])
    assert jobs == [("ctx", 0, ["original", "blur"]), ("ctx", 1, ["original"]), ("ctx", 1, ["blur"])]
    assert costs == [50 * 1200 * 2, long.n_frames * 1200, long.n_frames * 1200]
    assert stages.clip_jobs("ctx", [short], None) == ([("ctx", 0)], [50 * 1200])
    assert executor._longest_first(3, [1, 5, 2]) == [1, 2, 0] and executor._longest_first(2, None) == [0, 1]
    pool = executor.Local(2)
    try:
        assert pool.map(abs, [-1, -2, -3], costs=[1, 3, 2]) == [1, 2, 3]
    finally:
        pool.close()
