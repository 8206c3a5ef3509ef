"""stages.run_cached: a stage is computed once, loaded while its key holds, computed again when the
params change, and a stale stage before it is computed first. The two stages here are stand-ins
(registered as modules for the test) that count their calls and save one table each."""

import sys
import types

import pandas as pd
import pytest

from vidanon import stages
from vidanon.core.context import Context
from vidanon.core.params import ClipSpec, Params


@pytest.fixture
def fake_stages(monkeypatch):
    calls = {"fa": 0, "fb": 0}

    def make(name):
        def run(ctx):
            calls[name] += 1
            df = pd.DataFrame({"stage": [name], "seed": [ctx.params.seed], "folder": [ctx.stage]})
            ctx.save_table(df, f"{name}_table")
            return {f"{name}_table": df}
        module = types.ModuleType(f"vidanon.stages.{name}")
        module.run = run
        monkeypatch.setitem(sys.modules, f"vidanon.stages.{name}", module)

    make("fa")
    make("fb")
    monkeypatch.setattr(stages, "ORDER", ("fa", "fb"))
    monkeypatch.setattr(stages, "FOLDER", {"fa": "01_a", "fb": "02_b"})
    return calls


def test_compute_once_then_load(fake_stages, tmp_path, data_dir):
    ctx = Context(Params(name="t", clips=[ClipSpec(id="f", sample="female")]), tmp_path, "02_b")
    first = stages.run_cached(ctx, "fb")
    assert fake_stages == {"fa": 1, "fb": 1}  # the stage before it was stale: computed first
    assert (tmp_path / "figures" / "t" / "01_a" / "tables" / "fa_table.csv").is_file()  # in its own folder
    again = stages.run_cached(ctx, "fb")
    assert fake_stages == {"fa": 1, "fb": 1}
    pd.testing.assert_frame_equal(first["fb_table"], again["fb_table"])
    stages.run_cached(ctx, "fb", force=True)
    assert fake_stages == {"fa": 1, "fb": 2}
    ctx.params.seed = 7  # the params changed: both keys change
    assert not stages.is_fresh(ctx, "fa")
    assert stages.run_cached(ctx, "fb")["fb_table"]["seed"].iloc[0] == 7
    assert fake_stages == {"fa": 2, "fb": 3}


def test_unknown_stage(tmp_path):
    ctx = Context(Params(name="t", clips=[ClipSpec(id="f", sample="female")]), tmp_path, "x")
    with pytest.raises(KeyError, match="unknown stage"):
        stages.run_cached(ctx, "nope")


def test_notebook_opened_by_hand_loads_cached_tables_and_never_writes_the_site(fake_stages, tmp_path, data_dir,
                                                                              monkeypatch):
    """A notebook in JupyterLab (no runner): the tables a run saved load without computing; its figures
    go to work/<run>/interactive/; a stale stage is an error saying why and how, unless asked to recompute."""
    params = tmp_path / "t.yaml"
    params.write_text("name: t\nclips: [{id: f, sample: female}]\n")
    run_ctx = Context.from_notebook(str(params), "02_b", root=str(tmp_path))
    monkeypatch.setenv("VIDANON_RUNNER", "1")
    assert not Context.from_notebook(str(params), "02_b", root=str(tmp_path)).scratch
    stages.run_cached(Context.from_notebook(str(params), "02_b", root=str(tmp_path)), "fb")  # the runner's run
    assert fake_stages == {"fa": 1, "fb": 1}
    monkeypatch.delenv("VIDANON_RUNNER")

    assert run_ctx.scratch and not run_ctx.recompute
    assert run_ctx.figures == tmp_path / "work" / "t" / "interactive" / "02_b"
    tables = stages.run_cached(run_ctx, "fb")
    assert fake_stages == {"fa": 1, "fb": 1} and list(tables) == ["fb_table"]  # loaded, not computed

    params.write_text("name: t\nseed: 3\nclips: [{id: f, sample: female}]\n")  # the params changed
    stale = Context.from_notebook(str(params), "02_b", root=str(tmp_path))
    with pytest.raises(stages.StaleStage, match=r"'fa'.*params section seed changed.*--only 02.*recompute = True"):
        stages.run_cached(stale, "fb")
    assert fake_stages == {"fa": 1, "fb": 1}

    asked = Context.from_notebook(str(params), "02_b", root=str(tmp_path), recompute=True)
    stages.run_cached(asked, "fb")
    assert fake_stages == {"fa": 2, "fb": 2}
    assert (tmp_path / "work" / "t" / "interactive" / "01_a" / "tables" / "fa_table.csv").is_file()
    assert not (tmp_path / "figures" / "t" / "01_a" / "tables" / "fa_table.csv").read_text().count(",3")
    # the runner's context: tables computed by hand are not in figures/<run>/, so it computes them again
    monkeypatch.setenv("VIDANON_RUNNER", "1")
    assert not stages.is_fresh(Context.from_notebook(str(params), "02_b", root=str(tmp_path)), "fa")
