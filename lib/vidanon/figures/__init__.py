"""Figures: tables (and frames) in, figures out; nothing here reads a video or computes a metric.
``style`` is the shared look (one colour per method, privacy bands); one module per stage."""
