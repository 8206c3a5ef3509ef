"""07_report: summary per method, privacy-utility trade-off, fingerprints, thesis tables, static site.

``run_stage(ctx)`` does all of it for a notebook or the CLI; the modules are usable on their own:
summary (stage tables -> one row per method), tradeoff, fingerprints, tables (CSV/MD/LaTeX), site.
"""

from vidanon.report.stage import Report, build_index_html, run_stage

__all__ = ["Report", "build_index_html", "run_stage"]
