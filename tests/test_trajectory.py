"""Embedding trajectories: PCA against an eigen-decomposition reference, projection fitted on the
originals, one trace per track and method with the frame on hover, the t-SNE option."""

import numpy as np
import pandas as pd
import pytest

from vidanon.figures.drift import trajectory_figure
from vidanon.metrics.drift import pca_fit
from vidanon.stages.drift import project


def _emb(seed=0, n=6, d=16):
    rng = np.random.default_rng(seed)
    rows = []
    for tid, base in ((1, rng.normal(size=d)), (2, rng.normal(size=d))):
        for method, shift in (("original", 0.0), ("face-blur", 0.5)):
            for f in range(n):
                v = base + shift + 0.1 * f * np.eye(d)[0] + 0.01 * rng.normal(size=d)
                rows.append({"clip": "c", "method": method, "track_id": tid, "pid": tid, "frame": 2 * f,
                             "model": "m", "emb": (v / np.linalg.norm(v)).astype(np.float32)})
    return pd.DataFrame(rows)


def test_pca_matches_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 5)) * [5, 3, 1, 0.5, 0.1]
    mean, comps, ratio = pca_fit(x)
    w, v = np.linalg.eigh(np.cov(x.T))
    ref = v[:, ::-1][:, :2].T
    assert np.allclose(np.abs((comps * ref).sum(1)), 1, atol=1e-8)
    assert np.allclose(ratio, w[::-1][:2] / w.sum())
    assert np.allclose(mean, x.mean(0))


def test_projection_is_fitted_on_originals():
    emb = _emb()
    pts, info = project(emb)
    assert "originals" in info["projection"]
    orig = pts[pts["method"] == "original"]
    assert abs(orig["x"].mean()) < 1e-9 and abs(orig["y"].mean()) < 1e-9  # centred on the originals
    assert len(pts) == len(emb) and "emb" not in pts


def test_figure_traces_and_hover_frames():
    pts, info = project(_emb())
    fig = trajectory_figure(pts, info)
    assert len(fig.data) == 4  # 2 tracks x 2 methods
    tr = fig.data[0]
    assert "frame" in tr.hovertemplate
    assert list(np.asarray(tr.customdata)[:, 0]) == [0, 2, 4, 6, 8, 10]
    assert sum(t.showlegend for t in fig.data) == 2


def test_tsne_option_and_bad_projection():
    pts, info = project(_emb(), "tsne")
    assert np.isfinite(pts[["x", "y"]].to_numpy()).all() and info["explained"] is None
    with pytest.raises(Exception, match="pca"):
        project(_emb(), "umap")
