"""Perceptual distances: LPIPS against the lpips package when its backbone is present; the proxy's
behaviour and name; auto-selection never downloads in tests."""

import numpy as np
import pytest
import torch

from vidanon.models.embed import perceptual
from vidanon.core.errors import WeightsError


def _images(n=2, h=64, w=48, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 5) % 256, (yy * 3) % 256, ((xx + yy) * 2) % 256], -1).astype(np.uint8)
    base = np.repeat(base[None], n, 0)
    noisy = lambda s: np.clip(base + rng.normal(0, s, base.shape), 0, 255).astype(np.uint8)  # noqa: E731
    return base, noisy(10), noisy(60)


@pytest.fixture
def no_download(monkeypatch):
    def refuse(*a, **k):
        raise OSError("tests never download")
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


@pytest.fixture(scope="module")
def proxy():
    return perceptual.MobileNetFeatureDistance()


def test_proxy_is_named_for_what_it_is(proxy):
    assert "LPIPS" not in proxy.name and "MobileNetV2" in proxy.name


def test_proxy_zero_for_identical_and_grows_with_noise(proxy):
    base, small, large = _images()
    assert np.allclose(proxy.distance(base, base), 0, atol=1e-6)
    d_small, d_large = proxy.distance(base, small), proxy.distance(base, large)
    assert d_small.shape == (2,) and (d_small > 0).all() and (d_large > d_small).all()
    with pytest.raises(ValueError, match="uint8"):
        proxy.distance(base.astype(float), base.astype(float))


def test_distances_of_pairs_equal_distance(proxy):
    """``distances`` (each image's features once) gives what ``distance`` gives on the same pairs."""
    base, small, large = _images()
    images = np.concatenate([base, small, large])  # rows 0-1 base, 2-3 small, 4-5 large
    pairs = [(0, 2), (1, 3), (0, 4), (4, 5), (3, 3)]
    got = proxy.distances(images, pairs)
    want = proxy.distance(images[[0, 1, 0, 4, 3]], images[[2, 3, 4, 5, 3]])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert got[-1] == 0
    with pytest.raises(ValueError, match="indices"):
        proxy.distances(images, [(0, 6)])


def test_auto_falls_back_to_the_named_proxy(no_download, monkeypatch):
    monkeypatch.setattr(perceptual, "find_alexnet", lambda setting=None: None)
    assert perceptual.get("auto").name == perceptual.PROXY_NAME
    with pytest.raises(WeightsError, match="alexnet"):
        perceptual.get("lpips-alex")


def test_bad_backbone_setting_is_an_error(tmp_path):
    with pytest.raises(WeightsError, match="lpips_backbone"):
        perceptual.get("auto", backbone=tmp_path / "missing.pth")


def test_backbone_loader_copies_torchvision_features(tmp_path, no_download):
    """Unit test of the loading path with a RANDOM AlexNet (not a metric value): every backbone
    tensor of the LPIPS model must equal the checkpoint's."""
    import torchvision

    sd = torchvision.models.alexnet(weights=None).state_dict()
    path = tmp_path / perceptual.ALEXNET_FILE
    torch.save(sd, path)
    m = perceptual.LPIPSAlex(backbone=path)
    assert m.name == "LPIPS (alex, v0.1)"
    for k, v in m.model.net.state_dict().items():
        slice_, idx, p = k.split(".")
        assert torch.equal(v, sd[f"features.{idx}.{p}"])
    base, small, _ = _images()
    assert np.allclose(m.distance(base, base), 0, atol=1e-6)


def _hub_alexnet():
    from pathlib import Path
    p = Path(torch.hub.get_dir()) / "checkpoints" / perceptual.ALEXNET_FILE
    return p if p.is_file() else None


@pytest.mark.skipif(_hub_alexnet() is None,
                    reason="torchvision's AlexNet weights (alexnet-owt-7be5be79.pth) are not in torch hub's cache, "
                           "where lpips.LPIPS(net='alex') loads them from")
def test_lpips_matches_the_lpips_package():
    import lpips

    ours = perceptual.LPIPSAlex(backbone=_hub_alexnet(), download=False)
    ref = lpips.LPIPS(net="alex", version="0.1", verbose=False).eval()  # the package's own loading
    base, small, large = _images()
    t = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    with torch.no_grad():
        expected = ref(t(base), t(large)).reshape(-1).numpy()
    assert np.allclose(ours.distance(base, large), expected, atol=1e-6)


def test_proxy_on_onnx_runtime_equals_torch(data_dir):
    """The proxy's default runtime on the CPU (ONNX Runtime, about 7x faster) gives torch's distances on
    real frames of two sizes, to 1e-6."""
    from vidanon.io import data
    from vidanon.io.video import read_frames

    frames = np.stack([rgb for _, rgb in read_frames(data.fetch("walking"), 0, 4)])
    torch_, onnx_ = (perceptual.MobileNetFeatureDistance(runtime=r) for r in ("torch", "onnx"))
    assert onnx_._session is not None and torch_._session is None
    for a, b in ((frames[:2], frames[2:]), (frames[:2, ::2, ::2], frames[2:, ::2, ::2])):
        np.testing.assert_allclose(onnx_.distance(a, b), torch_.distance(a, b), rtol=0, atol=1e-6)
