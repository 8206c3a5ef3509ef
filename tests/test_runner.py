"""The runner on a tiny project of two notebooks: order, HTML, skipping unchanged stages, failures."""

import json

import nbformat
import pytest

from vidanon import runner
from vidanon.commands.strip_notebooks import strip


def _nb(code: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('params_path = "../params/p.yaml"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# stage"), params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def project(tmp_path, data_dir, monkeypatch):
    # the library's source is part of each stage key; hold it still while others edit the tree
    monkeypatch.setattr(runner, "_tree_hash", lambda folder: "fixed")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "p.yaml").write_text("name: p\nclips: [{id: a, sample: female}]\n")
    nbformat.write(_nb("from pathlib import Path\nprint('params at', Path(params_path).name)"),
                   tmp_path / "notebooks" / "01_first.ipynb")
    nbformat.write(_nb("x = 1 + 1\nx"), tmp_path / "notebooks" / "02_second.ipynb")
    return tmp_path


@pytest.mark.slow
def test_run_then_skip_then_rerun_changed_stage(project):
    p = project / "params" / "p.yaml"
    first = runner.run(p, root=project)
    assert [(r.stage, r.status) for r in first] == [("01_first", "ran"), ("02_second", "ran")]
    out = project / "figures" / "p"
    executed = nbformat.read(out / "notebooks" / "01_first.ipynb", as_version=4)
    assert "params at p.yaml" in executed.cells[-1].outputs[0]["text"]
    assert (out / "02_second.html").read_text().count("<html") == 1
    assert json.loads((project / "work" / "p" / "run.json").read_text())["stages"]["01_first"]["status"] == "ran"

    again = runner.run(p, root=project)
    assert [r.status for r in again] == ["skipped", "skipped"]

    nbformat.write(_nb("y = 2"), project / "notebooks" / "02_second.ipynb")
    third = runner.run(p, root=project)
    assert [r.status for r in third] == ["skipped", "ran"]

    forced = runner.run(p, root=project, only=["02"], force=True)
    assert [(r.stage, r.status) for r in forced] == [("02_second", "ran")]


@pytest.mark.slow
def test_failure_names_notebook_cell_and_error_and_keeps_earlier_outputs(project):
    p = project / "params" / "p.yaml"
    runner.run(p, root=project)
    nbformat.write(_nb("raise ValueError('boom in stage two')"), project / "notebooks" / "02_second.ipynb")
    with pytest.raises(runner.StageFailed) as e:
        runner.run(p, root=project)
    msg = str(e.value)
    assert "02_second.ipynb" in msg and "ValueError" in msg and "boom in stage two" in msg and "cell" in msg
    out = project / "figures" / "p"
    assert (out / "01_first.html").is_file()
    assert (out / "notebooks" / "02_second.failed.ipynb").is_file()
    assert not list(out.rglob("*.partial*"))


def test_invalid_params_start_nothing(project):
    bad = project / "params" / "bad.yaml"
    bad.write_text("name: bad\nclips: [{id: a, sample: female}]\nbogus: 1\n")
    from vidanon.core.errors import ParamsError

    with pytest.raises(ParamsError, match="bogus"):
        runner.run(bad, root=project)
    assert not (project / "figures").exists()


def test_committed_notebooks_have_no_outputs(root):
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert not strip(nb), f"{path.name} has outputs: run `make strip-notebooks`"
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
