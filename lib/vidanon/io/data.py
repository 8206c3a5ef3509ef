"""The sample registry (pooch), the data-directory setting and the sample's ground truth.

Every sample is named by its raw URL at a pinned commit and its SHA-256. ``VIDANON_DATA_DIR``
names the folder where the files are (or are downloaded to); with a file present and its hash
right nothing is downloaded. A file with a wrong hash is refused, never used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vidanon.core.errors import DataError
from vidanon.io.cache import file_hash

ENV_DATA_DIR = "VIDANON_DATA_DIR"

_INTEL = ("https://raw.githubusercontent.com/intel-iot-devkit/sample-videos/"
          "57978890822836f2b4743852f04f62fc511757e4/")
_INTEL_CREDIT = ("Sample videos (c) Intel Corporation, https://github.com/intel-iot-devkit/sample-videos, "
                 "CC BY 4.0. Changes: anonymized / cropped / re-encoded.")
_TOS_URL = ("https://raw.githubusercontent.com/awwkl/ZWM/be5125291de4ecce43d0129d8c1778016628cf82/"
            "data/demo_videos/clip_01_tears_of_steel.mp4")
_TOS_CREDIT = ('"Tears of Steel" (c) 2012 Blender Foundation | mango.blender.org, CC BY 3.0. '
               "Changes: excerpt, anonymized / cropped / re-encoded.")


@dataclass(frozen=True)
class Sample:
    key: str
    relpath: str  # inside the data directory
    url: str
    sha256: str
    credit: str
    what: str


def _intel(key: str, relpath: str, sha: str, what: str) -> Sample:
    return Sample(key, "intel-sample-videos/" + relpath, _INTEL + relpath, sha, _INTEL_CREDIT, what)


_ASL_SHA = {
    "again": "e6c640c718e26f2ace77fd36cade8cd10d0ccfc27fa59ce1e6be549e9235f882",
    "bird": "16eba5058612b570ff4f9af2de276b3483b7ab50f303961fa3b907a66627416a",
    "book": "6ddf59ef6c4fdb6907802c33dec01ed5db2e0401ecf4f3b68c6c78fede62b4dc",
    "brother": "f856ae0909b8045edf8ca447f7cb9d6e070a5073e3bea76d8ea8ce615ce99317",
    "eat": "1a252672404cbbc56fe75deaf6425a12e8db428bcf119f7e88556eb445eeff36",
    "help": "cd3c77280546591cbbc74b4f642f6c712f1fc988a33b1839412345d1e708cb63",
    "hungry": "4e8fc203206b2caeb2b8f591db02b8f5fae2947940e201bfedec2f906a60290b",
    "learn": "9e05d501b897fb95f2f0ca31b8c3d055bdbbe8f168003260bc6244fdf7f4166c",
    "milk": "86e4de796b29a0b65f7ade6aa0c4fd10be6d7f40def7c3bde73a821a63ce0518",
    "night": "402fcf62d26c69b4e510a1677e86909644dc7ef7f4920b77d0c8e24edf9ab070",
    "no": "523a6e491878c48ba57bdcc32b73273f75485681080325f6fce9461f5605eb75",
    "please": "dfac357244c49db6461889926a32364b5708f78f178f1f6eb1772f97892e60b9",
    "school": "3b39a9bad86871018e67f20bba4c831cc6a725b604a880b678e24145d539e3ae",
    "sister": "2fadd1e2d9f6bd634098190c209cd02549a6af66739b1a57b4b5e325464ad2af",
    "sorry": "c3fa8df84bc29410baa6afe7b649f4bd4691a38de2c7a11e6dc605f73622f0f8",
    "student": "5fa9fefef04219204edc3685db3acee0f02cabdddfe0ab4d59665d0a71312072",
    "thanks": "91315d3bd66314d329f18876e16ddaa362775af0724b30905584fdc517213ed8",
    "walk": "395c10f2ce5c8e6cf6545ce35c47b4b7124f8579099dda3646b04694a0b36be7",
    "want": "788fe01c04420605fbe56b905b64444f75ebee7e4831213d00406bc50a6f2b0a",
    "yes": "7123d9ed4c51dd0895fb039d7aaffbc6151f6a3a72c735ca0c22303240136f9c",
}

SAMPLES: dict[str, Sample] = {s.key: s for s in [
    _intel("one-by-one", "one-by-one-person-detection.mp4",
           "a5964aa259099a482a8b360ffc2c57b5a30f84d5919236a4dad01f8e929ac07c",
           "6 different people walk in one at a time, seen from behind (H.264 768x432, 10 fps)"),
    _intel("classroom", "preview/classroom.gif",
           "9efb6cab2f7392aa3bd15320313db691cfc97270a37cd2b48791f3b032b69da8",
           "4 seated people in a classroom (GIF 480x270)"),
    _intel("walking-and-pause", "preview/face-demographics-walking-and-pause.gif",
           "6483ce22b1228ecc48f89b591cb99c09ba24e1468bdda5fbfebaae9bcca59dc8",
           "3 people walk up to the camera and pause; large frontal faces (GIF 480x270)"),
    _intel("walking", "preview/face-demographics-walking.gif",
           "d85689169bdf1735b75c31b5cdf985f25a3fa92a6448e25f529f655002f22b3c",
           "2 people walk towards the camera (GIF 480x270)"),
    _intel("female-and-male", "preview/head-pose-face-detection-female-and-male.gif",
           "f51c743e43848014811ad5f3daddc417754cdeb55a16d46002e0d2ccd4541b0f",
           "the woman and the man of the head-pose clips together (GIF 480x270)"),
    _intel("female", "preview/head-pose-face-detection-female.gif",
           "67646830ba9551b958f8a6ed4c83c32f5232e444bfba0f4c94386ee076b5d722",
           "1 woman turns her head (GIF 480x270)"),
    _intel("male", "preview/head-pose-face-detection-male.gif",
           "0484de9f8f4eac5ada77313629a6cd258da4d065ade887a0633029b7ccb0ff89",
           "1 man turns his head (GIF 480x270)"),
    _intel("people-detection", "preview/people-detection.gif",
           "fa63d51a370464652cb902f73de8940292c8b4561c595b92fe252ad23be0f1d9",
           "people walking through a room, wide angle (GIF 480x270)"),
    *[_intel(f"asl-{w}", f"asl_gestures/{w}.mkv", sha, f"ASL gesture '{w}' (640x480, 30 fps)")
      for w, sha in _ASL_SHA.items()],
    Sample("tears-of-steel", "tears-of-steel/clip_01_tears_of_steel.mp4", _TOS_URL,
           "255457e25f7001063ae259b973e48c10f5088b131649e9649be43d2b11c09434", _TOS_CREDIT,
           "two actors in close-up, real camera footage (H.264 640x360, 24 fps, 240 frames)"),
]}


def data_dir() -> Path:
    """The data directory: ``$VIDANON_DATA_DIR``, else the user cache (``~/.cache/vidanon/data``)."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("vidanon")) / "data"


def resolve_user_path(path: str | Path) -> Path:
    """A user's clip path: absolute, or relative to the data directory, else to the working dir."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    in_data = data_dir() / path
    return in_data if in_data.exists() else path


def fetch(key: str) -> Path:
    """Path of a registry sample, downloading (and verifying) it when missing.

    Raises DataError naming the file, its URL and the setting when it cannot be had, and
    refuses a file whose SHA-256 differs from the pinned one.
    """
    if key not in SAMPLES:
        raise DataError(f"unknown sample {key!r}; known samples: {', '.join(sorted(SAMPLES))}")
    s = SAMPLES[key]
    root = data_dir()
    path = root / s.relpath
    if path.is_file():
        got = file_hash(path)
        if got != s.sha256:
            raise DataError(
                f"{path}: SHA-256 {got} differs from the pinned {s.sha256}; the file is refused. "
                f"Delete it to download it again from {s.url}, or point {ENV_DATA_DIR} at a good copy.")
        return path
    import pooch

    try:
        got = pooch.retrieve(s.url, known_hash="sha256:" + s.sha256, fname=Path(s.relpath).name,
                             path=path.parent, progressbar=False)
    except Exception as e:  # network or hash failure; pooch removes a bad download itself
        raise DataError(
            f"sample {key!r} ({s.relpath}) is not in {root} and could not be downloaded from {s.url}: "
            f"{type(e).__name__}: {e}. Set {ENV_DATA_DIR} to a folder that holds it, "
            f"or connect to the network.") from None
    return Path(got)


def clip_path(clip: Any) -> Path:
    """The video file of a ClipSpec (sample or user path)."""
    if clip.sample is not None:
        return fetch(clip.sample)
    path = resolve_user_path(clip.path)
    if not path.is_file():
        raise DataError(f"clip {clip.id!r}: {path} does not exist")
    return path


def credits(keys: list[str] | None = None) -> list[str]:
    """Attribution lines for the samples used (all when keys is None), without repeats."""
    keys = list(SAMPLES) if keys is None else keys
    out: list[str] = []
    for k in keys:
        if k in SAMPLES and SAMPLES[k].credit not in out:
            out.append(SAMPLES[k].credit)
    return out


# --- ground truth ------------------------------------------------------------------------

def load_ground_truth(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The identity / label ground truth, keyed by sample key (or clip id for users' files).

    Each entry: ``persons`` (a list of rules that map detections to a person id, see
    samples/ground_truth.yaml) and optionally ``label`` (an action or gesture label).
    """
    if path is None:
        text = resources.files("vidanon").joinpath("samples/ground_truth.yaml").read_text(encoding="utf-8")
        where = "vidanon/samples/ground_truth.yaml"
    else:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"ground truth file {path} does not exist")
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise DataError(f"{where}: not valid YAML: {e}") from None
    clips = raw.get("clips")
    if not isinstance(clips, dict):
        raise DataError(f"{where}: expected a top-level 'clips:' mapping")
    return clips


# --- clips as the study uses them ----------------------------------------------------------

@dataclass(frozen=True)
class Clip:
    """A clip of the study: a video file and the frame range used. Frame ``t`` of the clip is
    frame ``start + t`` of the file; anonymized videos hold exactly frames ``t = 0 .. n_frames-1``."""

    id: str
    path: Path
    start: int
    n_frames: int
    fps: float
    width: int
    height: int
    sample: str | None = None

    def frames(self, stride: int = 1, *, only=None, max_side: int | None = None):
        """Yield ``(t, rgb)`` for the clip's frames (streamed, see vidanon.io.video.read_frames); with
        ``only`` (a set of clip frames), only those; with ``max_side``, frames whose long side is larger
        scaled to it while they are converted."""
        from vidanon.io.video import read_frames

        wanted = None if only is None else {t + self.start for t in only}
        for i, rgb in read_frames(self.path, self.start, self.start + self.n_frames, stride, only=wanted,
                                  max_side=max_side):
            yield i - self.start, rgb

    def version_frames(self, video: str | os.PathLike | None = None, stride: int = 1, *, only=None):
        """Yield ``(t, rgb)`` of one version of the clip: the clip's own frames (``video`` None, the
        original) or those of an anonymized video, which must hold exactly the clip's frames; with
        ``only`` (a set of clip frames), only those (decoding stops after the last)."""
        from vidanon.io.video import probe, read_frames

        if only is not None and not only:
            return
        stop = self.n_frames if only is None else min(self.n_frames, max(only) + 1)
        if video is None:
            for t, rgb in self.frames(stride, only=only):
                yield t, rgb
                if t + 1 >= stop:
                    return
            return
        video = Path(video)
        if not video.is_file():
            raise DataError(f"{video}: the anonymized video of clip {self.id!r} does not exist; run the "
                            "anonymization stage (01_anonymize) first")
        n = probe(video).n_frames
        if n != self.n_frames:
            raise DataError(f"{video}: {n} frames, but clip {self.id!r} has {self.n_frames}; an anonymized "
                            "video must hold exactly the clip's frames (re-run 01_anonymize)")
        yield from read_frames(video, 0, stop, stride, only=only)

    @property
    def credit(self) -> str | None:
        return SAMPLES[self.sample].credit if self.sample else None


def open_clip(spec: Any) -> Clip:
    """Resolve a ClipSpec (params.clips[i]) to a Clip, checking that its frames exist."""
    from vidanon.io.video import probe

    path = clip_path(spec)
    info = probe(path)
    if spec.start >= info.n_frames:
        raise DataError(f"clip {spec.id!r}: start={spec.start} but {path} has only {info.n_frames} frames")
    n = info.n_frames - spec.start
    if spec.max_frames is not None:
        n = min(n, spec.max_frames)
    return Clip(spec.id, path, spec.start, n, info.fps, info.width, info.height, spec.sample)


def ground_truth_for(clip: Clip, gt: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ground-truth entry of a clip (by sample key, else by clip id); {} when none."""
    return gt.get(clip.sample or "", gt.get(clip.id, {})) or {}


# --- params files with the files they name ------------------------------------------------------

def load_params(path: str | os.PathLike):
    """A params file validated completely (:func:`vidanon.core.params.load`) and the files it names
    checked: each clip's ``path`` exists, each ``sample`` is a registry key, the ground truth exists.
    Raises ParamsError naming the file and every bad key."""
    from vidanon.core import params as params_mod
    from vidanon.core.errors import ParamsError

    params = params_mod.load(path)
    missing = []
    for i, clip in enumerate(params.clips):
        if clip.path is not None and not resolve_user_path(clip.path).is_file():
            missing.append(f"  - clips.{i}.path: {clip.path} does not exist")
        if clip.sample is not None and clip.sample not in SAMPLES:
            known = ", ".join(sorted(SAMPLES))
            missing.append(f"  - clips.{i}.sample: unknown sample {clip.sample!r} (known: {known})")
    if params.ground_truth is not None and not params.ground_truth.is_file():
        missing.append(f"  - ground_truth: {params.ground_truth} does not exist")
    if missing:
        raise ParamsError(f"{path}: invalid parameters\n" + "\n".join(missing))
    return params
