import shutil

import pooch
import pytest

from vidanon.io import data
from vidanon.core.errors import DataError


def test_registry_matches_shared_sha256sums(data_dir):
    sums = {}
    for line in (data_dir / "SHA256SUMS").read_text().splitlines():
        sha, rel = line.split(maxsplit=1)
        sums[rel.removeprefix("./")] = sha
    for s in data.SAMPLES.values():
        assert sums[s.relpath] == s.sha256, s.key
        assert s.url.startswith("https://") and s.url.endswith(s.relpath.split("/", 1)[-1])


def test_present_file_is_used_without_download(data_dir, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("must not download")

    monkeypatch.setattr(pooch, "retrieve", no_network)
    path = data.fetch("female")
    assert path == data_dir / "intel-sample-videos/preview/head-pose-face-detection-female.gif"


def test_wrong_hash_is_refused(tmp_path, data_dir, monkeypatch):
    rel = data.SAMPLES["female"].relpath
    bad = tmp_path / rel
    bad.parent.mkdir(parents=True)
    shutil.copy(data_dir / rel, bad)
    with open(bad, "ab") as f:
        f.write(b"tampered")
    monkeypatch.setenv(data.ENV_DATA_DIR, str(tmp_path))
    with pytest.raises(DataError, match="refused"):
        data.fetch("female")


def test_missing_file_without_network_names_file_url_and_setting(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise ConnectionError("no network")

    monkeypatch.setattr(pooch, "retrieve", offline)
    monkeypatch.setenv(data.ENV_DATA_DIR, str(tmp_path))
    with pytest.raises(DataError) as e:
        data.fetch("male")
    msg = str(e.value)
    assert "head-pose-face-detection-male.gif" in msg
    assert data.SAMPLES["male"].url in msg and data.ENV_DATA_DIR in msg


def test_unknown_sample():
    with pytest.raises(DataError, match="unknown sample"):
        data.fetch("no-such-sample")


def test_open_clip_range(data_dir):
    from vidanon.core.params import ClipSpec

    clip = data.open_clip(ClipSpec(id="t", sample="tears-of-steel", start=10, max_frames=5))
    assert (clip.n_frames, clip.width, clip.height) == (5, 640, 360)
    frames = list(clip.frames())
    assert [t for t, _ in frames] == [0, 1, 2, 3, 4]
    with pytest.raises(DataError, match="start=999"):
        data.open_clip(ClipSpec(id="t", sample="female", start=999))


def test_credits_cover_both_licences():
    text = " ".join(data.credits())
    assert "CC BY 4.0" in text and "CC BY 3.0" in text and "Blender Foundation" in text


def test_ground_truth_loads():
    gt = data.load_ground_truth()
    assert isinstance(gt, dict)
