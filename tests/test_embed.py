"""Embedders on real crops of the sample videos: shape, unit norm, and OSNet separating people."""

import numpy as np
import pytest
from reid_crops import one_by_one_crops

from vidanon.models import embed
from vidanon.core.errors import BackendUnavailable, VidanonError

BODY = ["osnet_x0_25_msmt17", "osnet_x0_25_market1501", "mobilenet_v2_imagenet", "hsv_histogram"]
DIMS = {"osnet_x0_25_msmt17": 512, "osnet_x0_25_market1501": 512, "mobilenet_v2_imagenet": 1280,
        "hsv_histogram": 816}


@pytest.fixture(scope="module")
def crops(data_dir, weights_dir):
    return one_by_one_crops()


@pytest.mark.parametrize("name", BODY)
def test_body_embedders_on_real_crops(crops, name):
    images, pids, _ = crops
    e = embed.get(name)
    f = e.embed(list(images[:6]))
    assert e.name == name and e.description
    assert f.shape == (6, DIMS[name]) and f.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)
    assert e.embed([]).shape == (0, DIMS[name])


@pytest.mark.slow
def test_osnet_same_person_closer_than_different(crops):
    images, pids, moments = crops
    f = embed.get("osnet_x0_25_msmt17").embed(list(images))
    sim = f @ f.T
    same = (pids[:, None] == pids[None]) & ~np.eye(len(pids), dtype=bool)
    assert sim[same].mean() > sim[pids[:, None] != pids[None]].mean() + 0.2
    # each person's later moments find the first moment of the same person first
    q, g = moments > 0, moments == 0
    assert (pids[g][np.argmax(sim[q][:, g], axis=1)] == pids[q]).mean() >= 0.8


def test_face_embedder_on_a_real_face(data_dir):
    from vidanon.io.video import read_frames

    frames = [f for _, f in read_frames(data_dir / "intel-sample-videos/preview/head-pose-face-detection-female.gif",
                                         0, 1)]
    e = embed.get("dlib_face_resnet")
    boxes = e.detect(frames[0])
    assert len(boxes) == 1
    d = e.descriptors(frames[0], boxes)
    assert d.shape == (1, 128)
    x1, y1, x2, y2 = boxes[0].astype(int)
    f = e.embed([frames[0][y1:y2, x1:x2].copy()])
    assert f.shape == (1, 128)
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)


def test_bad_input_and_unknown_names():
    with pytest.raises(ValueError, match="crop 0"):
        embed.get("hsv_histogram").embed([np.zeros((10, 10), np.uint8)])
    with pytest.raises(VidanonError, match="unknown embedder"):
        embed.get("resnet9000")
    with pytest.raises(BackendUnavailable, match="AGW is not supported"):
        embed.get("agw")
    with pytest.raises(VidanonError, match="not found|not on this machine"):
        embed.get("osnet_x1_0_msmt17")  # a zoo name whose checkpoint is not here


def test_osnet_from_a_wrapped_checkpoint_path(crops, tmp_path, weights_dir):
    """A torchreid training checkpoint ({'state_dict': {'module.<key>': ...}}) given by path loads into
    the same network as the plain zoo file (how the thesis' osnet_x1_0 / osnet_ain files come)."""
    import torch

    sd = torch.load(weights_dir / "osnet_x0_25_msmt17.pth", map_location="cpu", weights_only=True)
    path = tmp_path / "osnet_x0_25_mine.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}, "epoch": 50}, path)
    images = list(crops[0][:3])
    a = embed.get("osnet_x0_25_msmt17").embed(images)
    b = embed.get("osnet_x0_25_mine", weights=str(path)).embed(images)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_bare_osnet_architecture_is_refused_with_a_hint():
    with pytest.raises(VidanonError, match="osnet_x0_25_msmt17"):
        embed.get("osnet_x0_25")


@pytest.mark.parametrize("name", ["osnet_x0_25_msmt17", "mobilenet_v2_imagenet"])
def test_onnx_runtime_features_equal_torch(name, weights_dir):
    """The embedders run through ONNX Runtime on the CPU by default: the same features as torch."""
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (int(h), 64, 3), dtype=np.uint8) for h in rng.integers(100, 300, 9)]
    fast, ref = embed.get(name, runtime="onnx"), embed.get(name, runtime="torch")
    assert "ONNX Runtime" in fast.description and "ONNX Runtime" not in ref.description
    np.testing.assert_allclose(fast.embed(crops), ref.embed(crops), atol=1e-4)


def test_onnx_export_prints_no_tracer_warning(tmp_path):
    """The tracer's warnings (a Python branch on a tensor, as in torchreid's OSNet) printed in the middle
    of a run's terminal; the export helper keeps them out, and the graph still runs."""
    import warnings

    import onnxruntime as ort
    import torch

    from vidanon.models.detect._onnx import export

    class Branchy(torch.nn.Module):
        def forward(self, x):
            if x.sum() > 0:  # TracerWarning: converting a tensor to a Python boolean
                return x * 2
            return x

    path = tmp_path / "branchy.onnx"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export(Branchy().eval(), torch.ones(1, 3), path, input_names=["x"], output_names=["y"], opset_version=17)
    assert not [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)], [str(w.message) for w in caught]
    y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": np.ones((1, 3), np.float32)})
    assert np.allclose(y[0], 2.0)
