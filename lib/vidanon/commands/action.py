"""Action recognition of videos with an MMAction2 recognizer (the original study's utility check).

The first VIDEO is the reference (e.g. the original); every other one (e.g. its anonymized versions)
is scored against it: top-k classes, and whether its top-1 agrees with the reference's. With --label,
also whether the top-1 / top-k is right. A checkpoint is required: no action model ships with any
package (e.g. MMAction2's TSN R50 Kinetics-400, see params/thesis.yaml), and scores of an untrained
network would mean nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "action"
HELP = "MMAction2 top-k and top-1 agreement of videos (original first, anonymized versions after)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vidanon.core.params import default

    p.add_argument("videos", type=Path, nargs="+", metavar="VIDEO",
                   help="videos; the first is the reference for top-1 agreement")
    p.add_argument("--config", required=True,
                   help="MMAction2 config: a file, or a path inside the mmaction2 wheel's configs, e.g. "
                        "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py")
    p.add_argument("--checkpoint", required=True,
                   help="checkpoint: a path, a file name in $VIDANON_WEIGHTS_DIR, or its URL (for its file name)")
    p.add_argument("--sha256", default=None, help="the checkpoint's SHA-256 (checked before it is unpickled; "
                                                 "OpenMMLab's '-<8 hex>.pth' name suffix is checked otherwise)")
    p.add_argument("--labels", default=None, help="label map of the checkpoint's classes, one name per line")
    p.add_argument("--label", default=None, help="the true class of the videos, for top-1/top-k accuracy")
    p.add_argument("--view", choices=["val", "test"], default=default("utility.action.view"),
                   help="'val': the config's single-view pipeline (fast); 'test': its multi-view pipeline")
    p.add_argument("--top-k", type=int, default=default("utility.action.top_k"), help="classes listed per video")
    p.add_argument("--device", default=default("device"), choices=["auto", "cpu", "cuda"], help="where the model runs")
    p.add_argument("-o", "--output", type=Path, default=None, help="CSV to write (one row per video)")
    p.add_argument("--overwrite", action="store_true", help="replace the CSV if it exists")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from vidanon.core.versions import resolve_device
    from vidanon.models.mmaction import Recognizer
    from vidanon.core.errors import DataError
    from vidanon.core.atomic import atomic_path
    from vidanon.io.video import probe, read_frames

    if args.output is not None and args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} exists; pass --overwrite to replace it")
    for v in args.videos:
        if not v.is_file():
            raise DataError(f"{v}: no such video file")
    labels = args.labels
    if labels is not None:
        from vidanon.io.weights import resolve

        labels = resolve(labels)
    rec = Recognizer(args.config, args.checkpoint, sha256=args.sha256, labels=labels, device=resolve_device(args.device),
                     view=args.view)
    if args.label is not None and args.label not in rec.labels:
        print(f"note: label {args.label!r} is not one of the model's {rec.num_classes} classes: no accuracy")
    rows, ref = [], None
    for v in args.videos:
        scores = rec.predict(read_frames(v), probe(v).n_frames)
        top = rec.top_k(scores, args.top_k)
        ref = top[0] if ref is None else ref
        in_set = args.label is not None and args.label in rec.labels
        rows.append(dict(video=str(v), model=rec.name, top1=top[0], top1_score=float(scores.max()),
                         topk=" | ".join(top), top1_agreement=top[0] == ref,
                         top1_correct=(top[0] == args.label) if in_set else None,
                         topk_correct=(args.label in top) if in_set else None))
        print(f"{v}: {' | '.join(top)}  (top-1 {scores.max():.3f}, agrees with the first video: {top[0] == ref})")
    if args.output is not None:
        with atomic_path(args.output) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)
        print(f"wrote {args.output}")
    return 0
