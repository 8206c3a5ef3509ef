"""Progress bars that the run can silence: ``tqdm`` (tqdm.auto's), off when ``TQDM_DISABLE=1`` at the
time of the call (tqdm itself reads that variable once, when it is first imported, so a runner that
sets it later would still get bars from the library)."""

from __future__ import annotations

import os


def tqdm(iterable=None, **kwargs):
    """``tqdm.auto.tqdm(iterable, **kwargs)``, disabled while ``TQDM_DISABLE`` is "1"."""
    from tqdm.auto import tqdm as _tqdm

    if os.environ.get("TQDM_DISABLE") == "1":
        kwargs["disable"] = True
    return _tqdm(iterable, **kwargs)
