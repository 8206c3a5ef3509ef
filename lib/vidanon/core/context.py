"""Where a stage's artifacts go, and its writers of tables and figures (atomic, see core.atomic).

``Context`` is what a notebook gets after its parameters cell: the validated params, the work
directory (intermediate artifacts) and the figures directory of its stage (what a reader sees).
Every write goes to a temporary name first and is renamed when complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidanon.core import params as params_mod
from vidanon.core.atomic import atomic_path


@dataclass
class Context:
    """Paths and writers of one stage (notebook) of a run."""

    params: params_mod.Params
    root: Path
    stage: str  # e.g. "01_anonymize"
    executor: object = field(default=None, repr=False, compare=False)  # core.executor; None: serial

    def __getstate__(self):  # jobs sent to workers carry the context, never the executor
        return {"params": self.params, "root": self.root, "stage": self.stage, "executor": None}

    @classmethod
    def from_notebook(cls, params_path: str, stage: str, root: str = "..") -> "Context":
        """What a notebook's first code cell calls; ``root`` is the project root seen from notebooks/."""
        rootp = Path(root).resolve()
        pp = Path(params_path)
        if not pp.is_absolute():  # relative to the notebook's cwd ("../params/x.yaml"), else to the root
            pp = pp.resolve() if pp.is_file() else rootp / pp
        return cls(params_mod.load(pp), rootp, stage)

    @property
    def work(self) -> Path:
        return self.params.work_dir(self.root)

    @property
    def figures(self) -> Path:
        return self.params.figures_dir(self.root) / self.stage

    def work_path(self, *parts: str) -> Path:
        p = self.work.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    # --- tables ---------------------------------------------------------------------------
    def save_table(self, df, name: str, *, formats=("csv",), index: bool = False, caption: str | None = None):
        """Write a table under figures/<run>/<stage>/tables/ (CSV, and md/tex when asked) and
        as parquet under work/<run>/metrics/ for later stages. Returns the CSV path."""
        out = self.figures / "tables"
        written = {}
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            with atomic_path(path) as tmp:
                if fmt == "csv":
                    df.to_csv(tmp, index=index)
                elif fmt == "md":
                    tmp.write_text(df.to_markdown(index=index) if _has_tabulate() else df.to_string(index=index))
                elif fmt == "tex":
                    tmp.write_text(_latex(df, caption or name, index))
                else:
                    raise ValueError(f"unknown table format {fmt!r}")
            written[fmt] = path
        self.save_metrics(df, name)
        return written.get("csv", next(iter(written.values()), None))

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
    def save_figure(self, fig, name: str, formats=("png",), dpi: int = 300) -> Path:
        """Save a matplotlib or plotly figure under figures/<run>/<stage>/.

        matplotlib: PNG at ``dpi`` (plus 'pdf'/'svg' when asked). plotly: an interactive HTML page
        with plotly.js inlined (opens offline) plus a static PNG (kaleido)."""
        self.figures.mkdir(parents=True, exist_ok=True)
        first = None
        if hasattr(fig, "to_html"):  # plotly
            path = self.figures / f"{name}.html"
            with atomic_path(path) as tmp:
                fig.write_html(tmp, include_plotlyjs=True, full_html=True)
            first = path
            for fmt in formats:
                if fmt == "html":
                    continue
                p = self.figures / f"{name}.{fmt}"
                with atomic_path(p) as tmp:
                    fig.write_image(tmp, format=fmt, scale=2)
            return first
        for fmt in formats:
            p = self.figures / f"{name}.{fmt}"
            with atomic_path(p) as tmp:
                fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt)
            first = first or p
        return first


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
