"""Remove outputs and execution counts from notebooks, in place (notebooks are committed clean)."""

from __future__ import annotations

NAME = "strip-notebooks"
HELP = "remove outputs and execution counts from notebooks in place"


def strip(nb) -> bool:
    """Clear outputs of a nbformat notebook; True when something changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell["outputs"] = []
        cell["execution_count"] = None
        for key in ("execution", "papermill"):
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed = True
    for key in ("papermill", "widgets"):
        if key in nb.metadata:
            del nb.metadata[key]
            changed = True
    return changed


def add_arguments(p) -> None:
    p.add_argument("notebooks", nargs="+", help="notebook files")
    p.add_argument("--check", action="store_true", help="only report notebooks with outputs; exit 1 if any")


def run(args) -> int:
    import nbformat

    from vidanon.core.atomic import write_text

    dirty = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if strip(nb):
            dirty.append(path)
            if not args.check:
                write_text(path, nbformat.writes(nb) + "\n")
    verb = "have outputs" if args.check else "stripped"
    print(f"{len(dirty)} notebook(s) {verb}" + (": " + ", ".join(dirty) if dirty else ""))
    return 1 if (args.check and dirty) else 0
