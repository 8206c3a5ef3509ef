"""ONNX Runtime sessions as the detector backends open them."""

from __future__ import annotations


def session_options():
    """ONNX Runtime session options: ``$VIDANON_THREADS`` intra-op threads when set (a worker of the
    executor runs one), else ONNX Runtime's own default; its warnings about the model silenced.

    Returns
    -------
    opts : onnxruntime.SessionOptions
        Options to pass to ``onnxruntime.InferenceSession``.
    """
    import os

    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if os.environ.get("VIDANON_THREADS"):
        opts.intra_op_num_threads = int(os.environ["VIDANON_THREADS"])
    return opts
