"""07_report: summary, trade-off, fingerprints, tables and the static site.

All stage tables here are SYNTHETIC (hand-made numbers) so that the expected summary is known;
no model runs in these tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vidanon.figures import style as plots
from vidanon.metrics.pareto import pareto_front
from vidanon.metrics import ranking
from vidanon.report import fingerprints, site, summary, tables, tradeoff

METHODS = ["original", "face-blur", "body-solid", "avatar"]


def synthetic_tables() -> dict[str, pd.DataFrame]:
    """Hand-made stage tables in the shapes the stages write (fractions for Rank-1, as 03_reid)."""
    r1 = [0.9, 0.7, 0.12, 0.3]
    # primary attack (osnet, cross-clip, aligned, naive) = r1; adaptive 1.1 x; the strongest attack
    # (hsv, cross-segment, independent, adaptive) 1.2 x
    settings = [("osnet_x0_25_msmt17", "cross-clip", "aligned", "naive", 1.0),
                ("osnet_x0_25_msmt17", "cross-clip", "aligned", "adaptive", 1.1),
                ("hsv_histogram", "cross-clip", "aligned", "naive", 0.8),
                ("hsv_histogram", "cross-segment", "independent", "adaptive", 1.2)]
    reid = pd.DataFrame([dict(method=m, embedder=e, protocol=p, mode=mo, attacker="reference" if m == "original" else a,
                              rank1=min(1.0, r * f), rank1_lo=r * f - 0.05, rank1_hi=min(1.0, r * f + 0.05),
                              rank5=min(1.0, r * f + 0.1), mAP=r * f * 0.8, mINP=0.2, chance_rank1=0.25,
                              privacy_level="?") for m, r in zip(METHODS, r1) for e, p, mo, a, f in settings
                         if not (m == "original" and a == "adaptive")])
    util = pd.DataFrame({"method": METHODS, "oks": [1.0, 0.97, 0.05, 0.8], "oks_lo": [1.0, 0.95, 0.02, 0.75],
                         "oks_hi": [1.0, 0.99, 0.08, 0.85], "pck@0.1": [1, .95, .1, .8],
                         "motion_error": [0, .5, 9, 2], "person_recall": [1, 1, .2, .9]})
    score = pd.DataFrame({"method": METHODS, "utility": [1.0, 0.9, 0.1, 0.7], "ci_low": [1.0, 0.85, 0.05, 0.6],
                          "ci_high": [1.0, 0.95, 0.15, 0.8], "n": 10,
                          "definition": "mean OKS (synthetic test definition)"})
    speed = pd.DataFrame([dict(clip=c, method=m, frames=20, seconds=s, fps=20 / s)
                          for c in ("a", "b") for m, s in zip(METHODS, [0.1, 1.0, 2.0, 4.0])])
    speed.loc[(speed["clip"] == "b") & (speed["method"] == "face-blur"), ["frames", "seconds"]] = [60, 1.0]
    leaks = pd.DataFrame([dict(clip=c, method=m, frames=20, leaked_frames=k)
                          for c in ("a", "b") for m, k in zip(METHODS, [20, 2, 0, 0])])
    quality = pd.DataFrame(dict(method=METHODS, psnr=[np.inf, 35, 18, 22], ssim=[1, .97, .6, .75],
                                psnr_out=[np.inf, 48, 45, 30], ssim_out=[1, .999, .99, .9],
                                perceptual=[0, .02, .3, .2], perceptual_metric="mobilenet-feature"))
    drift = pd.DataFrame(dict(method=METHODS, to_first_mean=[.1, .15, .3, .2], to_first_p95=[.2, .3, .5, .4],
                              switches=[0, 1, 4, 2]))
    faceid = pd.DataFrame([dict(method=m, protocol=p, attacker="naive", rank1=r * f, verified=r * f / 2)
                           for m, r in zip(METHODS, [1.0, 0.5, 0.0, 0.1]) for p, f in (("cross-clip", 1.0),
                                                                                   ("cross-segment", 0.5))])
    drift = pd.concat([drift.assign(model="osnet_x0_25_msmt17"),
                       drift.assign(model="dlib_face_resnet", switches=99)], ignore_index=True)
    return dict(reid_summary=reid, faceid_summary=faceid, utility_summary=util, utility_score=score, anonymize_speed=speed, leaks=leaks,
                quality_summary=quality, drift_summary=drift)


# --- plots ---------------------------------------------------------------------------------------

def test_method_colors_stable_and_distinct():
    known = plots.METHOD_ORDER
    assert len(set(plots.method_colors(known).values())) == len(known)
    assert plots.method_color("my-new-method") == plots.method_color("my-new-method")
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", plots.method_color("my-new-method"))
    assert plots.sort_methods(["zeta", "avatar", "original", "alpha"]) == ["original", "avatar", "alpha", "zeta"]


@pytest.mark.parametrize("pct", [0, 9.99, 10, 24.9, 25, 50, 50.01, 100])
def test_privacy_level_matches_ranking(pct):
    assert plots.privacy_level(pct) == ranking.privacy_level(pct / 100)


def test_privacy_bands_cover_0_100():
    b = plots.PRIVACY_BANDS
    assert b[0][0] == 0 and b[-1][1] == 100
    assert all(b[i][1] == b[i + 1][0] for i in range(len(b) - 1))
    assert [x[2] for x in b] == ["excellent", "good", "moderate", "poor"]


# --- trade-off ---------------------------------------------------------------------------------------

def test_pareto_front_known_points():
    # lower x and higher y are better
    x = [10, 20, 30, 15, 40, np.nan]
    y = [0.2, 0.6, 0.9, 0.1, 0.9, 1.0]
    # (15, 0.1) is dominated by (10, 0.2); (40, 0.9) by (30, 0.9); NaN never on the front
    assert pareto_list(x, y) == [0, 1, 2]


def pareto_list(x, y):
    return pareto_front(x, y).tolist()


def test_pareto_front_ties_and_single():
    assert pareto_list([5, 5], [0.5, 0.5]) == [0, 1]  # identical points dominate neither
    assert pareto_list([1], [1]) == [0]
    assert pareto_list([], []) == []
    with pytest.raises(ValueError, match="same length"):
        pareto_front([1, 2], [1])


# --- summary -------------------------------------------------------------------------------------------

def test_summarize_synthetic():
    s, notes, info = summary.summarize(synthetic_tables())
    assert list(s.index) == METHODS  # canonical order, original first
    # the headline is the strongest attack of any kind, in percent, with the attack that won named
    assert s.loc["face-blur", "rank1"] == pytest.approx(84.0)
    assert s.loc["face-blur", "attack"] == "hsv_histogram / cross-segment / adaptive / independent"
    assert s.loc["face-blur", "rank1_lo"] == pytest.approx(79.0)  # the CI of that attack
    assert s.loc["face-blur", "rank1_naive"] == pytest.approx(70.0)  # first embedder, naive, cross-clip
    assert s.loc["face-blur", "rank1_adaptive"] == pytest.approx(77.0)
    assert s.loc["original", "rank1_naive"] == pytest.approx(90.0)  # the reference row counts as naive
    assert info["reid_setting"]["embedder"] == "osnet_x0_25_msmt17"
    assert s.loc["body-solid", "level"] == "good" and s.loc["original", "level"] == "poor"  # 14.4 %, 100 %
    assert s.loc["avatar", "chance"] == pytest.approx(25.0)
    # fps = total frames / total seconds over clips, not the mean of per-clip fps
    assert s.loc["face-blur", "fps"] == pytest.approx(80 / 2.0)
    assert s.loc["face-blur", "leaked_rate"] == pytest.approx(4 / 40)
    assert s.loc["original", "leaked_frames"] == 40
    # THE utility number comes from the 'utility_score' table (06_action), CI renamed
    assert s.loc["avatar", "utility"] == pytest.approx(0.7)
    assert s.loc["avatar", "utility_lo"] == pytest.approx(0.6)
    assert info["utility_label"] == "Utility: mean OKS"
    assert s.loc["body-solid", "psnr_outside"] == 45 and s.loc["body-solid", "pck"] == pytest.approx(0.1)
    assert s.loc["body-solid", "det_recall"] == pytest.approx(0.2)
    assert info["perceptual_name"] == "mobilenet-feature"
    joined = " ".join(notes)
    assert "04_drift not run: no table 'temporal_summary'" in joined
    # face identification: strongest protocol, in percent; drift: the first model only
    assert s.loc["face-blur", "faceid_rank1"] == pytest.approx(50.0)
    assert s.loc["face-blur", "faceid_verified"] == pytest.approx(0.25)
    assert s.loc["body-solid", "switches"] == 4 and s.loc["avatar", "drift_mean"] == pytest.approx(0.2)
    assert "model 'osnet_x0_25_msmt17' summarized" in joined
    assert "action recognition not run" in joined


def test_summarize_filters_embedder():
    s, _, info = summary.summarize(synthetic_tables(), embedder="hsv_histogram")
    assert s.loc["face-blur", "rank1_naive"] == pytest.approx(56.0)
    assert s.loc["face-blur", "rank1"] == pytest.approx(84.0)  # the strongest attack ignores the filters
    assert info["reid_setting"] == {"embedder": "hsv_histogram", "protocol": "cross-clip", "mode": "aligned",
                                    "attacker": "naive (pretrained)"}


def test_summarize_nothing_gives_notes_not_errors():
    s, notes, _ = summary.summarize({})
    assert s.empty
    assert any("03_reid not run" in n for n in notes)
    assert any("06_action not run" in n for n in notes)


def test_summarize_falls_back_to_oks_without_utility_score():
    t = synthetic_tables()
    del t["utility_score"]
    s, _, info = summary.summarize(t)
    assert info["utility_label"] == "Pose preservation (OKS)"
    assert s.loc["face-blur", "utility"] == pytest.approx(0.97)


def test_summarize_missing_column_is_a_note():
    t = {"quality_summary": pd.DataFrame({"method": ["a"], "psnr": [30.0]})}
    s, notes, _ = summary.summarize(t)
    assert s.loc["a", "psnr"] == 30.0
    assert any("no column for ssim" in n for n in notes)


def test_percent_input_is_not_scaled_twice():
    reid = pd.DataFrame({"method": ["a", "b"], "rank1": [40.0, 5.0]})
    s, _, _ = summary.summarize({"reid_summary": reid})
    assert s.loc["a", "rank1"] == 40.0 and s.loc["b", "level"] == "excellent"


def test_normalized_directions_and_inf():
    s, _, _ = summary.summarize(synthetic_tables())
    n = summary.normalized(s)
    assert ((n.fillna(0) >= 0) & (n.fillna(0) <= 1)).all().all()
    assert n.loc["body-solid", "rank1"] == pytest.approx(1 - 0.144)  # fixed 0-100 range, lower is better
    assert n.loc["original", "psnr"] == 1.0  # inf PSNR (unchanged video) is the best end
    assert n.loc["avatar", "fps"] == pytest.approx(5 / 200) and n.loc["original", "fps"] == 1.0  # 0..max
    assert n.loc["original", "switches"] == 1.0 and n.loc["body-solid", "switches"] == 0.0  # 0 = best
    zero = summary.normalized(pd.DataFrame({"switches": [0, 0]}, index=["a", "b"]))
    assert (zero["switches"] == 1.0).all()  # no switch anywhere: all perfect, not "middling"


# --- tables -----------------------------------------------------------------------------------------------

def test_tables_export_three_formats(tmp_path):
    s, _, _ = summary.summarize(synthetic_tables())
    paths = tables.export(s, tmp_path, "summary_privacy", "Privacy per method (synthetic)", groups=["privacy"])
    assert set(paths) == {"csv", "md", "tex"}
    raw = pd.read_csv(paths["csv"])
    assert list(raw["method"]) == METHODS and "rank1" in raw and "psnr" not in raw
    md = paths["md"].read_text()
    assert md.splitlines()[0].startswith("| Method") and "84.0 [79.0, 89.0]" in md
    tex = paths["tex"].read_text()
    for token in ("\\toprule", "\\midrule", "\\bottomrule", "Rank-1 (\\%)", "\\label{tab:summary_privacy}"):
        assert token in tex
    assert not list(tmp_path.glob(".*partial*"))


def test_display_table_marks_missing_as_na():
    s = pd.DataFrame({"rank1": [np.nan, 20.0], "ssim": [0.5, np.nan]}, index=pd.Index(["a", "b"], name="method"))
    d = tables.display_table(s)
    assert d.loc[0, "Rank-1, strongest attack (%)"] == "n/a" and d.loc[1, "SSIM"] == "n/a"


# --- figures ---------------------------------------------------------------------------------------------

def test_tradeoff_and_fingerprint_figures():
    import matplotlib.pyplot as plt

    s, _, info = summary.summarize(synthetic_tables())
    fig = tradeoff.tradeoff_figure(s, info["utility_label"])
    ax = fig.axes[0]
    assert ax.get_xlim() == (-2, 102)
    assert {t.get_text() for t in ax.texts} >= {"excellent", "good", "moderate", "poor"}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Pareto front" in legend and all(m in legend for m in METHODS)
    assert "chance Rank-1 (25%)" in legend
    plt.close(fig)
    pfig = tradeoff.tradeoff_plotly(s, info["utility_label"])
    assert {t.name for t in pfig.data} >= set(METHODS) | {"Pareto front"}
    fig = fingerprints.fingerprints_figure(s)
    assert [a.get_title() for a in fig.axes[:4]] == METHODS
    plt.close(fig)
    hm = fingerprints.fingerprints_plotly(s)
    assert list(hm.data[0].y) == METHODS



def test_tradeoff_says_how_close_the_best_method_came_to_chance():
    """No method at chance: an arrow from the chance line to the closest one, with the gap and the attack."""
    import matplotlib.pyplot as plt

    s = pd.DataFrame({"rank1": [100.0, 40.0, 12.0], "rank1_lo": [100.0, 35.0, 8.0], "rank1_hi": [100.0, 45.0, 16.0],
                      "chance": [4.0, 4.0, 4.0], "utility": [0.96, 0.8, 0.6],
                      "attack": ["naive", "parrot", "MobileNetV2 / parrot / person-only"]},
                     index=["original", "avatar", "avatar-neutral"])
    text = "avatar-neutral: 8 points above chance\nMobileNetV2 / parrot / person-only"
    fig = tradeoff.tradeoff_figure(s)
    assert text in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert text.replace("\n", "<br>") in [a.text for a in tradeoff.tradeoff_plotly(s).layout.annotations]
    s.loc["avatar-neutral", "rank1_lo"] = 3.0  # down to chance: no arrow
    fig = tradeoff.tradeoff_figure(s)
    assert not any("points above chance" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)

def test_tradeoff_needs_rank1_and_utility():
    with pytest.raises(KeyError, match="03_reid"):
        tradeoff.tradeoff_figure(pd.DataFrame({"utility": [0.5]}, index=["a"]))


# --- the stage and the site ---------------------------------------------------------------------------------

@pytest.fixture
def ctx(tmp_path, monkeypatch):
    from vidanon.core.context import Context

    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "rep.yaml").write_text(
        "name: rep\nclips:\n  - {id: female, sample: female}\n"
        "anonymize:\n  methods:\n    - {name: face-blur, method: face-blur}\n", encoding="utf-8")
    monkeypatch.setenv("VIDANON_RUNNER", "1")  # as the runner runs it: the site is written
    return Context.from_notebook("params/rep.yaml", "07_report", root=str(tmp_path))


def _local_refs(html: str) -> list[str]:
    return [u for u in re.findall(r'(?:href|src)="([^"#]+)"', html) if "://" not in u]


def test_run_stage_on_synthetic_tables(ctx):
    from vidanon.report import run_stage

    for name, df in synthetic_tables().items():
        ctx.save_metrics(df, name)
    rep = run_stage(ctx)
    fig_dir = ctx.figures
    for stem in ("tradeoff", "fingerprints"):
        for path in (f"{stem}.png", f"{stem}.html", f"print/{stem}.png", f"print/{stem}.pdf", f"print/{stem}.svg"):
            assert (fig_dir / path).stat().st_size > 1000, path
        assert "../plotly.min.js" in (fig_dir / f"{stem}.html").read_text()  # the run's one copy, linked
    assert (fig_dir.parent / "plotly.min.js").stat().st_size > 1_000_000
    for ext in ("csv", "md", "tex"):
        assert (fig_dir / "tables" / f"summary.{ext}").is_file()
    assert "Sample videos (c) Intel Corporation" in rep.captions["tradeoff"]
    assert "OSNet x0.25 trained on MSMT17" in rep.captions["models"]
    index = rep.paths["index"]
    html = index.read_text()
    assert site.external_urls(html) == []
    assert str(ctx.root) not in html  # no path of this machine in a shared page
    refs = _local_refs(html)
    assert "07_report/tradeoff.png" in refs and "07_report/tables/summary.tex" in refs
    assert "07_report/print/tradeoff.pdf" in refs  # the thesis copy, linked
    assert "<h2>Findings</h2>" in html and "Best protection against the strongest attack measured" in html
    assert "<h3>Privacy</h3>" in html and "Attack that won" in html
    for r in refs:
        assert (index.parent / r).is_file(), r
    assert "face-blur" in html and "git commit" in html and "plotly" in html
    assert json.loads((ctx.work / "report_notes.json").read_text()) == rep.notes


def test_run_stage_without_any_table(ctx):
    from vidanon.report import run_stage

    rep = run_stage(ctx)
    assert rep.summary.empty
    assert any("trade-off figure not drawn" in n for n in rep.notes)
    assert any("fingerprints not drawn" in n for n in rep.notes)
    html = rep.paths["index"].read_text()
    assert "03_reid not run" in html


def test_site_lists_notebooks_and_refreshes(ctx):
    from vidanon.report import build_index_html

    figs = ctx.params.figures_dir(ctx.root)
    (figs / "02_crop").mkdir(parents=True)
    (figs / "02_crop" / "contact.png").write_bytes(b"\x89PNG\r\n")
    (figs / "02_crop.html").write_text("<html></html>")
    (figs / "02_crop" / "side_by_side.mp4").write_bytes(b"\0")
    (figs / "notebooks").mkdir()
    (figs / "notebooks" / "02_crop.ipynb").write_text("{}")
    html = build_index_html(ctx).read_text()
    assert 'href="02_crop.html"' in html and 'src="02_crop/contact.png"' in html
    assert 'href="notebooks/02_crop.ipynb"' in html
    assert '<video src="02_crop/side_by_side.mp4"' in html
    assert "<h2>Notebooks</h2>" in html


def test_long_tables_are_gzipped_and_listed(ctx):
    from vidanon.core.context import GZIP_ROWS
    from vidanon.report import build_index_html

    long = pd.DataFrame({"frame": range(GZIP_ROWS + 1), "ssim": 0.5})
    path = ctx.save_table(long, "per_frame")
    assert path.name == "per_frame.csv.gz" and not (path.parent / "per_frame.csv").exists()
    assert pd.read_csv(path).equals(long) and ctx.table_href("per_frame").endswith("tables/per_frame.csv.gz")
    first = path.read_bytes()
    assert ctx.save_table(long, "per_frame").read_bytes() == first  # same table, same bytes (mtime 0)
    assert ctx.save_table(long.head(3), "per_frame").name == "per_frame.csv" and not path.exists()
    ctx.save_table(long, "per_frame")
    html = build_index_html(ctx).read_text()
    assert '<li>per_frame: <a href="07_report/tables/per_frame.csv.gz">CSV (gzip)</a>' in html


def test_site_requires_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        site.build_site(tmp_path / "missing")


def test_external_urls():
    html = ('<script src="https://cdn.plot.ly/x.js"></script><link href="//fonts.example/a.css">'
            '<img src="a/b.png"><a href="https://example.org">link ok</a>')
    assert site.external_urls(html) == ["https://cdn.plot.ly/x.js", "//fonts.example/a.css"]


def offline_notebook(title: str = "demo"):
    """A notebook node whose outputs are what vidanon.figures.style' renderer emits for one plotly figure."""
    import nbformat
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]), layout=dict(title=title))
    bundle = plots._offline_renderer().to_mimebundle(fig.to_dict())
    cell = nbformat.v4.new_code_cell("fig.show()", outputs=[nbformat.v4.new_output("display_data", data=bundle)])
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\n$x^2$"), cell])


def test_render_notebook_offline(tmp_path):
    import nbformat

    ipynb = tmp_path / "01_demo.ipynb"
    nbformat.write(offline_notebook(), ipynb)
    out = site.render_notebook(ipynb, tmp_path / "01_demo.html")
    html = out.read_text()
    assert "plotly-graph-div" in html and "Plotly.newPlot" in html
    assert '<script src="plotly.min.js"></script>' in html and (tmp_path / "plotly.min.js").is_file()
    assert len(html) < 200_000  # plotly.js is linked, not inlined
    assert "fig.show()" not in html  # code cells are hidden in the render
    assert site.external_urls(html) == []
    assert "cdnjs" not in html and "MathJax.js" not in html


def test_executed_copy_keeps_a_plotly_figure_once_and_the_render_draws_it(tmp_path):
    """The executed .ipynb held each plotly figure twice (its JSON and its HTML div: 1 MB per trajectory
    figure of 04 on the default run); it keeps the JSON JupyterLab draws, the render rebuilds the div."""
    import nbformat

    nb = offline_notebook()
    site.slim_notebook(nb)
    data = nb.cells[1].outputs[0]["data"]
    assert site.PLOTLY_MIME in data and "text/html" not in data
    nbformat.write(nb, tmp_path / "04_demo.ipynb")
    html = site.render_notebook(tmp_path / "04_demo.ipynb", tmp_path / "04_demo.html").read_text()
    assert "plotly-graph-div" in html and "Plotly.newPlot" in html and '<script src="plotly.min.js"></script>' in html


def test_link_saved_figures_keeps_each_figure_once(tmp_path):
    import base64

    import nbformat

    png = base64.b64encode(b"\x89PNG fake").decode()
    saved = nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Image>"},
                                   metadata={"vidanon": {"href": "03_reid/rank1.png", "alt": "rank1 <all>"}})
    other = nbformat.v4.new_output("display_data", data={"image/png": png})  # not saved as a file: kept
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[saved, other])])
    assert site.link_saved_figures(nb, "..") == 1
    out = nb.cells[0].outputs
    assert out[0]["data"]["text/html"] == '<img src="../03_reid/rank1.png" alt="rank1 &lt;all&gt;" style="max-width:100%">'
    assert "image/png" not in out[0]["data"] and out[1]["data"]["image/png"] == png
    assert site.link_saved_figures(nb, "..") == 0  # idempotent
    # the HTML render beside the run's folder links the file itself (not ../)
    nbformat.write(nb, tmp_path / "03_reid.ipynb")
    html = site.render_notebook(tmp_path / "03_reid.ipynb", tmp_path / "03_reid.html").read_text()
    assert 'src="03_reid/rank1.png"' in html and "../03_reid" not in html


def test_versions_and_commit():
    v = site.versions(["pandas", "surely-not-a-package-xyz"])
    assert v["pandas"] == pd.__version__ and v["surely-not-a-package-xyz"] == "not installed"
    assert site.git_commit(Path("/")) == "unknown"


@pytest.mark.slow
def test_report_command(ctx, capsys):
    from vidanon.cli import main

    for name, df in synthetic_tables().items():
        ctx.save_metrics(df, name)
    args = ["report", str(ctx.params.source), "--root", str(ctx.root)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| Method" in out and "site:" in out
    assert main(args) == 2  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(args + ["--site-only"]) == 0
    assert main(args + ["--overwrite", "--embedder", "hsv_histogram"]) == 0
    row = pd.read_csv(ctx.figures / "tables" / "summary.csv").set_index("method").loc["face-blur"]
    assert row["rank1_naive"] == pytest.approx(56.0)  # --embedder picks the naive setting shown beside
    assert row["rank1"] >= row["rank1_naive"]  # the headline stays the strongest attack of any embedder


def test_face_identification_can_be_the_strongest_attack():
    t = synthetic_tables()
    t["faceid_summary"].loc[(t["faceid_summary"]["method"] == "avatar") & (t["faceid_summary"]["protocol"] == "cross-clip"),
                            "rank1"] = 0.58
    s, _, _ = summary.summarize(t)
    assert s.loc["avatar", "rank1"] == pytest.approx(58.0) and s.loc["avatar", "level"] == "poor"
    assert s.loc["avatar", "attack"] == "dlib face identification / cross-clip"
    assert s.loc["avatar", "rank1_naive"] == pytest.approx(30.0)  # the naive body attacker alone says moderate


def test_a_gallery_of_one_identity_is_never_the_strongest_attack():
    """Chance 100 %: every guess is right, so its Rank-1 of 100 % says nothing (the silhouette's parrot
    on its own detections in the default run); the strongest real question wins instead."""
    t = synthetic_tables()
    reid = t["reid_summary"]
    row = reid[(reid["method"] == "avatar")].iloc[[0]].copy()
    row["rank1"] = 1.0
    row["chance_rank1" if "chance_rank1" in row else "chance"] = 1.0
    row["protocol"] = "degenerate"
    t["reid_summary"] = pd.concat([reid, row], ignore_index=True)
    s, _, _ = summary.summarize(t)
    assert s.loc["avatar", "rank1"] < 100 and "degenerate" not in s.loc["avatar", "attack"]
    only = t["reid_summary"]
    only = only[(only["method"] != "avatar") | (only["protocol"] == "degenerate")]
    s, _, _ = summary.summarize(dict(t, reid_summary=only, faceid_summary=t["faceid_summary"].iloc[0:0]))
    assert s.loc["avatar", "rank1"] == 100 and "degenerate" in s.loc["avatar", "attack"]


def test_a_few_queries_never_make_the_strongest_attack():
    """06's body-shape parrot on the default run: Rank-1 100 % from 2 queries of one person (chance 14 %)
    would have beaten 03's 89 % over 569 queries; so would many queries of one person. Thin evidence wins
    only where there is nothing else."""
    t = synthetic_tables()
    shape = t["reid_summary"][t["reid_summary"]["method"] == "avatar"].iloc[[0]].copy()
    shape = shape.assign(rank1=1.0, rank1_lo=1.0, rank1_hi=1.0, chance_rank1=0.14, n_queries=2, n_identities=1,
                         embedder="body shape (bone-length ratios)", attacker="parrot", mode="keypoints")
    s, _, _ = summary.summarize(dict(t, privacy_body_shape=shape))
    assert s.loc["avatar", "rank1"] < 100 and "body shape" not in s.loc["avatar", "attack"]
    one_person = shape.assign(n_queries=40)  # the default run's body-blur: 21 independent queries of one person
    s, _, _ = summary.summarize(dict(t, privacy_body_shape=one_person))
    assert s.loc["avatar", "rank1"] < 100 and "body shape" not in s.loc["avatar", "attack"]
    strong = shape.assign(n_queries=40, n_identities=3)  # the same Rank-1 on real evidence does win
    s, _, _ = summary.summarize(dict(t, privacy_body_shape=strong))
    assert s.loc["avatar", "rank1"] == 100 and "body shape" in s.loc["avatar", "attack"]


def test_findings_say_how_close_a_method_came_to_chance():
    from vidanon.report.findings import findings

    summary = pd.DataFrame({"rank1": [100.0, 40.0, 12.0], "rank1_lo": [100.0, 35.0, 8.0],
                            "rank1_hi": [100.0, 45.0, 16.0], "chance": [4.0, 4.0, 4.0],
                            "attack": ["naive", "parrot", "context parrot"], "utility": [0.96, 0.8, 0.6]},
                           index=["original", "avatar", "avatar-neutral"])
    text = " ".join(findings(summary))
    assert "No method is down to chance" in text and "Closest: avatar-neutral, Rank-1 12.0 % [8.0, 16.0]" in text
    assert "8.0 points above" in text and "the leak in the way: context parrot" in text
    summary.loc["avatar-neutral", "rank1_lo"] = 3.0
    text = " ".join(findings(summary))
    assert "Down to chance against the strongest attack" in text and "avatar-neutral (Rank-1 12.0 % [3.0, 16.0]" in text

    from vidanon.report.findings import nearest_to_chance

    methods = summary.drop(index=["original"])
    assert nearest_to_chance(methods) == (["avatar-neutral"], None)
    methods.loc["avatar-neutral", "rank1_lo"] = 8.0
    assert nearest_to_chance(methods) == ([], "avatar-neutral")  # what 03 describes the leaks of
    assert nearest_to_chance(methods.drop(columns="chance")) == ([], None)


def test_long_tables_get_no_markdown_or_latex_copy(ctx):
    from vidanon.core.context import REPORT_ROWS

    short, long = pd.DataFrame({"rank1": [0.5] * 3}), pd.DataFrame({"rank1": [0.5] * (REPORT_ROWS + 1)})
    folder = ctx.save_table(short, "summary", formats=("csv", "md", "tex")).parent
    assert (folder / "summary.md").is_file() and (folder / "summary.tex").is_file()
    ctx.save_table(long, "summary", formats=("csv", "md", "tex"))
    assert not (folder / "summary.md").exists() and not (folder / "summary.tex").exists()
    assert len(pd.read_csv(folder / "summary.csv")) == REPORT_ROWS + 1
