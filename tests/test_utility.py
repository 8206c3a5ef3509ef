"""The action stage's (06) bookkeeping on a hand-made scene. The 'models' here are test doubles (a pose
model that returns the reference keypoints, one that finds nothing, a detector that returns fixed
boxes): the test checks the tables and the utility number, not any model."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from vidanon.figures.action import figure_joints
from vidanon.stages import action as utility
from vidanon.scene import Scene

T = 6


def _scene():
    rng = np.random.default_rng(0)
    persons, kps = [], []
    for t in range(T):
        for tid, x0 in ((1, 50.0), (2, 300.0)):
            box = (x0 + 2 * t, 40.0, x0 + 2 * t + 100.0, 240.0)
            persons.append((t, tid, *box, 0.9, "detected"))
            for j in range(33):
                kps.append((t, tid, j, box[0] + rng.uniform(0, 100), rng.uniform(40, 240), 0.9))
    persons.append((T, 1, 60.0, 40.0, 160.0, 240.0, 0.5, "carried"))  # gap-filled rows are not references
    return Scene("c", 640, 480, T + 1, 10.0,
                 persons=pd.DataFrame(persons, columns=["frame", "track_id", "x1", "y1", "x2", "y2", "score", "source"]),
                 keypoints=pd.DataFrame(kps, columns=["frame", "track_id", "joint", "x", "y", "visibility"]))


def _frames(n=T + 1):
    return ((t, np.zeros((480, 640, 3), np.uint8)) for t in range(n))


def test_identity_is_perfect_and_nothing_found_is_zero():
    scene = _scene()
    ref = utility.reference_poses(scene)
    assert sorted(ref) == list(range(T)) and ref[0][2].shape == (2, 33, 3)

    def same_pose(rgb, boxes):  # test double: the reference keypoints of the boxes asked for
        t = next(t for t, (_, b, _) in ref.items() if b.shape == boxes.shape and np.allclose(b, boxes))
        return ref[t][2]

    def no_pose(rgb, boxes):
        out = np.full((len(boxes), 33, 3), np.nan)
        out[..., 2] = 0
        return out

    detected = {t: g[["x1", "y1", "x2", "y2", "score"]].to_numpy() for t, g in scene.persons.groupby("frame")}
    frame_of = iter(range(T + 1))

    def same_boxes(rgb):
        return detected[next(frame_of)]

    clip = SimpleNamespace(id="c")
    inst, joints, dets, traj, ex = utility.evaluate_clip(clip, scene, _frames(), "original", pose_model=same_pose,
                                                        person_detector=same_boxes, example_frame=2)
    inst2, joints2, dets2, traj2, _ = utility.evaluate_clip(clip, scene, _frames(), "body-solid", pose_model=no_pose,
                                                           person_detector=lambda rgb: np.zeros((0, 5)))
    assert len(inst) == len(inst2) == 2 * T and len(ex) == 2
    pose = pd.DataFrame(inst + inst2)
    assert np.allclose(pose[pose.method == "original"][["oks", "pck@0.05", "pck@0.1", "vis_agreement"]], 1.0)
    assert np.allclose(pose[pose.method == "body-solid"][["oks", "pck@0.1", "vis_agreement"]], 0.0)
    motion = pd.DataFrame(utility.motion_table(traj, "c", "original") + utility.motion_table(traj2, "c", "body-solid"))
    orig = motion[motion.method == "original"]
    assert np.allclose(orig["motion_error"], 0.0) and np.allclose(orig["coverage"], 1.0)
    assert motion[motion.method == "body-solid"]["motion_error"].isna().all()
    det = pd.DataFrame(dets + dets2)
    summary = utility.summarize(pose, motion, det, (0.05, 0.1), n_boot=50)
    s = summary.set_index("method")
    assert s.loc["original", "oks"] == 1.0 and s.loc["original", "person_recall"] == 1.0
    assert s.loc["original", "person_iou"] == pytest.approx(1.0)
    assert s.loc["body-solid", "oks"] == 0.0 and s.loc["body-solid", "person_recall"] == 0.0
    score = utility.utility_score(pose, n_boot=50).set_index("method")
    assert score.loc["original", "utility"] == 1.0 and score.loc["body-solid", "utility"] == 0.0
    assert score.loc["original", "ci_low"] <= 1.0 <= score.loc["original", "ci_high"]
    joints_df = utility.joint_table([joints, joints2], ["original", "body-solid"], 0.1)
    assert set(joints_df.groupby("method")["pck"].mean().round(6)) == {0.0, 1.0}
    per_clip = utility._detection_per_clip(det)
    assert list(per_clip["recall"]) == [1.0, 0.0]


def test_thesis_params_validate_and_turn_action_on():
    from pathlib import Path

    from vidanon.core import params

    p = params.load(Path(__file__).resolve().parents[1] / "params" / "thesis.yaml")
    a = p.utility.action
    assert a.enabled and a.config and a.checkpoint.startswith("https://")
    assert {"deepprivacy2-face", "deepprivacy2-body"} <= {m.method for m in p.anonymize.methods}
    assert utility.face_keeping_methods(p)[0] == "original" and len(utility.face_keeping_methods(p)) == 3


def test_a_clip_without_persons_gives_empty_valid_tables():
    empty = Scene("e", 64, 48, 3, 10.0)
    inst, joints, dets, traj, ex = utility.evaluate_clip(
        SimpleNamespace(id="e"), empty, _frames(3), "m", pose_model=lambda rgb, b: np.zeros((len(b), 33, 3)),
        person_detector=lambda rgb: np.zeros((0, 5)))
    assert (inst, joints, traj, ex) == ([], [], {}, []) and len(dets) == 3
    pose = pd.DataFrame(inst, columns=["clip", "method", "frame", "track_id", "box_size", "found", "oks",
                                       "vis_agreement", "pck@0.05", "pck@0.1"])
    summary = utility.summarize(pose, pd.DataFrame(columns=["method", "motion_error", "n_steps", "coverage"]),
                                pd.DataFrame(dets), (0.05, 0.1), n_boot=10)
    assert len(summary) == 1 and np.isnan(summary["oks"][0]) and np.isnan(summary["person_recall"][0])
    assert utility.utility_score(pose).empty
    assert figure_joints(utility.joint_table([joints], ["m"], 0.1)) is None


def test_stride_and_motion_per_frame():
    ref = np.zeros((33, 3))
    ref[:, 2] = 1.0
    # the prediction drifts 6 px per 2-frame step in x more than the reference; box size 3 px:
    # 6 / 3 = 2 box sizes per step = 1 box size per frame
    traj = {1: {t: (ref, ref + np.array([3.0 * t, 0, 0]), 3.0) for t in (0, 2, 4, 6)}}
    row = utility.motion_table(traj, "c", "m", stride=2)[0]
    assert row["motion_error"] == pytest.approx(1.0) and row["n_steps"] == 3 * 33 and row["coverage"] == 1.0


def _skeleton(arm: float, leg: float, shoulders: float = 0.5, rng=None, n: int = 20) -> np.ndarray:
    """(n, 33, 3) MediaPipe-like keypoints of a standing figure (torso 100 px), jittered by 1 px."""
    k = np.full((33, 3), np.nan)
    k[:, 2] = 0.0
    x0, y0 = 200.0, 100.0
    pts = {11: (x0 - 50 * shoulders, y0), 12: (x0 + 50 * shoulders, y0), 23: (x0 - 20, y0 + 100),
           24: (x0 + 20, y0 + 100)}
    for s, (sh, hip) in {-1: (11, 23), 1: (12, 24)}.items():
        e, w = sh + 2, sh + 4  # elbow 13/14, wrist 15/16
        pts[e] = (pts[sh][0] + s * 5, pts[sh][1] + 50 * arm)
        pts[w] = (pts[e][0], pts[e][1] + 45 * arm)
        kn, an = hip + 2, hip + 4  # knee 25/26, ankle 27/28
        pts[kn] = (pts[hip][0], pts[hip][1] + 80 * leg)
        pts[an] = (pts[kn][0], pts[kn][1] + 75 * leg)
    for j, (x, y) in pts.items():
        k[j] = (x, y, 1.0)
    rng = rng or np.random.default_rng(0)
    out = np.repeat(k[None], n, axis=0)
    out[..., :2] += rng.normal(0, 1.0, out[..., :2].shape)
    return out


def test_body_shape_attack_finds_bone_lengths_not_appearance():
    """Synthetic identities that differ only in their proportions are found by the body-shape attacker;
    identities with the same proportions are not (Rank-1 near chance). Appearance plays no part."""
    from vidanon.core.versions import ORIGINAL

    rng = np.random.default_rng(1)
    builds = {0: (0.8, 0.8), 1: (1.0, 1.0), 2: (1.2, 1.2), 3: (0.8, 1.2), 4: (1.2, 0.8)}

    def tracks(method, same_build=False):
        rows = []
        for clip in range(3):  # every identity in every clip: cross-clip matches exist
            for pid, (arm, leg) in builds.items():
                arm, leg = (1.0, 1.0) if same_build else (arm, leg)
                frames = _skeleton(arm, leg, rng=rng)
                traj = {pid: {t: (None, frames[t], 100.0) for t in range(len(frames))}}
                rows += utility.shape_rows(traj, f"c{clip}", method, {pid: pid})
        return rows

    distinct = utility.body_shape_attack(pd.DataFrame(tracks(ORIGINAL) + tracks("avatar")), n_boot=0)
    naive = distinct[(distinct["method"] == "avatar") & (distinct["attacker"] == "naive")].iloc[0]
    assert naive["embedder"] == utility.SHAPE_EMBEDDER and naive["rank1"] >= 0.9
    assert naive["chance_rank1"] == pytest.approx(2 / 14)  # its 2 tracks in other clips among the 14 kept
    assert set(distinct["attacker"]) == {"reference", "naive", "parrot", "adaptive"}

    same = utility.body_shape_attack(pd.DataFrame(tracks(ORIGINAL, True) + tracks("avatar", True)), n_boot=0)
    r1 = same[(same["method"] == "avatar") & (same["attacker"] == "naive")]["rank1"].iloc[0]
    assert r1 < 0.5  # same proportions: jitter decides, near the chance of 1/7


def test_canonical_proportions_defeat_the_body_shape_attacker():
    """The avatar's proportions="canonical" (vidanon.anonymize.retarget): the builds that the body-shape
    attacker tells apart (Rank-1 >= 0.9) become one build (Rank-1 < 0.5, near chance 1/7), every
    bone keeps its direction, and the shoulders' midpoint stays where it was."""
    from vidanon.anonymize.retarget import BONES, canonical_track
    from vidanon.core.versions import ORIGINAL

    rng = np.random.default_rng(1)
    builds = {0: (0.8, 0.8), 1: (1.0, 1.0), 2: (1.2, 1.2), 3: (0.8, 1.2), 4: (1.2, 0.8)}

    def tracks(method, canonical):
        rows = []
        for clip in range(3):
            for pid, (arm, leg) in builds.items():
                frames = _skeleton(arm, leg, shoulders=0.4 + 0.05 * pid, rng=rng)
                if canonical:
                    new = canonical_track(frames)
                    for a, b, _ in BONES:
                        if a < 33:  # a bone between two real joints: same direction
                            d0, d1 = frames[:, b, :2] - frames[:, a, :2], new[:, b, :2] - new[:, a, :2]
                            ok = np.isfinite(d0).all(axis=1)
                            cos = (d0[ok] * d1[ok]).sum(1) / np.linalg.norm(d0[ok], axis=1) / np.linalg.norm(d1[ok], axis=1)
                            assert np.allclose(cos, 1.0)
                    assert np.allclose(new[:, [11, 12], :2].mean(1), frames[:, [11, 12], :2].mean(1))
                    frames = new
                traj = {pid: {t: (None, frames[t], 100.0) for t in range(len(frames))}}
                rows += utility.shape_rows(traj, f"c{clip}", method, {pid: pid})
        return rows

    def rank1(canonical, attacker):
        table = utility.body_shape_attack(pd.DataFrame(tracks(ORIGINAL, False) + tracks("avatar", canonical)),
                                          n_boot=0)
        return table[(table["method"] == "avatar") & (table["attacker"] == attacker)]["rank1"].iloc[0]

    assert rank1(False, "naive") >= 0.9 and rank1(False, "parrot") >= 0.9
    # against the original gallery and against other canonical figures (the parrot knows the method)
    assert rank1(True, "naive") < 0.5 and rank1(True, "parrot") < 0.5
