"""The drift explorer, driven without a browser: set the slider, the images and the marker follow."""

import numpy as np
import pandas as pd
import pytest

cv2 = pytest.importorskip("cv2")


@pytest.fixture
def data(tmp_path):
    frames, crops = [], []
    for method in ("original", "face-blur"):
        for t in (0, 2, 4, 6):
            img = np.full((32, 16, 3), 10 * t + (100 if method != "original" else 0), np.uint8)
            p = tmp_path / f"{method}_{t}.jpg"
            cv2.imwrite(str(p), img)
            crops.append({"clip": "c", "method": method, "mode": "aligned", "frame": t, "track_id": 1,
                          "pid": 1, "path": str(p)})
            frames.append({"model": "osnet", "clip": "c", "method": method, "track_id": 1, "pid": 1,
                           "frame": t, "to_first": 0.1 * t, "to_previous": np.nan if t == 0 else 0.05,
                           "to_original": 0.0 if method == "original" else 0.4})
    return pd.DataFrame(frames), pd.DataFrame(crops)


def test_slider_moves_images_and_marker(data):
    from vidanon.figures.explorer import DriftExplorer

    frames, crops = data
    ex = DriftExplorer(frames, crops, "osnet", threshold=0.3)
    assert ex.method.value == "face-blur" and ex.track.value == 1
    assert list(ex.slider.options) == [0, 2, 4, 6] and ex.play.max == 3
    assert ex.marker_frame == 0
    ex.slider.value = 4
    assert ex.marker_frame == 4
    assert ex.anonymized.value == (crops.loc[(crops.method == "face-blur") & (crops.frame == 4), "path"]
                                   .map(lambda p: open(p, "rb").read()).iloc[0])
    assert ex.original.value == open(crops.loc[(crops.method == "original") & (crops.frame == 4), "path"]
                                     .iloc[0], "rb").read()
    cursor = [s for s in ex.fig.layout.shapes if s.name == "cursor"]
    assert len(cursor) == 1 and cursor[0].x0 == 4
    assert np.allclose(ex.fig.data[-1].y, [0.4, 0.05, 0.4])  # to_first, to_previous, to_original at t=4
    ex.step(1)
    assert ex.slider.value == 6 and ex.marker_frame == 6
    ex.step(5)
    assert ex.slider.value == 6  # clamped
    ex.prev.click()
    assert ex.slider.value == 4
    assert "frame 4" in ex.info.value


def test_switching_method_rebuilds_curves(data):
    from vidanon.figures.explorer import DriftExplorer

    frames, crops = data
    ex = DriftExplorer(frames, crops)
    assert list(ex.method.options) == ["face-blur", "original"]
    ex.method.value = "original"
    assert ex.marker_frame == 0 and ex.slider.value == 0
    names = [t.name for t in ex.fig.data]
    assert "to first crop" in names and "original to first" not in names


def test_static_filmstrip_shows_the_same_crops(data):
    from vidanon.figures.drift import figure_filmstrip

    frames, crops = data
    fig = figure_filmstrip(frames, crops, "osnet", n=3)
    axes = fig.axes
    assert len(axes) == 2 * 3  # original + face-blur rows, 3 frames
    assert [a.get_title() for a in axes[:3]] == ["t=0", "t=4", "t=6"]
    assert axes[3].get_title() == "0.40" and len(axes[3].images) == 1
