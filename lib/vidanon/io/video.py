"""Streamed video decode and encode (PyAV): frames are RGB ``uint8`` arrays of shape (H, W, 3).

Reading yields one frame at a time, so memory does not grow with video length. Writing encodes
H.264 (yuv420p, browser-playable) to a temporary file beside the target and renames it only when
the video is complete: an interrupted or failed write never leaves a file under the final name.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidanon.core.atomic import partial_name, remove_stale_partials
from vidanon.core.errors import DataError


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    n_frames: int  # counted by decoding when the container does not say
    has_audio: bool
    codec: str


def _open(path: Path):
    import av

    if not path.is_file():
        raise DataError(f"{path}: no such video file")
    try:
        return av.open(str(path))
    except Exception as e:
        raise DataError(f"{path}: not a readable video ({type(e).__name__}: {e})") from None


_PROBED: dict[tuple, VideoInfo] = {}


def probe(path: str | os.PathLike, count: bool = True) -> VideoInfo:
    """Size, frame rate, frame count and audio presence of a video (GIF, MP4, MKV...); remembered per
    file (path, size, modification time) within a process, since counting frames decodes the file."""
    path = Path(path)
    if path.is_file():
        st = path.stat()
        memo = (str(path.resolve()), st.st_size, st.st_mtime_ns, count)
        if memo not in _PROBED:
            _PROBED[memo] = _probe(path, count)
        return replace(_PROBED[memo], path=path)
    return _probe(path, count)


def _probe(path: Path, count: bool) -> VideoInfo:
    with _open(path) as c:
        if not c.streams.video:
            raise DataError(f"{path}: has no video stream")
        v = c.streams.video[0]
        rate = v.average_rate or v.guessed_rate or v.base_rate
        fps = float(rate) if rate else 0.0
        n = int(v.frames or 0)
        width, height, codec = v.codec_context.width, v.codec_context.height, v.codec_context.name
        has_audio = bool(c.streams.audio)
        if (n <= 0 or path.suffix.lower() in (".gif", ".mkv", ".webm")) and count:
            # containers without a reliable count: decode once (streamed, cheap for short clips)
            n = sum(1 for _ in c.decode(video=0))
        if fps <= 0 and path.suffix.lower() == ".gif":
            fps = 10.0
    if n <= 0 or width <= 0:
        raise DataError(f"{path}: the video holds no frames")
    return VideoInfo(path, width, height, fps, n, has_audio, codec)


def read_frames(path: str | os.PathLike, start: int = 0, stop: int | None = None,
                stride: int = 1, *, only=None, max_side: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, rgb)`` for frames ``start <= index < stop`` every ``stride`` frames (and, with
    ``only``, a set of indices, only those among them).

    ``rgb`` is a fresh (H, W, 3) uint8 array. Frames are decoded in order and never held; a frame that
    is not yielded is decoded (the codec needs it) but not converted to RGB. With ``max_side``, frames
    whose long side is larger come at the size :func:`working_size` gives, scaled (area) in the same
    pass that converts them to RGB, so a large video costs no full-size RGB frame.
    """
    path = Path(path)
    if stride < 1:
        raise ValueError("stride must be >= 1")
    with _open(path) as c:
        if not c.streams.video:
            raise DataError(f"{path}: has no video stream")
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        i = -1
        try:
            for frame in c.decode(stream):
                i += 1
                if stop is not None and i >= stop:
                    break
                if i < start or (i - start) % stride or (only is not None and i not in only):
                    continue
                size = working_size(frame.width, frame.height, max_side)
                scale = {} if size == (frame.width, frame.height) else dict(width=size[0], height=size[1],
                                                                             interpolation="AREA")
                yield i, frame.to_ndarray(format="rgb24", **scale)
        except DataError:
            raise
        except Exception as e:
            if i < 0:
                raise DataError(f"{path}: could not decode ({type(e).__name__}: {e})") from None
            raise DataError(f"{path}: decoding failed after frame {i} ({type(e).__name__}: {e})") from None
        if i < 0:
            raise DataError(f"{path}: the video holds no frames")


_HEAP_FIXED = False


def deterministic_heap() -> None:
    """Make this process's H.264 encodes reproducible: the libx264 bundled with PyAV reads heap
    memory it never initialised, so without this its output (and every metric computed on it) varies
    slightly with whatever the process did before, e.g. having loaded an ONNX Runtime model. glibc's
    ``M_PERTURB`` fills every new allocation with a fixed byte (measured cost: none within noise).
    A no-op where glibc is not the C library."""
    global _HEAP_FIXED
    if _HEAP_FIXED:
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-6, 165)  # M_PERTURB
    except (OSError, AttributeError):
        pass
    _HEAP_FIXED = True


def read_frame(path: str | os.PathLike, index: int) -> np.ndarray:
    """One frame by index. An H.264 MP4 of constant frame rate (the videos vidanon writes) is sought
    to the keyframe before it and decoded from there; anything else is decoded from the start (use
    read_frames for many frames)."""
    rgb = _seek_frame(Path(path), index)
    if rgb is not None:
        return rgb
    for _, rgb in read_frames(path, start=index, stop=index + 1):
        return rgb
    raise DataError(f"{path}: has no frame {index}")


def _seek_frame(path: Path, index: int) -> np.ndarray | None:
    """Frame ``index`` of a constant-rate H.264 MP4 by seeking, or None (not such a file, or its
    timestamps do not give frame indices: the caller decodes from the start)."""
    if path.suffix.lower() != ".mp4" or index < 1:
        return None
    try:
        with _open(path) as c:
            stream = c.streams.video[0]
            rate, tb = stream.average_rate, stream.time_base
            if stream.codec_context.name != "h264" or not rate or not tb or stream.start_time is None:
                return None
            start = stream.start_time
            c.seek(start + int(index / rate / tb), stream=stream, backward=True, any_frame=False)
            for frame in c.decode(stream):
                if frame.pts is None:
                    return None
                i = round(float((frame.pts - start) * tb * rate))
                if i == index:
                    return frame.to_ndarray(format="rgb24")
                if i > index:
                    return None
    except DataError:
        raise
    except Exception:  # any trouble seeking: the sequential decode decides
        return None
    return None


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """An RGB frame as planar YUV 4:2:0 (BT.601, limited range, as libswscale makes it for H.264 by
    default), by OpenCV: 10-30x faster than libswscale (4K: about 1.5 against 22-38 ms a frame).

    Parameters
    ----------
    rgb : (H, W, 3) ndarray of uint8
        The frame; H and W even.

    Returns
    -------
    yuv : (H * 3 // 2, W) ndarray of uint8
        The Y plane, then the U and V planes at half size. Luma within 1 level of libswscale's; chroma
        the same on average (its 2x2 subsampling differs at sharp colour edges); back in RGB as close
        to the frame as libswscale's (tested).
    """
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)


class VideoWriter:
    """Write RGB frames as H.264 MP4, atomically; optionally copy the audio of another file.

    Use as a context manager::

        with VideoWriter(out, fps=info.fps, audio_from=src) as w:
            for i, rgb in read_frames(src):
                w.write(process(rgb))

    The file appears under ``path`` only after a clean exit. ``overwrite=False`` refuses an
    existing target before any work. Odd sizes are padded by one pixel (yuv420p needs even sizes).
    """

    def __init__(self, path: str | os.PathLike, fps: float, *, audio_from: str | os.PathLike | None = None,
                 overwrite: bool = True, crf: int = 20, preset: str = "veryfast"):
        self.path = Path(path)
        deterministic_heap()
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists; pass overwrite to replace it")
        self.fps = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        self.audio_from = Path(audio_from) if audio_from else None
        self.crf, self.preset = crf, preset
        self.frames = 0
        self._c = self._v = None
        self._audio = None
        self._tmp = partial_name(self.path)
        # frames waiting for the encoder thread: a few, so memory does not grow with the video
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> "VideoWriter":
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.path.parent, target=self.path)  # left by a killed earlier write
        self._c = av.open(str(self._tmp), mode="w", format="mp4")
        self._audio = None
        if self.audio_from is not None:  # streams must all exist before the first packet is muxed
            src = av.open(str(self.audio_from))
            if src.streams.audio:
                try:
                    self._audio = (src, self._c.add_stream_from_template(src.streams.audio[0]))
                except Exception:  # a codec MP4 cannot hold: keep the video, drop the audio
                    src.close()
            else:
                src.close()
        return self

    def _start(self, h: int, w: int) -> None:
        self._v = self._c.add_stream("libx264", rate=self.fps)
        self._v.width, self._v.height = w + (w % 2), h + (h % 2)
        self._v.pix_fmt = "yuv420p"
        self._v.options = {"crf": str(self.crf), "preset": self.preset, "movflags": "+faststart"}
        self._thread = threading.Thread(target=self._encode, name=f"x264 {self.path.name}", daemon=True)
        self._thread.start()

    def write(self, rgb: np.ndarray) -> None:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.dtype} {rgb.shape}")
        if self._v is None:
            self._start(*rgb.shape[:2])
        h, w = rgb.shape[:2]
        if (w + w % 2, h + h % 2) != (self._v.width, self._v.height):
            raise ValueError(f"frame {self.frames} is {w}x{h}, the video is {self._v.width}x{self._v.height}")
        if w % 2 or h % 2:
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        self._raise_encoder_error()
        self._queue.put(rgb_to_yuv420p(rgb))
        self.frames += 1

    def _encode(self) -> None:
        """The encoder thread: x264 (which releases the GIL) encodes the queued frames while the caller
        makes the next ones; None ends it after flushing. The first error stops it and is raised by the
        next write or by __exit__."""
        import av

        try:
            while (yuv := self._queue.get()) is not None:
                for packet in self._v.encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p")):
                    self._c.mux(packet)
            for packet in self._v.encode():
                self._c.mux(packet)
        except BaseException as e:  # noqa: BLE001 (handed to the caller's thread)
            self._error = e
            while self._queue.get() is not None:  # unblock the caller until it stops
                pass

    def _raise_encoder_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _finish_encoder(self) -> None:
        """Flush and join the encoder thread (its error, if any, is raised)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise_encoder_error()

    def _copy_audio(self) -> None:
        src, a_out = self._audio
        with src:
            for packet in src.demux(src.streams.audio[0]):
                if packet.dts is None:
                    continue
                packet.stream = a_out
                self._c.mux(packet)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            try:
                self._finish_encoder()
            except BaseException:
                if exc_type is None:  # else the caller's own error is the one that counts
                    raise
            if exc_type is None:
                if self._v is None:
                    raise DataError(f"{self.path}: no frames were written")
                if self._audio is not None:
                    self._copy_audio()
            elif self._audio is not None:
                self._audio[0].close()
            self._c.close()
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        if exc_type is not None:
            self._tmp.unlink(missing_ok=True)
            return
        os.replace(self._tmp, self.path)


def read_lockstep(paths: list, n_frames: int, stride: int = 1, only=None):
    """Yield ``(t, [frame of each video])`` for ``t = 0, stride, ...`` < n_frames (with ``only``, a set of
    indices, only those among them), streaming all videos together (frames cropped to the first
    video's size: the H.264 writer pads odd sizes by a pixel)."""
    if only is not None:
        only = {t for t in only if t % stride == 0}
    readers = [read_frames(p, 0, n_frames, stride, only=only) for p in paths]
    for frames in zip(*readers):
        t = frames[0][0]
        if any(i != t for i, _ in frames):
            raise DataError(f"{paths[0]} and the videos beside it do not hold the same frames (frame {t})")
        h, w = frames[0][1].shape[:2]
        yield t, [f[:h, :w] for _, f in frames]


def version_videos(work, params, clip_id: str) -> dict:
    """``{version name: video}`` of a clip: "original" (re-encoded) first, then the params' methods.
    Raises DataError naming the missing file and the stage that writes it."""
    from vidanon.core.versions import anonymized_path, version_names

    out = {}
    for name in version_names(params):
        p = anonymized_path(work, name, clip_id)
        if not p.is_file():
            raise DataError(f"{p}: missing; run the 01_anonymize stage first")
        out[name] = p
    return out


# --- working sizes -----------------------------------------------------------------------------

def working_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """``(width, height)`` of a frame scaled so that its long side is at most ``max_side`` pixels (the
    aspect ratio kept, each side rounded, at least 1 pixel); unchanged when it fits or ``max_side`` is
    None/0. :func:`downscale` and ``read_frames(max_side=...)`` give frames of this size."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    f = max_side / max(width, height)
    return max(1, round(width * f)), max(1, round(height * f))


def downscale(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """``rgb`` resized (area interpolation, OpenCV) so that its long side is at most ``max_side`` pixels.

    Unchanged (the same array) when it already fits or ``max_side`` is None/0; the output keeps the
    dtype and the aspect ratio (each side rounded, at least 1 pixel)."""
    import cv2

    h, w = rgb.shape[:2]
    size = working_size(w, h, max_side)
    if size == (w, h):
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def downscale_mask(mask: np.ndarray | None, max_side: int | None) -> np.ndarray | None:
    """A bool (H, W) mask at the size :func:`downscale` gives its frame: a pixel is in the mask when at
    least half of the area it covers is. None stays None."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if not max_side or max(mask.shape[:2]) <= max_side:
        return mask
    return downscale(mask.astype(np.float32), max_side) >= 0.5
