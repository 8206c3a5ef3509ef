"""The pretrained models, one interface per kind and one file per backend: ``detect`` (persons,
faces, masks, keypoints), ``embed`` (re-ID, face, generic and perceptual), ``track`` (ByteTrack)
and ``mmaction`` (action recognition)."""
