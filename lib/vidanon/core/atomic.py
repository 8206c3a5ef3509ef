"""Atomic writes: every output is written under a temporary name beside its target and renamed
only when complete, so an interrupted write never leaves a file under the final name.

This module owns the temporary names: ``.<stem>.partial-<pid>-<random><suffix>``. A write that is
interrupted by an exception, Ctrl-C or SIGTERM (see :func:`exit_on_sigterm`) removes its own; one
killed outright (SIGKILL, power loss) leaves it behind, and :func:`remove_stale_partials` (called by
the runner and the video writer on start) removes those whose process is gone."""

from __future__ import annotations

import os
import re
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.partial-{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are meant to be shared
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_stamped(path: str | os.PathLike, stamp: str, make_text) -> Path:
    """Write ``stamp + make_text()`` to ``path`` atomically unless the file already starts with the
    line ``stamp`` (a derived asset, e.g. a library's JavaScript, written once per version); returns the path."""
    path = Path(path)
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            if f.readline() == stamp:
                return path
    return write_text(path, stamp + make_text())


def partial_name(path: str | os.PathLike) -> Path:
    """The temporary name of a file written in one stream (a video): hidden, beside its target."""
    path = Path(path)
    return path.with_name(f".{path.stem}.partial-{os.getpid()}-stream{path.suffix}")


# ".<stem>.partial-<pid>-..." (this module's names) or ".<stem>.<random>.partial<suffix>" (before 2026-12)
_PARTIAL = re.compile(r"^\..+\.partial-(\d+)-[^/]*$|^\..+\.partial(\.[^.]+)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    try:  # a killed process not yet reaped (a zombie) still answers signal 0 but writes nothing more
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust the signal
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def remove_stale_partials(folder: str | os.PathLike, target: str | os.PathLike | None = None) -> list[Path]:
    """Remove the temporary files of writes whose process is gone: under ``folder`` recursively, or
    only those of ``target`` (a file's path); returns what was removed. The partial files of a live
    process (this one, or a run going on beside it) stay."""
    if target is not None:
        target = Path(target)
        folder, pattern = target.parent, f".{target.stem}.*partial*"
    else:
        pattern = ".*partial*"
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for p in (folder.glob(pattern) if target is not None else folder.rglob(pattern)):
        m = _PARTIAL.match(p.name)
        if not m or not p.is_file():
            continue
        pid = int(m.group(1)) if m.group(1) else None
        if pid is not None and (pid == os.getpid() or _alive(pid)):
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def exit_on_sigterm() -> None:
    """Turn SIGTERM into ``SystemExit(143)`` in the main thread, so the ``finally`` blocks of the writes in
    progress run and remove their temporary files (Python's default handler ends the process at once)."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: the caller's handler stays
        pass
