from pathlib import Path

import pytest

from vidanon.core import params
from vidanon.io import data
from vidanon.core.errors import ParamsError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["smoke", "default", "thesis"])
def test_shipped_params_validate(name, data_dir):
    path = ROOT / "params" / f"{name}.yaml"
    if not path.is_file():
        pytest.skip(f"{path.name} not written yet")
    p = params.load(path)
    assert p.name == name
    assert p.clips


def _write(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_unknown_key_names_file_and_key(tmp_path, data_dir):
    path = _write(tmp_path, "name: x\nclips: [{id: a, sample: female}]\nreid: {embedderz: [x]}\n")
    with pytest.raises(ParamsError) as e:
        params.load(path)
    msg = str(e.value)
    assert str(path) in msg and "reid.embedderz" in msg and "unknown key" in msg


def test_wrong_type_names_key(tmp_path, data_dir):
    path = _write(tmp_path, "name: x\nclips: [{id: a, sample: female}]\ncrops: {stride: many}\n")
    with pytest.raises(ParamsError, match=r"crops\.stride"):
        params.load(path)


def test_missing_clip_file_and_unknown_sample(tmp_path, data_dir):
    path = _write(tmp_path, "name: x\nclips:\n  - {id: a, path: nowhere/video.mp4}\n  - {id: b, sample: nope}\n")
    params.load(path)  # the schema alone is fine; the files are checked where a run starts
    with pytest.raises(ParamsError) as e:
        data.load_params(path)
    msg = str(e.value)
    assert "clips.0.path" in msg and "nowhere/video.mp4" in msg
    assert "clips.1.sample" in msg and "'nope'" in msg


def test_clip_needs_exactly_one_source(tmp_path):
    path = _write(tmp_path, "name: x\nclips: [{id: a}]\n")
    with pytest.raises(ParamsError, match="exactly one"):
        params.load(path)


def test_duplicate_method_names_refused(tmp_path, data_dir):
    path = _write(tmp_path, "name: x\nclips: [{id: a, sample: female}]\nanonymize:\n  methods:\n"
                            "    - {name: m, method: face-blur}\n    - {name: m, method: body-blur}\n")
    with pytest.raises(ParamsError, match="duplicate"):
        params.load(path)


def test_not_a_mapping_and_bad_yaml(tmp_path):
    with pytest.raises(ParamsError, match="mapping"):
        params.load(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ParamsError, match="not valid YAML"):
        params.load(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ParamsError, match="no such params file"):
        params.load(tmp_path / "absent.yaml")


def test_section_hash_tracks_changes(data_dir):
    a = params.load(ROOT / "params" / "smoke.yaml")
    b = a.model_copy(deep=True)
    assert a.section_hash() == b.section_hash()
    b.crops.stride += 1
    assert a.section_hash("crops") != b.section_hash("crops")
    assert a.section_hash("reid") == b.section_hash("reid")


def test_cli_defaults_come_from_the_schema():
    assert params.default("crops.max_per_track") == params.CropsSection().max_per_track
    assert params.default("detect.face.threshold") == params.DetectSection().face.threshold
    assert params.default("device") == "auto"
    with pytest.raises(KeyError, match="nope"):
        params.default("nope.x")
