"""Build the report of a run without the notebook: the summary per method (CSV, Markdown, LaTeX),
the privacy-utility trade-off figure, the fingerprints and figures/<params name>/index.html, from
the tables that stages 01-06 wrote under work/<params name>/metrics/. Missing stages are listed,
not fatal. With --site-only, only index.html is rebuilt (e.g. after rendering notebooks by hand)."""

from __future__ import annotations

NAME = "report"
HELP = "summary tables, trade-off figure, fingerprints and index.html of a run"


def add_arguments(p) -> None:
    p.add_argument("params", help="params file of the run, e.g. params/default.yaml")
    p.add_argument("--embedder", default=None,
                   help="re-ID embedder of the headline Rank-1 (default: the first of params reid.embedders)")
    p.add_argument("--protocol", default=None, choices=["cross-clip", "cross-segment"],
                   help="re-ID protocol of the headline Rank-1 (default: the first of params reid.protocols)")
    p.add_argument("--site-only", action="store_true", help="only rebuild figures/<name>/index.html")
    p.add_argument("--root", default=".", help="project root (where figures/ and work/ are)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing figures/<name>/07_report/ (refused otherwise)")


def run(args) -> int:
    from pathlib import Path

    from vidanon.core.context import Context
    from vidanon.io.data import load_params
    from vidanon.report import build_index_html, run_stage, tables

    root = Path(args.root).resolve()
    ctx = Context(load_params(args.params), root, "07_report")
    if args.site_only:
        if not ctx.params.figures_dir(root).is_dir():
            raise FileNotFoundError(f"{ctx.params.figures_dir(root)}: nothing to index (run the stages first)")
        print(build_index_html(ctx))
        return 0
    if ctx.figures.exists() and any(ctx.figures.iterdir()) and not args.overwrite:
        raise FileExistsError(f"{ctx.figures} exists; pass --overwrite to replace the report")
    rep = run_stage(ctx, embedder=args.embedder, protocol=args.protocol)
    if len(rep.display):
        print(tables.to_markdown(rep.display))
    for note in rep.notes:
        print(f"note: {note}")
    print(f"site: {rep.paths['index']}")
    return 0
