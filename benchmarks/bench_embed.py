"""Embedding speed per embedder and device, and CPU-vs-GPU agreement of the features.

Crops: the frames of the sample GIF head-pose-face-detection-female (upper body, 270x240 centre
region), repeated to --n crops. Prints crops/s per embedder and device and, when a GPU is present,
the largest absolute difference and the lowest cosine between CPU and GPU features of the same crop.
Usage: python benchmarks/bench_embed.py [--n 512] [--embedders osnet_x0_25_msmt17 ...]
"""

import argparse
import time

import numpy as np
import torch
from PIL import Image, ImageSequence

from vidanon.io import data
from vidanon.models import embed


def crops(n: int) -> list[np.ndarray]:
    with Image.open(data.fetch("female")) as im:
        frames = [np.asarray(f.convert("RGB"))[:, 120:360].copy() for f in ImageSequence.Iterator(im)]
    return [frames[i % len(frames)] for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512, help="number of crops")
    ap.add_argument("--embedders", nargs="+",
                    default=["osnet_x0_25_msmt17", "mobilenet_v2_imagenet", "hsv_histogram"])
    args = ap.parse_args()
    images = crops(args.n)
    devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    print(f"{args.n} crops {images[0].shape}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    for name in args.embedders:
        feats = {}
        for dev in devices:
            kw = {} if name == "hsv_histogram" else {"device": dev}
            if name == "hsv_histogram" and dev != "cpu":
                continue
            e = embed.get(name, **kw)
            e.embed(images[:8])  # warm-up (kernels, caches)
            if dev == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            feats[dev] = e.embed(images)
            if dev == "cuda":
                torch.cuda.synchronize()
            dt = time.perf_counter() - t
            print(f"{name:<24} {dev:<5} {args.n / dt:9.1f} crops/s  ({feats[dev].shape[1]}-d)")
        if len(feats) == 2:
            a, b = feats["cpu"], feats["cuda"]
            print(f"{name:<24} cpu vs cuda: max |diff| {np.abs(a - b).max():.2e}, "
                  f"min cosine {(a * b).sum(1).min():.6f}")


if __name__ == "__main__":
    main()
