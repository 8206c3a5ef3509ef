"""Where a stage's artifacts go, and its writers of tables and figures (atomic, see core.atomic).

``Context`` is what a notebook gets after its parameters cell: the validated params, the work
directory (intermediate artifacts) and the figures directory of its stage (what a reader sees).
Every write goes to a temporary name first and is renamed when complete.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

from vidanon.core import params as params_mod
from vidanon.core.atomic import atomic_path, write_stamped


#: Set to "1" by the runner for the notebooks it executes (see Context.from_notebook).
RUNNER_ENV = "VIDANON_RUNNER"
GZIP_ROWS = 2000  # save_table: a CSV of more rows is written gzipped (.csv.gz)
REPORT_ROWS = 200  # save_table: Markdown/LaTeX copies are for a report; a longer table is read as CSV


@dataclass
class Context:
    """Paths and writers of one stage (notebook) of a run."""

    params: params_mod.Params
    root: Path
    stage: str  # e.g. "01_anonymize"
    executor: object = field(default=None, repr=False, compare=False)  # core.executor; None: serial
    recompute: bool = True  # False: stages.run_cached loads cached tables or says how to get them
    scratch: bool = False  # True: figures and CSVs go to work/<run>/interactive/<stage>/, never figures/<run>/

    def __getstate__(self):  # jobs sent to workers carry the context, never the executor
        return {"params": self.params, "root": self.root, "stage": self.stage, "executor": None,
                "recompute": self.recompute, "scratch": self.scratch}

    @classmethod
    def from_notebook(cls, params_path: str, stage: str, root: str = "..", *, recompute: bool = False) -> "Context":
        """What a notebook's first code cell calls; ``root`` is the project root seen from notebooks/.

        Run by the runner (``vidanon run``) the notebook writes figures/<run>/<stage>/. Opened in
        JupyterLab it loads its stage's cached tables (seconds) and writes its figures to a scratch
        folder, work/<run>/interactive/<stage>/, so the site stays what the runner made; a stale stage
        is computed there only with ``recompute=True``, else stages.run_cached says how to get it."""
        rootp = Path(root).resolve()
        pp = Path(params_path)
        if not pp.is_absolute():  # relative to the notebook's cwd ("../params/x.yaml"), else to the root
            pp = pp.resolve() if pp.is_file() else rootp / pp
        under_runner = os.environ.get(RUNNER_ENV) == "1"
        return cls(params_mod.load(pp), rootp, stage, recompute=under_runner or recompute, scratch=not under_runner)

    @property
    def work(self) -> Path:
        return self.params.work_dir(self.root)

    @property
    def figures(self) -> Path:
        if self.scratch:
            return self.work / "interactive" / self.stage
        return self.params.figures_dir(self.root) / self.stage

    def work_path(self, *parts: str) -> Path:
        p = self.work.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    # --- tables ---------------------------------------------------------------------------
    def save_table(self, df, name: str, *, formats=("csv",), index: bool = False, caption: str | None = None):
        """Write a table under figures/<run>/<stage>/tables/ (CSV, and md/tex when asked) and
        as parquet under work/<run>/metrics/ for later stages (the CSV/md/tex name files under the project
        root relative to it; the parquet keeps the paths the stages use). A table of more than
        ``REPORT_ROWS`` rows gets no md/tex copy (no report prints it; 03's reid_summary.md was the
        largest table of the default site). Returns the CSV path."""
        out = self.figures / "tables"
        written = {}
        parquet_df, df = df, _relative_paths(df, self.root)  # the site's copies name no path of this machine
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            if fmt in ("md", "tex") and len(df) > REPORT_ROWS:
                path.unlink(missing_ok=True)  # no stale copy from a shorter run
                continue
            if fmt == "csv":  # a per-frame table: gzipped (a fifth of the bytes in a site that is sent)
                plain, packed = path, path.with_name(path.name + ".gz")
                path = packed if len(df) > GZIP_ROWS else plain
                (plain if path == packed else packed).unlink(missing_ok=True)  # no stale copy of the other kind
            with atomic_path(path) as tmp:
                if fmt == "csv" and path.suffix == ".gz":  # no name, mtime 0: the same table gives the same bytes
                    tmp.write_bytes(gzip.compress(df.to_csv(index=index).encode("utf-8"), mtime=0))
                elif fmt == "csv":
                    df.to_csv(tmp, index=index)
                elif fmt == "md":
                    tmp.write_text(df.to_markdown(index=index) if _has_tabulate() else df.to_string(index=index))
                elif fmt == "tex":
                    tmp.write_text(_latex(df, caption or name, index))
                else:
                    raise ValueError(f"unknown table format {fmt!r}")
            written[fmt] = path
        self.save_metrics(parquet_df, name)
        return written.get("csv", next(iter(written.values()), None))

    def href(self, path: str | os.PathLike) -> str:
        """A file under the run's figures folder as a link from a rendered page (figures/<run>/<stage>.html)."""
        return Path(path).resolve().relative_to(self.figures.parent.resolve()).as_posix()

    def table_href(self, name: str) -> str:
        """The link to table ``name``'s CSV (``.csv.gz`` for a table over :data:`GZIP_ROWS` rows) from the
        stage's rendered page (figures/<run>/<stage>.html)."""
        gz = (self.figures / "tables" / f"{name}.csv.gz").is_file()
        return f"{self.stage}/tables/{name}.csv{'.gz' if gz else ''}"

    def save_metrics(self, df, name: str) -> Path:
        path = self.work / "metrics" / f"{name}.parquet"
        with atomic_path(path) as tmp:
            df.to_parquet(tmp, index=False)
        return path

    def load_metrics(self, name: str):
        import pandas as pd

        path = self.work / "metrics" / f"{name}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: run the stage that writes table {name!r} first")
        return pd.read_parquet(path)

    # --- figures --------------------------------------------------------------------------
    def save_figure(self, fig, name: str, formats=("png",), dpi: int | None = None, *, photo: bool = False) -> Path:
        """Save a matplotlib or plotly figure under figures/<run>/<stage>/; returns the page's file.

        The page gets ``<name>.png`` at :data:`WEB_DPI` (what the site and the renders show; a
        ``photo`` figure, a mosaic of video frames, gets ``<name>.jpg``, a tenth of the bytes); the
        thesis gets each of ``formats`` ('png' at ``dpi``, a JPEG of quality 95 for a ``photo``, 'pdf',
        'svg') under ``print/``; ``dpi`` defaults to :data:`PRINT_DPI`, :data:`PHOTO_DPI` for a ``photo``
        (video frames printed at about their own resolution: more would only upsample them). A plotly
        figure is also an interactive ``<name>.html`` (returned) that loads the run's one
        ``plotly.min.js`` by a relative link (offline, and small)."""
        self.figures.mkdir(parents=True, exist_ok=True)
        printed = self.figures / "print"
        dpi = dpi or (PHOTO_DPI if photo else PRINT_DPI)
        if hasattr(fig, "to_html"):  # plotly
            path = self.figures / f"{name}.html"
            ensure_plotlyjs(self.figures.parent)
            with atomic_path(path) as tmp:
                fig.write_html(tmp, include_plotlyjs=f"../{PLOTLYJS}", full_html=True)
            for fmt in formats:
                if fmt == "html":
                    continue
                if fmt == "png":
                    with atomic_path(self.figures / f"{name}.png") as tmp:
                        fig.write_image(tmp, format="png", scale=1)
                with atomic_path(printed / f"{name}.{fmt}") as tmp:
                    fig.write_image(tmp, format=fmt, scale=dpi / 100)
            return path
        web = self.figures / f"{name}.{'jpg' if photo else 'png'}"
        with atomic_path(web) as tmp:
            fig.savefig(tmp, dpi=WEB_DPI, bbox_inches="tight", format=web.suffix[1:],
                        **({"pil_kwargs": {"quality": 85}} if photo else {}))
        for fmt in formats:
            if photo and fmt == "png":  # a mosaic of video frames prints as a JPEG (quality 95): a tenth
                fmt, extra = "jpg", {"pil_kwargs": {"quality": 95}}  # of the bytes and of the encoding time
            else:
                extra = {}
            with atomic_path(printed / f"{name}.{fmt}") as tmp:
                fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt, **extra)
        return web


#: Resolution of the print/ copies: line art and text, and figures made of video frames.
PRINT_DPI, PHOTO_DPI = 300, 150
#: Resolution of the PNGs the pages show (the thesis copies under print/ keep the asked dpi).
WEB_DPI = 100
#: The one copy of plotly.js of a run's site, at figures/<run>/<PLOTLYJS>.
PLOTLYJS = "plotly.min.js"


def ensure_plotlyjs(folder: Path) -> Path:
    """Copy the plotly.min.js that the plotly package ships into ``folder`` unless the same version is
    there; returns its path (a static asset: nothing is drawn here)."""
    import importlib.util
    from importlib import metadata

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed (pip install plotly): interactive figures need it")
    source = Path(next(iter(spec.submodule_search_locations))) / "package_data" / PLOTLYJS
    return write_stamped(Path(folder) / PLOTLYJS, f"/* vidanon: plotly.py {metadata.version('plotly')} */\n",
                         lambda: source.read_text(encoding="utf-8"))


def _relative_paths(df, root: Path):
    """``df`` with text cells that start with the project root's path made relative to it."""
    from pandas.api.types import is_string_dtype as pd_is_string

    prefix = str(Path(root).resolve()) + os.sep
    text = [c for c in df.columns if df[c].dtype == object or pd_is_string(df[c].dtype)]
    hits = [c for c in text if df[c].map(lambda v: isinstance(v, str) and v.startswith(prefix)).any()]
    if not hits:
        return df
    out = df.copy()
    for c in hits:
        out[c] = out[c].map(lambda v: v[len(prefix):] if isinstance(v, str) and v.startswith(prefix) else v)
    return out


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _latex(df, caption: str, index: bool) -> str:
    """A booktabs table (pandas' Styler.to_latex needs jinja2, which jupyter brings)."""
    body = df.style.format(precision=3).hide(axis="index") if not index else df.style.format(precision=3)
    return body.to_latex(hrules=True, caption=caption, position_float="centering")
