"""The one cache of derived artifacts, keyed by content: what an output was made from decides
whether it is still good, never a file name, a size or a modification time.

- :func:`file_hash`: SHA-256 of a file's bytes (streamed; remembered per path, size and mtime within
  a process, so hashing the same clip in every stage costs nothing after the first time);
- :func:`key`: a short stable hash of JSON-able parts (params sections, option dicts, other keys);
- :func:`lookup` / :func:`record`: an output file and its side-car ``<output>.key.json``, which holds
  the key it was made from and whatever the maker wants back (statistics) when it is found again;
- :class:`VectorStore`: vectors (crop features) by content hash in one ``.npz``, replaced atomically.

Used by the scene analysis (clip content + detect/track params), the anonymized videos (method,
options, scene key), the crops (version video + crops params + scene key) and the re-ID features
(each crop file's content, per embedder checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from vidanon.core.atomic import atomic_path, write_text

_HASHES: dict[tuple[str, int, int], str] = {}


def file_hash(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's content (64 characters)."""
    path = Path(path)
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _HASHES[memo] = h.hexdigest()
    return _HASHES[memo]


def key(*parts: Any) -> str:
    """A 16-hex-digit hash of ``parts`` (JSON-serialisable; dict keys sorted, other objects by str)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def side_car(output: str | os.PathLike, tag: str = "key") -> Path:
    """The side-car file that records what ``output`` was made from (``tag``: another record about the
    same file, e.g. ``"leaks"`` for its leak check)."""
    output = Path(output)
    return output.with_name(f"{output.name}.{tag}.json")


def lookup(output: str | os.PathLike, k: str, tag: str = "key") -> dict | None:
    """What :func:`record` stored with ``output`` when it exists and was made from key ``k``, else None."""
    output, side = Path(output), side_car(output, tag)
    if not (output.exists() and side.is_file()):
        return None
    try:
        entry = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry.get("info", {}) if entry.get("key") == k else None


def record(output: str | os.PathLike, k: str, info: dict | None = None, tag: str = "key") -> None:
    """Note (atomically) that ``output`` was made from key ``k``, with ``info`` to give back later.
    Write the output first: a side-car never vouches for a file that is not complete."""
    write_text(side_car(output, tag), json.dumps({"key": k, "info": info or {}}, sort_keys=True, default=str))


class VectorStore:
    """Vectors by key in one ``.npz`` file (``keys``, ``vectors``): load, look up, add, save atomically.
    An unreadable file counts as empty (everything is computed again)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._known: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.is_file():
            try:
                with np.load(self.path) as z:
                    self._known = dict(zip(z["keys"].tolist(), z["vectors"]))
            except (OSError, ValueError, KeyError):
                self._known = {}

    def __contains__(self, k: str) -> bool:
        return k in self._known

    def __len__(self) -> int:
        return len(self._known)

    def missing(self, keys) -> list[str]:
        """The keys (unique, in order) that the store does not hold."""
        return [k for k in dict.fromkeys(keys) if k not in self._known]

    def add(self, keys, vectors: np.ndarray) -> None:
        for k, v in zip(keys, np.asarray(vectors, np.float32)):
            self._known[k] = v
            self._dirty = True

    def get(self, keys) -> np.ndarray:
        """(N, D) float32 of the keys' vectors (KeyError for one that is missing)."""
        keys = list(keys)
        return np.stack([self._known[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)

    def save(self) -> None:
        if not self._dirty:
            return
        with atomic_path(self.path) as tmp, open(tmp, "wb") as f:
            np.savez(f, keys=np.array(list(self._known)), vectors=np.stack(list(self._known.values())))
        self._dirty = False


LIB_HASH_ENV = "VIDANON_LIB_HASH"
_TREES: dict[str, str] = {}


def library_hash() -> str:
    """A hash of vidanon's own source (``.py``, ``.yaml``, ``.html``, ``.css`` files): part of every
    stage key, so that a changed library recomputes. ``$VIDANON_LIB_HASH`` overrides it: the runner
    sets it for the notebook kernels it starts, so that they agree with it even while the tree is edited."""
    if os.environ.get(LIB_HASH_ENV):
        return os.environ[LIB_HASH_ENV]
    return tree_hash(Path(__file__).resolve().parents[1])


def tree_hash(folder: str | os.PathLike, suffixes=(".py", ".yaml", ".html", ".css")) -> str:
    """SHA-256 of the names and bytes of the files below ``folder`` with these suffixes (memoized per
    process)."""
    folder = Path(folder)
    if str(folder) not in _TREES:
        h = hashlib.sha256()
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix in suffixes:
                h.update(str(p.relative_to(folder)).encode())
                h.update(p.read_bytes())
        _TREES[str(folder)] = h.hexdigest()
    return _TREES[str(folder)]


def what_changed(old: dict | None, new: dict) -> str:
    """Why a cached result is stale, from the parts of its key then (``old``) and now (``new``):
    e.g. "params section reid changed, library changed"; "no earlier run" when ``old`` is empty."""
    if not old:
        return "no earlier run"
    names = [k for k in new if old.get(k) != new[k]] + [k for k in old if k not in new]
    return ", ".join(f"{k} changed" for k in names) or "its outputs are missing"
