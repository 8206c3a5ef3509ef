"""Anonymizers on real sample frames: each changes its region and nothing else; track carry-over
hides a face the detector dropped; video out keeps frames, fps and audio; bad inputs fail clearly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from vidanon import anonymize
from vidanon.io import data
from vidanon.io import video
from vidanon.anonymize.regions import feather_alpha, scale_box
from vidanon.core.errors import BackendUnavailable, VidanonError
from vidanon.scene.masks import rle_encode
from vidanon.scene import Scene

FACE = (180.0, 52.0, 262.0, 149.0)      # the woman's face in frame 5 of the "female" sample
PERSON = (120.0, 30.0, 330.0, 270.0)


def _pose(box) -> np.ndarray:
    """A plausible upright pose (33 MediaPipe joints) inside a person box, all visible."""
    x1, y1, x2, y2 = box
    cx, w, h = (x1 + x2) / 2, x2 - x1, y2 - y1
    kp = np.zeros((33, 3))
    kp[:, 2] = 1.0
    pts = {0: (cx, y1 + .15 * h), 7: (cx - .1 * w, y1 + .15 * h), 8: (cx + .1 * w, y1 + .15 * h),
           11: (cx - .25 * w, y1 + .45 * h), 12: (cx + .25 * w, y1 + .45 * h),
           13: (cx - .35 * w, y1 + .7 * h), 14: (cx + .35 * w, y1 + .7 * h),
           15: (cx - .3 * w, y1 + .9 * h), 16: (cx + .3 * w, y1 + .9 * h),
           23: (cx - .15 * w, y1 + .98 * h), 24: (cx + .15 * w, y1 + .98 * h)}
    for j in range(33):
        kp[j, :2] = pts.get(j, (cx, y1 + .5 * h))
        if j not in pts:
            kp[j, 2] = 0.0
    return kp


def make_scene(shape, n_frames=3, face=FACE, person=PERSON, mask=True, faces_frames=None) -> Scene:
    h, w = shape[:2]
    frames = range(n_frames)
    faces_frames = frames if faces_frames is None else faces_frames
    persons = pd.DataFrame([(t, 1, *person, 0.9, "detected") for t in frames],
                           columns=["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"])
    faces = pd.DataFrame([(t, 1, *face, 0.9, "detected") for t in faces_frames],
                         columns=["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"])
    kp = _pose(person)
    keypoints = pd.DataFrame([(t, 1, j, *kp[j]) for t in frames for j in range(33)],
                             columns=["frame", "track_id", "joint", "x", "y", "visibility"])
    masks = {}
    if mask:  # an elliptic person mask inside the box
        yy, xx = np.mgrid[:h, :w]
        cx, cy = (person[0] + person[2]) / 2, (person[1] + person[3]) / 2
        m = ((xx - cx) / ((person[2] - person[0]) / 2)) ** 2 + ((yy - cy) / ((person[3] - person[1]) / 2)) ** 2 <= 1
        masks = {(t, 1): rle_encode(m) for t in frames}
    return Scene("test", w, h, n_frames, 12.5, persons=persons, faces=faces, keypoints=keypoints, masks=masks)


@pytest.fixture(scope="module")
def frame(data_dir):
    return video.read_frame(data.fetch("female"), 5)


METHODS = ["face-blur", "face-pixelate", "face-solid", "body-blur", "body-pixelate", "body-solid",
           "silhouette", "avatar"]


@pytest.mark.parametrize("method", METHODS)
def test_method_changes_region_only(frame, method):
    scene = make_scene(frame.shape)
    anon = anonymize.get(method)
    out = anon.apply(frame, 1, scene)
    region = anon.regions(1, scene, frame.shape)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert region.any()
    assert np.array_equal(out[~region], frame[~region]), "pixels outside the region changed"
    x1, y1, x2, y2 = (int(v) for v in FACE)
    core = np.abs(out[y1 + 20:y2 - 20, x1 + 20:x2 - 20].astype(int) - frame[y1 + 20:y2 - 20, x1 + 20:x2 - 20])
    assert core.mean() > 8, f"{method} left the face almost unchanged"
    if method.startswith("face"):
        assert not region[y2 + 40:, :].any(), "a face method touched the body"


def test_body_region_follows_mask_then_pose_then_box(frame):
    """The mask (joined with the pose's limbs) where the scene has one; the pose's limbs where the mask
    failed; the box only where both failed, and each target says which."""
    from vidanon.anonymize.regions import person_targets

    solid = anonymize.get("body-solid", dilation=0, feather=0)
    scene = make_scene(frame.shape)
    with_mask = solid.regions(0, scene, frame.shape)
    no_mask = make_scene(frame.shape, mask=False)
    by_pose = solid.regions(0, no_mask, frame.shape)
    no_mask.keypoints = no_mask.keypoints.iloc[:0]
    by_box = solid.regions(0, no_mask, frame.shape)
    x1, y1, x2, y2 = (int(v) for v in PERSON)
    assert by_box[y1 + 1:y2 - 1, x1 + 1:x2 - 1].all()           # the box: neither mask nor pose
    assert not with_mask[y1 + 2, x1 + 2] and with_mask[(y1 + y2) // 2, (x1 + x2) // 2]   # the ellipse
    assert 0 < by_pose.sum() < by_box.sum() and with_mask.sum() < by_box.sum()
    assert [t.source for t in person_targets(0, scene, frame.shape)] == ["mask"]
    assert [t.source for t in person_targets(0, make_scene(frame.shape, mask=False), frame.shape)] == ["pose"]
    assert [t.source for t in person_targets(0, no_mask, frame.shape)] == ["box"]
    tiny = make_scene(frame.shape)  # a mask of a few pixels is a failed mask
    m = np.zeros(frame.shape[:2], bool)
    m[100:104, 200:204] = True
    tiny.masks = {(t, 1): rle_encode(m) for t in range(3)}
    assert [t.source for t in person_targets(0, tiny, frame.shape)] == ["pose"]
    solid.apply(frame, 0, no_mask)
    solid.apply(frame, 0, tiny)
    assert dict(solid.region_counts) == {"box": 1, "pose": 1}


def test_masks_at_a_working_size_are_scaled_to_the_frame(frame):
    """A scene analysed at half the frame's size (detect.max_side) keeps its masks at that size: the body
    methods scale them up in the person's region and cover what the full-size mask covers (IoU > 0.97,
    the same source); Scene.person_mask comes at the frame's size."""
    from vidanon.anonymize.regions import person_targets
    from vidanon.scene.masks import rle_decode

    full = make_scene(frame.shape)
    half = make_scene(frame.shape)
    h, w = frame.shape[:2]
    half.masks = {k: rle_encode(video.downscale_mask(rle_decode(rle), max(h, w) // 2))
                  for k, rle in full.masks.items()}
    assert half.masks[0, 1]["size"] == [h // 2, w // 2]
    solid = anonymize.get("body-solid")
    a, b = solid.regions(0, full, frame.shape), solid.regions(0, half, frame.shape)
    assert (a & b).sum() / (a | b).sum() > 0.97
    assert [t.source for t in person_targets(0, half, frame.shape)] == ["mask"]
    m = half.person_mask(0)
    assert m.shape == (h, w) and ((m & full.person_mask(0)).sum() / (m | full.person_mask(0)).sum()) > 0.97
    out = solid.apply(frame, 0, half)
    assert np.array_equal(out[~b], frame[~b])


def test_body_methods_cover_a_raised_arm_the_mask_missed(frame):
    """Synthetic (a drawn mask and pose, not a model's): the person's mask is their torso blob, their
    right arm is raised above it. With the pose's limbs the body methods and the avatar cover the arm
    up to the wrist; without (limbs=False) the arm stays as it was."""
    h, w = frame.shape[:2]
    scene = make_scene(frame.shape)
    x1, y1, x2, y2 = PERSON
    cx = (x1 + x2) / 2
    kp = _pose(PERSON)
    kp[14, :2] = (cx + .35 * (x2 - x1), y1 + .25 * (y2 - y1))   # the right elbow, raised
    kp[16, :2] = (cx + .42 * (x2 - x1), y1 + .03 * (y2 - y1))   # the right wrist, above the head
    scene.keypoints = pd.DataFrame([(t, 1, j, *kp[j]) for t in range(3) for j in range(33)],
                                   columns=["frame", "track_id", "joint", "x", "y", "visibility"])
    blob = np.zeros((h, w), bool)  # the segmenter's blob: the torso only
    blob[int(y1 + .4 * (y2 - y1)):int(y2), int(cx - .25 * (x2 - x1)):int(cx + .25 * (x2 - x1))] = True
    scene.masks = {(t, 1): rle_encode(blob) for t in range(3)}
    forearm = [tuple(np.round(kp[14, :2] + f * (kp[16, :2] - kp[14, :2])).astype(int)) for f in (0.2, 0.5, 0.9)]
    def removed(anon):  # the avatar draws the arm anyway: what it removes is the question
        return anon._person_mask(1, scene, frame.shape) if anon.name == "avatar" else anon.regions(1, scene, frame.shape)

    for method in ("body-solid", "body-blur", "silhouette", "avatar"):
        region = removed(anonymize.get(method))
        assert all(region[y, x] for x, y in forearm), f"{method} left the raised forearm uncovered"
        without = removed(anonymize.get(method, limbs=False))
        assert not any(without[y, x] for x, y in forearm[1:]), f"{method}: the test's blob already covers the arm"


def test_original_is_identity(frame):
    scene = make_scene(frame.shape)
    orig = anonymize.get("original")
    assert np.array_equal(orig.apply(frame, 0, scene), frame)
    assert not orig.regions(0, scene, frame.shape).any()


def test_feather_and_scale():
    m = np.zeros((21, 21), bool)
    m[10, 10] = True
    a = feather_alpha(m, 3)
    assert a[10, 10] == 1 and 0 < a[10, 13] < 1 and a[10, 15] == 0
    assert np.allclose(scale_box((0, 0, 10, 20), 1.3), (-1.5, -3, 11.5, 23))


def test_blend_equals_the_alpha_formula_everywhere():
    from vidanon.anonymize.regions import blend

    rng = np.random.default_rng(0)
    dst = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    new = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    m = np.zeros((40, 50), bool)
    m[10:30, 15:35] = True
    alpha = feather_alpha(m, 4)  # 1 inside, a band of 0 < alpha < 1, 0 outside
    a = alpha[..., None]
    want = np.clip(a * new.astype(np.float32) + (1 - a) * dst.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
    got = dst.copy()
    blend(got, new, alpha)
    assert np.array_equal(got, want)
    assert np.array_equal(got[alpha == 0], dst[alpha == 0]) and np.array_equal(got[alpha == 1], new[alpha == 1])


def test_masked_median_equals_nanmedian():
    """The avatar's background: one integer sort gives numpy's nanmedian (truncated to uint8) exactly,
    odd and even counts of uncovered frames, and pixels covered in every frame."""
    import warnings

    from vidanon.anonymize.avatar import masked_median

    rng = np.random.default_rng(0)
    stack = rng.integers(0, 256, (7, 20, 30, 3), dtype=np.uint8)
    covered = rng.random((7, 20, 30)) < 0.4
    covered[:, :3, :4] = True  # never seen
    ref = stack.astype(np.float32)
    ref[covered] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmedian(ref, axis=0)
    median, hole = masked_median(stack, covered)
    assert np.array_equal(hole, np.isnan(want).any(axis=2))
    assert np.array_equal(median, np.nan_to_num(want).clip(0, 255).astype(np.uint8))


def test_unknown_method_and_option():
    with pytest.raises(VidanonError, match="unknown anonymization method 'face-smudge'"):
        anonymize.get("face-smudge")
    with pytest.raises(VidanonError, match="unknown option"):
        anonymize.get("face-blur", radius=3)
    with pytest.raises(VidanonError, match="bad option value"):
        anonymize.get("face-blur", shape="star")


def test_deepprivacy2_names_what_to_install():
    try:  # DeepPrivacy2 is not on PyPI; on a machine where it is installed there is nothing to test here
        import dp2  # noqa: F401
        pytest.skip("DeepPrivacy2 is installed here")
    except ImportError:
        pass
    with pytest.raises(BackendUnavailable, match="deep_privacy2.*detectron2"):
        anonymize.get("deepprivacy2-face")


# --- tracks: a dropped detection is filled from its neighbours --------------------------------

def test_carry_over_fills_dropped_detection(data_dir, tmp_path):
    from vidanon.models import detect
    from vidanon.stages import anonymize as leaks
    from vidanon.scene.faces import face_scene

    path = data.fetch("female")
    info = video.probe(path)
    clip = data.Clip("female", path, 0, 9, info.fps, info.width, info.height)
    centerface = detect.get_face_detector("centerface")
    calls = {"n": 0}

    def dropping(rgb):  # the real detector, which misses the face at frame 4
        dets = centerface(rgb)
        calls["n"] += 1
        return dets[:0] if calls["n"] == 5 else dets

    scene = face_scene(clip, dropping, max_gap=3, progress=False)
    at4 = scene.faces_at(4)
    assert len(at4) == 1 and at4["source"].iloc[0] == "interpolated"
    outs = {}
    for name, sc in (("tracked", scene), ("per-frame", scene.__class__(
            "female", info.width, info.height, 9, info.fps, faces=scene.faces[scene.faces["source"] == "detected"]))):
        outs[name] = tmp_path / f"{name}.mp4"
        anonymize.run_clip(clip, sc, "face-solid", outs[name], progress=False)
    with detect.get_face_detector("mediapipe-face") as mp:
        tracked = leaks.check_video(video.read_frames(outs["tracked"]), mp)
        untracked = leaks.check_video(video.read_frames(outs["per-frame"]), mp)
    assert tracked["leaked"].iloc[4] == 0
    assert untracked["leaked"].iloc[4] >= 1, "without carry-over the dropped frame shows the face"


class _FakeClip:
    """Frames whose first pixel holds the frame index (no video needed)."""

    def __init__(self, n):
        self.id, self.width, self.height, self.fps, self.n_frames = "fake", 64, 48, 10.0, n

    def frames(self):
        for t in range(self.n_frames):
            yield t, np.full((48, 64, 3), t, np.uint8)


def test_keyframes_interpolate_stable_faces_and_look_again_when_faces_change():
    # unit test with a scripted detector (no model): face A moves slowly all along, face B appears
    # at frame 5, between keyframes 4 and 6
    from vidanon.scene.faces import face_scene

    seen = []

    def detector(rgb):
        t = int(rgb[0, 0, 0])
        seen.append(t)
        boxes = [[10 + t, 10, 30 + t, 30, 0.9]]
        if t >= 5:
            boxes.append([40, 20, 60, 40, 0.8])
        return np.array(boxes, np.float32)

    scene = face_scene(_FakeClip(9), detector, max_gap=3, detect_every=2, progress=False)
    assert seen == [0, 2, 4, 6, 5, 8]  # 1 and 3 interpolated; 5 looked at since B appeared at 6; 7 stable
    f = scene.faces
    assert set(f[f.frame == 5].source) == {"detected"} and len(f[f.frame == 5]) == 2
    a3 = f[(f.frame == 3) & (f.x1 < 40)]  # (B is carried back from its first frame: track ends are padded)
    assert len(a3) == 1 and a3.source.iloc[0] == "interpolated" and a3.x1.iloc[0] == pytest.approx(13)
    assert len(f[f.frame == 7]) == 2 and set(f[f.frame == 7].source) == {"interpolated"}


# --- video out ----------------------------------------------------------------------------------

def _video_with_audio(path, n=12, size=(96, 64), fps=12):
    import av

    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
        a = c.add_stream("aac", rate=16000)
        a.layout = "mono"
        for i in range(n):
            img = np.full((size[1], size[0], 3), 20 * i % 255, np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        samples = (np.sin(np.arange(16000 * n // fps) / 5) * 0.3).astype(np.float32)[None]
        for k in range(0, samples.shape[1], 1024):
            fr = av.AudioFrame.from_ndarray(samples[:, k:k + 1024], format="fltp", layout="mono")
            fr.sample_rate, fr.pts = 16000, k
            for p in a.encode(fr):
                c.mux(p)
        for s in (v, a):
            for p in s.encode():
                c.mux(p)


def _clip(path):
    info = video.probe(path)
    return data.Clip(path.stem, path, 0, info.n_frames, info.fps, info.width, info.height)


def test_run_clip_keeps_frames_fps_and_audio(tmp_path):
    src = tmp_path / "in.mp4"
    _video_with_audio(src)
    clip = _clip(src)
    scene = make_scene((64, 96), n_frames=12, face=(20, 10, 50, 40), person=(10, 5, 80, 60))
    out = tmp_path / "out.mp4"
    stats = anonymize.run_clip(clip, scene, "face-solid", out, progress=False)
    info = video.probe(out)
    assert stats["frames"] == 12 and info.n_frames == 12 and info.has_audio
    assert Fraction(info.fps).limit_denominator(100) == Fraction(clip.fps).limit_denominator(100)
    anonymize.run_clip(clip, scene, "face-solid", tmp_path / "mute.mp4", keep_audio=False, progress=False)
    assert not video.probe(tmp_path / "mute.mp4").has_audio


def test_gif_input_and_frames_dir(data_dir, tmp_path):
    path = data.fetch("female")
    info = video.probe(path)
    clip = data.Clip("female", path, 0, 4, info.fps, info.width, info.height)
    scene = make_scene((info.height, info.width), n_frames=4)
    stats = anonymize.run_clip(clip, scene, "body-pixelate", tmp_path / "g.mp4", frames_dir=tmp_path / "f",
                               progress=False)
    assert stats["frames"] == 4 and video.probe(tmp_path / "g.mp4").n_frames == 4
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [f"{t:06d}.png" for t in range(4)]


def test_interrupted_write_leaves_no_file(frame, tmp_path):
    src = tmp_path / "in.mp4"
    _video_with_audio(src)

    class Failing:
        name = "failing"

        def apply(self, rgb, t, scene):
            if t == 5:
                raise KeyboardInterrupt
            return rgb

    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        anonymize.run_clip(_clip(src), make_scene((64, 96), 12), Failing(), out, progress=False)
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


# --- the command line ---------------------------------------------------------------------------

def test_cli_bad_inputs(tmp_path, capsys):
    from vidanon.cli import main

    bad = tmp_path / "notavideo.mp4"
    bad.write_text("hello")
    assert main(["anonymize", str(bad), "-o", str(tmp_path / "o.mp4")]) == 2
    assert "not a readable video" in capsys.readouterr().err
    exists = tmp_path / "exists.mp4"
    exists.write_bytes(b"x")
    assert main(["anonymize", str(bad), "-o", str(exists)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["anonymize", str(bad), "-o", str(tmp_path / "o.mp4"), "--method", "face-smudge"])
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_cli_face_blur(data_dir, tmp_path, capsys):
    from vidanon.cli import main

    src = tmp_path / "in.mp4"
    _video_with_audio(src)
    out = tmp_path / "out.mp4"
    assert main(["anonymize", str(src), "-o", str(out), "--method", "face-blur", "--mask-scale", "1.5"]) == 0
    info = video.probe(out)
    assert info.n_frames == 12 and info.has_audio
    assert main(["anonymize", str(src), "-o", str(out), "--no-audio", "--overwrite"]) == 0
    assert not video.probe(out).has_audio


def test_face_from_pose_when_detector_missed(frame):
    scene = make_scene(frame.shape, faces_frames=[])  # no face rows at all, keypoints present
    with_pose = anonymize.get("face-solid").regions(0, scene, frame.shape)
    without = anonymize.get("face-solid", pose_fallback=False).regions(0, scene, frame.shape)
    assert not without.any()
    head = _pose(PERSON)[0, :2].astype(int)
    assert with_pose[head[1], head[0]] and with_pose.sum() < 0.2 * with_pose.size


def test_avatar_mannequin_keeps_the_pose(frame, weights_dir):
    """The avatar of a real frame is found again by MediaPipe Pose in the person's box, with the
    original's keypoints (OKS vs the pose of the original frame), and looks the same for anyone."""
    from vidanon.models import detect
    from vidanon.metrics import pose as P

    pose = detect.get_pose()
    box = np.array([PERSON])
    ref = np.asarray(pose(frame, box), float)
    assert np.isfinite(ref[0, :, :2]).all(), "no pose on the original frame"
    scene = make_scene(frame.shape)
    scene.keypoints = pd.DataFrame([(t, 1, j, *ref[0, j]) for t in range(3) for j in range(33)],
                                   columns=["frame", "track_id", "joint", "x", "y", "visibility"])
    anon = anonymize.get("avatar")
    out = anon.apply(frame, 1, scene)
    assert np.array_equal(out, anon.apply(frame, 1, scene)), "not deterministic"
    got = np.asarray(pose(out, box), float)
    detect.close(pose)
    oks = float(P.oks(ref, got, P.box_area(box))[0])
    assert oks > 0.5, f"MediaPipe Pose lost the avatar's pose (OKS {oks:.2f})"
    # a body-sized figure, not a stick figure
    fig = anon._figure(1, scene, frame.shape)[1] > 0.99
    assert fig.sum() > 0.1 * (PERSON[2] - PERSON[0]) * (PERSON[3] - PERSON[1])
    assert anonymize.resolved_options("avatar", {})["_version"] == anon.VERSION


def _real_pose_scene(frame):
    """The test scene with the keypoints MediaPipe Pose finds on the real frame (all 3 frames)."""
    from vidanon.models import detect

    pose = detect.get_pose()
    ref = np.asarray(pose(frame, np.array([PERSON])), float)
    detect.close(pose)
    assert np.isfinite(ref[0, :, :2]).all(), "no pose on the original frame"
    scene = make_scene(frame.shape)
    scene.keypoints = pd.DataFrame([(t, 1, j, *ref[0, j]) for t in range(3) for j in range(33)],
                                   columns=["frame", "track_id", "joint", "x", "y", "visibility"])
    return scene


def _faces_in_person(img) -> dict[str, int]:
    """Faces found inside the person's box by three detector families: CenterFace (the anonymizers'),
    MediaPipe BlazeFace and dlib's HOG detector (upsampled once)."""
    from vidanon.models import detect
    from vidanon.models.embed.face import DlibFaceEmbedder

    x1, y1, x2, y2 = PERSON
    out = {}
    for name, det in (("centerface", detect.get_face_detector("centerface")),
                      ("mediapipe-face", detect.get_face_detector("mediapipe-face")),
                      ("dlib-hog", DlibFaceEmbedder().detect)):
        boxes = np.asarray(det(img), float).reshape(-1, 5 if name != "dlib-hog" else 4)
        detect.close(det)
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        out[name] = int(((cx >= x1) & (cx <= x2) & (cy >= y1) & (cy <= y2)).sum())
    return out


def test_avatar_face_is_no_face_to_any_detector(frame, weights_dir):
    """The mannequin drawn over a real person (real pose) has a head that none of three face detector
    families takes for a face; the schematic face of ``face="schematic"`` is found (so the check can
    fail), and the original face is found by all three."""
    scene = _real_pose_scene(frame)
    assert all(_faces_in_person(frame).values()), "the detectors miss the original face"
    plain = _faces_in_person(anonymize.get("avatar").apply(frame, 1, scene))
    assert not any(plain.values()), f"the avatar's head is taken for a face: {plain}"
    schematic = _faces_in_person(anonymize.get("avatar", face="schematic").apply(frame, 1, scene))
    assert sum(n > 0 for n in schematic.values()) >= 2, schematic


def test_avatar_removes_an_incomplete_pose_without_drawing_it(frame):
    """Synthetic poses: a person whose head joints are not seen (an occluded man's floating torso) or
    whose joints lie outside their box (a pose found on a neighbour) is removed and not drawn."""
    from vidanon.anonymize.avatar import drawable

    kp = _pose(PERSON)
    assert drawable(kp, PERSON)
    headless = kp.copy()
    headless[:11, 2] = 0.0
    elsewhere = kp.copy()
    elsewhere[:, 0] += 2 * (PERSON[2] - PERSON[0])
    for pose in (headless, elsewhere):
        assert not drawable(pose, PERSON)
        scene = make_scene(frame.shape)
        scene.keypoints = pd.DataFrame([(t, 1, j, *pose[j]) for t in range(3) for j in range(33)],
                                       columns=["frame", "track_id", "joint", "x", "y", "visibility"])
        anon = anonymize.get("avatar", limbs=False)
        assert not anon._figure(1, scene, frame.shape)[1].any(), "a fragment was drawn"
        out = anon.apply(frame, 1, scene)
        assert anon.region_counts["figures_skipped"] == 1
        x1, y1, x2, y2 = (int(v) for v in PERSON)
        cy, cx = (y1 + y2) // 2, (x1 + x2) // 2
        assert not np.array_equal(out[cy - 5:cy + 5, cx - 5:cx + 5], frame[cy - 5:cy + 5, cx - 5:cx + 5]), \
            "the person was not removed"


def test_neutral_avatar_keeps_the_pose_and_nothing_of_the_place(frame, weights_dir):
    """background="grey", proportions="canonical" (the default params' avatar-neutral): every pixel that
    is not a figure is the same grey, every pixel counts as changed, and MediaPipe Pose still finds the
    figure's pose in the person's box."""
    from vidanon.anonymize.avatar import GREY
    from vidanon.models import detect
    from vidanon.metrics import pose as P

    scene = _real_pose_scene(frame)
    anon = anonymize.get("avatar", background="grey", proportions="canonical")
    anon.prepare(iter([(t, frame) for t in range(3)]), scene)
    out = anon.apply(frame, 1, scene)
    figure = anon._figure(1, scene, frame.shape)[1] > 0
    assert figure.any() and (out[~figure] == GREY).all()
    assert anon.regions(1, scene, frame.shape).all()
    pose = detect.get_pose()
    box = np.array([PERSON])
    ref, got = np.asarray(pose(frame, box), float), np.asarray(pose(out, box), float)
    detect.close(pose)
    oks = float(P.oks(ref, got, P.box_area(box))[0])
    assert oks > 0.4, f"MediaPipe Pose lost the neutral avatar's pose (OKS {oks:.2f})"
    with pytest.raises(VidanonError, match="background must be"):
        anonymize.get("avatar", background="blurred")


def test_avatar_inpaints_at_a_working_size(data_dir):
    """The avatar's fill where the camera moves: at full resolution it is OpenCV's Telea inpainting as it is;
    on a half-size copy (inpaint_side 320 for 640x360) the fill of the masked region stays close to it
    (measured: 6 grey levels on average on this real frame) and the rest of the frame is the frame's."""
    import cv2

    from vidanon.anonymize.avatar import inpaint
    from vidanon.io import data, video

    _, rgb = next(video.read_frames(data.fetch("tears-of-steel"), 100, 101))
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.ellipse(mask, (200, 200), (80, 150), 0, 0, 360, 1, -1)
    mask = mask.astype(bool)
    full = inpaint(rgb, mask, 0)
    assert np.array_equal(full, cv2.inpaint(rgb, mask.astype(np.uint8), 5, cv2.INPAINT_TELEA))
    small = inpaint(rgb, mask, 320)
    assert small.shape == rgb.shape and small.dtype == np.uint8
    assert np.abs(small.astype(int) - full)[mask].mean() < 8
    assert np.abs(small.astype(int) - rgb)[~mask].mean() < 3
