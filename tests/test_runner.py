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
    nbformat.write(_nb("import sys\nfrom pathlib import Path\nprint('params at', Path(params_path).name)\n"
                       "print('a library warning', file=sys.stderr)"),
                   tmp_path / "notebooks" / "01_first.ipynb")
    nbformat.write(_nb("x = 1 + 1\nx"), tmp_path / "notebooks" / "02_second.ipynb")
    return tmp_path


@pytest.mark.slow
def test_run_then_skip_then_rerun_changed_stage(project, caplog):
    p = project / "params" / "p.yaml"
    first = runner.run(p, root=project)
    assert [(r.stage, r.status) for r in first] == [("01_first", "ran"), ("02_second", "ran")]
    out = project / "figures" / "p"
    executed = nbformat.read(out / "notebooks" / "01_first.ipynb", as_version=4)
    assert "params at p.yaml" in executed.cells[-1].outputs[0]["text"]
    assert (out / "02_second.html").read_text().count("<html") == 1
    assert json.loads((project / "work" / "p" / "run.json").read_text())["stages"]["01_first"]["status"] == "ran"

    # what a reader gets: no stderr block, no path of this machine; stderr went to the stage's log
    page, copy = (out / "01_first.html").read_text(), (out / "notebooks" / "01_first.ipynb").read_text()
    streams = [o.get("name") for c in executed.cells for o in c.get("outputs", []) if o.output_type == "stream"]
    assert "a library warning" not in page and "stderr" not in streams and "stdout" in streams
    assert "a library warning" in (project / "work" / "p" / "logs" / "01_first.log").read_text()
    assert str(project) not in page + copy and "../params/p.yaml" in copy

    # JupyterLab saved outputs into the notebook, and a killed run left a partial file: still skipped
    saved = nbformat.read(project / "notebooks" / "02_second.ipynb", as_version=4)
    saved.cells[-1].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
    nbformat.write(saved, project / "notebooks" / "02_second.ipynb")
    leftover = out / "notebooks" / ".01_first.partial-999999999-abc.ipynb"
    leftover.write_text("{}")
    again = runner.run(p, root=project)
    assert [r.status for r in again] == ["skipped", "skipped"]
    assert not leftover.exists()

    nbformat.write(_nb("y = 2"), project / "notebooks" / "02_second.ipynb")
    with caplog.at_level("INFO", logger="vidanon.runner"):
        third = runner.run(p, root=project)
    assert [r.status for r in third] == ["skipped", "ran"]
    assert "02_second: runs (notebook code changed" in caplog.text

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


def test_unknown_only_stage_is_an_error(project):
    from vidanon.core.errors import VidanonError

    with pytest.raises(VidanonError, match=r"--only 99: no such stage; stages: 01_first, 02_second"):
        runner.run(project / "params" / "p.yaml", root=project, only=["99"])
    with pytest.raises(VidanonError, match="--only 01_frist"):
        runner.run(project / "params" / "p.yaml", root=project, only=["01_frist"])
    assert not (project / "figures").exists()
