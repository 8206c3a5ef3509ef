"""The DeepPrivacy2 adapter (vidanon.anonymize.deepprivacy2).

``test_glue_*`` run everywhere (CI) against a SMALL STAND-IN for DeepPrivacy2's API, defined below and put
in ``sys.modules`` as ``dp2``, ``tops``, ``motpy``, ... for each test only. The stand-in mimics the calls the
adapter makes on DeepPrivacy2 at commit f4d8f09 (``dp2.utils.load_config``, ``tops.config.instantiate``,
``Anonymizer.detector`` / ``initialize_tracker`` / ``tracker`` / ``generators`` / ``anonymize_detections``,
the detections' ``pre_process`` / ``boxes`` / ``mask`` / ``get_crop``, motpy's ``detections_matched_ids``);
it is NOT DeepPrivacy2, and these tests say nothing about DeepPrivacy2's output, only about the adapter's glue:
config paths, options passed on, one latent per vidanon track, the pasted regions.

``test_real_*`` run DeepPrivacy2's real code (detectors, detection structures, generators) where ``dp2`` is
importable, and are skipped elsewhere; also skipped, with the reason, where its weights cannot be loaded.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="torch is needed for the adapter's tensors")

from vidanon.anonymize import deepprivacy2 as dp2a  # noqa: E402
from vidanon.core.errors import BackendUnavailable  # noqa: E402
from vidanon.scene.analysis import FACE_COLUMNS, PERSON_COLUMNS, Scene  # noqa: E402
from vidanon.scene.masks import rle_encode  # noqa: E402


# --- the stand-in (NOT DeepPrivacy2) ----------------------------------------------------------

class Cfg(dict):
    """Stand-in for the OmegaConf DictConfig that DP2's load_config returns (attribute and item access)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k) from None

    def __setattr__(self, k, v):
        self[k] = v


class FaceDetection:
    """Stand-in of dp2.detection.structures.FaceDetection: boxes; get_crop's mask is 0 where it generates."""

    def __init__(self, boxes):
        self.boxes = torch.as_tensor(np.asarray(boxes, np.int64).reshape(-1, 4))
        self.pre_processed = False

    def pre_process(self):
        self.pre_processed = True

    def __len__(self):
        return len(self.boxes)

    def get_crop(self, idx, im):
        return {"img": im[None, :, :8, :8], "mask": torch.zeros((1, 1, 8, 8)), "boxes": self.boxes[idx].view(1, 4)}


class PersonDetection:
    """Stand-in of PersonDetection after pre_process: expanded boxes and crop masks (False = generated)."""

    def __init__(self, boxes, masks):
        self.boxes = torch.as_tensor(np.asarray(boxes, np.int64).reshape(-1, 4))
        self.mask = torch.as_tensor(np.asarray(masks, bool)).view(len(self.boxes), 1, 8, 8).logical_not()

    def pre_process(self):
        pass

    def __len__(self):
        return len(self.boxes)

    def get_crop(self, idx, im):
        return {"img": im[None, :, :8, :8], "mask": self.mask[idx][None].float(), "boxes": self.boxes[idx].view(1, 4)}


def get_dilated_boxes(exp_bbox, mask):
    """Stand-in of dp2.detection.structures.get_dilated_boxes: image boxes of the crop masks (N, 1, h, w)."""
    out = []
    for b, m in zip(exp_bbox.tolist(), mask[:, 0]):
        ys, xs = np.nonzero(m.numpy())
        sx, sy = (b[2] - b[0]) / m.shape[1], (b[3] - b[1]) / m.shape[0]
        out.append([b[0] + xs.min() * sx, b[1] + ys.min() * sy, b[0] + (xs.max() + 1) * sx, b[1] + (ys.max() + 1) * sy])
    return torch.tensor(out, dtype=torch.long).view(-1, 4)


class Tracker:
    """Stand-in of motpy's MultiObjectTracker: ``ids`` (a list per step) or a new id for every box."""

    def __init__(self, fps, ids=None):
        self.fps, self.ids, self.n, self.detections_matched_ids = fps, list(ids or []), 0, []

    def step(self, detections):
        self.n += 1
        self.detections_matched_ids = (self.ids.pop(0) if self.ids else
                                       [f"new-{self.n}-{i}" for i in range(len(detections))])
        assert len(self.detections_matched_ids) == len(detections)


class Generator:
    def __init__(self, w_centers: bool):
        self.style_net = types.SimpleNamespace(**({"w_centers": torch.zeros(4, 8)} if w_centers else {}))


class Detector:
    """Stand-in of a DP2 detector: ``outputs`` (a list of detections per call), or, where the adapter replaced
    ``_detect_faces`` / ``mask_rcnn`` (detections='scene'), detections built from those as DP2's do."""

    def __init__(self, outputs=None, **cfg):
        self.outputs, self.cfg = list(outputs or []), cfg

    def _detect_faces(self, im):
        raise AssertionError("the stand-in's own face detector must not run with detections='scene'")

    def mask_rcnn(self, im):
        raise AssertionError("the stand-in's own Mask R-CNN must not run with detections='scene'")

    def __call__(self, im):
        if self.outputs:
            return self.outputs.pop(0)
        faces = FaceDetection(self._detect_faces(im).numpy())
        seg = self.mask_rcnn(im)["segmentation"].cpu().numpy()
        boxes, masks = [], []
        for m in seg:  # the person's bounding box as the expanded box, its mask resized to the 8x8 crop
            ys, xs = np.nonzero(m)
            b = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            boxes.append(b)
            crop = m[b[1]:b[3], b[0]:b[2]]
            yi = (np.arange(8) * crop.shape[0] / 8).astype(int)
            xi = (np.arange(8) * crop.shape[1] / 8).astype(int)
            masks.append(crop[yi][:, xi])
        return [faces, PersonDetection(np.array(boxes).reshape(-1, 4), np.array(masks).reshape(-1, 8, 8))]


class Anonymizer:
    """Stand-in of dp2.anonymizer.Anonymizer: records its calls; anonymize_detections paints each detection's
    box (where get_crop's mask is 0, cut at the frame's edge) with a colour from its z_idx."""

    def __init__(self, detector, load_cache=False, **g_cfgs):
        self.detector, self.load_cache, self.g_cfgs = detector, load_cache, g_cfgs
        self.generators = {FaceDetection: Generator(w_centers=STANDIN["w_centers"]), PersonDetection: None}
        self.calls = []

    def initialize_tracker(self, fps):
        self.tracker = Tracker(fps, STANDIN.get("ids"))

    def anonymize_detections(self, im, detection, update_identity=None, z_idx=None, **synthesis):
        self.calls.append((type(detection).__name__, [int(z) for z in z_idx], synthesis))
        _, H, W = im.shape
        for i in range(len(detection)):
            x0, y0, x1, y1 = [int(v) for v in detection.boxes[i]]
            crop = detection.get_crop(i, im)["mask"][0, 0]
            ys = (np.arange(y1 - y0) * crop.shape[0] // (y1 - y0))
            xs = (np.arange(x1 - x0) * crop.shape[1] // (x1 - x0))
            gen = (crop.numpy()[ys][:, xs] < 0.5)
            gen = gen[max(-y0, 0):gen.shape[0] - max(y1 - H, 0), max(-x0, 0):gen.shape[1] - max(x1 - W, 0)]
            roi = im[:, max(y0, 0):min(y1, H), max(x0, 0):min(x1, W)]
            roi[:, torch.from_numpy(gen)] = int(z_idx[i]) % 200 + 30
        return im


STANDIN: dict = {}


def _instantiate(cfg, load_cache=False):
    """Stand-in of tops.config.instantiate(cfg.anonymizer, ...): '${detector}' is the config's detector."""
    full = STANDIN["cfg"]
    assert cfg is full.anonymizer and cfg.detector == "${detector}"
    STANDIN["instantiated"] = (full, load_cache)
    return Anonymizer(Detector(STANDIN.get("outputs"), **full.detector), load_cache=load_cache,
                      **{k: v for k, v in cfg.items() if k.endswith("_G_cfg")})


CKPT = b"stand-in generator checkpoint"
CKPT_URL = "https://example.invalid/links/89660f04-stand-in"  # DP2 caches by the URL's file name


def _load_config(path):
    if "/configs/anonymizers/" not in str(path):  # a generator's config: where its checkpoint comes from
        import hashlib

        md5 = STANDIN.get("md5", hashlib.md5(CKPT).hexdigest())
        return Cfg(common=Cfg(model_url=CKPT_URL, model_md5sum=md5))
    STANDIN["loaded"] = path
    detector = Cfg(score_threshold=0.3, cache_directory="outputs/face_detection_cache")
    STANDIN["cfg"] = Cfg(detector=detector, anonymizer=Cfg(detector="${detector}", face_G_cfg="configs/fdf/stylegan.py"))
    return STANDIN["cfg"]


def _module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__spec__ = importlib.machinery.ModuleSpec(name, None)
    mod.__dict__.update(attrs)
    return mod


@pytest.fixture
def standin(monkeypatch, tmp_path):
    """The stand-in's modules in sys.modules, a fake clone at $VIDANON_DP2_ROOT; yields STANDIN (settings)."""
    (tmp_path / "configs" / "anonymizers").mkdir(parents=True)
    for name in ("face.py", "FB_cse_mask_face.py"):
        (tmp_path / "configs" / "anonymizers" / name).write_text("# stand-in config\n")
    monkeypatch.setenv("VIDANON_DP2_ROOT", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # the generator's checkpoint, as DP2 finds it
    (tmp_path / "torch_home" / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "torch_home" / "hub" / "checkpoints" / "89660f04-stand-in").write_bytes(CKPT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the adapter adds the clone's root
    tops_config = _module("tops.config", instantiate=_instantiate)
    mods = {
        "dp2": _module("dp2"), "dp2.utils": _module("dp2.utils", load_config=_load_config),
        "dp2.anonymizer": _module("dp2.anonymizer", Anonymizer=Anonymizer),
        "dp2.detection": _module("dp2.detection"),
        "dp2.detection.structures": _module("dp2.detection.structures", get_dilated_boxes=get_dilated_boxes),
        "tops": _module("tops", config=tops_config, to_cuda=lambda x: x, get_device=lambda: torch.device("cpu")),
        "tops.config": tops_config,
        "motpy": _module("motpy", Detection=lambda box: types.SimpleNamespace(box=box)),
        "detectron2": _module("detectron2"), "densepose": _module("densepose"),
        "face_detection": _module("face_detection"), "clip": _module("clip"),
    }
    for name, mod in mods.items():
        monkeypatch.setitem(sys.modules, name, mod)
    STANDIN.clear()
    STANDIN.update(w_centers=True, root=tmp_path)
    yield STANDIN
    STANDIN.clear()


def _scene(n=3, faces=(), persons=(), masks=None, w=64, h=48):
    """A Scene with face / person rows ``(frame, track_id, x1, y1, x2, y2)``."""
    def df(rows, cols):
        return pd.DataFrame([(*r, 1.0, "detected") for r in rows], columns=cols)
    return Scene("c", w, h, n, 10.0, persons=df(persons, PERSON_COLUMNS), faces=df(faces, FACE_COLUMNS),
                 masks=dict(masks or {}))


def _frame(w=64, h=48):
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


# --- the glue, against the stand-in -----------------------------------------------------------

def test_glue_builds_as_dp2_needs(standin):
    a = dp2a.DeepPrivacy2(part="face", score_threshold=0.4)
    a.prepare((), _scene())
    root = standin["root"]
    assert standin["loaded"] == str(root / "configs/anonymizers/face.py")
    cfg, load_cache = standin["instantiated"]
    assert load_cache is False
    assert cfg.detector.score_threshold == 0.4
    assert cfg.detector.cache_directory is None  # no outputs/..._cache in the working directory
    assert a._anonymizer.g_cfgs == {"face_G_cfg": str(root / "configs/fdf/stylegan.py")}  # absolute
    assert str(root) in sys.path  # for DP2's top-level stylemc module
    assert a._anonymizer.tracker.fps == 10.0  # initialize_tracker(scene fps)


def test_glue_checks_generator_weights_before_building(standin):
    from vidanon.core.errors import WeightsError

    ckpt = standin["root"] / "torch_home" / "hub" / "checkpoints" / "89660f04-stand-in"
    standin["md5"] = "0" * 32
    with pytest.raises(WeightsError, match="MD5 .* differs from 0{32}, the one configs/fdf/stylegan.py gives"):
        dp2a.DeepPrivacy2(part="face").prepare((), _scene())
    ckpt.unlink()
    with pytest.raises(BackendUnavailable, match=r"weights of configs/fdf/stylegan.py missing: .*89660f04-stand-in "
                                                 r"\(MD5 0{32}\).*haakohu/deep_privacy2"):
        dp2a.DeepPrivacy2(part="face").prepare((), _scene())
    assert "instantiated" not in standin  # nothing of DP2 was built


def test_glue_one_latent_per_vidanon_track(standin):
    """The stand-in's tracker gives every box a new id every frame (a tracker that loses everyone): the face
    on vidanon track 7 keeps one latent; the one no vidanon track covers gets DP2's (new) ids."""
    outputs = [[FaceDetection([[10 + t, 10, 26 + t, 26], [44, 30, 60, 46]])] for t in range(3)]
    standin["outputs"] = list(outputs)
    scene = _scene(faces=[(t, 7, 10 + t, 10, 26 + t, 26) for t in range(3)],
                   persons=[(t, 7, 5 + t, 5, 30 + t, 48) for t in range(3)])
    a = dp2a.DeepPrivacy2(part="face", seed=3)
    a.prepare((), scene)
    for t in range(3):
        a.apply(_frame(), t, scene)
    zs = [call[1] for call in a._anonymizer.calls]
    assert [z[0] for z in zs] == [dp2a.track_seed(3, 7)] * 3
    assert len({z[1] for z in zs}) == 3  # unmatched: DP2's tracker, which (here) never re-finds it
    synthesis = a._anonymizer.calls[0][2]
    assert synthesis == {"multi_modal_truncation": True, "truncation_value": 0.5,
                         "amp": torch.cuda.is_available(), "text_prompt": None, "text_prompt_strength": 0.5}
    assert all(d.pre_processed for out in outputs for d in out)


def test_glue_dp2_tracks_and_untracked(standin):
    standin["ids"] = [["a", "b"], ["a", "b"]]
    standin["outputs"] = [[FaceDetection([[10, 10, 26, 26], [40, 10, 56, 26]])] for _ in range(2)]
    scene = _scene(faces=[(t, 7, 10, 10, 26, 26) for t in range(2)])
    a = dp2a.DeepPrivacy2(part="face", tracks="dp2")
    a.prepare((), scene)
    for t in range(2):
        a.apply(_frame(), t, scene)
    z0, z1 = (c[1] for c in a._anonymizer.calls)
    assert z0 == z1 and z0[0] != z0[1] and dp2a.track_seed(0, 7) not in z0  # motpy's ids only
    standin["outputs"] = [[FaceDetection([[10, 10, 26, 26]])] for _ in range(2)]
    b = dp2a.DeepPrivacy2(part="face", track=False)
    b.prepare((), scene)
    for t in range(2):
        b.apply(_frame(), t, scene)
    assert not hasattr(b._anonymizer, "tracker")
    assert b._anonymizer.calls[0][1] != b._anonymizer.calls[1][1]  # a fresh latent every frame


def test_glue_output_and_regions(standin):
    """Pixels outside regions() are bit-identical; a box over the frame's edge is cut as DP2 cuts it;
    a frame this instance did not anonymize gets the scene's estimate."""
    standin["outputs"] = [[FaceDetection([[-6, 20, 10, 36], [30, 5, 46, 21]])]]
    scene = _scene(n=2, faces=[(0, 1, 30, 5, 46, 21), (1, 1, 30, 5, 46, 21)])
    a = dp2a.DeepPrivacy2(part="face")
    a.prepare((), scene)
    rgb = _frame()
    out = a.apply(rgb, 0, scene)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    region = a.regions(0, scene, rgb.shape)
    expected = np.zeros(rgb.shape[:2], bool)
    expected[20:36, 0:10] = expected[5:21, 30:46] = True
    assert np.array_equal(region, expected)
    assert np.array_equal(out[~region], rgb[~region])
    assert a.timings["frames"] == 1 and a.timings["detections"] == 2
    estimate = a.regions(1, scene, rgb.shape)
    assert estimate[5:21, 30:46].all() and estimate.sum() == 16 * 16


def test_glue_body_latents_and_scene_detections(standin):
    """detections='scene': DP2's Mask R-CNN and face detector are replaced by the scene's masks and faces;
    the body on vidanon track 4 gets that track's latent."""
    mask = np.zeros((48, 64), bool)
    mask[8:40, 20:36] = True
    scene = _scene(n=1, faces=[(0, 4, 24, 8, 32, 16)], persons=[(0, 4, 20, 8, 36, 40)], masks={(0, 4): rle_encode(mask)})
    a = dp2a.DeepPrivacy2(part="body", detections="scene", seed=5)
    a.prepare((), scene)
    out = a.apply(_frame(), 0, scene)
    (face_kind, face_z, _), (body_kind, body_z, _) = a._anonymizer.calls
    assert (face_kind, body_kind) == ("FaceDetection", "PersonDetection")
    assert face_z == body_z == [dp2a.track_seed(5, 4)]
    assert a.regions(0, scene, out.shape)[mask].all()


def test_glue_multi_modal_truncation_needs_w_centers(standin):
    standin["w_centers"] = False
    with pytest.raises(BackendUnavailable, match="w_centers"):
        dp2a.DeepPrivacy2(part="face").prepare((), _scene())
    dp2a.DeepPrivacy2(part="face", multi_modal_truncation=False).prepare((), _scene())


def test_glue_options_checked_and_dp2_missing(monkeypatch):
    from vidanon import anonymize

    assert {"tracks", "detections", "seed", "truncation_value"} <= set(anonymize.accepted_options("deepprivacy2-face"))
    for bad in ({"tracks": "motpy"}, {"detections": "yolo"}, {"truncation_value": 1.5}):
        with pytest.raises(ValueError):
            dp2a.DeepPrivacy2(**bad)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dp2" else real(name, *a))
    with pytest.raises(BackendUnavailable, match="deep_privacy2.*Missing here: dp2"):
        dp2a.DeepPrivacy2(part="face")


# --- DeepPrivacy2's real code, where it is installed ------------------------------------------

def _real_or_skip():
    pytest.importorskip("dp2", reason="DeepPrivacy2 (dp2) is not installed here; its real code path is "
                                      "tested where it is (see vidanon.anonymize.deepprivacy2)")


@pytest.fixture(scope="module")
def tos_scene():
    """2 frames of Tears of Steel (from frame 56: 2-3 persons and faces) and their vidanon Scene (the project's
    own detectors)."""
    import os
    import tempfile
    from pathlib import Path

    from vidanon.core.params import ClipSpec, Params
    from vidanon.io import data
    from vidanon.io.video import read_frames
    from vidanon.scene import analyze

    _real_or_skip()
    if not (Path(os.environ.get("VIDANON_DATA_DIR", "")) / "SHA256SUMS").is_file():
        pytest.skip("VIDANON_DATA_DIR does not point at the sample data (../shared/data)")
    params = Params(name="dp2-test", clips=[ClipSpec(id="tos", sample="tears-of-steel", start=56, max_frames=2)])
    clip = data.open_clip(params.clips[0])
    frames = [rgb for _, rgb in read_frames(clip.path, clip.start, clip.start + 2)]
    with tempfile.TemporaryDirectory() as tmp:
        scene = analyze(clip, params, Path(tmp), None)
    return frames, scene


def _run_real(frames, scene, **options):
    a = dp2a.DeepPrivacy2(**options)
    try:
        a.prepare((), scene)
    except BackendUnavailable as e:  # e.g. its weights cannot be downloaded here
        pytest.skip(f"DeepPrivacy2 is installed but cannot be built here: {e}")
    outs = [a.apply(rgb, t, scene) for t, rgb in enumerate(frames)]
    for t, (rgb, out) in enumerate(zip(frames, outs)):
        assert out.shape == rgb.shape and out.dtype == np.uint8
        region = a.regions(t, scene, rgb.shape)
        assert np.array_equal(out[~region], rgb[~region])
    return a, outs


@pytest.mark.slow
@pytest.mark.parametrize("options", [
    {"part": "face"},
    {"part": "face", "detections": "scene"},
    {"part": "body", "config": "configs/anonymizers/FB_cse.py"},
    {"part": "body"},
], ids=["face", "face-scene", "FB_cse", "FB_cse_mask_face"])
def test_real_dp2_code_path(tos_scene, options):
    _real_or_skip()
    frames, scene = tos_scene
    a, outs = _run_real(frames, scene, **options)
    assert a.timings["frames"] == len(frames)
    if a.timings["detections"]:
        assert any(not np.array_equal(o, f) for o, f in zip(outs, frames))
    if options.get("detections") == "scene" and not scene.faces.empty:
        assert a.timings["detections"] >= 1  # the scene's faces were handed to DP2
