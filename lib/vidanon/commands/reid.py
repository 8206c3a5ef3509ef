"""Re-identification accuracy of a query folder against a gallery folder (Market-1501 layout), as the
original study's evaluate_reid_osnet.py: Rank-1/5/10, mAP, mINP, a 95% bootstrap CI over queries,
the chance level of this gallery and the privacy level of Rank-1 (< 10% excellent, 10-25% good,
25-50% moderate, > 50% poor).

File names give identity and camera: {pid:04d}_c{cam}s{seq}_{frame:06d}_{k:02d}.jpg (pid -1 = junk,
ignored). Gallery crops of the query's person in the query's own camera are removed (Market-1501
protocol). Typical use: query = anonymized crops, gallery = original crops of other cameras/segments.
"""

from __future__ import annotations

import json
from pathlib import Path

NAME = "reid"
HELP = "Rank-k / mAP / mINP of a query folder against a gallery folder (Market-1501 names)"


def add_arguments(p) -> None:
    from vidanon.core.params import default

    p.add_argument("query", nargs="?", help="query folder (same as --query-dir)")
    p.add_argument("gallery", nargs="?", help="gallery folder (same as --gallery-dir)")
    p.add_argument("--query-dir", help="folder of query crops, e.g. anonymized crops")
    p.add_argument("--gallery-dir", help="folder of gallery crops, e.g. original crops")
    p.add_argument("--model", default=default("reid.embedders")[0],
                   help="embedder: osnet_<arch>_<dataset> (torchreid checkpoint from the weights directory), "
                        "mobilenet_v2_imagenet (ImageNet, not re-ID trained), hsv_histogram (hand-crafted)")
    p.add_argument("--weights", help="checkpoint path or URL for an OSNet model not in the weights directory")
    p.add_argument("--camid", choices=["cam", "cam-seq"], default="cam",
                   help="what counts as one camera: the c<N> of the name (Market-1501), or c<N> and s<M> "
                        "together (vidanon crops: one clip time segment)")
    p.add_argument("--bootstrap", type=int, default=default("reid.bootstrap"), help="bootstrap resamples for the CIs (0 = none)")
    p.add_argument("--seed", type=int, default=default("reid.seed"), help="random seed of the bootstrap")
    p.add_argument("--device", default=default("device"), help="cpu, cuda or auto")
    p.add_argument("--out", help="write the results to this .json or .csv file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def run(args) -> int:
    from vidanon.stages import reid
    from vidanon.models import embed
    from vidanon.core.errors import VidanonError
    from vidanon.core.atomic import atomic_path

    query, gallery = args.query_dir or args.query, args.gallery_dir or args.gallery
    if not query or not gallery:
        raise VidanonError("give a query folder and a gallery folder (QUERY GALLERY, or --query-dir/--gallery-dir)")
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() not in (".json", ".csv"):
            raise VidanonError(f"--out {out}: expected a .json or .csv file name")
        if out.exists() and not args.overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    options = {"weights": args.weights} if args.weights else {}
    embedder = embed.get(args.model, device=args.device, **options)
    row, cmc = reid.evaluate_folders(query, gallery, embedder, camid=args.camid, n_boot=args.bootstrap,
                                     seed=args.seed)
    print(f"{embedder.name}: {row['n_queries']} queries ({row['n_identities']} identities) vs "
          f"{row['n_gallery']} gallery crops")
    print(f"  Rank-1 {row['rank1']:.1%} [95% CI {row['rank1_lo']:.1%}-{row['rank1_hi']:.1%}]  "
          f"Rank-5 {row['rank5']:.1%}  Rank-10 {row['rank10']:.1%}  mAP {row['mAP']:.1%}  mINP {row['mINP']:.1%}")
    print(f"  chance Rank-1 {row['chance_rank1']:.1%}, chance mAP {row['chance_mAP']:.1%}; "
          f"privacy level: {row['privacy_level']}")
    if out is not None:
        with atomic_path(out) as tmp:
            if out.suffix.lower() == ".json":
                tmp.write_text(json.dumps(row | {"cmc": [float(x) for x in cmc[:20]]}, indent=2, default=float))
            else:
                import pandas as pd

                pd.DataFrame([row]).to_csv(tmp, index=False)
        print(f"  written: {out}")
    return 0
