"""Small faces: CenterFace on the whole frame (before) against the whole frame plus upscaled head tiles of
small persons (``detect.small_faces_below``, vidanon.scene.faces.small_faces), on the default params'
clips with persons shorter than that, and on a "far" copy of Tears of Steel (each frame shrunk to a third
and a fifth and placed on a grey canvas of the original size: faces of 8-30 px, as in surveillance footage).

The reference is another detector family, dlib's HOG face detector with the frame upsampled twice (it
finds faces down to about 10 px): a reference face counts as found when a CenterFace box holds its
centre. Prints, per clip, the reference faces, the share found before and with tiles (the SMALL-FACE
RECALL), the extra time per frame, and ends with one ``target`` line.

    .venv/bin/python benchmarks/bench_small_faces.py [--params params/default.yaml] [--every 5] [--frames 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _found(ref: np.ndarray, boxes: np.ndarray) -> int:
    """Reference faces whose centre lies inside one of ``boxes``."""
    if not len(ref) or not len(boxes):
        return 0
    cx, cy = (ref[:, 0] + ref[:, 2]) / 2, (ref[:, 1] + ref[:, 3]) / 2
    inside = ((cx[:, None] >= boxes[None, :, 0]) & (cx[:, None] <= boxes[None, :, 2])
              & (cy[:, None] >= boxes[None, :, 1]) & (cy[:, None] <= boxes[None, :, 3]))
    return int(inside.any(axis=1).sum())


def _far(rgb: np.ndarray, shrink: int = 3) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (w // shrink, h // shrink), interpolation=cv2.INTER_AREA)
    out = np.full_like(rgb, 128)
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def main(argv=None) -> int:
    import dlib

    from vidanon.core import params as params_mod
    from vidanon.io import data
    from vidanon.models import detect
    from vidanon.scene.faces import small_faces

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--every", type=int, default=5, help="every n-th frame of each clip")
    ap.add_argument("--frames", type=int, default=60, help="at most this many frames per clip")
    ap.add_argument("--below", type=int, default=None, help="persons shorter than this get tiles (default: the params')")
    ap.add_argument("--shrink", type=int, nargs="+", default=[3, 5], help="far copies of Tears of Steel, shrunk by these")
    ap.add_argument("--only-far", action="store_true", help="only the far copies")
    args = ap.parse_args(argv)

    p = params_mod.load(args.params)
    below = args.below or p.detect.small_faces_below or 120
    face = detect.get_face_detector(p.detect.face)
    person = detect.get_person_detector(p.detect.person)
    hog = dlib.get_frontal_face_detector()
    clips = ([] if args.only_far else [(spec.id, 0) for spec in p.clips]) + [("tears-of-steel", k) for k in args.shrink]
    print(f"{'clip':22s} {'frames':>6s} {'small persons':>13s} {'ref faces':>9s} {'before':>7s} {'tiles':>7s} "
          f"{'+ms/frame':>9s}")
    tot = {"ref": 0, "before": 0, "tiles": 0, "frames": 0, "extra": 0.0}
    for cid, far in clips:
        spec = next(s for s in p.clips if s.id == cid)
        clip = data.open_clip(spec)
        n = {"ref": 0, "before": 0, "tiles": 0, "frames": 0, "small": 0, "extra": 0.0}
        for t, rgb in clip.frames():
            if t % args.every:
                continue
            if n["frames"] >= args.frames:
                break
            rgb = _far(rgb, far) if far else rgb
            boxes = person(rgb)
            boxes = boxes[(boxes[:, 3] - boxes[:, 1]) >= p.detect.min_person_height]
            small = boxes[(boxes[:, 3] - boxes[:, 1]) < below]
            if not far and not len(small):
                continue
            n["frames"] += 1
            n["small"] += len(small)
            ref = np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in hog(rgb, 2)], float).reshape(-1, 4)
            before = face(rgb)
            t0 = time.perf_counter()
            extra = small_faces(rgb, boxes, face, before, max_person_height=below)
            n["extra"] += time.perf_counter() - t0
            n["ref"] += len(ref)
            n["before"] += _found(ref, before)
            n["tiles"] += _found(ref, np.concatenate([before.reshape(-1, 5), extra]))
        if not n["frames"]:
            continue
        name = cid + (f" (1/{far} copy)" if far else "")
        r = max(n["ref"], 1)
        print(f"{name:22s} {n['frames']:6d} {n['small']:13d} {n['ref']:9d} {n['before'] / r:7.3f} {n['tiles'] / r:7.3f} "
              f"{1000 * n['extra'] / n['frames']:9.1f}")
        for k in tot:
            tot[k] += n[k]
    r = max(tot["ref"], 1)
    print(f"{'pooled':22s} {tot['frames']:6d} {'':13s} {tot['ref']:9d} {tot['before'] / r:7.3f} {tot['tiles'] / r:7.3f} "
          f"{1000 * tot['extra'] / max(tot['frames'], 1):9.1f}")
    rec_b, rec_t = tot["before"] / r, tot["tiles"] / r
    print(f"target small-face-recall: {rec_t:.3f} with head tiles, {rec_b:.3f} before, of {tot['ref']} faces dlib finds "
          f"(goal: above before) {'met' if rec_t > rec_b else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
