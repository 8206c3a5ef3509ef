"""Every public function, method and class of ``vidanon.metrics`` and ``vidanon.models`` has a numpydoc
docstring: a ``Parameters`` section naming each of its parameters (``__init__`` may leave them to the
class docstring) and a ``Returns`` section when it returns a value (``Yields`` for a generator).

Read from the source with ``ast``: no module is imported, so the test needs none of the models' packages.
Public = the name does not start with ``_``, plus ``__call__`` and ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "vidanon"
FILES = sorted((LIB / "metrics").glob("*.py")) + sorted((LIB / "models").rglob("*.py"))
DUNDERS = ("__call__", "__init__")
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _public(name: str) -> bool:
    return not name.startswith("_") or name in DUNDERS


def sections(doc: str | None) -> dict[str, list[str]]:
    """numpydoc sections of a docstring: header -> its lines (a header is underlined with dashes)."""
    lines = (doc or "").splitlines()
    out: dict[str, list[str]] = {}
    current = None
    for i, line in enumerate(lines):
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and len(nxt) >= 3 and set(nxt) == {"-"}:
            current = line.strip()
            out[current] = []
        elif current is not None and not (line.strip() and set(line.strip()) == {"-"}):
            out[current].append(line)
    return out


def documented(section: list[str]) -> set[str]:
    """Names of the entries of a section: ``a, b : type`` lines at the section's own indentation."""
    names = set()
    for line in section:
        if line.strip() and not line[0].isspace():
            head = line.split(" : ", 1)[0]
            names.update(n.strip().lstrip("*") for n in head.split(","))
    return names


def _params(fn: ast.FunctionDef, in_class: bool) -> list[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
    if in_class and not static and names:
        names = names[1:]  # self / cls
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return names


def _own_nodes(fn: ast.FunctionDef):
    """The nodes of a function's body, not those of nested functions, lambdas or classes."""
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (*FUNCS, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _returns_value(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None
               and not (isinstance(n.value, ast.Constant) and n.value.value is None) for n in _own_nodes(fn))


def _is_generator(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(fn))


def _check_function(fn: ast.FunctionDef, qualname: str, cls: ast.ClassDef | None) -> list[str]:
    doc = ast.get_docstring(fn)
    params = _params(fn, cls is not None)
    if fn.name == "__init__":  # its parameters may be documented in the class docstring
        if not params:
            return []
        docs = [d for d in (doc, ast.get_docstring(cls)) if d]
        if not any(set(params) <= documented(sections(d).get("Parameters", [])) for d in docs):
            return [f"{qualname}: neither its nor the class docstring documents all of {params} "
                    "under Parameters"]
        return []
    if not doc:
        return [f"{qualname}: no docstring"]
    sec = sections(doc)
    problems = []
    if params:
        if "Parameters" not in sec:
            problems.append(f"{qualname}: no Parameters section (parameters {params})")
        else:
            missing = [p for p in params if p not in documented(sec["Parameters"])]
            if missing:
                problems.append(f"{qualname}: Parameters does not document {missing}")
    if _returns_value(fn) and "Returns" not in sec:
        problems.append(f"{qualname}: returns a value but has no Returns section")
    if _is_generator(fn) and "Yields" not in sec:
        problems.append(f"{qualname}: a generator without a Yields section")
    return problems


def problems(source: str) -> list[str]:
    """What the public API of one module's source lacks in its docstrings."""
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, FUNCS) and _public(node.name):
            out += _check_function(node, node.name, None)
        elif isinstance(node, ast.ClassDef) and _public(node.name):
            if not ast.get_docstring(node):
                out.append(f"{node.name}: no class docstring")
            for m in node.body:
                if isinstance(m, FUNCS) and _public(m.name):
                    out += _check_function(m, f"{node.name}.{m.name}", node)
    return out


def test_files_are_found():
    names = {p.relative_to(LIB).as_posix() for p in FILES}
    assert {"metrics/ranking.py", "models/embed/osnet.py", "models/detect/centerface.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(LIB).as_posix() for p in FILES])
def test_public_api_has_numpydoc_docstrings(path):
    assert problems(path.read_text(encoding="utf-8")) == []


GOOD = '''
def f(a, *, b=1, **options):
    """Summary.

    Parameters
    ----------
    a, b : int
        Numbers.
    **options
        Passed on.

    Returns
    -------
    int
        The sum.
    """
    def helper():
        return 2
    return a + b


def g():
    """Nothing in, nothing out."""
    return


class C:
    """A class.

    Parameters
    ----------
    x : float
        Stored.
    """

    def __init__(self, x):
        self.x = x

    def __call__(self, rgb):
        """Run.

        Parameters
        ----------
        rgb : (H, W, 3) ndarray of uint8
            Frame.

        Returns
        -------
        (N, 5) ndarray of float32
            Boxes.
        """
        return rgb

    def _private(self, y):
        return y


def _hidden(z):
    return z
'''


def test_checker_accepts_a_documented_module():
    assert problems(GOOD) == []


@pytest.mark.parametrize("source, expected", [
    ("def f(a):\n    return a\n", "f: no docstring"),
    ('def f(a):\n    """Summary.\n\n    Returns\n    -------\n    int\n        a.\n    """\n    return a\n',
     "f: no Parameters section"),
    ('def f(a, b):\n    """Summary.\n\n    Parameters\n    ----------\n    a : int\n        a.\n    """\n',
     "f: Parameters does not document ['b']"),
    ('def f(a):\n    """Summary.\n\n    Parameters\n    ----------\n    a : int\n        a.\n    """\n    return a\n',
     "f: returns a value but has no Returns section"),
    ('class C:\n    def embed(self):\n        return 1\n', "C: no class docstring"),
    ('class C:\n    """C."""\n\n    def __init__(self, x):\n        self.x = x\n', "C.__init__: neither"),
    ('def f():\n    """Summary."""\n    yield 1\n', "f: a generator without a Yields section"),
])
def test_checker_flags_what_is_missing(source, expected):
    assert any(p.startswith(expected) for p in problems(source)), problems(source)
