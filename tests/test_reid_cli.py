"""`python -m vidanon reid` over tiny Market-1501 folders of real crops made in tmp_path."""

import json

import cv2
import pytest
from reid_crops import one_by_one_crops

from vidanon.cli import main
from vidanon.io.crops import market_name


@pytest.fixture(scope="module")
def market(tmp_path_factory, data_dir, weights_dir):
    """query/: the six people's second and third moments (cam 2), gallery/: their first (cam 1)."""
    root = tmp_path_factory.mktemp("market")
    images, pids, moments = one_by_one_crops()
    for img, pid, k in zip(images, pids, moments):
        folder = root / ("gallery" if k == 0 else "query")
        folder.mkdir(exist_ok=True)
        cam = 1 if k == 0 else 2
        cv2.imwrite(str(folder / market_name(int(pid), cam, 1, 100 * int(k), 0)), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(root / "gallery" / market_name(-1, 1, 1, 5, 0)), cv2.cvtColor(images[0], cv2.COLOR_RGB2BGR))
    return root


@pytest.mark.slow
def test_reid_cli_json_and_csv(market, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["reid", "--query_dir", str(market / "query"), "--gallery_dir", str(market / "gallery"),
                 "--bootstrap", "50", "--device", "cpu", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["model"] == "osnet_x0_25_msmt17" and res["n_queries"] == 12 and res["n_gallery"] == 6
    assert res["rank1"] >= 0.75 and res["chance_rank1"] == pytest.approx(1 / 6)
    assert res["privacy_level"] == "poor" and len(res["cmc"]) == 6
    assert "Rank-1" in capsys.readouterr().out
    # refuses to overwrite; positional folders and CSV work
    assert main(["reid", str(market / "query"), str(market / "gallery"), "--out", str(out)]) == 2
    csv = tmp_path / "r.csv"
    assert main(["reid", str(market / "query"), str(market / "gallery"), "--model", "hsv_histogram",
                 "--bootstrap", "0", "--out", str(csv)]) == 0
    assert "hsv_histogram" in csv.read_text()


def test_reid_cli_clear_errors(market, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["reid", str(empty), str(market / "gallery")]) == 2
    assert "no crop images" in capsys.readouterr().err
    assert main(["reid", str(tmp_path / "missing"), str(market / "gallery")]) == 2
    assert "no such folder" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "frame1.jpg").write_bytes(b"")
    assert main(["reid", str(bad), str(market / "gallery")]) == 2
    assert "not a Market-1501 file name" in capsys.readouterr().err
    other = tmp_path / "other"
    other.mkdir()
    cv2.imwrite(str(other / market_name(99, 2, 1, 0, 0)), one_by_one_crops()[0][0])
    assert main(["reid", str(other), str(market / "gallery"), "--model", "hsv_histogram"]) == 2
    assert "do not match" in capsys.readouterr().err
    assert main(["reid", str(market / "gallery"), str(market / "gallery"), "--model", "hsv_histogram"]) == 2
    assert "same camera" in capsys.readouterr().err
