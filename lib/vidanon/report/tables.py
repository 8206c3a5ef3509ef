"""Tables that drop into a thesis: CSV (raw numbers), Markdown and LaTeX (booktabs, formatted).

CSV keeps every number at full precision for re-analysis; Markdown and LaTeX show the formatted
"display" table (Rank-1 with its CI in brackets, one decimal for percentages, n/a for missing).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vidanon.core.atomic import atomic_path
from vidanon.report.summary import METRIC, METRICS

FORMATS = ("csv", "md", "tex")


def _with_ci(v, lo, hi, fmt: str) -> str:
    if pd.isna(v):
        return "n/a"
    s = fmt.format(v)
    if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
        s += f" [{fmt.format(lo)}, {fmt.format(hi)}]"
    return s


def display_table(summary: pd.DataFrame, groups=None) -> pd.DataFrame:
    """The summary as formatted strings with readable column labels, method as the first column.

    ``groups``: keep only metrics of these groups (e.g. ``["privacy"]``); None keeps all. Rank-1 and
    utility carry their CI ``v [lo, hi]`` when known; the privacy level follows Rank-1 of the strongest
    attack, which is named beside it."""
    cols = {}
    for m in METRICS:
        if m.name not in summary.columns or (groups and m.group not in groups):
            continue
        lo = summary.get(f"{m.name}_lo")
        hi = summary.get(f"{m.name}_hi")
        cols[m.label] = [_with_ci(summary[m.name].iloc[i], None if lo is None else lo.iloc[i],
                                  None if hi is None else hi.iloc[i], m.fmt) for i in range(len(summary))]
        if m.name == "rank1":
            if "attack" in summary.columns:
                cols["Attack that won"] = summary["attack"].fillna("n/a").tolist()
            if "level" in summary.columns:
                cols["Privacy level"] = summary["level"].fillna("n/a").tolist()
            if "chance" in summary.columns:
                cols["Chance (%)"] = [_with_ci(v, None, None, "{:.1f}") for v in summary["chance"]]
    out = pd.DataFrame(cols, index=summary.index)
    return out.reset_index().rename(columns={"method": "Method"})


def to_markdown(display: pd.DataFrame) -> str:
    """GitHub-flavoured Markdown (tabulate)."""
    return display.to_markdown(index=False, disable_numparse=True) + "\n"


def to_latex(display: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs ``table`` environment (requires ``\\usepackage{booktabs}``); special characters escaped."""
    sty = display.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    return sty.to_latex(hrules=True, caption=caption, label=label, position_float="centering",
                        column_format="l" + "r" * (display.shape[1] - 1))


def export(summary: pd.DataFrame, directory: str | Path, name: str, caption: str,
           *, formats=FORMATS, groups=None) -> dict[str, Path]:
    """Write ``<directory>/<name>.{csv,md,tex}`` atomically; returns ``{format: path}``.

    CSV holds the raw summary (method + all columns); md/tex the :func:`display_table`."""
    directory = Path(directory)
    disp = display_table(summary, groups)
    written = {}
    for fmt in formats:
        path = directory / f"{name}.{fmt}"
        with atomic_path(path) as tmp:
            if fmt == "csv":
                raw = summary if groups is None else summary[[c for c in summary.columns if c not in METRIC
                                                              or METRIC[c].group in groups]]
                raw.reset_index().to_csv(tmp, index=False)
            elif fmt == "md":
                tmp.write_text(to_markdown(disp), encoding="utf-8")
            elif fmt == "tex":
                tmp.write_text(to_latex(disp, caption, f"tab:{name}"), encoding="utf-8")
            else:
                raise ValueError(f"unknown table format {fmt!r} (expected one of {FORMATS})")
        written[fmt] = path
    return written


def preview(df: pd.DataFrame, *, href: str | None = None, rows: int = 12, index: bool = False):
    """A long table as its first ``rows`` rows (NaN shown as n/a), with a line linking the full CSV.

    For notebooks: returns an ``IPython.display.HTML``; ``href`` is the CSV's link as seen from the
    rendered page (``Context.table_href``)."""
    from IPython.display import HTML

    shown = df.head(rows)
    html = shown.to_html(index=index, border=0, na_rep="n/a", escape=True)
    more = []
    if len(df) > rows:
        more.append(f"the first {rows} of {len(df)} rows")
    if href:
        more.append(f'the full table: <a href="{href}">{Path(href).name}</a>')
    if shown.isna().any().any():
        more.append("n/a: not measured for that row (see the stage's notes)")
    foot = f'<p style="font-size:.85em;color:#555">{"; ".join(more).capitalize()}.</p>' if more else ""
    return HTML(f'<div style="overflow-x:auto">{html}</div>{foot}')
