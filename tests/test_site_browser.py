"""The shared site in a real browser: headless Chromium opens index.html, each rendered notebook and
each interactive figure from the file system; plotly figures must render, no JavaScript error may
occur, and no page may fetch anything from the network.

Chromium comes from the project's setup (``scripts/install-browser.sh``: Debian's ``chromium``);
the tests are skipped, with the reason, only where it cannot be installed. The site of the first
test is built from SYNTHETIC tables; the second checks a real run's site when one exists
(figures/smoke or figures/default, after ``python -m vidanon run params/smoke.yaml``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Hosts Chromium itself contacts at start (time sync, accounts); not requests of the page.
BROWSER_OWN_HOSTS = (".google.com", ".googleapis.com", ".gstatic.com", "google.com")

pytestmark = pytest.mark.browser


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_path()


def chromium_path() -> str:
    """A headless Chromium, installed through scripts/install-browser.sh when missing (else skip)."""
    path = _find_chromium()
    if path is None:
        script = ROOT / "scripts" / "install-browser.sh"
        try:
            res = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            pytest.skip(f"no Chromium and {script.name} could not run: {e}")
        path = _find_chromium()
        if path is None:
            pytest.skip(f"no Chromium, and {script.name} could not install it: {res.stderr.strip()[-300:]}")
    return path


def open_page(chromium: str, page: Path, tmp: Path) -> dict:
    """Load ``page`` (file://) in headless Chromium; return the DOM after scripts ran, the console
    messages that are JavaScript errors, and the network URLs the page requested."""
    tmp.mkdir(parents=True, exist_ok=True)
    netlog = tmp / "net.json"
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={tmp / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
           f"--log-net-log={netlog}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
           "--dump-dom", page.resolve().as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln]
    errors = [ln for ln in console if re.search(r"Uncaught|\b(Type|Reference|Syntax|Range)Error\b", ln)]
    urls = []
    if netlog.is_file():
        try:
            log = json.loads(netlog.read_text())
        except ValueError:  # a net-log cut short still lists what matters in its text
            log = {"events": [{"params": {"url": u}} for u in re.findall(r'"url":"([^"]+)"', netlog.read_text())]}
        for ev in log.get("events", []):
            url = (ev.get("params") or {}).get("url", "")
            host = urlsplit(url).hostname or ""
            if url.startswith(("http:", "https:", "ws:", "wss:")) and not host.endswith(BROWSER_OWN_HOSTS):
                urls.append(url)
    return {"rc": res.returncode, "dom": res.stdout, "errors": errors, "network": sorted(set(urls))}


def check_page(chromium: str, page: Path, tmp: Path, expect_plots: bool | None = None) -> dict:
    src = page.read_text(encoding="utf-8", errors="replace")
    out = open_page(chromium, page, tmp)
    assert out["rc"] == 0 and "</html>" in out["dom"], f"{page.name}: Chromium failed ({out['rc']})"
    assert out["errors"] == [], f"{page.name}: JavaScript errors {out['errors']}"
    assert out["network"] == [], f"{page.name}: fetched from the network {out['network']}"
    n_divs = src.count('class="plotly-graph-div"')
    if expect_plots:
        assert n_divs > 0, f"{page.name}: no plotly figure in the page"
    rendered = out["dom"].count("js-plotly-plot")
    assert rendered >= n_divs, f"{page.name}: {n_divs} plotly figures, {rendered} rendered"
    if n_divs:
        assert 'class="main-svg"' in out["dom"], f"{page.name}: plotly drew no SVG"
    return out


#: Size budgets (issue 15): the whole site with its executed notebooks, and any one page.
SITE_BUDGET_MB = {"smoke": 10, "default": 25}
PAGE_BUDGET_MB = 3
_MACHINE_PATH = re.compile(r"(?<![\w.])/(?:home|root|tmp|work|Users|mnt|private|var/folders)/[\w.-]+")


def check_site(index: Path, budget_mb: float, machine_paths=()) -> None:
    """What a supervisor gets: the folder within ``budget_mb`` (executed notebooks included, print/ apart), no page over
    PAGE_BUDGET_MB, no stderr block in a render, no path of the machine in any page or notebook copy,
    the index's findings first and its privacy table naming the strongest attack."""
    folder = index.parent
    files = [p for p in folder.rglob("*") if p.is_file()]
    # the site a supervisor is sent: pages, figures, tables, videos, executed notebooks; the print/ folders
    # (300-dpi PNG/PDF/SVG copies for the thesis, linked from the index) are counted apart
    sent = [p for p in files if "print" not in p.relative_to(folder).parts]
    total = sum(p.stat().st_size for p in sent) / 1e6
    assert total <= budget_mb, f"{folder.name}: site is {total:.1f} MB without print/ (budget {budget_mb} MB)"
    for p in files:
        if p.suffix not in (".html", ".ipynb", ".md", ".csv", ".json"):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        if p.suffix == ".html":
            assert p.stat().st_size <= PAGE_BUDGET_MB * 1e6, f"{p.name}: {p.stat().st_size / 1e6:.1f} MB"
            assert "application/vnd.jupyter.stderr" not in text, f"{p.name}: a stderr block"
        for mp in machine_paths:
            assert str(mp) not in text, f"{p.relative_to(folder)}: holds the path {mp}"
        found = _MACHINE_PATH.findall(text) if p.suffix in (".html", ".ipynb") else []
        assert not found, f"{p.relative_to(folder)}: absolute paths {found[:3]}"
    html = index.read_text(encoding="utf-8")
    assert "<h2>Findings</h2>" in html and "strongest attack" in html
    assert "Rank-1, strongest attack" in html and "Attack that won" in html


def _site_pages(index: Path) -> list[Path]:
    """Every local HTML page index.html links to."""
    hrefs = re.findall(r'href="([^"#:]+\.html)"', index.read_text(encoding="utf-8"))
    return [index.parent / h for h in dict.fromkeys(hrefs)]


@pytest.mark.slow
def test_synthetic_site_in_chromium(chromium, tmp_path):
    import nbformat

    from test_report import offline_notebook, synthetic_tables
    from vidanon.core.context import Context
    from vidanon.io.data import load_params
    from vidanon.report import build_index_html, run_stage, site

    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "web.yaml").write_text("name: web\nclips:\n  - {id: female, sample: female}\n")
    ctx = Context(load_params(tmp_path / "params" / "web.yaml"), tmp_path, "07_report")
    for name, df in synthetic_tables().items():
        ctx.save_metrics(df, name)
    run_stage(ctx)
    figs = ctx.params.figures_dir(ctx.root)
    ipynb = tmp_path / "07_report.ipynb"
    nbformat.write(offline_notebook("07 report (synthetic)"), ipynb)
    site.render_notebook(ipynb, figs / "07_report.html")
    index = build_index_html(ctx)

    out = check_page(chromium, index, tmp_path / "b0")
    assert "Privacy-utility trade-off" in out["dom"]
    pages = _site_pages(index)
    names = {p.name for p in pages}
    assert {"07_report.html", "tradeoff.html", "fingerprints.html"} <= names
    for i, page in enumerate(pages):
        check_page(chromium, page, tmp_path / f"b{i + 1}", expect_plots=True)


def test_browser_check_catches_errors(chromium, tmp_path):
    """The check itself: a JavaScript error and a CDN script are both reported."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>notDefined();</script>'
                    '<script src="https://cdn.example.org/lib.js"></script></body></html>')
    out = open_page(chromium, page, tmp_path / "b")
    assert any("notDefined" in e for e in out["errors"])
    assert "https://cdn.example.org/lib.js" in out["network"]


@pytest.mark.parametrize("run", ["smoke", "default"])
def test_real_run_site_in_chromium(chromium, tmp_path, run):
    index = ROOT / "figures" / run / "index.html"
    if not index.is_file():
        pytest.skip(f"figures/{run}/index.html not built (run: python -m vidanon run params/{run}.yaml)")
    check_page(chromium, index, tmp_path / "b0")
    check_site(index, SITE_BUDGET_MB[run], machine_paths=[ROOT])
    notebooks = [p for p in _site_pages(index) if re.match(r"\d\d_", p.name) and p.parent == index.parent]
    assert notebooks, "the site links no rendered notebook"
    for i, page in enumerate(notebooks):
        check_page(chromium, page, tmp_path / f"b{i + 1}")
