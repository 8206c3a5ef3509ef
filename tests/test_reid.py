"""The re-ID stage on real crops: torchreid equivalence on a real OSNet matrix, the protocols,
the attackers, and the stage writing its tables."""

import warnings

import numpy as np
import pandas as pd
import pytest
from reid_crops import head_pose_manifest, one_by_one_crops

from vidanon.core.versions import camids_for
from vidanon.metrics import attacks, ranking
from vidanon.models import embed
from vidanon.models.embed import embed_files
from vidanon.stages import reid


@pytest.mark.slow
def test_equals_torchreid_on_a_real_osnet_matrix(data_dir, weights_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torchreid.reid.metrics.rank import evaluate_rank as tr_rank
    images, pids, moments = one_by_one_crops()
    f = embed.get("osnet_x0_25_msmt17").embed(list(images))
    q = moments == 1
    dist = ranking.cosine_distmat(f[q], f)  # the gallery holds each query's own crop: same camid, removed
    args = (dist, pids[q], pids, moments[q], moments)
    ref_cmc, ref_map = tr_rank(*args, max_rank=10, use_cython=False)
    r = ranking.evaluate_rank(*args, max_rank=10)
    np.testing.assert_allclose(r.cmc, ref_cmc, atol=1e-6)
    assert r.mAP == pytest.approx(ref_map, abs=1e-9)
    assert r.rank(1) >= 0.8  # OSNet finds these six people again


def test_adaptive_attacker_undoes_a_learnable_distortion():
    # unit test on synthetic features (no model): an 'anonymization' that mixes feature dimensions
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(8, 16))
    pids = np.repeat(np.arange(8), 10)
    orig = centres[pids] + 0.3 * rng.normal(size=(80, 16))
    mix = np.eye(16) + 0.9 * rng.normal(size=(16, 16))
    anon = orig @ mix + rng.normal(size=(80, 16))
    norm = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    o, a = norm(orig), norm(anon)
    cams = np.tile([0, 1], 40)
    naive = ranking.evaluate_rank(ranking.cosine_distmat(a, o), pids, pids, cams, cams)
    adapted = attacks.adapt_queries(a, pids, train_anon=a, train_orig=o, train_pids=pids, alpha=0.01)
    adaptive = ranking.evaluate_rank(ranking.cosine_distmat(adapted, o), pids, pids, cams, cams)
    assert adaptive.mAP > naive.mAP + 0.1


def test_strongest_attack_prefers_naive_on_ties_and_names_the_winner():
    rows = [dict(attacker="naive", direction="anonymized->original", rank1=0.4, mAP=0.3, note=""),
            dict(attacker="parrot", direction="anonymized->anonymized", rank1=0.4, mAP=0.3, note="p"),
            dict(attacker="learned", direction="anonymized->original", rank1=np.nan, mAP=np.nan, note="")]
    best = attacks.strongest(rows)
    assert best["attacker"] == "adaptive" and best["rank1"] == 0.4 and best["note"].endswith(": naive")
    rows[1]["mAP"] = 0.5
    best = attacks.strongest(rows)
    assert best["note"] == "strongest of naive/parrot/learned on these queries: parrot; p"
    assert best["direction"] == "anonymized->original"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, data_dir, weights_dir):
    return head_pose_manifest(tmp_path_factory.mktemp("crops"))


@pytest.mark.slow
def test_evaluate_manifest_tables(manifest):
    summary, per_id, ranked = reid.evaluate_manifest(
        manifest, [embed.get("osnet_x0_25_msmt17"), embed.get("hsv_histogram")], n_boot=50)
    assert list(summary.columns) == reid.SUMMARY_COLUMNS
    ref = summary[(summary.attacker == "reference") & (summary.protocol == "cross-clip")]
    assert len(ref) == 2 and (ref.direction == "original->original").all()
    # two people, each query's clip excluded: chance Rank-1 = share of the true person's crops
    assert ref.chance_rank1.between(0.2, 0.6).all() and (ref.rank1 >= ref.chance_rank1).all()
    osnet = summary[(summary.embedder == "osnet_x0_25_msmt17") & (summary.protocol == "cross-clip")]
    assert set(osnet.attacker) == {"reference", "naive", "parrot", "learned", "adaptive"}
    for _, rows in osnet[osnet.attacker != "reference"].groupby(["method", "mode"]):
        best = rows[rows.attacker != "adaptive"].rank1.max()
        adaptive = rows[rows.attacker == "adaptive"].iloc[0]
        assert adaptive.rank1 == best >= rows[rows.attacker == "naive"].rank1.iloc[0]
        assert adaptive.note.startswith("strongest of naive/parrot/learned")
    naive = osnet[osnet.attacker == "naive"].iloc[0]
    assert naive.rank1 >= 0.75 and naive.privacy_level == "poor"  # grey heads barely stop body re-ID
    assert naive.rank1_lo <= naive.rank1 <= naive.rank1_hi
    assert naive.n_identities == 2 and naive.n_queries == 16
    assert set(per_id.pid) == {1, 2}
    assert ranked.groupby(["method", "embedder", "protocol", "query_path"]).size().max() == 5
    assert ranked.is_match.any()


def test_protocol_camids():
    df = pd.DataFrame({"clip": ["a", "a", "b"], "camid": [1001, 1002, 2001]})
    assert list(camids_for(df, "cross-clip")) == [0, 0, 1]
    assert list(camids_for(df, "cross-segment")) == [1001, 1002, 2001]
    with pytest.raises(ValueError, match="protocol"):
        camids_for(df, "same-frame")


def test_manifest_errors():
    with pytest.raises(ValueError, match="no crop with a known identity"):
        reid.evaluate_manifest(pd.DataFrame({"pid": [-1], "method": ["original"]}), [])
    with pytest.raises(ValueError, match="no 'original'"):
        reid.evaluate_manifest(pd.DataFrame({"pid": [1], "method": ["face-blur"]}), [])


@pytest.mark.slow
def test_stage_writes_tables(tmp_path, manifest):
    from vidanon.core.context import Context
    from vidanon.core.params import load

    (tmp_path / "p.yaml").write_text("name: t\nclips: [{id: female, sample: female}]\n"
                                     "reid: {embedders: [hsv_histogram], bootstrap: 20, protocols: [cross-clip]}\n")
    ctx = Context(load(tmp_path / "p.yaml"), tmp_path, "03_reid")
    crops_dir = ctx.work / "crops"
    crops_dir.mkdir(parents=True)
    rel = manifest.assign(path=[str(__import__("os").path.relpath(p, crops_dir)) for p in manifest.path])
    rel.to_parquet(crops_dir / "manifest.parquet")
    summary = reid.run(ctx)["reid_summary"]
    assert set(summary.method) == {"original", "hide-head"}
    for t in ("reid_summary", "reid_per_identity", "reid_ranked"):
        assert (ctx.figures / "tables" / f"{t}.csv").is_file()
    assert not ctx.load_metrics("reid_ranked").query_path.str.startswith("/").any()


def test_feature_cache_embeds_only_new_crops(tmp_path):
    # unit test with a counting stand-in embedder (no model): what matters is which crops it sees
    import cv2

    class Counting:
        name = "counting"
        seen = 0

        def embed(self, crops):
            Counting.seen += len(crops)
            return np.stack([c.reshape(-1, 3).mean(axis=0) for c in crops]).astype(np.float32)

    paths = []
    for i in range(4):
        paths.append(tmp_path / f"c{i}.png")
        cv2.imwrite(str(paths[-1]), np.full((8, 4, 3), 40 * i, np.uint8))
    cache = tmp_path / "features"
    first = embed_files(Counting(), paths[:3], cache_dir=cache)
    files = list(cache.glob("counting-*.npz"))
    assert Counting.seen == 3 and len(files) == 1
    again = embed_files(Counting(), paths, cache_dir=cache)
    assert Counting.seen == 4  # only the new crop
    np.testing.assert_array_equal(again[:3], first)
    np.testing.assert_array_equal(again, embed_files(Counting(), paths))
    files[0].write_bytes(b"broken")
    np.testing.assert_array_equal(embed_files(Counting(), paths, cache_dir=cache), again)


def test_leak_table_takes_the_strongest_attack_per_view():
    from vidanon.stages.reid import describe_leaks, leak_table

    def row(method, mode, attacker, rank1, chance=0.1, lo=None, hi=None, embedder="osnet"):
        return dict(method=method, embedder=embedder, protocol="cross-clip", attacker=attacker, mode=mode,
                    direction="anonymized->original", rank1=rank1, rank1_lo=rank1 - 0.05 if lo is None else lo,
                    rank1_hi=rank1 + 0.05 if hi is None else hi, chance_rank1=chance, n_queries=50)

    summary = pd.DataFrame([
        row("original", "aligned", "reference", 1.0), row("original", "person-only", "reference", 0.9),
        row("original", "context", "reference", 0.95),
        row("blur", "aligned", "naive", 0.2), row("blur", "aligned", "parrot", 0.8),
        row("blur", "person-only", "naive", 0.1), row("blur", "person-only", "parrot", 0.3, embedder="hsv"),
        row("blur", "context", "naive", 0.7), row("blur", "context", "parrot", 1.0, chance=1.0),  # one identity
        row("blur", "independent", "naive", 0.99),  # not a leak view
    ])
    t = leak_table(summary)
    assert list(t["view"]) == ["full crop", "person only", "context only"] * 2
    blur = t[t["method"] == "blur"].set_index("view")
    assert blur.loc["full crop", "rank1"] == 0.8 and blur.loc["person only", "attack"] == "hsv / cross-clip / parrot"
    assert blur.loc["context only", "rank1"] == 0.7  # the one-identity gallery asks no question
    lines = describe_leaks(t)
    assert len(lines) == 1 and lines[0].startswith("**blur**: the context re-identifies it more than the person")
    assert "person only 30% [25, 35] (chance 10%, hsv / cross-clip / parrot)" in lines[0]
    assert leak_table(summary[summary["mode"] == "independent"]).empty
