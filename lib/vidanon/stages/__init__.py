"""One module per notebook of the study; each ``run(ctx)`` computes its stage from the work/ tables
and videos of the stages before it, saves its own tables and returns them. A stage never imports
another stage: stages share data only through work/ (tables, videos, crops, caches)."""
