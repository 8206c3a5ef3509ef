"""AGW (Ye et al., "Deep Learning for Person Re-identification: A Survey and Outlook", ReID-Survey):
a documented, deliberately failing option.

AGW is a ResNet-50 with non-local blocks, generalized-mean pooling and a BN-neck, trained with
weighted regularized triplet loss. Its checkpoints (github.com/mangye16/ReID-Survey, ~100 MB,
Google Drive) are saved from that repository's own ``Baseline`` module; torchreid has no AGW and
no package on PyPI ships the architecture. Loading such a checkpoint into a re-written network
without the reference code and a checkpoint to check the outputs against would not be faithful,
so this backend refuses rather than produce numbers under AGW's name.
"""

from __future__ import annotations

from vidanon.core.errors import BackendUnavailable


class AGWEmbedder:
    """AGW re-ID embedder: not supported, constructing it always fails with an explanation.

    See the module docstring for why (no installable reference code, no checkpoint to check a
    re-implementation against).

    Parameters
    ----------
    name : str, optional
        ``'agw'`` or ``'agw_*'``. Default ``'agw'``. Ignored.
    device : str, optional
        Ignored. Default ``'cpu'``.
    **options
        Ignored.

    Raises
    ------
    BackendUnavailable
        Always, saying what to use instead (an OSNet model, or ReID-Survey's own test.py).
    """
    kind = "reid"

    def __init__(self, name: str = "agw", device: str = "cpu", **options):
        raise BackendUnavailable(
            "AGW is not supported in vidanon: its network code lives only in github.com/mangye16/ReID-Survey "
            "(modeling/baseline.py, ResNet-50 + non-local + GeM + BN-neck) and is not installable from PyPI, "
            "and no AGW checkpoint is available here to verify a re-implementation against. Use an OSNet "
            "model instead (e.g. 'osnet_x0_25_msmt17', or 'osnet_ain_x1_0_msmt17' with its torchreid "
            "model-zoo checkpoint), or run ReID-Survey's own test.py on a Market-1501-style folder of "
            "the crops.")
