"""The whole study on the smoke params, through papermill, in a scratch copy of the project;
then its site (index.html and every rendered notebook) opened in headless Chromium."""

import re
import shutil

import nbformat
import pytest

from vidanon import runner


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, root, data_dir, weights_dir):
    tmp = tmp_path_factory.mktemp("project")
    shutil.copytree(root / "notebooks", tmp / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(root / "params", tmp / "params")
    # the library's source is part of each stage key; hold it still in case the tree is edited meanwhile
    mp = pytest.MonkeyPatch()
    mp.setattr(runner, "_tree_hash", lambda folder: "fixed")
    try:
        first = runner.run(tmp / "params" / "smoke.yaml", root=tmp)
        again = runner.run(tmp / "params" / "smoke.yaml", root=tmp)
    finally:
        mp.undo()
    return tmp, first, again


@pytest.mark.slow
def test_smoke_pipeline_runs_all_notebooks(smoke_run):
    tmp, first, again = smoke_run
    stages = [p.stem for p in runner.notebooks(tmp)]
    assert [s[:2] for s in stages] == ["01", "02", "03", "04", "05", "06", "07"]
    assert [r.status for r in first] == ["ran"] * 7
    out = tmp / "figures" / "smoke"
    for stage in stages:
        assert (out / f"{stage}.html").is_file()
        nb = nbformat.read(out / "notebooks" / f"{stage}.ipynb", as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, stage
        made = list((out / stage).rglob("*.png")) + list((out / stage).rglob("*.csv"))
        assert made, f"{stage} wrote no figure or table"
    assert [r.status for r in again] == ["skipped"] * 7


@pytest.mark.slow
@pytest.mark.browser
def test_smoke_site_opens_offline_in_chromium(smoke_run, tmp_path):
    from test_site_browser import _site_pages, check_page, chromium_path

    browser = chromium_path()
    index = smoke_run[0] / "figures" / "smoke" / "index.html"
    out = check_page(browser, index, tmp_path / "b0")
    assert "trade-off" in out["dom"].lower()
    pages = [p for p in _site_pages(index) if re.match(r"\d\d_", p.name) and p.parent == index.parent]
    assert len(pages) == 7, [p.name for p in pages]
    for i, page in enumerate(pages):
        check_page(browser, page, tmp_path / f"b{i + 1}")
