"""Pure metric functions over arrays (numpy/scipy/skimage only): ranking, drift, temporal, quality, pose."""
