import numpy as np
import pytest

from vidanon.io import data
from vidanon.io import video
from vidanon.io.video import read_frame, read_frames
from vidanon.core.errors import DataError


def test_probe_gif_and_mp4(data_dir):
    gif = video.probe(data.fetch("female"))
    assert (gif.width, gif.height, gif.n_frames) == (480, 270, 23) and gif.fps > 0
    mp4 = video.probe(data.fetch("tears-of-steel"))
    assert (mp4.width, mp4.height, mp4.n_frames, mp4.fps) == (640, 360, 240, 24.0)


def test_read_frames_range_and_stride(data_dir):
    frames = list(video.read_frames(data.fetch("female"), start=3, stop=12, stride=4))
    assert [i for i, _ in frames] == [3, 7, 11]
    assert all(f.shape == (270, 480, 3) and f.dtype == np.uint8 for _, f in frames)


def test_frames_scaled_on_decode_match_an_area_downscale(data_dir):
    """read_frames(max_side=...) scales while it converts (libswscale, area): the size working_size gives,
    within two levels of OpenCV's area downscale of the full frame; frames that fit come as they are."""
    src = data.fetch("tears-of-steel")
    full = [f for _, f in video.read_frames(src, stop=3)]
    small = [f for _, f in video.read_frames(src, stop=3, max_side=320)]
    assert video.working_size(640, 360, 320) == (320, 180) and video.working_size(640, 360, 1280) == (640, 360)
    assert all(f.shape == (180, 320, 3) for f in small)
    err = np.mean([np.abs(video.downscale(a, 320).astype(int) - b).mean() for a, b in zip(full, small)])
    assert err < 2
    same = [f for _, f in video.read_frames(src, stop=3, max_side=640)]
    assert all(np.array_equal(a, b) for a, b in zip(full, same))


def test_roundtrip_keeps_count_fps_and_pixels(tmp_path, data_dir):
    src = data.fetch("tears-of-steel")
    out = tmp_path / "out.mp4"
    with video.VideoWriter(out, fps=24) as w:
        originals = []
        for _, rgb in video.read_frames(src, stop=12):
            originals.append(rgb)
            w.write(rgb)
    info = video.probe(out)
    assert (info.n_frames, info.fps, info.codec, info.width) == (12, 24.0, "h264", 640)
    back = [f for _, f in video.read_frames(out)]
    err = np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(originals, back)])
    assert err < 4  # H.264 at crf 20: small loss


def test_odd_size_is_padded(tmp_path):
    out = tmp_path / "odd.mp4"
    with video.VideoWriter(out, fps=10) as w:
        for k in range(3):
            w.write(np.full((33, 47, 3), 40 * k, np.uint8))
    info = video.probe(out)
    assert (info.width, info.height, info.n_frames) == (48, 34, 3)


def test_failed_write_leaves_no_file(tmp_path):
    out = tmp_path / "v.mp4"
    with pytest.raises(RuntimeError):
        with video.VideoWriter(out, fps=10) as w:
            w.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_error_reaches_the_caller_and_leaves_no_file(tmp_path, monkeypatch):
    """The encoder runs in a thread of its own: an error there (here a stand-in that breaks the frame
    conversion on the third frame) is raised in the caller's thread, and nothing is left behind."""
    import av

    real, calls = av.VideoFrame.from_ndarray, []

    def breaks_on_third(array, format):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("encoder broke")
        return real(array, format=format)

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", breaks_on_third)
    out = tmp_path / "v.mp4"
    with pytest.raises(OSError, match="encoder broke"):
        with video.VideoWriter(out, fps=10) as w:
            for _ in range(40):  # more frames than the encoder's queue holds: write() raises it
                w.write(np.zeros((32, 32, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_yuv_conversion_is_libswscales_within_a_level(data_dir):
    """The writer's RGB -> YUV 4:2:0 (OpenCV) against libswscale's (PyAV's reformat) on real frames: luma
    within a level, chroma the same on average (its 2x2 subsampling filter differs at sharp colour edges),
    and back in RGB at least as close to the frame as libswscale's."""
    import av

    for name in ("tears-of-steel", "female"):
        _, rgb = next(read_frames(data.fetch(name), 10, 11))
        h = rgb.shape[0]
        ours = video.rgb_to_yuv420p(rgb)
        ref = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()
        assert ours.shape == ref.shape == (h * 3 // 2, rgb.shape[1])
        d = np.abs(ours.astype(int) - ref.astype(int))
        assert d[:h].max() <= 1 and d[h:].mean() < 0.5
        err = [np.abs(av.VideoFrame.from_ndarray(yuv, format="yuv420p").to_ndarray(format="rgb24").astype(int)
                      - rgb).mean() for yuv in (ours, ref)]
        assert err[0] <= 1.05 * err[1]


def test_refuses_existing_without_overwrite(tmp_path):
    out = tmp_path / "v.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        video.VideoWriter(out, fps=10, overwrite=False)
    assert out.read_bytes() == b"keep me"


def test_unreadable_and_missing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match="bad.mp4"):
        video.probe(bad)
    with pytest.raises(DataError, match="no such video"):
        list(video.read_frames(tmp_path / "absent.mp4"))


def test_wrong_frame_shape_rejected(tmp_path):
    with pytest.raises(ValueError, match="uint8 RGB"):
        with video.VideoWriter(tmp_path / "v.mp4", fps=10) as w:
            w.write(np.zeros((8, 8), np.float32))
    assert not (tmp_path / "v.mp4").exists()


def test_encodes_are_reproducible_whatever_ran_before(tmp_path, data_dir, weights_dir):
    """PyAV's libx264 reads uninitialised heap memory; VideoWriter fixes the heap (M_PERTURB), so
    an encode gives the same bytes before and after ONNX Runtime has run in the process."""
    import hashlib

    from vidanon.models import detect

    frames = [rgb for _, rgb in video.read_frames(data.fetch("female"), 0, 8)]

    def encode(name):
        with video.VideoWriter(tmp_path / name, fps=12.5) as w:
            for rgb in frames:
                w.write(rgb)
        return hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()

    first = encode("a.mp4")
    detect.get_person_detector("yolov5-onnx")(frames[0])
    assert encode("b.mp4") == first


def test_read_frame_seeks_to_the_same_frame(tmp_path):
    """read_frame on an H.264 MP4 seeks to the keyframe before the frame: the same pixels as decoding
    from the start, for frames before, at and after keyframes (a short keyframe interval here)."""
    import av

    path = tmp_path / "v.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as c:  # keyframes every 10 frames, B-frames on: what seeking meets
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.options = {"g": "10", "bf": "2", "crf": "20"}
        for i in range(57):
            img = np.full((48, 64, 3), (i * 4) % 256, np.uint8)
            img[:8, :8] = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    frames = dict(read_frames(path))
    for t in (0, 1, 9, 10, 11, 23, 40, 56):
        np.testing.assert_array_equal(read_frame(path, t), frames[t])
    with pytest.raises(DataError, match="no frame 57"):
        read_frame(path, 57)
