"""The study's vocabulary, imported by every other package and importing none of them: errors,
the params schema, the stage Context, the versions of a run and atomic writes."""
