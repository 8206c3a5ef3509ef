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
