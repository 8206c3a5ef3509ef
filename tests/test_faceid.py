"""Face identification leakage on real faces of the head-pose clips (the woman, pid 1, and the man,
pid 2, each in their own clip and together in a third)."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from vidanon.metrics import faceid as fm, ranking
from vidanon.stages import faceid
from vidanon.io import data
from vidanon.models import embed
from vidanon.cli import main
from vidanon.io.crops import market_name
from vidanon.io.video import read_frames

# (sample, cam, frames, {pid: x-range of the frame}) ; faces found by dlib HOG in all of these
CLIPS = [("female", 1, (0, 8, 16), {1: (0, 480)}), ("male", 2, (0, 8, 16), {2: (0, 480)}),
         ("female-and-male", 3, (0,), {1: (0, 240)}), ("female-and-male", 3, (0, 16, 32), {2: (240, 480)})]


def _hide_face(face, img):
    """Test-only 'anonymization': every face dlib finds painted grey (1.3x its box)."""
    out = img.copy()
    for x1, y1, x2, y2 in face.detect(img, 1):
        cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, 0.65 * max(x2 - x1, y2 - y1)
        out[int(max(0, cy - r)):int(cy + r), int(max(0, cx - r)):int(cx + r)] = 128
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("faces")
    face = embed.get("dlib_face_resnet")
    for sample, cam, frames, people in CLIPS:
        for t, rgb in read_frames(data.fetch(sample), 0, max(frames) + 1):
            if t not in frames:
                continue
            for pid, (a, b) in people.items():
                crop = np.ascontiguousarray(rgb[:, a:b])
                for version, img in (("original", crop), ("anonymized", _hide_face(face, crop))):
                    (root / version).mkdir(exist_ok=True)
                    cv2.imwrite(str(root / version / market_name(pid, cam, 1, t, 0)),
                                cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return root


def test_verified_and_distances():
    d = np.array([[0.3, 0.7], [0.8, 0.5]])
    v = fm.verified(d, [1, 2], [1, 2], [0, 0], [1, 1], threshold=0.6)
    np.testing.assert_array_equal(v, [1.0, 1.0])
    v = fm.verified(d, [1, 2], [1, 2], [0, 1], [1, 1], threshold=0.6)  # query 2's only match is in its own camid
    assert v[0] == 1.0 and np.isnan(v[1])
    imp = fm.verified(np.array([[0.3, 0.5], [0.55, 0.9]]), [1, 2], [1, 2], [0, 0], [1, 1], threshold=0.6,
                      impostor=True)
    np.testing.assert_array_equal(imp, [1.0, 1.0])  # another person within 0.6 for both queries
    row = fm.leakage_row(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.1, 0.0], [0.5, 0.0]]),
                         np.array([1, 2]), np.array([1, 2]), np.array([0, 0]), np.array([1, 1]), threshold=0.6,
                         n_boot=0)
    # query 2 (at x=1) is nearest to its own face (0.5) but also 0.9 from person 1: identified, no false match
    assert row["verified"] == 1.0 and row["identified"] == 1.0 and row["false_match"] == 0.5
    a = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(ranking.euclidean_distmat(a, a), np.linalg.norm(a[:, None] - a[None], axis=2),
                               atol=1e-7)


@pytest.mark.slow
def test_faceid_cli(folders, tmp_path, capsys):
    out = tmp_path / "f.json"
    assert main(["faceid", "--original", str(folders / "original"), "--anonymized", str(folders / "anonymized"),
                 "--bootstrap", "50", "--out", str(out)]) == 0
    s = json.loads(out.read_text())
    assert s["n_files"] == 10 and s["original_face_rate"] >= 0.9
    ref, anon = s["reference"], s["anonymized"]
    assert ref["rank1"] >= 0.9 and ref["verified"] >= 0.9  # the same people across clips: dlib knows them
    assert anon["verified"] < ref["verified"] and s["anonymized_detection_rate"] < 0.2
    assert (tmp_path / "f.csv").is_file()
    assert "verified at 0.6" in capsys.readouterr().out
    assert main(["faceid", "--original", str(folders / "original"), "--anonymized", str(folders / "anonymized"),
                 "--out", str(out)]) == 2  # refuses to overwrite


def test_faceid_cli_mismatched_folders(folders, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    cv2.imwrite(str(other / market_name(1, 9, 1, 0, 0)), np.zeros((64, 32, 3), np.uint8))
    assert main(["faceid", "--original", str(folders / "original"), "--anonymized", str(other)]) == 2
    assert "share no file name" in capsys.readouterr().err


def test_stage_core_on_video_frames(data_dir, tmp_path, monkeypatch):
    """describe_versions + evaluate (what the stage does per clip) on real frames and a grey-face
    version of the clip; described faces are kept and not described again."""
    from vidanon.core.params import ClipSpec
    from vidanon.io.cache import VectorStore
    from vidanon.io.video import VideoWriter
    from vidanon.models.embed.face import describe_versions

    face = embed.get("dlib_face_resnet")
    rows, orig, anon = [], [], []
    for sample, cam, frames, people in CLIPS[:2]:
        clip = data.open_clip(ClipSpec(id=sample, sample=sample, max_frames=17))
        grey = tmp_path / f"{sample}-grey.mp4"
        with VideoWriter(grey, fps=clip.fps) as w:
            for t, f in clip.frames():
                if t in frames:
                    x1, y1, x2, y2 = face.detect(f, 1)[0]
                    rows.append(dict(clip=sample, frame=t, track_id=0, pid=list(people)[0],
                                     camid=cam * 1000 + 1 + t // 8, x1=x1, y1=y1, x2=x2, y2=y2))
                w.write(_hide_face(face, f) if t in frames else f)
        boxes = pd.DataFrame([r for r in rows if r["clip"] == sample])
        store = VectorStore(tmp_path / f"{sample}.npz")
        out = describe_versions(face, clip, {"original": None, "grey": grey}, boxes, store=store)
        (d, found), (da, found_a) = out["original"], out["grey"]
        orig.append(d)
        anon.append(da)
        assert found.all() and not found_a.any() and np.isfinite(da).all()
        monkeypatch.setattr(type(clip), "version_frames", lambda *a, **k: pytest.fail("described again"))
        again = describe_versions(face, clip, {"original": None, "grey": grey}, boxes, store=store)
        np.testing.assert_array_equal(again["grey"][0], da)
        monkeypatch.undo()
    faces = pd.DataFrame(rows).assign(found_original=True, found_grey=False)
    table = faceid.evaluate({"original": np.concatenate(orig), "grey": np.concatenate(anon)}, faces,
                            ["cross-segment"], n_boot=20)
    assert list(table.columns) == faceid.COLUMNS and list(table.method) == ["original", "grey"]
    ref, grey = table.iloc[0], table.iloc[1]
    assert ref.rank1 == 1.0 and ref.verified == 1.0 and ref.attacker == "reference"
    assert grey.detection_rate == 0.0 and grey.verified < 1.0


def test_unconfirmed_faces_are_described_in_the_reference_only(data_dir):
    """A box where dlib's detector finds no face in the original is not described in the other versions."""
    from vidanon.core.params import ClipSpec
    from vidanon.models.embed.face import describe_versions

    face = embed.get("dlib_face_resnet")
    clip = data.open_clip(ClipSpec(id="female", sample="female", max_frames=3))
    boxes = pd.DataFrame({"frame": [0, 1], "x1": [0.0, 0.0], "y1": [0.0, 0.0], "x2": [30.0, 30.0], "y2": [30.0, 30.0]})
    _, f0 = next(clip.frames())
    boxes.loc[1, ["x1", "y1", "x2", "y2"]] = face.detect(f0, 1)[0]  # frame 1: about where the face is
    out = describe_versions(face, clip, {"original": None, "same": None}, boxes)
    assert out["original"][1].tolist() == [False, True] and np.isfinite(out["original"][0]).all()
    assert np.isnan(out["same"][0][0]).all() and np.isfinite(out["same"][0][1]).all()


def test_empty_gallery_gives_nan_not_an_error():
    """One clip, one person: no gallery face of another segment (bench_memory's short clip crashed here)."""
    import numpy as np

    from vidanon.metrics.faceid import leakage_row, verified

    assert np.isnan(verified(np.zeros((3, 0)), [1, 2, 3], [], [0, 0, 0], [], threshold=0.6)).all()
    row = leakage_row(np.ones((3, 128)), np.zeros((0, 128)), [1, 2, 3], np.array([], int), [0, 0, 0],
                      np.array([], int), threshold=0.6)
    assert np.isnan(row["rank1"]) and np.isnan(row["verified"]) and "empty" in row["note"]
