"""Per-clip work in parallel: worker processes on this machine (``executor.kind: local``, the
default, one per core) or tasks on a Ray cluster (``executor.kind: ray``).

A stage hands the executor a top-level function and a list of picklable jobs (typically
``(ctx, clip spec, version)``); each job runs in a worker, which loads what it needs from work/
(scenes, videos) and returns a small result (table rows). Results come back in the jobs' order, so
a parallel run gives the same tables as a serial one. Workers keep their models between jobs
(:func:`cached`) and run one thread each, so two workers on two cores do not fight over them.
``workers: 1`` (or a single job) runs in the calling process.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VIDANON_THREADS")
QUIET_VARS = {"TQDM_DISABLE": "1"}  # a worker's own progress bars would interleave with the run's
_MODELS: OrderedDict = OrderedDict()
MAX_MODELS = 6


def cached(key, make: Callable[[], Any]):
    """A model kept in this process between jobs (at most :data:`MAX_MODELS`, least recently used
    dropped): ``cached(("face_eval", spec_json), lambda: detect.get_face_detector(spec))``."""
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    model = _MODELS[key] = make()
    while len(_MODELS) > MAX_MODELS:
        _, old = _MODELS.popitem(last=False)
        if hasattr(old, "close"):
            old.close()
    return model


def release() -> None:
    """Drop the models :func:`cached` holds in this process."""
    while _MODELS:
        _, old = _MODELS.popitem()
        if hasattr(old, "close"):
            old.close()


def _init_worker(threads: int) -> None:
    from vidanon.core.atomic import exit_on_sigterm

    exit_on_sigterm()  # a worker stopped by the runner removes the file it was writing
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    os.environ.update(QUIET_VARS)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass


_MAP = [None]  # the map call this worker last ran a job of


def _in_worker(fn, job, map_id):
    """A job of a local worker: the first job of a new map drops what the last map cached (another
    stage part's models; after fine-tuning, gigabytes the allocator kept), then runs ``fn(job)``."""
    if _MAP[0] is not None and _MAP[0] != map_id:
        release()
        _trim_heap()
    _MAP[0] = map_id
    return fn(job)


def _trim_heap() -> None:
    """Give freed heap pages back to the system (glibc keeps them for reuse otherwise)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _run(fn, job):  # a module-level trampoline: picklable, sets the thread count once per process
    if os.environ.get("VIDANON_THREADS") is None:
        _init_worker(1)
    return fn(job)


class _Progress:
    """Jobs done of a stage: a progress bar on a terminal, else a log line (with the ETA) for the first
    job, then at most every :data:`LOG_EVERY` seconds, and when all are done."""

    LOG_EVERY = 15.0

    def __init__(self, label: str | None, total: int):
        import sys
        import time

        from tqdm.auto import tqdm

        self.label, self.total, self.done, self.t0 = label, total, 0, time.perf_counter()
        self.logged = self.t0
        self.bar = tqdm(total=total, desc=label, unit="job", leave=False) if label and sys.stderr.isatty() else None

    def step(self) -> None:
        import time

        self.done += 1
        now = time.perf_counter()
        if self.bar is not None:
            self.bar.update()
        elif self.label and (self.done in (1, self.total) or now - self.logged >= self.LOG_EVERY):
            dt = now - self.t0
            eta = dt / self.done * (self.total - self.done)
            self.logged = now
            if self.done == self.total:
                log.info("%s: %d/%d done in %.0f s", self.label, self.done, self.total, dt)
            else:
                log.info("%s: %d/%d done, %.0f s, about %.0f s left", self.label, self.done, self.total, dt, eta)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _longest_first(n: int, costs) -> list[int]:
    """Job indices, the costliest first (the others fill in around the long ones: a long job started
    last would leave the other workers idle at the end); the given order where no costs are known."""
    if costs is None:
        return list(range(n))
    costs = list(costs)
    if len(costs) != n:
        raise ValueError(f"{len(costs)} costs for {n} jobs")
    return sorted(range(n), key=lambda i: -costs[i])


class Serial:
    """Every job in the calling process, in order."""

    workers = 1

    def map(self, fn: Callable, jobs: Iterable, label: str | None = None, costs=None) -> list:
        jobs = list(jobs)
        progress, out = _Progress(label, len(jobs)), []
        for job in jobs:
            out.append(fn(job))
            progress.step()
        progress.close()
        return out

    def close(self) -> None:
        release()

    recycle = close  # between stages: the models a stage loaded are not the next one's


class Local:
    """Worker processes on this machine (started once, kept for the run; ``spawn``, so no state of the
    parent process leaks into them)."""

    def __init__(self, workers: int, threads: int = 1):
        self.workers, self.threads = workers, threads
        self._pool, self._maps = None, 0

    def map(self, fn: Callable, jobs: Iterable, label: str | None = None, costs=None) -> list:
        """``[fn(job) for job in jobs]`` in the workers, results in the jobs' order; ``costs`` (one
        number per job, e.g. frames x pixels) start the costliest first."""
        from concurrent.futures import as_completed

        jobs = list(jobs)
        if len(jobs) <= 1:
            return Serial().map(fn, jobs, label)
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.threads,))
        self._maps += 1
        submitted = {i: self._pool.submit(_in_worker, fn, jobs[i], self._maps)
                     for i in _longest_first(len(jobs), costs)}
        futures = [submitted[i] for i in range(len(jobs))]
        progress = _Progress(label, len(jobs))
        try:
            for _ in as_completed(futures):
                progress.step()
        except BaseException:  # interrupted (SIGTERM, Ctrl-C): stop the workers now, not after their jobs
            self._stop_workers()
            raise
        progress.close()
        return [f.result() for f in futures]  # in the jobs' order; the first failure is raised

    def _stop_workers(self) -> None:
        """Terminate the pool's processes (SIGTERM: each job's finally blocks remove its partial file, see
        :func:`_init_worker`), kill what is left after 5 s, and drop the pool."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list(getattr(pool, "_processes", {}).values())  # no public API for this in concurrent.futures
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + 5
        for proc in procs:
            proc.join(timeout=max(0.0, deadline - time.monotonic()))
            if proc.is_alive():  # the pool's worker loop catches the SystemExit (after the job's finally
                proc.kill()      # blocks removed its partial file) and waits for more: end it
                proc.join(timeout=5)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        release()

    def recycle(self) -> None:
        """Between stages: end the workers, and with them the models they hold (up to :data:`MAX_MODELS`
        each, gigabytes that a worker's allocator does not give back); the next :meth:`map` starts new
        ones (seconds, against minutes of a stage)."""
        self.close()


class Ray:
    """Tasks on a Ray cluster (``address``: the params' ``executor.address``, else ``$RAY_ADDRESS``,
    else a local Ray instance started for the run). ``gpus`` per task where a model runs on CUDA."""

    def __init__(self, address: str | None = None, workers: int | None = None, gpus: float = 0.0):
        try:
            import ray
        except ImportError:
            from vidanon.core.errors import BackendUnavailable

            raise BackendUnavailable("executor.kind: ray needs Ray (pip install ray==2.60.0)") from None
        self._ray = ray
        self.gpus = gpus
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS")
            kw = {"address": address} if address else {"num_cpus": workers or os.cpu_count() or 1}
            ray.init(**kw, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                     runtime_env={"env_vars": {v: "1" for v in THREAD_VARS} | QUIET_VARS})
            self._started = True
        else:
            self._started = False
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def map(self, fn: Callable, jobs: Iterable, label: str | None = None, costs=None) -> list:
        jobs = list(jobs)
        remote = self._ray.remote(num_cpus=1, num_gpus=self.gpus)(_run)
        submitted = {i: remote.remote(fn, jobs[i]) for i in _longest_first(len(jobs), costs)}
        refs = [submitted[i] for i in range(len(jobs))]
        progress, pending = _Progress(label, len(refs)), list(refs)
        while pending:
            ready, pending = self._ray.wait(pending, num_returns=1)
            progress.step()
        progress.close()
        return self._ray.get(refs)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
        release()

    def recycle(self) -> None:
        """Between stages: the models this process holds (Ray keeps its workers and theirs)."""
        release()


def from_params(params) -> Serial | Local | Ray:
    """The executor a params file asks for (``executor`` section); the caller closes it."""
    sec = params.executor
    if sec.kind == "ray":
        from vidanon.core.versions import resolve_device

        gpus = sec.gpus_per_task if resolve_device(params.device) == "cuda" else 0.0
        return Ray(sec.address, sec.workers, gpus)
    workers = sec.workers or os.cpu_count() or 1
    return Serial() if workers <= 1 else Local(workers)


def of(ctx):
    """The executor of a stage's context, or a serial one."""
    return getattr(ctx, "executor", None) or Serial()
