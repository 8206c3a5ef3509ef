import pytest

from vidanon.io import weights
from vidanon.core.errors import WeightsError


def test_registry_matches_shared_sha256sums(weights_dir):
    for line in (weights_dir / "SHA256SUMS").read_text().splitlines():
        sha, name = line.split()
        assert weights.REGISTRY[name].sha256 == sha


def test_resolve_from_weights_dir(weights_dir):
    assert weights.resolve("yolov5n.onnx") == weights_dir / "yolov5n.onnx"


def test_wrong_hash_refused(tmp_path, monkeypatch):
    (tmp_path / "yolov5n.onnx").write_bytes(b"not a model")
    monkeypatch.setenv(weights.ENV_WEIGHTS_DIR, str(tmp_path))
    with pytest.raises(WeightsError, match="refused"):
        weights.resolve("yolov5n.onnx")


def test_unknown_without_url_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(weights.ENV_WEIGHTS_DIR, str(tmp_path))
    monkeypatch.setattr(weights, "cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(WeightsError, match="no URL is known"):
        weights.resolve("mystery.pth")
    with pytest.raises(WeightsError, match="no pinned SHA-256"):
        weights.resolve("yolov5s.pt")
