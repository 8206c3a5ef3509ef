"""Exceptions that carry a message meant for the user (shown without a traceback by the CLI)."""


class VidanonError(Exception):
    """Base class: the message says what was wrong, where, and what was expected."""


class ParamsError(VidanonError):
    """A parameter file is malformed: names the file and the key."""


class DataError(VidanonError):
    """A sample or input file is missing, unreadable or fails its hash check."""


class WeightsError(VidanonError):
    """A model's weights or package are missing: says what is missing and how to get it."""


class BackendUnavailable(WeightsError):
    """An optional backend (package not installed, e.g. DeepPrivacy2, detectron2)."""
