"""Face identification leakage between original and anonymized crops, as the original study's
evaluation_face_iden.py: the share of crops where a face is still detected, and how often dlib's
ResNet face recognition still identifies the anonymized face (Rank-1 against the originals of the
same people in OTHER cameras, and the share verified as the true identity at dlib's 0.6 threshold).

Both folders hold Market-1501-named crops ({pid:04d}_c{cam}s{seq}_{frame:06d}_{k:02d}.jpg); an
anonymized crop keeps the name of the original it comes from. The face is located by dlib's HOG
detector in the ORIGINAL crop and described at the same place in both versions.
"""

from __future__ import annotations

import json
from pathlib import Path

NAME = "faceid"
HELP = "face detection rate and dlib face identification leakage of anonymized vs original crops"


def add_arguments(p) -> None:
    from vidanon.core.params import default

    p.add_argument("--original", required=True, help="folder of original crops (Market-1501 names)")
    p.add_argument("--anonymized", required=True, help="folder of the same crops anonymized (same names)")
    p.add_argument("--camid", choices=["cam", "cam-seq"], default="cam",
                   help="what counts as one camera: c<N> of the name, or c<N> and s<M> together")
    p.add_argument("--upsample", type=int, default=2, help="dlib HOG detector upsampling (finds smaller faces)")
    p.add_argument("--bootstrap", type=int, default=default("reid.bootstrap"), help="bootstrap resamples for the CIs (0 = none)")
    p.add_argument("--seed", type=int, default=default("reid.seed"), help="random seed of the bootstrap")
    p.add_argument("--out", help="write the summary to this .json file (and the per-file table beside it as .csv)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _line(name: str, r: dict) -> str:
    return (f"  {name:<11} Rank-1 {r['rank1']:.1%} [95% CI {r['rank1_lo']:.1%}-{r['rank1_hi']:.1%}] "
            f"(chance {r['chance_rank1']:.1%}), verified at 0.6: {r['verified']:.1%} "
            f"(another person within 0.6: {r['false_match']:.1%}), identified: {r['identified']:.1%}, "
            f"privacy level: {r['privacy_level']}")


def run(args) -> int:
    from vidanon.stages import faceid
    from vidanon.core.errors import VidanonError
    from vidanon.core.atomic import atomic_path

    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() != ".json":
            raise VidanonError(f"--out {out}: expected a .json file name")
        for p in (out, out.with_suffix(".csv")):
            if p.exists() and not args.overwrite:
                raise FileExistsError(f"{p} exists; pass --overwrite to replace it")
    per_file, s = faceid.evaluate_folders(args.original, args.anonymized, camid=args.camid, upsample=args.upsample,
                                          n_boot=args.bootstrap, seed=args.seed)
    print(f"{s['n_files']} crop pairs, a face found in {s['original_face_rate']:.1%} of the originals "
          f"({s['n_faces']} faces); still detected after anonymization: {s['anonymized_detection_rate']:.1%}")
    print(_line("original", s["reference"]))
    print(_line("anonymized", s["anonymized"]))
    if out is not None:
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(s, indent=2, default=float))
        with atomic_path(out.with_suffix(".csv")) as tmp:
            per_file.to_csv(tmp, index=False)
        print(f"  written: {out} and {out.with_suffix('.csv')}")
    return 0
