"""What is in each frame of a clip, computed once per clip and cached: persons and their tracks,
faces, person masks, body keypoints and the person id of each track (``analysis``); run-length
encoded masks (``masks``); a faces-only scene for the command line (``faces``)."""

from vidanon.scene.analysis import (FACE_COLUMNS, KEYPOINT_COLUMNS, PERSON_COLUMNS, Scene, analyze,
                                    analyze_all, assign_faces, assign_pids, cache_key, is_cached,
                                    scene_of)

__all__ = ["FACE_COLUMNS", "KEYPOINT_COLUMNS", "PERSON_COLUMNS", "Scene", "analyze", "analyze_all",
           "assign_faces", "assign_pids", "cache_key", "is_cached", "scene_of"]
