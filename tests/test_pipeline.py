"""The whole study on the smoke params, through papermill, in a scratch copy of the project."""

import shutil

import nbformat
import pytest

from vidanon import runner


@pytest.mark.slow
def test_smoke_pipeline_runs_all_notebooks(tmp_path, root, data_dir, weights_dir, monkeypatch):
    # the library's source is part of each stage key; hold it still in case the tree is edited meanwhile
    monkeypatch.setattr(runner, "_tree_hash", lambda folder: "fixed")
    shutil.copytree(root / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(root / "params", tmp_path / "params")
    stages = [p.stem for p in runner.notebooks(tmp_path)]
    assert [s[:2] for s in stages] == ["01", "02", "03", "04", "05", "06", "07"]

    results = runner.run(tmp_path / "params" / "smoke.yaml", root=tmp_path)
    assert [r.status for r in results] == ["ran"] * 7
    out = tmp_path / "figures" / "smoke"
    for stage in stages:
        assert (out / f"{stage}.html").is_file()
        nb = nbformat.read(out / "notebooks" / f"{stage}.ipynb", as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, stage
        made = list((out / stage).rglob("*.png")) + list((out / stage).rglob("*.csv"))
        assert made, f"{stage} wrote no figure or table"

    again = runner.run(tmp_path / "params" / "smoke.yaml", root=tmp_path)
    assert [r.status for r in again] == ["skipped"] * 7
