"""The fine-tuned parrot attacker's model: a model-zoo OSNet trained further on crops anonymized with the
method under attack (Hanisch et al. 2023, "A False Sense of Privacy", arXiv 2304.01635: an attacker who
knows the method anonymizes labelled footage of their own and re-trains the re-ID model on it).

The recipe is torchreid's softmax + triplet one, small enough for a CPU: the zoo checkpoint's backbone and
a new classifier over the training identities; Adam (lr 3e-4, the classifier 10x), batches of ``p``
identities x ``k`` crops, loss = cross-entropy with label smoothing 0.1 + batch-hard triplet (margin
0.3) on the features, random horizontal flips, ``epochs`` passes. Seeded (torch, numpy) and run in a
fixed order, so the same crops give the same model. Its features are those of
:class:`~vidanon.models.embed.osnet.OSNetEmbedder`: the 512-d eval-mode vector, L2-normalized.

The trained weights are kept (03_reid: in work/<run>/finetuned/) under a hash of the training crops'
contents, their identities and the settings, so a re-run trains nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vidanon.models.embed import check_crops, torch_batches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """Settings of one fine-tuning: base checkpoint name, passes over the training crops, identities
    (``p``) x crops each (``k``) per batch, learning rate, seed."""

    base: str = "osnet_x0_25_msmt17"
    epochs: int = 4
    p: int = 8
    k: int = 4
    lr: float = 3e-4
    seed: int = 0


def pk_batches(pids: np.ndarray, *, p: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch of P x K batches (every row of every identity used about once).

    Parameters
    ----------
    pids : (N,) array of int
        Identity of each training row.
    p, k : int
        Identities per batch, rows per identity (drawn with replacement for identities with fewer
        than ``k`` rows).
    rng : numpy.random.Generator
        Deals the identities in a random order.

    Returns
    -------
    list of (p * k,) int arrays
        Row indices of each batch; a last batch with fewer than 2 identities is dropped (a triplet
        needs a negative), so it may hold fewer than ``p`` identities but at least 2.
    """
    pids = np.asarray(pids)
    chunks = []  # (pid, k rows)
    for pid in np.unique(pids):
        rows = rng.permutation(np.flatnonzero(pids == pid))
        for s in range(0, max(len(rows), k), k):
            part = rows[s:s + k]
            if len(part) < k:
                part = np.concatenate([part, rng.choice(rows, k - len(part))])
            chunks.append((pid, part))
    order = rng.permutation(len(chunks))
    batches, cur, seen = [], [], set()
    for i in order:
        pid, part = chunks[i]
        if pid in seen:  # one chunk per identity per batch
            continue
        cur.append(part)
        seen.add(pid)
        if len(cur) == p:
            batches.append(np.concatenate(cur))
            cur, seen = [], set()
    if len(cur) >= 2:
        batches.append(np.concatenate(cur))
    return batches


def batch_hard_triplet(feats, labels, margin: float = 0.3):
    """Batch-hard triplet loss (Hermans et al. 2017, "In Defense of the Triplet Loss").

    Parameters
    ----------
    feats : (B, D) torch.Tensor
        Features of the batch (not normalized; Euclidean distance).
    labels : (B,) torch.Tensor of int
        Identity of each row.
    margin : float
        Hinge margin.

    Returns
    -------
    torch.Tensor
        Scalar: mean over the anchors that have a positive and a negative of
        ``max(0, d(farthest positive) - d(nearest negative) + margin)``; 0 (with a gradient) when
        no anchor has both.
    """
    import torch

    d = torch.cdist(feats, feats)
    same = labels[:, None] == labels[None, :]
    pos = torch.where(same, d, torch.zeros_like(d)).max(1).values
    neg = torch.where(~same, d, torch.full_like(d, float("inf"))).min(1).values
    ok = torch.isfinite(neg) & (same.sum(1) > 1)
    if not bool(ok.any()):
        return d.sum() * 0.0
    return torch.relu(pos[ok] - neg[ok] + margin).mean()


def training_key(crop_keys: list[str], pids, recipe: Recipe) -> str:
    """Hash of what a fine-tuned model depends on.

    Parameters
    ----------
    crop_keys : list of str
        Content hashes of the training crops' files.
    pids : sequence of int
        Identity of each training crop.
    recipe : Recipe
        The training settings.

    Returns
    -------
    str
        Hex digest; the cached weights' file name holds its first 24 characters.
    """
    from vidanon.io import cache

    return cache.key({"crops": list(crop_keys), "pids": [int(x) for x in pids], "recipe": asdict(recipe), "v": 3})


class FinetunedOSNet:
    """An OSNet re-ID embedder fine-tuned on anonymized crops (see the module doc).

    Parameters
    ----------
    zoo : vidanon.models.embed.osnet.OSNetEmbedder
        The base checkpoint's embedder (torch runtime) whose ``model`` was trained further; its
        ``embed`` gives the features.
    key : str
        Its training key (:func:`training_key`); ``description`` holds it, so feature caches of two
        fine-tunings never mix.
    seconds : float
        Training time in seconds (0 when loaded from the cache).
    folder : str or Path, optional
        Where its weights are kept: the network is exported there once and embeds with ONNX Runtime
        (features equal to torch's to about 1e-6). None (default): torch.
    """

    kind = "reid"

    def __init__(self, zoo, *, key: str, seconds: float, folder: str | Path | None = None):
        zoo.model.eval()
        self.zoo, self.name, self.key, self.seconds = zoo, zoo.name, key, seconds
        self.description = f"{zoo.name} fine-tuned on anonymized crops (training key {key[:16]})"
        if folder is not None and key:  # embedded with ONNX Runtime, as the zoo models (several times faster)
            from vidanon.models.embed import OnnxModule

            zoo.onnx = OnnxModule(zoo.model, (1, 3, 256, 128), f"{zoo.name}-finetuned-{key[:24]}", folder=folder)

    def embed(self, crops) -> np.ndarray:
        """Features of crops, as the base embedder computes them.

        Parameters
        ----------
        crops : list of (H, W, 3) uint8 arrays
            RGB crops of any size (resized to 256 x 128).

        Returns
        -------
        (N, 512) float32 array
            L2-normalized eval-mode features.
        """
        return self.zoo.embed(crops)


def _build(base: str, n_classes: int):
    """The zoo embedder ``base`` on the CPU (torch runtime: its model is trained, not an ONNX export),
    its model given a new classifier of ``n_classes`` (the backbone's weights loaded)."""
    import torch

    from vidanon.models.embed.osnet import OSNetEmbedder

    zoo = OSNetEmbedder(base, device="cpu", runtime="torch")  # resolves and checks the checkpoint
    zoo.model.classifier = torch.nn.Linear(zoo.model.classifier.in_features, n_classes)
    return zoo


def finetune(crops: list[np.ndarray], pids, *, recipe: Recipe = Recipe(), crop_keys: list[str] | None = None,
             cache_dir: str | Path | None = None) -> FinetunedOSNet:
    """Fine-tune ``recipe.base`` on anonymized crops of known identities.

    Parameters
    ----------
    crops : list of (H, W, 3) uint8 arrays
        RGB training crops of any size (resized to 256 x 128).
    pids : sequence of int
        Identity of each crop; at least 2 identities.
    recipe : Recipe
        Base checkpoint and training settings.
    crop_keys : list of str, optional
        Content hashes of the crops' files; with ``cache_dir``, the same keys, pids and recipe load
        the trained weights instead of training.
    cache_dir : str or Path, optional
        Where the trained weights are kept.

    Returns
    -------
    FinetunedOSNet
        The trained embedder (its ``seconds``: the training time, 0 when loaded).

    Raises
    ------
    ValueError
        Fewer than 2 identities, or not one pid per crop.
    """
    import torch

    pids = np.asarray(pids, int)
    crops = check_crops(crops)
    if len(crops) != len(pids):
        raise ValueError(f"finetune: {len(crops)} crops but {len(pids)} pids")
    classes = np.unique(pids)
    if classes.size < 2:
        raise ValueError(f"finetune: at least 2 identities are needed, got {classes.size}")
    key = training_key(crop_keys, pids, recipe) if crop_keys is not None else None
    path = Path(cache_dir) / f"{recipe.base}-{key[:24]}.pt" if key and cache_dir else None
    torch.manual_seed(recipe.seed)
    zoo = _build(recipe.base, classes.size)
    model = zoo.model
    if path is not None and path.is_file():
        model.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
        return FinetunedOSNet(zoo, key=key, seconds=0.0, folder=path.parent)
    threads = torch.get_num_threads()
    torch.set_num_threads(TRAIN_THREADS)
    try:
        return _train(zoo, crops, pids, classes, recipe=recipe, key=key, path=path)
    finally:
        torch.set_num_threads(threads)


#: Threads of the training: the same in every process (a worker of the executor runs one), since the
#: sums of a training step come out in another order with another thread count and the trained model
#: (and the attack's Rank-1, by points) would then depend on where it ran.
TRAIN_THREADS = 1


def _train(zoo, crops, pids, classes, *, recipe: Recipe, key: str | None, path: Path | None) -> FinetunedOSNet:
    import torch

    model = zoo.model
    t0 = time.perf_counter()
    labels = torch.from_numpy(np.searchsorted(classes, pids))
    import cv2

    small = [cv2.resize(c, (128, 256), interpolation=cv2.INTER_LINEAR) for c in crops]  # uint8: memory / 4
    rng = np.random.default_rng(recipe.seed)
    head = list(model.classifier.parameters())
    body = [q for n, q in model.named_parameters() if not n.startswith("classifier.")]
    opt = torch.optim.Adam([{"params": body, "lr": recipe.lr}, {"params": head, "lr": 10 * recipe.lr}],
                           weight_decay=5e-4)
    ce = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    model.to(memory_format=torch.channels_last)  # oneDNN's convolutions: a training step 1.4x faster on the CPU
    model.train()
    model.loss = "triplet"  # torchreid's OSNet in train mode then returns (logits, features), not logits only
    for epoch in range(recipe.epochs):
        losses = []
        for idx in pk_batches(pids, p=recipe.p, k=recipe.k, rng=rng):
            x = next(torch_batches([small[i] for i in idx], (256, 128), "cpu", len(idx)))
            flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
            x = torch.where(flip[:, None, None, None], x.flip(3), x).contiguous(memory_format=torch.channels_last)
            logits, feats = model(x)
            loss = ce(logits, labels[idx]) + batch_hard_triplet(feats, labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        log.debug("finetune %s: epoch %d, loss %.3f", recipe.base, epoch + 1, float(np.mean(losses or [np.nan])))
    seconds = time.perf_counter() - t0
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    if path is not None:
        from vidanon.core.atomic import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save(model.state_dict(), tmp)
    return FinetunedOSNet(zoo, key=key or "", seconds=seconds, folder=path.parent if path is not None else None)
