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


def export(module, example, path, **kwargs) -> None:
    """``torch.onnx.export`` (TorchScript exporter, ``dynamo=False``) of ``module`` traced on ``example``
    to ``path``, without the tracer's warnings: they describe Python branches of the model's code that
    the trace fixes (e.g. torchreid's ``if return_featuremaps``), which is what an export for inference
    wants, and would otherwise print in the middle of a run's terminal.

    Parameters
    ----------
    module : torch.nn.Module
        The model, in eval mode.
    example : torch.Tensor
        An input of the shape to trace.
    path : str or Path
        Where the ``.onnx`` file is written (the caller makes that atomic).
    **kwargs
        Passed on to ``torch.onnx.export`` (input/output names, opset, dynamic axes).
    """
    import warnings

    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter's own deprecation notice
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
        torch.onnx.export(module, example, str(path), dynamo=False, **kwargs)
