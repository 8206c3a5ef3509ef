"""The drift explorer: scrub through one person of one clip and see where an anonymization goes wrong.

Choose a clip, a method and a track; a frame slider (with play and step buttons) shows the original
crop, the anonymized crop, and the drift curves of that track (plotly ``FigureWidget``) with a
marker at the current frame. It works in JupyterLab; executed headlessly (papermill) it only builds
widgets, which do nothing until a browser renders them. The static figures of 04_drift show the
same content for the HTML render.

Inputs are the drift stage's ``drift_frames`` table and the crops manifest (aligned crops, absolute
paths, as ``vidanon.io.crops.load_manifest`` returns it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CURVES = {"to_first": "to first crop", "to_previous": "to previous crop", "to_original": "to original"}


class DriftExplorer:
    """Widgets over ``frames`` (drift_frames rows of one ``model``) and ``crops`` (manifest rows)."""

    def __init__(self, frames: pd.DataFrame, crops: pd.DataFrame, model: str | None = None,
                 threshold: float | None = None):
        import ipywidgets as w
        import plotly.graph_objects as go

        from vidanon.figures.style import plotly_template

        model = model or frames["model"].iloc[0]
        self.frames = frames[frames["model"] == model]
        if self.frames.empty:
            raise ValueError(f"no drift rows for model {model!r}")
        self.crops = crops[crops["mode"] == "aligned"] if "mode" in crops else crops
        self.model, self.threshold = model, threshold
        clips = sorted(self.frames["clip"].unique())
        self.clip = w.Dropdown(options=clips, description="clip")
        self.method = w.Dropdown(description="method")
        self.track = w.Dropdown(description="track")
        self.slider = w.SelectionSlider(options=[0], description="frame", continuous_update=True,
                                        layout=w.Layout(width="420px"))
        self.play = w.Play(interval=250, min=0, max=0, description="play")
        w.jslink((self.play, "value"), (self.slider, "index"))
        self.prev = w.Button(description="◀", layout=w.Layout(width="40px"), tooltip="previous frame")
        self.next = w.Button(description="▶", layout=w.Layout(width="40px"), tooltip="next frame")
        self.prev.on_click(lambda _: self.step(-1))
        self.next.on_click(lambda _: self.step(1))
        box = dict(width="128px", height="256px")
        self.original = w.Image(format="jpeg", layout=w.Layout(**box))
        self.anonymized = w.Image(format="jpeg", layout=w.Layout(**box))
        self.info = w.HTML()
        self.fig = go.FigureWidget(layout=dict(template=plotly_template(), height=320, width=560,
                                               xaxis_title="frame", yaxis_title=f"cosine distance ({model})",
                                               margin=dict(l=60, r=10, t=30, b=40),
                                               legend=dict(orientation="h", y=1.12)))
        self.clip.observe(lambda _: self._clip_changed(), names="value")
        self.method.observe(lambda _: self._track_changed(), names="value")
        self.track.observe(lambda _: self._track_changed(), names="value")
        self.slider.observe(lambda _: self._frame_changed(), names="value")
        self._clip_changed()
        images = w.HBox([w.VBox([w.HTML("<b>original</b>"), self.original]),
                         w.VBox([w.HTML("<b>anonymized</b>"), self.anonymized])])
        self.widget = w.VBox([w.HBox([self.clip, self.method, self.track]),
                              w.HBox([self.play, self.prev, self.slider, self.next]),
                              w.HBox([images, self.fig]), self.info])

    # --- state changes ------------------------------------------------------------------------
    def _clip_changed(self) -> None:
        f = self.frames[self.frames["clip"] == self.clip.value]
        from vidanon.figures.style import sort_methods

        methods = sort_methods(f["method"].unique())
        methods = [m for m in methods if m != "original"] + [m for m in methods if m == "original"]
        tracks = sorted(int(t) for t in f["track_id"].unique())
        self._busy = True  # one redraw for the whole change, not one per widget
        self.method.options, self.method.value = methods, methods[0]
        self.track.options, self.track.value = tracks, tracks[0]
        self._busy = False
        self._track_changed()

    def _rows(self) -> pd.DataFrame:
        f = self.frames
        return f[(f["clip"] == self.clip.value) & (f["method"] == self.method.value)
                 & (f["track_id"] == self.track.value)].sort_values("frame")

    def _track_changed(self) -> None:
        if getattr(self, "_busy", False) or self.method.value is None or self.track.value is None:
            return
        g = self._rows()
        frames = [int(v) for v in g["frame"]] or [0]
        self.slider.options = frames
        self.play.max = max(len(frames) - 1, 0)
        with self.fig.batch_update():
            self.fig.data = ()
            for col, label in CURVES.items():
                if col in g and g[col].notna().any():
                    self.fig.add_scatter(x=g["frame"], y=g[col], mode="lines+markers", name=label)
            o = self.frames[(self.frames["clip"] == self.clip.value) & (self.frames["method"] == "original")
                            & (self.frames["track_id"] == self.track.value)].sort_values("frame")
            if len(o) and self.method.value != "original":
                self.fig.add_scatter(x=o["frame"], y=o["to_first"], mode="lines", name="original to first",
                                     line=dict(color="#999999", dash="dot"))
            self.fig.layout.shapes = []
            if self.threshold is not None:  # identity-switch threshold on frame-to-frame jumps
                self.fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y", y0=self.threshold,
                                   y1=self.threshold, line=dict(color="#cc3311", dash="dash", width=1),
                                   name="threshold")
            self.fig.add_scatter(x=[], y=[], mode="markers", name="current",
                                 marker=dict(size=12, color="#cc3311", symbol="circle-open", line_width=2))
        self._busy = True
        self.slider.value = frames[0]
        self._busy = False
        self._frame_changed()

    def _frame_changed(self) -> None:
        if getattr(self, "_busy", False):
            return
        t = self.slider.value
        g = self._rows()
        row = g[g["frame"] == t]
        with self.fig.batch_update():
            self.fig.layout.shapes = [s for s in self.fig.layout.shapes if s.name != "cursor"]
            self.fig.add_shape(type="line", xref="x", x0=t, x1=t, yref="paper", y0=0, y1=1,
                               line=dict(color="#cc3311", width=1), name="cursor")
            ys = [float(row[c].iloc[0]) for c in CURVES if c in row and len(row) and row[c].notna().any()]
            self.fig.data[-1].x, self.fig.data[-1].y = [t] * len(ys), ys
        self.original.value = self._crop("original", t)
        self.anonymized.value = self._crop(self.method.value, t)
        vals = ", ".join(f"{CURVES[c]} {float(row[c].iloc[0]):.3f}" for c in CURVES
                         if c in row and len(row) and row[c].notna().any())
        self.info.value = f"frame {t}: {vals}" if vals else f"frame {t}"

    def _crop(self, method: str, t: int) -> bytes:
        c = self.crops
        hit = c[(c["clip"] == self.clip.value) & (c["method"] == method) & (c["track_id"] == self.track.value)
                & (c["frame"] == t)]
        if hit.empty or not Path(hit["path"].iloc[0]).is_file():
            return b""
        return Path(hit["path"].iloc[0]).read_bytes()

    def step(self, delta: int) -> None:
        """Move the slider ``delta`` frames (of this track) forward or back, clamped."""
        i = min(max(self.slider.index + delta, 0), len(self.slider.options) - 1)
        self.slider.index = i

    @property
    def marker_frame(self) -> int | None:
        """The frame the curves' marker is at (for tests and scripts)."""
        x = self.fig.data[-1].x if self.fig.data else None
        return int(x[0]) if x is not None and len(x) else None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def from_context(ctx, frames: pd.DataFrame | None = None) -> DriftExplorer:
    """The explorer of a run: drift rows of ``params.drift.embedder`` and the run's aligned crops."""
    from vidanon.io.crops import load_manifest

    frames = ctx.load_metrics("drift_frames") if frames is None else frames
    return DriftExplorer(frames, load_manifest(ctx.work), ctx.params.drift.embedder,
                         ctx.params.drift.switch_threshold)
