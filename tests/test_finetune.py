"""The fine-tuned attacker (vidanon.models.embed.finetune, 03's ``finetuned`` rows): its batches and
loss against brute force, and, on synthetic crops where the answer is known, that fine-tuning on other
identities learns the cue an anonymization leaves and the pretrained model misses."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from vidanon.metrics import ranking
from vidanon.models.embed import finetune as ft
from vidanon.stages import reid


def banded_crops(n_ids: int = 12, per: int = 8, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Synthetic 256x128 crops, not people: each identity is the colours of two bands at fixed
    places; everything else is clutter drawn anew for every crop (coarse random colour blocks). A
    stand-in for an anonymization that leaves one cue (the clothes' colours) under a lot of change."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (n_ids, 2, 3))
    crops, pids = [], []
    for i in range(n_ids):
        for _ in range(per):
            img = cv2.resize(rng.integers(0, 256, (16, 8, 3)).astype(np.uint8), (128, 256),
                             interpolation=cv2.INTER_NEAREST)
            img[96:120, 16:112] = palette[i, 0]
            img[150:174, 16:112] = palette[i, 1]
            crops.append(img)
            pids.append(i)
    return crops, np.array(pids)


def test_pk_batches_hold_p_identities_of_k_rows():
    pids = np.repeat(np.arange(10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    batches = ft.pk_batches(pids, p=4, k=3, rng=np.random.default_rng(0))
    for b in batches:
        ids, counts = np.unique(pids[b], return_counts=True)
        assert 2 <= len(ids) <= 4 and (counts == 3).all()
    used = np.unique(np.concatenate(batches))
    assert len(used) >= 0.8 * len(pids)  # about every row once an epoch (a short last batch may drop)


def test_batch_hard_triplet_equals_brute_force():
    import torch

    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 5))
    y = np.repeat(np.arange(4), 3)
    want = []
    for i in range(12):
        d = np.linalg.norm(x - x[i], axis=1)
        want.append(max(0.0, d[(y == y[i])].max() - d[(y != y[i])].min() + 0.3))
    got = ft.batch_hard_triplet(torch.tensor(x), torch.tensor(y), margin=0.3)
    assert float(got) == pytest.approx(np.mean(want), rel=1e-6)


def test_finetuning_on_other_identities_learns_the_cue(weights_dir, tmp_path):
    """Known answer: the pretrained OSNet is distracted by the clutter; fine-tuned on six OTHER identities
    it ranks the six held-out ones by their bands. Same seed, same model; a second call loads it."""
    crops, pids = banded_crops()
    cams = np.arange(len(pids)) % 8
    held = pids >= 6
    keys = [f"crop{i}" for i in range(len(pids))]

    def rank1(feats):
        d = ranking.cosine_distmat(feats[held], feats[held])
        return ranking.evaluate_rank(d, pids[held], pids[held], cams[held], cams[held], max_rank=1).rank(1)

    from vidanon.models import embed

    before = rank1(embed.get("osnet_x0_25_msmt17").embed(crops))
    train = [crops[i] for i in np.flatnonzero(~held)]
    recipe = ft.Recipe(epochs=6)
    model = ft.finetune(train, pids[~held], recipe=recipe, crop_keys=[keys[i] for i in np.flatnonzero(~held)],
                        cache_dir=tmp_path)
    feats = model.embed(crops)
    after = rank1(feats)
    assert model.seconds > 0 and after >= 0.8 and after >= before + 0.25, (before, after)
    again = ft.finetune(train, pids[~held], recipe=recipe, crop_keys=[keys[i] for i in np.flatnonzero(~held)],
                        cache_dir=tmp_path)
    assert again.seconds == 0 and np.allclose(again.embed(crops), feats, atol=1e-5)
    # kept with its weights, it embeds with ONNX Runtime: torch's features to 1e-5
    assert model.zoo.onnx is not None and list(tmp_path.glob("*-finetuned-*.onnx"))
    model.zoo.onnx = None
    np.testing.assert_allclose(model.embed(crops), feats, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="at least 2 identities"):
        ft.finetune(train[:3], np.zeros(3, int), recipe=recipe)


def test_no_query_is_ranked_by_a_model_that_saw_its_identity(tmp_path, monkeypatch):
    """finetuned_distmat with a stand-in for the training (labelled as such: it records the identities
    it was given and embeds by pid): each row's distances come from the fold that left its pid out."""
    crops, pids = banded_crops(n_ids=6, per=2)
    rows = []
    for i, (img, pid) in enumerate(zip(crops, pids)):
        path = tmp_path / f"{i:03d}.png"
        cv2.imwrite(str(path), img)
        rows.append({"path": str(path), "pid": int(pid), "clip": f"c{i % 2}", "camid": i % 2})  # a twin per clip
    anon = pd.DataFrame(rows)
    seen = []

    class StandIn:
        seconds = 1.0

        def __init__(self, trained_on):
            self.trained_on = set(int(p) for p in trained_on)

        def embed(self, batch):
            return np.eye(8)[[7 if p in self.trained_on else p for p in pids]]  # unseen pids stay apart

    def fake_finetune(train_crops, train_pids, **kw):
        seen.append(set(int(p) for p in train_pids))
        return StandIn(train_pids)

    monkeypatch.setattr(ft, "finetune", fake_finetune)
    dist, note, seed_rank1 = reid.finetuned_distmat(anon, recipe=ft.Recipe(), folds=3)
    assert seed_rank1 == {}  # one seed: no spread to report
    fold = reid.identity_folds(pids, 3)
    assert len(seen) == 3 and all(len(s) == 4 for s in seen)
    for i, pid in enumerate(pids):
        assert pid not in seen[fold[i]]
    same = pids[:, None] == pids[None, :]
    assert np.allclose(dist[same], 0.0)  # each query's own identity is told apart by its fold's model
    assert "leave-identities-out" in note
    assert reid.finetuned_distmat(anon[anon.pid < 2], recipe=ft.Recipe(), folds=2) is None  # too few identities

    # several seeds: one model per fold and seed, each seed with its own folds; the attack is their mean
    seen.clear()
    tuned = reid.finetuned_distmat(anon, recipe=ft.Recipe(seed=5), folds=3, seeds=2)
    assert len(seen) == 6 and "ensemble of 2 seeds" in tuned.note
    for s, seed in enumerate((5, 6)):
        fold = reid.identity_folds(pids, 3, seed)
        for i, pid in enumerate(pids):
            assert pid not in seen[3 * s + fold[i]]
    assert np.allclose(tuned.dist[same], 0.0)  # the mean of two seeds that each tell the identities apart
    # each seed alone under each protocol: the stand-in separates every identity, so Rank-1 100 % each
    assert set(tuned.seed_rank1) == {"cross-clip", "cross-segment"}
    assert all(np.allclose(r, 1.0) for r in tuned.seed_rank1.values())
    assert not np.array_equal(reid.identity_folds(pids, 3, 5), reid.identity_folds(pids, 3, 6))

def test_training_in_a_worker_gives_the_same_model(weights_dir, tmp_path):
    """The executor never changes a result: a fold trained in a worker process (one thread) and one
    trained here, where torch has more threads, give the same model (the training runs on
    TRAIN_THREADS threads wherever it runs)."""
    import torch

    from vidanon.core import executor

    crops, pids = banded_crops(n_ids=4, per=4)
    paths = []
    for i, img in enumerate(crops):
        paths.append(str(tmp_path / f"{i:02d}.png"))
        cv2.imwrite(paths[-1], img[:, :, ::-1])
    recipe = ft.Recipe(epochs=1)
    job = (paths, [f"k{i}" for i in range(len(paths))], pids, np.arange(len(paths)), recipe, None)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        here, _ = reid._finetune_fold(job)
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(threads)
    pool = executor.Local(2)
    try:
        there, _ = pool.map(reid._finetune_fold, [job, job])[0]
    finally:
        pool.close()
    np.testing.assert_array_equal(here, there)


def test_an_ensemble_of_seeds_names_each_seeds_rank1():
    """The note of a several-seed attack gives the range of the seeds' own Rank-1 under its protocol."""
    tuned = reid.Tuned(np.zeros((2, 2)), "", {"cross-clip": [0.4, 0.61, 0.5]})
    assert reid._seed_spread(tuned, "cross-clip") == "; each seed alone: Rank-1 40.0-61.0 %"
    assert reid._seed_spread(tuned, "cross-segment") == ""
    assert reid._seed_spread(reid.Tuned(np.zeros((2, 2)), "", {}), "cross-clip") == ""


def test_the_finetuned_row_carries_the_seeds_spread():
    """_attack_method scores the ensemble's distances as the 'finetuned' attacker, its note naming the seeds'
    own Rank-1 under the protocol it is scored under (synthetic features, not a model)."""
    from functools import partial

    rng = np.random.default_rng(0)
    pids = np.repeat(np.arange(4), 2)
    rows = pd.DataFrame({"path": [f"{i}.png" for i in range(8)], "pid": pids, "clip": [f"c{i % 2}" for i in range(8)],
                         "camid": np.arange(8) % 2, "frame": np.arange(8), "track_id": pids})
    feats = rng.normal(size=(8, 4)) + 3 * np.eye(4)[pids]
    q = reid.Side(rows, feats, pids, reid.camids_for(rows, "cross-clip"))
    tuned = reid.Tuned(1.0 - (pids[:, None] == pids[None, :]), "fine-tuned", {"cross-clip": [0.5, 0.75]})
    out = reid._Tables()
    label = partial(reid._label, method="m", embedder="e", protocol="cross-clip", mode="aligned")
    reid._attack_method(out, label, anon=rows, orig=rows, q=q, g=q, reverse=False, adaptive=True,
                        scoring={"n_boot": 0, "seed": 0, "top": 1}, protocol="cross-clip", finetuned=tuned)
    row = next(r for r in out.rows if r["attacker"] == "finetuned")
    assert row["rank1"] == 1.0 and row["note"] == "fine-tuned; each seed alone: Rank-1 50.0-75.0 %"
    assert out.rows[-1]["attacker"] == "adaptive" and "finetuned" in out.rows[-1]["note"]
