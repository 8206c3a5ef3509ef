"""The library's house rules, read from the source (no module is imported): which package may import
which, no stage importing another stage, no figure code outside figures/ and report/, and every
module named in docs/architecture.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "vidanon"

# package -> the vidanon packages its modules may import (itself always allowed)
ALLOWED = {
    "core": set(),
    "io": {"core"},
    "models": {"core", "io"},
    "metrics": {"core"},
    "scene": {"core", "io", "models"},
    "anonymize": {"core", "io", "scene"},
    "figures": {"core", "io", "metrics"},
    "stages": {"core", "io", "models", "scene", "anonymize", "metrics"},
    "report": {"core", "io", "figures", "metrics"},
}
TOP_LEVEL = {"runner", "cli", "commands", "__main__", "__init__"}  # may import everything


def _modules():
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB).with_suffix("")
        yield path, rel.parts


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``vidanon.*`` module a file imports (at any depth: lazy imports count), with its line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("vidanon")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vidanon"):
            if node.module == "vidanon":  # from vidanon import scene, anonymize
                out += [(f"vidanon.{a.name}", node.lineno) for a in node.names]
            else:
                out += [(node.module, node.lineno)]
                out += [(f"{node.module}.{a.name}", node.lineno) for a in node.names
                        if (LIB.joinpath(*node.module.split(".")[1:], a.name + ".py")).is_file()]
    return out


def test_imports_point_one_way():
    bad = []
    for path, parts in _modules():
        pkg = parts[0]
        if pkg in TOP_LEVEL:
            continue
        for name, line in _imports(path):
            target = name.split(".")[1] if "." in name else ""
            if target == pkg or target == "":
                continue
            if target not in ALLOWED.get(pkg, set()):
                bad.append(f"{'/'.join(parts)}.py:{line} ({pkg}) imports {name}")
    assert not bad, "imports against the architecture:\n" + "\n".join(bad)


def test_no_stage_imports_another_stage():
    bad = []
    for path, parts in _modules():
        if parts[0] != "stages" or parts[-1] == "__init__":
            continue
        for name, line in _imports(path):
            bits = name.split(".")
            if len(bits) >= 3 and bits[1] == "stages" and bits[2] != parts[1]:
                bad.append(f"stages/{parts[1]}.py:{line} imports {name}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", ["stages", "metrics", "models", "anonymize", "scene", "io", "core"])
def test_no_figure_code_outside_figures(package):
    drawing = ("matplotlib", "plotly")
    bad = [f"{'/'.join(parts)}.py:{node.lineno}"
           for path, parts in _modules() if parts[0] == package
           for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
           if isinstance(node, (ast.Import, ast.ImportFrom))
           and any((getattr(node, "module", None) or "").startswith(d) or
                   any(a.name.startswith(d) for a in node.names) for d in drawing)]
    assert not bad, f"{package}/ draws figures: " + ", ".join(bad)


def test_figures_never_read_video():
    bad = [f"figures/{parts[-1]}.py:{line}" for path, parts in _modules() if parts[0] == "figures"
           for name, line in _imports(path) if name.startswith("vidanon.io.video")]
    assert not bad, bad


def test_metrics_import_no_model_video_or_runner():
    # OpenCV as an array library (its filters are what the SSIM map runs on), never its video I/O
    third_party = {"numpy", "scipy", "skimage", "cv2", "__future__", "dataclasses", "math", "typing"}
    bad = []
    for path, parts in _modules():
        if parts[0] != "metrics":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"metrics/{parts[-1]}.py imports {n}" for n in names
                    if n.split(".")[0] not in third_party and not n.startswith("vidanon.core")
                    and not n.startswith("vidanon.metrics")]
    assert not bad, bad


def test_architecture_doc_names_every_module():
    doc = (LIB.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path, parts in _modules():
        if parts[-1] == "__init__" and len(parts) > 1:
            name = "/".join(parts[:-1]) + "/"
        elif parts[-1] in ("__init__", "__main__"):
            continue
        else:
            name = "/".join(parts) + ".py"
        if f"`{name}`" not in doc:
            missing.append(name)
    assert not missing, "docs/architecture.md does not name: " + ", ".join(missing)


# Functions that keep torchreid's evaluate_rank order (distmat, q_pids, g_pids, q_camids, g_camids)
# positional, so that they read like the reference; and the Market-1501 name's own fields.
POSITIONAL_OK = {"evaluate_rank", "_check_inputs", "_rank_block", "score", "verified", "leakage_row", "top_k",
                 "market_name"}


def test_long_signatures_are_keyword_only():
    bad = []
    for path, parts in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in POSITIONAL_OK:
                positional = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
                if len(positional) > 4:
                    bad.append(f"{'/'.join(parts)}.py:{node.lineno} {node.name}({', '.join(positional)})")
    assert not bad, "more than four positional parameters (make the rest keyword-only):\n" + "\n".join(bad)
