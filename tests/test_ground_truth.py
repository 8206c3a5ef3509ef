"""The sample's ground truth: well-formed, and right on the real clips."""

from __future__ import annotations

import pytest

from vidanon import scene
from vidanon.io import data

GT = data.load_ground_truth()


def test_keys_are_samples_and_rules_are_well_formed():
    assert set(GT) <= set(data.SAMPLES)
    for key, entry in GT.items():
        assert set(entry) <= {"persons", "label"}, key
        for rule in entry.get("persons") or []:
            assert isinstance(rule["pid"], int) and rule["pid"] >= 0, key
            assert set(rule) <= {"pid", "name", "x", "y", "frames"}, key
            for k in ("x", "y"):
                if k in rule:
                    lo, hi = rule[k]
                    assert 0 <= lo < hi <= 1, (key, rule)


def test_every_asl_clip_has_its_label_and_signer():
    asl = [k for k in data.SAMPLES if k.startswith("asl-")]
    assert len(asl) == 20
    for k in asl:
        assert GT[k]["label"] == k[len("asl-"):]
        assert len(GT[k]["persons"]) == 1


def test_recurring_identities_share_pids():
    pid = {k: {r["pid"] for r in GT[k]["persons"]} for k in GT}
    assert pid["female"] <= pid["female-and-male"] and pid["female"] <= pid["walking-and-pause"]
    assert pid["male"] <= pid["female-and-male"] and not pid["male"] & pid["walking-and-pause"]
    assert len(pid["one-by-one"]) == 6 and len(pid["classroom"]) == 4


@pytest.mark.slow
def test_one_by_one_visits_get_six_pids(data_dir, weights_dir):
    """Every 10th frame of the whole clip (~10 s): every sizeable person gets a pid, six in all."""
    import pandas as pd

    from vidanon.models import detect
    from vidanon.io import video
    from vidanon.core.params import DetectSection

    det = detect.get_person_detector(DetectSection().person)
    rows = []
    for t, rgb in video.read_frames(data.fetch("one-by-one"), stride=10):
        for x1, y1, x2, y2, s in det(rgb):
            if y2 - y1 > 100:
                rows.append((t, len(rows), x1, y1, x2, y2, s, "detected"))
    persons = pd.DataFrame(rows, columns=scene.PERSON_COLUMNS)
    pids = scene.assign_pids(persons, GT["one-by-one"]["persons"], 768, 432)
    assert -1 not in pids.values() and set(pids.values()) == set(range(13, 19))


@pytest.mark.parametrize("key, pids", [("female-and-male", {1, 2}), ("walking-and-pause", {1, 3, 4}),
                                       ("walking", {5, 6}), ("classroom", {7, 8, 9, 10})])
def test_rules_label_each_person_of_a_real_frame(data_dir, weights_dir, key, pids):
    import pandas as pd

    from vidanon.models import detect
    from vidanon.io import video
    from vidanon.core.params import DetectSection

    det = detect.get_person_detector(DetectSection().person)(video.read_frame(data.fetch(key), 10))
    det = det[det[:, 4] >= 0.5]
    persons = pd.DataFrame([(10, i, *d, "detected") for i, d in enumerate(det)], columns=scene.PERSON_COLUMNS)
    got = scene.assign_pids(persons, GT[key]["persons"], 480, 270)
    assert sorted(got.values()) == sorted(pids)
